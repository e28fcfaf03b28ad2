package openai_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/llm"
	"github.com/yanit/yanit/llm/openai"
	"github.com/yanit/yanit/llm/openai/openaitest"
)

var hello = llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Hello"}}}

// failWith answers the first `times` requests with status and OpenAI's
// error body, and a Retry-After header when retryAfter is not empty.
func failWith(times, status int, retryAfter string) openaitest.Fault {
	return func(w http.ResponseWriter, _ *http.Request, n int) bool {
		if n > times {
			return false
		}
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		openaitest.ErrorResponse{Status: status, Type: "server_error",
			Message: fmt.Sprintf("The server had an error (%d) while processing your request.", status)}.Write(w)
		return true
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		fault        openaitest.Fault
		wantRequests int
	}{
		{"500 twice", failWith(2, http.StatusInternalServerError, ""), 3},
		{"429", failWith(1, http.StatusTooManyRequests, ""), 2},
		{"a proxy's 502 page", func(w http.ResponseWriter, _ *http.Request, n int) bool {
			if n > 1 {
				return false
			}
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
			return true
		}, 2},
		{"a dropped connection", func(w http.ResponseWriter, _ *http.Request, n int) bool {
			if n > 1 {
				return false
			}
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(err)
			}
			conn.Close()
			return true
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := openaitest.New(t, openaitest.Config{Fault: tt.fault})
			resp, err := newClient(t, testConfig(f)).Chat(context.Background(), hello)
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			if resp.Content != "Hello! How can I help?" {
				t.Errorf("Content = %q, want the fake's reply", resp.Content)
			}
			if n := len(f.Requests()); n != tt.wantRequests {
				t.Errorf("sent %d requests, want %d", n, tt.wantRequests)
			}
		})
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			// The backoff would wait about an hour: a wait of 0 comes from
			// the server's Retry-After: 0.
			f := openaitest.New(t, openaitest.Config{Fault: failWith(1, status, "0")})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sink := &logSink{}
			// Should the client ignore Retry-After, stop its long wait.
			sink.then = func(slog.Record) {
				if waits := sink.waits(); waits[len(waits)-1] != 0 {
					cancel()
				}
			}
			cl := newClient(t, testConfig(f), openai.WithBackoff(time.Hour, time.Hour), openai.WithLogger(slog.New(sink)))
			if _, err := cl.Chat(ctx, hello); err != nil {
				t.Fatalf("Chat: %v", err)
			}
			if n := len(f.Requests()); n != 2 {
				t.Errorf("sent %d requests, want 2", n)
			}
			if waits := sink.waits(); !reflect.DeepEqual(waits, []time.Duration{0}) {
				t.Errorf("waited %v, want [0s] from Retry-After", waits)
			}
		})
	}
}

