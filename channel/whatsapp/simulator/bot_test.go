package simulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/channel/whatsapp/simulator"
	"github.com/yanit/yanit/channel/whatsapp/wire"
)

const (
	testSecret  = "test-app-secret"
	testToken   = "test-access-token"
	testPhoneID = "106540352242922"
	testDisplay = "15550009999"
)

// bot stands in for yanit: it verifies and parses every webhook, records
// what arrived and, with a script, answers through the simulator's Graph API
// like an assistant would.
type bot struct {
	client *whatsapp.Client
	script bool
	// reject answers that many of the next webhooks with 500.
	reject atomic.Int32

	mu       sync.Mutex
	attempts int // webhook requests, rejected ones included
	bodies   [][]byte
	inbound  []whatsapp.Inbound
	statuses []whatsapp.Status
	sent     []string // wamids the bot sent
	errs     []string // failures, reported at the end of the test
	changed  chan struct{}
}

func newBot(script bool) *bot { return &bot{script: script, changed: make(chan struct{})} }

func (b *bot) failf(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errs = append(b.errs, fmt.Sprintf(format, args...))
}

func (b *bot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		b.failf("reading webhook: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	b.attempts++
	b.mu.Unlock()
	if err := whatsapp.VerifySignature(testSecret, r.Header.Get(whatsapp.SignatureHeader), body); err != nil {
		b.failf("webhook signature: %v", err)
		w.WriteHeader(http.StatusForbidden)
		return
	}
	if n := b.reject.Load(); n > 0 && b.reject.CompareAndSwap(n, n-1) {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	batch, itemErrs, err := whatsapp.Parse(body)
	if err != nil || len(itemErrs) > 0 {
		b.failf("parsing webhook %s: %v %v", body, err, itemErrs)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	b.bodies = append(b.bodies, body)
	b.inbound = append(b.inbound, batch.Messages...)
	b.statuses = append(b.statuses, batch.Statuses...)
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
	if b.script {
		for _, in := range batch.Messages {
			b.answer(r.Context(), in)
		}
	}
	w.WriteHeader(http.StatusOK)
}

// answer is the bot's script: a greeting with buttons, a list of orders,
// then the order's state.
func (b *bot) answer(ctx context.Context, in whatsapp.Inbound) {
	var content whatsapp.Content
	switch {
	case in.Type == whatsapp.TypeText:
		if err := b.client.MarkRead(ctx, testPhoneID, in.WAMID, true); err != nil {
			b.failf("marking %s read: %v", in.WAMID, err)
		}
		content = &whatsapp.Buttons{
			Header: "Yanıt Shop",
			Body:   "Hello *" + in.ProfileName + "*! How can I help?",
			Footer: "Demo assistant",
			Buttons: []whatsapp.Button{
				{ID: "orders", Title: "My orders"},
				{ID: "human", Title: "Talk to a person"},
			},
		}
	case in.Subtype == "button_reply" && in.ReplyID == "orders":
		content = &whatsapp.List{
			Body:   "Which order?",
			Button: "Orders",
			Sections: []whatsapp.Section{
				{Title: "Recent", Rows: []whatsapp.Row{
					{ID: "o-1001", Title: "Order #1001", Description: "2 items, shipped"},
					{ID: "o-1002", Title: "Order #1002", Description: "1 item, preparing"},
				}},
				{Title: "Older", Rows: []whatsapp.Row{{ID: "o-0999", Title: "Order #999"}}},
			},
		}
	case in.Subtype == "button_reply":
		content = &whatsapp.Text{Body: "Connecting you to a person."}
	case in.Subtype == "list_reply":
		content = &whatsapp.Text{Body: "*" + in.Text + "* is on its way.\n_Arrives tomorrow._"}
	case in.Type == whatsapp.TypeButton:
		content = &whatsapp.Text{Body: "Noted: " + in.ReplyID}
	default:
		return
	}
	id, err := b.client.Send(ctx, testPhoneID, whatsapp.Outbound{To: in.WaID, BizOpaque: "yanit:" + in.WAMID, Content: content})
	if err != nil {
		b.failf("answering %s: %v", in.WAMID, err)
		return
	}
	b.mu.Lock()
	b.sent = append(b.sent, id)
	b.mu.Unlock()
}

// waitFor waits until cond holds over the bot's records (b.mu held).
func (b *bot) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		b.mu.Lock()
		ok := cond()
		ch := b.changed
		b.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-ch:
		}
	}
}

// inboundByID waits for the webhook of the user message wamid.
func (b *bot) inboundByID(t *testing.T, wamid string) whatsapp.Inbound {
	t.Helper()
	var in whatsapp.Inbound
	b.waitFor(t, "message "+wamid, func() bool {
		for _, m := range b.inbound {
			if m.WAMID == wamid {
				in = m
				return true
			}
		}
		return false
	})
	return in
}

// statusesOf waits for n status webhooks of wamid and returns them in
// arrival order.
func (b *bot) statusesOf(t *testing.T, wamid string, n int) []whatsapp.Status {
	t.Helper()
	var got []whatsapp.Status
	b.waitFor(t, fmt.Sprintf("%d statuses of %s", n, wamid), func() bool {
		got = got[:0]
		for _, s := range b.statuses {
			if s.WAMID == wamid {
				got = append(got, s)
			}
		}
		return len(got) >= n
	})
	return got
}

// env is a simulator served over HTTP with a bot behind its webhook URL.
type env struct {
	sim *simulator.Simulator
	srv *httptest.Server // the simulator's routes
	bot *bot
}

// setup starts a bot and a simulator posting to it. Options left empty get
// test values; statuses are 5 ms apart.
func setup(t *testing.T, opts simulator.Options, script bool) *env {
	t.Helper()
	b := newBot(script)
	botSrv := httptest.NewServer(b)
	t.Cleanup(botSrv.Close)
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.errs {
			t.Error("bot: " + e)
		}
	})
	opts.AppSecret = testSecret
	opts.AccessToken = testToken
	opts.PhoneNumberID = testPhoneID
	opts.DisplayPhone = testDisplay
	opts.WebhookURL = botSrv.URL + "/webhooks/whatsapp"
	if opts.StatusDelay == 0 {
		opts.StatusDelay = 5 * time.Millisecond
	}
	sim, err := simulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Routes())
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = sim.Close() }) // first: ends event streams and deliveries
	b.client = &whatsapp.Client{BaseURL: simulator.GraphURL(srv.URL), Token: testToken, HTTPClient: srv.Client()}
	return &env{sim: sim, srv: srv, bot: b}
}

// testContext is a context that ends with the test or after 60 s (a bound
// for a hung test on a busy machine, not a timing assertion).
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// graphCall posts body to the simulator's Graph API path with token and
// returns the status and the decoded error, if any.
func graphCall(t *testing.T, srv *httptest.Server, token, path, body string) (int, *wire.GraphError) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, nil
	}
	var er wire.ErrorResponse
	if err := json.Unmarshal(data, &er); err != nil || er.Error == nil || er.Error.Code == nil {
		t.Fatalf("http %d: not a Graph API error: %s", resp.StatusCode, data)
	}
	return resp.StatusCode, er.Error
}

// apiCall sends a JSON request to the page's API and decodes the answer
// into out (when not nil).
func apiCall(t *testing.T, srv *httptest.Server, method, path string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 && resp.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: decoding answer: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
