package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/yanit/yanit/store"
)

var (
	sqlOpenConversationsOf     = query("OpenConversationsOf")
	sqlMissingContacts         = query("MissingContacts")
	sqlInsertOpenConversations = query("InsertOpenConversations")
	sqlInsertOutbound          = query("InsertOutbound")
	sqlOutboxEntries           = query("OutboxEntries")
	sqlRecordSends             = query("RecordSends")
	sqlSendRecords             = query("SendRecords")
	sqlUpdateMessageStatuses   = query("UpdateMessageStatuses")
)

// The batch forms of the outbox take a few statements whatever the size of
// the batch: arrays in, unnest in SQL.

// OpenConversations returns the open conversation of each contact on the
// number, creating the missing ones, by contact ID. It reads the open ones
// in one statement; when some are missing, it checks that their contacts
// exist (an error naming the first that does not, before anything is
// created), then creates them in one insert that, like OpenConversation's,
// does nothing for a contact that has an open conversation by then
// (conversations_one_open decides between racing opens), and reads the
// ones it did not create in one statement of its own snapshot. It tries
// that openTries times, in case a conversation is closed in between, so 1
// to 2+2×openTries statements, 1 or 3 but in a race.
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
	read := func(sql string, ids []int64) error {
		rows, err := q.db.Query(ctx, sql, args{"contact_ids": ids, "phone_number_id": phoneNumberID})
		cs, err := collect(rows, err, scanConversation)
		for _, c := range cs {
			out[c.ContactID] = c
		}
		return err
	}
	// Most contacts of a campaign's later batches have one open: look first.
	if err := read(sqlOpenConversationsOf, want); err != nil {
		return nil, err
	}
	if want = missing(); len(want) == 0 {
		return out, nil
	}
	rows, err := q.db.Query(ctx, sqlMissingContacts, args{"contact_ids": want})
	unknown, err := collect(rows, err, func(r scanner) (id int64, err error) { return id, r.Scan(&id) })
	if err != nil {
		return nil, err
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("contact %d: %w", unknown[0], store.ErrNotFound)
	}
	for try := 1; len(want) > 0 && try <= openTries; try++ {
		if err := read(sqlInsertOpenConversations, want); err != nil {
			return nil, err
		}
		if want = missing(); len(want) == 0 {
			break
		}
		// Another open created these first: read them, in a statement that
		// sees its commit.
		if err := read(sqlOpenConversationsOf, want); err != nil {
			return nil, err
		}
		want = missing()
	}
	if len(want) > 0 {
		return nil, fmt.Errorf("%w: the open conversation of contact %d was closed under each of %d tries",
			store.ErrConflict, want[0], openTries)
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
	convs := make([]int64, len(ms))
	types := make([]string, len(ms))
	bodies := make([]string, len(ms))
	payloads := make([]string, len(ms))
	for i, m := range ms {
		convs[i], types[i], bodies[i], payloads[i] = m.ConversationID, m.Type, m.Body, string(jsonObject(m.Payload))
	}
	rows, err := q.db.Query(ctx, sqlInsertOutbound, args{"conversation_ids": convs, "types": types,
		"bodies": bodies, "payloads": payloads})
	out, err := collect(rows, err, scanMessage)
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
	rows, err := q.db.Query(ctx, sqlOutboxEntries, args{"ids": ids})
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

// RecordSends records the sends in one UPDATE, which takes each message
// and each wamid once: the common case, where every send is recorded in
// one statement. The sends it did not record (a repeat, a conflict, a
// missing message, a message or wamid an earlier send of the batch has)
// are told apart in one more statement, as RecordSend tells one: a repeat
// of the recorded wamid is no error, another wamid or one another message
// has is ErrConflict, a missing message ErrNotFound. What that cannot tell
// (a message without a wamid whose wamid no other message has: the wamid
// of an earlier send that failed, or a batch that lost a race to write a
// wamid of another message and recorded nothing) goes through RecordSend's
// own logic, one send at a time. A send with an empty wamid gets an error
// in its slot, as RecordSend returns it.
//
// Inside a transaction, the UPDATE and each single send run under a
// savepoint (two more statements), so that losing a race on the unique
// index leaves the transaction usable.
func (q queries) RecordSends(ctx context.Context, sends []store.Send) ([]error, error) {
	if err := store.CheckOutboxBatch(len(sends), "sends"); err != nil {
		return nil, fmt.Errorf("recording sends: %w", err)
	}
	errs := make([]error, len(sends))
	// The sends the UPDATE takes, by message ID so that racing batches lock
	// their rows in one order; the others wait for the classification.
	var batch, rest []int
	ids := make(map[int64]bool, len(sends))
	wamids := make(map[string]bool, len(sends))
	for i, s := range sends {
		switch {
		case s.ChannelMessageID == "":
			errs[i] = fmt.Errorf("recording send of message %d: the channel message id is empty", s.MessageID)
		case ids[s.MessageID] || wamids[s.ChannelMessageID]:
			rest = append(rest, i)
		default:
			batch = append(batch, i)
			ids[s.MessageID], wamids[s.ChannelMessageID] = true, true
		}
	}
	slices.SortFunc(batch, func(a, b int) int { return cmp.Compare(sends[a].MessageID, sends[b].MessageID) })

	recorded := map[int64]bool{}
	if len(batch) > 0 {
		err := q.guarded(ctx, func(q queries) error {
			statuses, ranks := rankedStatuses()
			a := sendArgs(sends, batch)
			a["sent_ats"] = sentAts(sends, batch)
			a["ranked_statuses"], a["ranks"], a["rank"] = statuses, ranks, store.StatusRank(store.StatusSent)
			rows, err := q.db.Query(ctx, sqlRecordSends, a)
			got, err := collect(rows, err, func(r scanner) (id int64, err error) { return id, r.Scan(&id) })
			if err != nil {
				return err // the rows returned before the failure were rolled back
			}
			for _, id := range got {
				recorded[id] = true
			}
			return nil
		})
		switch {
		case pgCode(err) == codeUniqueViolation:
			// A wamid another writer recorded after the statement's
			// snapshot; nothing was recorded: classify them all.
		case err != nil:
			return nil, fmt.Errorf("recording %d sends: %w", len(sends), interpretError(err))
		}
	}
	for _, i := range batch {
		if !recorded[sends[i].MessageID] {
			rest = append(rest, i)
		}
	}
	if len(rest) == 0 {
		return errs, nil
	}
	slices.Sort(rest)
	single, err := q.classifySends(ctx, sends, rest, errs)
	if err != nil {
		return nil, fmt.Errorf("recording %d sends: %w", len(sends), interpretError(err))
	}
	for _, i := range single {
		s := sends[i]
		err := q.guarded(ctx, func(q queries) error { return q.recordSend(ctx, s.MessageID, s.ChannelMessageID, s.At) })
		if err != nil {
			err = interpretError(err)
			if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
				return nil, fmt.Errorf("recording %d sends: %w", len(sends), err)
			}
			errs[i] = fmt.Errorf("recording send of message %d as %q: %w", s.MessageID, s.ChannelMessageID, err)
		}
	}
	return errs, nil
}

