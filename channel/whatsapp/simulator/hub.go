package simulator

import "sync"

// subscriberBuffer is how many events a page may lag behind before it is
// dropped; its EventSource then reconnects and starts from a fresh snapshot.
const subscriberBuffer = 256

// event is one Server-Sent Event: its name and JSON data.
type event struct {
	name string
	data []byte
}

// subscriber is one open event stream, following the chat of phone ("" for
// none: it receives only the users list).
type subscriber struct {
	phone string
	ch    chan event
}

// hub fans events out to the open event streams of the page.
type hub struct {
	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed bool
}

func newHub() *hub { return &hub{subs: map[*subscriber]struct{}{}} }

// subscribe registers a stream following phone and queues first as its
// opening events. It returns nil once the hub is closed.
func (h *hub) subscribe(phone string, first ...event) *subscriber {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	sub := &subscriber{phone: phone, ch: make(chan event, subscriberBuffer+len(first))}
	for _, ev := range first {
		sub.ch <- ev
	}
	h.subs[sub] = struct{}{}
	return sub
}

// unsubscribe removes sub; it may already be gone.
func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.drop(sub)
}

// drop removes sub and closes its channel; h.mu is held.
func (h *hub) drop(sub *subscriber) {
	if _, ok := h.subs[sub]; ok {
		delete(h.subs, sub)
		close(sub.ch)
	}
}

// publish sends ev to the streams following phone, or to every stream when
// phone is "". It never blocks: a stream whose buffer is full is dropped.
func (h *hub) publish(phone string, ev event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		if phone != "" && sub.phone != phone {
			continue
		}
		select {
		case sub.ch <- ev:
		default:
			h.drop(sub)
		}
	}
}

// watchers is the number of streams following phone: pages showing that
// user's chat.
func (h *hub) watchers(phone string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for sub := range h.subs {
		if sub.phone == phone {
			n++
		}
	}
	return n
}

// streams is the number of open streams.
func (h *hub) streams() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// close ends every stream and refuses new ones.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for sub := range h.subs {
		h.drop(sub)
	}
}
