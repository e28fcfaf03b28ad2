package assistant_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/channel"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/configs"
	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/sqlite"
)

func demo(t *testing.T) *assistant.Rules {
	t.Helper()
	r, err := assistant.LoadRules(configs.DemoRules)
	if err != nil {
		t.Fatalf("the demo rules do not load: %v", err)
	}
	return r
}

func respond(t *testing.T, r assistant.Responder, body, replyID string) assistant.Reply {
	t.Helper()
	return respondTo(t, r, "text", body, replyID)
}

func respondTo(t *testing.T, r assistant.Responder, msgType, body, replyID string) assistant.Reply {
	t.Helper()
	payload, _ := json.Marshal(map[string]string{"reply_id": replyID})
	rep, err := r.Respond(context.Background(), assistant.Input{Pending: []store.Message{{Type: msgType, Body: body, Payload: payload}}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestDemoRules(t *testing.T) {
	r := demo(t)
	cases := []struct {
		text, replyID, intent string
		kind                  string
	}{
		{"Merhaba", "", "greeting", "*whatsapp.Buttons"},
		{"MENÜ", "", "greeting", "*whatsapp.Buttons"},
		{"", "store", "store_info", "*whatsapp.List"},
		{"Mağaza / Store", "store", "store_info", "*whatsapp.List"},
		{"Çalışma saatleri", "hours", "hours", "*whatsapp.Text"},
		{"siparişim nerede", "", "orders", "*whatsapp.Buttons"},
		{"I want to talk to an agent", "", "agent", "*whatsapp.Text"},
		{"çok teşekkürler", "", "thanks", "*whatsapp.Text"},
		{"hava nasıl?", "", "", "*whatsapp.Text"},
	}
	for _, c := range cases {
		rep := respond(t, r, c.text, c.replyID)
		if rep.Intent != c.intent || len(rep.Messages) != 1 {
			t.Errorf("%q/%q: intent %q (%s), want %q", c.text, c.replyID, rep.Intent, rep.Reason, c.intent)
			continue
		}
		if got := typeName(rep.Messages[0].Content); got != c.kind {
			t.Errorf("%q: reply is %s, want %s", c.text, got, c.kind)
		}
		if c.intent == "" && rep.Decision != assistant.DecisionFallback {
			t.Errorf("%q: decision %q, want fallback", c.text, rep.Decision)
		}
	}
}

func TestUnreadableMessagesGetAPoliteReply(t *testing.T) {
	r := demo(t)
	for _, typ := range []string{"image", "sticker", "location", "unsupported", "hologram"} {
		rep := respondTo(t, r, typ, "Merhaba", "")
		txt, ok := rep.Messages[0].Content.(*whatsapp.Text)
		if !ok || !strings.Contains(txt.Body, "yazılı") || rep.Decision != assistant.DecisionFallback {
			t.Errorf("%s message: %+v, want the polite text-only reply", typ, rep)
		}
	}
	if rep := respondTo(t, r, "interactive.button_reply", "Mağaza / Store", "store"); rep.Intent != "store_info" {
		t.Errorf("a button reply is readable: got %+v", rep)
	}
}

func typeName(c whatsapp.Content) string {
	switch c.(type) {
	case *whatsapp.Text:
		return "*whatsapp.Text"
	case *whatsapp.Buttons:
		return "*whatsapp.Buttons"
	case *whatsapp.List:
		return "*whatsapp.List"
	}
	return "other"
}

func TestLoadRulesNamesTheProblem(t *testing.T) {
	cases := map[string]string{
		"fallback:\n  text: ok\nrules:\n  - name: r\n    keywords: [a]\n    reply:\n      text: hi\n      buttons: [{id: x, title: \"Bu başlık yirmi karakterden uzun\"}]\n": "title",
		"fallback:\n  text: ok\nrules:\n  - name: r\n    reply:\n      text: hi\n":                                                                                           "needs keywords or ids",
		"rules: []\n":                         "fallback.text",
		"fallback:\n  text: ok\nunknown: 1\n": "unknown",
	}
	for yaml, want := range cases {
		if _, err := assistant.LoadRules([]byte(yaml)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadRules: %v, want an error mentioning %q", err, want)
		}
	}
}

// graph counts mark-read calls; the pipeline never sends (the outbox does).
type graph struct {
	mu    sync.Mutex
	reads []string
}

func (g *graph) Send(context.Context, string, whatsapp.Outbound) (string, error) {
	panic("the turn pipeline must not send: replies go through the outbox")
}

func (g *graph) MarkRead(_ context.Context, _, wamid string, typing bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if typing {
		g.reads = append(g.reads, wamid)
	}
	return nil
}

func TestPipelineTurn(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "y.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	g := &graph{}
	p := assistant.NewPipeline(st, g, assistant.Router{"1001": demo(t)}, assistant.PipelineOptions{})
	contact, _ := st.UpsertContact(ctx, store.ContactUpsert{WaID: "905321234567", Seen: time.Now()})
	conv, _ := st.OpenConversation(ctx, contact.ID, "1001")
	for i, body := range []string{"merhaba", "siparişim nerede"} {
		if _, err := st.InsertMessage(ctx, store.Message{ConversationID: conv.ID, Direction: store.Inbound,
			ChannelMessageID: "wamid.in" + string(rune('A'+i)), Type: "text", Body: body, Status: store.StatusReceived}); err != nil {
			t.Fatal(err)
		}
	}
	payload, _ := json.Marshal(channel.TurnPayload{ConversationID: conv.ID})
	job := jobs.Job{ID: 1, Kind: channel.KindTurn, Payload: payload}
	if err := p.Handle(ctx, job); err != nil {
		t.Fatal(err)
	}
	// Run again, as after a crash before the job was acknowledged: nothing new.
	if err := p.Handle(ctx, job); err != nil {
		t.Fatal(err)
	}
	msgs, _ := st.ListMessages(ctx, conv.ID)
	var out []store.Message
	for _, m := range msgs {
		if m.Direction == store.Outbound {
			out = append(out, m)
		}
	}
	if len(out) != 1 || out[0].Status != store.StatusQueued || out[0].Type != "interactive.button" {
		t.Fatalf("outbox = %+v, want one queued button reply to the newest message", out)
	}
	turns, _ := st.ListTurns(ctx, conv.ID)
	if len(turns) != 1 || turns[0].Intent != "orders" || len(turns[0].InboundIDs) != 2 || len(turns[0].OutboundIDs) != 1 {
		t.Fatalf("turns = %+v, want one turn consuming both messages", turns)
	}
	if len(g.reads) != 1 || g.reads[0] != "wamid.inB" {
		t.Fatalf("mark-read with typing = %v, want the newest message once", g.reads)
	}

	// A human owns the conversation: the bot stays silent, the turn says why.
	if err := st.SetConversationState(ctx, conv.ID, store.ModeHuman, nil); err != nil {
		t.Fatal(err)
	}
	st.InsertMessage(ctx, store.Message{ConversationID: conv.ID, Direction: store.Inbound, ChannelMessageID: "wamid.inC", Type: "text", Body: "merhaba?", Status: store.StatusReceived})
	if err := p.Handle(ctx, job); err != nil {
		t.Fatal(err)
	}
	turns, _ = st.ListTurns(ctx, conv.ID)
	if last := turns[len(turns)-1]; last.Decision != assistant.DecisionSilent || len(last.OutboundIDs) != 0 {
		t.Fatalf("turn in human mode = %+v, want silent with no reply", last)
	}
	if pending, _ := st.PendingInbound(ctx, conv.ID); len(pending) != 0 {
		t.Fatal("the human-mode message is still pending")
	}
}
