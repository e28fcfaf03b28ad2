package openai_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/llm/openai"
	"github.com/yanit/yanit/llm/openai/openaitest"
)

// testKey is the API key the fake server accepts. It looks like a real
// key, so that a leak into an error or a log is easy to spot.
const testKey = openaitest.DefaultKey

// testConfig is an openai provider configuration pointing at f.
func testConfig(f *openaitest.Server) config.LLM {
	return config.LLM{
		Provider:            "openai",
		BaseURL:             f.URL(),
		APIKey:              testKey,
		APIType:             "openai",
		ChatModel:           "test-chat",
		EmbeddingModel:      "test-embed",
		EmbeddingDimensions: 4,
		Timeout:             10 * time.Second,
		MaxRetries:          3,
	}
}

// lastBody decodes the body of the last request f received into a generic
// map.
func lastBody(t *testing.T, f *openaitest.Server) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(f.Last(t).Body, &m); err != nil {
		t.Fatalf("decoding the last request body: %v", err)
	}
	return m
}

// newClient builds a Client for c with millisecond backoffs, unless opts
// choose others.
func newClient(t *testing.T, c config.LLM, opts ...openai.Option) *openai.Client {
	t.Helper()
	opts = append([]openai.Option{openai.WithBackoff(time.Millisecond, 4*time.Millisecond)}, opts...)
	cl, err := openai.New(c, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return cl
}

// logSink is a slog.Handler that keeps the records and may act on each.
type logSink struct {
	mu      sync.Mutex
	records []slog.Record
	// then runs after a record is kept.
	then func(slog.Record)
}

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }

func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	s.mu.Lock()
	s.records = append(s.records, r.Clone())
	s.mu.Unlock()
	if s.then != nil {
		s.then(r)
	}
	return nil
}

func (s *logSink) WithAttrs([]slog.Attr) slog.Handler { return s }

func (s *logSink) WithGroup(string) slog.Handler { return s }

// waits returns the wait attribute of every retry record.
func (s *logSink) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Duration
	for _, r := range s.records {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "wait" {
				out = append(out, a.Value.Duration())
			}
			return true
		})
	}
	return out
}

// text renders every record with its attributes.
func (s *logSink) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, r := range s.records {
		b.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool {
			fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
			return true
		})
		b.WriteString("\n")
	}
	return b.String()
}

// countingTransport counts the HTTP requests the client sends, whether or
// not they reach a server.
type countingTransport struct {
	n atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
