package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testToken = "EAAGm0PX4ZCpsBAKZBtestTOKEN0123456789"

// fakeGraph is a Graph API stand-in that speaks the real wire format: it
// checks the path, the bearer token and the body shape, enforces the limits
// by decoding the body back into an Outbound, and answers like Meta.
type fakeGraph struct {
	t      *testing.T
	srv    *httptest.Server
	calls  atomic.Int32
	mu     sync.Mutex
	bodies []map[string]any
	// reply, when set, answers instead of the default success.
	reply func(w http.ResponseWriter, r *http.Request)
}

var messagesPath = regexp.MustCompile(`^/v24\.0/([0-9]+)/messages$`)

func newFakeGraph(t *testing.T) *fakeGraph {
	t.Helper()
	g := &fakeGraph{t: t}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGraph) client() *Client {
	return &Client{BaseURL: g.srv.URL, Version: "v24.0", Token: testToken, HTTPClient: g.srv.Client()}
}

func graphError(w http.ResponseWriter, status, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"message":%q,"type":%q,"code":%d,"error_data":{"messaging_product":"whatsapp","details":%q},"fbtrace_id":"AbCdEf123"}}`,
		msg, typ, code, msg+" (details)")
}

func (g *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	g.calls.Add(1)
	if r.Method != http.MethodPost || !messagesPath.MatchString(r.URL.Path) {
		graphError(w, http.StatusBadRequest, 100, "GraphMethodException", "Unsupported post request: "+r.URL.Path)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		graphError(w, http.StatusUnauthorized, 190, "OAuthException", "Invalid OAuth access token - Cannot parse access token")
		return
	}
	if r.Header.Get("Content-Type") != "application/json" {
		graphError(w, http.StatusBadRequest, 100, "OAuthException", "content type must be application/json")
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil || body["messaging_product"] != "whatsapp" {
		graphError(w, http.StatusBadRequest, 100, "OAuthException", "(#100) The parameter messaging_product is required.")
		return
	}
	g.mu.Lock()
	g.bodies = append(g.bodies, body)
	g.mu.Unlock()
	if g.reply != nil {
		g.reply(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if body["status"] == "read" {
		if id, _ := body["message_id"].(string); !strings.HasPrefix(id, "wamid.") {
			graphError(w, http.StatusBadRequest, 100, "OAuthException", "(#100) Invalid parameter")
			return
		}
		io.WriteString(w, `{"success":true}`)
		return
	}
	var msg Outbound
	if err := json.Unmarshal(raw, &msg); err != nil {
		graphError(w, http.StatusBadRequest, 100, "OAuthException", "(#100) Invalid parameter: "+err.Error())
		return
	}
	if err := msg.Validate(); err != nil {
		graphError(w, http.StatusBadRequest, 131009, "OAuthException", "(#131009) Parameter value is not valid")
		return
	}
	fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":%q,"wa_id":%q}],"messages":[{"id":"wamid.HBgMOTA1MzIxMjM0NTY3FQIAERgSRkFLRUdSQVBIMDAwMDAxAA=="}]}`,
		msg.To, strings.TrimPrefix(msg.To, "+"))
}

func (g *fakeGraph) lastBody() map[string]any {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.bodies) == 0 {
		return nil
	}
	return g.bodies[len(g.bodies)-1]
}

func TestSendEveryKind(t *testing.T) {
	t.Parallel()
	g := newFakeGraph(t)
	c := g.client()
	for name, msg := range sampleOutbound() {
		t.Run(name, func(t *testing.T) {
			wamid, err := c.Send(context.Background(), "123456789012345", msg)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if !strings.HasPrefix(wamid, "wamid.") {
				t.Errorf("wamid = %q", wamid)
			}
		})
	}
	if got, want := int(g.calls.Load()), len(sampleOutbound()); got != want {
		t.Errorf("server saw %d requests, want %d", got, want)
	}
}

