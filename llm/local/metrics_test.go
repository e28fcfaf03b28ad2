package local

import (
	"math"
	"testing"
	"time"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestAccuracyAndMacroF1(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		gold, pred []string
		acc, f1    float64
	}{
		{"empty", nil, nil, 0, 0},
		{"perfect", []string{"a", "b"}, []string{"a", "b"}, 1, 1},
		// a: tp1 fn1 → F1 2/3; b: tp1 fp1 → 2/3; mean 2/3.
		{"one miss", []string{"a", "a", "b"}, []string{"a", "b", "b"}, 2.0 / 3, 2.0 / 3},
		// a: tp0 fn1 → 0; c (only predicted): fp1 → 0; b: tp1 → 1. Mean 1/3.
		{"predicted-only label counts", []string{"a", "b"}, []string{"c", "b"}, 0.5, 1.0 / 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Accuracy(tt.gold, tt.pred); !near(got, tt.acc) {
				t.Errorf("Accuracy = %v, want %v", got, tt.acc)
			}
			if got := MacroF1(tt.gold, tt.pred); !near(got, tt.f1) {
				t.Errorf("MacroF1 = %v, want %v", got, tt.f1)
			}
		})
	}
}

func TestOOSPrecisionRecall(t *testing.T) {
	t.Parallel()
	gold := []string{"oos", "oos", "oos", "a", "b"}
	pred := []string{"oos", "oos", "a", "oos", "b"}
	p, r := OOSPrecisionRecall(gold, pred)
	if !near(p, 2.0/3) || !near(r, 2.0/3) {
		t.Errorf("OOSPrecisionRecall = %v, %v; want 2/3, 2/3", p, r)
	}
	if p, r := OOSPrecisionRecall([]string{"a"}, []string{"a"}); p != 0 || r != 0 {
		t.Errorf("no out-of-scope at all = %v, %v; want 0, 0", p, r)
	}
}

func TestExpectedCalibrationError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		conf    []float64
		correct []bool
		want    float64
	}{
		{"empty", nil, nil, 0},
		{"calibrated", []float64{0.5, 0.5, 1, 1}, []bool{true, false, true, true}, 0},
		{"overconfident", []float64{0.9, 0.9}, []bool{false, false}, 0.9},
		// Bin of 0.95: conf 0.95, acc 1 → 0.05 × 2/3; bin of 0.1: conf 0.1, acc 0 → 0.1 × 1/3.
		{"two bins", []float64{0.95, 0.95, 0.1}, []bool{true, true, false}, 0.05*2/3 + 0.1/3},
	}
	for _, tt := range tests {
		if got := ExpectedCalibrationError(tt.conf, tt.correct, ECEBins); !near(got, tt.want) {
			t.Errorf("%s: ECE = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	ds := make([]time.Duration, 100)
	for i := range ds {
		ds[i] = time.Duration(100-i) * time.Millisecond // descending: Percentile must sort
	}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0, time.Millisecond}} {
		if got := Percentile(ds, tt.p); got != tt.want {
			t.Errorf("Percentile(p%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if ds[0] != 100*time.Millisecond {
		t.Error("Percentile reordered its input")
	}
	if got := Percentile(nil, 50); got != 0 {
		t.Errorf("Percentile(nil) = %v, want 0", got)
	}
}
