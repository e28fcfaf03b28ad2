package store

import (
	"context"
	"time"
)

// MaxOutboxBatch is the most items one Outbox call takes.
const MaxOutboxBatch = 1000

// Outbox holds the batch forms of the outbox's operations, for bulk
// sending (a campaign's thousands of template messages): one statement for
// a batch where the single forms in Queries take one or more per message.
// Each keeps the rules of its single form, and each call is one
// transaction's worth of work: inside InTx it joins the transaction. More
// than MaxOutboxBatch items is an error naming the count; no items is a
// no-op.
type Outbox interface {
	// OpenConversations is OpenConversation for many contacts on one
	// number: the open conversation of each contact in contactIDs,
	// creating the missing ones open in bot mode with the state {}, keyed
	// by contact ID. Racing calls (and OpenConversation) get the same
	// conversation per contact. A contact ID that names no contact is an
	// error.
	OpenConversations(ctx context.Context, phoneNumberID string, contactIDs []int64) (map[int64]Conversation, error)
	// InsertOutbound stores outbound messages (Direction Outbound, no
	// channel id, status queued, a nil payload the empty object) and
	// returns them as stored, with IDs ascending in the order given. A
	// message that is not outbound, or has a channel id, is an error and
	// nothing is stored.
	InsertOutbound(ctx context.Context, ms []Message) ([]Message, error)
	// OutboxEntries returns the outbound messages ids with the number of
	// their conversation and their contact, by message ID. IDs with no
	// outbound message are left out.
	OutboxEntries(ctx context.Context, ids []int64) ([]OutboxEntry, error)
	// RecordSends is RecordSend for many messages. It returns one error per
	// send, in order: nil where the wamid is recorded (or was recorded
	// before: a repeat is a no-op), ErrNotFound when no outbound message
	// has the id, ErrConflict when the message has another channel id or
	// another message has this one. The error it returns beside them is
	// the store's failure, when nothing can be said of any send.
	RecordSends(ctx context.Context, sends []Send) ([]error, error)
	// UpdateMessageStatuses is UpdateMessageStatus for many statuses (one
	// status webhook may carry hundreds). Each message ends at the
	// highest-ranked of its stored status and the statuses given for it;
	// never lower (failed is terminal). It returns one outcome per status,
	// in order: StatusApplied for the status the message changed to (the
	// first such item), StatusStale for a status of equal or lower rank
	// than the message had or got from another item, StatusUnknown when no
	// message has the channel id. A failed status records its error code
	// and text.
	UpdateMessageStatuses(ctx context.Context, us []StatusUpdate) ([]StatusOutcome, error)
}

// OutboxEntry is an outbound message with what sending it needs.
type OutboxEntry struct {
	Message       Message
	PhoneNumberID string // of the message's conversation
	Contact       Contact
}

// Send is an outbound message the channel accepted.
type Send struct {
	MessageID        int64
	ChannelMessageID string    // the wamid; not empty
	At               time.Time // zero means now
}

// StatusUpdate is a delivery status a webhook reported.
type StatusUpdate struct {
	ChannelMessageID string
	Status           string // sent, delivered, read or failed
	ErrorCode        int
	ErrorText        string
}

// StatusOutcome is what UpdateMessageStatuses did with one status.
type StatusOutcome int

// Outcomes of UpdateMessageStatuses.
const (
	StatusUnknown StatusOutcome = iota // no message has the channel id
	StatusStale                        // the message has (or got) that rank or higher
	StatusApplied                      // the message changed to this status
)

// String names the outcome as the metrics do.
func (o StatusOutcome) String() string {
	switch o {
	case StatusApplied:
		return "applied"
	case StatusStale:
		return "stale"
	}
	return "unknown"
}

// RecipientMessage pairs a campaign recipient with its queued message.
type RecipientMessage struct {
	ContactID int64
	MessageID int64
}
