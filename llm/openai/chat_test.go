package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/llm"
	"github.com/yanit/yanit/llm/openai"
	"github.com/yanit/yanit/llm/openai/openaitest"
)

func ptr[T any](v T) *T { return &v }

func TestChatPlainReply(t *testing.T) {
	t.Parallel()
	f := openaitest.New(t, openaitest.Config{})
	cl := newClient(t, testConfig(f))

	resp, err := cl.Chat(context.Background(), llm.ChatRequest{
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "You are helpful."},
			{Role: llm.RoleUser, Content: "Hi there"},
		},
		Temperature: ptr(0.3),
		MaxTokens:   50,
	})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	want := llm.ChatResponse{
		Model:        "test-chat-2025-01-01",
		Content:      "Hello! How can I help?",
		FinishReason: "stop",
		Usage:        llm.Usage{PromptTokens: 5, CompletionTokens: 5, TotalTokens: 10},
	}
	if !reflect.DeepEqual(resp, want) {
		t.Errorf("Chat = %+v, want %+v", resp, want)
	}

	got := f.Last(t)
	if got.Path != "/v1/chat/completions" {
		t.Errorf("path = %q, want /v1/chat/completions", got.Path)
	}
	if auth := got.Header.Get("Authorization"); auth != "Bearer "+testKey {
		t.Errorf("Authorization = %q, want the bearer key", auth)
	}
	body := lastBody(t, f)
	if body["model"] != "test-chat" {
		t.Errorf("model = %v, want test-chat", body["model"])
	}
	if temp, _ := body["temperature"].(float64); math.Abs(temp-0.3) > 1e-6 {
		t.Errorf("temperature = %v, want 0.3", body["temperature"])
	}
	msgs, _ := body["messages"].([]any)
	if len(msgs) != 2 {
		t.Errorf("sent %d messages, want 2", len(msgs))
	}
	for _, absent := range []string{"tools", "tool_choice", "logprobs", "top_logprobs"} {
		if v, ok := body[absent]; ok {
			t.Errorf("%s = %v sent without being asked for", absent, v)
		}
	}
}

