package eval

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/llm/local"
)

// Metric names, the keys of Report.Metrics. Rates are in [0, 1].
const (
	// MetricIntentAccuracy is the share of turns with an expected intent
	// (none included) that recorded it.
	MetricIntentAccuracy = "intent_accuracy"
	// MetricIntentMacroF1 is the mean F1 over the intents expected or
	// recorded on those turns (llm/local.MacroF1).
	MetricIntentMacroF1 = "intent_macro_f1"
	// MetricECE is the expected calibration error of the confidence on the
	// turns expecting a real intent (llm/local.ExpectedCalibrationError, 15
	// bins): a turn is right when the intent the confidence belongs to (the
	// top candidate of the trace, even under the threshold) is the one
	// expected, as llm/local measures it; lower is better.
	MetricECE = "ece"
	// MetricHandoffPrecision is the share of handoffs that were expected,
	// over the turns whose expectations say whether to hand off.
	MetricHandoffPrecision = "handoff_precision"
	// MetricHandoffRecall is the share of expected handoffs that happened.
	MetricHandoffRecall = "handoff_recall"
	// MetricToolExactMatch is the share of expected tool calls made with
	// that tool and every expected argument.
	MetricToolExactMatch = "tool_exact_match"
	// MetricSlotF1 is the micro F1 of the expected slots: a right value is
	// a true positive, a wrong one a false positive and a false negative, a
	// missing one a false negative. Slots no expectation names are not
	// counted.
	MetricSlotF1 = "slot_f1"
	// MetricReplyPassRate is the share of reply checks (each contains,
	// not_contains and matches) that passed.
	MetricReplyPassRate = "reply_pass_rate"
	// MetricTurnPassRate is the share of turns that met every expectation.
	MetricTurnPassRate = "turn_pass_rate"
	// MetricCasePassRate is the share of cases whose every turn passed.
	MetricCasePassRate = "case_pass_rate"
	// MetricRetrievalHit1, MetricRetrievalHitK and MetricRetrievalMRR
	// measure the knowledge search on the turns that name documents to
	// cite (cites): the share whose document is the first hit, is among
	// the hits the assistant retrieved (its search limit, 3), and the mean
	// reciprocal rank of the document among them (0 when missing).
	MetricRetrievalHit1 = "retrieval_hit_at_1"
	MetricRetrievalHitK = "retrieval_hit_at_k"
	MetricRetrievalMRR  = "retrieval_mrr"
	// MetricLatencyP50 and MetricLatencyP95 are percentiles of the turn's
	// time in the pipeline, in milliseconds; lower is better.
	MetricLatencyP50 = "latency_p50_ms"
	MetricLatencyP95 = "latency_p95_ms"
)

// metricInfo says how a metric reads and how the gate treats it.
type metricInfo struct {
	title string
	// lower marks a metric where lower is better.
	lower bool
	// rate marks a share in [0, 1], compared in percentage points; the
	// others are compared in their own unit.
	rate bool
	// gated metrics fail the gate on any drop unless a limit allows it;
	// the others only when a limit names them.
	gated bool
}

var metricInfos = map[string]metricInfo{
	MetricIntentAccuracy:   {title: "intent accuracy", rate: true, gated: true},
	MetricIntentMacroF1:    {title: "intent macro-F1", rate: true, gated: true},
	MetricECE:              {title: "calibration error (ECE)", rate: true, lower: true, gated: true},
	MetricHandoffPrecision: {title: "handoff precision", rate: true, gated: true},
	MetricHandoffRecall:    {title: "handoff recall", rate: true, gated: true},
	MetricToolExactMatch:   {title: "tool calls exact", rate: true, gated: true},
	MetricSlotF1:           {title: "slot F1", rate: true, gated: true},
	MetricReplyPassRate:    {title: "reply checks passed", rate: true, gated: true},
	MetricTurnPassRate:     {title: "turns passed", rate: true, gated: true},
	MetricCasePassRate:     {title: "cases passed", rate: true, gated: true},
	MetricRetrievalHit1:    {title: "retrieval hit@1", rate: true, gated: true},
	MetricRetrievalHitK:    {title: "retrieval hit@k", rate: true, gated: true},
	MetricRetrievalMRR:     {title: "retrieval MRR", rate: true, gated: true},
	MetricLatencyP50:       {title: "turn latency p50 (ms)", lower: true},
	MetricLatencyP95:       {title: "turn latency p95 (ms)", lower: true},
}

