package local

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// DefaultThreshold is the confidence under which Classify marks a message
// out of scope when TrainOptions.Threshold is 0: with calibrated
// probabilities, a top intent less likely right than wrong is not acted on.
// ChooseThreshold finds a better value when labelled out-of-scope examples
// exist.
const DefaultThreshold = 0.5

// DefaultTopK is the number of candidates a Prediction lists when
// TrainOptions.TopK is 0.
const DefaultTopK = 5

// DefaultFolds is the number of cross-validation folds used to calibrate
// when TrainOptions.Calibration is empty.
const DefaultFolds = 3

// TrainOptions configures Train. The zero value is ready to use.
type TrainOptions struct {
	// Seed makes training reproducible: the same examples, options and seed
	// give the same classifier on every machine. 0 means 1.
	Seed uint64
	// Threshold is the calibrated confidence under which a prediction is
	// out of scope. 0 means DefaultThreshold; a negative value never
	// rejects.
	Threshold float64
	// Calibration holds labelled examples kept out of training on which the
	// temperature is fitted. When empty, Train fits it on out-of-fold
	// predictions of Folds cross-validation ensembles instead, which costs
	// Folds more trainings. OutOfScope examples in it are ignored.
	Calibration []Example
	// Folds is the number of cross-validation folds when Calibration is
	// empty: 0 means DefaultFolds, 1 skips calibration (temperature 1).
	Folds int
	// TopK is the number of candidates in a Prediction; 0 means DefaultTopK.
	TopK int
	// Workers is the number of goroutines training ensemble members; 0
	// means GOMAXPROCS. It changes the speed, never the result.
	Workers int
}

// Candidate is one intent with its calibrated probability.
type Candidate struct {
	Intent string
	Prob   float64
}

// Prediction is the outcome of Classify.
type Prediction struct {
	// Intent is the most probable intent, set even when OutOfScope is true
	// so that a clarifying question can offer it.
	Intent string
	// Confidence is the calibrated probability of Intent: among held-out
	// messages predicted with confidence c, about a share c were right.
	Confidence float64
	// Candidates are the TopK most probable intents, most probable first.
	Candidates []Candidate
	// OutOfScope is true when Confidence is under the threshold or the text
	// shares no feature with any training example.
	OutOfScope bool
}

// Classifier predicts intents with calibrated probabilities: an ensemble of
// small neural networks and linear softmax models over TF-IDF vectors of
// folded word unigrams and bigrams and character 2- to 5-grams, averaged and
// temperature-scaled. It is immutable after Train and safe for concurrent
// use.
type Classifier struct {
	intents     []string
	vz          *vectorizer
	members     []*mlp
	temperature float64
	threshold   float64
	topK        int
}

// Recipe of the ensemble, chosen on CLINC150: four networks of 128 ReLU
// units (dropout 0.5) and two linear softmax models, all with input feature
// dropout 0.2 and trained with Adam on minibatches of 32.
const (
	ensembleMLPs    = 4
	ensembleLinears = 2
	minSteps        = 200 // small training sets get more epochs
	maxEpochs       = 100
)

var classifierNgrams = ngrams{bigrams: true, charMin: 2, charMax: 5}

// recipe returns the members' configurations for n training examples.
func recipe(seed uint64, n int) []mlpConfig {
	var out []mlpConfig
	epochs := func(e int) int {
		steps := max((n+31)/32, 1)
		return min(max(e, (minSteps+steps-1)/steps), maxEpochs)
	}
	for i := range ensembleMLPs {
		out = append(out, mlpConfig{hidden: 128, epochs: epochs(8), batch: 32, lr: 0.003, dropout: 0.5, inputDropout: 0.2, seed: seed*1000 + uint64(i)})
	}
	for i := range ensembleLinears {
		out = append(out, mlpConfig{hidden: 0, epochs: epochs(10), batch: 32, lr: 0.01, inputDropout: 0.2, seed: seed*1000 + 100 + uint64(i)})
	}
	return out
}

