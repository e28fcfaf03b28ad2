package openaitest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/yanit/yanit/llm/openai/openaitest"
)

const user = `{"role":"user","content":"Hi"}`

// post sends body to path under the server's OpenAI URL with the key (none
// when empty) and decodes the JSON answer.
func post(t *testing.T, s *openaitest.Server, path, key, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("decoding the answer: %v", err)
	}
	return resp.StatusCode, m
}

// TestServerEnforcesRules checks the server itself: tests against it mean
// something only if it refuses what a real server refuses, in OpenAI's
// error shape.
func TestServerEnforcesRules(t *testing.T) {
	t.Parallel()
	s := openaitest.New(t, openaitest.Config{})
	key := openaitest.DefaultKey
	tests := []struct {
		name, key, body string
		status          int
		param           any // nil: null
	}{
		{"valid", key, `{"model":"m","messages":[` + user + `]}`, 200, nil},
		{"no key", "", `{"model":"m","messages":[` + user + `]}`, 401, nil},
		{"wrong key", "sk-other", `{"model":"m","messages":[` + user + `]}`, 401, nil},
		{"no model", key, `{"messages":[` + user + `]}`, 400, "model"},
		{"no messages", key, `{"model":"m","messages":[]}`, 400, "messages"},
		{"unknown field", key, `{"model":"m","messages":[` + user + `],"max_tokenz":5}`, 400, nil},
		{"parameters null", key, `{"model":"m","messages":[` + user + `],"tools":[{"type":"function","function":{"name":"t","parameters":null}}]}`, 400, "tools[0].function.parameters"},
		{"parameters an array", key, `{"model":"m","messages":[` + user + `],"tools":[{"type":"function","function":{"name":"t","parameters":[]}}]}`, 400, "tools[0].function.parameters"},
		{"tool_choice without tools", key, `{"model":"m","messages":[` + user + `],"tool_choice":"required"}`, 400, "tool_choice"},
		{"top_logprobs 21", key, `{"model":"m","messages":[` + user + `],"logprobs":true,"top_logprobs":21}`, 400, "top_logprobs"},
		{"top_logprobs without logprobs", key, `{"model":"m","messages":[` + user + `],"top_logprobs":2}`, 400, "top_logprobs"},
		{"tool message answering nothing", key, `{"model":"m","messages":[` + user + `,{"role":"tool","tool_call_id":"c1","content":"{}"}]}`, 400, "messages.[1].role"},
		{"tool call left unanswered", key, `{"model":"m","messages":[` + user + `,{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"t","arguments":"{}"}}]},` + user + `]}`, 400, "messages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, s, "/chat/completions", tt.key, tt.body)
			if status != tt.status {
				t.Errorf("status = %d, want %d", status, tt.status)
			}
			if tt.status == 200 {
				return
			}
			e, _ := body["error"].(map[string]any)
			for _, key := range []string{"message", "type", "param", "code"} {
				if _, ok := e[key]; !ok {
					t.Errorf("error body %v has no %q", body, key)
				}
			}
			if e["param"] != tt.param {
				t.Errorf("param = %v, want %v", e["param"], tt.param)
			}
		})
	}
}

func TestReplyScriptsTheModel(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	s := openaitest.New(t, openaitest.Config{
		Key: "k",
		Reply: func(req openaitest.ChatRequest) openaitest.Reply {
			mu.Lock()
			seen = append(seen, req.System())
			mu.Unlock()
			switch req.System() {
			case "classify":
				return openaitest.Reply{
					Content:  "order_status",
					Logprobs: []openaitest.Logprob{{Token: "order", Logprob: -0.05}, {Token: "_status", Logprob: -0.01}},
					Usage:    openaitest.Usage{PromptTokens: 120, CompletionTokens: 2},
				}
			case "plain":
				return openaitest.Reply{Content: "order_status", NoLogprobs: true}
			}
			return openaitest.Reply{Content: "one two"}
		},
	})
	ask := func(system string) string {
		return `{"model":"m","messages":[{"role":"system","content":"` + system + `"},` + user + `],"logprobs":true,"top_logprobs":2}`
	}
	choice := func(body map[string]any) map[string]any {
		t.Helper()
		choices, _ := body["choices"].([]any)
		if len(choices) != 1 {
			t.Fatalf("choices = %v, want one", body["choices"])
		}
		return choices[0].(map[string]any)
	}

	t.Run("scripted logprobs and usage", func(t *testing.T) {
		status, body := post(t, s, "/chat/completions", "k", ask("classify"))
		if status != 200 {
			t.Fatalf("status %d: %v", status, body)
		}
		lp := choice(body)["logprobs"].(map[string]any)["content"]
		want := []any{
			map[string]any{"token": "order", "logprob": -0.05, "bytes": []any{111.0, 114.0, 100.0, 101.0, 114.0}, "top_logprobs": []any{
				map[string]any{"token": "order", "logprob": -0.05, "bytes": []any{111.0, 114.0, 100.0, 101.0, 114.0}},
				map[string]any{"token": " alt1", "logprob": -1.05, "bytes": []any{32.0, 97.0, 108.0, 116.0, 49.0}},
			}},
			map[string]any{"token": "_status", "logprob": -0.01, "bytes": []any{95.0, 115.0, 116.0, 97.0, 116.0, 117.0, 115.0}, "top_logprobs": []any{
				map[string]any{"token": "_status", "logprob": -0.01, "bytes": []any{95.0, 115.0, 116.0, 97.0, 116.0, 117.0, 115.0}},
				map[string]any{"token": " alt1", "logprob": -1.01, "bytes": []any{32.0, 97.0, 108.0, 116.0, 49.0}},
			}},
		}
		if !reflect.DeepEqual(lp, want) {
			t.Errorf("logprobs content = %v, want %v", lp, want)
		}
		wantUsage := map[string]any{"prompt_tokens": 120.0, "completion_tokens": 2.0, "total_tokens": 122.0}
		if !reflect.DeepEqual(body["usage"], wantUsage) {
			t.Errorf("usage = %v, want %v", body["usage"], wantUsage)
		}
		if body["model"] != "m-2025-01-01" {
			t.Errorf("model = %v, want the dated snapshot of m", body["model"])
		}
	})

	t.Run("no logprobs", func(t *testing.T) {
		_, body := post(t, s, "/chat/completions", "k", ask("plain"))
		if c := choice(body); c["logprobs"] != nil || c["message"].(map[string]any)["content"] != "order_status" {
			t.Errorf("choice = %v, want the content with logprobs null", c)
		}
	})

	t.Run("word tokens by default, counted usage", func(t *testing.T) {
		_, body := post(t, s, "/chat/completions", "k", ask("other"))
		content := choice(body)["logprobs"].(map[string]any)["content"].([]any)
		var tokens []string
		for _, c := range content {
			c := c.(map[string]any)
			tokens = append(tokens, fmt.Sprintf("%s:%v", c["token"], c["logprob"]))
		}
		if want := []string{"one:0", " two:-0.25"}; !reflect.DeepEqual(tokens, want) {
			t.Errorf("tokens = %v, want %v", tokens, want)
		}
		// "other" and "Hi" in, "one two" out.
		wantUsage := map[string]any{"prompt_tokens": 2.0, "completion_tokens": 2.0, "total_tokens": 4.0}
		if !reflect.DeepEqual(body["usage"], wantUsage) {
			t.Errorf("usage = %v, want %v", body["usage"], wantUsage)
		}
	})

	t.Run("no logprobs unless asked", func(t *testing.T) {
		_, body := post(t, s, "/chat/completions", "k", `{"model":"m","messages":[{"role":"system","content":"classify"},`+user+`]}`)
		if c := choice(body); c["logprobs"] != nil {
			t.Errorf("logprobs = %v sent without being asked for", c["logprobs"])
		}
	})

	mu.Lock()
	defer mu.Unlock()
	if want := []string{"classify", "plain", "other", "classify"}; !reflect.DeepEqual(seen, want) {
		t.Errorf("Reply saw the system prompts %q, want %q", seen, want)
	}
}

