package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/yanit/yanit/channel/whatsapp"
)

// Report is the result of one suite's run. Its JSON form, inside a
// Results document, is the baseline a later run is compared with.
type Report struct {
	Suite      string    `json:"suite"`
	File       string    `json:"file,omitempty"`
	Assistant  string    `json:"assistant,omitempty"`
	Provider   string    `json:"provider,omitempty"`
	Started    time.Time `json:"started"`
	DurationMS float64   `json:"duration_ms"`
	// SetupMS is the part of DurationMS spent making the store and
	// building the assistant (training, indexing knowledge).
	SetupMS     float64 `json:"setup_ms"`
	Concurrency int     `json:"concurrency"`
	// Seed is the classifier's training seed when the run set one.
	Seed   uint64 `json:"seed,omitempty"`
	Counts Counts `json:"counts"`
	// Metrics by name (the Metric constants); a metric nothing measured is
	// absent.
	Metrics map[string]float64 `json:"metrics"`
	// Support is the number of observations behind each metric.
	Support   map[string]int `json:"support"`
	Confusion *Confusion     `json:"confusion,omitempty"`
	// Reliability bins the confidence of the turns MetricECE counts, the
	// data of a reliability diagram; empty bins are left out.
	Reliability []Bin                  `json:"reliability,omitempty"`
	Latency     map[string]Percentiles `json:"latency_ms"` // per stage of the trace
	// Tokens the model used over the run (none with the local provider),
	// and their estimated cost in US dollars when prices were given.
	Tokens  *Tokens      `json:"tokens,omitempty"`
	CostUSD float64      `json:"cost_usd,omitempty"`
	Cases   []CaseResult `json:"cases"`
}

// Tokens counts a run's model tokens.
type Tokens struct {
	Prompt     int `json:"prompt"`
	Completion int `json:"completion"`
}

// Prices are a model's prices, in US dollars per million tokens.
type Prices struct {
	Prompt, Completion float64
}

// cost is what t costs at p.
func (t Tokens) cost(p Prices) float64 {
	return (float64(t.Prompt)*p.Prompt + float64(t.Completion)*p.Completion) / 1e6
}

// Counts are a run's cases and turns, and how many passed.
type Counts struct {
	Cases       int `json:"cases"`
	CasesPassed int `json:"cases_passed"`
	Turns       int `json:"turns"`
	TurnsPassed int `json:"turns_passed"`
}

// CaseResult is one case's outcome.
type CaseResult struct {
	Name       string       `json:"name"`
	Passed     bool         `json:"passed"`
	DurationMS float64      `json:"duration_ms"`
	Error      string       `json:"error,omitempty"` // the case could not start
	Turns      []TurnResult `json:"turns"`
}

// TurnResult is one turn's outcome: what the assistant did and each
// expectation it missed.
type TurnResult struct {
	Input         string          `json:"input"`
	Passed        bool            `json:"passed"`
	Failures      []string        `json:"failures,omitempty"`
	Intent        string          `json:"intent,omitempty"`
	Confidence    float64         `json:"confidence"`
	Decision      string          `json:"decision,omitempty"`
	Reason        string          `json:"reason,omitempty"`
	HandoffReason string          `json:"handoff_reason,omitempty"`
	Language      string          `json:"language,omitempty"`
	Replies       []Message       `json:"replies,omitempty"`
	LatencyMS     float64         `json:"latency_ms"`
	Trace         json.RawMessage `json:"trace,omitempty"`
}

// Message is one message the turn queued, as a person reads it.
type Message struct {
	Kind    string   `json:"kind"`
	Text    string   `json:"text"`
	Options []string `json:"options,omitempty"` // button titles, list rows
}

func (t *TurnResult) fill(o observation) {
	t.Intent, t.Confidence, t.Decision, t.Reason = o.turn.Intent, o.turn.Confidence, o.turn.Decision, o.turn.Reason
	t.Language, t.LatencyMS, t.Trace = o.trace.Language, o.turn.LatencyMS, o.turn.Trace
	if o.trace.Handoff != nil {
		t.HandoffReason = o.trace.Handoff.Reason
	}
	for _, m := range o.messages {
		t.Replies = append(t.Replies, Message{Kind: kindOf(m.Content), Text: whatsapp.Summary(m.Content), Options: optionLines(m.Content)})
	}
}

// Failed lists the cases that did not pass.
func (r Report) Failed() []CaseResult {
	var out []CaseResult
	for _, c := range r.Cases {
		if !c.Passed {
			out = append(out, c)
		}
	}
	return out
}

