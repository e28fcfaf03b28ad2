package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/eval"
	"github.com/yanit/yanit/llm/local"
	"github.com/yanit/yanit/store"
)

// Dataset formats of yanit eval intents.
const (
	formatCLINC150 = "clinc150"
	formatCSV      = "csv"
)

func newEvalCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Run QA suites against the assistant, compare with a baseline, measure its models",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newEvalIntentsCmd(g), newEvalRunCmd(g), newEvalCompareCmd(g), newEvalImportCmd(g))
	return cmd
}

func newEvalImportCmd(g *globals) *cobra.Command {
	var format, name, lang, oos string
	cmd := &cobra.Command{
		Use:   "import FILE --format csv|jsonl|clinc150",
		Short: "Turn labelled utterances into a suite of single-turn cases, written as YAML on stdout",
		Long: "import reads (utterance, intent) pairs — CSV with a header row, JSON Lines of\n" +
			"{\"text\", \"intent\"}, or CLINC150's data_full.json (its test and oos_test splits) — and\n" +
			"writes a suite where each utterance must get its intent, and an out-of-scope one no intent\n" +
			"and the fallback or a handoff. Keep it, edit it, run it with yanit eval run.",
		Example: "  yanit eval import ../shared/datasets/clinc150/data_full.json --format clinc150 > clinc150.yaml",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := eval.ImportOptions{Name: name, Language: lang, OutOfScope: oos}
			var s *eval.Suite
			var err error
			switch format {
			case "csv":
				s, err = eval.FromCSV(args[0], o)
			case "jsonl":
				s, err = eval.FromJSONL(args[0], o)
			case "clinc150":
				s, err = eval.FromCLINC150(args[0], nil, o)
			default:
				return fmt.Errorf("--format %q: want csv, jsonl or clinc150", format)
			}
			if err != nil {
				return err
			}
			return eval.WriteYAML(g.stdout, s)
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "csv, jsonl or clinc150 (required)")
	cmd.Flags().StringVar(&name, "name", "", "the suite's name (default: the file's)")
	cmd.Flags().StringVar(&lang, "language", "", "the users' language (tr, en)")
	cmd.Flags().StringVar(&oos, "oos-label", "", "the label of out-of-scope utterances (default: oos)")
	_ = cmd.MarkFlagRequired("format")
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

// runFlags are the flags of yanit eval run.
type runFlags struct {
	concurrency   int
	out, baseline string
	maxDrop       []string
	allowFailures bool
	prices        eval.Prices
	databaseURL   string
	seed          uint64
}

func newEvalRunCmd(g *globals) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run SUITE...",
		Short: "Run eval suites through the assistant's pipeline and gate on a baseline",
		Long: "run plays every case of each suite (YAML, see the eval package's documentation and\n" +
			"configs/eval/demo.yaml) as a new WhatsApp user through the same pipeline as yanit serve, on a\n" +
			"new embedded store, with the configured model provider (local by default), and checks each\n" +
			"turn: intent, confidence, slots, decision, handoff reason, tool call, reply text, citations,\n" +
			"language, message kind and WhatsApp's limits. It prints a summary with the metrics, and with\n" +
			"--out writes results.json (the baseline format), junit.xml and report.html (one self-contained\n" +
			"page: metrics, confusion matrix, reliability diagram, F1 per intent, failed cases with traces).\n\n" +
			"It exits non-zero when a case fails (unless --allow-failures) and, with --baseline, when a\n" +
			"metric dropped more than allowed: rates may not drop at all unless --max-drop allows it in\n" +
			"percentage points; latencies (ms) are gated only when --max-drop names them.",
		Example: "  yanit eval run configs/eval/demo.yaml\n" +
			"  yanit eval run configs/eval/*.yaml --out eval-out --baseline eval-baseline.json --max-drop intent_accuracy=2 --max-drop latency_p95_ms=50",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return evalRun(cmd.Context(), g, f, args) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.concurrency, "concurrency", 0, "cases run at once (0: the number of CPUs, at most 8)")
	fl.StringVar(&f.out, "out", "", "folder to write results.json, junit.xml and report.html to")
	fl.StringVar(&f.baseline, "baseline", "", "results.json of an earlier run to compare with")
	fl.StringSliceVar(&f.maxDrop, "max-drop", nil, "metric=amount: the largest drop allowed (percentage points for rates, ms for latencies); repeatable")
	fl.BoolVar(&f.allowFailures, "allow-failures", false, "exit 0 even when cases fail (the baseline still gates)")
	fl.Uint64Var(&f.seed, "seed", 0, "train the assistant's classifier with this seed (0: the definition's understanding.seed)")
	fl.StringVar(&f.databaseURL, "database-url", "", "run on this PostgreSQL database, in a schema of its own dropped at the end, instead of a new SQLite file")
	fl.Float64Var(&f.prices.Prompt, "price-prompt", 0, "the model's price per million prompt tokens (USD), to estimate the run's cost")
	fl.Float64Var(&f.prices.Completion, "price-completion", 0, "the model's price per million completion tokens (USD)")
	return cmd
}