// recorder is a testing.TB that keeps the errors reported to it.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestScriptedTokensMustSpellTheContent(t *testing.T) {
	t.Parallel()
	rec := &recorder{TB: t}
	s := openaitest.New(rec, openaitest.Config{Reply: func(openaitest.ChatRequest) openaitest.Reply {
		return openaitest.Reply{Content: "order_status", Logprobs: []openaitest.Logprob{{Token: "order", Logprob: -0.1}}}
	}})
	post(t, s, "/chat/completions", openaitest.DefaultKey, `{"model":"m","messages":[`+user+`],"logprobs":true}`)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], `spell "order", not the content "order_status"`) {
		t.Errorf("errors reported = %q, want one naming the tokens and the content", rec.errs)
	}
}

func TestRequestsIncludeFaults(t *testing.T) {
	t.Parallel()
	s := openaitest.New(t, openaitest.Config{Fault: func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n > 1 {
			return false
		}
		openaitest.ErrorResponse{Status: http.StatusServiceUnavailable, Type: "server_error", Message: "overloaded"}.Write(w)
		return true
	}})
	body := `{"model":"m","messages":[` + user + `]}`
	if status, got := post(t, s, "/chat/completions", openaitest.DefaultKey, body); status != http.StatusServiceUnavailable {
		t.Errorf("first request: %d %v, want the fault's 503", status, got)
	}
	if status, _ := post(t, s, "/chat/completions", openaitest.DefaultKey, body); status != http.StatusOK {
		t.Errorf("second request: %d, want 200", status)
	}
	reqs := s.Requests()
	if len(reqs) != 2 {
		t.Fatalf("recorded %d requests, want 2", len(reqs))
	}
	for i, r := range reqs {
		if r.Method != http.MethodPost || r.Path != "/v1/chat/completions" || string(r.Body) != body || r.Deployment != "" {
			t.Errorf("request %d = %s %s %s (deployment %q), want the POST as sent", i+1, r.Method, r.Path, r.Body, r.Deployment)
		}
	}
	if last := s.Last(t); last.Header.Get("Authorization") != "Bearer "+openaitest.DefaultKey {
		t.Errorf("last Authorization = %q, want the bearer key", last.Header.Get("Authorization"))
	}
}

func TestAzurePaths(t *testing.T) {
	t.Parallel()
	s := openaitest.New(t, openaitest.Config{Key: "azure-key"})
	send := func(query, key string) int {
		req, _ := http.NewRequest(http.MethodPost, s.AzureEndpoint()+"/openai/deployments/gpt-4o/chat/completions"+query,
			strings.NewReader(`{"messages":[`+user+`]}`))
		req.Header.Set("api-key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := send("?api-version=2024-10-21", "azure-key"); got != http.StatusOK {
		t.Errorf("valid Azure request: %d, want 200 (the deployment is the model)", got)
	}
	if got := send("", "azure-key"); got != http.StatusNotFound {
		t.Errorf("no api-version: %d, want 404", got)
	}
	if got := send("?api-version=2024-10-21", "wrong"); got != http.StatusUnauthorized {
		t.Errorf("wrong key: %d, want 401", got)
	}
	if d := s.Last(t).Deployment; d != "gpt-4o" {
		t.Errorf("deployment = %q, want gpt-4o", d)
	}
}
