package whatsapp

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/yanit/yanit/channel/whatsapp/wire"
)

// Batch is everything one webhook POST carried, flattened and normalised so
// that the rest of yanit can persist it without knowing Meta's JSON. Items
// keep the order in which they appear in the body.
type Batch struct {
	Messages    []Inbound      `json:"messages,omitempty"`
	Statuses    []Status       `json:"statuses,omitempty"`
	Errors      []ChannelError `json:"errors,omitempty"`
	Preferences []Preference   `json:"preferences,omitempty"`
	// Other holds changes of fields this package does not interpret
	// (template status updates, account alerts, ...), kept raw.
	Other []Change `json:"other,omitempty"`
}

// Len is the number of items in b.
func (b Batch) Len() int {
	return len(b.Messages) + len(b.Statuses) + len(b.Errors) + len(b.Preferences) + len(b.Other)
}

// Message types as Meta names them in Inbound.Type. Other values are kept as
// sent.
const (
	TypeText        = "text"
	TypeInteractive = "interactive"
	TypeButton      = "button"
	TypeImage       = "image"
	TypeVideo       = "video"
	TypeAudio       = "audio"
	TypeDocument    = "document"
	TypeSticker     = "sticker"
	TypeLocation    = "location"
	TypeContacts    = "contacts"
	TypeReaction    = "reaction"
	TypeUnsupported = "unsupported"
	TypeSystem      = "system"
	TypeTemplate    = "template"
)

// Inbound is one message from a WhatsApp user.
//
// Identity: WaID is the phone-number identity and the key for contacts when
// present; UserID is the business-scoped user id (BSUID). Either may be
// empty, never both.
type Inbound struct {
	Position      Position `json:"position"`
	WABAID        string   `json:"waba_id,omitempty"`
	PhoneNumberID string   `json:"phone_number_id"`
	DisplayPhone  string   `json:"display_phone,omitempty"`
	WaID          string   `json:"wa_id,omitempty"`
	UserID        string   `json:"user_id,omitempty"`
	Username      string   `json:"username,omitempty"`
	ProfileName   string   `json:"profile_name,omitempty"`
	WAMID         string   `json:"wamid"`
	// Timestamp is when the user sent the message; zero if Meta sent none.
	Timestamp time.Time `json:"timestamp"`
	// Type is the message type as sent (see the Type constants); unknown
	// types are kept with their content only in Raw.
	Type string `json:"type"`
	// Subtype refines Type: the interactive reply kind ("button_reply",
	// "list_reply") or the system notice kind.
	Subtype string `json:"subtype,omitempty"`
	// Text is the human-readable content: the text body, the tapped button
	// or row title, the media caption, the location name and address, the
	// reaction emoji, a contacts summary, "[unsupported]".
	Text string `json:"text,omitempty"`
	// ReplyID is the id of the tapped reply button or list row, or the
	// payload of the tapped template button.
	ReplyID  string          `json:"reply_id,omitempty"`
	Context  *Context        `json:"context,omitempty"`
	Referral *Referral       `json:"referral,omitempty"`
	Media    *Attachment     `json:"media,omitempty"`
	Location *Location       `json:"location,omitempty"`
	Reaction *Reaction       `json:"reaction,omitempty"`
	Contacts json.RawMessage `json:"contacts,omitempty"`
	Errors   []ErrorDetail   `json:"errors,omitempty"`
	Raw      json.RawMessage `json:"raw"`
}

// UnsupportedText is Inbound.Text for messages WhatsApp marks unsupported.
const UnsupportedText = "[unsupported]"

// Context links a message to an earlier one: a reply to (or a tap on) the
// message ID sent by From, or a forward marker. It is the wire type.
type Context = wire.Context

// Referral is the ad or post (click-to-WhatsApp) that led the user to
// write. It is the wire type.
type Referral = wire.Referral

// Attachment is received media. ID fetches it from the Graph API for 7 days.
type Attachment struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
	Voice    bool   `json:"voice,omitempty"`
	Animated bool   `json:"animated,omitempty"`
}

// Location is a shared pin, as the webhook carries it.
type Location = wire.Location

// Reaction is an emoji put on MessageID; an empty Emoji removes it.
type Reaction = wire.Reaction

// ErrorDetail is one error Meta reports in a webhook. It is an error, so
// that Classify can tell a sender what to do about a failed status.
type ErrorDetail struct {
	Code    int    `json:"code"`
	Title   string `json:"title,omitempty"`
	Message string `json:"message,omitempty"`
	Details string `json:"details,omitempty"`
	Href    string `json:"href,omitempty"`
}

// Error describes the error by code, title and details.
func (d ErrorDetail) Error() string {
	msg := "whatsapp: error " + strconv.Itoa(d.Code)
	if t := firstNonEmpty(d.Title, d.Message); t != "" {
		msg += ": " + t
	}
	if d.Details != "" {
		msg += ": " + d.Details
	}
	return msg
}

// Delivery states of Status.Status.
const (
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusPlayed    = "played"
	StatusFailed    = "failed"
)

// Status is a delivery report for a message yanit sent. Statuses arrive out
// of order and more than once: dedupe on (WAMID, Status) and apply them with
// Advances.
type Status struct {
	Position        Position  `json:"position"`
	WABAID          string    `json:"waba_id,omitempty"`
	PhoneNumberID   string    `json:"phone_number_id"`
	WAMID           string    `json:"wamid"`
	Status          string    `json:"status"`
	Timestamp       time.Time `json:"timestamp"`
	RecipientID     string    `json:"recipient_id,omitempty"`
	RecipientUserID string    `json:"recipient_user_id,omitempty"`
	// BizOpaque is the biz_opaque_callback_data sent with the message: yanit
	// puts the outbox id there.
	BizOpaque    string          `json:"biz_opaque,omitempty"`
	Conversation *Conversation   `json:"conversation,omitempty"`
	Pricing      *Pricing        `json:"pricing,omitempty"`
	Errors       []ErrorDetail   `json:"errors,omitempty"`
	Raw          json.RawMessage `json:"raw"`
}

