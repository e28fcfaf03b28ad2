// Package llm is the one interface yanit talks to language models through:
// chat with tool definitions (function calling) and optional log
// probabilities, embeddings, and token usage. Sub-packages implement it:
// openai (any OpenAI-compatible endpoint) and local (offline, deterministic).
package llm

import (
	"context"
	"encoding/json"
	"errors"
)

// Chat message roles.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// Message is one chat message. An assistant message may carry ToolCalls
// instead of (or with) Content; a tool message answers the call ToolCallID.
type Message struct {
	Role       string
	Content    string
	ToolCalls  []ToolCall
	ToolCallID string
}

// Tool is a function the model may call: its name, what it does and the
// JSON Schema of its arguments.
type Tool struct {
	Name        string
	Description string
	Parameters  json.RawMessage
}

// ToolCall is the model's request to call a tool with JSON arguments.
type ToolCall struct {
	ID        string
	Name      string
	Arguments json.RawMessage
}

// ChatRequest asks for the next assistant message.
type ChatRequest struct {
	// Model overrides the provider's configured chat model when not empty.
	Model    string
	Messages []Message
	Tools    []Tool
	// ToolChoice is "" (the model decides), "none", "required", or the
	// name of one tool the model must call.
	ToolChoice string
	// Temperature is the sampling temperature; nil keeps the server default.
	Temperature *float64
	// MaxTokens caps the completion; 0 keeps the server default.
	MaxTokens int
	// Logprobs asks for the log probability of every generated token and of
	// TopLogprobs alternatives (0–20) at each position.
	Logprobs    bool
	TopLogprobs int
}

// ChatResponse is the model's message and what it cost.
type ChatResponse struct {
	Model        string
	Content      string
	ToolCalls    []ToolCall
	FinishReason string
	// Logprobs holds one entry per generated content token when asked for
	// and supported by the server; empty otherwise.
	Logprobs []TokenLogprob
	Usage    Usage
}

// TokenLogprob is a generated token, its log probability and the most
// probable alternatives at its position.
type TokenLogprob struct {
	Token   string
	Logprob float64
	Top     []TopLogprob
}

// TopLogprob is one alternative token at a position.
type TopLogprob struct {
	Token   string
	Logprob float64
}

// Usage counts tokens.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	TotalTokens      int
}

// Add returns the sum of two usages.
func (u Usage) Add(o Usage) Usage {
	return Usage{
		PromptTokens:     u.PromptTokens + o.PromptTokens,
		CompletionTokens: u.CompletionTokens + o.CompletionTokens,
		TotalTokens:      u.TotalTokens + o.TotalTokens,
	}
}

// Embeddings are the vectors of a batch of texts, in input order.
type Embeddings struct {
	Model   string
	Vectors [][]float32
	Usage   Usage
}

// Chatter produces chat completions.
type Chatter interface {
	Chat(ctx context.Context, req ChatRequest) (ChatResponse, error)
}

// Embedder turns texts into vectors.
type Embedder interface {
	Embed(ctx context.Context, texts []string) (Embeddings, error)
	// EmbeddingModel names the model and Dimensions its vector size, so
	// that an index can refuse vectors of another model.
	EmbeddingModel() string
	Dimensions() int
}

// ErrUnavailable wraps errors after which a later attempt may succeed
// (rate limits, server errors, timeouts) once the retries are spent.
var ErrUnavailable = errors.New("llm: model endpoint unavailable")