func TestChatRequestFields(t *testing.T) {
	t.Parallel()
	hello := []llm.Message{{Role: llm.RoleUser, Content: "Hello"}}
	tests := []struct {
		name  string
		req   llm.ChatRequest
		check func(t *testing.T, body map[string]any)
	}{
		{
			name: "temperature zero is sent, not dropped",
			req:  llm.ChatRequest{Messages: hello, Temperature: ptr(0.0)},
			check: func(t *testing.T, body map[string]any) {
				if v, ok := body["temperature"]; !ok || v != 0.0 {
					t.Errorf("temperature = %v (present %v), want 0", v, ok)
				}
			},
		},
		{
			name: "no temperature keeps the server default",
			req:  llm.ChatRequest{Messages: hello},
			check: func(t *testing.T, body map[string]any) {
				if v, ok := body["temperature"]; ok {
					t.Errorf("temperature = %v, want absent", v)
				}
			},
		},
		{
			name: "max_tokens for compatible servers",
			req:  llm.ChatRequest{Model: "llama3.1:8b", Messages: hello, MaxTokens: 64},
			check: func(t *testing.T, body map[string]any) {
				if body["max_tokens"] != 64.0 || body["max_completion_tokens"] != nil {
					t.Errorf("max_tokens = %v, max_completion_tokens = %v; want 64 and absent", body["max_tokens"], body["max_completion_tokens"])
				}
			},
		},
		{
			name: "max_completion_tokens for OpenAI reasoning models",
			req:  llm.ChatRequest{Model: "o3-mini", Messages: hello, MaxTokens: 64},
			check: func(t *testing.T, body map[string]any) {
				if body["max_completion_tokens"] != 64.0 || body["max_tokens"] != nil {
					t.Errorf("max_completion_tokens = %v, max_tokens = %v; want 64 and absent", body["max_completion_tokens"], body["max_tokens"])
				}
			},
		},
		{
			name: "no cap sends neither",
			req:  llm.ChatRequest{Messages: hello},
			check: func(t *testing.T, body map[string]any) {
				if body["max_tokens"] != nil || body["max_completion_tokens"] != nil {
					t.Errorf("max_tokens = %v, max_completion_tokens = %v; want both absent", body["max_tokens"], body["max_completion_tokens"])
				}
			},
		},
		{
			name: "request model overrides the configured one",
			req:  llm.ChatRequest{Model: "other-model", Messages: hello},
			check: func(t *testing.T, body map[string]any) {
				if body["model"] != "other-model" {
					t.Errorf("model = %v, want other-model", body["model"])
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := openaitest.New(t, openaitest.Config{})
			cl := newClient(t, testConfig(f))
			if _, err := cl.Chat(context.Background(), tt.req); err != nil {
				t.Fatalf("Chat: %v", err)
			}
			tt.check(t, lastBody(t, f))
		})
	}
}

// orderTools are the tools of the tool call tests: one with arguments, one
// without a schema.
var orderTools = []llm.Tool{
	{
		Name:        "order_status",
		Description: "Looks up an order.",
		Parameters:  json.RawMessage(`{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}`),
	},
	{Name: "handoff", Description: "Hands the conversation to a person."},
}

// orderModel calls order_status first, then answers from the tool's result.
func orderModel(req openaitest.ChatRequest) openaitest.Reply {
	if last := req.Messages[len(req.Messages)-1]; last.Role == "tool" {
		return openaitest.Reply{Content: "Your order 12345 has shipped."}
	}
	return openaitest.Reply{ToolCalls: []openaitest.ToolCall{{
		ID: "call_1", Type: "function",
		Function: openaitest.FunctionCall{Name: "order_status", Arguments: `{"order_id": "12345"}`},
	}}}
}

func TestChatToolCalls(t *testing.T) {
	t.Parallel()
	f := openaitest.New(t, openaitest.Config{Reply: orderModel})
	cl := newClient(t, testConfig(f))
	ctx := context.Background()
	msgs := []llm.Message{{Role: llm.RoleUser, Content: "Where is order 12345?"}}

	resp, err := cl.Chat(ctx, llm.ChatRequest{Messages: msgs, Tools: orderTools, ToolChoice: "order_status"})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	if resp.FinishReason != "tool_calls" || resp.Content != "" || len(resp.ToolCalls) != 1 {
		t.Fatalf("Chat = %+v, want one tool call and no content", resp)
	}
	call := resp.ToolCalls[0]
	var args map[string]string
	if err := json.Unmarshal(call.Arguments, &args); err != nil {
		t.Fatalf("arguments %s: %v", call.Arguments, err)
	}
	if call.ID != "call_1" || call.Name != "order_status" || args["order_id"] != "12345" {
		t.Errorf("tool call = %+v (%v), want call_1 order_status order_id=12345", call, args)
	}

	body := lastBody(t, f)
	wantChoice := map[string]any{"type": "function", "function": map[string]any{"name": "order_status"}}
	if !reflect.DeepEqual(body["tool_choice"], wantChoice) {
		t.Errorf("tool_choice = %v, want %v", body["tool_choice"], wantChoice)
	}
	tools, _ := body["tools"].([]any)
	if len(tools) != 2 {
		t.Fatalf("sent %d tools, want 2", len(tools))
	}
	handoff := tools[1].(map[string]any)["function"].(map[string]any)
	if want := map[string]any{"type": "object", "properties": map[string]any{}}; !reflect.DeepEqual(handoff["parameters"], want) {
		t.Errorf("parameters of a tool without schema = %v, want %v", handoff["parameters"], want)
	}

	t.Run("the answer to the call is accepted", func(t *testing.T) {
		followUp := append(msgs[:len(msgs):len(msgs)],
			llm.Message{Role: llm.RoleAssistant, ToolCalls: resp.ToolCalls},
			llm.Message{Role: llm.RoleTool, ToolCallID: call.ID, Content: `{"status":"shipped"}`},
		)
		final, err := cl.Chat(ctx, llm.ChatRequest{Messages: followUp, Tools: orderTools})
		if err != nil {
			t.Fatalf("Chat with the tool result: %v", err)
		}
		if final.Content != "Your order 12345 has shipped." || final.FinishReason != "stop" {
			t.Errorf("Chat = %+v, want the answer from the tool result", final)
		}
	})

	t.Run("an answer to another call is refused", func(t *testing.T) {
		// The fake checks that tool messages answer an earlier call: the
		// acceptance above means something.
		followUp := append(msgs[:len(msgs):len(msgs)],
			llm.Message{Role: llm.RoleAssistant, ToolCalls: resp.ToolCalls},
			llm.Message{Role: llm.RoleTool, ToolCallID: "call_999", Content: `{"status":"shipped"}`},
		)
		_, err := cl.Chat(ctx, llm.ChatRequest{Messages: followUp, Tools: orderTools})
		if err == nil || !strings.Contains(err.Error(), "must be a response to a preceeding message with 'tool_calls'") {
			t.Errorf("Chat = %v, want the server's refusal", err)
		}
	})
}

func TestChatToolChoice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		choice string
		tools  []llm.Tool
		want   any // the tool_choice sent; nil: absent
	}{
		{"", orderTools, nil},
		{"none", orderTools, "none"},
		{"required", orderTools, "required"},
		{"none", nil, nil}, // servers refuse tool_choice without tools
		{"handoff", orderTools, map[string]any{"type": "function", "function": map[string]any{"name": "handoff"}}},
	}
	for _, tt := range tests {
		t.Run(tt.choice, func(t *testing.T) {
			t.Parallel()
			f := openaitest.New(t, openaitest.Config{})
			cl := newClient(t, testConfig(f))
			_, err := cl.Chat(context.Background(), llm.ChatRequest{
				Messages: []llm.Message{{Role: llm.RoleUser, Content: "Hi"}}, Tools: tt.tools, ToolChoice: tt.choice,
			})
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			if got := lastBody(t, f)["tool_choice"]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("tool_choice = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestChatRefusesBadRequestsWithoutSending(t *testing.T) {
	t.Parallel()
	hello := []llm.Message{{Role: llm.RoleUser, Content: "Hello"}}
	tests := []struct {
		name    string
		model   string // the configured chat model
		req     llm.ChatRequest
		wantErr string
	}{
		{"no model", "", llm.ChatRequest{Messages: hello}, "no model (set llm.chat_model"},
		{"no messages", "test-chat", llm.ChatRequest{}, "no messages"},
		{"unknown role", "test-chat", llm.ChatRequest{Messages: []llm.Message{{Role: "robot", Content: "x"}}}, `message 0: role "robot"`},
		{"tool message without call id", "test-chat", llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleTool, Content: "x"}}}, "message 0: a tool message needs the ToolCallID"},
		{"parameters not an object", "test-chat", llm.ChatRequest{Messages: hello, Tools: []llm.Tool{{Name: "t", Parameters: json.RawMessage(`[1]`)}}}, `tool "t": parameters are not a JSON Schema object`},
		{"parameters not JSON", "test-chat", llm.ChatRequest{Messages: hello, Tools: []llm.Tool{{Name: "t", Parameters: json.RawMessage(`{`)}}}, `tool "t": parameters are not a JSON Schema object`},
		{"required without tools", "test-chat", llm.ChatRequest{Messages: hello, ToolChoice: "required"}, `"required" without tools`},
		{"choice of an unknown tool", "test-chat", llm.ChatRequest{Messages: hello, Tools: orderTools, ToolChoice: "refund"}, `tool choice "refund" names no tool`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := openaitest.New(t, openaitest.Config{})
			c := testConfig(f)
			c.ChatModel = tt.model
			_, err := newClient(t, c).Chat(context.Background(), tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Chat = %v, want an error containing %q", err, tt.wantErr)
			}
			if n := len(f.Requests()); n != 0 {
				t.Errorf("sent %d requests, want none", n)
			}
		})
	}
}