// classifySends sets errs for the sends of rest that RecordSends did not
// record, in one statement, and returns those it cannot tell: a message
// without a channel id whose wamid no other message has.
func (q queries) classifySends(ctx context.Context, sends []store.Send, rest []int, errs []error) ([]int, error) {
	rows, err := q.db.Query(ctx, sqlSendRecords, sendArgs(sends, rest))
	if err != nil {
		return nil, err
	}
	var single []int
	var n int
	var recorded pgtype.Text
	var taken bool
	_, err = pgx.ForEachRow(rows, []any{&n, &recorded, &taken}, func() error {
		i := rest[n-1]
		s := sends[i]
		var err error
		switch {
		case !recorded.Valid:
			err = store.ErrNotFound
		case recorded.String == s.ChannelMessageID:
			// A repeat: recorded before.
		case recorded.String != "":
			err = fmt.Errorf("%w: the message was sent as %q", store.ErrConflict, recorded.String)
		case taken:
			err = fmt.Errorf("%w: another message has the channel id", store.ErrConflict)
		default:
			single = append(single, i)
		}
		if err != nil {
			errs[i] = fmt.Errorf("recording send of message %d as %q: %w", s.MessageID, s.ChannelMessageID, err)
		}
		return nil
	})
	slices.Sort(single)
	return single, err
}

