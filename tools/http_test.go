package tools_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"github.com/yanit/yanit/tools"
)

// Secrets of the test backend: no error or log line may ever hold them.
const (
	httpSecret = "s3cr3t-signing-key-for-tests-0123"
	httpToken  = "tok-9f8e7d6c5b4a-private"
)

// httpToolsYAML declares the test backend and its tools. The first
// "type: object" is order_status's schema; the load tests rely on it.
const httpToolsYAML = `
backends:
  - name: demo
    base_url: "${YANIT_DEMO_BACKEND_URL}/api"
    signing_secret_env: YANIT_DEMO_BACKEND_SECRET
    headers: {Authorization: "Bearer ${YANIT_DEMO_BACKEND_TOKEN}", X-Tenant: kadikoy, X-Client: "app-${YANIT_DEMO_CLIENT}"}
    timeout: 2s
    breaker: {failures: 3, cooldown: 30s}
tools:
  - name: order_status
    backend: demo
    description: {tr: "Sipariş durumunu sorgular.", en: "Looks up an order."}
    parameters:
      type: object
      required: [order_id]
      additionalProperties: false
      properties:
        order_id: {type: string, pattern: '^SP-\d{4}-\d{4}$'}
        lang: {type: string, enum: [tr, en]}
    method: GET
    path: /orders/{order_id}
    query: {lang: "{lang}"}
    response:
      user: [order_id, status, status_text.tr, total, eta]
      agent: [customer.name]
  - name: item_lookup
    backend: demo
    description: {en: "Looks up an item."}
    parameters:
      type: object
      required: [id]
      properties:
        id: {type: string}
        lang: {type: string}
        tags: {type: array, items: {type: string}}
    method: GET
    path: /items/{id}/stock
    query: {lang: "{lang}", v: "2", tag: "{tags}"}
    response:
      user: [id]
  - name: book_appointment
    backend: demo
    description: {tr: "Servis randevusu alır.", en: "Books a service appointment."}
    parameters:
      type: object
      required: [date, time]
      properties:
        date: {type: string}
        time: {type: string}
        party: {type: integer}
        note: {type: string}
    method: POST
    path: /appointments
    body:
      date: "{date}"
      time: "{time}"
      party: "{party}"
      note: "{note}"
      source: whatsapp
      meta: {channel: whatsapp, tags: ["{note}", "walk-in"]}
    timeout: 5s
    response:
      user: [appointment_id, date, time]
      agent: [customer_name]
  - name: stock_quick
    backend: demo
    description: {en: "Reads stock, quickly or not at all."}
    parameters: {type: object, properties: {id: {type: string}}}
    method: GET
    path: /stock
    timeout: 50ms
  - name: cancel_quick
    backend: demo
    description: {en: "Cancels, quickly or not at all."}
    parameters: {type: object, properties: {id: {type: string}}}
    method: DELETE
    path: /appointments
    timeout: 50ms
`

// httpEnv is the environment the tools are loaded with.
func httpEnv(baseURL string) map[string]string {
	return map[string]string{
		"YANIT_DEMO_BACKEND_URL":    baseURL,
		"YANIT_DEMO_BACKEND_SECRET": httpSecret,
		"YANIT_DEMO_BACKEND_TOKEN":  httpToken,
		"YANIT_DEMO_CLIENT":         "c7",
	}
}

func httpLookup(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

// testClock is a clock a test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// logBuffer collects log output; tools may log from goroutines the
// Registry abandoned.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// received is what the test backend saw of one request.
type received struct {
	method     string
	requestURI string
	header     http.Header
	body       []byte
	// verified is VerifyRequest's verdict with the right key.
	verified error
}

// httpFixture is a test backend and the tools loaded for it.
type httpFixture struct {
	srv      *httptest.Server
	clock    *testClock
	logs     *logBuffer
	loaded   []tools.Tool
	registry *tools.Registry
	hits     atomic.Int32

	mu   sync.Mutex
	seen []received
}

// newHTTPFixture starts a backend that records each request, checks its
// signature and hands it to handle, and loads httpToolsYAML for it.
func newHTTPFixture(t *testing.T, handle http.HandlerFunc) *httpFixture {
	t.Helper()
	f := &httpFixture{clock: newTestClock(), logs: &logBuffer{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.mu.Lock()
		f.seen = append(f.seen, received{
			method: r.Method, requestURI: r.RequestURI, header: r.Header.Clone(), body: body,
			verified: tools.VerifyRequest([]byte(httpSecret), r, body, f.clock.Now(), time.Minute),
		})
		f.mu.Unlock()
		handle(w, r)
	}))
	t.Cleanup(f.srv.Close)
	logger := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var err error
	f.loaded, err = tools.LoadHTTPTools([]byte(httpToolsYAML), httpLookup(httpEnv(f.srv.URL)),
		tools.HTTPOptions{Client: f.srv.Client(), Logger: logger, Now: f.clock.Now})
	if err != nil {
		t.Fatalf("LoadHTTPTools: %v", err)
	}
	f.registry = tools.NewRegistry()
	f.registry.SetRetry(2, time.Millisecond)
	for _, tool := range f.loaded {
		f.registry.MustRegister(tool)
	}
	return f
}