// ResultsVersion is the version of the Results document this package
// writes and reads.
const ResultsVersion = 1

// Results is the JSON document of a run of one or more suites: the
// baseline format of yanit eval run --baseline and yanit eval compare.
type Results struct {
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	Suites  []Report  `json:"suites"`
}

// WriteJSON writes the reports as one indented Results document.
func WriteJSON(w io.Writer, reports []Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(Results{Version: ResultsVersion, Created: time.Now().UTC(), Suites: reports})
}

// ReadJSON reads a Results document written by WriteJSON.
func ReadJSON(r io.Reader) (Results, error) {
	var res Results
	dec := json.NewDecoder(r)
	if err := dec.Decode(&res); err != nil {
		return res, fmt.Errorf("reading eval results: %w", err)
	}
	if res.Version != ResultsVersion {
		return res, fmt.Errorf("reading eval results: version %d, want %d", res.Version, ResultsVersion)
	}
	if len(res.Suites) == 0 {
		return res, errors.New("reading eval results: no suites")
	}
	return res, nil
}

// ReadJSONFile reads the Results document in path.
func ReadJSONFile(path string) (Results, error) {
	f, err := os.Open(path)
	if err != nil {
		return Results{}, err
	}
	defer f.Close()
	res, err := ReadJSON(f)
	if err != nil {
		return res, fmt.Errorf("%s: %w", path, err)
	}
	return res, nil
}

// WriteSummary writes the report for a terminal: the counts, every failed
// turn with its reasons, the metrics, the intents mistaken for others and
// the latency per stage.
func WriteSummary(w io.Writer, r Report) error {
	var b strings.Builder
	file := ""
	if r.File != "" {
		file = " (" + r.File + ")"
	}
	fmt.Fprintf(&b, "suite %s%s: %d/%d cases passed, %d/%d turns, in %.2f s (setup %.2f s; provider %s, concurrency %d)\n",
		r.Suite, file, r.Counts.CasesPassed, r.Counts.Cases, r.Counts.TurnsPassed, r.Counts.Turns,
		r.DurationMS/1000, r.SetupMS/1000, orNone(r.Provider), r.Concurrency)
	if r.Tokens != nil {
		fmt.Fprintf(&b, "  model tokens: %d prompt, %d completion", r.Tokens.Prompt, r.Tokens.Completion)
		if r.CostUSD > 0 {
			fmt.Fprintf(&b, "; estimated cost $%.4f", r.CostUSD)
		}
		b.WriteString("\n")
	}
	for _, c := range r.Failed() {
		fmt.Fprintf(&b, "  FAIL %s\n", c.Name)
		if c.Error != "" {
			fmt.Fprintf(&b, "       %s\n", c.Error)
		}
		for i, t := range c.Turns {
			if t.Passed {
				continue
			}
			fmt.Fprintf(&b, "       turn %d %q: %s\n", i+1, t.Input, strings.Join(t.Failures, "; "))
		}
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\n  metric\tvalue\tof")
	for _, name := range metricOrder {
		v, ok := r.Metrics[name]
		if !ok {
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\n", metricInfos[name].title, formatMetric(name, v), r.Support[name])
	}
	tw.Flush()
	if c := r.Confusion; c != nil {
		var lines []string
		for i, row := range c.Counts {
			for j, n := range row {
				if i != j && n > 0 {
					lines = append(lines, fmt.Sprintf("    %s → %s: %d", c.Labels[i], c.Labels[j], n))
				}
			}
		}
		if len(lines) > 0 {
			fmt.Fprintf(&b, "\n  intents mistaken (expected → recorded):\n%s\n", strings.Join(lines, "\n"))
		}
	}
	if len(r.Latency) > 0 {
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "\n  stage\t   p50 ms\t   p95 ms\tturns")
		stages := make([]string, 0, len(r.Latency))
		for s := range r.Latency {
			stages = append(stages, s)
		}
		slices.Sort(stages)
		for _, s := range stages {
			p := r.Latency[s]
			fmt.Fprintf(tw, "  %s\t%9.2f\t%9.2f\t%5d\n", s, p.P50, p.P95, p.N)
		}
		tw.Flush()
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// formatMetric shows a rate as a percentage and ECE and latencies as
// numbers.
func formatMetric(name string, v float64) string {
	switch {
	case name == MetricECE:
		return fmt.Sprintf("%.3f", v)
	case metricInfos[name].rate:
		return fmt.Sprintf("%.1f%%", 100*v)
	}
	return fmt.Sprintf("%.2f", v)
}