// evalRun loads every suite and the baseline first, so that a typo fails
// before minutes of running, then runs the suites one after the other.
func evalRun(ctx context.Context, g *globals, f runFlags, paths []string) error {
	if f.concurrency < 0 {
		return fmt.Errorf("--concurrency %d: must be 0 or more", f.concurrency)
	}
	limits, err := eval.ParseLimits(f.maxDrop)
	if err != nil {
		return fmt.Errorf("--max-drop: %w", err)
	}
	var base eval.Results
	if f.baseline != "" {
		if base, err = eval.ReadJSONFile(f.baseline); err != nil {
			return fmt.Errorf("--baseline: %w", err)
		}
	}
	suites := make([]*eval.Suite, len(paths))
	names := map[string]string{}
	for i, p := range paths {
		if suites[i], err = eval.LoadSuite(p); err != nil {
			return err
		}
		if first, ok := names[suites[i].Name]; ok {
			return fmt.Errorf("suites %s and %s are both named %q: reports and baselines match suites by name", first, p, suites[i].Name)
		}
		names[suites[i].Name] = p
	}
	cfg, err := loadDevConfig(g)
	if err != nil {
		return err
	}
	log := newLogger(g.stderr, config.Log{Level: "warn", Format: cfg.Log.Format}, cfg.Privacy)
	provider, err := newProvider(cfg.LLM, log)
	if err != nil {
		return err
	}
	var reports []eval.Report
	for _, s := range suites {
		r, err := runSuite(ctx, g, cfg, provider, log, s, f)
		if err != nil {
			return err
		}
		if err := eval.WriteSummary(g.stdout, r); err != nil {
			return err
		}
		fmt.Fprintln(g.stdout)
		reports = append(reports, r)
	}
	if f.out != "" {
		if err := writeEvalOut(f.out, reports); err != nil {
			return err
		}
		fmt.Fprintf(g.stderr, "wrote %s, %s and %s\n", filepath.Join(f.out, "results.json"), filepath.Join(f.out, "junit.xml"),
			filepath.Join(f.out, "report.html"))
	}

	var errs []error
	if f.baseline != "" {
		cmp := eval.Compare(base.Suites, reports, limits)
		fmt.Fprintf(g.stdout, "compared with %s:\n", f.baseline)
		if err := cmp.Write(g.stdout); err != nil {
			return err
		}
		if regs := cmp.Regressions(); len(regs) > 0 {
			errs = append(errs, regressionError(regs))
		}
	}
	failed, total := 0, 0
	for _, r := range reports {
		failed += r.Counts.Cases - r.Counts.CasesPassed
		total += r.Counts.Cases
	}
	if failed > 0 && !f.allowFailures {
		errs = append(errs, fmt.Errorf("%d of %d cases failed (--allow-failures exits 0 anyway)", failed, total))
	}
	return errors.Join(errs...)
}

