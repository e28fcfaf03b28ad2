package channel

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter paces sends: a token bucket per business number (Meta's
// throughput, 80 msg/s by default) and one per recipient that respects the
// pair limit (about one message per 6 s to the same user, with a burst so
// that a turn's few messages go out together).
//
// A recipient's bucket is one time (the generic cell rate algorithm): the
// moment its bucket would be full again. A send may go when that moment is
// at most burst-1 intervals ahead, and moves it an interval on. A recipient
// whose moment has passed has a full bucket and is forgotten, so a
// campaign's hundreds of thousands of recipients, each sent one message,
// cost memory for the last interval's sends only.
type Limiter struct {
	perNumber    rate.Limit
	pairBurst    int
	pairInterval time.Duration

	mu         sync.Mutex
	numbers    map[string]*rate.Limiter
	recipients map[string]time.Time // number/recipient → full again at
	held       map[string]time.Time // number or number/recipient → paused until
	lastPrune  time.Time
}

// pruneEvery is how often the limiter forgets recipients whose bucket is
// full again.
const pruneEvery = time.Second

// NewLimiter returns a limiter allowing perSecond sends per number, and per
// recipient bursts of pairBurst refilled one per pairInterval.
func NewLimiter(perSecond float64, pairBurst int, pairInterval time.Duration) *Limiter {
	return &Limiter{
		perNumber: rate.Limit(perSecond), pairBurst: max(pairBurst, 1), pairInterval: max(pairInterval, 0),
		numbers: map[string]*rate.Limiter{}, recipients: map[string]time.Time{},
		held: map[string]time.Time{}, lastPrune: time.Now(),
	}
}

// Wait blocks until a send from number to recipient is allowed, or ctx ends.
// A wait that would outlast ctx's deadline fails at once.
func (l *Limiter) Wait(ctx context.Context, number, recipient string) error {
	key := number + "/" + recipient
	l.mu.Lock()
	until := l.held[number]
	if r := l.held[key]; r.After(until) {
		until = r
	}
	l.mu.Unlock()
	if err := sleep(ctx, time.Until(until)); err != nil {
		return err
	}
	n, wait, next, err := l.reserve(ctx, number, key)
	if err != nil {
		return err
	}
	if err := sleep(ctx, wait); err != nil {
		l.cancel(key, next)
		return err
	}
	return n.Wait(ctx)
}

// reserve takes the recipient's next send: how long to wait for it, and the
// bucket's new moment (for cancel).
func (l *Limiter) reserve(ctx context.Context, number, key string) (*rate.Limiter, time.Duration, time.Time, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.lastPrune) >= pruneEvery {
		l.prune(now)
	}
	n, ok := l.numbers[number]
	if !ok {
		n = rate.NewLimiter(l.perNumber, max(1, int(l.perNumber)))
		l.numbers[number] = n
	}
	full := l.recipients[key]
	if full.Before(now) {
		full = now
	}
	wait := max(full.Sub(now)-time.Duration(l.pairBurst-1)*l.pairInterval, 0)
	if deadline, ok := ctx.Deadline(); ok && now.Add(wait).After(deadline) {
		return nil, 0, time.Time{}, fmt.Errorf("the pair limit allows the next send in %s, after the deadline", wait.Round(time.Millisecond))
	}
	next := full.Add(l.pairInterval)
	l.recipients[key] = next
	return n, wait, next, nil
}

// cancel gives back a reservation whose wait was abandoned, unless another
// send reserved after it.
func (l *Limiter) cancel(key string, next time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.recipients[key].Equal(next) {
		l.recipients[key] = next.Add(-l.pairInterval)
	}
}

// prune forgets the recipients whose bucket is full and the holds that
// ended; l.mu is held.
func (l *Limiter) prune(now time.Time) {
	for k, full := range l.recipients {
		if !full.After(now) {
			delete(l.recipients, k)
		}
	}
	for k, until := range l.held {
		if now.After(until) {
			delete(l.held, k)
		}
	}
	l.lastPrune = now
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Hold pauses the whole number (recipient empty) or one recipient of it for
// d, after Meta said to back off.
func (l *Limiter) Hold(number, recipient string, d time.Duration) {
	key := number
	if recipient != "" {
		key += "/" + recipient
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := time.Now().Add(d); until.After(l.held[key]) {
		l.held[key] = until
	}
}
