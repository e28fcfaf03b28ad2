package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/yanit/yanit/eval"
)

// writeCSV writes a header and rows to name in dir and returns its path.
func writeCSV(t *testing.T, dir, name string, rows [][]string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Write([]string{"utterance", "intent"})
	w.WriteAll(rows) // flushes
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// evalSet returns a small labelled set: five phrasings of each of three
// intents, each said three ways, and held-out phrasings of the same intents.
func evalSet() (train, test [][]string) {
	phrasings := map[string][]string{
		"order_status": {"where is my order", "track my package", "has my parcel shipped yet",
			"when will my order arrive", "what is the delivery status of my order"},
		"cancel_order": {"cancel my order", "i want to cancel the purchase", "please cancel order",
			"stop my order before it ships", "i no longer want this order cancel it"},
		"opening_hours": {"what time do you open", "are you open on sunday", "when does the store close",
			"what are your opening hours", "until what time are you open today"},
	}
	heldOut := map[string][]string{
		"order_status":  {"where is my package", "track my order please", "has my order shipped", "when will my parcel arrive"},
		"cancel_order":  {"cancel the order please", "i want to cancel my purchase", "cancel it i no longer want it", "please stop my order"},
		"opening_hours": {"are you open today", "what time does the store open", "when do you close on sunday", "your opening hours please"},
	}
	for _, intent := range []string{"order_status", "cancel_order", "opening_hours"} {
		for _, p := range phrasings[intent] {
			for _, say := range []string{"%s", "hi, %s", "%s?"} {
				train = append(train, []string{strings.Replace(say, "%s", p, 1), intent})
			}
		}
		for _, p := range heldOut[intent] {
			test = append(test, []string{p, intent})
		}
	}
	for _, p := range []string{"tell me a joke about penguins", "how tall is mount everest", "translate banana into japanese"} {
		test = append(test, []string{p, "none"}) // the dataset's own out-of-scope label
	}
	return train, test
}

// evalReport is the JSON of yanit eval intents --json.
type evalReport struct {
	InScopeAccuracy float64 `json:"in_scope_accuracy"`
	OOSRecall       float64 `json:"oos_recall"`
	OOSPrecision    float64 `json:"oos_precision"`
	MacroF1         float64 `json:"macro_f1"`
	ECE             float64 `json:"ece"`
	Threshold       float64 `json:"threshold"`
	Temperature     float64 `json:"temperature"`
	TrainSeconds    float64 `json:"train_seconds"`
	LatencyP50MS    float64 `json:"latency_p50_ms"`
	LatencyP99MS    float64 `json:"latency_p99_ms"`
	TrainExamples   int     `json:"train_examples"`
	Intents         int     `json:"intents"`
	InScope         int     `json:"in_scope"`
	OutOfScope      int     `json:"out_of_scope"`
}

// decodeReport checks that out is one JSON object with every documented key
// and decodes it.
func decodeReport(t *testing.T, out string) evalReport {
	t.Helper()
	var keys map[string]any
	if err := json.Unmarshal([]byte(out), &keys); err != nil {
		t.Fatalf("--json output is not one JSON object: %v\n%s", err, out)
	}
	for _, k := range []string{"in_scope_accuracy", "oos_recall", "oos_precision", "macro_f1", "ece", "threshold",
		"temperature", "train_seconds", "latency_p50_ms", "latency_p99_ms", "train_examples", "intents", "in_scope", "out_of_scope"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("--json output lacks %q:\n%s", k, out)
		}
	}
	var r evalReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestEvalIntentsCSV(t *testing.T) {
	isolate(t) // no config file, no database: the command needs neither
	dir := t.TempDir()
	trainRows, testRows := evalSet()
	train := writeCSV(t, dir, "train.csv", trainRows)
	test := writeCSV(t, dir, "test.csv", testRows)

	code, out, stderr := run(t, "eval", "intents", "--format", "csv", "--train", train, "--test", test,
		"--oos-label", "none", "--seed", "1", "--json")
	if code != 0 {
		t.Fatalf("eval intents = %d: %s", code, stderr)
	}
	r := decodeReport(t, out)
	if r.TrainExamples != 45 || r.Intents != 3 || r.InScope != 12 || r.OutOfScope != 3 {
		t.Errorf("counts: %d train examples, %d intents, %d in scope, %d out of scope; want 45, 3, 12, 3 (--oos-label none)",
			r.TrainExamples, r.Intents, r.InScope, r.OutOfScope)
	}
	for name, v := range map[string]float64{"in_scope_accuracy": r.InScopeAccuracy, "oos_recall": r.OOSRecall,
		"oos_precision": r.OOSPrecision, "macro_f1": r.MacroF1, "ece": r.ECE} {
		if v < 0 || v > 1 {
			t.Errorf("%s = %v, want a rate in [0, 1]", name, v)
		}
	}
	// Held-out phrasings of three well-separated intents: far above the
	// chance level of 1/3.
	if r.InScopeAccuracy < 0.75 {
		t.Errorf("in_scope_accuracy = %.3f on held-out phrasings, want at least 0.75", r.InScopeAccuracy)
	}
	if r.Temperature <= 0 || r.TrainSeconds <= 0 || r.LatencyP50MS <= 0 || r.LatencyP99MS < r.LatencyP50MS {
		t.Errorf("temperature %v, train %vs, latency p50 %vms p99 %vms; want positive, p99 ≥ p50",
			r.Temperature, r.TrainSeconds, r.LatencyP50MS, r.LatencyP99MS)
	}

	// The same data twice with the same seed gives the same numbers; the
	// human report says what it measured.
	code, human, stderr := run(t, "eval", "intents", "--train", train, "--test", test, "--oos-label", "none")
	if code != 0 {
		t.Fatalf("eval intents without --json = %d: %s", code, stderr)
	}
	for _, want := range []string{"train " + train, "test " + test, "seed 1", "45 (3 intents)",
		"12 in scope, 3 out of scope", "in-scope accuracy", "oos recall"} {
		if !strings.Contains(human, want) {
			t.Errorf("report lacks %q:\n%s", want, human)
		}
	}
}

func TestEvalIntentsCLINC150(t *testing.T) {
	// Where scripts/test.sh looks: $YANIT_DATASETS, beside the repository,
	// the workplace's shared folder.
	dirs := []string{filepath.Join("..", "..", "..", "shared", "datasets"), "/work/shared/datasets"}
	if d := os.Getenv("YANIT_DATASETS"); d != "" {
		dirs = []string{d}
	}
	var data string
	var err error
	for _, d := range dirs {
		data = filepath.Join(d, "clinc150", "data_full.json")
		if _, err = os.Stat(data); err == nil {
			break
		}
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CLINC150 missing in CI: %v (set YANIT_DATASETS to the shared datasets folder)", err)
		}
		t.Skipf("CLINC150 not found (%v); it lives in shared/datasets beside the repository", err)
	}
	code, out, stderr := runWithoutRace(t, "eval", "intents", "--format", "clinc150", "--train", data, "--test", data, "--json", "--seed", "1")
	if code != 0 {
		t.Fatalf("eval intents on CLINC150 = %d: %s", code, stderr)
	}
	r := decodeReport(t, out)
	t.Logf("CLINC150 seed 1: in-scope accuracy %.4f, oos recall %.4f, oos precision %.4f, macro-F1 %.4f, ECE %.4f, "+
		"threshold %.3f, training %.1fs", r.InScopeAccuracy, r.OOSRecall, r.OOSPrecision, r.MacroF1, r.ECE, r.Threshold, r.TrainSeconds)
	if r.TrainExamples != 15000 || r.Intents != 150 || r.InScope != 4500 || r.OutOfScope != 1000 {
		t.Errorf("counts: %d train examples, %d intents, %d in scope, %d out of scope; want CLINC150's 15000, 150, 4500, 1000",
			r.TrainExamples, r.Intents, r.InScope, r.OutOfScope)
	}
	if r.InScopeAccuracy < 0.93 || r.OOSRecall < 0.50 {
		t.Errorf("in-scope accuracy %.4f, out-of-scope recall %.4f; want at least 0.93 and 0.50", r.InScopeAccuracy, r.OOSRecall)
	}
}

// runWithoutRace runs the CLI in-process, or, when the tests run under
// -race, which slows training tenfold (CLINC150: minutes instead of 25 s),
// as a binary of this package built without the race detector. The numbers
// are the same either way; training's races are llm/local's tests' business.
func runWithoutRace(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	if !raceEnabled() {
		return run(t, args...)
	}
	var out, errOut bytes.Buffer
	cmd := cliCommand(t, context.Background(), args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running %s: %v", cmd.Path, err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// raceEnabled reports whether this test binary was built with -race.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

func TestEvalIntentsBadInput(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	trainRows, testRows := evalSet()
	train := writeCSV(t, dir, "train.csv", trainRows)
	test := writeCSV(t, dir, "test.csv", testRows)
	oneColumn := filepath.Join(dir, "one-column.csv")
	if err := os.WriteFile(oneColumn, []byte("utterance,intent\nwhere is my order,order_status\njust an utterance\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	oneIntent := writeCSV(t, dir, "one-intent.csv", [][]string{{"hello", "greet"}, {"hi there", "greet"}})
	withOOS := writeCSV(t, dir, "with-oos.csv", append(trainRows, []string{"how tall is everest", "none"}))
	missing := filepath.Join(dir, "no-such.csv")

	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"no train", []string{"--test", test}, []string{"--train is required"}},
		{"no test", []string{"--train", train}, []string{"--test is required"}},
		{"unknown format", []string{"--format", "xml", "--train", train, "--test", test}, []string{`--format "xml"`, "clinc150", "csv"}},
		{"unreadable train", []string{"--train", missing, "--test", test}, []string{"--train", missing, "no such file"}},
		{"unreadable test", []string{"--train", train, "--test", missing}, []string{"--test", missing}},
		{"unreadable validation", []string{"--train", train, "--test", test, "--validation", missing}, []string{"--validation", missing}},
		{"one column", []string{"--train", oneColumn, "--test", test}, []string{"--train", oneColumn, "row 3", "2 columns"}},
		{"one intent", []string{"--train", oneIntent, "--test", test}, []string{"--train", "need at least 2 intents, found 1 (greet)"}},
		{"oos in train", []string{"--train", withOOS, "--test", test, "--oos-label", "none"}, []string{"--train", `examples labelled out of scope ("none"): 1`, "--validation"}},
		{"csv as clinc150", []string{"--format", "clinc150", "--train", train, "--test", train}, []string{"--train", "decoding clinc150"}},
		{"stray argument", []string{"--train", train, "--test", test, "extra"}, []string{"unknown command"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, stderr := run(t, append([]string{"eval", "intents"}, c.args...)...)
			if code == 0 {
				t.Fatalf("exit 0, want an error; stdout:\n%s", out)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr = %q, want it to name %q", stderr, w)
				}
			}
		})
	}
}

// demoSuite is the absolute path of the demo's eval suite, which tests
// reach after isolate moved them to a temporary folder.
func demoSuite(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "configs", "eval", "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEvalRunDemoSuite(t *testing.T) {
	suite := demoSuite(t)
	demoRouter(t) // trains the demo's classifier once per test binary; the run reuses it
	isolate(t)
	s, err := eval.LoadSuite(suite)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "eval-out")
	code, stdout, stderr := run(t, "eval", "run", suite, "--out", out, "--concurrency", "4")
	if code != 0 {
		t.Fatalf("eval run = %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	n := len(s.Cases)
	for _, want := range []string{"suite demo (" + suite + ")", fmt.Sprintf("%d/%d cases passed", n, n), "provider local, concurrency 4",
		"intent accuracy", "100.0%", "handoff recall", "tool calls exact", "slot F1", "understand"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	res, err := eval.ReadJSONFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := res.Suites[0]
	t.Logf("demo suite: %+v in %.0f ms (setup %.0f ms)", r.Metrics, r.DurationMS, r.SetupMS)
	for _, m := range []string{eval.MetricCasePassRate, eval.MetricIntentAccuracy, eval.MetricIntentMacroF1, eval.MetricHandoffPrecision,
		eval.MetricHandoffRecall, eval.MetricToolExactMatch, eval.MetricSlotF1, eval.MetricReplyPassRate} {
		if v, ok := r.Metrics[m]; !ok || v != 1 {
			t.Errorf("%s = %v (measured: %v), want 1 on the demo suite", m, v, ok)
		}
	}
	if r.Assistant != "demo" || r.Counts.Cases != n {
		t.Errorf("assistant %q, %d cases", r.Assistant, r.Counts.Cases)
	}
	junit, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`<testsuite name="demo" tests="%d" failures="0" errors="0"`, n); !strings.Contains(string(junit), want) {
		t.Errorf("junit.xml lacks %s:\n%.400s", want, junit)
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := html.Parse(bytes.NewReader(page)); err != nil {
		t.Errorf("report.html does not parse: %v", err)
	}
	for _, want := range []string{"Suite demo", `class="confusion"`, `class="reliability"`, `class="intents"`, "Every case passed."} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report.html lacks %s", want)
		}
	}
	if !strings.Contains(stderr, "report.html") {
		t.Errorf("stderr does not name report.html: %s", stderr)
	}
}

// gateSuite is a demo suite with one case wrong on purpose.
const gateSuite = `
name: gate
cases:
  - name: greets
    turns: [{text: merhaba, expect: {intent: greeting, decision: answer}}]
  - name: wrong on purpose
    turns: [{text: merhaba, expect: {intent: store_hours}}]
`

func TestEvalRunGate(t *testing.T) {
	demoRouter(t)
	isolate(t)
	dir := t.TempDir()
	suite := filepath.Join(dir, "gate.yaml")
	if err := os.WriteFile(suite, []byte(gateSuite), 0o644); err != nil {
		t.Fatal(err)
	}

	// A failing case fails the run, naming how many, unless allowed.
	code, stdout, stderr := run(t, "eval", "run", suite)
	if code == 0 || !strings.Contains(stderr, "1 of 2 cases failed") {
		t.Errorf("a failing case: exit %d, stderr %q; want non-zero and the count", code, stderr)
	}
	if !strings.Contains(stdout, "FAIL wrong on purpose") || !strings.Contains(stdout, "intent greeting, want store_hours") {
		t.Errorf("the summary does not say what failed:\n%s", stdout)
	}
	out := filepath.Join(dir, "out")
	if code, _, stderr := run(t, "eval", "run", suite, "--allow-failures", "--out", out); code != 0 {
		t.Fatalf("--allow-failures = %d: %s", code, stderr)
	}

	// A baseline where intent accuracy was higher fails the gate by name.
	res, err := eval.ReadJSONFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Suites[0].Metrics[eval.MetricIntentAccuracy]; got != 0.5 {
		t.Fatalf("intent accuracy %v, want 0.5", got)
	}
	res.Suites[0].Metrics[eval.MetricIntentAccuracy] = 0.9
	baseline := filepath.Join(dir, "baseline.json")
	f, err := os.Create(baseline)
	if err != nil {
		t.Fatal(err)
	}
	if err := eval.WriteJSON(f, res.Suites); err != nil {
		t.Fatal(err)
	}
	f.Close()
	code, stdout, stderr = run(t, "eval", "run", suite, "--allow-failures", "--baseline", baseline)
	if code == 0 {
		t.Fatalf("a drop of 40 points passed the gate:\n%s", stdout)
	}
	if !strings.Contains(stderr, "gate: 1 metric dropped more than allowed") ||
		!strings.Contains(stderr, "gate: intent_accuracy dropped 40.00 points (90.0% → 50.0%), more than the 0.00 allowed") {
		t.Errorf("stderr %q, want the metric and the drop", stderr)
	}
	if !strings.Contains(stdout, "compared with "+baseline) || !strings.Contains(stdout, "REGRESSED") {
		t.Errorf("stdout lacks the comparison:\n%s", stdout)
	}
	// --max-drop allows it.
	if code, stdout, stderr := run(t, "eval", "run", suite, "--allow-failures", "--baseline", baseline, "--max-drop", "intent_accuracy=40.5"); code != 0 {
		t.Errorf("allowed drop: exit %d: %s\n%s", code, stderr, stdout)
	}

	// compare reads the two files and gates the same way.
	code, stdout, stderr = run(t, "eval", "compare", baseline, filepath.Join(out, "results.json"))
	if code == 0 || !strings.Contains(stderr, "intent_accuracy dropped 40.00 points") || !strings.Contains(stdout, "-40.00 pt") {
		t.Errorf("compare = %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, "eval", "compare", filepath.Join(out, "results.json"), baseline)
	if code != 0 || !strings.Contains(stdout, "better") {
		t.Errorf("compare the other way = %d, want 0 and an improvement\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

func TestEvalRunBadInput(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo.yaml")
	if err := os.WriteFile(typo, []byte("name: t\ncases:\n  - name: c\n    turns:\n      - text: hi\n        expect: {intnet: greeting}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("name: g\ncases: [{name: c, turns: [{text: hi}]}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notJSON := filepath.Join(dir, "baseline.json")
	if err := os.WriteFile(notJSON, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"no suite", []string{"run"}, []string{"requires at least 1 arg"}},
		{"unknown key", []string{"run", good, typo}, []string{typo, `line 6: unknown key "intnet" in expect`}},
		{"missing suite", []string{"run", filepath.Join(dir, "nope.yaml")}, []string{"nope.yaml", "no such file"}},
		{"unknown metric", []string{"run", good, "--max-drop", "accuracy=2"}, []string{"--max-drop", `no metric "accuracy"`, "intent_accuracy"}},
		{"bad baseline", []string{"run", good, "--baseline", notJSON}, []string{"--baseline", notJSON}},
		{"same suite twice", []string{"run", good, good}, []string{`both named "g"`}},
		{"negative concurrency", []string{"run", good, "--concurrency", "-1"}, []string{"--concurrency -1"}},
		{"compare one file", []string{"compare", notJSON}, []string{"accepts 2 arg(s)"}},
		{"compare unreadable", []string{"compare", notJSON, notJSON}, []string{notJSON, "reading eval results"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := run(t, append([]string{"eval"}, c.args...)...)
			if code == 0 {
				t.Fatal("exit 0, want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not name %q", stderr, w)
				}
			}
		})
	}
}
