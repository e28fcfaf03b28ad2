package eval_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/eval"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres/pgtest"
)

func TestShopSuitePasses(t *testing.T) {
	s, err := eval.LoadSuite("testdata/shop-suite.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := eval.Run(context.Background(), s, shopOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Failed() {
		t.Errorf("case %q failed: %+v", c.Name, c.Turns)
	}
	if r.Counts != (eval.Counts{Cases: 6, CasesPassed: 6, Turns: 8, TurnsPassed: 8}) {
		t.Errorf("counts %+v", r.Counts)
	}
	// Every metric the suite measures is perfect, and each counts what its
	// expectations name.
	want := map[string]struct {
		v float64
		n int
	}{
		eval.MetricCasePassRate: {1, 6}, eval.MetricTurnPassRate: {1, 8},
		eval.MetricIntentAccuracy: {1, 7}, eval.MetricIntentMacroF1: {1, 7},
		eval.MetricHandoffPrecision: {1, 1}, eval.MetricHandoffRecall: {1, 1},
		eval.MetricToolExactMatch: {1, 2}, eval.MetricSlotF1: {1, 2}, eval.MetricReplyPassRate: {1, 8},
	}
	for name, w := range want {
		if r.Metrics[name] != w.v || r.Support[name] != w.n {
			t.Errorf("%s = %v of %d, want %v of %d", name, r.Metrics[name], r.Support[name], w.v, w.n)
		}
	}
	if ece := r.Metrics[eval.MetricECE]; ece < 0 || ece > 0.1 || r.Support[eval.MetricECE] != 5 {
		t.Errorf("ECE %v of %d turns, want a small error over the 5 turns expecting a real intent", ece, r.Support[eval.MetricECE])
	}
	if r.Metrics[eval.MetricLatencyP95] < r.Metrics[eval.MetricLatencyP50] || r.Metrics[eval.MetricLatencyP50] <= 0 {
		t.Errorf("latency p50 %v, p95 %v", r.Metrics[eval.MetricLatencyP50], r.Metrics[eval.MetricLatencyP95])
	}
	for _, stage := range []string{"understand", "tool", "total"} {
		if p := r.Latency[stage]; p.N == 0 || p.P95 < p.P50 {
			t.Errorf("stage %s latency %+v", stage, p)
		}
	}
	// What each turn did is in the report, with its trace.
	tool := r.Cases[1].Turns[0]
	if tool.Intent != "order_status" || tool.Decision != assistant.DecisionTool || !strings.Contains(string(tool.Trace), `"order_status"`) ||
		len(tool.Replies) != 1 || tool.Replies[0].Kind != "text" || !strings.Contains(tool.Replies[0].Text, "Shipped") {
		t.Errorf("turn record: %+v", tool)
	}
	if tap := r.Cases[3].Turns[1]; tap.Input != "[tap store_hours] Store hours" {
		t.Errorf("a tap reads %q, want the offered title", tap.Input)
	}
	if r.Assistant != "shop" || r.Provider != "local" || r.Concurrency != 3 {
		t.Errorf("assistant %q, provider %q, concurrency %d", r.Assistant, r.Provider, r.Concurrency)
	}

	// The local provider makes runs repeatable.
	again, err := eval.Run(context.Background(), s, shopOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{eval.MetricIntentAccuracy, eval.MetricECE, eval.MetricSlotF1} {
		if again.Metrics[name] != r.Metrics[name] {
			t.Errorf("%s: %v, then %v", name, r.Metrics[name], again.Metrics[name])
		}
	}
	if again.Confusion == nil || !slices.Equal(again.Confusion.Labels, r.Confusion.Labels) {
		t.Errorf("confusion labels %v, then %v", r.Confusion, again.Confusion)
	}
}

func TestFailingCaseIsReportedWithItsReasons(t *testing.T) {
	r := runSuite(t, `
name: failing
cases:
  - name: passes
    turns:
      - text: hello there
        expect: {intent: greeting}
  - name: wrong on purpose
    turns:
      - text: hello there
        expect:
          intent: store_hours
          confidence: {max: 0.3}
          decision: [tool, ask]
          kind: text
          reply: {contains: ["Goodbye"], not_contains: ["Hello"], matches: "^bye"}
          language: tr
      - text: where is my order SP-2026-0002
        expect:
          slots: {order_id: SP-2026-0001}
          tool: {name: order_status, args: {order_id: SP-2026-0001}}
          cites: hours.en
          handoff_reason: person_requested
      - tap: {id: menu}
`)
	if r.Counts != (eval.Counts{Cases: 2, CasesPassed: 1, Turns: 4, TurnsPassed: 1}) {
		t.Errorf("counts %+v, want 1 of 2 cases and 1 of 4 turns passed", r.Counts)
	}
	failed := r.Failed()
	if len(failed) != 1 || failed[0].Name != "wrong on purpose" || failed[0].Passed {
		t.Fatalf("failed cases: %+v", failed)
	}
	turns := failed[0].Turns
	wants := [][]string{
		{
			"intent greeting, want store_hours",
			"confidence 1.00, want at most 0.30",
			"decision answer, want tool or ask (intent greeting",
			"last message is buttons, want text",
			`reply lacks "Goodbye"`,
			`reply contains "Hello"`,
			"reply does not match /^bye/",
			"language en, want tr",
		},
		{
			`slot order_id = "SP-2026-0002", want "SP-2026-0001"`,
			`order_status args.order_id = "SP-2026-0002", want "SP-2026-0001"`,
			"no source cites hours.en (cited: none)",
			"no handoff, want one for person_requested",
		},
		{`tapped "menu", which no earlier message offered`},
	}
	for i, want := range wants {
		got := strings.Join(turns[i].Failures, "\n")
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("turn %d: failures\n%s\nlack %q", i+1, got, w)
			}
		}
		if turns[i].Passed {
			t.Errorf("turn %d passed", i+1)
		}
	}
	if len(turns[0].Failures) != len(wants[0]) || len(turns[1].Failures) != len(wants[1]) {
		t.Errorf("each miss is one reason: %q, %q", turns[0].Failures, turns[1].Failures)
	}
	// The metrics count the misses: one intent of two right, one wrong
	// slot, no exact tool call, one reply check of three.
	for name, want := range map[string]float64{
		eval.MetricIntentAccuracy: 0.5, eval.MetricCasePassRate: 0.5, eval.MetricTurnPassRate: 0.25,
		eval.MetricSlotF1: 0, eval.MetricToolExactMatch: 0, eval.MetricReplyPassRate: 0, eval.MetricHandoffRecall: 0,
	} {
		if got, ok := r.Metrics[name]; !ok || got != want {
			t.Errorf("%s = %v (measured %v), want %v", name, got, ok, want)
		}
	}
	c := r.Confusion
	gi, si := slices.Index(c.Labels, "greeting"), slices.Index(c.Labels, "store_hours")
	if gi < 0 || si < 0 || c.Counts[gi][gi] != 1 || c.Counts[si][gi] != 1 {
		t.Errorf("confusion %+v: want greeting→greeting 1 and store_hours→greeting 1", c)
	}
}