// tool returns the loaded tool called name.
func (f *httpFixture) tool(t *testing.T, name string) *tools.HTTPTool {
	t.Helper()
	for _, tool := range f.loaded {
		if tool.Spec().Name == name {
			return tool.(*tools.HTTPTool)
		}
	}
	t.Fatalf("no tool %s was loaded", name)
	return nil
}

// last returns the last request the backend received.
func (f *httpFixture) last(t *testing.T) received {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seen) == 0 {
		t.Fatal("the backend received no request")
	}
	return f.seen[len(f.seen)-1]
}

// reply answers every request with status and body.
func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func TestHTTPToolBuildsRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		tool    string
		args    string
		method  string
		uri     string
		body    string // JSON, compared as values; "" for no body
		rawBody string // a substring of the raw body
	}{
		{"path escaped", "item_lookup", `{"id": "a/b c"}`, "GET", "/api/items/a%2Fb%20c/stock?v=2", "", ""},
		{"query from arguments", "item_lookup", `{"id": "7", "lang": "tr"}`, "GET", "/api/items/7/stock?lang=tr&v=2", "", ""},
		{"query escaped", "item_lookup", `{"id": "7", "lang": "a&b=c"}`, "GET", "/api/items/7/stock?lang=a%26b%3Dc&v=2", "", ""},
		{"list repeats the key", "item_lookup", `{"id": "7", "tags": ["red", "new"]}`, "GET", "/api/items/7/stock?tag=red&tag=new&v=2", "", ""},
		{"optional query left out", "order_status", `{"order_id": "SP-2026-0001"}`, "GET", "/api/orders/SP-2026-0001", "", ""},
		{"body typed", "book_appointment", `{"date": "2026-03-10", "time": "14:00", "party": 2, "note": "kapı 3"}`, "POST", "/api/appointments",
			`{"date": "2026-03-10", "time": "14:00", "party": 2, "note": "kapı 3", "source": "whatsapp", "meta": {"channel": "whatsapp", "tags": ["kapı 3", "walk-in"]}}`, `"party":2,`},
		{"body not HTML-escaped", "book_appointment", `{"date": "2026-03-10", "time": "14:00", "note": "<B&O>"}`, "POST", "/api/appointments",
			`{"date": "2026-03-10", "time": "14:00", "note": "<B&O>", "source": "whatsapp", "meta": {"channel": "whatsapp", "tags": ["<B&O>", "walk-in"]}}`, `"note":"<B&O>"`},
		{"missing optional left out of the body", "book_appointment", `{"date": "2026-03-10", "time": "14:00"}`, "POST", "/api/appointments",
			`{"date": "2026-03-10", "time": "14:00", "source": "whatsapp", "meta": {"channel": "whatsapp", "tags": ["walk-in"]}}`, ""},
		{"big number exact", "book_appointment", `{"date": "2026-03-10", "time": "14:00", "party": 12345678901234567}`, "POST", "/api/appointments",
			`{"date": "2026-03-10", "time": "14:00", "party": 12345678901234567, "source": "whatsapp", "meta": {"channel": "whatsapp", "tags": ["walk-in"]}}`, `"party":12345678901234567`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newHTTPFixture(t, reply(200, `{}`))
			if _, err := f.tool(t, tt.tool).Call(context.Background(), json.RawMessage(tt.args)); err != nil {
				t.Fatalf("Call: %v", err)
			}
			got := f.last(t)
			if got.method != tt.method || got.requestURI != tt.uri {
				t.Errorf("request %s %s, want %s %s", got.method, got.requestURI, tt.method, tt.uri)
			}
			if got.header.Get("Authorization") != "Bearer "+httpToken || got.header.Get("X-Tenant") != "kadikoy" || got.header.Get("X-Client") != "app-c7" {
				t.Errorf("backend headers not sent: %v", got.header)
			}
			if ua := got.header.Get("User-Agent"); ua != "yanit" {
				t.Errorf("User-Agent %q, want yanit", ua)
			}
			if got.verified != nil {
				t.Errorf("VerifyRequest with the key: %v", got.verified)
			}
			if tt.body == "" {
				if len(got.body) != 0 || got.header.Get("Content-Type") != "" {
					t.Errorf("a request without body sent %q with Content-Type %q", got.body, got.header.Get("Content-Type"))
				}
				return
			}
			if ct := got.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			var gotBody, wantBody any
			if err := json.Unmarshal(got.body, &gotBody); err != nil {
				t.Fatalf("body %q is not JSON: %v", got.body, err)
			}
			_ = json.Unmarshal([]byte(tt.body), &wantBody)
			if !reflect.DeepEqual(gotBody, wantBody) {
				t.Errorf("body %s, want %s", got.body, tt.body)
			}
			if !strings.Contains(string(got.body), tt.rawBody) {
				t.Errorf("body %s does not hold %s", got.body, tt.rawBody)
			}
		})
	}
}

