package local

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFitTemperature(t *testing.T) {
	t.Parallel()
	// Labels drawn from softmax(s/T) for known T: the fit must recover T.
	for _, want := range []float64{0.5, 1, 2.5} {
		rng := rand.New(rand.NewPCG(7, uint64(want*10)))
		var scores [][]float32
		var labels []int32
		p := make([]float32, 5)
		for range 20000 {
			s := make([]float32, 5)
			for k := range s {
				s[k] = float32(rng.NormFloat64() * 2)
			}
			scaled(s, want, p)
			u, y := rng.Float32(), int32(0)
			for acc := p[0]; acc < u && y < 4; {
				y++
				acc += p[y]
			}
			scores, labels = append(scores, s), append(labels, y)
		}
		if got := fitTemperature(scores, labels); math.Abs(got-want)/want > 0.05 {
			t.Errorf("fitTemperature = %.3f, want %.3f ± 5%%", got, want)
		}
	}
	if got := fitTemperature(nil, nil); got != 1 {
		t.Errorf("fitTemperature(no data) = %v, want 1", got)
	}
}

func TestBestThreshold(t *testing.T) {
	t.Parallel()
	// In scope: two right at 0.9, 0.8; one wrong at 0.3. Out of scope: 0.2, 0.4, 0.85.
	conf := []float64{0.9, 0.8, 0.3}
	correct := []bool{true, true, false}
	oos := []float64{0.2, 0.4, 0.85}
	tests := []struct {
		name          string
		w             float64
		thr, acc, rec float64
	}{
		// w=0: only in-scope accuracy counts; rejecting nothing already gives 2/3.
		{"in-scope only", 0, 0, 2.0 / 3, 0},
		// w=0.5: best is to reject under 0.8 (acc 2/3, rec 2/3): threshold between 0.4 and 0.8.
		{"balanced", 0.5, 0.6, 2.0 / 3, 2.0 / 3},
		// w=1: reject everything below 0.9 but keep... recall 1 needs a threshold above 0.85.
		{"recall only", 1, 0.875, 1.0 / 3, 1},
	}
	for _, tt := range tests {
		p := bestThreshold(conf, correct, oos, tt.w)
		if !near(p.Threshold, tt.thr) || !near(p.InScopeAccuracy, tt.acc) || !near(p.OOSRecall, tt.rec) {
			t.Errorf("%s: got %+v, want threshold %v, accuracy %v, recall %v", tt.name, p, tt.thr, tt.acc, tt.rec)
		}
	}
}
