package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/yanit/yanit/llm/local"
)

// Dataset formats of yanit eval intents.
const (
	formatCLINC150 = "clinc150"
	formatCSV      = "csv"
)

func newEvalCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Measure the assistant's models on labelled data",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newEvalIntentsCmd(g))
	return cmd
}

// intentsFlags are the flags of yanit eval intents.
type intentsFlags struct {
	train, test, validation string
	format, oosLabel        string
	seed                    uint64
	json                    bool
}

func newEvalIntentsCmd(g *globals) *cobra.Command {
	var f intentsFlags
	cmd := &cobra.Command{
		Use:   "intents",
		Short: "Train the local intent classifier on one labelled set and score it on another",
		Long: "Train the local intent classifier (llm/local) on --train, choose its out-of-scope threshold on\n" +
			"--validation, and report accuracy, out-of-scope recall and precision, macro-F1, calibration\n" +
			"error and latency on --test. Needs no config file and no database.\n\n" +
			"Formats:\n" +
			"  clinc150  a CLINC150 file such as data_full.json: --train reads its \"train\" split, --test its\n" +
			"            \"test\" and \"oos_test\" splits, --validation (default: the --train file) its \"val\"\n" +
			"            and \"oos_val\" splits. Pass the same file to --train and --test.\n" +
			"  csv       a header row, then one utterance and its intent per row; rows whose intent is\n" +
			"            --oos-label are out of scope (allowed in --test and --validation only).",
		Example: "  yanit eval intents --format clinc150 --train data_full.json --test data_full.json\n" +
			"  yanit eval intents --format csv --train train.csv --test test.csv --validation val.csv --json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return evalIntents(cmd.Context(), g, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.train, "train", "", "labelled examples to train on (required)")
	fl.StringVar(&f.test, "test", "", "labelled examples to score (required)")
	fl.StringVar(&f.validation, "validation", "", "labelled examples, out-of-scope ones included, to choose the threshold on")
	fl.StringVar(&f.format, "format", formatCSV, "format of the files: clinc150 or csv")
	fl.StringVar(&f.oosLabel, "oos-label", local.OutOfScope, "intent label of out-of-scope rows in csv files")
	fl.Uint64Var(&f.seed, "seed", 1, "training seed: the same data and seed give the same numbers")
	fl.BoolVar(&f.json, "json", false, "print the report as one JSON object")
	return cmd
}

// evalIntents loads the data, evaluates the classifier and prints the report.
func evalIntents(ctx context.Context, g *globals, f intentsFlags) error {
	if f.train == "" {
		return errors.New("--train is required: the labelled examples to train on")
	}
	if f.test == "" {
		return errors.New("--test is required: the labelled examples to score")
	}
	if f.format != formatCLINC150 && f.format != formatCSV {
		return fmt.Errorf("--format %q is not %s or %s", f.format, formatCLINC150, formatCSV)
	}
	if f.oosLabel == "" {
		return errors.New("--oos-label must not be empty")
	}
	data, err := loadIntentData(f)
	if err != nil {
		return err
	}
	if !f.json {
		fmt.Fprintf(g.stderr, "training on %d examples of %d intents (seed %d)…\n",
			len(data.train), data.intents, f.seed)
	}

	// EvaluateIntents cannot be interrupted; run it aside so that Ctrl-C
	// ends the command at once instead of after training.
	type result struct {
		report local.IntentReport
		err    error
	}
	done := make(chan result, 1)
	go func() {
		r, err := local.EvaluateIntents(data.train, data.test, local.EvalOptions{
			Train:      local.TrainOptions{Seed: f.seed},
			Validation: data.validation,
		})
		done <- result{r, err}
	}()
	var res result
	select {
	case <-ctx.Done():
		return fmt.Errorf("evaluating intents: %w", ctx.Err())
	case res = <-done:
	}
	if res.err != nil {
		return res.err
	}

	if f.json {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(newIntentReportJSON(res.report, f.seed))
	}
	_, err = fmt.Fprintf(g.stdout, "%s\n%s", data.describe, res.report)
	return err
}

// intentData is what yanit eval intents evaluates on.
type intentData struct {
	train, test, validation []local.Example
	intents                 int    // distinct intents of train
	describe                string // where each part came from, for the report
}

// CLINC150 splits each flag reads.
var (
	clincTrainSplits      = []string{local.CLINCTrain}
	clincTestSplits       = []string{local.CLINCTest, local.CLINCOOSTest}
	clincValidationSplits = []string{local.CLINCVal, local.CLINCOOSVal}
)

// loadIntentData reads the files the flags name. Errors name the flag.
func loadIntentData(f intentsFlags) (intentData, error) {
	var d intentData
	valPath := f.validation
	if f.format == formatCLINC150 && valPath == "" {
		valPath = f.train // a CLINC150 file carries its own validation splits
	}
	var err error
	if d.train, err = loadExamples(f, "--train", f.train, clincTrainSplits); err != nil {
		return d, err
	}
	if d.test, err = loadExamples(f, "--test", f.test, clincTestSplits); err != nil {
		return d, err
	}
	if valPath != "" {
		if d.validation, err = loadExamples(f, "--validation", valPath, clincValidationSplits); err != nil {
			return d, err
		}
	}

	var intents []string
	oos := 0
	for _, e := range d.train {
		if e.Intent == local.OutOfScope {
			oos++
		} else if !slices.Contains(intents, e.Intent) {
			intents = append(intents, e.Intent)
		}
	}
	if oos > 0 {
		return d, fmt.Errorf("--train %s: examples labelled out of scope (%q): %d; the classifier learns out of scope "+
			"from its threshold, not from examples: move them to --validation", f.train, f.oosLabel, oos)
	}
	if len(intents) < 2 {
		return d, fmt.Errorf("--train %s: need at least 2 intents, found %d (%s)", f.train, len(intents), strings.Join(intents, ", "))
	}
	if len(d.test) == 0 {
		return d, fmt.Errorf("--test %s: no examples", f.test)
	}
	d.intents = len(intents)

	source := func(role, path string, splits []string) string {
		if f.format == formatCLINC150 {
			return fmt.Sprintf("%s %s (%s)", role, path, strings.Join(splits, "+"))
		}
		return role + " " + path
	}
	parts := []string{source("train", f.train, clincTrainSplits), source("test", f.test, clincTestSplits)}
	if valPath != "" {
		parts = append(parts, source("validation", valPath, clincValidationSplits))
	} else {
		parts = append(parts, fmt.Sprintf("no validation (threshold %.2f)", local.DefaultThreshold))
	}
	d.describe = fmt.Sprintf("%s, seed %d\n", strings.Join(parts, ", "), f.seed)
	return d, nil
}

// loadExamples reads one file in the chosen format: the given splits of a
// CLINC150 file, or a csv file whose --oos-label rows become out of scope.
func loadExamples(f intentsFlags, flag, path string, splits []string) ([]local.Example, error) {
	if f.format == formatCSV {
		es, err := local.LoadCSV(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		for i := range es {
			if es[i].Intent == f.oosLabel {
				es[i].Intent = local.OutOfScope
			}
		}
		return es, nil
	}
	var out []local.Example
	for _, split := range splits {
		es, err := local.LoadCLINC150(path, split)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		out = append(out, es...)
	}
	return out, nil
}

// intentReportJSON is the report of yanit eval intents --json. Rates are in
// [0, 1].
type intentReportJSON struct {
	InScopeAccuracy float64 `json:"in_scope_accuracy"`
	Accuracy        float64 `json:"accuracy"`
	OOSRecall       float64 `json:"oos_recall"`
	OOSPrecision    float64 `json:"oos_precision"`
	MacroF1         float64 `json:"macro_f1"`
	ECE             float64 `json:"ece"`
	Threshold       float64 `json:"threshold"`
	Temperature     float64 `json:"temperature"`
	TrainSeconds    float64 `json:"train_seconds"`
	LatencyP50MS    float64 `json:"latency_p50_ms"`
	LatencyP99MS    float64 `json:"latency_p99_ms"`
	TrainExamples   int     `json:"train_examples"`
	Intents         int     `json:"intents"`
	InScope         int     `json:"in_scope"`
	OutOfScope      int     `json:"out_of_scope"`
	Seed            uint64  `json:"seed"`
}

func newIntentReportJSON(r local.IntentReport, seed uint64) intentReportJSON {
	return intentReportJSON{
		InScopeAccuracy: r.InScopeAccuracy,
		Accuracy:        r.Accuracy,
		OOSRecall:       r.OOSRecall,
		OOSPrecision:    r.OOSPrecision,
		MacroF1:         r.MacroF1,
		ECE:             r.ECE,
		Threshold:       r.Threshold,
		Temperature:     r.Temperature,
		TrainSeconds:    r.TrainTime.Seconds(),
		LatencyP50MS:    float64(r.LatencyP50) / float64(time.Millisecond),
		LatencyP99MS:    float64(r.LatencyP99) / float64(time.Millisecond),
		TrainExamples:   r.TrainExamples,
		Intents:         r.Intents,
		InScope:         r.InScope,
		OutOfScope:      r.OutOfScope,
		Seed:            seed,
	}
}
