package openaitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

var toolName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// decode reads body strictly: like OpenAI, the server refuses a field it
// does not know.
func decode(body []byte, v any) *ErrorResponse {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return badRequest("", "Unrecognized request argument supplied: %s", strings.Trim(field, `"`))
		}
		return badRequest("", "We could not parse the JSON body of your request. (%v)", err)
	}
	return nil
}

func (s *Server) chat(w http.ResponseWriter, body []byte, requireModel bool) *ErrorResponse {
	var req ChatRequest
	if err := decode(body, &req); err != nil {
		return err
	}
	if err := validateChat(req, requireModel); err != nil {
		return err
	}
	reply := Reply{Content: DefaultContent}
	if s.cfg.Reply != nil {
		reply = s.cfg.Reply(req)
	}
	msg := map[string]any{"role": "assistant", "content": nil, "refusal": nil}
	finish := "stop"
	if len(reply.ToolCalls) > 0 {
		msg["tool_calls"] = reply.ToolCalls
		finish = "tool_calls"
	}
	if reply.Content != "" {
		msg["content"] = reply.Content
	}
	if reply.FinishReason != "" {
		finish = reply.FinishReason
	}
	choice := map[string]any{"index": 0, "message": msg, "logprobs": nil, "finish_reason": finish}
	if req.Logprobs != nil && *req.Logprobs && !reply.NoLogprobs {
		top := 0
		if req.TopLogprobs != nil {
			top = *req.TopLogprobs
		}
		tokens := reply.Logprobs
		if tokens == nil {
			tokens = wordTokens(reply.Content)
		} else if spelt := spell(tokens); spelt != reply.Content {
			s.t.Errorf("openaitest: the scripted logprob tokens spell %q, not the content %q", spelt, reply.Content)
		}
		choice["logprobs"] = map[string]any{"content": logprobsJSON(tokens, top), "refusal": nil}
	}
	usage := reply.Usage
	if usage == (Usage{}) {
		for _, m := range req.Messages {
			if m.Content != nil {
				usage.PromptTokens += len(strings.Fields(*m.Content))
			}
		}
		usage.CompletionTokens = len(strings.Fields(reply.Content)) + 10*len(reply.ToolCalls)
	}
	if usage.TotalTokens == 0 {
		usage.TotalTokens = usage.PromptTokens + usage.CompletionTokens
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id":                 "chatcmpl-fake",
		"object":             "chat.completion",
		"created":            1767225600,
		"model":              req.Model + "-2025-01-01",
		"choices":            []any{choice},
		"usage":              usage,
		"system_fingerprint": "fp_fake",
	})
	return nil
}

// validateChat applies the rules of the chat completions endpoint.
func validateChat(req ChatRequest, requireModel bool) *ErrorResponse {
	if requireModel && req.Model == "" {
		return badRequest("model", "you must provide a model parameter")
	}
	if req.Stream != nil && *req.Stream {
		return badRequest("stream", "this fake does not stream")
	}
	if len(req.Messages) == 0 {
		return badRequest("messages", "[] is too short - 'messages'")
	}
	if err := validateMessages(req.Messages); err != nil {
		return err
	}
	var names []string
	for i, t := range req.Tools {
		p := fmt.Sprintf("tools[%d]", i)
		if t.Type != "function" {
			return badRequest(p+".type", "Invalid value: '%s'. Supported values are: 'function'.", t.Type)
		}
		if !toolName.MatchString(t.Function.Name) {
			return badRequest(p+".function.name", "Invalid 'tools[%d].function.name': string does not match pattern.", i)
		}
		if !isObject(t.Function.Parameters) {
			return badRequest(p+".function.parameters", "Invalid schema for function '%s': schema must be a JSON Schema of 'type: \"object\"', got '%s'.", t.Function.Name, t.Function.Parameters)
		}
		names = append(names, t.Function.Name)
	}
	if err := validateToolChoice(req.ToolChoice, names); err != nil {
		return err
	}
	if t := req.Temperature; t != nil && (*t < 0 || *t > 2) {
		return badRequest("temperature", "Invalid 'temperature': decimal out of range. Expected a value between 0 and 2, but got %v instead.", *t)
	}
	if req.MaxTokens != nil && req.MaxCompletionTokens != nil {
		return badRequest("max_tokens", "max_tokens and max_completion_tokens cannot both be set.")
	}
	if m := req.MaxTokens; m != nil && *m < 1 {
		return badRequest("max_tokens", "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got %d instead.", *m)
	}
	if top := req.TopLogprobs; top != nil {
		if *top < 0 || *top > 20 {
			return &ErrorResponse{Status: http.StatusBadRequest, Type: "invalid_request_error", Param: "top_logprobs", Code: "integer_above_max_value",
				Message: fmt.Sprintf("Invalid 'top_logprobs': integer out of range. Expected a value between 0 and 20, but got %d instead.", *top)}
		}
		if req.Logprobs == nil || !*req.Logprobs {
			return badRequest("top_logprobs", "Invalid value for 'top_logprobs': 'logprobs' must be set to true to use 'top_logprobs'.")
		}
	}
	return nil
}

