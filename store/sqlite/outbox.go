package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/yanit/yanit/store"
)

var (
	sqlOpenConversationsOf     = query("OpenConversationsOf")
	sqlMissingContacts         = query("MissingContacts")
	sqlInsertOpenConversations = query("InsertOpenConversations")
	sqlInsertOutbound          = query("InsertOutbound")
	sqlOutboxEntries           = query("OutboxEntries")
)

// The batch forms of the outbox. Those that write more than one statement
// run in one transaction (the enclosing one inside InTx), holding the write
// lock; SQLite being embedded, a loop of the single form's statements costs
// no round trips, and RecordSends and UpdateMessageStatuses are such loops.

// OpenConversations returns the open conversation of each contact on the
// number, creating the missing ones, by contact ID. It reads the open ones
// first without the write lock; when some are missing, it looks again
// holding it, so that two callers create one conversation between them,
// and creates them, unless a contact is missing: an error naming the first,
// and nothing created.
func (q queries) OpenConversations(ctx context.Context, phoneNumberID string, contactIDs []int64) (map[int64]store.Conversation, error) {
	out, err := q.openConversations(ctx, phoneNumberID, contactIDs)
	if err != nil {
		return nil, fmt.Errorf("opening conversations of %d contacts on %s: %w", len(contactIDs), phoneNumberID, interpretError(err))
	}
	return out, nil
}

