package whatsapp

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// WhatsApp limits, in characters (runes), as the Cloud API enforces them.
const (
	MaxTextLen           = 4096 // text.body
	MaxButtonsBodyLen    = 1024 // reply-button message body
	MaxListBodyLen       = 4096 // list message body
	MaxHeaderLen         = 60   // interactive text header
	MaxFooterLen         = 60   // interactive footer
	MaxButtons           = 3    // reply buttons per message
	MaxButtonIDLen       = 256
	MaxButtonTitleLen    = 20
	MaxListButtonLen     = 20 // the label that opens a list
	MaxSections          = 10
	MaxRows              = 10 // over all sections of a list
	MaxSectionTitleLen   = 24
	MaxRowIDLen          = 200
	MaxRowTitleLen       = 24
	MaxRowDescriptionLen = 72
	MaxCaptionLen        = 1024 // image, video and document captions
	MaxTemplateNameLen   = 512
	MaxTemplateButtons   = 10 // button indexes 0-9
	MaxHeaderParamLen    = 60 // a text parameter of a template header
	// MaxBizOpaqueLen bounds biz_opaque_callback_data (unverified: Meta's
	// documents give 512).
	MaxBizOpaqueLen = 512
	// MaxPhoneDigits is the longest E.164 number.
	MaxPhoneDigits = 15
	// maxRecipientLen bounds a business-scoped user id ("CC." and up to 128
	// characters, with room for a parent id prefix).
	maxRecipientLen = 256
)

// ErrInvalidMessage is what every *LimitError reports itself as to errors.Is:
// a request that WhatsApp would reject, caught before sending.
var ErrInvalidMessage = errors.New("whatsapp: invalid message")

// LimitError names the first field of a request that breaks a WhatsApp rule.
// Field is a path into the request body
// ("interactive.action.buttons[1].reply.title"); Limit and Got are the bound
// and the actual value (characters or items) when the rule is one, else 0.
type LimitError struct {
	Field   string
	Limit   int
	Got     int
	Problem string
}

// Error describes the field and the rule it breaks.
func (e *LimitError) Error() string {
	if e.Limit == 0 && e.Got == 0 {
		return fmt.Sprintf("whatsapp: invalid message: %s: %s", e.Field, e.Problem)
	}
	return fmt.Sprintf("whatsapp: invalid message: %s: %s (got %d, limit %d)", e.Field, e.Problem, e.Got, e.Limit)
}

// Is reports ErrInvalidMessage.
func (e *LimitError) Is(target error) bool { return target == ErrInvalidMessage }

// checker keeps the first rule broken.
type checker struct{ first *LimitError }

func (c *checker) fail(field, problem string, limit, got int) {
	if c.first == nil {
		c.first = &LimitError{Field: field, Limit: limit, Got: got, Problem: problem}
	}
}

func (c *checker) err() error {
	if c.first == nil {
		return nil
	}
	return c.first
}

// text checks a string's length in characters; required strings must not be
// blank.
func (c *checker) text(field, s string, max int, required bool) {
	if required && strings.TrimSpace(s) == "" {
		c.fail(field, "required", 0, 0)
		return
	}
	if n := utf8.RuneCountInString(s); n > max {
		c.fail(field, "too long", max, n)
	}
}

// count checks the number of items of a list.
func (c *checker) count(field string, n, min, max int) {
	switch {
	case n < min:
		c.fail(field, "too few", min, n)
	case n > max:
		c.fail(field, "too many", max, n)
	}
}

// Validate checks the addressing of o and then its Content. It returns a
// *LimitError for the first rule broken.
func (o Outbound) Validate() error {
	var c checker
	switch {
	case o.To != "":
		c.phone("to", o.To)
	case o.Recipient != "":
		c.text("recipient", o.Recipient, maxRecipientLen, true)
		if strings.ContainsFunc(o.Recipient, isSpace) {
			c.fail("recipient", "must not contain white space", 0, 0)
		}
	default:
		c.fail("to", "required (or recipient)", 0, 0)
	}
	if o.ReplyTo != "" {
		c.text("context.message_id", o.ReplyTo, maxRecipientLen, true)
	}
	c.text("biz_opaque_callback_data", o.BizOpaque, MaxBizOpaqueLen, false)
	if o.Content == nil {
		c.fail("type", "required: no content", 0, 0)
	}
	if err := c.err(); err != nil {
		return err
	}
	return o.Content.Validate()
}

