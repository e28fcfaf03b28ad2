package assistant

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/yanit/yanit/store"
)

func gapTurn(t *testing.T, conv int64, at time.Time, intent, decision, reason, input string, vectors ...float64) store.Turn {
	t.Helper()
	var tr Trace
	for _, v := range vectors {
		tr.Sources = append(tr.Sources, Source{Citation: "x", Vector: v})
	}
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	return store.Turn{ConversationID: conv, CreatedAt: at, Intent: intent, Decision: decision, Reason: reason, Input: input, Trace: b}
}

// The content team sees the questions the knowledge could not answer,
// similar ones together, the most asked first; answered ones never show.
func TestKnowledgeGaps(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	noPassage := noKnowledge + "no passage supports an answer (best cosine 0.12)"
	turns := []store.Turn{ // newest first, as the store lists them
		gapTurn(t, 4, t0.Add(4*time.Hour), "shipping", DecisionFallback, noPassage, "Yurt dışına kargo gönderiyor musunuz?", 0.12),
		gapTurn(t, 3, t0.Add(3*time.Hour), "shipping", DecisionHandoff, ReasonFallbacks+": 2 fallbacks in a row; last: "+noPassage, "yurt dışına kargo var mı", 0.1),
		gapTurn(t, 2, t0.Add(2*time.Hour), "shipping", DecisionFallback, noPassage, "Yurt dışına kargo gönderiyor musunuz?"),
		gapTurn(t, 5, t0.Add(90*time.Minute), "returns", DecisionAnswer, "answered from knowledge", "Hediye kartı iade edilir mi?", 0.21, 0.3),
		gapTurn(t, 6, t0.Add(time.Hour), "returns", DecisionAnswer, "answered from knowledge", "İade süresi kaç gün?", 0.71),
		gapTurn(t, 7, t0, "order_status", DecisionTool, "confident intent with a tool", "siparişim nerede"),
		gapTurn(t, 8, t0, "shipping", DecisionFallback, noPassage, ""), // an image: nothing to show
	}
	gaps := KnowledgeGaps(turns, DefaultWeakScore)
	if len(gaps) != 2 {
		t.Fatalf("gaps = %+v, want the shipping group and the weak returns answer", gaps)
	}
	ship := gaps[0]
	if ship.Intent != "shipping" || ship.Count != 3 || ship.NoAnswer != 3 || !ship.LastSeen.Equal(t0.Add(4*time.Hour)) {
		t.Errorf("shipping gap = %+v", ship)
	}
	// The same question twice is listed once; case and diacritics aside.
	if len(ship.Questions) != 2 || ship.Questions[0] != "Yurt dışına kargo gönderiyor musunuz?" || ship.Questions[1] != "yurt dışına kargo var mı" {
		t.Errorf("shipping questions = %q", ship.Questions)
	}
	if len(ship.Conversations) != 3 || ship.BestScore != 0.12 {
		t.Errorf("shipping conversations %v, best %v", ship.Conversations, ship.BestScore)
	}
	weak := gaps[1]
	if weak.Intent != "returns" || weak.Count != 1 || weak.NoAnswer != 0 || weak.Questions[0] != "Hediye kartı iade edilir mi?" || weak.BestScore != 0.3 {
		t.Errorf("weak gap = %+v", weak)
	}

	// Different questions of one topic make different groups.
	other := append(turns[:0:0], turns...)
	other = append(other, gapTurn(t, 9, t0, "shipping", DecisionFallback, noPassage, "Kargo ücreti ne kadar, kapıda ödeme var mı?"))
	if got := KnowledgeGaps(other, DefaultWeakScore); len(got) != 3 {
		t.Errorf("with an unrelated shipping question: %d groups, want 3: %+v", len(got), got)
	}
	if got := KnowledgeGaps(nil, DefaultWeakScore); len(got) != 0 {
		t.Errorf("no turns: %+v", got)
	}
}

func TestGapKindReadsTheTrace(t *testing.T) {
	for _, c := range []struct {
		turn store.Turn
		want string
	}{
		{store.Turn{Decision: DecisionAnswer, Trace: json.RawMessage(`not json`)}, ""},
		{store.Turn{Decision: DecisionAnswer, Trace: json.RawMessage(`{"sources":[]}`)}, ""},
		{store.Turn{Decision: DecisionAnswer, Trace: json.RawMessage(`{"sources":[{"vector":0.2}]}`)}, GapWeak},
		{store.Turn{Decision: DecisionHandoff, Reason: ReasonToolFailed + ": knowledge search: timeout"}, ""},
		{store.Turn{Decision: DecisionFallback, Reason: noKnowledge + "the model found no answer in the passages"}, GapNoAnswer},
	} {
		if got, _ := GapKind(c.turn, DefaultWeakScore); got != c.want {
			t.Errorf("GapKind(%s %q %s) = %q, want %q", c.turn.Decision, c.turn.Reason, c.turn.Trace, got, c.want)
		}
	}
}