// runSuite runs one suite on the assistant it names, built as yanit chat
// builds the configured one: the same toolbox (the demo backend for the
// demo), model provider and knowledge loading, on the run's store.
func runSuite(ctx context.Context, g *globals, cfg config.Config, provider models, log *slog.Logger, s *eval.Suite, f runFlags) (eval.Report, error) {
	a, err := suiteAssistant(cfg, s)
	if err != nil {
		return eval.Report{}, err
	}
	acfg := cfg
	acfg.Assistants = []config.Assistant{a}
	box, err := newToolbox(acfg, log, prometheus.NewRegistry())
	if err != nil {
		return eval.Report{}, err
	}
	defer box.close()
	bar := progressbar.NewOptions(len(s.Cases),
		progressbar.OptionSetWriter(g.stderr),
		progressbar.OptionSetDescription("suite "+s.Name),
		progressbar.OptionSetVisibility(isTerminal(g.stderr)),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
	)
	defer bar.Finish()
	return eval.Run(ctx, s, eval.Options{
		Assistant: func(ctx context.Context, st store.Store) (assistant.Responder, error) {
			e, err := newEngine(ctx, a, provider, detectors(cfg.Privacy), box.registry, st, log)
			if err != nil || f.seed == 0 || f.seed == e.Definition().Understanding.Seed {
				return e, err
			}
			def := *e.Definition()
			def.Understanding.Seed = f.seed
			return assistant.NewEngine(&def, e.Deps())
		},
		Seed:        f.seed,
		Concurrency: f.concurrency,
		Provider:    cfg.LLM.Provider,
		Prices:      f.prices,
		DatabaseURL: f.databaseURL,
		Progress:    func(int, int, eval.CaseResult) { _ = bar.Add(1) },
		Logger:      log,
	})
}

// suiteAssistant is the assistant a suite evaluates: the demo retailer,
// or its definition file under the name the config gives that file (the
// collection its knowledge goes to), else the definition's own name.
func suiteAssistant(cfg config.Config, s *eval.Suite) (config.Assistant, error) {
	if s.Assistant == "" {
		return config.Assistant{Name: "demo"}, nil
	}
	for _, a := range cfg.Assistants {
		if a.File != "" && filepath.Clean(a.File) == filepath.Clean(s.Assistant) {
			a.KnowledgeDir = s.Knowledge
			return a, nil
		}
	}
	data, err := os.ReadFile(s.Assistant)
	if err != nil {
		return config.Assistant{}, fmt.Errorf("suite %s: assistant: %w", s.Name, err)
	}
	def, err := assistant.LoadDefinition(data)
	if err != nil {
		return config.Assistant{}, fmt.Errorf("suite %s: assistant %s: %w", s.Name, s.Assistant, err)
	}
	return config.Assistant{Name: def.Name, File: s.Assistant, KnowledgeDir: s.Knowledge}, nil
}

// writeEvalOut writes results.json, junit.xml and report.html into dir.
func writeEvalOut(dir string, reports []eval.Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	for name, write := range map[string]func(io.Writer, []eval.Report) error{
		"results.json": eval.WriteJSON, "junit.xml": eval.WriteJUnit, "report.html": eval.WriteHTML,
	} {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		err = write(f, reports)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
	}
	return nil
}

// regressionError names every metric that dropped too far.
func regressionError(regs []eval.Diff) error {
	lines := make([]string, len(regs))
	for i, d := range regs {
		lines[i] = "  " + d.String()
	}
	noun := "metric"
	if len(regs) > 1 {
		noun = "metrics"
	}
	return fmt.Errorf("gate: %d %s dropped more than allowed:\n%s", len(regs), noun, strings.Join(lines, "\n"))
}

func newEvalCompareCmd(g *globals) *cobra.Command {
	var maxDrop []string
	cmd := &cobra.Command{
		Use:   "compare BASELINE.json CURRENT.json",
		Short: "Print the per-metric differences of two eval runs",
		Long: "compare reads two results.json files of yanit eval run and prints, suite by suite, each\n" +
			"metric in both with its change. It exits non-zero when CURRENT dropped more than --max-drop\n" +
			"allows against BASELINE, with the same rules as yanit eval run --baseline.",
		Example: "  yanit eval compare main/results.json branch/results.json --max-drop intent_accuracy=1",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			limits, err := eval.ParseLimits(maxDrop)
			if err != nil {
				return fmt.Errorf("--max-drop: %w", err)
			}
			base, err := eval.ReadJSONFile(args[0])
			if err != nil {
				return err
			}
			cur, err := eval.ReadJSONFile(args[1])
			if err != nil {
				return err
			}
			cmp := eval.Compare(base.Suites, cur.Suites, limits)
			if err := cmp.Write(g.stdout); err != nil {
				return err
			}
			if regs := cmp.Regressions(); len(regs) > 0 {
				return regressionError(regs)
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&maxDrop, "max-drop", nil, "metric=amount: the largest drop allowed (percentage points for rates, ms for latencies); repeatable")
	return cmd
}
