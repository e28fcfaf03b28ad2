package local

import "testing"

// TestXSID reports intent accuracy and macro-F1 on the Turkish xSID test
// set in two settings: trained on the English validation set (cross-lingual:
// only shared character n-grams, names and numbers carry over, so it is low)
// and trained on the Turkish validation set. Nothing is rejected: xSID has no
// out-of-scope examples, so the temperature cannot change a prediction;
// under -race, which slows training about tenfold, calibration (three more
// trainings per setting) is skipped and only the ECE changes.
func TestXSID(t *testing.T) {
	t.Parallel()
	opts := TrainOptions{Threshold: -1}
	if raceEnabled {
		opts.Folds = 1
	}
	test := loadXSID(t, "tr.test.conll")
	for _, tt := range []struct {
		name, train  string
		acc, macroF1 float64 // floors, a few points under the measured values
	}{
		{"en.valid→tr.test", "en.valid.conll", 0.22, 0.14},
		{"tr.valid→tr.test", "tr.valid.conll", 0.90, 0.82},
	} {
		t.Run(tt.name, func(t *testing.T) {
			train := loadXSID(t, tt.train)
			r, err := EvaluateIntents(train, test, EvalOptions{Train: opts})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s:\n%s", tt.name, r)
			if r.Accuracy < tt.acc || r.MacroF1 < tt.macroF1 {
				t.Errorf("accuracy %.3f, macro-F1 %.3f; want at least %.2f, %.2f", r.Accuracy, r.MacroF1, tt.acc, tt.macroF1)
			}
		})
	}
}
