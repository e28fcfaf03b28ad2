package eval

import (
	"testing"

	"github.com/yanit/yanit/assistant"
)

// The retrieval metrics read where the named document ranks among the
// hits the assistant retrieved, on the turns that name one.
func TestRetrievalMetrics(t *testing.T) {
	turn := func(cites []string, retrieved ...string) turnRun {
		var o observation
		for _, c := range retrieved {
			o.trace.Retrieved = append(o.trace.Retrieved, assistant.Source{Citation: c})
		}
		return turnRun{expect: &Expect{Cites: cites}, obs: o, ran: true}
	}
	run := caseRun{
		result: CaseResult{Passed: true, Turns: make([]TurnResult, 4)},
		turns: []turnRun{
			turn([]string{"hours.tr"}, "hours.tr#2", "returns.tr#1"),           // first: rank 1
			turn([]string{"returns.tr#3"}, "hours.tr#1", "returns.tr#3"),       // a full citation, rank 2
			turn([]string{"delivery.tr"}, "hours.tr#1", "returns.tr#1", "x#1"), // missing
			turn(nil, "hours.tr#1"), // names nothing: not counted
		},
	}
	var r Report
	r.measure([]caseRun{run})
	for name, want := range map[string]float64{
		MetricRetrievalHit1: 1.0 / 3, MetricRetrievalHitK: 2.0 / 3, MetricRetrievalMRR: (1 + 0.5 + 0) / 3,
	} {
		if got := r.Metrics[name]; got < want-1e-9 || got > want+1e-9 || r.Support[name] != 3 {
			t.Errorf("%s = %v over %d turns, want %v over 3", name, got, r.Support[name], want)
		}
	}
}

// With a model, the report sums its tokens; prices give their cost.
func TestTokensAndCost(t *testing.T) {
	turn := func(prompt, completion int) turnRun {
		var o observation
		o.trace.Usage.PromptTokens, o.trace.Usage.CompletionTokens = prompt, completion
		return turnRun{expect: &Expect{}, obs: o, ran: true}
	}
	var r Report
	r.measure([]caseRun{{result: CaseResult{Turns: make([]TurnResult, 2)}, turns: []turnRun{turn(1200, 80), turn(800, 20)}}})
	if r.Tokens == nil || r.Tokens.Prompt != 2000 || r.Tokens.Completion != 100 {
		t.Fatalf("tokens = %+v, want 2000 prompt and 100 completion", r.Tokens)
	}
	// $2.50 per million prompt tokens and $10 per million completion ones.
	if got := r.Tokens.cost(Prices{Prompt: 2.5, Completion: 10}); got < 0.005999 || got > 0.006001 {
		t.Errorf("cost = %v, want 0.006", got)
	}
	var none Report
	none.measure([]caseRun{{result: CaseResult{Turns: make([]TurnResult, 1)}, turns: []turnRun{turn(0, 0)}}})
	if none.Tokens != nil {
		t.Errorf("the local provider's run reports tokens %+v", none.Tokens)
	}
}