// scripted answers every turn with the same messages.
type scripted []whatsapp.Outbound

func (s scripted) Respond(context.Context, assistant.Input) (assistant.Reply, error) {
	return assistant.Reply{Messages: s, Decision: assistant.DecisionAnswer, Intent: "greeting", Confidence: 1}, nil
}

// broken fails every turn.
type broken struct{}

func (broken) Respond(context.Context, assistant.Input) (assistant.Reply, error) {
	return assistant.Reply{}, errors.New("the model is down")
}

func TestRepliesBreakingWhatsAppLimitsFail(t *testing.T) {
	t.Parallel()
	s, err := eval.ParseSuite([]byte("name: limits\ncases: [{name: c, turns: [{text: hi}, {text: again}]}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	tooLong := scripted{{Content: &whatsapp.Buttons{Body: "Pick one", Buttons: []whatsapp.Button{
		{ID: "a", Title: "A title far longer than twenty characters"}}}}}
	for name, responder := range map[string]assistant.Responder{"buttons over the limit": tooLong, "responder error": broken{}} {
		t.Run(name, func(t *testing.T) {
			r, err := eval.Run(context.Background(), s, eval.Options{
				Assistant: func(context.Context, store.Store) (assistant.Responder, error) { return responder, nil },
			})
			if err != nil {
				t.Fatal(err)
			}
			turns := r.Cases[0].Turns
			if r.Cases[0].Passed || turns[0].Passed || !strings.HasPrefix(turns[0].Failures[0], "the turn failed: ") {
				t.Fatalf("turn 1: %+v", turns[0])
			}
			want := map[string]string{"buttons over the limit": "title", "responder error": "the model is down"}[name]
			if !strings.Contains(turns[0].Failures[0], want) {
				t.Errorf("failure %q does not say %q", turns[0].Failures[0], want)
			}
			if turns[1].Passed || turns[1].Failures[0] != "not run: turn 1 failed to run" {
				t.Errorf("turn 2: %+v", turns[1])
			}
		})
	}
}

func TestRunNeedsAnAssistant(t *testing.T) {
	t.Parallel()
	s, err := eval.ParseSuite([]byte("name: s\ncases: [{name: c, turns: [{text: hi}]}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eval.Run(context.Background(), s, eval.Options{}); err == nil {
		t.Error("ran without an assistant")
	}
	_, err = eval.Run(context.Background(), s, eval.Options{Assistant: func(context.Context, store.Store) (assistant.Responder, error) {
		return nil, errors.New("no definition")
	}})
	if err == nil || !strings.Contains(err.Error(), "no definition") || !strings.Contains(err.Error(), "suite s") {
		t.Errorf("error %v, want the builder's, naming the suite", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := eval.Run(ctx, s, eval.Options{Assistant: func(context.Context, store.Store) (assistant.Responder, error) {
		return broken{}, nil
	}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v", err)
	}
}

// With a database URL the suite runs on PostgreSQL, in a schema of its own
// that is gone afterwards, with the same results as on SQLite.
func TestSuiteOnPostgres(t *testing.T) {
	pgtest.Require(t)
	s, err := eval.LoadSuite("testdata/shop-suite.yaml")
	if err != nil {
		t.Fatal(err)
	}
	o := shopOptions(t)
	o.DatabaseURL = pgtest.URL()
	o.Seed = 3 // recorded as given: the caller trained with it
	var dialect string
	build := o.Assistant
	o.Assistant = func(ctx context.Context, st store.Store) (assistant.Responder, error) {
		dialect = st.Dialect()
		return build(ctx, st)
	}
	r, err := eval.Run(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	if r.Seed != 3 {
		t.Errorf("the report's seed is %d, want 3", r.Seed)
	}
	if dialect != "postgres" || r.Counts != (eval.Counts{Cases: 6, CasesPassed: 6, Turns: 8, TurnsPassed: 8}) {
		t.Errorf("on %s: counts %+v, want every case passed on postgres", dialect, r.Counts)
	}
	conn, err := pgx.Connect(context.Background(), pgtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var left int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'yanit_eval_%'`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d eval schemas left behind", left)
	}
}
