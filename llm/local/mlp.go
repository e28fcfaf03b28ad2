package local

import (
	"math"
	"math/rand/v2"
	"slices"
)

// mlpConfig sets up one network of the ensemble.
type mlpConfig struct {
	hidden       int     // ReLU units; 0 makes a linear softmax model
	epochs       int     // passes over the training set
	batch        int     // examples per Adam step
	lr           float32 // Adam step size
	dropout      float32 // probability of dropping a hidden unit
	inputDropout float32 // probability of dropping an input feature
	seed         uint64
}

// mlp is a one-hidden-layer network over sparse inputs:
// softmax(W2ᵀ relu(W1ᵀx + b1) + b2). With hidden = 0 it is a linear softmax
// model softmax(W1ᵀx + b1) and W2, b2 are unused. Rows of W1 are indexed by
// input feature, so a sparse input touches only its own rows. Read-only after
// training.
type mlp struct {
	in, hidden, out int
	w1              []float32 // in × width, width = hidden or out
	b1              []float32
	w2              []float32 // hidden × out
	b2              []float32
}

// width is the length of a W1 row.
func (m *mlp) width() int {
	if m.hidden > 0 {
		return m.hidden
	}
	return m.out
}

// mlpScratch holds one goroutine's buffers for forward passes.
type mlpScratch struct {
	h      []float32
	active []int32
}

func (m *mlp) newScratch() *mlpScratch {
	return &mlpScratch{h: make([]float32, m.width()), active: make([]int32, 0, m.width())}
}

// logits writes the class scores of x into z (len out).
func (m *mlp) logits(x sparse, s *mlpScratch, z []float32) {
	width := m.width()
	h := s.h
	if m.hidden == 0 {
		h = z
	}
	copy(h, m.b1)
	for i, j := range x.idx {
		axpy(x.val[i], m.w1[int(j)*width:int(j+1)*width], h)
	}
	if m.hidden == 0 {
		return
	}
	copy(z, m.b2)
	for k, hk := range h {
		if hk > 0 {
			axpy(hk, m.w2[k*m.out:(k+1)*m.out], z)
		}
	}
}

// axpy adds a·x to y (len y ≥ len x).
func axpy(a float32, x, y []float32) {
	y = y[:len(x)]
	i := 0
	for ; i+4 <= len(x); i += 4 {
		y[i] += a * x[i]
		y[i+1] += a * x[i+1]
		y[i+2] += a * x[i+2]
		y[i+3] += a * x[i+3]
	}
	for ; i < len(x); i++ {
		y[i] += a * x[i]
	}
}

// dot returns x·y (len y ≥ len x).
func dot(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return s0 + s1 + s2 + s3
}

// softmaxInPlace turns scores into probabilities.
func softmaxInPlace(z []float32) {
	maxZ := z[0]
	for _, v := range z[1:] {
		maxZ = max(maxZ, v)
	}
	var sum float64
	for i, v := range z {
		e := math.Exp(float64(v - maxZ))
		z[i] = float32(e)
		sum += e
	}
	inv := float32(1 / sum)
	for i := range z {
		z[i] *= inv
	}
}

// grow extends s by n zeros, reusing its capacity.
func grow(s []float32, n int) []float32 {
	l := len(s)
	s = slices.Grow(s, n)[:l+n]
	clear(s[l:])
	return s
}

// adam is the state of Adam for one parameter slice.
type adam struct {
	m, v []float32
}

func newAdam(n int) adam { return adam{m: make([]float32, n), v: make([]float32, n)} }

const (
	adamBeta1 = 0.9
	adamBeta2 = 0.999
	adamEps   = 1e-8
)

// step applies gradient g to w[lo:lo+len(g)] with the bias-corrected step
// size lrT.
func (a *adam) step(w, g []float32, lo int, lrT float32) {
	m, v := a.m[lo:lo+len(g)], a.v[lo:lo+len(g)]
	w = w[lo : lo+len(g)]
	for i, gi := range g {
		mi := adamBeta1*m[i] + (1-adamBeta1)*gi
		vi := adamBeta2*v[i] + (1-adamBeta2)*gi*gi
		m[i], v[i] = mi, vi
		w[i] -= lrT * mi / (float32(math.Sqrt(float64(vi))) + adamEps)
	}
}

