package assistant

import (
	"encoding/json"

	"github.com/yanit/yanit/llm/local"
	"github.com/yanit/yanit/privacy"
)

// State is what the engine remembers of a conversation between turns. It
// is stored as the conversation's state, so a turn on any instance picks
// up where the last one stopped; a new conversation (after a human
// resolved the last one) starts from the zero State.
type State struct {
	// Language is the language the assistant last answered in.
	Language string `json:"language,omitempty"`
	// Task is the tool intent being filled or confirmed, if any.
	Task *Task `json:"task,omitempty"`
	// Clarified is true when the last turn asked which intent was meant.
	Clarified bool `json:"clarified,omitempty"`
	// Fallbacks counts the turns in a row the assistant could not help.
	Fallbacks int `json:"fallbacks,omitempty"`
	// LastIntent and LastSlots are the last intent served and its slots,
	// so that a follow-up ("ve diğer siparişim?") carries on.
	LastIntent string            `json:"last_intent,omitempty"`
	LastSlots  map[string]string `json:"last_slots,omitempty"`
	// History is the intent and confidence of recent turns, oldest first.
	History []IntentRecord `json:"history,omitempty"`
	// Tools and Sources are the recent tool calls and knowledge sources
	// shown, for the handoff context pack.
	Tools   []ToolRecord `json:"tools,omitempty"`
	Sources []Source     `json:"sources,omitempty"`
	// Handoff is the context pack of the handoff that gave the
	// conversation to a person.
	Handoff *Handoff `json:"handoff,omitempty"`
	// Vault holds the conversation's personal data behind the placeholders
	// the model and the traces see instead (privacy.Vault).
	Vault privacy.Vault `json:"vault,omitzero"`
}

// Task is a tool intent in progress: the slots gathered so far and what
// the assistant is waiting for.
type Task struct {
	Intent string            `json:"intent"`
	Slots  map[string]string `json:"slots,omitempty"`
	// Awaiting is the slot asked for, or "confirm".
	Awaiting string `json:"awaiting,omitempty"`
	// Asked counts the questions for the awaited slot without an answer.
	Asked int `json:"asked,omitempty"`
}

const awaitingConfirm = "confirm"

// IntentRecord is the understanding of one turn.
type IntentRecord struct {
	Intent     string  `json:"intent"`
	Confidence float64 `json:"confidence"`
	Decision   string  `json:"decision"`
}

// ToolRecord is one tool call as the agent sees it.
type ToolRecord struct {
	Name      string          `json:"name"`
	Args      json.RawMessage `json:"args,omitempty"`
	Status    string          `json:"status"` // ok, not_found, invalid, unavailable
	Error     string          `json:"error,omitempty"`
	User      map[string]any  `json:"user,omitempty"`
	Agent     map[string]any  `json:"agent,omitempty"`
	Attempts  int             `json:"attempts"`
	LatencyMS float64         `json:"latency_ms"`
}

// Source is a knowledge passage shown to the user.
type Source struct {
	Citation string  `json:"citation"`
	ChunkID  string  `json:"chunk_id"`
	Title    string  `json:"title"`
	Section  string  `json:"section,omitempty"`
	Vector   float64 `json:"vector"`
	Text     float64 `json:"text"`
	Fused    float64 `json:"fused"`
}

// keep bounds the remembered history, tools and sources.
const keep = 20

func appendBounded[T any](s []T, v ...T) []T {
	s = append(s, v...)
	if len(s) > keep {
		s = s[len(s)-keep:]
	}
	return s
}

// ParseState reads a conversation's stored state; an empty or unreadable
// state is the zero State (the conversation starts clean).
func ParseState(raw json.RawMessage) State {
	var s State
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &s) // an unreadable state only loses context
	}
	return s
}

// candidatesOf copies a prediction's candidates for a trace.
func candidatesOf(cs []local.Candidate) []Candidate {
	out := make([]Candidate, len(cs))
	for i, c := range cs {
		out[i] = Candidate{Intent: c.Intent, Confidence: c.Prob}
	}
	return out
}

// Candidate is a possible intent with its confidence.
type Candidate struct {
	Intent     string  `json:"intent"`
	Confidence float64 `json:"confidence"`
}