// validateMessages checks the roles, the required contents and that tool
// messages answer the tool calls of the assistant message before them,
// every one of them.
func validateMessages(msgs []Message) *ErrorResponse {
	// pending holds the tool calls of the last assistant message that
	// still wait for their tool message.
	var pending []string
	unanswered := func() *ErrorResponse {
		return badRequest("messages", "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: %s", strings.Join(pending, ", "))
	}
	for i, m := range msgs {
		param := fmt.Sprintf("messages.[%d]", i)
		if m.Role != "tool" && len(pending) > 0 {
			return unanswered()
		}
		switch m.Role {
		case "system", "developer", "user":
			if m.Content == nil {
				return badRequest(param+".content", "Missing required parameter: '%s.content'.", param)
			}
		case "assistant":
			if m.Content == nil && len(m.ToolCalls) == 0 {
				return badRequest(param+".content", "Missing required parameter: '%s.content'.", param)
			}
			for j, tc := range m.ToolCalls {
				p := fmt.Sprintf("%s.tool_calls.[%d]", param, j)
				switch {
				case tc.ID == "":
					return badRequest(p+".id", "Missing required parameter: '%s.id'.", p)
				case tc.Type != "function":
					return badRequest(p+".type", "Invalid value: '%s'. Supported values are: 'function'.", tc.Type)
				case !toolName.MatchString(tc.Function.Name):
					return badRequest(p+".function.name", "Invalid function name %q.", tc.Function.Name)
				case !json.Valid([]byte(tc.Function.Arguments)):
					return badRequest(p+".function.arguments", "Invalid JSON in '%s.function.arguments'.", p)
				}
				pending = append(pending, tc.ID)
			}
		case "tool":
			if m.Content == nil {
				return badRequest(param+".content", "Missing required parameter: '%s.content'.", param)
			}
			k := slices.Index(pending, m.ToolCallID)
			if k < 0 {
				return badRequest(param+".role", "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.")
			}
			pending = slices.Delete(pending, k, k+1)
		default:
			return badRequest(param+".role", "Invalid value: '%s'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.", m.Role)
		}
	}
	if len(pending) > 0 {
		return unanswered()
	}
	return nil
}

// validateToolChoice checks tool_choice against the names of the tools.
func validateToolChoice(raw json.RawMessage, names []string) *ErrorResponse {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if len(names) == 0 {
		return badRequest("tool_choice", "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.")
	}
	var s string
	var obj struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	switch {
	case json.Unmarshal(raw, &s) == nil:
		if s != "none" && s != "auto" && s != "required" {
			return badRequest("tool_choice", "Invalid value: '%s'. Supported values are: 'none', 'auto', and 'required'.", s)
		}
	case json.Unmarshal(raw, &obj) == nil && obj.Type == "function":
		if !slices.Contains(names, obj.Function.Name) {
			return badRequest("tool_choice", "Invalid value for 'tool_choice': function '%s' not found in 'tools'.", obj.Function.Name)
		}
	default:
		return badRequest("tool_choice", "Invalid value for 'tool_choice'.")
	}
	return nil
}

// wordTokens splits content into word tokens, the space before a word
// belonging to it, with log probabilities 0, −0.25, −0.5, ….
func wordTokens(content string) []Logprob {
	var out []Logprob
	for i, word := range strings.Fields(content) {
		token := word
		if i > 0 {
			token = " " + word
		}
		out = append(out, Logprob{Token: token, Logprob: float64(-i) * 0.25})
	}
	return out
}

// spell joins the tokens into the text they generate.
func spell(tokens []Logprob) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteString(t.Token)
	}
	return b.String()
}

// logprobsJSON is the content of a choice's logprobs: each token with its
// bytes and top alternatives, the token itself first. No tokens is null.
func logprobsJSON(tokens []Logprob, top int) []map[string]any {
	var out []map[string]any
	for _, t := range tokens {
		alts := []map[string]any{}
		for j := range top {
			alt := t.Token
			if j > 0 {
				alt = fmt.Sprintf(" alt%d", j)
			}
			alts = append(alts, map[string]any{"token": alt, "logprob": t.Logprob - float64(j), "bytes": utf8Bytes(alt)})
		}
		out = append(out, map[string]any{"token": t.Token, "logprob": t.Logprob, "bytes": utf8Bytes(t.Token), "top_logprobs": alts})
	}
	return out
}

// utf8Bytes is a token's UTF-8 encoding as the API sends it: an array of
// integers, not base64.
func utf8Bytes(s string) []int {
	out := make([]int, len(s))
	for i := range len(s) {
		out[i] = int(s[i])
	}
	return out
}

func isObject(raw json.RawMessage) bool {
	var m map[string]any
	return json.Unmarshal(raw, &m) == nil && m != nil
}
