package whatsapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/yanit/yanit/channel/whatsapp/wire"
)

// Outbound is one message yanit sends: the addressing shared by every kind
// and its Content. Its JSON form (MarshalJSON, UnmarshalJSON) is the exact
// Cloud API request body, so an outbox can store what it will send.
type Outbound struct {
	// To is the user's phone number as E.164 digits (the wa_id).
	To string
	// Recipient is the user's business-scoped user id, for users known only
	// by it (2026 usernames; the field name is unverified). To wins when both
	// are set.
	Recipient string
	// ReplyTo, when set, makes the message a quoted reply to that wamid.
	ReplyTo string
	// BizOpaque is echoed back in the status webhooks of this message
	// (biz_opaque_callback_data): yanit puts the outbox id there.
	BizOpaque string
	// Content is what is sent: *Text, *Buttons, *List, *Template or *Media.
	Content Content
}

// Content is the body of an outbound message. The set is closed: *Text,
// *Buttons, *List, *Template and *Media implement it.
type Content interface {
	// Type is the request's "type" member.
	Type() string
	// Validate checks every WhatsApp limit and returns a *LimitError naming
	// the first field that breaks one, as a path into the request body.
	Validate() error
	// put writes the content into its member of req.
	put(req *wire.SendRequest)
}

// Interface guards.
var (
	_ Content = (*Text)(nil)
	_ Content = (*Buttons)(nil)
	_ Content = (*List)(nil)
	_ Content = (*Template)(nil)
	_ Content = (*Media)(nil)
)

// Text is a plain text message of at most MaxTextLen characters; longer
// answers go through SplitText first.
type Text struct {
	Body string
	// PreviewURL asks WhatsApp to render a preview of the first URL in Body.
	PreviewURL bool
}

// Type returns "text".
func (*Text) Type() string { return "text" }

func (t *Text) put(req *wire.SendRequest) {
	req.Text = &wire.Text{Body: t.Body, PreviewURL: t.PreviewURL}
}

// Buttons is an interactive message with one to three reply buttons.
type Buttons struct {
	Header  string // optional text header
	Body    string
	Footer  string // optional
	Buttons []Button
}

// Button is a reply button: ID comes back in the webhook when tapped, Title
// is what the user sees.
type Button struct {
	ID    string
	Title string
}

// Type returns "interactive".
func (*Buttons) Type() string { return "interactive" }

func (b *Buttons) put(req *wire.SendRequest) {
	in := interactiveFrame("button", b.Header, b.Body, b.Footer)
	in.Action = &wire.Action{Buttons: make([]wire.ActionButton, len(b.Buttons))}
	for i, btn := range b.Buttons {
		in.Action.Buttons[i] = wire.ActionButton{Type: "reply", Reply: wire.Reply{ID: btn.ID, Title: btn.Title}}
	}
	req.Interactive = in
}

// List is an interactive list message: a Button label opening one to ten
// Sections of rows, at most ten rows in all.
type List struct {
	Header   string // optional text header
	Body     string
	Footer   string // optional
	Button   string // label of the button that opens the list
	Sections []Section
}

// Section is a group of list rows; Title is required when the list has more
// than one section.
type Section struct {
	Title string
	Rows  []Row
}

// Row is a list row: ID comes back in the webhook when chosen.
type Row struct {
	ID          string
	Title       string
	Description string // optional
}

// Type returns "interactive".
func (*List) Type() string { return "interactive" }

func (l *List) put(req *wire.SendRequest) {
	in := interactiveFrame("list", l.Header, l.Body, l.Footer)
	in.Action = &wire.Action{Button: l.Button, Sections: make([]wire.Section, len(l.Sections))}
	for i, s := range l.Sections {
		ws := wire.Section{Title: s.Title, Rows: make([]wire.Reply, len(s.Rows))}
		for k, r := range s.Rows {
			ws.Rows[k] = wire.Reply{ID: r.ID, Title: r.Title, Description: r.Description}
		}
		in.Action.Sections[i] = ws
	}
	req.Interactive = in
}

func interactiveFrame(typ, header, body, footer string) *wire.Interactive {
	in := &wire.Interactive{Type: typ, Body: &wire.TextObject{Text: body}}
	if header != "" {
		in.Header = &wire.Header{Type: "text", Text: header}
	}
	if footer != "" {
		in.Footer = &wire.TextObject{Text: footer}
	}
	return in
}

// Template is an approved message template, the only kind WhatsApp allows
// outside the 24-hour customer-service window.
type Template struct {
	Name       string
	Language   string // "tr", "en_US", ...
	Components []Component
}

// Template component types.
const (
	ComponentHeader = "header"
	ComponentBody   = "body"
	ComponentButton = "button"
)

// Component fills the variables of one part of a template. Button components
// also name the button: SubType ("quick_reply", "url", ...) and its Index
// (0-9); both are ignored for other types.
type Component struct {
	Type       string
	SubType    string
	Index      int
	Parameters []Parameter
}

