package local

import (
	"slices"
	"testing"
)

// clincSplits loads CLINC150 (data_full.json) as EvaluateIntents takes it:
// training examples, validation (val + oos_val) and test (test + oos_test).
func clincSplits(t testing.TB) (train, val, test []Example) {
	t.Helper()
	train = loadCLINC(t, CLINCTrain)
	val = append(loadCLINC(t, CLINCVal), loadCLINC(t, CLINCOOSVal)...)
	test = append(loadCLINC(t, CLINCTest), loadCLINC(t, CLINCOOSTest)...)
	return train, val, test
}

// keepIntents returns the examples of the given intents and the
// out-of-scope ones.
func keepIntents(es []Example, intents []string) []Example {
	var out []Example
	for _, e := range es {
		if e.Intent == OutOfScope || slices.Contains(intents, e.Intent) {
			out = append(out, e)
		}
	}
	return out
}

// TestCLINC150 trains on CLINC150's 15,000 training utterances (150
// intents), calibrates and picks the threshold on val + oos_val only, and
// checks the targets on test + oos_test: in-scope accuracy ≥ 93% together
// with out-of-scope recall ≥ 50%. Training is seeded, so the numbers are the
// same on every run. Under -race, which slows training about tenfold, it
// runs the same protocol on the first 10 intents in alphabetical order
// instead (with all the out-of-scope examples), with the targets that
// subset reaches.
func TestCLINC150(t *testing.T) {
	t.Parallel()
	train, val, test := clincSplits(t)
	minAcc, minRecall := 0.93, 0.50
	if raceEnabled {
		var intents []string
		for _, e := range train {
			if !slices.Contains(intents, e.Intent) {
				intents = append(intents, e.Intent)
			}
		}
		slices.Sort(intents)
		intents = intents[:10]
		train, val, test = keepIntents(train, intents), keepIntents(val, intents), keepIntents(test, intents)
		minAcc, minRecall = 0.92, 0.85
	}
	r, err := EvaluateIntents(train, test, EvalOptions{Validation: val})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("CLINC150 (race %v):\n%s", raceEnabled, r)
	if r.InScopeAccuracy < minAcc || r.OOSRecall < minRecall {
		t.Errorf("in-scope accuracy %.4f, out-of-scope recall %.4f; want at least %.2f and %.2f",
			r.InScopeAccuracy, r.OOSRecall, minAcc, minRecall)
	}
	if r.ECE > 0.03 {
		t.Errorf("expected calibration error %.4f, want at most 0.03", r.ECE)
	}
}

// BenchmarkTrainCLINC150 measures training on the full CLINC150 training set
// with its calibration on val. Run it with -benchtime=1x.
func BenchmarkTrainCLINC150(b *testing.B) {
	train, val, _ := clincSplits(b)
	for b.Loop() {
		if _, err := Train(train, TrainOptions{Calibration: val}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClassify measures one Classify call of a CLINC150 classifier
// (150 intents) on test utterances.
func BenchmarkClassify(b *testing.B) {
	train, val, test := clincSplits(b)
	c, err := Train(train, TrainOptions{Calibration: val})
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		c.Classify(test[i%len(test)].Text)
		i++
	}
}