func TestRetryAfterIsCapped(t *testing.T) {
	t.Parallel()
	f := openaitest.New(t, openaitest.Config{Fault: failWith(100, http.StatusTooManyRequests, "3600")})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first retry log comes just before the wait: record it, then
	// cancel rather than wait a minute.
	sink := &logSink{then: func(slog.Record) { cancel() }}
	cl := newClient(t, testConfig(f), openai.WithLogger(slog.New(sink)))
	_, err := cl.Chat(ctx, hello)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Chat = %v, want context.Canceled", err)
	}
	if waits := sink.waits(); !reflect.DeepEqual(waits, []time.Duration{time.Minute}) {
		t.Errorf("waited %v, want [1m0s]: Retry-After capped at 60 s", waits)
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   func(c *config.LLM, req *llm.ChatRequest)
		want    openai.APIError
		wantMsg string // part of the server's message
	}{
		{
			name:  "400 top_logprobs above 20",
			setup: func(_ *config.LLM, req *llm.ChatRequest) { req.Logprobs, req.TopLogprobs = true, 25 },
			want: openai.APIError{StatusCode: 400, Type: "invalid_request_error", Code: "integer_above_max_value", Param: "top_logprobs",
				Message: "Invalid 'top_logprobs': integer out of range. Expected a value between 0 and 20, but got 25 instead."},
		},
		{
			name:    "400 top_logprobs without logprobs",
			setup:   func(_ *config.LLM, req *llm.ChatRequest) { req.TopLogprobs = 2 },
			want:    openai.APIError{StatusCode: 400, Type: "invalid_request_error", Param: "top_logprobs"},
			wantMsg: "'logprobs' must be set to true",
		},
		{
			name:    "401 no key",
			setup:   func(c *config.LLM, _ *llm.ChatRequest) { c.APIKey = "" },
			want:    openai.APIError{StatusCode: 401, Type: "invalid_request_error"},
			wantMsg: "You didn't provide an API key",
		},
		{
			name:    "404 wrong path",
			setup:   func(c *config.LLM, _ *llm.ChatRequest) { c.BaseURL = strings.TrimSuffix(c.BaseURL, "/v1") + "/v2" },
			want:    openai.APIError{StatusCode: 404, Type: "invalid_request_error"},
			wantMsg: "Invalid URL (POST /v2/chat/completions)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := openaitest.New(t, openaitest.Config{})
			c, req := testConfig(f), hello
			tt.setup(&c, &req)
			_, err := newClient(t, c).Chat(context.Background(), req)
			var apiErr *openai.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("Chat = %v, want an *APIError", err)
			}
			got := *apiErr
			if tt.wantMsg != "" {
				if !strings.Contains(got.Message, tt.wantMsg) {
					t.Errorf("message %q does not contain %q", got.Message, tt.wantMsg)
				}
				got.Message = ""
			}
			if got != tt.want {
				t.Errorf("APIError = %+v, want %+v", got, tt.want)
			}
			if !strings.Contains(err.Error(), apiErr.Message) || !strings.Contains(err.Error(), fmt.Sprintf("http %d", tt.want.StatusCode)) {
				t.Errorf("error %q does not carry the status and the server's message", err)
			}
			if errors.Is(err, llm.ErrUnavailable) {
				t.Errorf("error %q wraps ErrUnavailable", err)
			}
			if n := len(f.Requests()); n != 1 {
				t.Errorf("sent %d requests, want 1: a client error is not retried", n)
			}
		})
	}
}

func TestRetriesExhausted(t *testing.T) {
	t.Parallel()
	calls := map[string]func(*openai.Client) error{
		"chat": func(cl *openai.Client) error {
			_, err := cl.Chat(context.Background(), hello)
			return err
		},
		"embed": func(cl *openai.Client) error {
			_, err := cl.Embed(context.Background(), []string{"hello"})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := openaitest.New(t, openaitest.Config{Fault: failWith(100, http.StatusServiceUnavailable, "")})
			c := testConfig(f)
			c.MaxRetries = 2
			err := call(newClient(t, c))
			if !errors.Is(err, llm.ErrUnavailable) {
				t.Fatalf("error %v does not wrap llm.ErrUnavailable", err)
			}
			var apiErr *openai.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("error %v does not carry the last status 503", err)
			}
			if msg := err.Error(); !strings.Contains(msg, "3 attempts") || !strings.Contains(msg, "http 503") {
				t.Errorf("error %q does not name the attempts and the last status", msg)
			}
			if n := len(f.Requests()); n != 3 {
				t.Errorf("sent %d requests, want 3 (1 + 2 retries)", n)
			}
		})
	}
}

func TestSlowServerTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	f := openaitest.New(t, openaitest.Config{Fault: func(_ http.ResponseWriter, r *http.Request, _ int) bool {
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return true
	}})
	t.Cleanup(func() { close(release) }) // runs before the server closes
	c := testConfig(f)
	c.Timeout, c.MaxRetries = 50*time.Millisecond, 2
	counter := &countingTransport{}
	cl := newClient(t, c, openai.WithHTTPClient(&http.Client{Transport: counter}))

	_, err := cl.Chat(context.Background(), hello)
	if !errors.Is(err, llm.ErrUnavailable) {
		t.Fatalf("Chat = %v, want llm.ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "no response within 50ms") {
		t.Errorf("error %q does not say the attempt timed out", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q looks like the caller's deadline expired", err)
	}
	if n := counter.n.Load(); n != 3 {
		t.Errorf("made %d attempts, want 3", n)
	}
}

func TestNetworkErrorsAreRetried(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	c := config.LLM{BaseURL: closed.URL + "/v1", APIKey: testKey, ChatModel: "test-chat", Timeout: 5 * time.Second, MaxRetries: 2}
	counter := &countingTransport{}
	_, err := newClient(t, c, openai.WithHTTPClient(&http.Client{Transport: counter})).Chat(context.Background(), hello)
	if !errors.Is(err, llm.ErrUnavailable) {
		t.Fatalf("Chat = %v, want llm.ErrUnavailable", err)
	}
	if n := counter.n.Load(); n != 3 {
		t.Errorf("made %d attempts, want 3", n)
	}
}

func TestCancelStopsTheBackoff(t *testing.T) {
	t.Parallel()
	f := openaitest.New(t, openaitest.Config{Fault: failWith(100, http.StatusInternalServerError, "")})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The retry log comes just before the wait of about an hour: cancel
	// there. Were the wait deaf to ctx, the test would hang.
	sink := &logSink{then: func(slog.Record) { cancel() }}
	cl := newClient(t, testConfig(f), openai.WithBackoff(time.Hour, time.Hour), openai.WithLogger(slog.New(sink)))

	_, err := cl.Chat(ctx, hello)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Chat = %v, want context.Canceled", err)
	}
	if errors.Is(err, llm.ErrUnavailable) {
		t.Errorf("a cancelled call reads as unavailable: %v", err)
	}
	if n := len(f.Requests()); n != 1 {
		t.Errorf("sent %d requests, want 1", n)
	}
}

func TestCancelDuringRequest(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	release := make(chan struct{})
	// The server cancels the caller's context while it holds the request.
	f := openaitest.New(t, openaitest.Config{Fault: func(_ http.ResponseWriter, r *http.Request, _ int) bool {
		cancel()
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return true
	}})
	t.Cleanup(func() { close(release) })
	c := testConfig(f)
	c.MaxRetries = 0
	_, err := newClient(t, c).Chat(ctx, hello)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Chat = %v, want context.Canceled", err)
	}
	if errors.Is(err, llm.ErrUnavailable) {
		t.Errorf("a cancelled call reads as unavailable: %v", err)
	}
}

func TestCancelledContextSendsNothing(t *testing.T) {
	t.Parallel()
	f := openaitest.New(t, openaitest.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newClient(t, testConfig(f)).Chat(ctx, hello)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Chat = %v, want context.Canceled", err)
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("sent %d requests with a cancelled context", n)
	}
}

func TestAzure(t *testing.T) {
	t.Parallel()
	f := openaitest.New(t, openaitest.Config{})
	c := testConfig(f)
	c.APIType, c.BaseURL, c.APIVersion = "azure", f.AzureEndpoint(), "2024-10-21"
	// go-openai's default mapper would turn this deployment into gpt-35-turbo.
	c.ChatModel = "gpt-3.5-turbo"
	cl := newClient(t, c)

	if _, err := cl.Chat(context.Background(), hello); err != nil {
		t.Fatalf("Chat: %v", err)
	}
	got := f.Last(t)
	if got.Path != "/openai/deployments/gpt-3.5-turbo/chat/completions" || got.Deployment != "gpt-3.5-turbo" {
		t.Errorf("path = %q, want the gpt-3.5-turbo deployment's chat completions", got.Path)
	}
	if v := got.Query.Get("api-version"); v != "2024-10-21" {
		t.Errorf("api-version = %q, want 2024-10-21", v)
	}
	if got.Header.Get("api-key") != testKey || got.Header.Get("Authorization") != "" {
		t.Errorf("headers api-key = %q, Authorization = %q; want the key in api-key only",
			got.Header.Get("api-key"), got.Header.Get("Authorization"))
	}

	if _, err := cl.Embed(context.Background(), []string{"hello"}); err != nil {
		t.Fatalf("Embed: %v", err)
	}
	if path := f.Last(t).Path; path != "/openai/deployments/test-embed/embeddings" {
		t.Errorf("path = %q, want the test-embed deployment's embeddings", path)
	}

	c.APIKey = "wrong"
	_, err := newClient(t, c).Chat(context.Background(), hello)
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Code != "401" {
		t.Errorf("Chat with a wrong key = %v, want Azure's 401", err)
	}
}

