package campaign_test

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/campaign"
	"github.com/yanit/yanit/channel"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
)

// graph accepts every send and names the message after its recipient.
type graph struct {
	mu    sync.Mutex
	sends map[string]int // by recipient
}

func (g *graph) Send(_ context.Context, _ string, m whatsapp.Outbound) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sends == nil {
		g.sends = map[string]int{}
	}
	g.sends[m.To]++
	return fmt.Sprintf("wamid.%s.%d", m.To, g.sends[m.To]), nil
}

func (g *graph) MarkRead(context.Context, string, string, bool) error { return nil }

// recorder answers every turn with nothing and keeps what it saw.
type recorder struct {
	mu     sync.Mutex
	inputs []assistant.Input
}

func (r *recorder) Respond(_ context.Context, in assistant.Input) (assistant.Reply, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inputs = append(r.inputs, in)
	return assistant.Reply{Decision: "noop"}, nil
}

// drain runs the due jobs of kind with h until none is left.
func drain(t *testing.T, st store.Store, kind string, h jobs.Handler) int {
	t.Helper()
	n := 0
	for {
		js, err := st.Claim(t.Context(), jobs.ClaimParams{Worker: "t", Kinds: []string{kind}, Limit: 50, Lease: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if len(js) == 0 {
			return n
		}
		for _, j := range js {
			if err := h(t.Context(), j); err != nil {
				t.Fatalf("%s job %d: %v", kind, j.ID, err)
			}
			if err := st.Complete(t.Context(), "t", j.ID); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
}

// TestStatsFollowTheWebhooks sends a campaign through the Sender, then
// plays Meta's status webhooks, a reply, an opt-out and the status of a
// second copy through the Receiver, and checks the campaign's counts and
// that the reply's turn knows the campaign.
func TestStatsFollowTheWebhooks(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		e := newEnv(t, st, campaign.Options{})
		contacts := e.people(
			person{waID: "905320000001", name: "Ayşe", consent: "yes"},
			person{waID: "905320000002", name: "Mehmet", consent: "yes"},
			person{waID: "905320000003", name: "Can", consent: "yes"},
			person{waID: "905320000004", name: "Deniz", consent: "yes"},
			person{waID: "905320000005", name: "Ece", consent: "no"},
		)
		e.create("bahar", "bahar_indirimi", "name", "attr:city:İstanbul")
		if _, err := e.svc.Start(ctx, privacy.ActorCLI, "bahar"); err != nil {
			t.Fatal(err)
		}
		e.runJobs(ctx)
		if _, s := e.stats("bahar"); s.Queued != 4 || s.Sent != 0 || s.SkippedBy[store.SkipOptedOut] != 1 {
			t.Fatalf("queued: %+v", s)
		}

		g := &graph{}
		sender := channel.NewSender(st, g, channel.SenderOptions{Limiter: channel.NewLimiter(1000, 100, 0)})
		if n := drain(t, st, channel.KindSendBatch, sender.HandleBatch); n != 1 {
			t.Fatalf("%d send batch jobs, want the 4 messages in 1", n)
		}
		if len(g.sends) != 4 {
			t.Fatalf("WhatsApp got messages for %v, want the 4 who consented", g.sends)
		}
		if _, s := e.stats("bahar"); s.Sent != 4 || s.Delivered != 0 {
			t.Fatalf("after the sends: %+v, want 4 sent", s)
		}

		// Meta's webhooks: delivered, read, a failure, a reply, an opt-out,
		// and the status of a copy of Deniz's message accepted twice.
		now := time.Now()
		wamid := func(waID string) string { return "wamid." + waID + ".1" }
		deniz := outboxID(t, st, contacts["905320000004"])
		recv := channel.NewReceiver(st, channel.ReceiverOptions{})
		b := whatsapp.Batch{
			Statuses: []whatsapp.Status{
				{PhoneNumberID: number, WAMID: wamid("905320000001"), Status: "delivered", Timestamp: now},
				{PhoneNumberID: number, WAMID: wamid("905320000002"), Status: "delivered", Timestamp: now},
				{PhoneNumberID: number, WAMID: wamid("905320000002"), Status: "read", Timestamp: now},
				{PhoneNumberID: number, WAMID: wamid("905320000001"), Status: "sent", Timestamp: now}, // late: no downgrade
				{PhoneNumberID: number, WAMID: wamid("905320000003"), Status: "failed", Timestamp: now,
					Errors: []whatsapp.ErrorDetail{{Code: 131026, Title: "Message undeliverable"}}},
				{PhoneNumberID: number, WAMID: "wamid.copy", Status: "sent", Timestamp: now, BizOpaque: channel.OutboxTag(deniz)},
			},
			Messages: []whatsapp.Inbound{{PhoneNumberID: number, WaID: "905320000002", WAMID: "wamid.in.1", Timestamp: now.Add(time.Second),
				Type: whatsapp.TypeText, Text: "Hangi mağaza?"}},
			Preferences: []whatsapp.Preference{{PhoneNumberID: number, WaID: "905320000001", Category: "marketing_messages",
				Value: whatsapp.PreferenceStop, Timestamp: now.Add(time.Second)}},
		}
		if _, err := recv.Accept(ctx, b); err != nil {
			t.Fatal(err)
		}
		_, s := e.stats("bahar")
		want := store.CampaignStats{Recipients: 5, Skipped: 1, SkippedBy: map[string]int{store.SkipOptedOut: 1}, Queued: 4,
			Sent: 3, Delivered: 2, Read: 1, Failed: 1, FailedBy: map[int]int{131026: 1}, Replied: 1, OptedOutAfter: 1, Duplicates: 1}
		if s.Recipients != want.Recipients || s.Skipped != want.Skipped || !maps.Equal(s.SkippedBy, want.SkippedBy) ||
			s.Queued != want.Queued || s.Sent != want.Sent || s.Delivered != want.Delivered || s.Read != want.Read ||
			s.Failed != want.Failed || !maps.Equal(s.FailedBy, want.FailedBy) || s.Replied != want.Replied ||
			s.OptedOutAfter != want.OptedOutAfter || s.Duplicates != want.Duplicates || s.Pending != 0 {
			t.Fatalf("stats = %+v\nwant    %+v", s, want)
		}
		rs, err := st.ListCampaignRecipients(ctx, e.campaignID("bahar"), 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var failed store.CampaignRecipient
		for _, r := range rs {
			if r.ContactID == contacts["905320000003"].ID {
				failed = r
			}
		}
		if failed.MessageStatus != store.StatusFailed || failed.ErrorCode != 131026 {
			t.Fatalf("Can's recipient = %+v, want failed with 131026", failed)
		}

		// The reply's turn (and the preference's) run with the campaign as
		// context.
		rec := &recorder{}
		pipeline := assistant.NewPipeline(st, g, rec, assistant.PipelineOptions{})
		drain(t, st, channel.KindTurn, pipeline.Handle)
		var mehmet *assistant.Input
		for i, in := range rec.inputs {
			if in.Contact.WaID == "905320000002" {
				mehmet = &rec.inputs[i]
			}
		}
		if mehmet == nil || mehmet.Campaign != "bahar" {
			t.Fatalf("the reply's turn: %+v, want Campaign bahar", mehmet)
		}
	})
}

// outboxID is the outbox message a contact was sent.
func outboxID(t *testing.T, st store.Store, c store.Contact) int64 {
	t.Helper()
	convs, err := st.ListConversations(t.Context(), store.ConversationFilter{ContactID: c.ID})
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations of %s: %d, %v", c.WaID, len(convs), err)
	}
	msgs, err := st.ListMessages(t.Context(), convs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Direction == store.Outbound {
			return m.ID
		}
	}
	t.Fatalf("%s has no outbox message", c.WaID)
	return 0
}

func (e *env) campaignID(name string) int64 {
	e.t.Helper()
	c, err := e.svc.Get(e.t.Context(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.ID
}
