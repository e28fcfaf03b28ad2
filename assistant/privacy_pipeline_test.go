package assistant_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/channel"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres/pgtest"
	"github.com/yanit/yanit/store/sqlite"
)

// privacyStores are a fresh SQLite file and a fresh PostgreSQL schema.
func privacyStores(t *testing.T) map[string]func(t *testing.T) store.Store {
	return map[string]func(t *testing.T) store.Store{
		"sqlite": func(t *testing.T) store.Store {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "y.db"))
			if err == nil {
				err = st.Migrate(context.Background())
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
		"postgres": func(t *testing.T) store.Store { return pgtest.NewStore(t) },
	}
}

const bizNumber = "323456789012345"

// receive stores a text or a tap from the user as the webhook does and
// runs the turn it queued.
func receive(t *testing.T, st store.Store, p *assistant.Pipeline, wamid string, m whatsapp.Inbound) store.Conversation {
	t.Helper()
	ctx := context.Background()
	r := channel.NewReceiver(st, channel.ReceiverOptions{Routed: func(string) bool { return true }})
	m.WAMID, m.PhoneNumberID, m.WaID, m.Timestamp = wamid, bizNumber, "905427778899", time.Now()
	if _, err := r.Accept(ctx, whatsapp.Batch{Messages: []whatsapp.Inbound{m}}); err != nil {
		t.Fatal(err)
	}
	return runTurns(t, st, p)
}

