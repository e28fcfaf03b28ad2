package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/yanit/yanit/jobs"
)

// Contact is one end user, keyed by the channel's user id (WhatsApp wa_id, or
// the business-scoped user_id when no wa_id is sent).
type Contact struct {
	ID            int64
	WaID          string // phone number in E.164 digits; empty when only UserID is known
	UserID        string // business-scoped user id (2026+); may be empty
	Name          string
	Locale        string
	LastInboundAt time.Time // zero until the contact writes; opens the 24-hour window
	// MarketingOptOut is true after the contact stopped marketing messages
	// (Meta's user_preferences webhook or an opt-out word), until a resume.
	MarketingOptOut bool
	// MarketingPrefAt is when MarketingOptOut was last set; zero if never.
	MarketingPrefAt time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// ContactUpsert identifies a contact by WaID (preferred) or UserID and sets
// the fields that are not empty. Seen, when not zero, moves LastInboundAt
// forward (never backward).
type ContactUpsert struct {
	WaID   string
	UserID string
	Name   string
	Locale string
	Seen   time.Time
}

// Conversation modes: who answers the user right now.
const (
	ModeBot   = "bot"
	ModeHuman = "human"
)

// Conversation statuses.
const (
	ConversationOpen   = "open"
	ConversationClosed = "closed"
)

// Conversation is the thread between one contact and one business phone
// number. At most one conversation per (contact, number) is open.
type Conversation struct {
	ID            int64
	ContactID     int64
	PhoneNumberID string // the business number (Cloud API phone_number_id)
	Status        string // ConversationOpen or ConversationClosed
	Mode          string // ModeBot or ModeHuman
	State         json.RawMessage
	CreatedAt     time.Time
	UpdatedAt     time.Time
	ClosedAt      time.Time // zero while open
}

// ConversationFilter narrows ListConversations. Zero values match all.
type ConversationFilter struct {
	ContactID int64
	Status    string
	Limit     int // default 50, at most 500
}

// Message directions.
const (
	Inbound  = "in"
	Outbound = "out"
)

// Message statuses. Outbound messages move queued → sent → delivered → read;
// failed is terminal. Inbound messages are received.
const (
	StatusReceived  = "received"
	StatusQueued    = "queued"
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusFailed    = "failed"
)

// StatusRank orders outbound statuses so that an update never downgrades a
// message: a status may only replace one of lower rank. Failed outranks all.
func StatusRank(s string) int {
	switch s {
	case StatusQueued:
		return 1
	case StatusSent:
		return 2
	case StatusDelivered:
		return 3
	case StatusRead:
		return 4
	case StatusFailed:
		return 5
	}
	return 0
}

// Message is one inbound or outbound message. Payload keeps the channel's
// JSON for the message so nothing the channel sent is lost.
type Message struct {
	ID               int64
	ConversationID   int64
	Direction        string // Inbound or Outbound
	ChannelMessageID string // wamid; empty for outbound until the channel accepts it
	Type             string // text, interactive, image, …
	Body             string // the text a person reads, when there is one
	Payload          json.RawMessage
	Status           string
	ErrorCode        int       // channel error code of a failed message, else 0
	ErrorText        string    // reason of a failed message
	SentAt           time.Time // the channel's timestamp for inbound; accepted time for outbound
	ProcessedAt      time.Time // inbound: when a turn consumed it; zero while pending
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Turn is the trace of one assistant step: what came in, what was understood,
// what was decided and why, and what went out.
type Turn struct {
	ID             int64
	ConversationID int64
	InboundIDs     []int64
	OutboundIDs    []int64
	Intent         string
	Confidence     float64
	Decision       string
	Reason         string
	Trace          json.RawMessage // stage details: candidates, slots, tools, sources, latencies
	LatencyMS      float64
	CreatedAt      time.Time
}

// Queries are the operations available on a Store and inside a transaction.
type Queries interface {
	jobs.Queue

	// UpsertContact creates or updates the contact identified by WaID, or by
	// UserID when WaID is empty. Both empty is an error.
	UpsertContact(ctx context.Context, c ContactUpsert) (Contact, error)
	GetContact(ctx context.Context, id int64) (Contact, error)
	// SetMarketingPreference records a marketing opt-out (true) or resume
	// (false) of the contact made at the given time. A preference older than
	// the one recorded is ignored (webhooks arrive out of order); it reports
	// whether the contact changed.
	SetMarketingPreference(ctx context.Context, contactID int64, optOut bool, at time.Time) (bool, error)

	// OpenConversation returns the open conversation of the contact on the
	// number, creating it in bot mode when there is none.
	OpenConversation(ctx context.Context, contactID int64, phoneNumberID string) (Conversation, error)
	GetConversation(ctx context.Context, id int64) (Conversation, error)
	ListConversations(ctx context.Context, f ConversationFilter) ([]Conversation, error)
	// SetConversationState replaces the mode and the state of an open
	// conversation; ErrNotFound when it is missing or closed.
	SetConversationState(ctx context.Context, id int64, mode string, state json.RawMessage) error
	CloseConversation(ctx context.Context, id int64) error

	// AcceptInbound stores an inbound message with its contact, the open
	// conversation and, when asked, its turn job, all or nothing. A message
	// whose channel id was stored before returns ErrDuplicate and enqueues
	// nothing.
	AcceptInbound(ctx context.Context, p InboundParams) (Message, error)

	// InsertMessage stores a message. An inbound message whose
	// ChannelMessageID was already stored returns ErrDuplicate and changes
	// nothing.
	InsertMessage(ctx context.Context, m Message) (Message, error)
	GetMessage(ctx context.Context, id int64) (Message, error)
	ListMessages(ctx context.Context, conversationID int64) ([]Message, error)
	// PendingInbound lists the inbound messages of the conversation that no
	// turn has consumed yet, in arrival order.
	PendingInbound(ctx context.Context, conversationID int64) ([]Message, error)
	MarkProcessed(ctx context.Context, ids []int64, at time.Time) error
	// RecordSend marks the outbound message id as accepted by the channel:
	// it records the channel message id (wamid) and the time, and moves the
	// status to sent unless it is already sent or beyond. Recording the same
	// wamid again is a no-op; ErrNotFound when no outbound message has the id;
	// ErrConflict when the message already has another channel id.
	RecordSend(ctx context.Context, id int64, channelMessageID string, at time.Time) error
	// FailOutbound marks the outbound message id as failed for good with the
	// channel's error code and reason (failed is terminal); ErrNotFound when
	// no outbound message has the id.
	FailOutbound(ctx context.Context, id int64, errCode int, errText string) error
	// UpdateMessageStatus applies a status to the message with the channel
	// id, unless the message already has an equal or higher rank. It
	// reports whether the status changed; ErrNotFound when no message has
	// that id.
	UpdateMessageStatus(ctx context.Context, channelMessageID, status string, errCode int, errText string) (bool, error)

	InsertTurn(ctx context.Context, t Turn) (Turn, error)
	ListTurns(ctx context.Context, conversationID int64) ([]Turn, error)

	// PutToolSet stores a named document of HTTP tool declarations (the
	// YAML of tools.LoadHTTPTools), replacing the one of that name.
	PutToolSet(ctx context.Context, name string, body []byte) (ToolSet, error)
	// ListToolSets returns every tool set, by name.
	ListToolSets(ctx context.Context) ([]ToolSet, error)
	// DeleteToolSet removes a tool set; ErrNotFound when there is none.
	DeleteToolSet(ctx context.Context, name string) error
}

// ToolSet is a document of HTTP tools an integrator declared through the
// admin API; every instance loads the stored sets at start.
type ToolSet struct {
	Name      string
	Body      []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Store is a database holding yanit's records.
type Store interface {
	Queries

	// InTx runs fn in one transaction: every write in it lands, or none.
	InTx(ctx context.Context, fn func(tx Queries) error) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Migrate applies the pending migrations, forward only.
	Migrate(ctx context.Context) error
	// MigrationStatus reports the applied and the newest known version.
	MigrationStatus(ctx context.Context) (current, latest int64, err error)
	// Dialect names the implementation: "postgres" or "sqlite".
	Dialect() string
	Close() error
}