func TestSendWireShape(t *testing.T) {
	t.Parallel()
	g := newFakeGraph(t)
	var path string
	g.reply = func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		io.WriteString(w, `{"messaging_product":"whatsapp","contacts":[{"input":"905321234567","wa_id":"905321234567"}],"messages":[{"id":"wamid.X"}]}`)
	}
	msg := Outbound{To: "905321234567", ReplyTo: "wamid.IN", BizOpaque: "outbox:42", Content: &Text{Body: "Kartınız kapatıldı.", PreviewURL: true}}
	if _, err := g.client().Send(context.Background(), "123456789012345", msg); err != nil {
		t.Fatal(err)
	}
	if path != "/v24.0/123456789012345/messages" {
		t.Errorf("path = %s", path)
	}
	want := map[string]any{
		"messaging_product": "whatsapp", "recipient_type": "individual", "to": "905321234567", "type": "text",
		"context":                  map[string]any{"message_id": "wamid.IN"},
		"biz_opaque_callback_data": "outbox:42",
		"text":                     map[string]any{"body": "Kartınız kapatıldı.", "preview_url": true},
	}
	if got := g.lastBody(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("body = %v\nwant %v", got, want)
	}
}

func TestSendInvalidNeverReachesServer(t *testing.T) {
	t.Parallel()
	g := newFakeGraph(t)
	msg := Outbound{To: "905321234567", Content: &Buttons{Body: "Seçin", Buttons: []Button{{ID: "a", Title: "Bu başlık yirmi karakterden uzun"}}}}
	_, err := g.client().Send(context.Background(), "123456789012345", msg)
	var le *LimitError
	if !errors.As(err, &le) || le.Field != "interactive.action.buttons[0].reply.title" {
		t.Fatalf("err = %v, want a LimitError on the title", err)
	}
	if n := g.calls.Load(); n != 0 {
		t.Errorf("server saw %d requests", n)
	}
	if d := Classify(err); d.Action != ActionBadRequest || d.Retry {
		t.Errorf("Classify = %+v", d)
	}
}

// TestSendErrorClassification runs every row of Meta's error table through
// the wire: the fake answers with Meta's error body, Send returns an
// *APIError, Classify decides.
func TestSendErrorClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code   int
		status int
		action Action
		retry  bool
		scope  Scope
	}{
		{130429, 400, ActionBackOff, true, ScopeNumber},
		{131056, 400, ActionBackOff, true, ScopeRecipient},
		{4, 400, ActionBackOff, true, ScopeAccount},
		{80007, 400, ActionBackOff, true, ScopeAccount},
		{1, 500, ActionRetry, true, ScopeNone},
		{2, 503, ActionRetry, true, ScopeNone},
		{131000, 500, ActionRetry, true, ScopeNone},
		{131016, 503, ActionRetry, true, ScopeNone},
		{131057, 400, ActionBackOff, true, ScopeNumber},
		{131047, 400, ActionNeedTemplate, false, ScopeNone},
		{131026, 400, ActionFail, false, ScopeNone},
		{131049, 400, ActionHoldMarketing, false, ScopeNone},
		{131050, 400, ActionOptOut, false, ScopeNone},
		{100, 400, ActionBadRequest, false, ScopeNone},
		{131008, 400, ActionBadRequest, false, ScopeNone},
		{131009, 400, ActionBadRequest, false, ScopeNone},
		{132000, 400, ActionBadRequest, false, ScopeNone},
		{132001, 404, ActionBadRequest, false, ScopeNone},
		{132012, 400, ActionBadRequest, false, ScopeNone},
		{132015, 400, ActionBadRequest, false, ScopeNone}, // other 132xxx
		{0, 401, ActionAlertOperator, false, ScopeNone},
		{190, 401, ActionAlertOperator, false, ScopeNone},
		{368, 400, ActionFail, false, ScopeNone},        // unknown 4xx
		{135000, 500, ActionRetry, true, ScopeNone},     // unknown 5xx
		{131031, 403, ActionFail, false, ScopeNone},     // unknown 4xx
		{33, 400, ActionFail, false, ScopeNone},         // unknown 4xx
		{999999, 429, ActionBackOff, true, ScopeNumber}, // unknown code, 429
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			t.Parallel()
			g := newFakeGraph(t)
			g.reply = func(w http.ResponseWriter, r *http.Request) {
				graphError(w, tt.status, tt.code, "OAuthException", fmt.Sprintf("(#%d) Meta says no", tt.code))
			}
			_, err := g.client().Send(context.Background(), "123456789012345", sampleOutbound()["text"])
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if apiErr.Code != tt.code || apiErr.HTTPStatus != tt.status || apiErr.FBTraceID != "AbCdEf123" ||
				apiErr.Type != "OAuthException" || !strings.Contains(apiErr.Details, "(details)") {
				t.Errorf("APIError = %+v", apiErr)
			}
			d := Classify(err)
			if d.Action != tt.action || d.Retry != tt.retry || d.Scope != tt.scope || d.Code != tt.code || d.Reason == "" {
				t.Errorf("Classify = %+v, want %v retry=%v scope=%v", d, tt.action, tt.retry, tt.scope)
			}
		})
	}
}

func TestSendNonGraphErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		action Action
		retry  bool
		scope  Scope
	}{
		{"proxy 502 page", 502, "<html><body>502 Bad Gateway</body></html>", ActionRetry, true, ScopeNone},
		{"empty 429", 429, "", ActionBackOff, true, ScopeNumber},
		{"401 without body", 401, "", ActionAlertOperator, false, ScopeNone},
		{"404 text", 404, "Not Found", ActionFail, false, ScopeNone},
		{"error object without code", 500, `{"error":{"message":"oops"}}`, ActionRetry, true, ScopeNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newFakeGraph(t)
			g.reply = func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}
			_, err := g.client().Send(context.Background(), "123456789012345", sampleOutbound()["text"])
			var httpErr *HTTPError
			if !errors.As(err, &httpErr) || httpErr.StatusCode != tt.status {
				t.Fatalf("err = %v, want *HTTPError %d", err, tt.status)
			}
			if d := Classify(err); d.Action != tt.action || d.Retry != tt.retry || d.Scope != tt.scope {
				t.Errorf("Classify = %+v", d)
			}
		})
	}
}

func TestSendAcceptedWithoutID(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{"messaging_product":"whatsapp","messages":[]}`, `not json`, `{"messages":[{"id":""}]}`} {
		g := newFakeGraph(t)
		g.reply = func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }
		_, err := g.client().Send(context.Background(), "123456789012345", sampleOutbound()["text"])
		if !errors.Is(err, ErrNoMessageID) {
			t.Fatalf("body %s: err = %v, want ErrNoMessageID", body, err)
		}
		if d := Classify(err); d.Action != ActionReconcile || d.Retry {
			t.Errorf("body %s: Classify = %+v", body, d)
		}
	}
}

func TestSendTimeout(t *testing.T) {
	t.Parallel()
	g := newFakeGraph(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	g.reply = func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := g.client().Send(ctx, "123456789012345", sampleOutbound()["text"])
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline", err)
	}
	if d := Classify(err); d.Action != ActionRetry || !d.Retry {
		t.Errorf("Classify = %+v", d)
	}
}

func TestSendCanceled(t *testing.T) {
	t.Parallel()
	g := newFakeGraph(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := g.client().Send(ctx, "123456789012345", sampleOutbound()["text"])
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want canceled", err)
	}
	if g.calls.Load() != 0 {
		t.Error("a canceled send reached the server")
	}
}

func TestSendNetworkError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more
	c := &Client{BaseURL: url, Token: testToken}
	_, err := c.Send(context.Background(), "123456789012345", sampleOutbound()["text"])
	if err == nil {
		t.Fatal("no error from a closed server")
	}
	if d := Classify(err); d.Action != ActionRetry || !d.Retry {
		t.Errorf("Classify(%v) = %+v", err, d)
	}
}

func TestMarkRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typing bool
		want   string
	}{
		{false, `map[message_id:wamid.HBgMOTA1MzIxMjM0NTY3 messaging_product:whatsapp status:read]`},
		{true, `map[message_id:wamid.HBgMOTA1MzIxMjM0NTY3 messaging_product:whatsapp status:read typing_indicator:map[type:text]]`},
	}
	for _, tt := range tests {
		g := newFakeGraph(t)
		if err := g.client().MarkRead(context.Background(), "123456789012345", "wamid.HBgMOTA1MzIxMjM0NTY3", tt.typing); err != nil {
			t.Fatalf("MarkRead: %v", err)
		}
		if got := fmt.Sprint(g.lastBody()); got != tt.want {
			t.Errorf("typing=%v body = %s\nwant %s", tt.typing, got, tt.want)
		}
	}
	g := newFakeGraph(t)
	if err := g.client().MarkRead(context.Background(), "123456789012345", "", false); !errors.Is(err, ErrInvalidMessage) || g.calls.Load() != 0 {
		t.Errorf("empty wamid: err = %v, calls %d", err, g.calls.Load())
	}
	g.reply = func(w http.ResponseWriter, r *http.Request) {
		graphError(w, 400, 100, "OAuthException", "(#100) Invalid parameter")
	}
	err := g.client().MarkRead(context.Background(), "123456789012345", "wamid.A", false)
	if d := Classify(err); d.Action != ActionBadRequest {
		t.Errorf("Classify(%v) = %+v", err, d)
	}
}

func TestTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	g := newFakeGraph(t)
	// A hostile or buggy server echoing the credentials back.
	g.reply = func(w http.ResponseWriter, r *http.Request) {
		graphError(w, 400, 100, "OAuthException "+r.Header.Get("Authorization"), "bad token "+r.Header.Get("Authorization"))
	}
	c := g.client()
	_, err := c.Send(context.Background(), "123456789012345", sampleOutbound()["text"])
	if err == nil {
		t.Fatal("no error")
	}
	var apiErr *APIError
	errors.As(err, &apiErr)
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v", apiErr), fmt.Sprintf("%#v", apiErr),
		fmt.Sprint(c), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), Classify(err).Reason} {
		if strings.Contains(s, testToken) {
			t.Errorf("token leaked in %q", s)
		}
	}

	g.reply = func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(502)
		io.WriteString(w, "upstream rejected "+r.Header.Get("Authorization"))
	}
	if _, err := c.Send(context.Background(), "123456789012345", sampleOutbound()["text"]); err == nil || strings.Contains(err.Error(), testToken) {
		t.Errorf("token leaked or no error: %v", err)
	}
}

func TestClientConfigErrors(t *testing.T) {
	t.Parallel()
	g := newFakeGraph(t)
	tests := []struct {
		name  string
		c     *Client
		phone string
	}{
		{"no token", &Client{BaseURL: g.srv.URL}, "123456789012345"},
		{"phone number id with a path", g.client(), "123/../456"},
		{"empty phone number id", g.client(), ""},
		{"base url without scheme", &Client{BaseURL: "graph.facebook.com", Token: testToken}, "123456789012345"},
		{"version with a slash", &Client{BaseURL: g.srv.URL, Version: "v24.0/x", Token: testToken}, "123456789012345"},
	}
	for _, tt := range tests {
		_, err := tt.c.Send(context.Background(), tt.phone, sampleOutbound()["text"])
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", tt.name, err)
		}
		if d := Classify(err); d.Action != ActionAlertOperator {
			t.Errorf("%s: Classify = %+v", tt.name, d)
		}
	}
	if n := g.calls.Load(); n != 0 {
		t.Errorf("server saw %d requests", n)
	}
}

func TestClientDefaults(t *testing.T) {
	t.Parallel()
	c := &Client{Token: testToken}
	got, err := c.endpoint("123456789012345")
	if err != nil || got != "https://graph.facebook.com/v24.0/123456789012345/messages" {
		t.Fatalf("endpoint = %q, %v", got, err)
	}
	c = &Client{BaseURL: "https://graph.example.com/", Version: "v23.0", Token: testToken}
	if got, _ := c.endpoint("1"); got != "https://graph.example.com/v23.0/1/messages" {
		t.Fatalf("endpoint = %q", got)
	}
}

// TestClientConcurrentUse shares one Client among goroutines (run with -race).
func TestClientConcurrentUse(t *testing.T) {
	t.Parallel()
	g := newFakeGraph(t)
	c := g.client()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Go(func() {
			msg := Outbound{To: fmt.Sprintf("90532%07d", i), Content: &Text{Body: "Merhaba"}}
			if _, err := c.Send(context.Background(), "123456789012345", msg); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := g.calls.Load(); n != 32 {
		t.Errorf("server saw %d requests, want 32", n)
	}
}
