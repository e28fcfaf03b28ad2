package storetest

import (
	"testing"
	"time"

	"github.com/yanit/yanit/store"
)

// ListRecentTurns is what the content team's "what the bot could not
// answer" list and the evaluation reports read: turns across
// conversations with the text the user wrote.
func testRecentTurns(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	start := time.Now().Add(-time.Minute)
	a := newConversation(t, s, "905550000011")
	b := newConversation(t, s, "905550000012")
	inbound := func(conv store.Conversation, wamid, body string) int64 {
		return must(s.InsertMessage(c, store.Message{ConversationID: conv.ID, Direction: store.Inbound,
			ChannelMessageID: wamid, Type: "text", Body: body, Status: store.StatusReceived}))(t).ID
	}
	m1 := inbound(a, "wamid.r1", "Kargo ücreti ne kadar?")
	m2 := inbound(a, "wamid.r2", "Yurt dışına da gönderiyor musunuz?")
	m3 := inbound(b, "wamid.r3", "iade süresi")
	img := must(s.InsertMessage(c, store.Message{ConversationID: b.ID, Direction: store.Inbound,
		ChannelMessageID: "wamid.r4", Type: "image", Status: store.StatusReceived}))(t).ID

	t1 := must(s.InsertTurn(c, store.Turn{ConversationID: a.ID, InboundIDs: []int64{m2, m1}, Decision: "fallback", Reason: "knowledge: no passage"}))(t)
	t2 := must(s.InsertTurn(c, store.Turn{ConversationID: b.ID, InboundIDs: []int64{m3, img}, Decision: "answer", Intent: "returns"}))(t)
	t3 := must(s.InsertTurn(c, store.Turn{ConversationID: b.ID, Decision: "handoff"}))(t)

	all := must(s.ListRecentTurns(c, store.TurnFilter{Since: start}))(t)
	if len(all) != 3 || all[0].ID != t3.ID || all[1].ID != t2.ID || all[2].ID != t1.ID {
		t.Fatalf("ListRecentTurns = %+v, want the three turns newest first", all)
	}
	// The input joins the texts in the order they arrived; a message
	// without text adds nothing; a turn without inbound messages has none.
	if got := all[2].Input; got != "Kargo ücreti ne kadar?\nYurt dışına da gönderiyor musunuz?" {
		t.Errorf("input of the first turn = %q", got)
	}
	if all[1].Input != "iade süresi" || all[0].Input != "" {
		t.Errorf("inputs = %q, %q", all[1].Input, all[0].Input)
	}
	if all[2].Reason != "knowledge: no passage" || all[2].ConversationID != a.ID {
		t.Errorf("turn read back = %+v", all[2])
	}

	some := must(s.ListRecentTurns(c, store.TurnFilter{Since: start, Decisions: []string{"fallback", "handoff"}}))(t)
	if len(some) != 2 || some[0].ID != t3.ID || some[1].ID != t1.ID {
		t.Errorf("fallback and handoff turns = %+v", some)
	}
	if got := must(s.ListRecentTurns(c, store.TurnFilter{Since: start, Limit: 1}))(t); len(got) != 1 || got[0].ID != t3.ID {
		t.Errorf("limit 1 = %+v", got)
	}
	if got := must(s.ListRecentTurns(c, store.TurnFilter{Since: time.Now().Add(time.Hour)}))(t); len(got) != 0 {
		t.Errorf("turns since an hour from now = %+v", got)
	}
	if _, err := s.ListRecentTurns(c, store.TurnFilter{Limit: store.MaxRecentTurns + 1}); err == nil {
		t.Error("a limit over MaxRecentTurns was accepted")
	}
}
