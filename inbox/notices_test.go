package inbox_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/yanit/yanit/inbox"
	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/store"
)

// lastText is the newest outbound message of the ticket's conversation.
func (f *fixture) lastText(t *testing.T) (string, int) {
	t.Helper()
	msgs, err := f.st.ListMessages(context.Background(), f.ticket.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	out := 0
	last := ""
	for _, m := range msgs {
		if m.Direction == store.Outbound {
			out++
			last = m.Body
		}
	}
	return last, out
}

func noticeJob(t *testing.T, ticket int64, sent int, outside bool) jobs.Job {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"ticket_id": ticket, "sent": sent, "outside": outside})
	return jobs.Job{ID: 1, Kind: inbox.KindNotice, Payload: b}
}

// Outside business hours the user is told when a person will answer, once.
func TestOutsideHoursNotice(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	closed, err := inbox.ParseHours("", map[string]string{"sun": "00:00-00:01"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := inbox.NewNotices(f.st, inbox.NoticeRules{Hours: map[string]inbox.Hours{"billing": closed}, WaitEvery: time.Minute}, f.bus,
		inbox.Options{Now: func() time.Time { return *f.clock }})
	// A Wednesday, 22:00 in Istanbul.
	*f.clock = time.Date(2026, 11, 25, 19, 0, 0, 0, time.UTC)
	if err := f.st.InTx(ctx, func(tx store.Queries) error { return n.Schedule(ctx, tx, f.ticket) }); err != nil {
		t.Fatal(err)
	}
	if err := n.Handle(ctx, noticeJob(t, f.ticket.ID, 0, false)); err != nil {
		t.Fatal(err)
	}
	text, count := f.lastText(t)
	if count != 1 || !strings.Contains(text, "çalışma saatleri dışında") || !strings.Contains(text, "ilk fırsatta (Pazar 00:00)") {
		t.Errorf("outside-hours notice %q (%d messages)", text, count)
	}
	// The check that follows does not say it again.
	if err := n.Handle(ctx, noticeJob(t, f.ticket.ID, 0, true)); err != nil {
		t.Fatal(err)
	}
	if _, again := f.lastText(t); again != 1 {
		t.Errorf("%d messages after a second check, want still 1", again)
	}
}

// Within hours, after the cadence, the user hears their place in the queue
// and the expected wait from the team's recent waits; a ticket taken meanwhile
// ends the notices; they never exceed the maximum.
func TestWaitNotices(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	n := inbox.NewNotices(f.st, inbox.NoticeRules{WaitEvery: 2 * time.Minute, MaxWaitNotices: 2}, f.bus,
		inbox.Options{Now: func() time.Time { return *f.clock }})
	start := *f.clock

	// Too early: nothing yet.
	if err := n.Handle(ctx, noticeJob(t, f.ticket.ID, 0, false)); err != nil {
		t.Fatal(err)
	}
	if _, count := f.lastText(t); count != 0 {
		t.Fatalf("%d messages right after the handoff, want none", count)
	}

	// No history: the place only.
	*f.clock = start.Add(3 * time.Minute)
	if err := n.Handle(ctx, noticeJob(t, f.ticket.ID, 0, false)); err != nil {
		t.Fatal(err)
	}
	if text, _ := f.lastText(t); !strings.Contains(text, "Sırada 1. sıradasınız") || strings.Contains(text, "dakika") {
		t.Errorf("first wait notice %q", text)
	}

	// Another billing ticket was taken after 10 minutes: ours, 3 minutes
	// in, expects about 7 more.
	other, err := f.st.UpsertContact(ctx, store.ContactUpsert{WaID: "905320000099"})
	if err != nil {
		t.Fatal(err)
	}
	conv, _ := f.st.OpenConversation(ctx, other.ID, "1001")
	old, _, err := f.st.OpenTicket(ctx, store.Ticket{ConversationID: conv.ID, ContactID: other.ID, Team: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.ClaimTicket(ctx, old.ID, f.billing.ID, old.CreatedAt.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := n.Handle(ctx, noticeJob(t, f.ticket.ID, 1, false)); err != nil {
		t.Fatal(err)
	}
	text, count := f.lastText(t)
	if !strings.Contains(text, "yaklaşık 7 dakika") || count != 2 {
		t.Errorf("second wait notice %q (%d messages), want about 7 minutes", text, count)
	}
	// The maximum is reached.
	if err := n.Handle(ctx, noticeJob(t, f.ticket.ID, 2, false)); err != nil {
		t.Fatal(err)
	}
	if _, c := f.lastText(t); c != 2 {
		t.Errorf("%d messages after the maximum, want 2", c)
	}
	// A claimed ticket gets no notices.
	if _, err := f.svc.Claim(ctx, f.billing, f.ticket.ID); err != nil {
		t.Fatal(err)
	}
	if err := n.Handle(ctx, noticeJob(t, f.ticket.ID, 0, false)); err != nil {
		t.Fatal(err)
	}
	if _, c := f.lastText(t); c != 2 {
		t.Errorf("%d messages after the claim, want 2", c)
	}
}