// trainMLP fits a network to xs/ys (class indices in [0, classes)) with
// minibatch Adam; the input layer's rows get lazy (sparse) Adam updates, so a
// step costs what its batch touches. It is deterministic for a given config.
func trainMLP(xs []sparse, ys []int32, in, classes int, cfg mlpConfig) *mlp {
	rng := rand.New(rand.NewPCG(cfg.seed, 0x9e3779b97f4a7c15))
	m := &mlp{in: in, hidden: cfg.hidden, out: classes}
	width := m.width()
	m.w1 = make([]float32, in*width)
	m.b1 = make([]float32, width)
	// Inputs are unit length, so N(0, σ²) rows give pre-activations of
	// variance about σ²; small σ, for features seen rarely in training keep
	// little of their random start. Linear models start from zero.
	sigma1 := float32(0.01)
	if cfg.hidden == 0 {
		sigma1 = 0
	}
	for i := range m.w1 {
		m.w1[i] = sigma1 * float32(rng.NormFloat64())
	}
	if cfg.hidden > 0 {
		m.w2 = make([]float32, cfg.hidden*classes)
		m.b2 = make([]float32, classes)
		sigma2 := float32(math.Sqrt(2 / float64(cfg.hidden+classes)))
		for i := range m.w2 {
			m.w2[i] = sigma2 * float32(rng.NormFloat64())
		}
	}

	opt1, optB1 := newAdam(len(m.w1)), newAdam(width)
	var opt2, optB2 adam
	var gw2, gb2 []float32
	if cfg.hidden > 0 {
		opt2, optB2 = newAdam(len(m.w2)), newAdam(classes)
		gw2, gb2 = make([]float32, len(m.w2)), make([]float32, classes)
	}
	gb1 := make([]float32, width)
	slot := make([]int32, in) // W1 row -> its gradient slot in this batch, -1 if none
	for i := range slot {
		slot[i] = -1
	}
	var rows []int32  // W1 rows touched in this batch
	var gw1 []float32 // their gradients, width each
	h := make([]float32, width)
	mask := make([]float32, width)
	z := make([]float32, classes)
	dh := make([]float32, width)
	xd := sparse{}

	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	keepIn, keepH := 1-cfg.inputDropout, 1-cfg.dropout
	step := 0
	for epoch := 0; epoch < cfg.epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for start := 0; start < len(order); start += cfg.batch {
			end := min(start+cfg.batch, len(order))
			inv := 1 / float32(end-start)
			clear(gb1)
			clear(gw2)
			clear(gb2)
			for _, n := range order[start:end] {
				// Input dropout, rescaled so the expected input is unchanged.
				x := xs[n]
				if cfg.inputDropout > 0 {
					xd.idx, xd.val = xd.idx[:0], xd.val[:0]
					for i, j := range x.idx {
						if rng.Float32() < keepIn {
							xd.idx = append(xd.idx, j)
							xd.val = append(xd.val, x.val[i]/keepIn)
						}
					}
					x = xd
				}
				// Forward.
				copy(h, m.b1)
				for i, j := range x.idx {
					axpy(x.val[i], m.w1[int(j)*width:int(j+1)*width], h)
				}
				if cfg.hidden > 0 {
					for k := range h {
						switch {
						case h[k] <= 0:
							h[k], mask[k] = 0, 0
						case cfg.dropout > 0 && rng.Float32() >= keepH:
							h[k], mask[k] = 0, 0
						default:
							mask[k] = 1 / keepH
							h[k] *= mask[k]
						}
					}
					copy(z, m.b2)
					for k, hk := range h {
						if hk != 0 {
							axpy(hk, m.w2[k*classes:(k+1)*classes], z)
						}
					}
				} else {
					copy(z, h)
				}
				softmaxInPlace(z)
				// dLoss/dz = p - target, averaged over the batch.
				z[ys[n]] -= 1
				for c := range z {
					z[c] *= inv
				}
				// Backward.
				var g []float32 // gradient at the input layer's output
				if cfg.hidden > 0 {
					axpy(1, z, gb2)
					for k, hk := range h {
						if hk == 0 {
							dh[k] = 0
							continue
						}
						w2k := m.w2[k*classes : (k+1)*classes]
						axpy(hk, z, gw2[k*classes:(k+1)*classes])
						dh[k] = dot(w2k, z) * mask[k]
					}
					g = dh
				} else {
					g = z
				}
				axpy(1, g, gb1)
				for i, j := range x.idx {
					s := slot[j]
					if s < 0 {
						s = int32(len(rows))
						slot[j] = s
						rows = append(rows, j)
						gw1 = grow(gw1, width)
					}
					axpy(x.val[i], g, gw1[int(s)*width:int(s+1)*width])
				}
			}
			// Adam step with bias correction folded into the step size.
			step++
			lrT := cfg.lr * float32(math.Sqrt(1-math.Pow(adamBeta2, float64(step)))/(1-math.Pow(adamBeta1, float64(step))))
			for s, j := range rows {
				opt1.step(m.w1, gw1[s*width:(s+1)*width], int(j)*width, lrT)
				slot[j] = -1
			}
			rows, gw1 = rows[:0], gw1[:0]
			optB1.step(m.b1, gb1, 0, lrT)
			if cfg.hidden > 0 {
				opt2.step(m.w2, gw2, 0, lrT)
				optB2.step(m.b2, gb2, 0, lrT)
			}
		}
	}
	return m
}