// Train fits a Classifier to labelled examples. It needs at least two
// intents; an empty text or intent, or an example labelled OutOfScope, is an
// error (out-of-scope detection comes from the threshold, not from
// examples). It is deterministic for given examples and options.
func Train(examples []Example, opts TrainOptions) (*Classifier, error) {
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.TopK <= 0 {
		opts.TopK = DefaultTopK
	}
	if opts.Folds <= 0 {
		opts.Folds = DefaultFolds
	}
	if opts.Threshold == 0 {
		opts.Threshold = DefaultThreshold
	}
	intents, labels, err := labelExamples(examples)
	if err != nil {
		return nil, err
	}
	texts := make([]string, len(examples))
	for i, e := range examples {
		texts[i] = Fold(e.Text)
	}
	c := fit(texts, labels, intents, opts)
	c.threshold, c.topK = opts.Threshold, opts.TopK

	// Temperature: on the calibration set if given, else out of fold.
	var scores [][]float32
	var gold []int32
	if len(opts.Calibration) > 0 {
		index := make(map[string]int32, len(intents))
		for i, name := range intents {
			index[name] = int32(i)
		}
		for i, e := range opts.Calibration {
			if e.Intent == OutOfScope {
				continue
			}
			y, ok := index[e.Intent]
			if !ok {
				return nil, fmt.Errorf("calibrating on example %d: intent %q is not in the training examples", i, e.Intent)
			}
			s, _ := c.scores(Fold(e.Text))
			scores, gold = append(scores, s), append(gold, y)
		}
	} else if opts.Folds > 1 {
		scores, gold = outOfFold(texts, labels, intents, opts)
	}
	c.temperature = fitTemperature(scores, gold)
	return c, nil
}

// labelExamples validates examples and numbers their intents in order of
// first appearance.
func labelExamples(examples []Example) ([]string, []int32, error) {
	index := map[string]int32{}
	var intents []string
	labels := make([]int32, len(examples))
	for i, e := range examples {
		switch {
		case strings.TrimSpace(e.Text) == "":
			return nil, nil, fmt.Errorf("training on example %d: empty text", i)
		case e.Intent == "":
			return nil, nil, fmt.Errorf("training on example %d (%q): empty intent", i, e.Text)
		case e.Intent == OutOfScope:
			return nil, nil, fmt.Errorf("training on example %d (%q): labelled %q; train on in-scope intents only", i, e.Text, OutOfScope)
		}
		y, ok := index[e.Intent]
		if !ok {
			y = int32(len(intents))
			index[e.Intent] = y
			intents = append(intents, e.Intent)
		}
		labels[i] = y
	}
	if len(intents) < 2 {
		return nil, nil, errors.New("training: need examples of at least two intents")
	}
	return intents, labels, nil
}

// fit trains the ensemble on folded texts, with temperature 1.
func fit(texts []string, labels []int32, intents []string, opts TrainOptions) *Classifier {
	vz := fitVectorizer(texts, classifierNgrams, 2, 1, 1)
	if vz.dim() == 0 {
		// Too few texts for any feature to occur twice: keep them all.
		vz = fitVectorizer(texts, classifierNgrams, 1, 1, 1)
	}
	xs := make([]sparse, len(texts))
	x := extractor{cfg: classifierNgrams}
	for i, t := range texts {
		xs[i] = vz.vectorize(&x, t, sparse{})
	}
	cfgs := recipe(opts.Seed, len(texts))
	members := make([]*mlp, len(cfgs))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(opts.Workers, len(cfgs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				members[i] = trainMLP(xs, labels, vz.dim(), len(intents), cfgs[i])
			}
		}()
	}
	for i := range cfgs {
		work <- i
	}
	close(work)
	wg.Wait()
	return &Classifier{intents: intents, vz: vz, members: members, temperature: 1}
}

// outOfFold trains one ensemble per stratified fold and returns the scores
// of every example by the ensemble that did not see it.
func outOfFold(texts []string, labels []int32, intents []string, opts TrainOptions) ([][]float32, []int32) {
	// Deal each intent's examples round-robin over the folds, in a seeded
	// shuffled order.
	rng := rand.New(rand.NewPCG(opts.Seed, 0xca11b7a7e))
	order := rng.Perm(len(texts))
	fold := make([]int, len(texts))
	next := make([]int, len(intents))
	for _, i := range order {
		fold[i] = next[labels[i]] % opts.Folds
		next[labels[i]]++
	}
	var scores [][]float32
	var gold []int32
	for k := range opts.Folds {
		var trT, teT []string
		var trY, teY []int32
		for i := range texts {
			if fold[i] == k {
				teT, teY = append(teT, texts[i]), append(teY, labels[i])
			} else {
				trT, trY = append(trT, texts[i]), append(trY, labels[i])
			}
		}
		if len(teT) == 0 {
			continue
		}
		c := fit(trT, trY, intents, opts)
		for i, t := range teT {
			s, _ := c.scores(t)
			scores, gold = append(scores, s), append(gold, teY[i])
		}
	}
	return scores, gold
}

