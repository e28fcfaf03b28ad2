package openaitest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// DefaultKey is the API key a Server accepts when Config.Key is empty. It
// looks like a real key, so that a leak into an error or a log is easy to
// spot.
const DefaultKey = "sk-test-9f8e7d6c5b4a3210-DO-NOT-LEAK"

// DefaultContent is the model's answer when Config.Reply is nil.
const DefaultContent = "Hello! How can I help?"

// Fault may answer request n (counted from 1 over all paths) before the
// server looks at it, and reports whether it did; false lets the server
// answer.
type Fault func(w http.ResponseWriter, r *http.Request, n int) bool

// Config scripts a Server.
type Config struct {
	// Key is the API key the server accepts; "" is DefaultKey.
	Key string
	// Reply is the model: it chooses the answer to each valid chat
	// request. Nil answers DefaultContent.
	Reply func(req ChatRequest) Reply
	// Fault, when set, sees every request first.
	Fault Fault
	// Dimensions is the length of the vectors the server returns
	// (default 4); see Vector.
	Dimensions int
	// Shuffle returns embeddings in reverse order, as the index field
	// allows.
	Shuffle bool
}

// Request is one request as the server received it.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	// Deployment is the Azure deployment named in the path, "" on the
	// OpenAI paths.
	Deployment string
}

// Server is an OpenAI-compatible server in the test process, closed at the
// end of the test that started it.
type Server struct {
	cfg Config
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	received []Request
}

// New starts a Server scripted by cfg; it is closed at t's cleanup.
func New(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Key == "" {
		cfg.Key = DefaultKey
	}
	if cfg.Dimensions == 0 {
		cfg.Dimensions = 4
	}
	s := &Server{cfg: cfg, t: t}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.openAI(s.chat))
	mux.HandleFunc("POST /v1/embeddings", s.openAI(s.embeddings))
	mux.HandleFunc("POST /openai/deployments/{deployment}/chat/completions", s.azure(s.chat))
	mux.HandleFunc("POST /openai/deployments/{deployment}/embeddings", s.azure(s.embeddings))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		ErrorResponse{Status: http.StatusNotFound, Type: "invalid_request_error",
			Message: fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path)}.Write(w)
	})
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.record(r)
		if s.cfg.Fault != nil && s.cfg.Fault(w, r, n) {
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the OpenAI base URL of the server (…/v1), for llm.base_url with
// llm.api_type openai.
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// AzureEndpoint is the server's root, for llm.base_url with llm.api_type
// azure.
func (s *Server) AzureEndpoint() string { return s.srv.URL }

// Requests returns every request that reached the server, in order,
// including those a Fault answered.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.received...)
}

// Last returns the last request that reached the server, failing t when
// there is none.
func (s *Server) Last(t testing.TB) Request {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.received) == 0 {
		t.Fatal("openaitest: the server received no request")
	}
	return s.received[len(s.received)-1]
}

// record keeps r, leaving its body readable, and returns its number.
func (s *Server) record(r *http.Request) int {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var deployment string
	if rest, ok := strings.CutPrefix(r.URL.Path, "/openai/deployments/"); ok {
		deployment, _, _ = strings.Cut(rest, "/")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received = append(s.received, Request{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body, Deployment: deployment,
	})
	return len(s.received)
}

// endpoint answers a request's body, or refuses it.
type endpoint func(w http.ResponseWriter, body []byte, requireModel bool) *ErrorResponse

// openAI authenticates with Authorization: Bearer, as OpenAI, vLLM and the
// others do.
func (s *Server) openAI(next endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		switch {
		case auth == "":
			ErrorResponse{Status: http.StatusUnauthorized, Type: "invalid_request_error",
				Message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."}.Write(w)
			return
		case auth != "Bearer "+s.cfg.Key:
			// Worse than OpenAI, which masks most of it: the whole key
			// comes back, so that a client's redaction is tested.
			ErrorResponse{Status: http.StatusUnauthorized, Type: "invalid_request_error", Code: "invalid_api_key",
				Message: fmt.Sprintf("Incorrect API key provided: %s. You can find your API key at https://platform.openai.com/account/api-keys.", strings.TrimPrefix(auth, "Bearer "))}.Write(w)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if err := next(w, body, true); err != nil {
			err.Write(w)
		}
	}
}

// azure authenticates with the api-key header and needs api-version; the
// deployment in the path chooses the model.
func (s *Server) azure(next endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("api-key") != s.cfg.Key {
			ErrorResponse{Status: http.StatusUnauthorized, Code: "401",
				Message: "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}.Write(w)
			return
		}
		if r.URL.Query().Get("api-version") == "" {
			ErrorResponse{Status: http.StatusNotFound, Code: "404", Message: "Resource not found"}.Write(w)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if err := next(w, body, false); err != nil {
			err.Write(w)
		}
	}
}