func TestChatInvalidToolArguments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, args, wantErr string
	}{
		{"cut short", `{"order_id": "12345"`, "are not valid JSON"},
		{"not an object", `"12345"`, "are not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := openaitest.New(t, openaitest.Config{Reply: func(openaitest.ChatRequest) openaitest.Reply {
				return openaitest.Reply{ToolCalls: []openaitest.ToolCall{{
					ID: "call_7", Type: "function", Function: openaitest.FunctionCall{Name: "order_status", Arguments: tt.args},
				}}}
			}})
			_, err := newClient(t, testConfig(f)).Chat(context.Background(), llm.ChatRequest{
				Messages: []llm.Message{{Role: llm.RoleUser, Content: "Where is order 12345?"}}, Tools: orderTools,
			})
			if err == nil {
				t.Fatal("Chat accepted invalid arguments")
			}
			msg := err.Error()
			if !strings.Contains(msg, `tool call call_7 to "order_status"`) || !strings.Contains(msg, tt.wantErr) {
				t.Errorf("error %q does not name the tool call and %q", msg, tt.wantErr)
			}
			if strings.Contains(msg, "12345") {
				t.Errorf("error %q repeats the arguments, which may hold a customer's data", msg)
			}
			if errors.Is(err, llm.ErrUnavailable) || len(f.Requests()) != 1 {
				t.Errorf("a bad answer was retried (%d requests) or called unavailable: %v", len(f.Requests()), err)
			}
		})
	}
}

