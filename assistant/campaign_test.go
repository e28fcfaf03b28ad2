package assistant_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/store"
)

// A user answering a campaign's message: the turn's trace and, when it
// hands off, the agent's context pack name the campaign.
func TestCampaignReplyInTraceAndHandoff(t *testing.T) {
	e := demoEngine(t)
	conv := store.Conversation{ID: 1, PhoneNumberID: "1001", Mode: store.ModeBot, Status: store.ConversationOpen}
	contact := store.Contact{ID: 1, WaID: "905321234567", Name: "Ayşe"}
	for _, tc := range []struct{ text, campaign string }{
		{"temsilci", "bahar"},
		{"temsilci", ""},
	} {
		in := assistant.Input{Conversation: conv, Contact: contact, Campaign: tc.campaign,
			Pending: []store.Message{{ID: 1, ConversationID: 1, Direction: store.Inbound, Type: "text", Body: tc.text, SentAt: now}}}
		rep, err := e.Respond(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		var tr assistant.Trace
		if err := json.Unmarshal(rep.Trace, &tr); err != nil {
			t.Fatal(err)
		}
		if rep.Handoff == nil {
			t.Fatalf("%q: %s, want a handoff", tc.text, rep.Decision)
		}
		if tr.Campaign != tc.campaign || rep.Handoff.Campaign != tc.campaign {
			t.Errorf("campaign %q: trace says %q, handoff pack %q", tc.campaign, tr.Campaign, rep.Handoff.Campaign)
		}
	}
}
