package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Event is one change agents see live.
type Event struct {
	Kind           string          `json:"kind"` // one of the Kind constants
	TicketID       int64           `json:"ticket_id,omitempty"`
	ConversationID int64           `json:"conversation_id"`
	Team           string          `json:"team,omitempty"`
	AssigneeID     int64           `json:"assignee_id,omitempty"`
	At             time.Time       `json:"at"`
	Data           json.RawMessage `json:"data,omitempty"` // small: ids and a preview, never the whole transcript
}

// The kinds of Event.
const (
	KindTicketCreated     = "ticket_created"
	KindTicketAssigned    = "ticket_assigned"
	KindTicketTransferred = "ticket_transferred"
	KindTicketResolved    = "ticket_resolved"
	KindTicketReturned    = "ticket_returned" // handed back to the bot
	KindMessage           = "message"         // a message in a ticket's conversation, either direction
	KindNote              = "note"            // an agent's internal note
	KindStatus            = "status"          // a delivery status of an outbound message

	// KindResync is not published: a bus delivers it to its own subscribers
	// when events may have been lost (PGBus after it reconnected its
	// listener), so that a console reloads what it shows.
	KindResync = "resync"
)

// MaxEventBytes is the largest encoded (JSON) event a Bus accepts: a
// PostgreSQL NOTIFY payload must be shorter than 8000 bytes. LocalBus
// enforces it too, so that an event too large for production fails in
// development as well.
const MaxEventBytes = 7999

// ErrEventTooLarge is returned by Publish for an event whose encoding is
// longer than MaxEventBytes; Data should carry ids and a short preview.
var ErrEventTooLarge = errors.New("inbox: event too large")

// ErrBusClosed is returned by Publish after Close.
var ErrBusClosed = errors.New("inbox: bus closed")

// Bus carries events to every subscriber of every instance.
type Bus interface {
	Publish(ctx context.Context, e Event) error
	// Subscribe returns a channel of the events published from now on, until ctx ends or cancel is called; a subscriber that does not keep up loses events rather than blocking publishers (the console reloads the list on reconnect), and the loss is counted.
	Subscribe(ctx context.Context) (events <-chan Event, cancel func())
	Close() error
}

// encode checks e and returns its JSON, at most MaxEventBytes long. A zero
// At is set to now.
func encode(e *Event) ([]byte, error) {
	if e.Kind == "" {
		return nil, errors.New("inbox: event without a kind")
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encoding %s event: %w", e.Kind, err)
	}
	if len(b) > MaxEventBytes {
		return nil, fmt.Errorf("%w: %s event of conversation %d is %d bytes encoded, the limit is %d",
			ErrEventTooLarge, e.Kind, e.ConversationID, len(b), MaxEventBytes)
	}
	return b, nil
}
