package wire

import "encoding/json"

// ObjectWhatsAppBusinessAccount is the value of Envelope.Object for every
// WhatsApp Cloud API webhook.
const ObjectWhatsAppBusinessAccount = "whatsapp_business_account"

// Envelope is the body of a webhook POST.
type Envelope struct {
	Object string  `json:"object"`
	Entry  []Entry `json:"entry"`
}

// Entry groups the changes of one WhatsApp Business Account (ID is the WABA id).
type Entry struct {
	ID      string   `json:"id,omitempty"`
	Changes []Change `json:"changes"`
}

// Change is one notification: Field names its kind ("messages",
// "user_preferences", ...) and Value carries it.
type Change struct {
	Field string `json:"field"`
	Value Value  `json:"value"`
}

// Value is the payload of a "messages" or "user_preferences" change. One value
// holds contacts and messages, or statuses, or errors, or user preferences.
type Value struct {
	MessagingProduct string           `json:"messaging_product,omitempty"`
	Metadata         *Metadata        `json:"metadata,omitempty"`
	Contacts         []Contact        `json:"contacts,omitempty"`
	Messages         []Message        `json:"messages,omitempty"`
	Statuses         []Status         `json:"statuses,omitempty"`
	Errors           []Error          `json:"errors,omitempty"`
	UserPreferences  []UserPreference `json:"user_preferences,omitempty"`
}

// Metadata names the business phone number a change concerns; route on
// PhoneNumberID.
type Metadata struct {
	DisplayPhoneNumber string `json:"display_phone_number,omitempty"`
	PhoneNumberID      string `json:"phone_number_id,omitempty"`
}

// Contact describes the WhatsApp user behind the messages of a value. WaID is
// the phone-number identity; UserID the business-scoped user id (BSUID) that
// may come with it or instead of it since 2026.
type Contact struct {
	Profile *Profile `json:"profile,omitempty"`
	WaID    string   `json:"wa_id,omitempty"`
	UserID  string   `json:"user_id,omitempty"`
}

// Profile is the user's public WhatsApp profile.
type Profile struct {
	Name     string `json:"name,omitempty"`
	Username string `json:"username,omitempty"`
}

// Message is one inbound message. Type names the member that holds the
// content ("text" → Text, "image" → Image, ...); unknown types keep their
// content only in the raw JSON.
type Message struct {
	From string `json:"from,omitempty"`
	// UserID is the sender's business-scoped user id. FromUserID is accepted
	// too, as some early documents of the 2026 change spell it that way.
	UserID     string    `json:"user_id,omitempty"`
	FromUserID string    `json:"from_user_id,omitempty"`
	ID         string    `json:"id"`
	Timestamp  Timestamp `json:"timestamp,omitempty"`
	Type       string    `json:"type"`
	Context    *Context  `json:"context,omitempty"`
	Referral   *Referral `json:"referral,omitempty"`

	Text        *Text           `json:"text,omitempty"`
	Interactive *Interactive    `json:"interactive,omitempty"`
	Button      *Button         `json:"button,omitempty"`
	Image       *Media          `json:"image,omitempty"`
	Video       *Media          `json:"video,omitempty"`
	Audio       *Media          `json:"audio,omitempty"`
	Document    *Media          `json:"document,omitempty"`
	Sticker     *Media          `json:"sticker,omitempty"`
	Location    *Location       `json:"location,omitempty"`
	Contacts    json.RawMessage `json:"contacts,omitempty"`
	Reaction    *Reaction       `json:"reaction,omitempty"`
	System      *System         `json:"system,omitempty"`
	Errors      []Error         `json:"errors,omitempty"`
}

// Context links a message to an earlier one: a reply to (or a tap on) the
// message ID sent by From, or a forward marker.
type Context struct {
	From                string `json:"from,omitempty"`
	ID                  string `json:"id,omitempty"`
	Forwarded           bool   `json:"forwarded,omitempty"`
	FrequentlyForwarded bool   `json:"frequently_forwarded,omitempty"`
}

