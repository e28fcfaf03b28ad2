package postgres_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres"
	"github.com/yanit/yanit/store/postgres/pgtest"
)

// TestOutboxStatementCounts checks that each batch form of the outbox
// sends as many statements for one item as for hundreds: the point of the
// batch forms.
func TestOutboxStatementCounts(t *testing.T) {
	s := pgtest.NewStore(t)
	ctx := testContext(t)
	q, count := postgres.CountingQueries(s)
	// statements runs fn and returns the statements it sent.
	statements := func(fn func() error) int64 {
		t.Helper()
		before := count()
		if err := fn(); err != nil {
			t.Fatal(err)
		}
		return count() - before
	}
	k, err := s.CreateCampaign(ctx, store.Campaign{Name: "sayım", PhoneNumberID: "1001", Template: "kampanya",
		Language: "tr", Category: "marketing", Segment: "herkes"})
	if err != nil {
		t.Fatal(err)
	}
	batch := 0
	// run sends one batch of n items through every method, and returns the
	// statements each took.
	run := func(n int) map[string]int64 {
		batch++
		us := make([]store.ContactUpsert, n)
		for i := range us {
			us[i] = store.ContactUpsert{WaID: fmt.Sprintf("90555%03d%04d", batch, i)}
		}
		people, err := s.UpsertContactsByWaID(ctx, us)
		if err != nil {
			t.Fatal(err)
		}
		contacts := make([]int64, n)
		rs := make([]store.CampaignRecipient, n)
		for i, p := range people {
			contacts[i] = p.ID
			rs[i] = store.CampaignRecipient{ContactID: p.ID, Status: store.RecipientPending}
		}
		if _, err := s.AddCampaignRecipients(ctx, k.ID, rs, 0, false); err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		var convs map[int64]store.Conversation
		got["OpenConversations, new"] = statements(func() (err error) {
			convs, err = q.OpenConversations(ctx, "1001", contacts)
			return err
		})
		got["OpenConversations, open"] = statements(func() (err error) {
			convs, err = q.OpenConversations(ctx, "1001", contacts)
			return err
		})
		ms := make([]store.Message, n)
		for i, id := range contacts {
			ms[i] = store.Message{ConversationID: convs[id].ID, Direction: store.Outbound, Type: "template", Body: "merhaba"}
		}
		var stored []store.Message
		got["InsertOutbound"] = statements(func() (err error) {
			stored, err = q.InsertOutbound(ctx, ms)
			return err
		})
		ids := make([]int64, n)
		queued := make([]store.RecipientMessage, n)
		sends := make([]store.Send, n)
		updates := make([]store.StatusUpdate, 0, 2*n)
		for i, m := range stored {
			ids[i] = m.ID
			queued[i] = store.RecipientMessage{ContactID: contacts[i], MessageID: m.ID}
			sends[i] = store.Send{MessageID: m.ID, ChannelMessageID: fmt.Sprintf("wamid.%d.%d", batch, i)}
			updates = append(updates, store.StatusUpdate{ChannelMessageID: sends[i].ChannelMessageID, Status: store.StatusDelivered},
				store.StatusUpdate{ChannelMessageID: sends[i].ChannelMessageID, Status: store.StatusRead})
		}
		got["MarkRecipientsQueued"] = statements(func() error { return q.MarkRecipientsQueued(ctx, k.ID, queued, time.Now()) })
		got["OutboxEntries"] = statements(func() error { _, err := q.OutboxEntries(ctx, ids); return err })
		check := func(errs []error, err error) error {
			if err != nil {
				return err
			}
			for i, err := range errs {
				if err != nil {
					return fmt.Errorf("send %d: %w", i, err)
				}
			}
			return nil
		}
		got["RecordSends"] = statements(func() error { return check(q.RecordSends(ctx, sends)) })
		got["RecordSends, repeated"] = statements(func() error { return check(q.RecordSends(ctx, sends)) })
		got["UpdateMessageStatuses"] = statements(func() error { _, err := q.UpdateMessageStatuses(ctx, updates); return err })
		got["UpdateMessageStatuses, stale"] = statements(func() error { _, err := q.UpdateMessageStatuses(ctx, updates); return err })
		return got
	}
	want := map[string]int64{
		"OpenConversations, new": 3, "OpenConversations, open": 1, "InsertOutbound": 1, "MarkRecipientsQueued": 1,
		"OutboxEntries": 1, "RecordSends": 1, "RecordSends, repeated": 2, "UpdateMessageStatuses": 1,
		"UpdateMessageStatuses, stale": 1,
	}
	for _, n := range []int{1, 10, store.MaxOutboxBatch / 2} {
		for name, got := range run(n) {
			if got != want[name] {
				t.Errorf("%s of %d items: %d statements, want %d", name, n, got, want[name])
			}
		}
	}
}