// metricOrder is the order reports list metrics in.
var metricOrder = []string{
	MetricCasePassRate, MetricTurnPassRate, MetricIntentAccuracy, MetricIntentMacroF1, MetricECE,
	MetricHandoffPrecision, MetricHandoffRecall, MetricToolExactMatch, MetricSlotF1, MetricReplyPassRate,
	MetricRetrievalHit1, MetricRetrievalHitK, MetricRetrievalMRR, MetricLatencyP50, MetricLatencyP95,
}

// Confusion counts expected intents (rows) against recorded ones
// (columns) on the turns expecting an intent; NoIntent labels none.
type Confusion struct {
	Labels []string `json:"labels"`
	// Counts[i][j] is the number of turns expecting Labels[i] that recorded
	// Labels[j].
	Counts [][]int `json:"counts"`
}

// Percentiles of a latency, in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	N   int     `json:"n"`
}

// measure computes the report's metrics from the cases' turns. A metric
// nothing measured (no turn expects a tool, say) is left out.
func (r *Report) measure(runs []caseRun) {
	r.Metrics, r.Support = map[string]float64{}, map[string]int{}
	set := func(name string, v float64, n int) {
		if n > 0 {
			r.Metrics[name], r.Support[name] = v, n
		}
	}
	var (
		gold, pred            []string
		conf                  []float64
		correct               []bool
		hTP, hFP, hFN         int
		toolHits, toolN       int
		slotTP, slotFP, slotN int
		slotFN                int
		replyOK, replyN       int
		hit1, hitK, retN      int
		tokens                Tokens
		rr                    float64
		turnsOK, turnsN       int
		casesOK               int
		latency               []time.Duration
		stages                = map[string][]time.Duration{}
	)
	for _, c := range runs {
		if c.result.Passed {
			casesOK++
		}
		for i, t := range c.turns {
			turnsN++
			if c.result.Turns[i].Passed {
				turnsOK++
			}
			if !t.ran {
				continue
			}
			e, o := t.expect, t.obs
			latency = append(latency, msDuration(o.turn.LatencyMS))
			tokens.Prompt += o.trace.Usage.PromptTokens
			tokens.Completion += o.trace.Usage.CompletionTokens
			for stage, v := range o.trace.StagesMS {
				stages[stage] = append(stages[stage], msDuration(v))
			}
			if e.Intent != nil {
				g, p := label(*e.Intent), label(o.turn.Intent)
				gold, pred = append(gold, g), append(pred, p)
				if g != NoIntent {
					conf = append(conf, o.turn.Confidence)
					correct = append(correct, g == label(confidentIntent(o)))
				}
			}
			if want, known := expectsHandoff(e); known {
				got := o.turn.Decision == assistant.DecisionHandoff
				switch {
				case want && got:
					hTP++
				case got:
					hFP++
				case want:
					hFN++
				}
			}
			if e.Tool != nil {
				toolN++
				if toolMismatch(e.Tool, o.trace.Tools) == "" {
					toolHits++
				}
			}
			for k, want := range e.Slots {
				slotN++
				switch got, ok := o.trace.Slots[k]; {
				case !ok:
					slotFN++
				case got == want:
					slotTP++
				default:
					slotFP++
					slotFN++
				}
			}
			for _, doc := range e.Cites {
				retN++
				if k := slices.IndexFunc(o.trace.Retrieved, func(s assistant.Source) bool { return cites([]assistant.Source{s}, doc) }); k >= 0 {
					hitK++
					rr += 1 / float64(k+1)
					if k == 0 {
						hit1++
					}
				}
			}
			if rc := e.Reply; rc != nil {
				text := replyText(o.messages)
				for _, s := range rc.Contains {
					replyN++
					if strings.Contains(text, s) {
						replyOK++
					}
				}
				for _, s := range rc.NotContains {
					replyN++
					if !strings.Contains(text, s) {
						replyOK++
					}
				}
				if rc.re != nil {
					replyN++
					if rc.re.MatchString(text) {
						replyOK++
					}
				}
			}
		}
	}
	r.Counts = Counts{Cases: len(runs), CasesPassed: casesOK, Turns: turnsN, TurnsPassed: turnsOK}
	set(MetricCasePassRate, ratio(casesOK, len(runs)), len(runs))
	set(MetricTurnPassRate, ratio(turnsOK, turnsN), turnsN)
	if len(gold) > 0 {
		set(MetricIntentAccuracy, local.Accuracy(gold, pred), len(gold))
		set(MetricIntentMacroF1, local.MacroF1(gold, pred), len(gold))
		r.Confusion = confusion(gold, pred)
	}
	set(MetricECE, local.ExpectedCalibrationError(conf, correct, local.ECEBins), len(conf))
	r.Reliability = reliability(conf, correct, local.ECEBins)
	set(MetricHandoffPrecision, ratio(hTP, hTP+hFP), hTP+hFP)
	set(MetricHandoffRecall, ratio(hTP, hTP+hFN), hTP+hFN)
	set(MetricToolExactMatch, ratio(toolHits, toolN), toolN)
	if slotN > 0 {
		set(MetricSlotF1, ratio(2*slotTP, 2*slotTP+slotFP+slotFN), slotN)
	}
	set(MetricReplyPassRate, ratio(replyOK, replyN), replyN)
	set(MetricRetrievalHit1, ratio(hit1, retN), retN)
	set(MetricRetrievalHitK, ratio(hitK, retN), retN)
	if retN > 0 {
		set(MetricRetrievalMRR, rr/float64(retN), retN)
	}
	set(MetricLatencyP50, ms(local.Percentile(latency, 50)), len(latency))
	set(MetricLatencyP95, ms(local.Percentile(latency, 95)), len(latency))
	if tokens.Prompt+tokens.Completion > 0 {
		r.Tokens = &tokens
	}
	r.Latency = map[string]Percentiles{}
	for stage, ds := range stages {
		r.Latency[stage] = Percentiles{P50: ms(local.Percentile(ds, 50)), P95: ms(local.Percentile(ds, 95)), N: len(ds)}
	}
}