// Referral tells which ad or post (click-to-WhatsApp) led the user to write.
type Referral struct {
	SourceURL    string `json:"source_url,omitempty"`
	SourceID     string `json:"source_id,omitempty"`
	SourceType   string `json:"source_type,omitempty"`
	Headline     string `json:"headline,omitempty"`
	Body         string `json:"body,omitempty"`
	MediaType    string `json:"media_type,omitempty"`
	ImageURL     string `json:"image_url,omitempty"`
	VideoURL     string `json:"video_url,omitempty"`
	ThumbnailURL string `json:"thumbnail_url,omitempty"`
	CTWAClickID  string `json:"ctwa_clid,omitempty"`
}

// Text is a text body: inbound {body}, outbound {body, preview_url}.
type Text struct {
	Body       string `json:"body"`
	PreviewURL bool   `json:"preview_url,omitempty"`
}

// Button is the tap on a template quick-reply button.
type Button struct {
	Payload string `json:"payload,omitempty"`
	Text    string `json:"text,omitempty"`
}

// Media is an image, video, audio, document or sticker. Inbound it carries ID,
// MimeType and SHA256 (and Voice for voice notes, Animated for stickers);
// outbound exactly one of ID and Link. Caption and Filename where the kind
// allows them.
type Media struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	MimeType string `json:"mime_type,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
	Voice    bool   `json:"voice,omitempty"`
	Animated bool   `json:"animated,omitempty"`
}

// Location is a shared pin.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
	URL       string  `json:"url,omitempty"`
}

// Reaction is an emoji put on (or, with an empty Emoji, removed from) the
// message MessageID.
type Reaction struct {
	MessageID string `json:"message_id,omitempty"`
	Emoji     string `json:"emoji,omitempty"`
}

// System is a notice from WhatsApp itself (the user changed number, changed a
// preference, ...).
type System struct {
	Body      string `json:"body,omitempty"`
	Type      string `json:"type,omitempty"`
	WaID      string `json:"wa_id,omitempty"`
	Customer  string `json:"customer,omitempty"`
	Marketing string `json:"marketing,omitempty"`
}

// Error is one error as Meta reports it in webhooks (value.errors,
// statuses[].errors, messages[].errors).
type Error struct {
	Code      int        `json:"code"`
	Title     string     `json:"title,omitempty"`
	Message   string     `json:"message,omitempty"`
	ErrorData *ErrorData `json:"error_data,omitempty"`
	Href      string     `json:"href,omitempty"`
}

// ErrorData holds the human-readable details of an error.
type ErrorData struct {
	Details          string `json:"details,omitempty"`
	MessagingProduct string `json:"messaging_product,omitempty"`
}

// Status reports what happened to a message yanit sent: ID is its wamid,
// Status one of sent, delivered, read, failed, played.
type Status struct {
	ID                    string        `json:"id"`
	Status                string        `json:"status"`
	Timestamp             Timestamp     `json:"timestamp,omitempty"`
	RecipientID           string        `json:"recipient_id,omitempty"`
	RecipientUserID       string        `json:"recipient_user_id,omitempty"`
	BizOpaqueCallbackData string        `json:"biz_opaque_callback_data,omitempty"`
	Conversation          *Conversation `json:"conversation,omitempty"`
	Pricing               *Pricing      `json:"pricing,omitempty"`
	Errors                []Error       `json:"errors,omitempty"`
}

// Conversation is the (legacy, often omitted since v24) conversation a status
// was billed under.
type Conversation struct {
	ID                  string    `json:"id,omitempty"`
	Origin              *Origin   `json:"origin,omitempty"`
	ExpirationTimestamp Timestamp `json:"expiration_timestamp,omitempty"`
}

// Origin is the category that opened a conversation.
type Origin struct {
	Type string `json:"type,omitempty"`
}

// Pricing is how Meta prices the message a status is about.
type Pricing struct {
	Billable     *bool  `json:"billable,omitempty"`
	PricingModel string `json:"pricing_model,omitempty"`
	Category     string `json:"category,omitempty"`
	Type         string `json:"type,omitempty"`
}

// UserPreference is a user stopping ("stop") or resuming ("resume") a
// category of messages (today only "marketing_messages").
type UserPreference struct {
	WaID      string    `json:"wa_id,omitempty"`
	UserID    string    `json:"user_id,omitempty"`
	Detail    string    `json:"detail,omitempty"`
	Category  string    `json:"category,omitempty"`
	Value     string    `json:"value,omitempty"`
	Timestamp Timestamp `json:"timestamp,omitempty"`
}
