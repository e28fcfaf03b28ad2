package simulator

import (
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/yanit/yanit/channel/whatsapp/wire"
)

// statusPosters is how many goroutines post status batches, so that one slow
// webhook does not hold back the others.
const statusPosters = 4

// batcher gathers status webhooks when Options.StatusBatch > 1: statuses
// that come due within the linger of the first one waiting leave together,
// up to max of them, in one webhook whose change carries them all. Batches
// are posted by statusPosters goroutines, started with the first status.
type batcher struct {
	max    int
	linger time.Duration

	mu       sync.Mutex
	closed   bool
	started  bool
	pending  []wire.Status   // the batch being filled, in arrival order
	deadline time.Time       // when pending leaves even if not full
	ready    [][]wire.Status // full or lingered batches, oldest first
	// wake tells one idle poster that ready or pending changed; a poster
	// that takes work passes the signal on while work is left.
	wake chan struct{}
}

func newBatcher(size int, linger time.Duration) *batcher {
	return &batcher{max: size, linger: linger, wake: make(chan struct{}, 1)}
}

// signal wakes one idle poster, if none is already woken.
func (b *batcher) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// batchStatus adds st to the batch being filled. Statuses added in order
// stay in that order within a batch. It reports false, dropping st, once the
// simulator is closed.
func (s *Simulator) batchStatus(st wire.Status) bool {
	b := s.statuses
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	if !b.started {
		b.started = true
		// wg.Add under b.mu: Close sets b.closed under b.mu before it waits.
		s.wg.Add(statusPosters)
		for range statusPosters {
			go s.postStatuses()
		}
	}
	first := len(b.pending) == 0
	if first {
		// The linger is real time, whatever Options.Now says.
		b.deadline = time.Now().Add(b.linger)
	}
	b.pending = append(b.pending, st)
	switch {
	case len(b.pending) >= b.max:
		b.ready = append(b.ready, b.pending)
		b.pending = nil
		b.signal()
	case first:
		b.signal() // a poster watches the new linger
	}
	return true
}

// closeBatcher drops what waits and stops new statuses; the posters return
// when the simulator's context ends.
func (s *Simulator) closeBatcher() {
	if s.statuses == nil {
		return
	}
	b := s.statuses
	b.mu.Lock()
	b.closed = true
	b.pending, b.ready = nil, nil
	b.mu.Unlock()
}

// postStatuses is one poster: it posts ready batches, and the batch being
// filled once its linger expired, until the simulator closes.
func (s *Simulator) postStatuses() {
	defer s.wg.Done()
	b := s.statuses
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		batch, wait := b.next()
		if batch != nil {
			s.postBatch(batch)
			continue
		}
		var expired <-chan time.Time
		if wait > 0 {
			timer.Reset(wait)
			expired = timer.C
		}
		select {
		case <-s.ctx.Done():
			return
		case <-b.wake:
		case <-expired:
		}
		timer.Stop()
	}
}

// next takes the oldest ready batch, or the batch being filled when its
// linger expired. Without one it returns how long until that linger
// expires (0: nothing waits).
func (b *batcher) next() (batch []wire.Status, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case len(b.ready) > 0:
		batch = b.ready[0]
		b.ready[0] = nil
		b.ready = b.ready[1:]
	case len(b.pending) > 0:
		if wait = time.Until(b.deadline); wait > 0 {
			return nil, wait
		}
		batch, b.pending = b.pending, nil
	default:
		return nil, 0
	}
	if len(b.ready) > 0 || len(b.pending) > 0 {
		b.signal() // another poster takes the rest, or watches its linger
	}
	return batch, 0
}

// postBatch encodes statuses as one webhook and delivers it.
func (s *Simulator) postBatch(statuses []wire.Status) {
	body, err := s.encode(wire.Value{Statuses: statuses})
	if err != nil {
		s.log.Error("encoding status webhook", slog.Int("statuses", len(statuses)), slog.Any("error", err))
		return
	}
	// deliver logs the failures; the first wamid identifies the batch.
	_ = s.deliver(&delivery{body: body, kind: strconv.Itoa(len(statuses)) + " statuses", id: statuses[0].ID})
}
