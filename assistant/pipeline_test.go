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
	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/sqlite"
)

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
	p := assistant.NewPipeline(st, g, assistant.Router{"1001": demoEngine(t)}, assistant.PipelineOptions{})
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
	if len(out) != 1 || out[0].Status != store.StatusQueued || out[0].Type != "text" || !strings.Contains(out[0].Body, "Sipariş numaranızı") {
		t.Fatalf("outbox = %+v, want one queued question for the order number", out)
	}
	turns, _ := st.ListTurns(ctx, conv.ID)
	if len(turns) != 1 || turns[0].Intent != "order_status" || len(turns[0].InboundIDs) != 2 || len(turns[0].OutboundIDs) != 1 {
		t.Fatalf("turns = %+v, want one turn consuming both messages", turns)
	}
	if len(g.reads) != 1 || g.reads[0] != "wamid.inB" {
		t.Fatalf("mark-read with typing = %v, want the newest message once", g.reads)
	}

	// The conversation remembers the question across turns.
	conv, _ = st.GetConversation(ctx, conv.ID)
	if task := assistant.ParseState(conv.State).Task; task == nil || task.Awaiting != "order_id" {
		t.Fatalf("stored state %s, want the task awaiting order_id", conv.State)
	}
	var trace assistant.Trace
	if err := json.Unmarshal(turns[0].Trace, &trace); err != nil || trace.Language != "tr" || len(trace.Candidates) == 0 || trace.StagesMS["understand"] <= 0 {
		t.Fatalf("stored trace %s (%v), want language, candidates and stage timings", turns[0].Trace, err)
	}

	// The user asks for a person: the turn hands off, the conversation
	// turns human with the context pack in its state.
	st.InsertMessage(ctx, store.Message{ConversationID: conv.ID, Direction: store.Inbound, ChannelMessageID: "wamid.inC", Type: "text", Body: "temsilciye bağlanmak istiyorum", Status: store.StatusReceived})
	if err := p.Handle(ctx, job); err != nil {
		t.Fatal(err)
	}
	conv, _ = st.GetConversation(ctx, conv.ID)
	h := assistant.ParseState(conv.State).Handoff
	if conv.Mode != store.ModeHuman || h == nil || h.Reason != assistant.ReasonPersonRequested || len(h.Transcript) != 4 {
		t.Fatalf("after the request: mode %s, handoff %+v; want human mode with the pack and the 4-message transcript", conv.Mode, h)
	}

	// A human owns the conversation: the bot stays silent, the turn says why.
	st.InsertMessage(ctx, store.Message{ConversationID: conv.ID, Direction: store.Inbound, ChannelMessageID: "wamid.inD", Type: "text", Body: "merhaba?", Status: store.StatusReceived})
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

	// The agent resolves it and the user writes again: a fresh conversation
	// in bot mode, with no memory of the handoff, answers (no loop back
	// into the queue).
	if err := st.CloseConversation(ctx, conv.ID); err != nil {
		t.Fatal(err)
	}
	next, _ := st.OpenConversation(ctx, contact.ID, "1001")
	st.InsertMessage(ctx, store.Message{ConversationID: next.ID, Direction: store.Inbound, ChannelMessageID: "wamid.inE", Type: "text", Body: "merhaba", Status: store.StatusReceived})
	payload, _ = json.Marshal(channel.TurnPayload{ConversationID: next.ID})
	if err := p.Handle(ctx, jobs.Job{ID: 2, Kind: channel.KindTurn, Payload: payload}); err != nil {
		t.Fatal(err)
	}
	turns, _ = st.ListTurns(ctx, next.ID)
	if next.ID == conv.ID || len(turns) != 1 || turns[0].Intent != "greeting" || turns[0].Decision != assistant.DecisionAnswer {
		t.Fatalf("after resolution: conversation %d (was %d), turns %+v; want a fresh greeting", next.ID, conv.ID, turns)
	}
}
