package local

import (
	"fmt"
	"strings"
	"time"
)

// EvalOptions configures EvaluateIntents.
type EvalOptions struct {
	// Train configures training. When Train.Calibration is empty and
	// Validation holds in-scope examples, those calibrate the temperature.
	Train TrainOptions
	// Validation, if it holds OutOfScope examples, is where the threshold is
	// chosen (see Classifier.ChooseThreshold); otherwise the threshold is
	// Train.Threshold. It must not overlap the test examples.
	Validation []Example
	// OOSWeight, if positive, replaces the validation data's own share of
	// out-of-scope examples in the threshold choice (see
	// Classifier.ChooseThresholdWeighted).
	OOSWeight float64
}

// IntentReport is what EvaluateIntents measured. Rates are in [0, 1].
type IntentReport struct {
	// TrainExamples, Intents, InScope and OutOfScope count the training
	// examples, their intents and the in-scope and out-of-scope test
	// examples.
	TrainExamples, Intents, InScope, OutOfScope int
	// InScopeAccuracy is the share of in-scope test examples predicted with
	// their intent and not rejected.
	InScopeAccuracy float64
	// Accuracy counts out of scope as one more class, over all test examples.
	Accuracy float64
	// MacroF1 is the mean F1 over the labels of the test examples and of the
	// predictions, out of scope included (see MacroF1).
	MacroF1 float64
	// OOSPrecision and OOSRecall treat out of scope as the positive class.
	OOSPrecision, OOSRecall float64
	// ECE is the expected calibration error (ECEBins bins) of the top
	// intent's confidence on in-scope test examples, rejection aside.
	ECE float64
	// Temperature and Threshold are the fitted calibration and the
	// out-of-scope threshold used.
	Temperature, Threshold float64
	// TrainTime is the wall time of Train, calibration included.
	TrainTime time.Duration
	// LatencyP50 and LatencyP99 are percentiles of one Classify call over
	// the test examples, one at a time.
	LatencyP50, LatencyP99 time.Duration
}

// EvaluateIntents trains on train, picks the threshold on opts.Validation,
// classifies every test example (those labelled OutOfScope should be
// rejected) and reports accuracy, out-of-scope precision and recall,
// macro-F1, calibration error, training time and latency.
func EvaluateIntents(train, test []Example, opts EvalOptions) (IntentReport, error) {
	topts := opts.Train
	var nValOOS int
	for _, e := range opts.Validation {
		if e.Intent == OutOfScope {
			nValOOS++
		}
	}
	if len(topts.Calibration) == 0 && len(opts.Validation) > nValOOS {
		topts.Calibration = opts.Validation
	}
	start := time.Now()
	c, err := Train(train, topts)
	if err != nil {
		return IntentReport{}, fmt.Errorf("evaluating intents: %w", err)
	}
	r := IntentReport{TrainExamples: len(train), Intents: len(c.intents), TrainTime: time.Since(start)}
	if nValOOS > 0 {
		var p ThresholdPoint
		if opts.OOSWeight > 0 {
			p = c.ChooseThresholdWeighted(opts.Validation, opts.OOSWeight)
		} else {
			p = c.ChooseThreshold(opts.Validation)
		}
		c = c.WithThreshold(p.Threshold)
	}
	r.Temperature, r.Threshold = c.temperature, c.threshold

	gold := make([]string, len(test))
	pred := make([]string, len(test))
	lat := make([]time.Duration, len(test))
	var conf []float64
	var correct []bool
	var inHits int
	for i, e := range test {
		t0 := time.Now()
		p := c.Classify(e.Text)
		lat[i] = time.Since(t0)
		gold[i], pred[i] = e.Intent, p.Intent
		if p.OutOfScope {
			pred[i] = OutOfScope
		}
		if e.Intent == OutOfScope {
			r.OutOfScope++
			continue
		}
		r.InScope++
		conf = append(conf, p.Confidence)
		correct = append(correct, p.Intent == e.Intent)
		if pred[i] == e.Intent {
			inHits++
		}
	}
	if r.InScope > 0 {
		r.InScopeAccuracy = float64(inHits) / float64(r.InScope)
	}
	r.Accuracy = Accuracy(gold, pred)
	r.MacroF1 = MacroF1(gold, pred)
	r.OOSPrecision, r.OOSRecall = OOSPrecisionRecall(gold, pred)
	r.ECE = ExpectedCalibrationError(conf, correct, ECEBins)
	r.LatencyP50, r.LatencyP99 = Percentile(lat, 50), Percentile(lat, 99)
	return r, nil
}

// String renders the report as the lines `yanit eval intents` prints.
func (r IntentReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "train examples     %d (%d intents)\n", r.TrainExamples, r.Intents)
	fmt.Fprintf(&b, "test examples      %d in scope, %d out of scope\n", r.InScope, r.OutOfScope)
	fmt.Fprintf(&b, "in-scope accuracy  %.2f%%\n", 100*r.InScopeAccuracy)
	fmt.Fprintf(&b, "accuracy (all)     %.2f%%\n", 100*r.Accuracy)
	fmt.Fprintf(&b, "macro-F1           %.2f%%\n", 100*r.MacroF1)
	if r.OutOfScope > 0 || r.OOSPrecision > 0 {
		fmt.Fprintf(&b, "oos recall         %.2f%%\n", 100*r.OOSRecall)
		fmt.Fprintf(&b, "oos precision      %.2f%%\n", 100*r.OOSPrecision)
	}
	fmt.Fprintf(&b, "ECE (%d bins)      %.4f\n", ECEBins, r.ECE)
	fmt.Fprintf(&b, "temperature        %.3f\n", r.Temperature)
	fmt.Fprintf(&b, "threshold          %.3f\n", r.Threshold)
	fmt.Fprintf(&b, "training time      %s\n", r.TrainTime.Round(time.Millisecond))
	fmt.Fprintf(&b, "classify latency   p50 %s, p99 %s\n", r.LatencyP50.Round(time.Microsecond), r.LatencyP99.Round(time.Microsecond))
	return b.String()
}
