package local

import (
	"math"
	"math/rand/v2"
	"slices"
)

// fitTemperature returns the temperature T that minimises the negative
// log-likelihood of labels under softmax(scores/T), where scores are the
// ensemble's log-probabilities. The NLL is convex in 1/T; a golden-section
// search over ln T in [ln 0.05, ln 20] finds its minimum to about 1e-4.
func fitTemperature(scores [][]float32, labels []int32) float64 {
	if len(scores) == 0 {
		return 1
	}
	nll := func(logT float64) float64 {
		inv := math.Exp(-logT)
		var total float64
		for i, s := range scores {
			maxS := float64(slices.Max(s)) * inv
			var sum float64
			for _, v := range s {
				sum += math.Exp(float64(v)*inv - maxS)
			}
			total += maxS + math.Log(sum) - float64(s[labels[i]])*inv
		}
		return total
	}
	lo, hi := math.Log(0.05), math.Log(20)
	const phi = 0.6180339887498949
	a, b := hi-phi*(hi-lo), lo+phi*(hi-lo)
	fa, fb := nll(a), nll(b)
	for hi-lo > 1e-4 {
		if fa < fb {
			hi, b, fb = b, a, fa
			a = hi - phi*(hi-lo)
			fa = nll(a)
		} else {
			lo, a, fa = a, b, fb
			b = lo + phi*(hi-lo)
			fb = nll(b)
		}
	}
	return math.Exp((lo + hi) / 2)
}

// scaled writes softmax(scores/T) into p.
func scaled(scores []float32, temperature float64, p []float32) {
	inv := float32(1 / temperature)
	for i, s := range scores {
		p[i] = s * inv
	}
	softmaxInPlace(p)
}

// ThresholdPoint is one candidate threshold with the rates it gives on the
// data it was chosen on.
type ThresholdPoint struct {
	// Threshold is the confidence under which a prediction is out of scope.
	Threshold float64
	// InScopeAccuracy is the share of in-scope examples predicted with their
	// intent and not rejected.
	InScopeAccuracy float64
	// OOSRecall is the share of out-of-scope examples rejected.
	OOSRecall float64
	// Objective is the value the choice maximised.
	Objective float64
}

// bestThreshold scans every distinct confidence as a threshold (a prediction
// is rejected when its confidence is below the threshold) and returns the
// one maximising (1-w)·in-scope accuracy + w·OOS recall; ties go to the
// lower threshold. conf and correct describe in-scope examples (correct: the
// top intent is the label), oos the confidences of out-of-scope ones.
func bestThreshold(conf []float64, correct []bool, oos []float64, w float64) ThresholdPoint {
	type point struct {
		c       float64
		in, hit bool // in-scope; in-scope and correct
	}
	pts := make([]point, 0, len(conf)+len(oos))
	for i, c := range conf {
		pts = append(pts, point{c: c, in: true, hit: correct[i]})
	}
	for _, c := range oos {
		pts = append(pts, point{c: c})
	}
	slices.SortFunc(pts, func(a, b point) int {
		switch {
		case a.c < b.c:
			return -1
		case a.c > b.c:
			return 1
		}
		return 0
	})
	nIn, nOOS := float64(len(conf)), float64(len(oos))
	var hits float64
	for _, c := range correct {
		if c {
			hits++
		}
	}
	rate := func(x, n float64) float64 {
		if n == 0 {
			return 0
		}
		return x / n
	}
	// Threshold 0 rejects nothing.
	best := ThresholdPoint{InScopeAccuracy: rate(hits, nIn)}
	best.Objective = (1 - w) * best.InScopeAccuracy
	var rejected float64
	for i := 0; i < len(pts); {
		// Raising the threshold just above pts[i].c rejects every point with
		// that confidence at once.
		j := i
		for j < len(pts) && pts[j].c == pts[i].c {
			if pts[j].hit {
				hits--
			}
			if !pts[j].in {
				rejected++
			}
			j++
		}
		thr := math.Nextafter(pts[i].c, math.Inf(1))
		if j < len(pts) {
			thr = (pts[i].c + pts[j].c) / 2
		}
		p := ThresholdPoint{Threshold: thr, InScopeAccuracy: rate(hits, nIn), OOSRecall: rate(rejected, nOOS)}
		p.Objective = (1-w)*p.InScopeAccuracy + w*p.OOSRecall
		if p.Objective > best.Objective+1e-12 {
			best = p
		}
		i = j
	}
	return best
}

// thresholdRounds is the number of bootstrap resamples baggedThreshold
// takes the median over.
const thresholdRounds = 200

// baggedThreshold is bestThreshold made stable: the best threshold of one
// small validation set jumps between distant values that score almost the
// same, so it takes the median of the best thresholds of rounds bootstrap
// resamples (in-scope and out-of-scope examples resampled separately, with
// a fixed seed) and reports the rates of that threshold on the full data.
func baggedThreshold(conf []float64, correct []bool, oos []float64, w float64, rounds int) ThresholdPoint {
	rng := rand.New(rand.NewPCG(0x7e57, 0xb007))
	thr := make([]float64, rounds)
	c := make([]float64, len(conf))
	ok := make([]bool, len(conf))
	o := make([]float64, len(oos))
	for r := range rounds {
		for i := range c {
			j := rng.IntN(len(conf))
			c[i], ok[i] = conf[j], correct[j]
		}
		for i := range o {
			o[i] = oos[rng.IntN(len(oos))]
		}
		thr[r] = bestThreshold(c, ok, o, w).Threshold
	}
	slices.Sort(thr)
	t := thr[rounds/2]
	return rateAt(conf, correct, oos, w, t)
}

// rateAt measures a threshold on the given data.
func rateAt(conf []float64, correct []bool, oos []float64, w, t float64) ThresholdPoint {
	p := ThresholdPoint{Threshold: t}
	for i, c := range conf {
		if correct[i] && c >= t {
			p.InScopeAccuracy++
		}
	}
	for _, c := range oos {
		if c < t {
			p.OOSRecall++
		}
	}
	if len(conf) > 0 {
		p.InScopeAccuracy /= float64(len(conf))
	}
	if len(oos) > 0 {
		p.OOSRecall /= float64(len(oos))
	}
	p.Objective = (1-w)*p.InScopeAccuracy + w*p.OOSRecall
	return p
}