// Template parameter types.
const (
	ParamText     = "text"
	ParamPayload  = "payload"
	ParamImage    = "image"
	ParamVideo    = "video"
	ParamDocument = "document"
)

// Parameter is one template variable. Type says which member is used: Text,
// Payload (quick-reply buttons) or Media (image, video, document headers).
// Name is the parameter_name of templates created with named parameters.
type Parameter struct {
	Type    string
	Name    string
	Text    string
	Payload string
	Media   *MediaRef
}

// MediaRef points at media by uploaded ID or public Link (exactly one).
// Filename applies to documents.
type MediaRef struct {
	ID       string
	Link     string
	Filename string
}

// TextParam is a positional text parameter.
func TextParam(text string) Parameter { return Parameter{Type: ParamText, Text: text} }

// NamedTextParam is a named text parameter ({{name}} in the template).
func NamedTextParam(name, text string) Parameter {
	return Parameter{Type: ParamText, Name: name, Text: text}
}

// PayloadParam is the payload a quick-reply button returns when tapped.
func PayloadParam(payload string) Parameter { return Parameter{Type: ParamPayload, Payload: payload} }

// Type returns "template".
func (*Template) Type() string { return "template" }

func (t *Template) put(req *wire.SendRequest) {
	wt := &wire.Template{Name: t.Name, Language: wire.Language{Code: t.Language}}
	for _, c := range t.Components {
		wc := wire.TemplateComponent{Type: c.Type}
		if c.Type == ComponentButton {
			wc.SubType = c.SubType
			wc.Index = wire.Index(strconv.Itoa(c.Index))
		}
		for _, p := range c.Parameters {
			wp := wire.Parameter{Type: p.Type, ParameterName: p.Name, Text: p.Text, Payload: p.Payload}
			if p.Media != nil {
				m := &wire.Media{ID: p.Media.ID, Link: p.Media.Link, Filename: p.Media.Filename}
				switch p.Type {
				case ParamImage:
					wp.Image = m
				case ParamVideo:
					wp.Video = m
				case ParamDocument:
					wp.Document = m
				}
			}
			wc.Parameters = append(wc.Parameters, wp)
		}
		wt.Components = append(wt.Components, wc)
	}
	req.Template = wt
}

// MediaKind is the kind of a media message, which is also its request type.
type MediaKind string

// Media kinds.
const (
	MediaImage    MediaKind = "image"
	MediaVideo    MediaKind = "video"
	MediaAudio    MediaKind = "audio"
	MediaDocument MediaKind = "document"
	MediaSticker  MediaKind = "sticker"
)

// Media is an image, video, audio, document or sticker, by uploaded ID (kept
// 30 days) or public Link: exactly one. Caption applies to images, videos and
// documents; Filename to documents.
type Media struct {
	Kind     MediaKind
	ID       string
	Link     string
	Caption  string
	Filename string
}

// Type returns the media kind.
func (m *Media) Type() string { return string(m.Kind) }

func (m *Media) put(req *wire.SendRequest) {
	wm := &wire.Media{ID: m.ID, Link: m.Link, Caption: m.Caption, Filename: m.Filename}
	switch m.Kind {
	case MediaImage:
		req.Image = wm
	case MediaVideo:
		req.Video = wm
	case MediaAudio:
		req.Audio = wm
	case MediaDocument:
		req.Document = wm
	case MediaSticker:
		req.Sticker = wm
	}
}

// errNoContent is returned when an Outbound has no Content.
var errNoContent = errors.New("whatsapp: outbound message has no content")

// request builds the wire body of o without validating it.
func (o Outbound) request() (*wire.SendRequest, error) {
	if o.Content == nil {
		return nil, errNoContent
	}
	req := &wire.SendRequest{
		MessagingProduct:      wire.MessagingProduct,
		RecipientType:         wire.RecipientIndividual,
		To:                    o.To,
		Recipient:             o.Recipient,
		Type:                  o.Content.Type(),
		BizOpaqueCallbackData: o.BizOpaque,
	}
	if o.ReplyTo != "" {
		req.Context = &wire.ReplyContext{MessageID: o.ReplyTo}
	}
	o.Content.put(req)
	return req, nil
}

// MarshalJSON encodes o as the Cloud API request body
// {"messaging_product":"whatsapp","recipient_type":"individual","to":…,
// "type":T, T:{…}}. It does not validate; Client.Send does.
func (o Outbound) MarshalJSON() ([]byte, error) {
	req, err := o.request()
	if err != nil {
		return nil, err
	}
	return json.Marshal(req)
}

// UnmarshalJSON decodes a Cloud API request body of a type this package
// sends back into o.
func (o *Outbound) UnmarshalJSON(b []byte) error {
	var req wire.SendRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return fmt.Errorf("decoding outbound message: %w", err)
	}
	c, err := contentOf(&req)
	if err != nil {
		return fmt.Errorf("decoding outbound message: %w", err)
	}
	*o = Outbound{To: req.To, Recipient: req.Recipient, BizOpaque: req.BizOpaqueCallbackData, Content: c}
	if req.Context != nil {
		o.ReplyTo = req.Context.MessageID
	}
	return nil
}

