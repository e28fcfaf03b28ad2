package openai_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// testKey is the API key the fake accepts. It looks like a real key, so that
// a leak into an error or a log is easy to spot.
const testKey = "sk-test-9f8e7d6c5b4a3210-DO-NOT-LEAK"

// fakeConfig scripts a fakeServer.
type fakeConfig struct {
	// fault, when set, may answer request n (counted from 1 over all
	// paths) before the fake looks at it, as an overloaded or broken
	// upstream would; it returns false to let the fake answer.
	fault func(w http.ResponseWriter, r *http.Request, n int) bool
	// reply is the model: it chooses the assistant message for a valid
	// chat request. Nil answers "Hello! How can I help?".
	reply func(req chatWire) fakeReply
	// dimensions is the length of the vectors the fake returns (default 4).
	dimensions int
	// shuffle returns embeddings in reverse order, as the index field
	// allows.
	shuffle bool
}

// fakeReply is what the fake model says.
type fakeReply struct {
	Content      string
	ToolCalls    []toolCallWire
	FinishReason string // default stop, or tool_calls with tool calls
}

// fakeServer is an OpenAI-compatible server in the test process. It speaks
// the wire format of POST /v1/chat/completions and POST /v1/embeddings
// (Authorization: Bearer) and of Azure OpenAI's
// /openai/deployments/{deployment}/… paths (api-key header, api-version
// query), and refuses what a real server refuses, with OpenAI's error
// body: a missing or wrong key, unknown request fields, a missing model,
// no messages, tool parameters that are not a JSON object, tool messages
// that answer no earlier tool call, top_logprobs outside 0..20 or without
// logprobs.
type fakeServer struct {
	fakeConfig
	srv *httptest.Server

	mu       sync.Mutex
	n        int
	received []received
}

// received is one request as the fake saw it.
type received struct {
	Path       string
	Query      url.Values
	Header     http.Header
	Body       []byte
	Deployment string
}

// Wire types of the requests, written from the API reference rather than
// taken from go-openai, so that the fake checks what goes over the wire.
type (
	chatWire struct {
		Model               string          `json:"model"`
		Messages            []messageWire   `json:"messages"`
		Tools               []toolWire      `json:"tools"`
		ToolChoice          json.RawMessage `json:"tool_choice"`
		Temperature         *float64        `json:"temperature"`
		MaxTokens           *int            `json:"max_tokens"`
		MaxCompletionTokens *int            `json:"max_completion_tokens"`
		Logprobs            *bool           `json:"logprobs"`
		TopLogprobs         *int            `json:"top_logprobs"`
		Stream              *bool           `json:"stream"`
	}
	messageWire struct {
		Role       string         `json:"role"`
		Content    *string        `json:"content"`
		Name       string         `json:"name,omitempty"`
		ToolCalls  []toolCallWire `json:"tool_calls,omitempty"`
		ToolCallID string         `json:"tool_call_id,omitempty"`
	}
	toolCallWire struct {
		ID       string           `json:"id"`
		Type     string           `json:"type"`
		Function functionCallWire `json:"function"`
	}
	functionCallWire struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	}
	toolWire struct {
		Type     string          `json:"type"`
		Function functionDefWire `json:"function"`
	}
	functionDefWire struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
		Strict      bool            `json:"strict"`
	}
	embedWire struct {
		Model          string          `json:"model"`
		Input          json.RawMessage `json:"input"`
		EncodingFormat string          `json:"encoding_format"`
		Dimensions     *int            `json:"dimensions"`
		User           string          `json:"user"`
	}
)

// wireError is a refusal in OpenAI's error shape.
type wireError struct {
	status  int
	message string
	typ     string
	param   string // "" is null
	code    string // "" is null
}

func badRequest(param, format string, args ...any) *wireError {
	return &wireError{status: http.StatusBadRequest, message: fmt.Sprintf(format, args...), typ: "invalid_request_error", param: param}
}