// confidentIntent is the intent whose probability the turn's confidence
// is: the classifier's top candidate when the confidence is its, even if
// the turn recorded no intent because it was under the threshold
// (calibration is the classifier's, rejection aside, as llm/local
// measures it); else the intent recorded.
func confidentIntent(o observation) string {
	if c := o.trace.Candidates; len(c) > 0 && c[0].Confidence == o.turn.Confidence {
		return c[0].Intent
	}
	return o.turn.Intent
}

// expectsHandoff says whether a turn's expectations want a handoff, and
// whether they say at all: a decision list that allows both a handoff and
// something else does not.
func expectsHandoff(e *Expect) (want, known bool) {
	if e.HandoffReason != "" {
		return true, true
	}
	if len(e.Decision) == 0 {
		return false, false
	}
	has := slices.Contains(e.Decision, assistant.DecisionHandoff)
	if has && len(e.Decision) > 1 {
		return false, false
	}
	return has, true
}

// Bin is one confidence bin of a reliability diagram: the turns whose
// confidence is in [Lo, Hi) (the last bin includes 1), their mean
// confidence and the share of them that recorded the expected intent.
type Bin struct {
	Lo         float64 `json:"lo"`
	Hi         float64 `json:"hi"`
	N          int     `json:"n"`
	Confidence float64 `json:"confidence"`
	Accuracy   float64 `json:"accuracy"`
}

// reliability bins confidences as llm/local.ExpectedCalibrationError does,
// keeping the non-empty bins.
func reliability(conf []float64, correct []bool, bins int) []Bin {
	all := make([]Bin, bins)
	hits := make([]int, bins)
	for i, c := range conf {
		b := min(max(int(c*float64(bins)), 0), bins-1)
		all[b].N++
		all[b].Confidence += c
		if correct[i] {
			hits[b]++
		}
	}
	var out []Bin
	for b, bin := range all {
		if bin.N == 0 {
			continue
		}
		bin.Lo, bin.Hi = float64(b)/float64(bins), float64(b+1)/float64(bins)
		bin.Confidence /= float64(bin.N)
		bin.Accuracy = float64(hits[b]) / float64(bin.N)
		out = append(out, bin)
	}
	return out
}

func confusion(gold, pred []string) *Confusion {
	index := map[string]int{}
	for _, l := range append(slices.Clone(gold), pred...) {
		index[l] = 0
	}
	c := &Confusion{Labels: slices.Sorted(maps.Keys(index))}
	for i, l := range c.Labels {
		index[l] = i
	}
	c.Counts = make([][]int, len(c.Labels))
	for i := range c.Counts {
		c.Counts[i] = make([]int, len(c.Labels))
	}
	for i := range gold {
		c.Counts[index[gold[i]]][index[pred[i]]]++
	}
	return c
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

func msDuration(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// InScope returns what yanit eval intents calls in-scope accuracy (the
// share of turns expecting a real intent that recorded it) and
// out-of-scope recall (the share of turns expecting none that recorded
// none), from the matrix. A share with nothing to count is 0.
func (c *Confusion) InScope() (accuracy, oosRecall float64) {
	var hits, n, oosHits, oosN int
	for i, l := range c.Labels {
		row := 0
		for _, v := range c.Counts[i] {
			row += v
		}
		if l == NoIntent {
			oosHits, oosN = c.Counts[i][i], row
			continue
		}
		hits, n = hits+c.Counts[i][i], n+row
	}
	return ratio(hits, n), ratio(oosHits, oosN)
}
