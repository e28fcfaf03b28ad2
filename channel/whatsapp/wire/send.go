package wire

// MessagingProduct is the constant every request and response carries.
const MessagingProduct = "whatsapp"

// RecipientIndividual is the only recipient_type yanit sends.
const RecipientIndividual = "individual"

// SendRequest is the body of POST /{version}/{phone_number_id}/messages.
// Type names the one content member that is set.
type SendRequest struct {
	MessagingProduct string `json:"messaging_product"`
	RecipientType    string `json:"recipient_type,omitempty"`
	To               string `json:"to,omitempty"`
	// Recipient addresses a user by business-scoped user id when no phone
	// number is known (2026 usernames; unverified field name).
	Recipient             string        `json:"recipient,omitempty"`
	Type                  string        `json:"type"`
	Context               *ReplyContext `json:"context,omitempty"`
	BizOpaqueCallbackData string        `json:"biz_opaque_callback_data,omitempty"`

	Text        *Text        `json:"text,omitempty"`
	Interactive *Interactive `json:"interactive,omitempty"`
	Template    *Template    `json:"template,omitempty"`
	Image       *Media       `json:"image,omitempty"`
	Video       *Media       `json:"video,omitempty"`
	Audio       *Media       `json:"audio,omitempty"`
	Document    *Media       `json:"document,omitempty"`
	Sticker     *Media       `json:"sticker,omitempty"`
}

// ReplyContext makes a sent message a quoted reply to MessageID.
type ReplyContext struct {
	MessageID string `json:"message_id"`
}

// Interactive is an interactive message. Outbound it is a reply-button
// ("button") or list ("list") message with Header, Body, Footer and Action;
// inbound it is the user's answer ("button_reply" or "list_reply").
type Interactive struct {
	Type   string      `json:"type"`
	Header *Header     `json:"header,omitempty"`
	Body   *TextObject `json:"body,omitempty"`
	Footer *TextObject `json:"footer,omitempty"`
	Action *Action     `json:"action,omitempty"`

	ButtonReply *Reply `json:"button_reply,omitempty"`
	ListReply   *Reply `json:"list_reply,omitempty"`
}

// Header is an interactive message header; yanit sends only Type "text".
type Header struct {
	Type string `json:"type"`
	Text string `json:"text,omitempty"`
}

// TextObject is the {text} object of an interactive body or footer.
type TextObject struct {
	Text string `json:"text"`
}

// Action holds the reply buttons, or the list's button label and sections.
type Action struct {
	Button   string         `json:"button,omitempty"`
	Buttons  []ActionButton `json:"buttons,omitempty"`
	Sections []Section      `json:"sections,omitempty"`
}

// ActionButton is one reply button; Type is always "reply".
type ActionButton struct {
	Type  string `json:"type"`
	Reply Reply  `json:"reply"`
}

// Reply is a button or list row: sent as a button's reply or a list row, and
// received back in button_reply or list_reply.
type Reply struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// Section is a titled group of list rows.
type Section struct {
	Title string  `json:"title,omitempty"`
	Rows  []Reply `json:"rows"`
}

// Template is a template message: an approved template by Name and Language
// with the parameters its Components need.
type Template struct {
	Name       string              `json:"name"`
	Language   Language            `json:"language"`
	Components []TemplateComponent `json:"components,omitempty"`
}

// Language selects a template translation by Code ("tr", "en_US").
type Language struct {
	Code   string `json:"code"`
	Policy string `json:"policy,omitempty"`
}

// TemplateComponent gives the parameters of one part of a template: Type is
// "header", "body" or "button"; buttons also carry SubType and Index.
type TemplateComponent struct {
	Type       string      `json:"type"`
	SubType    string      `json:"sub_type,omitempty"`
	Index      Index       `json:"index,omitempty"`
	Parameters []Parameter `json:"parameters,omitempty"`
}

// Parameter fills one template variable; Type names the member that is set.
type Parameter struct {
	Type          string `json:"type"`
	ParameterName string `json:"parameter_name,omitempty"`
	Text          string `json:"text,omitempty"`
	Payload       string `json:"payload,omitempty"`
	Image         *Media `json:"image,omitempty"`
	Video         *Media `json:"video,omitempty"`
	Document      *Media `json:"document,omitempty"`
}

// SendResponse is the success body of a send: the message was accepted, not
// yet delivered.
type SendResponse struct {
	MessagingProduct string            `json:"messaging_product,omitempty"`
	Contacts         []ResponseContact `json:"contacts,omitempty"`
	Messages         []ResponseMessage `json:"messages,omitempty"`
}

// ResponseContact maps the Input yanit sent to the user's WaID.
type ResponseContact struct {
	Input string `json:"input,omitempty"`
	WaID  string `json:"wa_id,omitempty"`
}

// ResponseMessage carries the wamid of an accepted message.
type ResponseMessage struct {
	ID            string `json:"id"`
	MessageStatus string `json:"message_status,omitempty"`
}

// ReadRequest marks an inbound message read, optionally showing a typing
// indicator until the reply (or 25 s).
type ReadRequest struct {
	MessagingProduct string           `json:"messaging_product"`
	Status           string           `json:"status"`
	MessageID        string           `json:"message_id"`
	TypingIndicator  *TypingIndicator `json:"typing_indicator,omitempty"`
}

// TypingIndicator is the typing bubble; Type is always "text".
type TypingIndicator struct {
	Type string `json:"type"`
}

// ReadResponse is the success body of a mark-read request.
type ReadResponse struct {
	Success bool `json:"success"`
}

// ErrorResponse is the body of every failed Graph API call.
type ErrorResponse struct {
	Error *GraphError `json:"error"`
}

// GraphError is the error object of a Graph API failure. Code is a pointer so
// that a body without one can be told apart from code 0.
type GraphError struct {
	Message        string     `json:"message,omitempty"`
	Type           string     `json:"type,omitempty"`
	Code           *int       `json:"code,omitempty"`
	ErrorSubcode   int        `json:"error_subcode,omitempty"`
	ErrorUserTitle string     `json:"error_user_title,omitempty"`
	ErrorUserMsg   string     `json:"error_user_msg,omitempty"`
	ErrorData      *ErrorData `json:"error_data,omitempty"`
	FBTraceID      string     `json:"fbtrace_id,omitempty"`
}