func TestHTTPToolSignsRequests(t *testing.T) {
	t.Parallel()
	f := newHTTPFixture(t, reply(200, `{}`))
	args := json.RawMessage(`{"date": "2026-03-10", "time": "14:00"}`)
	if _, err := f.tool(t, "book_appointment").Call(context.Background(), args); err != nil {
		t.Fatalf("Call: %v", err)
	}
	got := f.last(t)
	sig := got.header.Get(tools.SignatureHeader)
	if want := "t=" + "1773050400" + ",v1="; !strings.HasPrefix(sig, want) {
		t.Fatalf("signature %q does not start with %q (the clock's time)", sig, want)
	}
	if got.verified != nil {
		t.Fatalf("VerifyRequest with the key: %v", got.verified)
	}
	// The backend's own check, on the request as it arrived.
	r := httptest.NewRequest(got.method, got.requestURI, bytes.NewReader(got.body))
	r.Header = got.header
	now := f.clock.Now()
	checks := []struct {
		name string
		key  string
		body []byte
		now  time.Time
		want error
	}{
		{"right key", httpSecret, got.body, now, nil},
		{"another key", "another-key-of-sixteen-bytes", got.body, now, tools.ErrSignatureMismatch},
		{"tampered body", httpSecret, bytes.Replace(got.body, []byte("14:00"), []byte("15:00"), 1), now, tools.ErrSignatureMismatch},
		{"replayed an hour later", httpSecret, got.body, now.Add(time.Hour), tools.ErrSignatureStale},
	}
	for _, c := range checks {
		if err := tools.VerifyRequest([]byte(c.key), r, c.body, c.now, 5*time.Minute); !errors.Is(err, c.want) {
			t.Errorf("%s: VerifyRequest = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestHTTPToolMapsStatuses(t *testing.T) {
	t.Parallel()
	orderArgs := `{"order_id": "SP-2026-0001"}`
	bookArgs := `{"date": "2026-03-10", "time": "14:00"}`
	tests := []struct {
		name      string
		tool      string
		args      string
		handle    http.HandlerFunc
		wantKind  tools.Kind // "" for success
		wantField string
		wantMsg   string
		failure   bool // the breaker counts it as a failure
	}{
		{"200", "order_status", orderArgs, reply(200, `{"order_id": "SP-2026-0001", "status": "shipped"}`), "", "", "", false},
		{"204 without body", "cancel_quick", `{}`, reply(204, ``), "", "", "", false},
		{"404 with the backend's reason", "order_status", orderArgs, reply(404, `{"error": "no order SP-2026-0001"}`), tools.KindNotFound, "", "no order SP-2026-0001", false},
		{"404 without body", "order_status", orderArgs, reply(404, ``), tools.KindNotFound, "", "not found", false},
		{"422 naming an argument", "book_appointment", bookArgs, reply(422, `{"error": "that date is in the past", "field": "date"}`), tools.KindInvalid, "date", "that date is in the past", false},
		{"400 naming something else", "book_appointment", bookArgs, reply(400, `{"error": "bad slot", "field": "slot_id"}`), tools.KindInvalid, "", "bad slot", false},
		{"400 without body", "book_appointment", bookArgs, reply(400, `oops`), tools.KindInvalid, "", "rejected the arguments", false},
		{"500", "order_status", orderArgs, reply(500, `{"error": "stack trace here"}`), tools.KindUnavailable, "", "answered 500 Internal Server Error", true},
		{"503", "order_status", orderArgs, reply(503, ``), tools.KindUnavailable, "", "answered 503", true},
		{"429", "order_status", orderArgs, reply(429, ``), tools.KindUnavailable, "", "answered 429", true},
		{"408", "order_status", orderArgs, reply(408, ``), tools.KindUnavailable, "", "answered 408", true},
		{"401", "order_status", orderArgs, reply(401, ``), tools.KindUnavailable, "", "refused yanit's credentials (401", true},
		{"403", "order_status", orderArgs, reply(403, ``), tools.KindUnavailable, "", "refused yanit's credentials (403", true},
		{"409 with the backend's reason", "book_appointment", bookArgs, reply(409, `{"error": "slot taken"}`), tools.KindUnavailable, "", "answered 409 Conflict: slot taken", true},
		{"200 not JSON", "order_status", orderArgs, reply(200, `<html>ok</html>`), tools.KindUnavailable, "", "not a JSON object", true},
		{"200 a JSON list", "order_status", orderArgs, reply(200, `[1, 2]`), tools.KindUnavailable, "", "not a JSON object", true},
		{"200 two objects", "order_status", orderArgs, reply(200, `{} {}`), tools.KindUnavailable, "", "not a JSON object", true},
		{"200 over 1 MiB", "order_status", orderArgs, reply(200, `{"pad": "`+strings.Repeat("x", 1<<20)+`"}`), tools.KindUnavailable, "", "over 1048576 bytes", true},
		{"redirect not followed", "order_status", orderArgs, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/elsewhere" {
				t.Error("the redirect was followed")
			}
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		}, tools.KindUnavailable, "", "answered 302", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newHTTPFixture(t, tt.handle)
			tool := f.tool(t, tt.tool)
			res, err := tool.Call(context.Background(), json.RawMessage(tt.args))
			if tt.wantKind == "" {
				if err != nil {
					t.Fatalf("Call: %v", err)
				}
			} else {
				te := asError(t, err)
				if te.Kind != tt.wantKind || te.Field != tt.wantField {
					t.Errorf("error %q: kind %s field %q, want %s %q", err, te.Kind, te.Field, tt.wantKind, tt.wantField)
				}
				if !strings.Contains(err.Error(), tt.wantMsg) {
					t.Errorf("error %q does not say %q", err, tt.wantMsg)
				}
				if res.User != nil || res.Agent != nil {
					t.Errorf("failed call returned %+v", res)
				}
			}
			wantFailures := 0
			if tt.failure {
				wantFailures = 1
			}
			if got := tool.Backend().Stats().Failures; got != wantFailures {
				t.Errorf("breaker counted %d failures, want %d", got, wantFailures)
			}
		})
	}
}