// sendArgs are the message ids and channel ids of the sends at the indexes
// idx, as arrays.
func sendArgs(sends []store.Send, idx []int) args {
	ids := make([]int64, len(idx))
	wamids := make([]string, len(idx))
	for j, i := range idx {
		ids[j], wamids[j] = sends[i].MessageID, sends[i].ChannelMessageID
	}
	return args{"ids": ids, "channel_message_ids": wamids}
}

// sentAts are the times of the sends at the indexes idx, NULL for the zero
// time.
func sentAts(sends []store.Send, idx []int) []pgtype.Timestamptz {
	out := make([]pgtype.Timestamptz, len(idx))
	for j, i := range idx {
		if at := sends[i].At; !at.IsZero() {
			out[j] = pgtype.Timestamptz{Time: at, Valid: true}
		}
	}
	return out
}

// guarded runs fn under a savepoint when q is inside a transaction, so that
// a statement of fn that fails leaves the transaction usable; on the pool,
// where each statement is atomic by itself, it runs fn as it is.
func (q queries) guarded(ctx context.Context, fn func(q queries) error) error {
	if _, inTx := q.db.(pgx.Tx); inTx {
		return q.atomically(ctx, fn)
	}
	return fn(q)
}

// UpdateMessageStatuses applies the statuses in one statement: for each
// channel id, the highest-ranked of its statuses (store.StatusWinners)
// replaces a status of lower rank, and the statement reports which
// messages changed and which channel ids a message has, from which
// store.StatusOutcomes tells each status's outcome.
func (q queries) UpdateMessageStatuses(ctx context.Context, us []store.StatusUpdate) ([]store.StatusOutcome, error) {
	if err := store.CheckOutboxBatch(len(us), "statuses"); err != nil {
		return nil, fmt.Errorf("updating message statuses: %w", err)
	}
	winners := store.StatusWinners(us)
	applied, known := map[string]bool{}, map[string]bool{}
	if len(winners) > 0 {
		// By channel id, so that racing batches lock their rows in one order.
		slices.SortFunc(winners, func(a, b int) int {
			return strings.Compare(us[a].ChannelMessageID, us[b].ChannelMessageID)
		})
		n := len(winners)
		wamids, statuses, texts := make([]string, n), make([]string, n), make([]string, n)
		newRanks, codes := make([]int32, n), make([]int32, n)
		for j, i := range winners {
			u := us[i]
			wamids[j], statuses[j], texts[j] = u.ChannelMessageID, u.Status, u.ErrorText
			newRanks[j], codes[j] = int32(store.StatusRank(u.Status)), int32(u.ErrorCode)
		}
		rankedStatuses, ranks := rankedStatuses()
		rows, err := q.db.Query(ctx, sqlUpdateMessageStatuses, args{
			"channel_message_ids": wamids, "statuses": statuses, "new_ranks": newRanks,
			"error_codes": codes, "error_texts": texts, "ranked_statuses": rankedStatuses, "ranks": ranks,
		})
		if err == nil {
			var wamid string
			var changed, exists bool
			_, err = pgx.ForEachRow(rows, []any{&wamid, &changed, &exists}, func() error {
				applied[wamid], known[wamid] = changed, exists
				return nil
			})
		}
		if err != nil {
			return nil, fmt.Errorf("updating the statuses of %d messages: %w", n, interpretError(err))
		}
	}
	return store.StatusOutcomes(us, applied, known), nil
}
