package local

import (
	"math"
	"slices"
	"time"
)

// Accuracy returns the share of positions where pred equals gold (0 for
// empty input). The slices must have the same length.
func Accuracy(gold, pred []string) float64 {
	if len(gold) == 0 {
		return 0
	}
	n := 0
	for i := range gold {
		if gold[i] == pred[i] {
			n++
		}
	}
	return float64(n) / float64(len(gold))
}

// MacroF1 returns the unweighted mean of the per-label F1 scores over every
// label that occurs in gold or pred (a label only ever predicted scores 0
// and pulls the mean down). The slices must have the same length.
func MacroF1(gold, pred []string) float64 {
	type counts struct{ tp, fp, fn int }
	per := map[string]*counts{}
	get := func(l string) *counts {
		c, ok := per[l]
		if !ok {
			c = &counts{}
			per[l] = c
		}
		return c
	}
	for i := range gold {
		if gold[i] == pred[i] {
			get(gold[i]).tp++
			continue
		}
		get(gold[i]).fn++
		get(pred[i]).fp++
	}
	if len(per) == 0 {
		return 0
	}
	var sum float64
	for _, c := range per {
		if c.tp > 0 {
			sum += 2 * float64(c.tp) / float64(2*c.tp+c.fp+c.fn)
		}
	}
	return sum / float64(len(per))
}

// OOSPrecisionRecall treats OutOfScope as the positive class: precision is
// the share of OutOfScope predictions whose gold label is OutOfScope, recall
// the share of OutOfScope gold labels predicted as such. Either is 0 when its
// denominator is.
func OOSPrecisionRecall(gold, pred []string) (precision, recall float64) {
	var tp, predicted, actual int
	for i := range gold {
		g, p := gold[i] == OutOfScope, pred[i] == OutOfScope
		if p {
			predicted++
		}
		if g {
			actual++
		}
		if g && p {
			tp++
		}
	}
	if predicted > 0 {
		precision = float64(tp) / float64(predicted)
	}
	if actual > 0 {
		recall = float64(tp) / float64(actual)
	}
	return precision, recall
}

// ECEBins is the number of equal-width confidence bins of
// ExpectedCalibrationError, as in Guo et al. 2017.
const ECEBins = 15

// ExpectedCalibrationError returns Σ_b (n_b/n)·|accuracy_b − confidence_b|
// over bins equal-width bins of confidence in [0, 1], where correct says
// whether each prediction was right. 0 means confidences match hit rates.
func ExpectedCalibrationError(confidence []float64, correct []bool, bins int) float64 {
	if len(confidence) == 0 || bins <= 0 {
		return 0
	}
	n := make([]float64, bins)
	conf := make([]float64, bins)
	hits := make([]float64, bins)
	for i, c := range confidence {
		b := min(max(int(c*float64(bins)), 0), bins-1)
		n[b]++
		conf[b] += c
		if correct[i] {
			hits[b]++
		}
	}
	var ece float64
	for b := range n {
		if n[b] > 0 {
			ece += math.Abs(hits[b]-conf[b]) / float64(len(confidence))
		}
	}
	return ece
}

// Percentile returns the p-th percentile (0 ≤ p ≤ 100) of ds by the
// nearest-rank method, or 0 for no durations. ds is not modified.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}
