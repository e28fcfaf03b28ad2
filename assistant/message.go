package assistant

import (
	"encoding/json"
	"strings"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/store"
)

// Message is a reply as configured: a text, optionally with reply buttons
// or a list. In YAML a plain string is a text-only message.
type Message struct {
	Text    string          `yaml:"text"`
	Buttons []Choice        `yaml:"buttons"`
	List    *ListDefinition `yaml:"list"`
}

// Choice is a reply button or a list row.
type Choice struct {
	ID          string `yaml:"id"`
	Title       string `yaml:"title"`
	Description string `yaml:"description"`
}

// ListDefinition is a list message's button label and rows.
type ListDefinition struct {
	Button string   `yaml:"button"`
	Rows   []Choice `yaml:"rows"`
}

// content turns a configured message into WhatsApp content.
func (m Message) content() whatsapp.Content {
	switch {
	case len(m.Buttons) > 0:
		b := &whatsapp.Buttons{Body: m.Text}
		for _, c := range m.Buttons {
			b.Buttons = append(b.Buttons, whatsapp.Button{ID: c.ID, Title: c.Title})
		}
		return b
	case m.List != nil:
		sec := whatsapp.Section{}
		for _, c := range m.List.Rows {
			sec.Rows = append(sec.Rows, whatsapp.Row{ID: c.ID, Title: c.Title, Description: c.Description})
		}
		return &whatsapp.List{Body: m.Text, Button: m.List.Button, Sections: []whatsapp.Section{sec}}
	}
	return &whatsapp.Text{Body: m.Text}
}

// readable reports whether the assistant can read a stored message's type:
// text, a tapped reply button or list row, a tapped template button.
func readable(msgType string) bool {
	return msgType == "text" || msgType == "button" || strings.HasPrefix(msgType, "interactive.")
}

// replyIDOf is the id of the button or row a stored inbound message tapped.
func replyIDOf(m store.Message) string {
	var p struct {
		ReplyID string `json:"reply_id"`
	}
	_ = json.Unmarshal(m.Payload, &p) // a payload without one has none
	return p.ReplyID
}
