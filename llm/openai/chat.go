package openai

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/yanit/yanit/llm"
)

// emptyObjectSchema is the parameters of a tool that takes no arguments:
// servers reject a tool without a parameters object.
var emptyObjectSchema = json.RawMessage(`{"type":"object","properties":{}}`)

// Chat asks the model (req.Model, else the configured chat model) for the
// next assistant message. Tool call arguments in the answer are checked to
// be JSON objects. Errors are described in the package documentation.
func (c *Client) Chat(ctx context.Context, req llm.ChatRequest) (llm.ChatResponse, error) {
	model := cmp.Or(req.Model, c.chatModel)
	if model == "" {
		return llm.ChatResponse{}, errors.New("openai: chatting: no model (set llm.chat_model or ChatRequest.Model)")
	}
	creq, err := chatRequest(model, req)
	if err != nil {
		return llm.ChatResponse{}, fmt.Errorf("openai: chatting with %s: %w", model, err)
	}
	x := exchange{zeroTemperature: req.Temperature != nil && *req.Temperature == 0}
	var resp goopenai.ChatCompletionResponse
	err = c.call(ctx, "chat", x, func(ctx context.Context) error {
		var err error
		resp, err = c.api.CreateChatCompletion(ctx, creq)
		return err
	})
	if err != nil {
		return llm.ChatResponse{}, fmt.Errorf("openai: chatting with %s: %w", model, err)
	}
	out, err := chatResponse(resp)
	if err != nil {
		return llm.ChatResponse{}, fmt.Errorf("openai: chatting with %s: %w", model, err)
	}
	return out, nil
}

// chatRequest maps req to the chat completions request for model.
func chatRequest(model string, req llm.ChatRequest) (goopenai.ChatCompletionRequest, error) {
	if len(req.Messages) == 0 {
		return goopenai.ChatCompletionRequest{}, errors.New("no messages")
	}
	out := goopenai.ChatCompletionRequest{
		Model:    model,
		Messages: make([]goopenai.ChatCompletionMessage, 0, len(req.Messages)),
		// max_tokens, not max_completion_tokens: every OpenAI-compatible
		// server (vLLM, Ollama, llama.cpp server, Azure on older API
		// versions) understands max_tokens, while max_completion_tokens is
		// newer and some of them ignore it, leaving the answer uncapped.
		// OpenAI's reasoning models are the exception, handled below.
		MaxTokens:   req.MaxTokens,
		LogProbs:    req.Logprobs,
		TopLogProbs: req.TopLogprobs,
	}
	if req.Temperature != nil {
		// A zero is dropped by go-openai (omitempty); the exchange puts it
		// back into the body.
		out.Temperature = float32(*req.Temperature)
	}
	for i, m := range req.Messages {
		msg, err := chatMessage(m)
		if err != nil {
			return goopenai.ChatCompletionRequest{}, fmt.Errorf("message %d: %w", i, err)
		}
		out.Messages = append(out.Messages, msg)
	}
	for _, t := range req.Tools {
		params := bytes.TrimSpace(t.Parameters)
		if len(params) == 0 {
			params = emptyObjectSchema
		} else if !isJSONObject(params) {
			return goopenai.ChatCompletionRequest{}, fmt.Errorf("tool %q: parameters are not a JSON Schema object", t.Name)
		}
		out.Tools = append(out.Tools, goopenai.Tool{
			Type: goopenai.ToolTypeFunction,
			Function: &goopenai.FunctionDefinition{
				Name:        t.Name,
				Description: t.Description,
				Parameters:  json.RawMessage(params),
			},
		})
	}
	choice, err := toolChoice(req.ToolChoice, req.Tools)
	if err != nil {
		return goopenai.ChatCompletionRequest{}, err
	}
	out.ToolChoice = choice
	// OpenAI's reasoning models (o1, o3, o4, gpt-5, …) refuse max_tokens and
	// take max_completion_tokens; go-openai's validator knows which they are.
	err = goopenai.NewReasoningValidator().Validate(out)
	if errors.Is(err, goopenai.ErrReasoningModelMaxTokensDeprecated) {
		out.MaxTokens, out.MaxCompletionTokens = 0, req.MaxTokens
	}
	return out, nil
}