// phone checks E.164 digits with an optional leading "+".
func (c *checker) phone(field, s string) {
	digits := strings.TrimPrefix(s, "+")
	for _, r := range digits {
		if r < '0' || r > '9' {
			c.fail(field, "must be an E.164 number: digits only", 0, 0)
			return
		}
	}
	c.count(field, len(digits), 1, MaxPhoneDigits)
}

// Validate checks the body length.
func (t *Text) Validate() error {
	var c checker
	c.text("text.body", t.Body, MaxTextLen, true)
	return c.err()
}

// Validate checks header, body, footer and every button: one to three, ids
// and titles within their limits and unique.
func (b *Buttons) Validate() error {
	var c checker
	c.text("interactive.header.text", b.Header, MaxHeaderLen, false)
	c.text("interactive.body.text", b.Body, MaxButtonsBodyLen, true)
	c.text("interactive.footer.text", b.Footer, MaxFooterLen, false)
	c.count("interactive.action.buttons", len(b.Buttons), 1, MaxButtons)
	ids, titles := map[string]bool{}, map[string]bool{}
	for i, btn := range b.Buttons {
		path := "interactive.action.buttons[" + strconv.Itoa(i) + "].reply."
		c.text(path+"id", btn.ID, MaxButtonIDLen, true)
		c.text(path+"title", btn.Title, MaxButtonTitleLen, true)
		if ids[btn.ID] {
			c.fail(path+"id", "duplicate button id", 0, 0)
		}
		if titles[btn.Title] {
			c.fail(path+"title", "duplicate button title", 0, 0)
		}
		ids[btn.ID], titles[btn.Title] = true, true
	}
	return c.err()
}

// Validate checks header, body, footer, the button label, one to ten
// sections (titled when more than one), at most ten rows over all sections
// and every row, with unique row ids.
func (l *List) Validate() error {
	var c checker
	c.text("interactive.header.text", l.Header, MaxHeaderLen, false)
	c.text("interactive.body.text", l.Body, MaxListBodyLen, true)
	c.text("interactive.footer.text", l.Footer, MaxFooterLen, false)
	c.text("interactive.action.button", l.Button, MaxListButtonLen, true)
	c.count("interactive.action.sections", len(l.Sections), 1, MaxSections)
	rows := 0
	ids := map[string]bool{}
	for i, s := range l.Sections {
		path := "interactive.action.sections[" + strconv.Itoa(i) + "]"
		c.text(path+".title", s.Title, MaxSectionTitleLen, len(l.Sections) > 1)
		c.count(path+".rows", len(s.Rows), 1, MaxRows)
		for k, r := range s.Rows {
			rp := path + ".rows[" + strconv.Itoa(k) + "]."
			c.text(rp+"id", r.ID, MaxRowIDLen, true)
			c.text(rp+"title", r.Title, MaxRowTitleLen, true)
			c.text(rp+"description", r.Description, MaxRowDescriptionLen, false)
			if ids[r.ID] {
				c.fail(rp+"id", "duplicate row id", 0, 0)
			}
			ids[r.ID] = true
		}
		rows += len(s.Rows)
	}
	if rows > MaxRows {
		c.fail("interactive.action.sections", "too many rows over all sections", MaxRows, rows)
	}
	return c.err()
}

// Validate checks the name, the language and every component and parameter:
// known types, buttons with a sub_type and a unique index 0-9, text
// parameters without the line breaks, tabs and runs of spaces Meta rejects,
// media by exactly one of id and link, no mix of named and positional
// parameters in a component.
func (t *Template) Validate() error {
	var c checker
	c.text("template.name", t.Name, MaxTemplateNameLen, true)
	if strings.ContainsFunc(t.Name, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') }) {
		c.fail("template.name", "only lowercase letters, digits and underscores", 0, 0)
	}
	c.text("template.language.code", t.Language, 16, true)
	indexes := map[int]bool{}
	for i, comp := range t.Components {
		path := "template.components[" + strconv.Itoa(i) + "]"
		switch comp.Type {
		case ComponentHeader, ComponentBody:
			if comp.SubType != "" {
				c.fail(path+".sub_type", "only for button components", 0, 0)
			}
		case ComponentButton:
			c.text(path+".sub_type", comp.SubType, 32, true)
			if comp.Index < 0 || comp.Index >= MaxTemplateButtons {
				c.fail(path+".index", "must be 0-9", 0, 0)
			}
			if indexes[comp.Index] {
				c.fail(path+".index", "duplicate button index", 0, 0)
			}
			indexes[comp.Index] = true
		default:
			c.fail(path+".type", "must be header, body or button", 0, 0)
		}
		c.parameters(path, comp)
	}
	return c.err()
}