func TestChatLogprobs(t *testing.T) {
	t.Parallel()
	f := openaitest.New(t, openaitest.Config{})
	cl := newClient(t, testConfig(f))
	hello := []llm.Message{{Role: llm.RoleUser, Content: "Hello"}}

	resp, err := cl.Chat(context.Background(), llm.ChatRequest{Messages: hello, Logprobs: true, TopLogprobs: 3})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	body := lastBody(t, f)
	if body["logprobs"] != true || body["top_logprobs"] != 3.0 {
		t.Errorf("sent logprobs = %v, top_logprobs = %v; want true and 3", body["logprobs"], body["top_logprobs"])
	}
	tokens := []string{"Hello!", " How", " can", " I", " help?"}
	if len(resp.Logprobs) != len(tokens) {
		t.Fatalf("got %d token logprobs, want %d", len(resp.Logprobs), len(tokens))
	}
	for i, lp := range resp.Logprobs {
		want := llm.TokenLogprob{
			Token:   tokens[i],
			Logprob: -0.25 * float64(i),
			Top: []llm.TopLogprob{
				{Token: tokens[i], Logprob: -0.25 * float64(i)},
				{Token: " alt1", Logprob: -0.25*float64(i) - 1},
				{Token: " alt2", Logprob: -0.25*float64(i) - 2},
			},
		}
		if !reflect.DeepEqual(lp, want) {
			t.Errorf("token %d = %+v, want %+v", i, lp, want)
		}
	}

	resp, err = cl.Chat(context.Background(), llm.ChatRequest{Messages: hello})
	if err != nil {
		t.Fatalf("Chat without logprobs: %v", err)
	}
	if len(resp.Logprobs) != 0 {
		t.Errorf("got %d token logprobs without asking", len(resp.Logprobs))
	}
}

func TestChatDefaultBaseURL(t *testing.T) {
	t.Parallel()
	// No network: the transport records where the request would go.
	var got string
	offline := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r.URL.String()
		return nil, errors.New("offline")
	})
	c := config.LLM{APIKey: testKey, ChatModel: "gpt-4o-mini", Timeout: time.Second}
	cl := newClient(t, c, openai.WithHTTPClient(&http.Client{Transport: offline}))
	_, err := cl.Chat(context.Background(), llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Hi"}}})
	if err == nil {
		t.Fatal("Chat succeeded offline")
	}
	if got != "https://api.openai.com/v1/chat/completions" {
		t.Errorf("request went to %q, want OpenAI's endpoint", got)
	}
}
