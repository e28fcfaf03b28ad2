package eval

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"f2": func(v float64) string { return fmt.Sprintf("%.2f", v) },
	"f3": func(v float64) string { return fmt.Sprintf("%.3f", v) },
}).Parse(htmlSource))

// maxMatrixLabels bounds the confusion matrix drawn: with more intents,
// only the most mistaken ones are.
const maxMatrixLabels = 30

// WriteHTML writes the reports as one self-contained HTML page, with no
// external assets: per suite the metrics, a confusion matrix heat map, a
// reliability diagram, the F1 of each intent and every failed case with
// its failing turns' reasons and traces.
func WriteHTML(w io.Writer, reports []Report) error {
	page := htmlPage{Created: time.Now().UTC().Format(time.RFC3339)}
	for _, r := range reports {
		page.Suites = append(page.Suites, newHTMLSuite(r))
	}
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, page); err != nil {
		return fmt.Errorf("writing the HTML report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

type htmlPage struct {
	Created string
	Suites  []htmlSuite
}

type htmlSuite struct {
	Report
	Rows        []htmlMetric
	Matrix      *htmlMatrix
	Reliability *htmlReliability
	Intents     *htmlBars
	Failed      []htmlCase
}

type htmlMetric struct {
	Name, Title, Value string
	Of                 int
}

// Geometry of the charts, in SVG user units.
const (
	cellSize    = 22
	labelWidth  = 170
	chartWidth  = 320
	chartHeight = 320
	chartPad    = 40
	barHeight   = 18
)

type htmlMatrix struct {
	Width, Height int
	Labels        []htmlLabel
	Cells         []htmlCell
	Note          string // what was left out
}

type htmlLabel struct {
	Text   string
	X, Y   int
	Column bool
}

type htmlCell struct {
	X, Y, Size      int
	Fill, TextColor string
	Count           int
	Title           string
}

type htmlReliability struct {
	Width, Height  int
	X0, Y0, X1, Y1 int // the plot's corners: bottom left, top right
	Bins           []htmlRect
	Ticks          []htmlTick
	ECE            float64
	N              int
}

type htmlRect struct {
	X, Y, W, H string
	Title      string
}

type htmlTick struct {
	X, Y  int
	Label string
}

type htmlBars struct {
	Width, Height int
	Bars          []htmlBar
}

type htmlBar struct {
	Label       string
	Y, LabelY   int
	X, W        string
	Value, Note string
	Fill        string
}

type htmlCase struct {
	Name  string
	Error string
	Turns []htmlTurn
}

type htmlTurn struct {
	N        int
	Input    string
	Failures []string
	Got      string
	Replies  []Message
	Trace    string
}

func newHTMLSuite(r Report) htmlSuite {
	s := htmlSuite{Report: r}
	for _, name := range metricOrder {
		if v, ok := r.Metrics[name]; ok {
			s.Rows = append(s.Rows, htmlMetric{Name: name, Title: metricInfos[name].title, Value: formatMetric(name, v), Of: r.Support[name]})
		}
	}
	if r.Confusion != nil && len(r.Confusion.Labels) > 0 {
		s.Matrix = newMatrix(r.Confusion)
		s.Intents = newIntentBars(r.Confusion)
	}
	if len(r.Reliability) > 0 {
		s.Reliability = newReliability(r.Reliability, r.Metrics[MetricECE], r.Support[MetricECE])
	}
	for _, c := range r.Failed() {
		hc := htmlCase{Name: c.Name, Error: c.Error}
		for i, t := range c.Turns {
			if t.Passed {
				continue
			}
			ht := htmlTurn{N: i + 1, Input: t.Input, Failures: t.Failures, Replies: t.Replies,
				Got: fmt.Sprintf("intent %s (%.2f), decision %s: %s", label(t.Intent), t.Confidence, orNone(t.Decision), t.Reason)}
			if len(t.Trace) > 0 {
				var b bytes.Buffer
				if json.Indent(&b, t.Trace, "", "  ") == nil {
					ht.Trace = b.String()
				} else {
					ht.Trace = string(t.Trace)
				}
			}
			hc.Turns = append(hc.Turns, ht)
		}
		s.Failed = append(s.Failed, hc)
	}
	return s
}

// newMatrix lays out the confusion matrix: rows expected, columns
// recorded, each cell coloured by its share of the row.
func newMatrix(c *Confusion) *htmlMatrix {
	m := &htmlMatrix{}
	keep := make([]int, len(c.Labels))
	for i := range keep {
		keep[i] = i
	}
	if len(c.Labels) > maxMatrixLabels {
		// The labels most involved in mistakes, in their order.
		errs := make([]int, len(c.Labels))
		for i, row := range c.Counts {
			for j, n := range row {
				if i != j {
					errs[i] += n
					errs[j] += n
				}
			}
		}
		slices.SortStableFunc(keep, func(a, b int) int { return errs[b] - errs[a] })
		keep = keep[:maxMatrixLabels]
		slices.Sort(keep)
		m.Note = fmt.Sprintf("The %d intents most mistaken of %d.", maxMatrixLabels, len(c.Labels))
	}
	n := len(keep)
	m.Width, m.Height = labelWidth+n*cellSize+10, labelWidth+n*cellSize+10
	for k, i := range keep {
		m.Labels = append(m.Labels,
			htmlLabel{Text: c.Labels[i], X: labelWidth - 6, Y: labelWidth + k*cellSize + cellSize/2 + 4},
			htmlLabel{Text: c.Labels[i], X: labelWidth + k*cellSize + cellSize/2 + 4, Y: labelWidth - 6, Column: true})
	}
	for a, i := range keep {
		total := 0
		for _, v := range c.Counts[i] {
			total += v
		}
		for b, j := range keep {
			count := c.Counts[i][j]
			share := ratio(count, total)
			cell := htmlCell{X: labelWidth + b*cellSize, Y: labelWidth + a*cellSize, Size: cellSize, Count: count,
				Fill: shade(share), TextColor: "#1b1f24",
				Title: fmt.Sprintf("expected %s, recorded %s: %d of %d (%.0f%%)", c.Labels[i], c.Labels[j], count, total, 100*share)}
			if share > 0.55 {
				cell.TextColor = "#fff"
			}
			m.Cells = append(m.Cells, cell)
		}
	}
	return m
}

// shade is white for 0 through blue for 1.
func shade(share float64) string {
	mix := func(from, to int) int { return from + int(math.Round(float64(to-from)*share)) }
	return fmt.Sprintf("rgb(%d,%d,%d)", mix(255, 31), mix(255, 94), mix(255, 168))
}

// newReliability draws each bin's accuracy as a bar over its confidence
// range, under the diagonal of perfect calibration.
func newReliability(bins []Bin, ece float64, n int) *htmlReliability {
	g := &htmlReliability{Width: chartWidth + 2*chartPad, Height: chartHeight + 2*chartPad, ECE: ece, N: n,
		X0: chartPad, Y0: chartPad + chartHeight, X1: chartPad + chartWidth, Y1: chartPad}
	for _, v := range []float64{0, 0.25, 0.5, 0.75, 1} {
		g.Ticks = append(g.Ticks, htmlTick{X: chartPad + int(v*chartWidth), Y: chartPad + chartHeight - int(v*chartHeight), Label: fmt.Sprintf("%.2g", v)})
	}
	for _, b := range bins {
		h := b.Accuracy * chartHeight
		g.Bins = append(g.Bins, htmlRect{
			X: coord(chartPad + b.Lo*chartWidth), W: coord((b.Hi - b.Lo) * chartWidth),
			Y: coord(chartPad + chartHeight - h), H: coord(h),
			Title: fmt.Sprintf("confidence %.2f–%.2f: %d turns, mean confidence %.2f, accuracy %.2f", b.Lo, b.Hi, b.N, b.Confidence, b.Accuracy),
		})
	}
	return g
}

// newIntentBars draws the F1 of each intent of the confusion matrix, with
// its recall (the accuracy on the turns expecting it) and support.
func newIntentBars(c *Confusion) *htmlBars {
	g := &htmlBars{Width: labelWidth + chartWidth + 170, Height: len(c.Labels)*(barHeight+4) + 8}
	for i, l := range c.Labels {
		tp, expected, recorded := c.Counts[i][i], 0, 0
		for j := range c.Labels {
			expected += c.Counts[i][j]
			recorded += c.Counts[j][i]
		}
		f1v := ratio(2*tp, expected+recorded)
		y := 4 + i*(barHeight+4)
		fill := "#2f855a"
		if f1v < 0.8 {
			fill = "#c05621"
		}
		g.Bars = append(g.Bars, htmlBar{Label: l, Y: y, LabelY: y + barHeight - 5, X: fmt.Sprint(labelWidth),
			W: coord(f1v * chartWidth), Value: fmt.Sprintf("F1 %.2f", f1v), Fill: fill,
			Note: fmt.Sprintf("F1 %.2f, accuracy %.2f of %d expected, %d recorded", f1v, ratio(tp, expected), expected, recorded)})
	}
	return g
}

func coord(v float64) string { return strings.TrimSuffix(fmt.Sprintf("%.1f", v), ".0") }
