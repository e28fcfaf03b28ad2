package assistant

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/llm/local"
	"github.com/yanit/yanit/store"
)

// Rules is a responder of keyword auto-replies: each rule matches words in
// the user's text or the id of a tapped button or list row, and answers
// with a text, reply buttons or a list. It is the live-support-only setup
// (no AI: agents plus these rules) and the demo's first responder until the
// engine lands.
type Rules struct {
	Name     string  `yaml:"name"`
	Rules    []Rule  `yaml:"rules"`
	Fallback Message `yaml:"fallback"`
	// Unsupported answers messages the rules cannot read (media, locations,
	// stickers, types WhatsApp itself does not support, future types).
	Unsupported Message `yaml:"unsupported"`
}

// Rule is one keyword auto-reply.
type Rule struct {
	Name string `yaml:"name"`
	// Keywords match when every word of one of them appears in the text,
	// compared case- and diacritic-insensitively (İPTAL = iptal = ıptal).
	Keywords []string `yaml:"keywords"`
	// IDs match the id of a tapped reply button or list row.
	IDs   []string `yaml:"ids"`
	Reply Message  `yaml:"reply"`
}

// Message is a reply as configured: a text, optionally with reply buttons
// or a list.
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

// LoadRules reads rules from YAML and checks every reply against
// WhatsApp's limits, naming the rule and the field of the first problem.
func LoadRules(data []byte) (*Rules, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var r Rules
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("reading rules: %w", err)
	}
	if r.Fallback.Text == "" {
		return nil, errors.New("rules: fallback.text is required: it answers what no rule matches")
	}
	check := func(name string, m Message) error {
		if m.Text == "" {
			return fmt.Errorf("rules: %s: reply.text is required", name)
		}
		if err := (whatsapp.Outbound{To: "900000000000", Content: m.content()}).Validate(); err != nil {
			return fmt.Errorf("rules: %s: %w", name, err)
		}
		return nil
	}
	for i, rule := range r.Rules {
		if rule.Name == "" {
			return nil, fmt.Errorf("rules: rules[%d].name is required", i)
		}
		if len(rule.Keywords) == 0 && len(rule.IDs) == 0 {
			return nil, fmt.Errorf("rules: %s: needs keywords or ids to match", rule.Name)
		}
		if err := check(rule.Name, rule.Reply); err != nil {
			return nil, err
		}
	}
	if err := check("fallback", r.Fallback); err != nil {
		return nil, err
	}
	if r.Unsupported.Text == "" {
		r.Unsupported = Message{Text: defaultUnsupported}
	}
	if err := check("unsupported", r.Unsupported); err != nil {
		return nil, err
	}
	return &r, nil
}

const defaultUnsupported = "Şimdilik yalnızca yazılı mesajları okuyabiliyorum; lütfen yazarak iletin.\n" +
	"For now I can only read text messages; please type your question."

// readable reports whether the rules can read a stored message's type: text,
// a tapped reply button or list row, a tapped template button.
func readable(msgType string) bool {
	return msgType == "text" || msgType == "button" || strings.HasPrefix(msgType, "interactive.")
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

// Respond answers the newest pending message with the first rule that
// matches it, or the fallback.
func (r *Rules) Respond(_ context.Context, in Input) (Reply, error) {
	last := in.Pending[len(in.Pending)-1]
	if !readable(last.Type) {
		return Reply{
			Messages: []whatsapp.Outbound{{Content: r.Unsupported.content()}},
			Decision: DecisionFallback, Reason: "cannot read a " + last.Type + " message",
		}, nil
	}
	text, replyID := last.Body, replyIDOf(last)
	words := local.Fold(text)
	// A tapped button or row says exactly what the user chose: ids first,
	// then keywords.
	for _, match := range []func(Rule) (string, bool){
		func(rule Rule) (string, bool) { return rule.matchesID(replyID) },
		func(rule Rule) (string, bool) { return rule.matchesWords(words) },
	} {
		for _, rule := range r.Rules {
			if reason, ok := match(rule); ok {
				return Reply{
					Messages: []whatsapp.Outbound{{Content: rule.Reply.content()}},
					Intent:   rule.Name, Confidence: 1, Decision: DecisionAnswer, Reason: reason,
				}, nil
			}
		}
	}
	return Reply{
		Messages: []whatsapp.Outbound{{Content: r.Fallback.content()}},
		Decision: DecisionFallback, Reason: "no rule matched",
	}, nil
}

func (rule Rule) matchesID(replyID string) (string, bool) {
	for _, id := range rule.IDs {
		if replyID != "" && id == replyID {
			return "tapped " + id, true
		}
	}
	return "", false
}

func (rule Rule) matchesWords(words string) (string, bool) {
	padded := " " + words + " "
	for _, k := range rule.Keywords {
		all := true
		for _, w := range strings.Fields(local.Fold(k)) {
			if !strings.Contains(padded, " "+w) { // a word, or the start of one (suffixes: siparişim)
				all = false
				break
			}
		}
		if all {
			return "keyword " + k, true
		}
	}
	return "", false
}

// replyIDOf is the id of the button or row a stored inbound message tapped.
func replyIDOf(m store.Message) string {
	var p struct {
		ReplyID string `json:"reply_id"`
	}
	_ = json.Unmarshal(m.Payload, &p) // a payload without one has none
	return p.ReplyID
}