// chatMessage maps one message.
func chatMessage(m llm.Message) (goopenai.ChatCompletionMessage, error) {
	out := goopenai.ChatCompletionMessage{Role: m.Role, Content: m.Content}
	switch m.Role {
	case llm.RoleSystem, llm.RoleUser:
	case llm.RoleAssistant:
		for _, tc := range m.ToolCalls {
			args := string(bytes.TrimSpace(tc.Arguments))
			if args == "" {
				args = "{}"
			}
			out.ToolCalls = append(out.ToolCalls, goopenai.ToolCall{
				ID:       tc.ID,
				Type:     goopenai.ToolTypeFunction,
				Function: goopenai.FunctionCall{Name: tc.Name, Arguments: args},
			})
		}
	case llm.RoleTool:
		if m.ToolCallID == "" {
			return goopenai.ChatCompletionMessage{}, errors.New("a tool message needs the ToolCallID it answers")
		}
		out.ToolCallID = m.ToolCallID
	default:
		return goopenai.ChatCompletionMessage{}, fmt.Errorf("role %q is not system, user, assistant or tool", m.Role)
	}
	return out, nil
}

// toolChoice maps llm.ChatRequest.ToolChoice: nil (the model decides), the
// string "none" or "required", or the named function.
func toolChoice(choice string, tools []llm.Tool) (any, error) {
	switch choice {
	case "":
		return nil, nil
	case "none":
		// Servers refuse a tool_choice without tools; no tools already
		// means none.
		if len(tools) == 0 {
			return nil, nil
		}
		return "none", nil
	case "required":
		if len(tools) == 0 {
			return nil, errors.New(`tool choice "required" without tools`)
		}
		return "required", nil
	}
	if !slices.ContainsFunc(tools, func(t llm.Tool) bool { return t.Name == choice }) {
		return nil, fmt.Errorf("tool choice %q names no tool of the request", choice)
	}
	return goopenai.ToolChoice{Type: goopenai.ToolTypeFunction, Function: goopenai.ToolFunction{Name: choice}}, nil
}

// chatResponse maps the first choice of r back.
func chatResponse(r goopenai.ChatCompletionResponse) (llm.ChatResponse, error) {
	if len(r.Choices) == 0 {
		return llm.ChatResponse{}, errors.New("the response has no choices")
	}
	ch := r.Choices[0]
	out := llm.ChatResponse{
		Model:        r.Model,
		Content:      ch.Message.Content,
		FinishReason: string(ch.FinishReason),
		Usage: llm.Usage{
			PromptTokens:     r.Usage.PromptTokens,
			CompletionTokens: r.Usage.CompletionTokens,
			TotalTokens:      r.Usage.TotalTokens,
		},
	}
	for _, tc := range ch.Message.ToolCalls {
		args := bytes.TrimSpace([]byte(tc.Function.Arguments))
		if len(args) == 0 {
			args = []byte("{}")
		}
		// The arguments may hold a customer's data: the error names the
		// tool and the defect, never the content.
		if err := checkArguments(args); err != nil {
			return llm.ChatResponse{}, fmt.Errorf("tool call %s to %q: arguments (%d bytes) %w", tc.ID, tc.Function.Name, len(args), err)
		}
		out.ToolCalls = append(out.ToolCalls, llm.ToolCall{
			ID:        tc.ID,
			Name:      tc.Function.Name,
			Arguments: json.RawMessage(args),
		})
	}
	if ch.LogProbs != nil {
		out.Logprobs = make([]llm.TokenLogprob, 0, len(ch.LogProbs.Content))
		for _, lp := range ch.LogProbs.Content {
			t := llm.TokenLogprob{Token: lp.Token, Logprob: lp.LogProb}
			for _, alt := range lp.TopLogProbs {
				t.Top = append(t.Top, llm.TopLogprob{Token: alt.Token, Logprob: alt.LogProb})
			}
			out.Logprobs = append(out.Logprobs, t)
		}
	}
	return out, nil
}

// checkArguments reports why args are not a JSON object, or nil.
func checkArguments(args []byte) error {
	var v any
	if err := json.Unmarshal(args, &v); err != nil {
		return fmt.Errorf("are not valid JSON: %w", err)
	}
	if _, ok := v.(map[string]any); !ok {
		return errors.New("are not a JSON object")
	}
	return nil
}

// isJSONObject reports whether b is one valid JSON object.
func isJSONObject(b []byte) bool {
	return json.Valid(b) && bytes.HasPrefix(b, []byte("{"))
}
