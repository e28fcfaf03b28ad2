package eval_test

import (
	"bytes"
	"encoding/xml"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/yanit/yanit/eval"
)

// twoCases is a report of one passed and one failed case, as Run makes it.
func twoCases(t *testing.T) eval.Report {
	t.Helper()
	return runSuite(t, `
name: mixed
cases:
  - name: greets
    turns: [{text: hello there, expect: {intent: greeting, decision: answer}}]
  - name: wrong <on> "purpose" & more
    turns:
      - text: hello there
        expect: {intent: store_hours, reply: {contains: ["<not there>"]}}
      - text: where is my order SP-2026-0001
        expect: {decision: tool}
`)
}

func TestJSONRoundTrip(t *testing.T) {
	r := twoCases(t)
	var buf bytes.Buffer
	if err := eval.WriteJSON(&buf, []eval.Report{r, r}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"version": 1`, `"intent_accuracy"`, `"failures"`, `"trace"`, `"confusion"`, `"latency_ms"`} {
		if !strings.Contains(buf.String(), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
	res, err := eval.ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Suites) != 2 || time.Since(res.Created) > time.Minute {
		t.Fatalf("read %d suites created %v", len(res.Suites), res.Created)
	}
	got := res.Suites[0]
	if !reflect.DeepEqual(got.Metrics, r.Metrics) || !reflect.DeepEqual(got.Support, r.Support) || got.Counts != r.Counts ||
		!reflect.DeepEqual(got.Confusion, r.Confusion) || !reflect.DeepEqual(got.Latency, r.Latency) {
		t.Errorf("metrics changed on the way:\n%+v\n%+v", got, r)
	}
	if !reflect.DeepEqual(got.Cases[1].Turns[0].Failures, r.Cases[1].Turns[0].Failures) || !got.Started.Equal(r.Started) {
		t.Errorf("case results changed: %+v", got.Cases[1])
	}
	// A comparison with itself finds nothing.
	if regs := eval.Compare(res.Suites, []eval.Report{r}, nil).Regressions(); len(regs) != 0 {
		t.Errorf("a run regressed against itself: %v", regs)
	}

	for name, doc := range map[string]string{
		"not JSON":      "{",
		"other version": `{"version": 2, "suites": [{"suite": "s"}]}`,
		"no suites":     `{"version": 1, "suites": []}`,
	} {
		if _, err := eval.ReadJSON(strings.NewReader(doc)); err == nil {
			t.Errorf("%s: read without an error", name)
		}
	}
}

func TestJUnit(t *testing.T) {
	r := twoCases(t)
	var buf bytes.Buffer
	if err := eval.WriteJUnit(&buf, []eval.Report{r}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Suites   []struct {
			Name       string `xml:"name,attr"`
			Tests      int    `xml:"tests,attr"`
			Failures   int    `xml:"failures,attr"`
			Properties []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"properties>property"`
			Cases []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Time      string `xml:"time,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
					Body    string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("not well-formed XML: %v\n%s", err, buf.String())
	}
	if doc.Tests != 2 || doc.Failures != 1 || doc.Errors != 0 || len(doc.Suites) != 1 {
		t.Fatalf("totals: %d tests, %d failures, %d errors, %d suites; want 2, 1, 0, 1", doc.Tests, doc.Failures, doc.Errors, len(doc.Suites))
	}
	s := doc.Suites[0]
	if s.Name != "mixed" || s.Tests != 2 || s.Failures != 1 || len(s.Cases) != 2 {
		t.Fatalf("suite %+v", s)
	}
	if s.Cases[0].Failure != nil || s.Cases[0].Name != "greets" || s.Cases[0].Classname != "mixed" || s.Cases[0].Time == "" {
		t.Errorf("passed case: %+v", s.Cases[0])
	}
	f := s.Cases[1].Failure
	if s.Cases[1].Name != `wrong <on> "purpose" & more` || f == nil {
		t.Fatalf("failed case: %+v", s.Cases[1])
	}
	if !strings.HasPrefix(f.Message, "turn 1: intent greeting, want store_hours") {
		t.Errorf("failure message %q, want the first reason", f.Message)
	}
	for _, w := range []string{`turn 1 "hello there"`, `reply lacks "<not there>"`, "got: intent greeting", "reply (buttons): Hello!"} {
		if !strings.Contains(f.Body, w) {
			t.Errorf("failure text lacks %q:\n%s", w, f.Body)
		}
	}
	props := map[string]string{}
	for _, p := range s.Properties {
		props[p.Name] = p.Value
	}
	if props["intent_accuracy"] != "0.5000" || props["case_pass_rate"] != "0.5000" || props["provider"] != "local" {
		t.Errorf("properties %v", props)
	}
}

func TestSummary(t *testing.T) {
	r := twoCases(t)
	var buf bytes.Buffer
	if err := eval.WriteSummary(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, w := range []string{
		"suite mixed: 1/2 cases passed, 2/3 turns",
		`FAIL wrong <on> "purpose" & more`,
		`turn 1 "hello there": intent greeting, want store_hours; reply lacks "<not there>"`,
		"intent accuracy", "50.0%", "cases passed",
		"store_hours → greeting: 1",
		"understand",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("summary lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "FAIL greets") {
		t.Errorf("a passed case is listed as failed:\n%s", out)
	}
}

// report is a report with just metrics, for comparisons.
func report(suite string, metrics map[string]float64) eval.Report {
	return eval.Report{Suite: suite, Metrics: metrics}
}

func TestCompareGate(t *testing.T) {
	t.Parallel()
	base := []eval.Report{report("demo", map[string]float64{
		eval.MetricIntentAccuracy: 0.96, eval.MetricECE: 0.02, eval.MetricSlotF1: 1, eval.MetricLatencyP95: 10,
		eval.MetricToolExactMatch: 1,
	}), report("gone", map[string]float64{eval.MetricCasePassRate: 1})}
	cur := []eval.Report{report("demo", map[string]float64{
		eval.MetricIntentAccuracy: 0.92, eval.MetricECE: 0.05, eval.MetricSlotF1: 1, eval.MetricLatencyP95: 40,
		eval.MetricCasePassRate: 1,
	}), report("new", map[string]float64{eval.MetricCasePassRate: 0})}

	cmp := eval.Compare(base, cur, nil)
	regs := cmp.Regressions()
	if len(regs) != 2 || regs[0].Metric != eval.MetricIntentAccuracy || regs[1].Metric != eval.MetricECE {
		t.Fatalf("regressions %v, want intent_accuracy and ece (latency is not gated unless named)", regs)
	}
	if d := regs[0]; math.Abs(d.Drop-4) > 1e-9 || d.Allowed != 0 {
		t.Errorf("intent accuracy drop %v points, allowed %v; want 4 and 0", d.Drop, d.Allowed)
	}
	if d := regs[1]; math.Abs(d.Drop-3) > 1e-9 {
		t.Errorf("ECE rose 0.03 = %v points, want 3 (lower is better)", d.Drop)
	}
	if s := regs[0].String(); s != "demo: intent_accuracy dropped 4.00 points (96.0% → 92.0%), more than the 0.00 allowed" {
		t.Errorf("regression reads %q", s)
	}
	notes := strings.Join(cmp.Notes, "\n")
	for _, w := range []string{"new: not in the baseline", "gone: in the baseline but not run", "demo: tool_exact_match is in the baseline but was not measured"} {
		if !strings.Contains(notes, w) {
			t.Errorf("notes lack %q:\n%s", w, notes)
		}
	}

	// Limits allow drops, in points or milliseconds; a named latency is gated.
	limits, err := eval.ParseLimits([]string{"intent_accuracy=5", "ece=3", "latency_p95_ms=20"})
	if err != nil {
		t.Fatal(err)
	}
	regs = eval.Compare(base, cur, limits).Regressions()
	if len(regs) != 1 || regs[0].Metric != eval.MetricLatencyP95 || regs[0].Drop != 30 {
		t.Errorf("with limits: %v, want only latency_p95_ms, 30 ms over", regs)
	}
	var buf bytes.Buffer
	if err := eval.Compare(base, cur, limits).Write(&buf); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"intent_accuracy", "96.0%", "92.0%", "-4.00 pt", "latency_p95_ms", "+30.00 ms", "REGRESSED (allowed 20.00)", "note: new: not in the baseline"} {
		if !strings.Contains(buf.String(), w) {
			t.Errorf("comparison lacks %q:\n%s", w, buf.String())
		}
	}
}

func TestParseLimits(t *testing.T) {
	t.Parallel()
	for spec, want := range map[string]string{
		"intent_accuracy":      "want metric=amount",
		"accuracy=2":           `no metric "accuracy"`,
		"intent_accuracy=-1":   "not a non-negative number",
		"intent_accuracy=much": "not a non-negative number",
	} {
		if _, err := eval.ParseLimits([]string{spec}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", spec, err, want)
		}
	}
	l, err := eval.ParseLimits([]string{"slot_f1=2.5", " ece = 1 "})
	if err != nil || l["slot_f1"] != 2.5 || l["ece"] != 1 {
		t.Errorf("limits %v, %v", l, err)
	}
}
