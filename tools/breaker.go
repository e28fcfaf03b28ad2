package tools

import (
	"errors"
	"sync"
	"time"
)

// BreakerState is the state of a backend's circuit breaker.
type BreakerState string

const (
	// BreakerClosed: requests go to the backend.
	BreakerClosed BreakerState = "closed"
	// BreakerOpen: the backend failed too often in a row; calls fail fast
	// until the cooldown has passed.
	BreakerOpen BreakerState = "open"
	// BreakerHalfOpen: the cooldown has passed and a call was let through
	// as a trial; its outcome closes or re-opens the breaker. One trial
	// is on its way at a time. An open breaker whose cooldown has passed
	// reports BreakerOpen until the next call.
	BreakerHalfOpen BreakerState = "half_open"
)

// Defaults of a backend's breaker.
const (
	DefaultBreakerFailures = 5
	DefaultBreakerCooldown = 30 * time.Second
)

// ErrCircuitOpen is wrapped by the KindUnavailable error of a call that a
// backend's open breaker failed fast, without a request.
var ErrCircuitOpen = errors.New("circuit open")

// ErrCredentialsRefused is in the chain of a call a backend refused with
// 401 or 403: a configuration problem that no retry can fix.
var ErrCredentialsRefused = errors.New("credentials refused")

// BreakerStats is a snapshot of a backend's breaker, for metrics and
// health checks.
type BreakerStats struct {
	State BreakerState
	// Failures counts the failed calls in a row since the last success.
	Failures int
	// Opens counts the times the breaker opened.
	Opens int64
	// Rejected counts the calls failed fast, without a request.
	Rejected int64
	// RetryAt is when an open breaker lets a trial request through; zero
	// in the other states.
	RetryAt time.Time
}

// outcome is what a call tells the breaker about its backend.
type outcome int

const (
	// outcomeSuccess: the backend answered, even "not found" or "invalid".
	outcomeSuccess outcome = iota
	// outcomeFailure: the call was KindUnavailable.
	outcomeFailure
	// outcomeIgnored: the call ended for a reason that says nothing about
	// the backend, such as the caller giving up.
	outcomeIgnored
)

// breaker opens after threshold failures in a row, fails calls fast while
// open, and after cooldown lets one trial call decide whether to close or
// re-open. Each state change starts a new generation, and outcomes of calls
// admitted in an older one are dropped: a slow call that fails after the
// breaker opened does not count twice, and one that succeeds does not
// close it. A breaker is safe for concurrent use.
type breaker struct {
	threshold int
	cooldown  time.Duration
	now       func() time.Time

	mu       sync.Mutex
	state    BreakerState
	gen      uint64
	failures int
	openedAt time.Time
	trial    bool // a half-open trial is on its way
	opens    int64
	rejected int64
}

func newBreaker(threshold int, cooldown time.Duration, now func() time.Time) *breaker {
	return &breaker{threshold: threshold, cooldown: cooldown, now: now, state: BreakerClosed}
}

// admission is the breaker's answer to a call about to be made.
type admission struct {
	ok bool
	// gen is the generation to record the outcome under.
	gen uint64
	// trial is true when the call is the half-open trial.
	trial bool
	// retryAt is when an open breaker lets a trial through; zero when the
	// call was refused because a trial is already on its way.
	retryAt time.Time
}

// admit says whether a call may go to the backend. Every admitted call
// must be followed by record.
func (b *breaker) admit() admission {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerOpen:
		retryAt := b.openedAt.Add(b.cooldown)
		if b.now().Before(retryAt) {
			b.rejected++
			return admission{retryAt: retryAt}
		}
		b.state = BreakerHalfOpen
		b.gen++
		b.trial = true
		return admission{ok: true, gen: b.gen, trial: true}
	case BreakerHalfOpen:
		if b.trial {
			b.rejected++
			return admission{}
		}
		b.trial = true
		return admission{ok: true, gen: b.gen, trial: true}
	}
	return admission{ok: true, gen: b.gen}
}

// record counts the outcome of a call admitted under gen and returns the
// states before and after it.
func (b *breaker) record(gen uint64, o outcome) (from, to BreakerState) {
	b.mu.Lock()
	defer b.mu.Unlock()
	from = b.state
	if gen != b.gen {
		return from, from
	}
	switch b.state {
	case BreakerClosed:
		switch o {
		case outcomeSuccess:
			b.failures = 0
		case outcomeFailure:
			b.failures++
			if b.failures >= b.threshold {
				b.open()
			}
		}
	case BreakerHalfOpen:
		b.trial = false
		switch o {
		case outcomeSuccess:
			b.state = BreakerClosed
			b.gen++
			b.failures = 0
		case outcomeFailure:
			b.failures++
			b.open()
		}
		// An ignored trial leaves the breaker half-open: the next call is
		// the trial.
	}
	return from, b.state
}

func (b *breaker) open() {
	b.state = BreakerOpen
	b.gen++
	b.openedAt = b.now()
	b.trial = false
	b.opens++
}

func (b *breaker) stats() BreakerStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := BreakerStats{State: b.state, Failures: b.failures, Opens: b.opens, Rejected: b.rejected}
	if b.state == BreakerOpen {
		s.RetryAt = b.openedAt.Add(b.cooldown)
	}
	return s
}