// scores returns the log of the members' averaged probabilities for a
// folded text, and whether the text had any known feature.
func (c *Classifier) scores(folded string) ([]float32, bool) {
	var x extractor
	x.cfg = c.vz.cfg
	v := c.vz.vectorize(&x, folded, sparse{})
	n := len(c.intents)
	avg := make([]float32, n)
	z := make([]float32, n)
	var s *mlpScratch
	for _, m := range c.members {
		if s == nil || len(s.h) != m.width() {
			s = m.newScratch()
		}
		m.logits(v, s, z)
		softmaxInPlace(z)
		axpy(1/float32(len(c.members)), z, avg)
	}
	for i, p := range avg {
		avg[i] = float32(math.Log(float64(p) + 1e-30))
	}
	return avg, len(v.idx) > 0
}

// Classify predicts the intent of text. It never fails: a text with no
// letters or digits, or none known from training, is out of scope.
func (c *Classifier) Classify(text string) Prediction {
	s, known := c.scores(Fold(text))
	p := make([]float32, len(s))
	scaled(s, c.temperature, p)
	order := make([]int, len(p))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case p[a] > p[b]:
			return -1
		case p[a] < p[b]:
			return 1
		}
		return 0
	})
	k := min(c.topK, len(order))
	pred := Prediction{Candidates: make([]Candidate, k)}
	for i := range k {
		pred.Candidates[i] = Candidate{Intent: c.intents[order[i]], Prob: float64(p[order[i]])}
	}
	pred.Intent, pred.Confidence = pred.Candidates[0].Intent, pred.Candidates[0].Prob
	pred.OutOfScope = !known || pred.Confidence < c.threshold
	return pred
}

// Intents returns the intents the classifier knows, in order of first
// appearance in the training examples.
func (c *Classifier) Intents() []string { return slices.Clone(c.intents) }

// Temperature returns the fitted temperature (1 when uncalibrated).
func (c *Classifier) Temperature() float64 { return c.temperature }

// Threshold returns the confidence under which predictions are out of
// scope (negative: never).
func (c *Classifier) Threshold() float64 { return c.threshold }

// WithThreshold returns a copy of the classifier, sharing its model, that
// rejects below threshold (negative: never).
func (c *Classifier) WithThreshold(threshold float64) *Classifier {
	cp := *c
	cp.threshold = threshold
	return &cp
}

// ChooseThreshold picks the out-of-scope threshold on validation data:
// in-scope examples labelled with known intents and examples labelled
// OutOfScope. It returns the threshold maximising the accuracy over that
// data with out of scope counted as one more class, that is
//
//	(1−w)·in-scope accuracy + w·out-of-scope recall, w = n_oos / (n_in + n_oos),
//
// the share of messages handled right (answered with the right intent, or
// rejected when out of scope) if traffic mixes them as the validation data
// does. Because the best threshold of a small validation set jumps between
// distant values that score almost the same, it is the median of the best
// thresholds of 200 seeded bootstrap resamples of the validation data; the
// returned rates are those of that threshold on the full validation data.
// Use ChooseThresholdWeighted to state another out-of-scope share. Apply
// the result with WithThreshold.
func (c *Classifier) ChooseThreshold(validation []Example) ThresholdPoint {
	var nOOS int
	for _, e := range validation {
		if e.Intent == OutOfScope {
			nOOS++
		}
	}
	w := 0.0
	if len(validation) > 0 {
		w = float64(nOOS) / float64(len(validation))
	}
	return c.ChooseThresholdWeighted(validation, w)
}

// ChooseThresholdWeighted is ChooseThreshold maximising
// (1−w)·in-scope accuracy + w·out-of-scope recall for a given weight w in
// [0, 1], the expected share of out-of-scope messages.
func (c *Classifier) ChooseThresholdWeighted(validation []Example, w float64) ThresholdPoint {
	var conf, oos []float64
	var correct []bool
	for _, e := range validation {
		p := c.WithThreshold(-1).Classify(e.Text)
		if e.Intent == OutOfScope {
			oos = append(oos, p.Confidence)
			continue
		}
		conf = append(conf, p.Confidence)
		correct = append(correct, p.Intent == e.Intent)
	}
	return baggedThreshold(conf, correct, oos, w, thresholdRounds)
}