// startFake starts a fake server scripted by cfg, closed at the end of the test.
func startFake(t *testing.T, cfg fakeConfig) *fakeServer {
	t.Helper()
	if cfg.dimensions == 0 {
		cfg.dimensions = 4
	}
	f := &fakeServer{fakeConfig: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", f.openAI(f.chat))
	mux.HandleFunc("POST /v1/embeddings", f.openAI(f.embeddings))
	mux.HandleFunc("POST /openai/deployments/{deployment}/chat/completions", f.azure(f.chat))
	mux.HandleFunc("POST /openai/deployments/{deployment}/embeddings", f.azure(f.embeddings))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &wireError{status: http.StatusNotFound, typ: "invalid_request_error",
			message: fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path)})
	})
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.n++
		n := f.n
		f.mu.Unlock()
		if f.fault != nil && f.fault(w, r, n) {
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the OpenAI base URL of the fake; its root is the Azure endpoint.
func (f *fakeServer) URL() string { return f.srv.URL + "/v1" }

// requests counts the requests that reached the fake, faults included.
func (f *fakeServer) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// last returns the last request the fake routed, failing the test if none.
func (f *fakeServer) last(t *testing.T) received {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.received) == 0 {
		t.Fatal("the fake server received no request")
	}
	return f.received[len(f.received)-1]
}

// lastBody decodes the body of the last request into a generic map.
func (f *fakeServer) lastBody(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(f.last(t).Body, &m); err != nil {
		t.Fatalf("decoding the last request body: %v", err)
	}
	return m
}

type endpoint func(w http.ResponseWriter, body []byte, requireModel bool) *wireError

// openAI authenticates with Authorization: Bearer, as OpenAI, vLLM and the
// others do.
func (f *fakeServer) openAI(next endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body := f.record(r, "")
		auth := r.Header.Get("Authorization")
		switch {
		case auth == "":
			writeError(w, &wireError{status: http.StatusUnauthorized, typ: "invalid_request_error",
				message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."})
			return
		case auth != "Bearer "+testKey:
			// Worse than OpenAI, which masks most of it: the whole key
			// comes back, so that the client's redaction is tested.
			writeError(w, &wireError{status: http.StatusUnauthorized, typ: "invalid_request_error", code: "invalid_api_key",
				message: fmt.Sprintf("Incorrect API key provided: %s. You can find your API key at https://platform.openai.com/account/api-keys.", strings.TrimPrefix(auth, "Bearer "))})
			return
		}
		if err := next(w, body, true); err != nil {
			writeError(w, err)
		}
	}
}

// azure authenticates with the api-key header and needs api-version; the
// deployment in the path chooses the model.
func (f *fakeServer) azure(next endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body := f.record(r, r.PathValue("deployment"))
		if r.Header.Get("api-key") != testKey {
			writeError(w, &wireError{status: http.StatusUnauthorized, code: "401",
				message: "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."})
			return
		}
		if r.URL.Query().Get("api-version") == "" {
			writeError(w, &wireError{status: http.StatusNotFound, code: "404", message: "Resource not found"})
			return
		}
		if err := next(w, body, false); err != nil {
			writeError(w, err)
		}
	}
}

func (f *fakeServer) record(r *http.Request, deployment string) []byte {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.received = append(f.received, received{
		Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body, Deployment: deployment,
	})
	return body
}

