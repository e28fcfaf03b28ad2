package eval_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/yanit/yanit/eval"
)

// knownReport is a report of three intents (and none), two confidence
// bins and a failed case whose name would run a script if not escaped.
func knownReport() eval.Report {
	return eval.Report{
		Suite: "known", Provider: "local", Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Counts:  eval.Counts{Cases: 2, CasesPassed: 1, Turns: 2, TurnsPassed: 1},
		Metrics: map[string]float64{eval.MetricIntentAccuracy: 0.75, eval.MetricECE: 0.125, eval.MetricCasePassRate: 0.5},
		Support: map[string]int{eval.MetricIntentAccuracy: 8, eval.MetricECE: 6, eval.MetricCasePassRate: 2},
		Confusion: &eval.Confusion{
			Labels: []string{eval.NoIntent, "greeting", "order_status", "store_hours"},
			Counts: [][]int{{1, 0, 0, 1}, {0, 2, 0, 0}, {0, 0, 2, 0}, {0, 1, 0, 1}},
		},
		Reliability: []eval.Bin{
			{Lo: 0.6, Hi: 2.0 / 3, N: 2, Confidence: 0.62, Accuracy: 0.5},
			{Lo: 14.0 / 15, Hi: 1, N: 4, Confidence: 0.97, Accuracy: 1},
		},
		Cases: []eval.CaseResult{
			{Name: "greets", Passed: true, Turns: []eval.TurnResult{{Input: "hi", Passed: true}}},
			{Name: "<script>alert(1)</script>", Turns: []eval.TurnResult{{
				Input: "what time <b>do</b> you close", Failures: []string{"intent greeting, want store_hours"},
				Intent: "greeting", Confidence: 0.61, Decision: "answer",
				Trace: json.RawMessage(`{"intent":"greeting","candidates":[{"intent":"greeting","confidence":0.61}]}`),
			}}},
		},
	}
}

// parseHTML parses the page and returns its root.
func parseHTML(t *testing.T, page []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatalf("the report does not parse: %v", err)
	}
	return doc
}

// find returns the elements named tag with the class, under n.
func find(n *html.Node, tag, class string) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && d.Data == tag && (class == "" || hasClass(d, class)) {
			out = append(out, d)
		}
	}
	return out
}

func hasClass(n *html.Node, class string) bool {
	for _, a := range n.Attr {
		if a.Key == "class" && strings.Contains(" "+a.Val+" ", " "+class+" ") {
			return true
		}
	}
	return false
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

func TestWriteHTML(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := eval.WriteHTML(&buf, []eval.Report{knownReport()}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	doc := parseHTML(t, buf.Bytes())

	// Self-contained: no script, no external asset.
	if n := len(find(doc, "script", "")); n != 0 {
		t.Errorf("%d script elements, want none", n)
	}
	for _, tag := range []string{"link", "img", "iframe"} {
		if n := len(find(doc, tag, "")); n != 0 {
			t.Errorf("%d %s elements, want none: the report must stand alone", n, tag)
		}
	}
	if strings.Contains(page, "<script>alert") || !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the case name is not escaped")
	}
	if !strings.Contains(page, "what time &lt;b&gt;do&lt;/b&gt; you close") {
		t.Errorf("the turn's input is not escaped")
	}

	// One SVG per chart, with a cell per pair of labels, a bar per
	// non-empty bin and a bar per intent.
	for _, c := range []struct {
		figure, mark string
		n            int
	}{
		{"confusion", "cell", 16},
		{"reliability", "bin", 2},
		{"intents", "bar", 4},
	} {
		figs := find(doc, "figure", c.figure)
		if len(figs) != 1 {
			t.Fatalf("%d %s figures, want 1", len(figs), c.figure)
		}
		svgs := find(figs[0], "svg", "")
		if len(svgs) != 1 {
			t.Fatalf("%s: %d SVGs, want 1", c.figure, len(svgs))
		}
		if n := len(find(svgs[0], "rect", c.mark)); n != c.n {
			t.Errorf("%s: %d %s rects, want %d", c.figure, n, c.mark, c.n)
		}
	}
	conf := find(doc, "figure", "confusion")[0]
	cells := find(conf, "rect", "cell")
	// Row store_hours: 1 of 2 recorded greeting, coloured half way.
	if title := text(cells[3*4+1]); title != "expected store_hours, recorded greeting: 1 of 2 (50%)" {
		t.Errorf("cell title %q", title)
	}
	if fill := attr(cells[2*4+2], "fill"); fill != "rgb(31,94,168)" {
		t.Errorf("a full row's cell is %s, want the darkest", fill)
	}
	if fill := attr(cells[2*4+1], "fill"); fill != "rgb(255,255,255)" {
		t.Errorf("an empty cell is %s, want white", fill)
	}
	rel := find(doc, "figure", "reliability")[0]
	if len(find(rel, "line", "diagonal")) != 1 || !strings.Contains(text(rel), "ECE 0.125 over 6 turns") {
		t.Errorf("reliability diagram lacks its diagonal or ECE caption: %q", text(rel))
	}
	bars := text(find(doc, "figure", "intents")[0])
	for _, w := range []string{"store_hours", "F1 0.67", "order_status", "F1 1.00"} {
		if !strings.Contains(bars, w) {
			t.Errorf("intent bars lack %q: %q", w, bars)
		}
	}
	metrics := text(find(doc, "table", "metrics")[0])
	for _, w := range []string{"intent accuracy", "75.0%", "calibration error (ECE)", "0.125", "cases passed", "50.0%"} {
		if !strings.Contains(metrics, w) {
			t.Errorf("metrics lack %q: %q", w, metrics)
		}
	}

	// The failed case, its reasons and its trace; not the passed one.
	cases := find(doc, "div", "case")
	if len(cases) != 1 {
		t.Fatalf("%d failed cases shown, want 1", len(cases))
	}
	body := text(cases[0])
	for _, w := range []string{"<script>alert(1)</script>", "intent greeting, want store_hours", "got intent greeting (0.61), decision answer"} {
		if !strings.Contains(body, w) {
			t.Errorf("failed case lacks %q: %q", w, body)
		}
	}
	pre := find(cases[0], "pre", "")
	if len(pre) != 1 || !strings.Contains(text(pre[0]), "\n  \"candidates\": [") || pre[0].Parent.Data != "details" {
		t.Errorf("the trace is not pretty-printed in a details element")
	}
}

// A report of a run, with no reliability bins when nothing expects an
// intent, still renders.
func TestWriteHTMLOfRun(t *testing.T) {
	r := twoCases(t)
	var buf bytes.Buffer
	if err := eval.WriteHTML(&buf, []eval.Report{r, runSuite(t, "name: taps\ncases:\n  - name: only text\n    turns: [{text: hello}]\n")}); err != nil {
		t.Fatal(err)
	}
	doc := parseHTML(t, buf.Bytes())
	if n := len(find(doc, "section", "suite")); n != 2 {
		t.Fatalf("%d suites, want 2", n)
	}
	if n := len(find(doc, "figure", "")); n != 3 {
		t.Errorf("%d figures, want the 3 charts of the first suite only", n)
	}
	if !strings.Contains(text(doc), "Every case passed.") || !strings.Contains(text(doc), `wrong <on> "purpose" & more`) {
		t.Errorf("report text: %s", text(doc))
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
