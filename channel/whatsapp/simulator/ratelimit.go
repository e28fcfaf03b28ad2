package simulator

import (
	"sync"
	"time"
)

// bucket is the business number's throughput: a token bucket refilled at
// rate tokens a second, holding at most one second's worth (and at least one
// token). A nil bucket allows everything.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

// newBucket returns a full bucket, or nil for an unlimited rate (0).
func newBucket(perSecond float64, now time.Time) *bucket {
	if perSecond <= 0 {
		return nil
	}
	burst := max(perSecond, 1)
	return &bucket{rate: perSecond, burst: burst, tokens: burst, last: now}
}

// take removes one token and reports whether there was one. A clock that
// goes backwards refills nothing.
func (b *bucket) take(now time.Time) bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(b.burst, b.tokens+elapsed.Seconds()*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
