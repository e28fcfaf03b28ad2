package demo_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yanit/yanit/tools"
	"github.com/yanit/yanit/tools/demo"
)

// These tests load the real configs/demo-tools.yaml with
// tools.LoadHTTPTools and call the demo backend over HTTP through a
// tools.Registry, as yanit does in production.

// toolTimeout replaces the backend's 3s timeout of configs/demo-tools.yaml
// in these tests, so that a backend that does not answer costs a fraction
// of a second instead of 3 per attempt.
const toolTimeout = 200 * time.Millisecond

// The breaker of configs/demo-tools.yaml: {failures: 5, cooldown: 30s}.
const (
	breakerFailures = 5
	breakerCooldown = 30 * time.Second
)

// demoToken is the bearer token of the Authorization header that the
// secrets test adds to the backend.
const demoToken = "demo-token-7f3a91c2e4b8d605"

// wrongSecret is a signing secret the backend was not started with.
const wrongSecret = "not-the-demo-backend-key"

// Arguments used throughout.
const (
	orderShipped = `{"order_id": "SP-2026-0001"}`
	bookTomorrow = `{"date": "` + tomorrow + `", "time": "15:00"}`
)

// demoToolsYAML returns configs/demo-tools.yaml as shipped, except for the
// backend's timeout, which is toolTimeout instead of 3s to keep the
// timeout tests fast.
func demoToolsYAML(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../../configs/demo-tools.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return replaceOnce(t, string(raw), "timeout: 3s", "timeout: "+toolTimeout.String())
}

// replaceOnce replaces old, which must be in the YAML exactly once, with
// repl.
func replaceOnce(t *testing.T, yaml, old, repl string) string {
	t.Helper()
	if n := strings.Count(yaml, old); n != 1 {
		t.Fatalf("configs/demo-tools.yaml holds %q %d times, want once", old, n)
	}
	return strings.Replace(yaml, old, repl, 1)
}

// faultMode is what faults does with the requests it receives.
type faultMode string

const (
	// faultNone passes requests through to the backend.
	faultNone faultMode = "pass-through"
	// faultSlow holds a request for slowFor, far longer than toolTimeout,
	// before passing it through; it drops the request if the caller hangs
	// up first.
	faultSlow faultMode = "slow"
	// fault503 and fault500 answer with that status, and the backend never
	// sees the request.
	fault503 faultMode = "503"
	fault500 faultMode = "500"
)

// slowFor is how long faultSlow holds a request whose caller still waits:
// long enough that only a caller without a timeout sees an answer.
const slowFor = 10 * toolTimeout

// faults stands in front of the demo backend and fails requests as the
// test says. It counts every request that reaches it, per path, whatever
// then happens to it.
type faults struct {
	next http.Handler
	// done is closed when the test ends, to let go of held requests.
	done chan struct{}

	mu   sync.Mutex
	mode faultMode
	hits map[string]int
	// statuses are those of the backend's answers, in order.
	statuses []int
	// auth are the Authorization headers received.
	auth []string
}

func (f *faults) set(m faultMode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode = m
}

// hitsOn counts the requests for path.
func (f *faults) hitsOn(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[path]
}

// total counts all requests.
func (f *faults) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, h := range f.hits {
		n += h
	}
	return n
}

func (f *faults) backendStatuses() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.statuses)
}

func (f *faults) authHeaders() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.auth)
}