func (q queries) openConversations(ctx context.Context, phoneNumberID string, contactIDs []int64) (map[int64]store.Conversation, error) {
	if err := store.CheckOutboxBatch(len(contactIDs), "contacts"); err != nil {
		return nil, err
	}
	out := make(map[int64]store.Conversation, len(contactIDs))
	if len(contactIDs) == 0 {
		return out, nil
	}
	want := slices.Clone(contactIDs)
	slices.Sort(want)
	want = slices.Compact(want)
	// missing lists the contacts of want without a conversation in out.
	missing := func() []int64 {
		return slices.DeleteFunc(want, func(id int64) bool { _, ok := out[id]; return ok })
	}
	read := func(q queries, query string, ids []int64, a ...any) error {
		a = append(a, sql.Named("contact_ids", jsonArray(ids)), sql.Named("phone_number_id", phoneNumberID))
		rows, err := q.db.QueryContext(ctx, query, a...)
		cs, err := collect(rows, err, scanConversation)
		for _, c := range cs {
			out[c.ContactID] = c
		}
		return err
	}
	if err := read(q, sqlOpenConversationsOf, want); err != nil {
		return nil, err
	}
	if want = missing(); len(want) == 0 {
		return out, nil
	}
	err := q.atomically(ctx, func(q queries) error {
		if err := read(q, sqlOpenConversationsOf, want); err != nil {
			return err
		}
		if want = missing(); len(want) == 0 {
			return nil
		}
		rows, err := q.db.QueryContext(ctx, sqlMissingContacts, sql.Named("contact_ids", jsonArray(want)))
		unknown, err := collect(rows, err, func(r scanner) (id int64, err error) { return id, r.Scan(&id) })
		if err != nil {
			return err
		}
		if len(unknown) > 0 {
			return fmt.Errorf("contact %d: %w", unknown[0], store.ErrNotFound)
		}
		if err := read(q, sqlInsertOpenConversations, want, sql.Named("now", unixMicro(now()))); err != nil {
			return err
		}
		if want = missing(); len(want) > 0 {
			return fmt.Errorf("contact %d: no conversation was created", want[0])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// InsertOutbound stores queued outbound messages in one statement and
// returns them as stored, in the order given (their IDs ascend in it); a
// nil payload is the empty object. A message whose conversation is missing
// fails the statement: ErrNotFound, and nothing is stored.
func (q queries) InsertOutbound(ctx context.Context, ms []store.Message) ([]store.Message, error) {
	if err := store.CheckOutbound(ms); err != nil {
		return nil, fmt.Errorf("inserting %d outbound messages: %w", len(ms), err)
	}
	if len(ms) == 0 {
		return []store.Message{}, nil
	}
	batch := make([][4]any, len(ms))
	for i, m := range ms {
		batch[i] = [4]any{m.ConversationID, m.Type, m.Body, jsonText(m.Payload, "{}")}
	}
	b, err := json.Marshal(batch)
	var out []store.Message
	if err == nil {
		rows, qerr := q.db.QueryContext(ctx, sqlInsertOutbound, sql.Named("batch", string(b)), sql.Named("now", unixMicro(now())))
		out, err = collect(rows, qerr, scanMessage)
	}
	if err != nil {
		return nil, fmt.Errorf("inserting %d outbound messages: %w", len(ms), interpretError(err))
	}
	// Inserted in the order given, they got ascending IDs.
	slices.SortFunc(out, func(a, b store.Message) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// OutboxEntries returns the outbound messages ids, each with its
// conversation's number and its contact, by message ID, in one statement.
func (q queries) OutboxEntries(ctx context.Context, ids []int64) ([]store.OutboxEntry, error) {
	if err := store.CheckOutboxBatch(len(ids), "messages"); err != nil {
		return nil, fmt.Errorf("reading outbox messages: %w", err)
	}
	if len(ids) == 0 {
		return []store.OutboxEntry{}, nil
	}
	rows, err := q.db.QueryContext(ctx, sqlOutboxEntries, sql.Named("ids", jsonArray(ids)))
	es, err := collect(rows, err, scanOutboxEntry)
	if err != nil {
		return nil, fmt.Errorf("reading %d outbox messages: %w", len(ids), interpretError(err))
	}
	if es == nil {
		es = []store.OutboxEntry{}
	}
	return es, nil
}

// scanOutboxEntry scans a message's columns, its conversation's number and
// its contact's columns.
func scanOutboxEntry(r scanner) (store.OutboxEntry, error) {
	var e store.OutboxEntry
	m, err := scanMessage(nestScanner{r, func(r scanner) error {
		var err error
		e.Contact, err = scanContact(prefixScanner{r, []any{&e.PhoneNumberID}})
		return err
	}})
	e.Message = m
	return e, err
}

// nestScanner scans the columns of a record, then those that then reads
// after them, in one Scan of the row.
type nestScanner struct {
	r    scanner
	then func(scanner) error
}

func (n nestScanner) Scan(dest ...any) error { return n.then(prefixScanner{n.r, dest}) }

// RecordSends records each send as RecordSend does, in one transaction. A
// send with an empty wamid, a missing message (ErrNotFound) or another
// wamid recorded (ErrConflict) gets the error in its slot; any other error
// fails the call, and nothing is recorded.
func (q queries) RecordSends(ctx context.Context, sends []store.Send) ([]error, error) {
	if err := store.CheckOutboxBatch(len(sends), "sends"); err != nil {
		return nil, fmt.Errorf("recording sends: %w", err)
	}
	errs := make([]error, len(sends))
	if len(sends) == 0 {
		return errs, nil
	}
	err := q.atomically(ctx, func(q queries) error {
		for i, s := range sends {
			if s.ChannelMessageID == "" {
				errs[i] = fmt.Errorf("recording send of message %d: the channel message id is empty", s.MessageID)
				continue
			}
			err := interpretError(q.recordSend(ctx, s.MessageID, s.ChannelMessageID, s.At))
			switch {
			case err == nil:
			case errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict):
				errs[i] = fmt.Errorf("recording send of message %d as %q: %w", s.MessageID, s.ChannelMessageID, err)
			default:
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recording %d sends: %w", len(sends), err)
	}
	return errs, nil
}

// UpdateMessageStatuses applies, in one transaction, for each channel id,
// the highest-ranked of its statuses (store.StatusWinners) as
// UpdateMessageStatus does, and tells each status's outcome with
// store.StatusOutcomes.
func (q queries) UpdateMessageStatuses(ctx context.Context, us []store.StatusUpdate) ([]store.StatusOutcome, error) {
	if err := store.CheckOutboxBatch(len(us), "statuses"); err != nil {
		return nil, fmt.Errorf("updating message statuses: %w", err)
	}
	winners := store.StatusWinners(us)
	applied, known := map[string]bool{}, map[string]bool{}
	if len(winners) > 0 {
		err := q.atomically(ctx, func(q queries) error {
			for _, i := range winners {
				u := us[i]
				changed, err := q.updateMessageStatus(ctx, u.ChannelMessageID, u.Status, u.ErrorCode, u.ErrorText)
				switch {
				case errors.Is(err, store.ErrNotFound):
				case err != nil:
					return fmt.Errorf("message %q: %w", u.ChannelMessageID, err)
				default:
					applied[u.ChannelMessageID], known[u.ChannelMessageID] = changed, true
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("updating the statuses of %d messages: %w", len(winners), interpretError(err))
		}
	}
	return store.StatusOutcomes(us, applied, known), nil
}