// contentOf rebuilds the Content of a decoded request.
func contentOf(req *wire.SendRequest) (Content, error) {
	switch req.Type {
	case "text":
		if req.Text == nil {
			return nil, errors.New("type text without text")
		}
		return &Text{Body: req.Text.Body, PreviewURL: req.Text.PreviewURL}, nil
	case "interactive":
		return interactiveOf(req.Interactive)
	case "template":
		if req.Template == nil {
			return nil, errors.New("type template without template")
		}
		return templateOf(req.Template), nil
	}
	kind := MediaKind(req.Type)
	var wm *wire.Media
	switch kind {
	case MediaImage:
		wm = req.Image
	case MediaVideo:
		wm = req.Video
	case MediaAudio:
		wm = req.Audio
	case MediaDocument:
		wm = req.Document
	case MediaSticker:
		wm = req.Sticker
	default:
		return nil, fmt.Errorf("unsupported type %q", req.Type)
	}
	if wm == nil {
		return nil, fmt.Errorf("type %s without %s", kind, kind)
	}
	return &Media{Kind: kind, ID: wm.ID, Link: wm.Link, Caption: wm.Caption, Filename: wm.Filename}, nil
}

func interactiveOf(in *wire.Interactive) (Content, error) {
	if in == nil {
		return nil, errors.New("type interactive without interactive")
	}
	var header, body, footer string
	if in.Header != nil {
		if in.Header.Type != "text" {
			return nil, fmt.Errorf("unsupported interactive header type %q", in.Header.Type)
		}
		header = in.Header.Text
	}
	if in.Body != nil {
		body = in.Body.Text
	}
	if in.Footer != nil {
		footer = in.Footer.Text
	}
	action := in.Action
	if action == nil {
		action = &wire.Action{}
	}
	switch in.Type {
	case "button":
		b := &Buttons{Header: header, Body: body, Footer: footer}
		for _, wb := range action.Buttons {
			b.Buttons = append(b.Buttons, Button{ID: wb.Reply.ID, Title: wb.Reply.Title})
		}
		return b, nil
	case "list":
		l := &List{Header: header, Body: body, Footer: footer, Button: action.Button}
		for _, ws := range action.Sections {
			s := Section{Title: ws.Title}
			for _, r := range ws.Rows {
				s.Rows = append(s.Rows, Row{ID: r.ID, Title: r.Title, Description: r.Description})
			}
			l.Sections = append(l.Sections, s)
		}
		return l, nil
	}
	return nil, fmt.Errorf("unsupported interactive type %q", in.Type)
}

func templateOf(wt *wire.Template) *Template {
	t := &Template{Name: wt.Name, Language: wt.Language.Code}
	for _, wc := range wt.Components {
		c := Component{Type: wc.Type, SubType: wc.SubType}
		if wc.Index != "" {
			// A non-numeric index becomes -1, which Validate rejects.
			n, err := strconv.Atoi(string(wc.Index))
			if err != nil {
				n = -1
			}
			c.Index = n
		}
		for _, wp := range wc.Parameters {
			p := Parameter{Type: wp.Type, Name: wp.ParameterName, Text: wp.Text, Payload: wp.Payload}
			for _, m := range []*wire.Media{wp.Image, wp.Video, wp.Document} {
				if m != nil {
					p.Media = &MediaRef{ID: m.ID, Link: m.Link, Filename: m.Filename}
				}
			}
			c.Parameters = append(c.Parameters, p)
		}
		t.Components = append(t.Components, c)
	}
	return t
}

// ReadReceipt marks an inbound message read; Typing also shows the typing
// indicator until the reply is sent or 25 s pass, so set it only when a reply
// will follow.
type ReadReceipt struct {
	MessageID string
	Typing    bool
}

// MarshalJSON encodes r as the Cloud API mark-read body.
func (r ReadReceipt) MarshalJSON() ([]byte, error) {
	req := wire.ReadRequest{MessagingProduct: wire.MessagingProduct, Status: StatusRead, MessageID: r.MessageID}
	if r.Typing {
		req.TypingIndicator = &wire.TypingIndicator{Type: "text"}
	}
	return json.Marshal(req)
}

// Summary is the text a person reads of outbound content, for transcripts
// and consoles: the text or interactive body, a media caption (or the media
// kind in brackets), a template's name and text parameters in brackets.
func Summary(c Content) string {
	switch v := c.(type) {
	case *Text:
		return v.Body
	case *Buttons:
		return v.Body
	case *List:
		return v.Body
	case *Media:
		if v.Caption != "" {
			return v.Caption
		}
		return "[" + string(v.Kind) + "]"
	case *Template:
		parts := []string{"template " + v.Name}
		for _, comp := range v.Components {
			for _, p := range comp.Parameters {
				if p.Type == ParamText {
					parts = append(parts, p.Text)
				}
			}
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return ""
}
