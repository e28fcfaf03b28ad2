package tools_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yanit/yanit/tools"
)

// breakerFixture is a backend answering with a status the test sets; the
// test backend's breaker opens after 3 failures and cools down for 30s.
type breakerFixture struct {
	*httpFixture
	status atomic.Int32
	order  *tools.HTTPTool
	// onRequest, when set, runs in the handler before it answers.
	onRequest atomic.Pointer[func()]
}

func newBreakerFixture(t *testing.T) *breakerFixture {
	t.Helper()
	b := &breakerFixture{}
	b.status.Store(http.StatusServiceUnavailable)
	b.httpFixture = newHTTPFixture(t, func(w http.ResponseWriter, r *http.Request) {
		if f := b.onRequest.Load(); f != nil {
			(*f)()
		}
		w.WriteHeader(int(b.status.Load()))
		_, _ = w.Write([]byte(`{}`))
	})
	b.order = b.tool(t, "order_status")
	return b
}

// call calls order_status once, directly, without the Registry's retries.
func (b *breakerFixture) call() error {
	_, err := b.order.Call(context.Background(), json.RawMessage(`{"order_id": "SP-2026-0001"}`))
	return err
}

// open makes the breaker open with three failures.
func (b *breakerFixture) open(t *testing.T) {
	t.Helper()
	b.status.Store(http.StatusServiceUnavailable)
	for range 3 {
		if err := b.call(); errors.Is(err, tools.ErrCircuitOpen) || tools.KindOf(err) != tools.KindUnavailable {
			t.Fatalf("failing call: %v", err)
		}
	}
	if s := b.order.Backend().State(); s != tools.BreakerOpen {
		t.Fatalf("after 3 failures the breaker is %s, want open", s)
	}
}

// assertFastFail checks that a call fails with ErrCircuitOpen and sends no
// request.
func (b *breakerFixture) assertFastFail(t *testing.T, wantMsg string) {
	t.Helper()
	before := b.hits.Load()
	err := b.call()
	if !errors.Is(err, tools.ErrCircuitOpen) || tools.KindOf(err) != tools.KindUnavailable || !strings.Contains(err.Error(), wantMsg) {
		t.Errorf("err = %v, want unavailable, ErrCircuitOpen, saying %q", err, wantMsg)
	}
	if n := b.hits.Load() - before; n != 0 {
		t.Errorf("an open breaker let %d requests through", n)
	}
}

func TestBreakerOpensAfterFailures(t *testing.T) {
	t.Parallel()
	b := newBreakerFixture(t)
	for i := range 3 {
		if err := b.call(); errors.Is(err, tools.ErrCircuitOpen) || tools.KindOf(err) != tools.KindUnavailable {
			t.Fatalf("failure %d: %v, want the backend's 503", i+1, err)
		}
		want := tools.BreakerClosed
		if i == 2 {
			want = tools.BreakerOpen
		}
		if s := b.order.Backend().State(); s != want {
			t.Fatalf("after %d failures the breaker is %s, want %s", i+1, s, want)
		}
	}
	if n := b.hits.Load(); n != 3 {
		t.Errorf("the backend got %d requests, want 3", n)
	}
	b.assertFastFail(t, "backend demo: circuit open, retrying after 30s")
	b.clock.Advance(20 * time.Second)
	b.assertFastFail(t, "retrying after 10s")

	// Other tools of the backend fail fast too.
	_, err := b.tool(t, "item_lookup").Call(context.Background(), json.RawMessage(`{"id": "7"}`))
	if !errors.Is(err, tools.ErrCircuitOpen) {
		t.Errorf("item_lookup on the same backend: %v, want ErrCircuitOpen", err)
	}
	s := b.order.Backend().Stats()
	want := tools.BreakerStats{State: tools.BreakerOpen, Failures: 3, Opens: 1, Rejected: 3, RetryAt: newTestClock().Now().Add(30 * time.Second)}
	if s != want {
		t.Errorf("Stats = %+v, want %+v", s, want)
	}
}

func TestBreakerClosesAfterTrialSuccess(t *testing.T) {
	t.Parallel()
	b := newBreakerFixture(t)
	b.open(t)
	b.clock.Advance(29 * time.Second)
	b.assertFastFail(t, "retrying after 1s")

	b.clock.Advance(time.Second)
	b.status.Store(http.StatusOK)
	var during atomic.Value
	record := func() { during.Store(b.order.Backend().State()) }
	b.onRequest.Store(&record)
	if err := b.call(); err != nil {
		t.Fatalf("trial call: %v", err)
	}
	if s := during.Load(); s != tools.BreakerHalfOpen {
		t.Errorf("during the trial the breaker was %v, want half_open", s)
	}
	if s := b.order.Backend().Stats(); s.State != tools.BreakerClosed || s.Failures != 0 || !s.RetryAt.IsZero() {
		t.Errorf("after a successful trial: %+v, want closed", s)
	}
	before := b.hits.Load()
	if err := b.call(); err != nil || b.hits.Load() != before+1 {
		t.Errorf("call after closing: %v, %d requests", err, b.hits.Load()-before)
	}
}