// decode reads body strictly: like OpenAI, the fake refuses a field it
// does not know.
func decode(body []byte, v any) *wireError {
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

var toolName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

func (f *fakeServer) chat(w http.ResponseWriter, body []byte, requireModel bool) *wireError {
	var req chatWire
	if err := decode(body, &req); err != nil {
		return err
	}
	if err := validateChat(req, requireModel); err != nil {
		return err
	}
	reply := fakeReply{Content: "Hello! How can I help?"}
	if f.reply != nil {
		reply = f.reply(req)
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
	if req.Logprobs != nil && *req.Logprobs {
		top := 0
		if req.TopLogprobs != nil {
			top = *req.TopLogprobs
		}
		choice["logprobs"] = map[string]any{"content": fakeLogprobs(reply.Content, top), "refusal": nil}
	}
	prompt := 0
	for _, m := range req.Messages {
		if m.Content != nil {
			prompt += len(strings.Fields(*m.Content))
		}
	}
	completion := len(strings.Fields(reply.Content)) + 10*len(reply.ToolCalls)
	writeJSON(w, http.StatusOK, map[string]any{
		"id":                 "chatcmpl-fake",
		"object":             "chat.completion",
		"created":            1767225600,
		"model":              req.Model + "-2025-01-01",
		"choices":            []any{choice},
		"usage":              map[string]int{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
		"system_fingerprint": "fp_fake",
	})
	return nil
}

// validateChat applies the rules of the chat completions endpoint.
func validateChat(req chatWire, requireModel bool) *wireError {
	if requireModel && req.Model == "" {
		return badRequest("model", "you must provide a model parameter")
	}
	if req.Stream != nil && *req.Stream {
		return badRequest("stream", "this fake does not stream")
	}
	if len(req.Messages) == 0 {
		return badRequest("messages", "[] is too short - 'messages'")
	}
	// pending holds the tool calls of the last assistant message that
	// still wait for their tool message.
	var pending []string
	for i, m := range req.Messages {
		param := fmt.Sprintf("messages.[%d]", i)
		if m.Role != "tool" && len(pending) > 0 {
			return badRequest("messages", "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: %s", strings.Join(pending, ", "))
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
		return badRequest("messages", "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: %s", strings.Join(pending, ", "))
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
	if len(req.ToolChoice) > 0 && string(req.ToolChoice) != "null" {
		if len(req.Tools) == 0 {
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
		case json.Unmarshal(req.ToolChoice, &s) == nil:
			if s != "none" && s != "auto" && s != "required" {
				return badRequest("tool_choice", "Invalid value: '%s'. Supported values are: 'none', 'auto', and 'required'.", s)
			}
		case json.Unmarshal(req.ToolChoice, &obj) == nil && obj.Type == "function":
			if !slices.Contains(names, obj.Function.Name) {
				return badRequest("tool_choice", "Invalid value for 'tool_choice': function '%s' not found in 'tools'.", obj.Function.Name)
			}
		default:
			return badRequest("tool_choice", "Invalid value for 'tool_choice'.")
		}
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
			return &wireError{status: http.StatusBadRequest, typ: "invalid_request_error", param: "top_logprobs", code: "integer_above_max_value",
				message: fmt.Sprintf("Invalid 'top_logprobs': integer out of range. Expected a value between 0 and 20, but got %d instead.", *top)}
		}
		if req.Logprobs == nil || !*req.Logprobs {
			return badRequest("top_logprobs", "Invalid value for 'top_logprobs': 'logprobs' must be set to true to use 'top_logprobs'.")
		}
	}
	return nil
}

// fakeLogprobs splits content into word tokens (the space before a word
// belongs to it) and gives each a log probability and top alternatives,
// the token itself first.
func fakeLogprobs(content string, top int) []map[string]any {
	var out []map[string]any
	for i, word := range strings.Fields(content) {
		token := word
		if i > 0 {
			token = " " + word
		}
		lp := -0.25 * float64(i)
		alts := []map[string]any{}
		for j := range top {
			alt := token
			if j > 0 {
				alt = fmt.Sprintf(" alt%d", j)
			}
			alts = append(alts, map[string]any{"token": alt, "logprob": lp - float64(j), "bytes": []byte(alt)})
		}
		out = append(out, map[string]any{"token": token, "logprob": lp, "bytes": []byte(token), "top_logprobs": alts})
	}
	return out
}

func (f *fakeServer) embeddings(w http.ResponseWriter, body []byte, requireModel bool) *wireError {
	var req embedWire
	if err := decode(body, &req); err != nil {
		return err
	}
	if requireModel && req.Model == "" {
		return badRequest("model", "you must provide a model parameter")
	}
	if req.EncodingFormat != "" && req.EncodingFormat != "float" {
		return badRequest("encoding_format", "this fake only returns float vectors")
	}
	var inputs []string
	var one string
	if json.Unmarshal(req.Input, &one) == nil {
		inputs = []string{one}
	} else if err := json.Unmarshal(req.Input, &inputs); err != nil {
		return badRequest("input", "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.")
	}
	if len(inputs) == 0 || len(inputs) > 2048 {
		return badRequest("input", "'$.input' must hold between 1 and 2048 texts.")
	}
	tokens := 0
	data := make([]map[string]any, 0, len(inputs))
	for i, text := range inputs {
		if text == "" {
			return badRequest("input", "'$.input' is invalid: empty string at index %d.", i)
		}
		tokens += len(strings.Fields(text))
		data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": fakeVector(text, f.dimensions)})
	}
	if f.shuffle {
		slices.Reverse(data)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list",
		"data":   data,
		"model":  req.Model,
		"usage":  map[string]int{"prompt_tokens": tokens, "total_tokens": tokens},
	})
	return nil
}

// fakeVector is the fake model's embedding of text: its first element is
// the length of the text, so that a vector names its input.
func fakeVector(text string, dims int) []float32 {
	v := make([]float32, dims)
	for j := range v {
		v[j] = float32(len(text)) + float32(j)/8
	}
	return v
}

func isObject(raw json.RawMessage) bool {
	var m map[string]any
	return json.Unmarshal(raw, &m) == nil && m != nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes OpenAI's error body: {"error":{"message","type","param","code"}}.
func writeError(w http.ResponseWriter, e *wireError) {
	orNull := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	writeJSON(w, e.status, map[string]any{"error": map[string]any{
		"message": e.message, "type": e.typ, "param": orNull(e.param), "code": orNull(e.code),
	}})
}

// TestFakeServerEnforcesRules checks the fake itself: the client tests
// mean something only if it refuses what a real server refuses, in
// OpenAI's error shape.
func TestFakeServerEnforcesRules(t *testing.T) {
	t.Parallel()
	f := startFake(t, fakeConfig{})
	const user = `{"role":"user","content":"Hi"}`
	tests := []struct {
		name, auth, body string
		status           int
		param            any // nil: null
	}{
		{"valid", "Bearer " + testKey, `{"model":"m","messages":[` + user + `]}`, 200, nil},
		{"no key", "", `{"model":"m","messages":[` + user + `]}`, 401, nil},
		{"no model", "Bearer " + testKey, `{"messages":[` + user + `]}`, 400, "model"},
		{"no messages", "Bearer " + testKey, `{"model":"m","messages":[]}`, 400, "messages"},
		{"unknown field", "Bearer " + testKey, `{"model":"m","messages":[` + user + `],"max_tokenz":5}`, 400, nil},
		{"parameters null", "Bearer " + testKey, `{"model":"m","messages":[` + user + `],"tools":[{"type":"function","function":{"name":"t","parameters":null}}]}`, 400, "tools[0].function.parameters"},
		{"parameters an array", "Bearer " + testKey, `{"model":"m","messages":[` + user + `],"tools":[{"type":"function","function":{"name":"t","parameters":[]}}]}`, 400, "tools[0].function.parameters"},
		{"top_logprobs 21", "Bearer " + testKey, `{"model":"m","messages":[` + user + `],"logprobs":true,"top_logprobs":21}`, 400, "top_logprobs"},
		{"top_logprobs without logprobs", "Bearer " + testKey, `{"model":"m","messages":[` + user + `],"top_logprobs":2}`, 400, "top_logprobs"},
		{"tool message answering nothing", "Bearer " + testKey, `{"model":"m","messages":[` + user + `,{"role":"tool","tool_call_id":"c1","content":"{}"}]}`, 400, "messages.[1].role"},
		{"tool call left unanswered", "Bearer " + testKey, `{"model":"m","messages":[` + user + `,{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"t","arguments":"{}"}}]},` + user + `]}`, 400, "messages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, f.URL()+"/chat/completions", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status == 200 {
				return
			}
			var e struct {
				Error map[string]any `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatalf("decoding the error body: %v", err)
			}
			for _, key := range []string{"message", "type", "param", "code"} {
				if _, ok := e.Error[key]; !ok {
					t.Errorf("error body %v has no %q", e.Error, key)
				}
			}
			if e.Error["param"] != tt.param {
				t.Errorf("param = %v, want %v", e.Error["param"], tt.param)
			}
		})
	}
}
