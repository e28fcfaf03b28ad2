package simulator

import (
	"time"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/channel/whatsapp/wire"
)

// Direction tells who wrote a message.
type Direction string

// Directions.
const (
	// FromUser is a message of the simulated user to the business.
	FromUser Direction = "user"
	// FromBusiness is a message yanit sent through the Graph API.
	FromBusiness Direction = "business"
)

// StatusAccepted is the Status of a business message the Graph API accepted
// and whose sent status has not been reported yet; it then becomes
// whatsapp.StatusSent, StatusDelivered and StatusRead.
const StatusAccepted = "accepted"

// Message is one entry of a user's transcript.
type Message struct {
	// Seq is the 1-based position in the transcript.
	Seq       int       `json:"seq"`
	ID        string    `json:"id"` // the wamid
	Direction Direction `json:"direction"`
	Time      time.Time `json:"time"`

	// Outbound is what the business sent (FromBusiness), decoded from the
	// request body; its JSON form is that body.
	Outbound *whatsapp.Outbound `json:"request,omitempty"`
	// Status is the business message's delivery state: StatusAccepted, sent,
	// delivered, read.
	Status string `json:"status,omitempty"`
	// Answer is the id of the reply button or list row, or the quick-reply
	// payload, the user last chose on this business message.
	Answer string `json:"answer,omitempty"`

	// Inbound is the user's message (FromUser) exactly as its webhook
	// carried it.
	Inbound *wire.Message `json:"message,omitempty"`
	// Delivered reports that yanit answered the message's webhook with 200.
	Delivered bool `json:"delivered,omitempty"`
	// Read reports that yanit marked the message (or a later one) read.
	Read bool `json:"read,omitempty"`
	// Error says why the webhook was not delivered.
	Error string `json:"error,omitempty"`
}

// FromBusiness reports whether yanit sent m.
func (m Message) FromBusiness() bool { return m.Direction == FromBusiness }

// Type is the message type: the request's type for business messages
// ("text", "interactive", "template", "image", ...), the webhook's for
// user messages.
func (m Message) Type() string {
	switch {
	case m.Outbound != nil && m.Outbound.Content != nil:
		return m.Outbound.Content.Type()
	case m.Inbound != nil:
		return m.Inbound.Type
	}
	return ""
}

// Text is the human-readable content: the text or interactive body, the
// media caption, a template's name and parameters; for user messages the
// text, the tapped button or row title, the caption.
func (m Message) Text() string {
	switch {
	case m.Outbound != nil:
		return whatsapp.Summary(m.Outbound.Content)
	case m.Inbound != nil:
		return inboundText(m.Inbound)
	}
	return ""
}

func inboundText(m *wire.Message) string {
	switch {
	case m.Text != nil:
		return m.Text.Body
	case m.Interactive != nil && m.Interactive.ButtonReply != nil:
		return m.Interactive.ButtonReply.Title
	case m.Interactive != nil && m.Interactive.ListReply != nil:
		return m.Interactive.ListReply.Title
	case m.Button != nil:
		return m.Button.Text
	case m.Location != nil:
		return m.Location.Name
	case m.Reaction != nil:
		return m.Reaction.Emoji
	}
	for _, md := range []*wire.Media{m.Image, m.Video, m.Document, m.Audio, m.Sticker} {
		if md != nil {
			return md.Caption
		}
	}
	return ""
}