func TestBreakerReopensAfterTrialFailure(t *testing.T) {
	t.Parallel()
	b := newBreakerFixture(t)
	b.open(t)
	b.clock.Advance(30 * time.Second)
	before := b.hits.Load()
	if err := b.call(); errors.Is(err, tools.ErrCircuitOpen) || tools.KindOf(err) != tools.KindUnavailable {
		t.Fatalf("trial call: %v, want the backend's 503", err)
	}
	if n := b.hits.Load() - before; n != 1 {
		t.Errorf("the trial sent %d requests, want 1", n)
	}
	s := b.order.Backend().Stats()
	if s.State != tools.BreakerOpen || s.Opens != 2 || !s.RetryAt.Equal(b.clock.Now().Add(30*time.Second)) {
		t.Errorf("after a failed trial: %+v, want open again for a full cooldown", s)
	}
	b.assertFastFail(t, "retrying after 30s")
}

// holdNext makes the backend hold the next request until release is
// closed; started is closed when it arrives.
func (b *breakerFixture) holdNext() (started, release chan struct{}) {
	started, release = make(chan struct{}), make(chan struct{})
	hold := func() {
		b.onRequest.Store(nil)
		close(started)
		<-release
	}
	b.onRequest.Store(&hold)
	return started, release
}

// callInBackground calls order_status with ctx on another goroutine.
func (b *breakerFixture) callInBackground(ctx context.Context) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := b.order.Call(ctx, json.RawMessage(`{"order_id": "SP-2026-0001"}`))
		done <- err
	}()
	return done
}

func TestBreakerSendsOneTrialAtATime(t *testing.T) {
	t.Parallel()
	for _, cancelFirst := range []bool{false, true} {
		name := "first trial"
		if cancelFirst {
			name = "after a trial the caller gave up on"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newBreakerFixture(t)
			b.open(t)
			b.clock.Advance(30 * time.Second)
			b.status.Store(http.StatusOK)

			if cancelFirst {
				// A trial the caller gave up on says nothing of the
				// backend: the breaker stays half-open, and the next
				// call is the trial.
				started, release := b.holdNext()
				ctx, cancel := context.WithCancel(context.Background())
				done := b.callInBackground(ctx)
				<-started
				cancel()
				err := <-done
				close(release)
				if errors.Is(err, tools.ErrCircuitOpen) || !strings.Contains(err.Error(), "cancelled") {
					t.Fatalf("cancelled trial: %v", err)
				}
				if s := b.order.Backend().Stats(); s.State != tools.BreakerHalfOpen || s.Opens != 1 {
					t.Fatalf("after a cancelled trial: %+v, want half_open", s)
				}
			}

			started, release := b.holdNext()
			trial := b.callInBackground(context.Background())
			<-started
			b.assertFastFail(t, "a trial request is on its way")
			close(release)
			if err := <-trial; err != nil {
				t.Fatalf("trial call: %v", err)
			}
			if s := b.order.Backend().State(); s != tools.BreakerClosed {
				t.Errorf("after the trial the breaker is %s, want closed", s)
			}
		})
	}
}

func TestBreakerCountsAnswersAsSuccesses(t *testing.T) {
	t.Parallel()
	b := newBreakerFixture(t)
	// Two failures, then the backend answers "not found" or "invalid":
	// it is up, and the failures in a row start again.
	for _, status := range []int{503, 503, 404, 503, 503, 422, 500, 502, 400, 503} {
		b.status.Store(int32(status))
		_ = b.call()
	}
	if n := b.hits.Load(); n != 10 {
		t.Errorf("the backend got %d requests, want all 10", n)
	}
	if s := b.order.Backend().Stats(); s.State != tools.BreakerClosed || s.Failures != 1 || s.Opens != 0 {
		t.Errorf("Stats = %+v, want closed with 1 failure in a row", s)
	}
}

func TestBreakerIgnoresCallsTheCallerCancelled(t *testing.T) {
	t.Parallel()
	b := newBreakerFixture(t)
	_ = b.call()
	_ = b.call()

	started, release := b.holdNext()
	ctx, cancel := context.WithCancel(context.Background())
	done := b.callInBackground(ctx)
	<-started
	cancel()
	err := <-done
	close(release)
	if tools.KindOf(err) != tools.KindUnavailable || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("cancelled call: %v", err)
	}
	if s := b.order.Backend().Stats(); s.State != tools.BreakerClosed || s.Failures != 2 {
		t.Errorf("Stats = %+v; a call the caller gave up on counted", s)
	}
}
