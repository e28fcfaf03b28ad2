package inbox

import (
	"context"
	"sync"
	"sync/atomic"
)

// subscriberBuffer is how many events a subscriber may fall behind before
// it loses events.
const subscriberBuffer = 256

// LocalBus is the Bus of one process (the SQLite deployment) and the
// fan-out stage of PGBus. Publish hands an event to every subscriber's
// buffered channel without waiting: a subscriber whose buffer is full loses
// the event, counted by Dropped. All subscribers see events in the same
// order, and one publisher's events in the order it published them. It is
// safe for concurrent use.
type LocalBus struct {
	mu      sync.Mutex // guards subs and closed; held while sending, so a channel is never closed mid-send
	subs    map[*subscription]struct{}
	closed  bool
	dropped atomic.Uint64
}

var _ Bus = (*LocalBus)(nil)

type subscription struct {
	ch   chan Event
	stop func() bool // stops the context.AfterFunc that cancels it
}

// NewLocalBus returns an open in-process bus.
func NewLocalBus() *LocalBus {
	return &LocalBus{subs: make(map[*subscription]struct{})}
}

// Publish delivers e to the current subscribers and returns without waiting
// for any of them. A zero At is set to now. It refuses, like PGBus, an event
// without a Kind or longer than MaxEventBytes encoded (ErrEventTooLarge),
// and returns ErrBusClosed after Close.
func (b *LocalBus) Publish(ctx context.Context, e Event) error {
	if _, err := encode(&e); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrBusClosed
	}
	b.fanoutLocked(e)
	return nil
}

// fanout delivers e, already checked, to the current subscribers; it does
// nothing after Close.
func (b *LocalBus) fanout(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.fanoutLocked(e)
	}
}

func (b *LocalBus) fanoutLocked(e Event) {
	for s := range b.subs {
		select {
		case s.ch <- e:
		default:
			b.dropped.Add(1)
		}
	}
}

// Subscribe returns a channel of the events published from now on. The
// channel is closed when ctx ends, cancel is called (more than once is
// fine) or the bus is closed; after Close it is returned closed. A
// subscriber more than 256 events behind loses the newer ones.
func (b *LocalBus) Subscribe(ctx context.Context) (<-chan Event, func()) {
	s := &subscription{ch: make(chan Event, subscriberBuffer)}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		close(s.ch)
		return s.ch, func() {}
	}
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	cancel := func() { b.unsubscribe(s) }
	// Registered after s joins subs, so that a ctx already done removes it;
	// AfterFunc runs cancel in a goroutine of its own, never under b.mu.
	stop := context.AfterFunc(ctx, cancel)
	b.mu.Lock()
	s.stop = stop
	b.mu.Unlock()
	return s.ch, cancel
}

// unsubscribe removes s and closes its channel, once.
func (b *LocalBus) unsubscribe(s *subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; !ok {
		return
	}
	delete(b.subs, s)
	if s.stop != nil {
		s.stop()
	}
	close(s.ch)
}

// Dropped returns how many deliveries have been lost to subscribers that did
// not keep up, since the bus was made.
func (b *LocalBus) Dropped() uint64 { return b.dropped.Load() }

// Close ends every subscription (their channels are closed) and makes
// Publish fail with ErrBusClosed. It is idempotent and returns nil.
func (b *LocalBus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	for s := range b.subs {
		delete(b.subs, s)
		if s.stop != nil {
			s.stop()
		}
		close(s.ch)
	}
	return nil
}