func TestHTTPToolSelectsFields(t *testing.T) {
	t.Parallel()
	f := newHTTPFixture(t, reply(200, `{
		"order_id": "SP-2026-0001",
		"status": "shipped",
		"status_text": {"tr": "Kargoya verildi", "en": "Shipped"},
		"total": 124990,
		"customer": {"name": "Ayşe Yılmaz", "phone": "+905321234567"},
		"internal_note": "VIP"
	}`))
	res, err := f.tool(t, "order_status").Call(context.Background(), json.RawMessage(`{"order_id": "SP-2026-0001"}`))
	if err != nil {
		t.Fatalf("Call: %v", err)
	}
	wantUser := map[string]any{
		"order_id":    "SP-2026-0001",
		"status":      "shipped",
		"status_text": map[string]any{"tr": "Kargoya verildi"},
		"total":       json.Number("124990"),
		// eta was selected but is not in the answer: absent.
	}
	if !reflect.DeepEqual(res.User, wantUser) {
		t.Errorf("User = %#v, want %#v", res.User, wantUser)
	}
	wantAgent := map[string]any{"customer": map[string]any{"name": "Ayşe Yılmaz"}}
	if !reflect.DeepEqual(res.Agent, wantAgent) {
		t.Errorf("Agent = %#v, want %#v", res.Agent, wantAgent)
	}
	// An answer template prints the amount as sent, not as 1.2499e+05.
	var out strings.Builder
	tmpl := template.Must(template.New("reply").Parse("{{.total}} kuruş, {{.status_text.tr}}"))
	if err := tmpl.Execute(&out, res.User); err != nil || out.String() != "124990 kuruş, Kargoya verildi" {
		t.Errorf("template renders %q (%v)", out.String(), err)
	}
}