func (f *faults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	mode := f.mode
	f.hits[r.URL.Path]++
	if a := r.Header.Get("Authorization"); a != "" {
		f.auth = append(f.auth, a)
	}
	f.mu.Unlock()

	switch mode {
	case faultSlow:
		// Reading the whole body lets the server notice a caller that hangs
		// up, which ends r's context.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		select {
		case <-time.After(slowFor):
		case <-r.Context().Done():
			return
		case <-f.done:
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	case fault503, fault500:
		status := http.StatusServiceUnavailable
		if mode == fault500 {
			status = http.StatusInternalServerError
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"error": "fault injected by the test"}`)
		return
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	f.next.ServeHTTP(rec, r)
	f.mu.Lock()
	f.statuses = append(f.statuses, rec.status)
	f.mu.Unlock()
}

// statusRecorder remembers the status a handler answers with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// fakeClock is the tools' clock, which the breaker tests move on.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// rig is the demo backend on a store of its own, behind faults, served
// over HTTP, with the logs of the backend and of the tools that call it.
type rig struct {
	store  *demo.Store
	faults *faults
	srv    *httptest.Server
	// clock is the tools' clock; it starts at the backend's, now.
	clock                 *fakeClock
	toolLogs, backendLogs *syncBuffer
}

// startRig starts a rig. Unlike startBackend, it puts faults in front of
// the backend and keeps the backend's log in a buffer.
func startRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{
		store:       demo.New(func() time.Time { return now }),
		clock:       &fakeClock{t: now},
		toolLogs:    new(syncBuffer),
		backendLogs: new(syncBuffer),
	}
	backend := demo.NewBackend(r.store, backendKey, demo.BackendOptions{
		Logger: slog.New(slog.NewTextHandler(r.backendLogs, nil)),
		Now:    func() time.Time { return now },
	})
	r.faults = &faults{next: backend, done: make(chan struct{}), mode: faultNone, hits: make(map[string]int)}
	r.srv = httptest.NewServer(r.faults)
	t.Cleanup(r.srv.Close)
	// Cleanups run last first: held requests are let go before Close
	// waits for them.
	t.Cleanup(func() { close(r.faults.done) })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("tools' log:\n%s\nbackend's log:\n%s", r.toolLogs, r.backendLogs)
		}
	})
	return r
}

// load loads the tools declared in yaml against the rig's backend, signing
// with secret, and registers them in a registry that retries twice after
// 1ms. It returns the registry and the tools' backend.
func (r *rig) load(t *testing.T, yaml, secret string) (*tools.Registry, *tools.Backend) {
	t.Helper()
	env := map[string]string{
		"YANIT_DEMO_BACKEND_URL":    r.srv.URL,
		"YANIT_DEMO_BACKEND_SECRET": secret,
		"DEMO_TOKEN":                demoToken,
	}
	loaded, err := tools.LoadHTTPTools([]byte(yaml), func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}, tools.HTTPOptions{
		Client: r.srv.Client(),
		Logger: slog.New(slog.NewTextHandler(r.toolLogs, nil)),
		Now:    r.clock.Now,
	})
	if err != nil {
		t.Fatalf("LoadHTTPTools: %v", err)
	}
	reg := tools.NewRegistry()
	reg.SetRetry(2, time.Millisecond)
	for _, tool := range loaded {
		if err := reg.Register(tool); err != nil {
			t.Fatal(err)
		}
	}
	backends := tools.Backends(loaded)
	if len(backends) != 1 {
		t.Fatalf("%d backends loaded, want 1", len(backends))
	}
	return reg, backends[0]
}

// callTool calls a tool through reg, as the engine does.
func callTool(t *testing.T, reg *tools.Registry, name, args string) (tools.Call, error) {
	return reg.Call(t.Context(), name, json.RawMessage(args))
}

func TestHTTPToolsSuccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tool, args, path string
		check            func(t *testing.T, r *rig, res tools.Result)
	}{
		{tool: "order_status", args: orderShipped, path: "/orders/SP-2026-0001",
			check: func(t *testing.T, _ *rig, res tools.Result) {
				checkFields(t, res.User, map[string]any{
					"status": "shipped", "status_text": texts("Kargoya verildi", "Shipped"), "carrier": "Yurtiçi Kargo",
				}, "customer_name")
				checkFields(t, res.Agent, map[string]any{"customer_name": "Ayşe Yılmaz"})
			}},
		{tool: "card_balance", args: `{"phone": "+905321234567"}`, path: "/cards/+905321234567"},
		// service and phone left out: the body template leaves them out too.
		{tool: "book_appointment", args: bookTomorrow, path: "/appointments",
			check: func(t *testing.T, r *rig, _ tools.Result) { wantAppointment(t, r.store, "RDV-1006", "booked") }},
		{tool: "cancel_appointment", args: `{"appointment_id": "RDV-1001"}`, path: "/appointments/RDV-1001/cancel",
			check: func(t *testing.T, r *rig, _ tools.Result) { wantAppointment(t, r.store, "RDV-1001", "cancelled") }},
	}
	for _, tt := range tests {
		t.Run(tt.tool, func(t *testing.T) {
			t.Parallel()
			r := startRig(t)
			reg, b := r.load(t, demoToolsYAML(t), string(backendKey))
			_, native := setup(t)
			want := mustCall(t, native, tt.tool, tt.args)

			c, err := callTool(t, reg, tt.tool, tt.args)
			if err != nil {
				t.Fatalf("%s %s: %v", tt.tool, tt.args, err)
			}
			if got, want := roundTrip(t, c.Result.User), roundTrip(t, want.User); !reflect.DeepEqual(got, want) {
				t.Errorf("User\n%v\nwant the Go-native tool's\n%v", got, want)
			}
			if got, want := roundTrip(t, c.Result.Agent), roundTrip(t, want.Agent); !reflect.DeepEqual(got, want) {
				t.Errorf("Agent\n%v\nwant the Go-native tool's\n%v", got, want)
			}
			if h := r.faults.hitsOn(tt.path); h != 1 || c.Attempts != 1 {
				t.Errorf("%d requests for %s in %d attempts, want 1 in 1", h, tt.path, c.Attempts)
			}
			if s := b.Stats(); s.State != tools.BreakerClosed || s.Failures != 0 {
				t.Errorf("breaker %+v, want closed without failures", s)
			}
			if tt.check != nil {
				tt.check(t, r, c.Result)
			}
		})
	}
}

func TestHTTPToolsRefusedArguments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		tool, args string
		kind       tools.Kind
		field, msg string
		// hits counts the requests that reach the backend.
		hits int
	}{
		{name: "order not found", tool: "order_status", args: `{"order_id": "SP-2026-9999"}`,
			kind: tools.KindNotFound, msg: "SP-2026-9999", hits: 1},
		{name: "order id against the schema", tool: "order_status", args: `{"order_id": "12"}`,
			kind: tools.KindInvalid, field: "order_id"},
		{name: "booking without a time", tool: "book_appointment", args: `{"date": "` + tomorrow + `"}`,
			kind: tools.KindInvalid, field: "time"},
		{name: "booking in the past", tool: "book_appointment", args: `{"date": "2026-03-09", "time": "14:00"}`,
			kind: tools.KindInvalid, field: "date", hits: 1},
		{name: "booking a full slot", tool: "book_appointment", args: `{"date": "` + tomorrow + `", "time": "14:00"}`,
			kind: tools.KindInvalid, field: "time", hits: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := startRig(t)
			reg, b := r.load(t, demoToolsYAML(t), string(backendKey))
			c, err := callTool(t, reg, tt.tool, tt.args)
			wantError(t, err, tt.kind, tt.field, tt.msg)
			if h := r.faults.total(); h != tt.hits || c.Attempts != tt.hits {
				t.Errorf("%d requests to the backend in %d attempts, want %d: a refusal is never retried", h, c.Attempts, tt.hits)
			}
			// A user's mistake says nothing about the backend's health.
			if s := b.Stats(); s.State != tools.BreakerClosed || s.Failures != 0 {
				t.Errorf("breaker %+v, want closed without failures", s)
			}
			wantAppointment(t, r.store, "RDV-1006", "")
		})
	}
}

func TestHTTPToolsRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tool, args, path string
		// hits counts the requests: three for a tool that may be repeated
		// (a try and two retries), one for one that may not.
		hits int
	}{
		{"order_status", orderShipped, "/orders/SP-2026-0001", 3},
		{"book_appointment", bookTomorrow, "/appointments", 1},
		// Mutating but idempotent: cancelling twice is harmless.
		{"cancel_appointment", `{"appointment_id": "RDV-1001"}`, "/appointments/RDV-1001/cancel", 3},
	}
	msgs := map[faultMode]string{
		faultSlow: "",
		fault503:  "backend demo answered 503 Service Unavailable",
		fault500:  "backend demo answered 500 Internal Server Error",
	}
	for _, mode := range []faultMode{faultSlow, fault503, fault500} {
		for _, tt := range tests {
			t.Run(string(mode)+"/"+tt.tool, func(t *testing.T) {
				t.Parallel()
				r := startRig(t)
				reg, b := r.load(t, demoToolsYAML(t), string(backendKey))
				r.faults.set(mode)
				c, err := callTool(t, reg, tt.tool, tt.args)
				wantError(t, err, tools.KindUnavailable, "", msgs[mode])
				if h := r.faults.hitsOn(tt.path); h != tt.hits || c.Attempts != tt.hits {
					t.Errorf("%d requests for %s in %d attempts, want %d", h, tt.path, c.Attempts, tt.hits)
				}
				if s := b.State(); s != tools.BreakerClosed {
					t.Errorf("breaker %s after %d failures, want closed until %d", s, tt.hits, breakerFailures)
				}
				if got := r.faults.backendStatuses(); len(got) != 0 {
					t.Errorf("the backend answered %v; want it never reached", got)
				}
			})
		}
	}
}

// tripBreaker makes order_status fail with 503 until the backend's breaker
// opens, and checks that it opens at the breakerFailures-th failed request
// in a row, counted through the attempts of two calls.
func tripBreaker(t *testing.T, r *rig, reg *tools.Registry, b *tools.Backend) {
	t.Helper()
	r.faults.set(fault503)
	start, opens := r.faults.total(), b.Stats().Opens

	// A try and two retries: three failures, still closed.
	c, err := callTool(t, reg, "order_status", orderShipped)
	wantError(t, err, tools.KindUnavailable, "", "503")
	if h := r.faults.total() - start; h != 3 || c.Attempts != 3 {
		t.Fatalf("first call: %d requests in %d attempts, want 3 in 3", h, c.Attempts)
	}
	if s := b.Stats(); s.State != tools.BreakerClosed || s.Failures != 3 {
		t.Fatalf("after 3 failures: breaker %+v, want closed with 3 failures", s)
	}

	// Two more requests fail and the breaker opens; the second retry
	// then fails fast, without a request.
	c, err = callTool(t, reg, "order_status", orderShipped)
	wantError(t, err, tools.KindUnavailable, "", "")
	if !errors.Is(err, tools.ErrCircuitOpen) {
		t.Errorf("second call: %v, want the open circuit's error", err)
	}
	if h := r.faults.total() - start; h != breakerFailures || c.Attempts != 3 {
		t.Fatalf("second call: %d requests in all, the last call in %d attempts; want %d, 3", h, c.Attempts, breakerFailures)
	}
	s := b.Stats()
	if s.State != tools.BreakerOpen || s.Opens != opens+1 {
		t.Fatalf("breaker %+v, want open, opened %d times", s, opens+1)
	}
	if want := r.clock.Now().Add(breakerCooldown); !s.RetryAt.Equal(want) {
		t.Errorf("RetryAt %s, want %s: the cooldown after opening", s.RetryAt, want)
	}
	if !strings.Contains(r.toolLogs.String(), "circuit opened") {
		t.Errorf("the opening was not logged:\n%s", r.toolLogs)
	}
}

// wantFastFail calls a tool while the breaker is open and fails unless the
// call is refused at once: no request, no retry, an error naming the open
// circuit.
func wantFastFail(t *testing.T, r *rig, reg *tools.Registry, b *tools.Backend, tool, args, msg string) {
	t.Helper()
	hits, rejected := r.faults.total(), b.Stats().Rejected
	c, err := callTool(t, reg, tool, args)
	wantError(t, err, tools.KindUnavailable, "", "")
	if !errors.Is(err, tools.ErrCircuitOpen) || !strings.Contains(err.Error(), msg) {
		t.Errorf("%s: %v; want the open circuit's error with %q", tool, err, msg)
	}
	if h := r.faults.total() - hits; h != 0 || c.Attempts != 1 {
		t.Errorf("%s: %d requests in %d attempts while the circuit is open, want none in 1", tool, h, c.Attempts)
	}
	if got := b.Stats().Rejected; got != rejected+1 {
		t.Errorf("%s: Rejected %d, want %d", tool, got, rejected+1)
	}
}

// wantClosesOnTrial lets the backend answer again, moves past the
// cooldown and checks that the trial call gets through and closes the
// breaker.
func wantClosesOnTrial(t *testing.T, r *rig, reg *tools.Registry, b *tools.Backend) {
	t.Helper()
	r.faults.set(faultNone)
	r.clock.Advance(breakerCooldown + time.Second)
	hits := r.faults.total()
	c, err := callTool(t, reg, "order_status", orderShipped)
	if err != nil {
		t.Fatalf("trial call: %v", err)
	}
	if c.Result.User["status"] != "shipped" {
		t.Errorf("trial call: User %v, want order SP-2026-0001 shipped", c.Result.User)
	}
	if h := r.faults.total() - hits; h != 1 {
		t.Errorf("trial call: %d requests, want 1", h)
	}
	if s := b.Stats(); s.State != tools.BreakerClosed || s.Failures != 0 {
		t.Errorf("after a good trial: breaker %+v, want closed without failures", s)
	}
	logs := r.toolLogs.String()
	for _, want := range []string{"circuit half-open", "circuit closed"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the tools' log has no %q:\n%s", want, logs)
		}
	}
}

func TestHTTPToolsBreaker(t *testing.T) {
	t.Parallel()

	t.Run("fails fast, then closes after a good trial", func(t *testing.T) {
		t.Parallel()
		r := startRig(t)
		reg, b := r.load(t, demoToolsYAML(t), string(backendKey))
		tripBreaker(t, r, reg, b)

		// The backend is back, but until the cooldown has passed every tool
		// of the backend fails fast: the breaker is per backend.
		r.faults.set(faultNone)
		r.clock.Advance(breakerCooldown - time.Second)
		wantFastFail(t, r, reg, b, "order_status", orderShipped, "circuit open, retrying after 1s")
		wantFastFail(t, r, reg, b, "book_appointment", bookTomorrow, "circuit open, retrying after 1s")
		wantAppointment(t, r.store, "RDV-1006", "")
		if s := b.State(); s != tools.BreakerOpen {
			t.Errorf("breaker %s before the cooldown has passed, want open", s)
		}

		wantClosesOnTrial(t, r, reg, b)
	})

	t.Run("re-opens after a failed trial", func(t *testing.T) {
		t.Parallel()
		r := startRig(t)
		reg, b := r.load(t, demoToolsYAML(t), string(backendKey))
		tripBreaker(t, r, reg, b)

		// The backend still fails: the trial is the only request, and its
		// failure re-opens the breaker for another cooldown.
		r.clock.Advance(breakerCooldown + time.Second)
		hits := r.faults.total()
		_, err := callTool(t, reg, "order_status", orderShipped)
		wantError(t, err, tools.KindUnavailable, "", "")
		if h := r.faults.total() - hits; h != 1 {
			t.Errorf("trial call: %d requests, want 1", h)
		}
		s := b.Stats()
		if s.State != tools.BreakerOpen || s.Opens != 2 {
			t.Errorf("after a failed trial: breaker %+v, want open, opened twice", s)
		}
		if want := r.clock.Now().Add(breakerCooldown); !s.RetryAt.Equal(want) {
			t.Errorf("RetryAt %s, want %s: a new cooldown from the failed trial", s.RetryAt, want)
		}
		wantFastFail(t, r, reg, b, "order_status", orderShipped, "circuit open, retrying after 30s")

		wantClosesOnTrial(t, r, reg, b)
	})
}

func TestHTTPToolsBadSignature(t *testing.T) {
	t.Parallel()
	r := startRig(t)
	yaml := demoToolsYAML(t)
	wrong, _ := r.load(t, yaml, wrongSecret)

	c, err := callTool(t, wrong, "book_appointment", bookTomorrow)
	wantError(t, err, tools.KindUnavailable, "", "refused yanit's credentials (401 Unauthorized)")
	if h := r.faults.hitsOn("/appointments"); h != 1 || c.Attempts != 1 {
		t.Errorf("%d requests in %d attempts, want 1 in 1", h, c.Attempts)
	}
	if got := r.faults.backendStatuses(); !slices.Equal(got, []int{http.StatusUnauthorized}) {
		t.Errorf("the backend answered %v, want [401]", got)
	}
	wantAppointment(t, r.store, "RDV-1006", "")
	// Refused credentials stay refused: even an idempotent tool asks once.
	c, err = callTool(t, wrong, "order_status", `{"order_id":"SP-2026-0001"}`)
	wantError(t, err, tools.KindUnavailable, "", "refused yanit's credentials (401 Unauthorized)")
	if h := r.faults.hitsOn("/orders/SP-2026-0001"); h != 1 || c.Attempts != 1 {
		t.Errorf("order_status with refused credentials: %d requests in %d attempts, want 1 in 1", h, c.Attempts)
	}
	if logs := r.toolLogs.String(); !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "refused yanit's credentials") {
		t.Errorf("the tools' log has no error about refused credentials:\n%s", logs)
	}
	if logs := r.backendLogs.String(); !strings.Contains(logs, "request refused") || !strings.Contains(logs, "signature does not match") {
		t.Errorf("the backend's log has no refused signature:\n%s", logs)
	}

	// With the right secret the next booking is RDV-1006: the refused
	// request took no number.
	right, _ := r.load(t, yaml, string(backendKey))
	c, err = callTool(t, right, "book_appointment", bookTomorrow)
	if err != nil {
		t.Fatalf("booking with the right secret: %v", err)
	}
	if id := c.Result.User["appointment_id"]; id != "RDV-1006" {
		t.Errorf("booked %v, want RDV-1006", id)
	}
	wantAppointment(t, r.store, "RDV-1006", "booked")
}

func TestHTTPToolsKeepSecretsOutOfLogs(t *testing.T) {
	t.Parallel()
	r := startRig(t)
	const anchor = "    signing_secret_env: YANIT_DEMO_BACKEND_SECRET\n"
	yaml := replaceOnce(t, demoToolsYAML(t), anchor, anchor+"    headers: {Authorization: \"Bearer ${DEMO_TOKEN}\"}\n")
	reg, b := r.load(t, yaml, string(backendKey))
	wrong, _ := r.load(t, yaml, wrongSecret)

	steps := []struct {
		mode       faultMode
		reg        *tools.Registry
		tool, args string
		kind       tools.Kind // "" for success
	}{
		{faultNone, reg, "order_status", orderShipped, ""},
		{faultNone, reg, "book_appointment", bookTomorrow, ""},
		{faultNone, reg, "order_status", `{"order_id": "SP-2026-9999"}`, tools.KindNotFound},
		{faultNone, reg, "order_status", `{"order_id": "12"}`, tools.KindInvalid},
		{faultNone, reg, "book_appointment", `{"date": "2026-03-09", "time": "14:00"}`, tools.KindInvalid},
		{faultNone, wrong, "book_appointment", bookTomorrow, tools.KindUnavailable},
		{faultSlow, reg, "book_appointment", bookTomorrow, tools.KindUnavailable},
		{fault500, reg, "order_status", orderShipped, tools.KindUnavailable},
		// Failures 5 and 6 open the breaker; then calls fail fast.
		{fault503, reg, "order_status", orderShipped, tools.KindUnavailable},
		{faultNone, reg, "order_status", orderShipped, tools.KindUnavailable},
	}
	var errs []string
	for i, s := range steps {
		r.faults.set(s.mode)
		c, err := callTool(t, s.reg, s.tool, s.args)
		if got := c.Kind; got != s.kind {
			t.Errorf("step %d, %s %s with %s: kind %q (%v), want %q", i, s.tool, s.args, s.mode, got, err, s.kind)
		}
		if err != nil {
			errs = append(errs, err.Error(), c.Err)
		}
	}
	if s := b.State(); s != tools.BreakerOpen {
		t.Errorf("breaker %s, want open so that its logs are checked too", s)
	}

	// The token was sent, so there was something to leak.
	auth := r.faults.authHeaders()
	if len(auth) == 0 || slices.ContainsFunc(auth, func(a string) bool { return a != "Bearer "+demoToken }) {
		t.Errorf("Authorization headers received %q, want each Bearer and the token", auth)
	}
	// And what was to be logged was logged.
	toolLogs, backendLogs := r.toolLogs.String(), r.backendLogs.String()
	for _, want := range []string{"HTTP tool call failed", "refused yanit's credentials", "circuit opened"} {
		if !strings.Contains(toolLogs, want) {
			t.Errorf("the tools' log has no %q:\n%s", want, toolLogs)
		}
	}
	if !strings.Contains(backendLogs, "request refused") {
		t.Errorf("the backend's log has no refused request:\n%s", backendLogs)
	}

	// "yanit tools test" prints the request it would send.
	tool, _ := reg.Get("book_appointment")
	method, url, headers, body, err := tool.(*tools.HTTPTool).DescribeRequest(json.RawMessage(bookTomorrow))
	if err != nil {
		t.Fatalf("DescribeRequest: %v", err)
	}
	if got := headers.Get("Authorization"); got != "Bearer ***" {
		t.Errorf("described Authorization %q, want it masked", got)
	}
	described := fmt.Sprint(method, url, headers, string(body))

	places := map[string]string{
		"the tools' log":        toolLogs,
		"the backend's log":     backendLogs,
		"an error":              strings.Join(errs, "\n"),
		"the described request": described,
	}
	for what, secret := range map[string]string{
		"the signing secret":       string(backendKey),
		"the wrong signing secret": wrongSecret,
		"the bearer token":         demoToken,
	} {
		for where, text := range places {
			if strings.Contains(text, secret) {
				t.Errorf("%s is in %s:\n%s", what, where, text)
			}
		}
	}
}