// Conversation is the legacy conversation a status was billed under.
type Conversation struct {
	ID         string    `json:"id,omitempty"`
	OriginType string    `json:"origin_type,omitempty"`
	Expiration time.Time `json:"expiration,omitzero"`
}

// Pricing is how Meta prices a sent message (for analytics). Billable is nil
// when Meta did not say.
type Pricing struct {
	Billable     *bool  `json:"billable,omitempty"`
	PricingModel string `json:"pricing_model,omitempty"`
	Category     string `json:"category,omitempty"`
	Type         string `json:"type,omitempty"`
}

// statusRank orders the non-terminal delivery states.
func statusRank(s string) int {
	switch s {
	case StatusSent:
		return 1
	case StatusDelivered:
		return 2
	case StatusRead:
		return 3
	case StatusPlayed:
		return 4
	}
	return 0
}

// Advances reports whether a message in state from should move to state to:
// sent < delivered < read < played, never downgrading, and failed is terminal
// (it replaces any state but is never replaced). Unknown states never
// advance, and an empty from accepts any known state.
func Advances(from, to string) bool {
	switch {
	case from == StatusFailed:
		return false
	case to == StatusFailed:
		return true
	}
	return statusRank(to) > statusRank(from)
}

// ChannelError is an error Meta reports about the channel itself
// (value.errors): not tied to one message.
type ChannelError struct {
	Position      Position        `json:"position"`
	WABAID        string          `json:"waba_id,omitempty"`
	PhoneNumberID string          `json:"phone_number_id,omitempty"`
	ErrorDetail                   // Code, Title, Message, Details, Href
	Raw           json.RawMessage `json:"raw"`
}

// Preference values.
const (
	PreferenceStop   = "stop"
	PreferenceResume = "resume"
)

// Preference is a user stopping or resuming a category of messages (today
// "marketing_messages") from WhatsApp's own settings: an opt-out or opt-in
// yanit must honour.
type Preference struct {
	Position      Position        `json:"position"`
	WABAID        string          `json:"waba_id,omitempty"`
	PhoneNumberID string          `json:"phone_number_id,omitempty"`
	WaID          string          `json:"wa_id,omitempty"`
	UserID        string          `json:"user_id,omitempty"`
	Category      string          `json:"category,omitempty"`
	Value         string          `json:"value"`
	Detail        string          `json:"detail,omitempty"`
	Timestamp     time.Time       `json:"timestamp,omitzero"`
	Raw           json.RawMessage `json:"raw"`
}

// Change is a webhook change of a field this package does not interpret,
// kept whole.
type Change struct {
	Position Position        `json:"position"`
	WABAID   string          `json:"waba_id,omitempty"`
	Field    string          `json:"field"`
	Value    json.RawMessage `json:"value,omitempty"`
}

// Position locates an item in a webhook body: entry Entry, change Change
// (-1 for the entry itself), then element Index (-1 for the list itself) of
// the value's list List ("messages", "statuses", "errors", "contacts",
// "user_preferences"; empty for the change itself).
type Position struct {
	Entry  int    `json:"entry"`
	Change int    `json:"change"`
	List   string `json:"list,omitempty"`
	Index  int    `json:"index"`
}

func entryPos(i int) Position             { return Position{Entry: i, Change: -1, Index: -1} }
func changePos(i, j int) Position         { return Position{Entry: i, Change: j, Index: -1} }
func listPos(i, j int, l string) Position { return Position{Entry: i, Change: j, List: l, Index: -1} }
func itemPos(i, j int, l string, k int) Position {
	return Position{Entry: i, Change: j, List: l, Index: k}
}

// String renders p as a JSON path into the body:
// "entry[0].changes[1].value.messages[2]".
func (p Position) String() string {
	var b strings.Builder
	b.WriteString("entry[")
	b.WriteString(strconv.Itoa(p.Entry))
	b.WriteByte(']')
	if p.Change < 0 {
		return b.String()
	}
	b.WriteString(".changes[")
	b.WriteString(strconv.Itoa(p.Change))
	b.WriteByte(']')
	if p.List == "" {
		return b.String()
	}
	b.WriteString(".value.")
	b.WriteString(p.List)
	if p.Index < 0 {
		return b.String()
	}
	b.WriteByte('[')
	b.WriteString(strconv.Itoa(p.Index))
	b.WriteByte(']')
	return b.String()
}

// Contains reports whether q is p or lies inside it (p is an entry, change or
// list that holds q).
func (p Position) Contains(q Position) bool {
	if p.Entry != q.Entry {
		return false
	}
	if p.Change < 0 {
		return true
	}
	if p.Change != q.Change {
		return false
	}
	if p.List == "" {
		return true
	}
	if p.List != q.List {
		return false
	}
	return p.Index < 0 || p.Index == q.Index
}

// ItemError is one part of a webhook body that could not be used: an entry,
// a change, a list or a single item. Everything outside it was still parsed.
type ItemError struct {
	Position Position
	Err      error
}

// Error names the position and the cause.
func (e ItemError) Error() string {
	return "whatsapp: webhook " + e.Position.String() + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e ItemError) Unwrap() error { return e.Err }