// runTurns runs every queued turn job and returns the user's conversation.
func runTurns(t *testing.T, st store.Store, p *assistant.Pipeline) store.Conversation {
	t.Helper()
	ctx := context.Background()
	js, err := st.Claim(ctx, jobs.ClaimParams{Worker: "t", Kinds: []string{channel.KindTurn}, Limit: 10, Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range js {
		if err := p.Handle(ctx, j); err != nil {
			t.Fatal(err)
		}
		if err := st.Complete(ctx, "t", j.ID); err != nil {
			t.Fatal(err)
		}
	}
	convs, err := st.ListConversations(ctx, store.ConversationFilter{})
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations %+v (%v), want the user's one", convs, err)
	}
	return convs[0]
}

func outbound(t *testing.T, st store.Store, conv int64) []store.Message {
	t.Helper()
	msgs, err := st.ListMessages(context.Background(), conv)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Message
	for _, m := range msgs {
		if m.Direction == store.Outbound {
			out = append(out, m)
		}
	}
	return out
}

// TestStrictConsentStoresOnlyTheConsent runs strict mode through the
// pipeline on both stores: before consent, no turn is recorded, the
// user's words are cleared, and the only records are the consents with
// their audit entries.
func TestStrictConsentStoresOnlyTheConsent(t *testing.T) {
	for name, open := range privacyStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			p := assistant.NewPipeline(st, &graph{}, assistant.Router{bizNumber: privacyEngine(t, assistant.ConsentStrict)}, assistant.PipelineOptions{})
			conv := receive(t, st, p, "wamid.1", whatsapp.Inbound{Type: "text", Text: "TC 10000000146, SP-2026-0001 siparişim nerede?"})
			if out := outbound(t, st, conv.ID); len(out) != 1 || !strings.Contains(out[0].Body, "yanitmarket.example/kvkk") {
				t.Fatalf("outbox %+v, want the consent question", out)
			}
			conv = receive(t, st, p, "wamid.2", whatsapp.Inbound{Type: "interactive", Subtype: "button_reply", ReplyID: assistant.ConsentNo, Text: "Onaylamıyorum"})

			turns, _ := st.ListTurns(ctx, conv.ID)
			if len(turns) != 0 {
				t.Fatalf("%d turns stored before consent, want none: %+v", len(turns), turns)
			}
			msgs, _ := st.ListMessages(ctx, conv.ID)
			for _, m := range msgs {
				if m.Direction != store.Inbound {
					continue
				}
				if m.Body != "" || strings.Contains(string(m.Payload), "10000000146") || m.ProcessedAt.IsZero() {
					t.Errorf("inbound message %s kept %q / %s (processed %v), want it cleared and processed", m.ChannelMessageID, m.Body, m.Payload, m.ProcessedAt)
				}
			}
			if c, _ := st.GetConversation(ctx, conv.ID); strings.Contains(string(c.State), "10000000146") || strings.Contains(string(c.State), "SP-2026") {
				t.Errorf("the conversation's state kept the user's words: %s", c.State)
			}
			consents, err := st.ListConsents(ctx, conv.ContactID)
			if err != nil || len(consents) != 1 || consents[0].Granted || consents[0].Source != store.ConsentByButton || consents[0].PolicyVersion != "2026-01" {
				t.Fatalf("consents %+v (%v), want the one refusal by button", consents, err)
			}
			audit, err := st.ListAudit(ctx, store.AuditFilter{Target: "contact:" + itoa(conv.ContactID)})
			if err != nil || len(audit) != 1 || audit[0].Action != "consent.refused" || audit[0].Actor != "contact:"+itoa(conv.ContactID) {
				t.Fatalf("audit %+v (%v), want the refusal, by the contact", audit, err)
			}

			// Accepting lets the next message through to the assistant.
			receive(t, st, p, "wamid.3", whatsapp.Inbound{Type: "interactive", Subtype: "button_reply", ReplyID: assistant.ConsentYes, Text: "Onaylıyorum"})
			conv = receive(t, st, p, "wamid.4", whatsapp.Inbound{Type: "text", Text: "SP-2026-0001 siparişim nerede?"})
			turns, _ = st.ListTurns(ctx, conv.ID)
			if len(turns) != 2 || turns[1].Intent != "order_status" {
				t.Fatalf("turns after consent %+v, want the consent turn and the order answered", turns)
			}
			if cur, _ := st.CurrentConsents(ctx, conv.ContactID); len(cur) != 1 || !cur[0].Granted {
				t.Fatalf("current consents %+v, want service granted", cur)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestUserPreferencesWebhookIsRecordedAndConfirmed: Meta's stop and
// resume change the marketing consent at once, are audited, and the user
// hears it from the assistant while the service window is open; a webhook
// delivered again changes nothing.
func TestUserPreferencesWebhookIsRecordedAndConfirmed(t *testing.T) {
	for name, open := range privacyStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			p := assistant.NewPipeline(st, &graph{}, assistant.Router{bizNumber: demoEngine(t)}, assistant.PipelineOptions{})
			conv := receive(t, st, p, "wamid.1", whatsapp.Inbound{Type: "text", Text: "merhaba"})
			r := channel.NewReceiver(st, channel.ReceiverOptions{Routed: func(string) bool { return true }})
			stop := whatsapp.Batch{Preferences: []whatsapp.Preference{{PhoneNumberID: bizNumber, WaID: "905427778899",
				Category: "marketing_messages", Value: whatsapp.PreferenceStop, Timestamp: time.Now().Truncate(time.Second)}}}
			for range 2 { // Meta delivers it twice
				if _, err := r.Accept(ctx, stop); err != nil {
					t.Fatal(err)
				}
			}
			conv = runTurns(t, st, p)
			contact, _ := st.GetContact(ctx, conv.ContactID)
			if !contact.MarketingOptOut {
				t.Fatal("the stop webhook did not stop marketing")
			}
			consents, _ := st.ListConsents(ctx, contact.ID)
			if len(consents) != 1 || consents[0].Granted || consents[0].Source != store.ConsentByWebhook || consents[0].Purpose != store.PurposeMarketing {
				t.Fatalf("consents %+v, want one marketing refusal by webhook", consents)
			}
			out := outbound(t, st, conv.ID)
			if len(out) != 2 || !strings.Contains(out[1].Body, "almayacaksınız") || !strings.Contains(out[1].Body, "BAŞLA") {
				t.Fatalf("outbox %+v, want the greeting, then one confirmation of the opt-out", out)
			}

			resume := stop
			resume.Preferences = []whatsapp.Preference{stop.Preferences[0]}
			resume.Preferences[0].Value, resume.Preferences[0].Timestamp = whatsapp.PreferenceResume, stop.Preferences[0].Timestamp.Add(time.Minute)
			if _, err := r.Accept(ctx, resume); err != nil {
				t.Fatal(err)
			}
			conv = runTurns(t, st, p)
			if contact, _ = st.GetContact(ctx, contact.ID); contact.MarketingOptOut {
				t.Fatal("the resume webhook did not resume marketing")
			}
			if out := outbound(t, st, conv.ID); len(out) != 3 || !strings.Contains(out[2].Body, "yeniden alacaksınız") {
				t.Fatalf("outbox %+v, want the resume confirmed", out)
			}
			if audit, _ := st.ListAudit(ctx, store.AuditFilter{Action: "consent."}); len(audit) != 2 || audit[0].Action != "consent.given" || audit[1].Action != "consent.refused" {
				t.Fatalf("audit %+v, want the refusal then the grant", audit)
			}
		})
	}
}
