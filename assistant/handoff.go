package assistant

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/yanit/yanit/llm"
	"github.com/yanit/yanit/store"
)

// Handoff reasons, recorded on the turn and in the context pack.
const (
	ReasonPersonRequested = "person_requested"
	ReasonAlways          = "intent_handoff_always"
	ReasonUnclear         = "unclear_after_clarifying"
	ReasonFallbacks       = "fallbacks_in_a_row"
	ReasonToolFailed      = "tool_failed"
	ReasonSlotUnanswered  = "slot_unanswered"
	ReasonAutoReply       = "auto_reply"
	ReasonGate            = "policy_gate"
)

// Handoff is the context pack a person receives with the conversation:
// everything the assistant knew.
type Handoff struct {
	Reason string `json:"reason"`
	// Detail says what happened in words (the tool error, the intent).
	Detail     string            `json:"detail,omitempty"`
	Team       string            `json:"team,omitempty"`
	Summary    string            `json:"summary"`
	Language   string            `json:"language,omitempty"`
	Intent     string            `json:"intent,omitempty"`
	Confidence float64           `json:"confidence,omitempty"`
	History    []IntentRecord    `json:"history,omitempty"`
	Slots      map[string]string `json:"slots,omitempty"`
	Tools      []ToolRecord      `json:"tools,omitempty"`
	Sources    []Source          `json:"sources,omitempty"`
	Contact    ContactProfile    `json:"contact"`
	Transcript []TranscriptLine  `json:"transcript"`
	At         time.Time         `json:"at"`
	// Campaign is the campaign the user was answering when the turn
	// handed off (Input.Campaign): the agent sees what they received.
	Campaign string `json:"campaign,omitempty"`
}

// ContactProfile is what the agent sees of the customer.
type ContactProfile struct {
	Name            string    `json:"name,omitempty"`
	WaID            string    `json:"wa_id,omitempty"`
	Locale          string    `json:"locale,omitempty"`
	MarketingOptOut bool      `json:"marketing_opt_out"`
	FirstSeen       time.Time `json:"first_seen"`
}

// TranscriptLine is one message of the conversation.
type TranscriptLine struct {
	At        time.Time `json:"at"`
	Direction string    `json:"direction"` // in or out
	Type      string    `json:"type"`
	Text      string    `json:"text"`
}

// transcriptOf turns stored messages into transcript lines; the pending
// messages of this turn come last when the store has not yet seen them.
func transcriptOf(msgs []store.Message) []TranscriptLine {
	out := make([]TranscriptLine, 0, len(msgs))
	for _, m := range msgs {
		text := m.Body
		if text == "" {
			text = "[" + m.Type + "]"
		}
		at := m.SentAt
		if at.IsZero() {
			at = m.CreatedAt
		}
		out = append(out, TranscriptLine{At: at, Direction: m.Direction, Type: m.Type, Text: text})
	}
	return out
}

// extractiveSummary summarises without a model: who, what they asked
// for, what the assistant did, and their last words.
func extractiveSummary(h *Handoff) string {
	var b strings.Builder
	who := h.Contact.Name
	if who == "" {
		who = "The customer"
	}
	var asked []string
	for _, r := range h.History {
		if r.Intent != "" && (len(asked) == 0 || asked[len(asked)-1] != r.Intent) {
			asked = append(asked, r.Intent)
		}
	}
	fmt.Fprintf(&b, "%s (language %s) wrote %d message(s)", who, orDash(h.Language), countIn(h.Transcript))
	if len(asked) > 0 {
		fmt.Fprintf(&b, " about: %s", strings.Join(asked, ", "))
	}
	b.WriteString(".")
	for _, t := range h.Tools {
		fmt.Fprintf(&b, " Called %s: %s.", t.Name, t.Status)
	}
	fmt.Fprintf(&b, " Handed off: %s", h.Reason)
	if h.Detail != "" {
		fmt.Fprintf(&b, " (%s)", h.Detail)
	}
	b.WriteString(".")
	var last []string
	for i := len(h.Transcript) - 1; i >= 0 && len(last) < 3; i-- {
		if h.Transcript[i].Direction == store.Inbound {
			last = append([]string{strings.TrimSpace(h.Transcript[i].Text)}, last...)
		}
	}
	if len(last) > 0 {
		fmt.Fprintf(&b, " Last words: %q.", strings.Join(last, " / "))
	}
	return b.String()
}

func countIn(lines []TranscriptLine) int {
	n := 0
	for _, l := range lines {
		if l.Direction == store.Inbound {
			n++
		}
	}
	return n
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// llmSummary asks the model for a three-sentence summary for the agent;
// on any failure the extractive summary stands.
func llmSummary(ctx context.Context, chat llm.Chatter, h *Handoff) (string, llm.Usage, error) {
	var b strings.Builder
	for _, l := range h.Transcript {
		who := "customer"
		if l.Direction == store.Outbound {
			who = "assistant"
		}
		fmt.Fprintf(&b, "%s: %s\n", who, l.Text)
	}
	zero := 0.0
	resp, err := chat.Chat(ctx, llm.ChatRequest{
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "Summarise this customer-service conversation for the human agent taking it over, in English, in at most three sentences: what the customer wants, what was done, what is still open. Reason for the handoff: " + h.Reason + "."},
			{Role: llm.RoleUser, Content: b.String()},
		},
		Temperature: &zero,
		MaxTokens:   200,
	})
	if err != nil {
		return "", llm.Usage{}, err
	}
	return strings.TrimSpace(resp.Content), resp.Usage, nil
}