// TestRecordSendsRace races RecordSends with a transaction recording one
// of its wamids on another message: the batch's UPDATE, which did not see
// that wamid, fails on the unique index when the transaction commits. The
// send of the taken wamid is then a conflict, and the others are recorded
// all the same, on the pool and inside a transaction, which goes on.
func TestRecordSendsRace(t *testing.T) {
	for _, inTx := range []bool{false, true} {
		t.Run(map[bool]string{false: "pool", true: "transaction"}[inTx], func(t *testing.T) {
			s := pgtest.NewStore(t)
			ctx := testContext(t)
			contact, err := s.UpsertContact(ctx, store.ContactUpsert{WaID: "905550000300"})
			if err != nil {
				t.Fatal(err)
			}
			conv, err := s.OpenConversation(ctx, contact.ID, "1001")
			if err != nil {
				t.Fatal(err)
			}
			ms := make([]store.Message, 3)
			for i := range ms {
				ms[i] = store.Message{ConversationID: conv.ID, Direction: store.Outbound, Type: "text", Body: "x"}
			}
			m, err := s.InsertOutbound(ctx, ms)
			if err != nil {
				t.Fatal(err)
			}

			// A records wamid.W on message 0 and stays open until commitA.
			recorded, commitA, doneA := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			go func() {
				doneA <- s.InTx(ctx, func(tx store.Queries) error {
					err := tx.RecordSend(ctx, m[0].ID, "wamid.W", time.Time{})
					close(recorded)
					if err != nil {
						return err
					}
					<-commitA
					return nil
				})
			}()
			<-recorded

			type result struct {
				errs []error
				err  error
			}
			done := make(chan result, 1)
			go func() {
				sends := []store.Send{{MessageID: m[1].ID, ChannelMessageID: "wamid.W"}, {MessageID: m[2].ID, ChannelMessageID: "wamid.V"}}
				var r result
				if !inTx {
					r.errs, r.err = s.RecordSends(ctx, sends)
					done <- r
					return
				}
				r.err = s.InTx(ctx, func(tx store.Queries) error {
					var err error
					if r.errs, err = tx.RecordSends(ctx, sends); err != nil {
						return err
					}
					_, err = tx.InsertMessage(ctx, store.Message{ConversationID: conv.ID, Direction: store.Outbound, Type: "text"})
					return err
				})
				done <- r
			}()
			waitForIndexLock(t, s, done)
			close(commitA)
			if err := <-doneA; err != nil {
				t.Fatal(err)
			}
			r := <-done
			if r.err != nil {
				t.Fatalf("RecordSends: %v", r.err)
			}
			if len(r.errs) != 2 || !errors.Is(r.errs[0], store.ErrConflict) || r.errs[1] != nil {
				t.Fatalf("RecordSends = %v, want a conflict for the taken wamid and the other recorded", r.errs)
			}
			for i, want := range []string{"wamid.W", "", "wamid.V"} {
				got, err := s.GetMessage(ctx, m[i].ID)
				if err != nil || got.ChannelMessageID != want {
					t.Errorf("message %d = %q, %v; want %q", i, got.ChannelMessageID, err, want)
				}
			}
		})
	}
}

// waitForIndexLock waits until some session's UPDATE waits for another
// transaction (the unique index's check of a wamid it holds); it fails the
// test when the update reports done first.
func waitForIndexLock[T any](t *testing.T, s *postgres.Store, done <-chan T) {
	t.Helper()
	ctx := testContext(t)
	for {
		var waiting bool
		err := s.Pool().QueryRow(ctx, `SELECT EXISTS (
			SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'transactionid'
			  AND query LIKE '%UPDATE messages AS m%')`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("no update waited for the transaction")
		case r := <-done:
			t.Fatalf("RecordSends returned while the wamid was uncommitted: %+v", r)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