func TestAPIKeyNeverLeaks(t *testing.T) {
	t.Parallel()
	const otherKey = "sk-other-5a5a5a5a5a5a-SECRET"
	// echo repeats the Authorization header in the error message, as a
	// careless proxy might.
	echo := func(w http.ResponseWriter, r *http.Request, _ int) bool {
		openaitest.ErrorResponse{Status: http.StatusInternalServerError, Type: "server_error", Param: r.Header.Get("Authorization"),
			Message: "upstream failed for " + r.Header.Get("Authorization")}.Write(w)
		return true
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name  string
		key   string
		fault openaitest.Fault
		base  string // overrides the fake's URL
	}{
		{"wrong key echoed by a 401", otherKey, nil, ""},
		{"key echoed by every 500", testKey, echo, ""},
		{"network error", testKey, nil, closed.URL + "/v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := openaitest.New(t, openaitest.Config{Fault: tt.fault})
			c := testConfig(f)
			c.APIKey, c.MaxRetries = tt.key, 1
			if tt.base != "" {
				c.BaseURL = tt.base
			}
			sink := &logSink{}
			cl := newClient(t, c, openai.WithLogger(slog.New(sink)))
			_, chatErr := cl.Chat(context.Background(), hello)
			_, embedErr := cl.Embed(context.Background(), []string{"hello"})
			for _, err := range []error{chatErr, embedErr} {
				if err == nil {
					t.Fatal("call succeeded, want an error")
				}
				if strings.Contains(err.Error(), tt.key) {
					t.Errorf("error %q contains the API key", err)
				}
				var apiErr *openai.APIError
				if errors.As(err, &apiErr) && strings.Contains(fmt.Sprintf("%+v", *apiErr), tt.key) {
					t.Errorf("APIError %+v contains the API key", *apiErr)
				}
			}
			if strings.Contains(sink.text(), tt.key) {
				t.Errorf("logs contain the API key:\n%s", sink.text())
			}
			if s := fmt.Sprintf("%v %+v %#v %s", cl, cl, cl, cl); strings.Contains(s, tt.key) {
				t.Errorf("formatting the client shows the API key: %s", s)
			}
		})
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	good := config.LLM{APIKey: testKey, ChatModel: "m", Timeout: time.Second}
	tests := []struct {
		name    string
		change  func(c *config.LLM)
		opts    []openai.Option
		wantErr string
	}{
		{"no timeout", func(c *config.LLM) { c.Timeout = 0 }, nil, "llm.timeout"},
		{"negative retries", func(c *config.LLM) { c.MaxRetries = -1 }, nil, "llm.max_retries"},
		{"unknown api type", func(c *config.LLM) { c.APIType = "anthropic" }, nil, `llm.api_type "anthropic"`},
		{"azure without version", func(c *config.LLM) { c.APIType, c.BaseURL = "azure", "https://x.openai.azure.com" }, nil, "llm.api_version"},
		{"embedding model without dimensions", func(c *config.LLM) { c.EmbeddingModel = "e" }, nil, "llm.embedding_dimensions"},
		{"zero backoff", func(*config.LLM) {}, []openai.Option{openai.WithBackoff(0, time.Second)}, "backoff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := good
			tt.change(&c)
			_, err := openai.New(c, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
	if _, err := openai.New(good); err != nil {
		t.Errorf("New(good) = %v", err)
	}
}
