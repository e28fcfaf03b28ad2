package eval

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/channel/whatsapp"
)

// NoIntent labels a turn that recorded no intent, in reports and the
// confusion matrix.
const NoIntent = "(none)"

// check compares a turn with its expectations and returns one sentence
// per difference.
func check(e *Expect, o observation) []string {
	var f []string
	add := func(format string, args ...any) { f = append(f, fmt.Sprintf(format, args...)) }
	if e.Intent != nil && o.turn.Intent != *e.Intent {
		add("intent %s, want %s", label(o.turn.Intent), label(*e.Intent))
	}
	if r := e.Confidence; r != nil {
		c := o.turn.Confidence
		if r.Min != nil && c < *r.Min {
			add("confidence %.2f, want at least %.2f", c, *r.Min)
		}
		if r.Max != nil && c > *r.Max {
			add("confidence %.2f, want at most %.2f", c, *r.Max)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(e.Slots)) {
		want := e.Slots[k]
		if got, ok := o.trace.Slots[k]; !ok {
			add("slot %s missing, want %q", k, want)
		} else if got != want {
			add("slot %s = %q, want %q", k, got, want)
		}
	}
	if len(e.Decision) > 0 && !slices.Contains(e.Decision, o.turn.Decision) {
		add("decision %s, want %s (%s)", o.turn.Decision, strings.Join(e.Decision, " or "), o.turn.Reason)
	}
	if e.HandoffReason != "" {
		switch h := o.trace.Handoff; {
		case h == nil:
			add("no handoff, want one for %s", e.HandoffReason)
		case h.Reason != e.HandoffReason:
			add("handoff reason %s, want %s", h.Reason, e.HandoffReason)
		}
	}
	if e.Tool != nil {
		if msg := toolMismatch(e.Tool, o.trace.Tools); msg != "" {
			f = append(f, msg)
		}
	}
	if r := e.Reply; r != nil {
		text := replyText(o.messages)
		for _, s := range r.Contains {
			if !strings.Contains(text, s) {
				add("reply lacks %q", s)
			}
		}
		for _, s := range r.NotContains {
			if strings.Contains(text, s) {
				add("reply contains %q", s)
			}
		}
		if r.re != nil && !r.re.MatchString(text) {
			add("reply does not match /%s/", r.Matches)
		}
	}
	for _, doc := range e.Cites {
		if !cites(o.trace.Sources, doc) {
			var got []string
			for _, s := range o.trace.Sources {
				got = append(got, s.Citation)
			}
			add("no source cites %s (cited: %s)", doc, orNone(strings.Join(got, ", ")))
		}
	}
	if e.Language != "" && o.trace.Language != e.Language {
		add("language %s, want %s", orNone(o.trace.Language), e.Language)
	}
	if e.Kind != "" {
		if len(o.messages) == 0 {
			add("no message, want %s", e.Kind)
		} else if k := kindOf(o.messages[len(o.messages)-1].Content); k != e.Kind {
			add("last message is %s, want %s", k, e.Kind)
		}
	}
	return f
}

// toolMismatch says how the turn's tool calls miss the expected one, or
// returns "" when one of them matches.
func toolMismatch(want *ToolCall, calls []assistant.ToolRecord) string {
	if len(calls) == 0 {
		return fmt.Sprintf("no tool called, want %s", want.Name)
	}
	var named []assistant.ToolRecord
	for _, c := range calls {
		if c.Name == want.Name {
			named = append(named, c)
		}
	}
	if len(named) == 0 {
		var got []string
		for _, c := range calls {
			got = append(got, c.Name)
		}
		return fmt.Sprintf("called %s, want %s", strings.Join(got, ", "), want.Name)
	}
	var miss string
	for _, c := range named {
		if miss = argsMismatch(want.Args, c.Args); miss == "" {
			return ""
		}
	}
	return fmt.Sprintf("%s %s", want.Name, miss)
}

// argsMismatch compares a subset of arguments with a call's JSON
// arguments, by their JSON values.
func argsMismatch(want map[string]any, raw json.RawMessage) string {
	var got map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &got); err != nil {
			return "arguments are not a JSON object: " + err.Error()
		}
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[k]
		if !ok {
			return fmt.Sprintf("args.%s missing, want %s", k, jsonOf(want[k]))
		}
		var w any
		_ = json.Unmarshal([]byte(jsonOf(want[k])), &w)
		if !reflect.DeepEqual(g, w) {
			return fmt.Sprintf("args.%s = %s, want %s", k, jsonOf(g), jsonOf(want[k]))
		}
	}
	return ""
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// cites reports whether a source is the document (its id before the
// chunk's #) or the exact citation.
func cites(sources []assistant.Source, doc string) bool {
	for _, s := range sources {
		id, _, _ := strings.Cut(s.Citation, "#")
		if s.Citation == doc || id == doc {
			return true
		}
	}
	return false
}

// replyText is what the reply checks read: each message's body, then its
// buttons' titles or its list's rows, one per line.
func replyText(msgs []whatsapp.Outbound) string {
	var lines []string
	for _, m := range msgs {
		lines = append(lines, whatsapp.Summary(m.Content))
		lines = append(lines, optionLines(m.Content)...)
	}
	return strings.Join(lines, "\n")
}

func optionLines(c whatsapp.Content) []string {
	var lines []string
	switch v := c.(type) {
	case *whatsapp.Buttons:
		for _, b := range v.Buttons {
			lines = append(lines, b.Title)
		}
	case *whatsapp.List:
		for _, s := range v.Sections {
			for _, r := range s.Rows {
				line := r.Title
				if r.Description != "" {
					line += " — " + r.Description
				}
				lines = append(lines, line)
			}
		}
	}
	return lines
}

// kindOf names a message's kind as suites write it.
func kindOf(c whatsapp.Content) string {
	switch v := c.(type) {
	case *whatsapp.Text:
		return "text"
	case *whatsapp.Buttons:
		return "buttons"
	case *whatsapp.List:
		return "list"
	case *whatsapp.Template:
		return "template"
	case *whatsapp.Media:
		return string(v.Kind)
	}
	return "unknown"
}

func label(intent string) string {
	if intent == "" {
		return NoIntent
	}
	return intent
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