func (c *checker) parameters(path string, comp Component) {
	named, names := 0, map[string]bool{}
	for k, p := range comp.Parameters {
		pp := path + ".parameters[" + strconv.Itoa(k) + "]"
		if p.Name != "" {
			named++
			if strings.ContainsFunc(p.Name, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') }) {
				c.fail(pp+".parameter_name", "only lowercase letters, digits and underscores", 0, 0)
			}
			if names[p.Name] {
				c.fail(pp+".parameter_name", "duplicate parameter name", 0, 0)
			}
			names[p.Name] = true
		}
		switch p.Type {
		case ParamText:
			if comp.Type == ComponentHeader {
				c.text(pp+".text", p.Text, MaxHeaderParamLen, true)
			} else {
				// Body and button parameters have no bound of their own here:
				// the approved template bounds the rendered message.
				c.text(pp+".text", p.Text, math.MaxInt, true)
			}
			if comp.Type != ComponentButton && badParamText(p.Text) {
				c.fail(pp+".text", "no line breaks, tabs or more than 4 consecutive spaces", 0, 0)
			}
		case ParamPayload:
			if comp.Type != ComponentButton {
				c.fail(pp+".type", "payload only in button components", 0, 0)
			}
			c.text(pp+".payload", p.Payload, MaxButtonIDLen, true)
		case ParamImage, ParamVideo, ParamDocument:
			if comp.Type != ComponentHeader {
				c.fail(pp+".type", p.Type+" only in header components", 0, 0)
			}
			if p.Media == nil {
				c.fail(pp+"."+p.Type, "required", 0, 0)
				continue
			}
			c.mediaRef(pp+"."+p.Type, p.Media.ID, p.Media.Link)
		default:
			c.fail(pp+".type", "must be text, payload, image, video or document", 0, 0)
		}
	}
	if named > 0 && named < len(comp.Parameters) {
		c.fail(path+".parameters", "mix of named and positional parameters", 0, 0)
	}
}

// badParamText reports text Meta refuses as a template parameter.
func badParamText(s string) bool {
	return strings.ContainsAny(s, "\n\r\t") || strings.Contains(s, "     ")
}

// mediaRef checks that exactly one of id and link is set, and that a link is
// an absolute http(s) URL.
func (c *checker) mediaRef(path, id, link string) {
	switch {
	case id == "" && link == "":
		c.fail(path, "id or link required", 0, 0)
	case id != "" && link != "":
		c.fail(path, "id and link are exclusive", 0, 0)
	case link != "":
		u, err := url.Parse(link)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			c.fail(path+".link", "must be an absolute http(s) URL", 0, 0)
		}
	}
}

// Validate checks the kind, the id or link, and that caption and filename
// are used only where allowed and within limits.
func (m *Media) Validate() error {
	var c checker
	kind := string(m.Kind)
	switch m.Kind {
	case MediaImage, MediaVideo, MediaAudio, MediaDocument, MediaSticker:
	default:
		c.fail("type", "must be image, video, audio, document or sticker", 0, 0)
		return c.err()
	}
	c.mediaRef(kind, m.ID, m.Link)
	switch m.Kind {
	case MediaImage, MediaVideo, MediaDocument:
		c.text(kind+".caption", m.Caption, MaxCaptionLen, false)
	default:
		if m.Caption != "" {
			c.fail(kind+".caption", "not allowed for "+kind, 0, 0)
		}
	}
	if m.Filename != "" && m.Kind != MediaDocument {
		c.fail(kind+".filename", "only for documents", 0, 0)
	}
	return c.err()
}

// Validate checks that a message id is set.
func (r ReadReceipt) Validate() error {
	var c checker
	c.text("message_id", r.MessageID, maxRecipientLen, true)
	return c.err()
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }
