package eval_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/eval"
	"github.com/yanit/yanit/llm/local"
	"github.com/yanit/yanit/store"
)

// clincPath is CLINC150's data_full.json under $YANIT_DATASETS or the
// shared datasets folder; the test skips without it, except in CI.
func clincPath(t *testing.T) string {
	t.Helper()
	dirs := []string{filepath.Join("..", "..", "shared", "datasets"), "/work/shared/datasets"}
	if d := os.Getenv("YANIT_DATASETS"); d != "" {
		dirs = []string{d}
	}
	var err error
	for _, d := range dirs {
		p := filepath.Join(d, "clinc150", "data_full.json")
		if _, err = os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CLINC150 missing in CI: %v (set YANIT_DATASETS to the shared datasets folder)", err)
	}
	t.Skipf("CLINC150 not found (%v); it lives in shared/datasets beside the repository", err)
	return ""
}

// classifierResponder is an assistant that is its intent classifier
// alone: it records the classifier's intent, or none when out of scope,
// with the trace the engine records, and answers or falls back.
type classifierResponder struct{ c *local.Classifier }

func (r classifierResponder) Respond(_ context.Context, in assistant.Input) (assistant.Reply, error) {
	p := r.c.Classify(in.Pending[len(in.Pending)-1].Body)
	tr := assistant.Trace{Language: "en", Source: assistant.ProviderLocal, Intent: p.Intent, Confidence: p.Confidence, StagesMS: map[string]float64{}}
	for _, c := range p.Candidates {
		tr.Candidates = append(tr.Candidates, assistant.Candidate{Intent: c.Intent, Confidence: c.Prob})
	}
	reply := assistant.Reply{Intent: p.Intent, Confidence: p.Confidence, Decision: assistant.DecisionAnswer, Reason: "classified"}
	if p.OutOfScope {
		tr.Intent = ""
		reply.Intent, reply.Decision, reply.Reason = "", assistant.DecisionFallback, "out of scope"
	}
	reply.Messages = []whatsapp.Outbound{{To: in.Contact.WaID, Content: &whatsapp.Text{Body: "intent " + p.Intent}}}
	var err error
	reply.Trace, err = json.Marshal(tr)
	return reply, err
}

// TestCLINC150Parity runs a slice of CLINC150 (the first 6 intents in
// alphabetical order, 60 out-of-scope test utterances) imported with
// FromCLINC150 through the suite runner, on a classifier trained as yanit
// eval intents trains it (train split, temperature on val, threshold on
// val + oos_val, seed 1), and checks that the suite's numbers are those of
// llm/local.EvaluateIntents, which yanit eval intents prints.
func TestCLINC150Parity(t *testing.T) {
	t.Parallel()
	path := clincPath(t)
	load := func(split string) []local.Example {
		es, err := local.LoadCLINC150(path, split)
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	train := load(local.CLINCTrain)
	var intents []string
	for _, e := range train {
		if !slices.Contains(intents, e.Intent) {
			intents = append(intents, e.Intent)
		}
	}
	slices.Sort(intents)
	intents = intents[:6]
	keep := func(es []local.Example, oos int) []local.Example {
		var out []local.Example
		for _, e := range es {
			if slices.Contains(intents, e.Intent) {
				out = append(out, e)
			} else if e.Intent == local.OutOfScope && oos > 0 {
				out = append(out, e)
				oos--
			}
		}
		return out
	}
	train = keep(train, 0)
	val := keep(append(load(local.CLINCVal), load(local.CLINCOOSVal)...), 60)
	test := keep(append(load(local.CLINCTest), load(local.CLINCOOSTest)...), 60)

	// yanit eval intents' numbers.
	want, err := local.EvaluateIntents(train, test, local.EvalOptions{Train: local.TrainOptions{Seed: 1}, Validation: val})
	if err != nil {
		t.Fatal(err)
	}

	// The same classifier: trained, calibrated and thresholded as
	// EvaluateIntents does.
	var calibration []local.Example
	for _, e := range val {
		if e.Intent != local.OutOfScope {
			calibration = append(calibration, e)
		}
	}
	c, err := local.Train(train, local.TrainOptions{Seed: 1, Calibration: calibration})
	if err != nil {
		t.Fatal(err)
	}
	c = c.WithThreshold(c.ChooseThreshold(val).Threshold)
	if c.Threshold() != want.Threshold || c.Temperature() != want.Temperature {
		t.Fatalf("threshold %v, temperature %v; eval intents used %v, %v", c.Threshold(), c.Temperature(), want.Threshold, want.Temperature)
	}

	// The test split as a CLINC150 file, imported into a suite.
	var doc struct {
		Test    [][2]string `json:"test"`
		OOSTest [][2]string `json:"oos_test"`
	}
	for _, e := range test {
		if e.Intent == local.OutOfScope {
			doc.OOSTest = append(doc.OOSTest, [2]string{e.Text, e.Intent})
		} else {
			doc.Test = append(doc.Test, [2]string{e.Text, e.Intent})
		}
	}
	data, _ := json.Marshal(doc)
	slice := filepath.Join(t.TempDir(), "clinc-slice.json")
	if err := os.WriteFile(slice, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := eval.FromCLINC150(slice, nil, eval.ImportOptions{Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := eval.Run(context.Background(), s, eval.Options{
		Assistant: func(context.Context, store.Store) (assistant.Responder, error) { return classifierResponder{c}, nil },
		Provider:  "local",
	})
	if err != nil {
		t.Fatal(err)
	}

	inScope, oosRecall := r.Confusion.InScope()
	t.Logf("%d intents, %d test utterances (%d out of scope): in-scope accuracy %.4f, oos recall %.4f, accuracy %.4f, macro-F1 %.4f, ECE %.4f",
		len(intents), len(test), want.OutOfScope, inScope, oosRecall, r.Metrics[eval.MetricIntentAccuracy], r.Metrics[eval.MetricIntentMacroF1], r.Metrics[eval.MetricECE])
	same := func(name string, got, w float64) {
		if math.Abs(got-w) > 1e-12 {
			t.Errorf("%s: suite runner %.6f, eval intents %.6f", name, got, w)
		}
	}
	same("in-scope accuracy", inScope, want.InScopeAccuracy)
	same("out-of-scope recall", oosRecall, want.OOSRecall)
	same("accuracy", r.Metrics[eval.MetricIntentAccuracy], want.Accuracy)
	same("macro-F1", r.Metrics[eval.MetricIntentMacroF1], want.MacroF1)
	same("ECE", r.Metrics[eval.MetricECE], want.ECE)
	if r.Support[eval.MetricIntentAccuracy] != len(test) || r.Support[eval.MetricECE] != want.InScope {
		t.Errorf("support %d and %d, want %d and %d", r.Support[eval.MetricIntentAccuracy], r.Support[eval.MetricECE], len(test), want.InScope)
	}
	if want.OOSRecall == 0 || want.OOSRecall == 1 || want.InScopeAccuracy == 1 {
		t.Errorf("the slice is too easy to tell the paths apart: in-scope %.3f, oos recall %.3f", want.InScopeAccuracy, want.OOSRecall)
	}
}
