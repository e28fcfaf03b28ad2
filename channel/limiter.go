package channel

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter paces sends: a token bucket per business number (Meta's
// throughput, 80 msg/s by default) and one per recipient that respects the
// pair limit (about one message per 6 s to the same user, with a burst so
// that a turn's few messages go out together).
type Limiter struct {
	perNumber    rate.Limit
	pairBurst    int
	pairInterval time.Duration

	mu         sync.Mutex
	numbers    map[string]*rate.Limiter
	recipients map[string]*rate.Limiter
	held       map[string]time.Time // number or number/recipient → paused until
	lastPrune  time.Time
}

// NewLimiter returns a limiter allowing perSecond sends per number, and per
// recipient bursts of pairBurst refilled one per pairInterval.
func NewLimiter(perSecond float64, pairBurst int, pairInterval time.Duration) *Limiter {
	return &Limiter{
		perNumber: rate.Limit(perSecond), pairBurst: max(pairBurst, 1), pairInterval: pairInterval,
		numbers: map[string]*rate.Limiter{}, recipients: map[string]*rate.Limiter{},
		held: map[string]time.Time{}, lastPrune: time.Now(),
	}
}

// Wait blocks until a send from number to recipient is allowed, or ctx ends.
func (l *Limiter) Wait(ctx context.Context, number, recipient string) error {
	n, r := l.get(number, recipient)
	l.mu.Lock()
	until := l.held[number]
	if r := l.held[number+"/"+recipient]; r.After(until) {
		until = r
	}
	l.mu.Unlock()
	if d := time.Until(until); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	if err := r.Wait(ctx); err != nil {
		return err
	}
	return n.Wait(ctx)
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

func (l *Limiter) get(number, recipient string) (*rate.Limiter, *rate.Limiter) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	// A recipient's bucket is full again a burst's refill after its last
	// send: prune that often, so that a campaign's many recipients, each
	// sent one message, are forgotten within minutes and the map stays as
	// big as the last couple of minutes' sends.
	if now.Sub(l.lastPrune) > max(time.Duration(l.pairBurst)*l.pairInterval, time.Second) {
		// Recipients idle for a full refill are at their burst again: forget them.
		for k, r := range l.recipients {
			if r.TokensAt(now) >= float64(l.pairBurst) {
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
	n, ok := l.numbers[number]
	if !ok {
		n = rate.NewLimiter(l.perNumber, max(1, int(l.perNumber)))
		l.numbers[number] = n
	}
	key := number + "/" + recipient
	r, ok := l.recipients[key]
	if !ok {
		r = rate.NewLimiter(rate.Every(l.pairInterval), l.pairBurst)
		l.recipients[key] = r
	}
	return n, r
}
