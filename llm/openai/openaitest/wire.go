package openaitest

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// The wire types of the requests are written from the API reference rather
// than taken from a client library, so that the server checks what goes
// over the wire.

// ChatRequest is the body of a chat completions request.
type ChatRequest struct {
	Model               string          `json:"model"`
	Messages            []Message       `json:"messages"`
	Tools               []Tool          `json:"tools"`
	ToolChoice          json.RawMessage `json:"tool_choice"`
	Temperature         *float64        `json:"temperature"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Logprobs            *bool           `json:"logprobs"`
	TopLogprobs         *int            `json:"top_logprobs"`
	Stream              *bool           `json:"stream"`
}

// System returns the content of the request's first system (or developer)
// message, "" when it has none: the prompt that tells one kind of request
// from another.
func (r ChatRequest) System() string {
	for _, m := range r.Messages {
		if (m.Role == "system" || m.Role == "developer") && m.Content != nil {
			return *m.Content
		}
	}
	return ""
}

// Message is one chat message; Content is nil when the JSON has null or
// no content.
type Message struct {
	Role       string     `json:"role"`
	Content    *string    `json:"content"`
	Name       string     `json:"name,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

// ToolCall is an assistant's call of a function, in a request's history
// or in a Reply.
type ToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function FunctionCall `json:"function"`
}

// FunctionCall names the function and carries its arguments, a JSON
// object as a string.
type FunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// Tool is a function offered to the model.
type Tool struct {
	Type     string      `json:"type"`
	Function FunctionDef `json:"function"`
}

// FunctionDef describes a function: its name and the JSON Schema of its
// parameters.
type FunctionDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
	Strict      bool            `json:"strict"`
}

// EmbeddingRequest is the body of an embeddings request; Input is a string
// or an array of strings.
type EmbeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
	User           string          `json:"user"`
}

// Reply is what the model says to one chat request.
type Reply struct {
	// Content is the assistant message's text; "" sends null.
	Content string
	// ToolCalls are the functions the model calls.
	ToolCalls []ToolCall
	// FinishReason defaults to stop, or tool_calls with tool calls.
	FinishReason string
	// Logprobs are the tokens of Content with their log probabilities,
	// sent when the request asks for logprobs; their tokens must spell
	// Content exactly, as a real server's do. Nil splits Content into
	// word tokens (the space before a word belongs to it) with log
	// probabilities 0, −0.25, −0.5, …. At each position the top_logprobs
	// asked for are the token itself, then " alt1", " alt2", … each one
	// less probable than the last by 1.
	Logprobs []Logprob
	// NoLogprobs answers logprobs null even when the request asks for
	// them, as a server without log probabilities does.
	NoLogprobs bool
	// Usage, when not zero, is reported instead of the server's count: one
	// prompt token per word of the messages, one completion token per word
	// of Content and ten per tool call. A zero TotalTokens is the sum.
	Usage Usage
}

// Logprob is one generated token and its log probability.
type Logprob struct {
	Token   string
	Logprob float64
}

// Usage counts the tokens of a response.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// ErrorResponse is a refusal in OpenAI's error shape:
// {"error":{"message","type","param","code"}}.
type ErrorResponse struct {
	Status  int
	Message string
	Type    string
	Param   string // "" is null
	Code    string // "" is null
}

// Write sends e as the response.
func (e ErrorResponse) Write(w http.ResponseWriter) {
	orNull := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	writeJSON(w, e.Status, map[string]any{"error": map[string]any{
		"message": e.Message, "type": e.Type, "param": orNull(e.Param), "code": orNull(e.Code),
	}})
}

func badRequest(param, format string, args ...any) *ErrorResponse {
	return &ErrorResponse{Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...), Type: "invalid_request_error", Param: param}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