func TestHTTPToolTimeoutsThroughRegistry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tool         string
		wantAttempts int
	}{
		{"stock_quick", 3},  // a GET is idempotent: retried twice
		{"cancel_quick", 1}, // a DELETE mutates: never retried
	}
	for _, tt := range tests {
		// A backend of its own per tool: three timeouts in a row open a
		// backend's breaker (failures: 3), which would fail the next call
		// fast instead of letting it time out.
		release := make(chan struct{})
		f := newHTTPFixture(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		t.Cleanup(func() { close(release) })
		call, err := f.registry.Call(context.Background(), tt.tool, json.RawMessage(`{"id": "7"}`))
		if tools.KindOf(err) != tools.KindUnavailable || !strings.Contains(err.Error(), "timed out after 50ms") {
			t.Errorf("%s: err = %v, want a timeout", tt.tool, err)
		}
		if call.Attempts != tt.wantAttempts {
			t.Errorf("%s: %d attempts, want %d", tt.tool, call.Attempts, tt.wantAttempts)
		}
	}
}

func TestHTTPToolNeverLogsSecrets(t *testing.T) {
	t.Parallel()
	var status atomic.Int32
	status.Store(http.StatusUnauthorized)
	f := newHTTPFixture(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(status.Load()))
	})
	tool := f.tool(t, "order_status")
	args := json.RawMessage(`{"order_id": "SP-2026-0042"}`)
	var errs []error
	call := func() {
		_, err := tool.Call(context.Background(), args)
		if err == nil {
			t.Fatal("Call succeeded against a failing backend")
		}
		errs = append(errs, err)
	}
	refusals := func() int { return strings.Count(f.logs.String(), "refused yanit's credentials") }

	call()
	call()
	if n := refusals(); n != 1 {
		t.Errorf("two refusals within a minute logged %d times, want 1", n)
	}
	f.clock.Advance(time.Minute)
	call()
	if n := refusals(); n != 2 {
		t.Errorf("a refusal a minute later: logged %d times in all, want 2", n)
	}
	if !strings.Contains(f.logs.String(), `"level":"ERROR"`) {
		t.Errorf("refused credentials not logged at error level:\n%s", f.logs)
	}

	// The breaker (3 failures) is open now; then the backend goes away.
	call()
	f.clock.Advance(time.Minute)
	status.Store(http.StatusInternalServerError)
	call()
	f.clock.Advance(time.Minute)
	f.srv.Close()
	call()

	logs := f.logs.String()
	if !strings.Contains(logs, "circuit opened") || !strings.Contains(logs, "HTTP tool call failed") {
		t.Errorf("the failures were not logged:\n%s", logs)
	}
	for _, s := range []string{httpSecret, httpToken, "SP-2026-0042"} {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds %q:\n%s", s, logs)
		}
		for _, err := range errs {
			if strings.Contains(err.Error(), httpSecret) || strings.Contains(err.Error(), httpToken) {
				t.Errorf("error %q holds a secret", err)
			}
		}
	}
}

func TestHTTPToolDescribeRequest(t *testing.T) {
	t.Parallel()
	f := newHTTPFixture(t, reply(200, `{}`))
	tool := f.tool(t, "book_appointment")
	args := json.RawMessage(`{"date": "2026-03-10", "time": "14:00", "party": 2}`)
	method, url, headers, body, err := tool.DescribeRequest(args)
	if err != nil {
		t.Fatalf("DescribeRequest: %v", err)
	}
	if method != "POST" || url != f.srv.URL+"/api/appointments" {
		t.Errorf("request %s %s", method, url)
	}
	want := map[string]string{
		"Authorization":       "Bearer ***",
		"X-Tenant":            "kadikoy",
		"X-Client":            "app-***",
		"User-Agent":          "yanit",
		"Content-Type":        "application/json",
		tools.SignatureHeader: "t=1773050400,v1=***",
	}
	for k, v := range want {
		if got := headers.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if _, err := tool.Call(context.Background(), args); err != nil {
		t.Fatalf("Call: %v", err)
	}
	if sent := f.last(t).body; !bytes.Equal(body, sent) {
		t.Errorf("described body %s, sent %s", body, sent)
	}
	if n := f.hits.Load(); n != 1 {
		t.Errorf("the backend got %d requests, want only Call's", n)
	}

	_, _, _, _, err = f.tool(t, "order_status").DescribeRequest(json.RawMessage(`{"order_id": "2026"}`))
	if te := asError(t, err); te.Kind != tools.KindInvalid || te.Field != "order_id" {
		t.Errorf("arguments against the schema: %v, want invalid order_id", err)
	}
	_, url, _, body, err = f.tool(t, "item_lookup").DescribeRequest(json.RawMessage(`{"id": "a/b c", "lang": "en"}`))
	if err != nil || url != f.srv.URL+"/api/items/a%2Fb%20c/stock?lang=en&v=2" || body != nil {
		t.Errorf("item_lookup: %s %q %v", url, body, err)
	}
}
