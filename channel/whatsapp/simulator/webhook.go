package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/channel/whatsapp/wire"
)

// userAgent is what Meta's webhook requests carry.
const userAgent = "facebookexternalua"

// retryPolicy is how a webhook is retried: attempts in all, waiting backoff
// after the first failure and doubling up to maxWait. Meta retries for days;
// a simulator gives up after a few seconds.
type retryPolicy struct {
	attempts int
	backoff  time.Duration
	maxWait  time.Duration
}

var defaultRetry = retryPolicy{attempts: 5, backoff: 250 * time.Millisecond, maxWait: 2 * time.Second}

// DeliveryError means yanit did not answer a webhook with 200 in any of the
// attempts.
type DeliveryError struct {
	Attempts int
	// StatusCode is the last answer's status; 0 when the last attempt failed
	// before an answer (Err).
	StatusCode int
	Err        error
}

// Error describes the last failure.
func (e *DeliveryError) Error() string {
	if e.StatusCode == 0 {
		return fmt.Sprintf("simulator: webhook not delivered after %d attempts: %v", e.Attempts, e.Err)
	}
	return fmt.Sprintf("simulator: webhook rejected after %d attempts: http %d", e.Attempts, e.StatusCode)
}

// Unwrap returns the last transport error, if any.
func (e *DeliveryError) Unwrap() error { return e.Err }

// delivery is one webhook waiting in a user's queue.
type delivery struct {
	body []byte
	kind string // "message" or a status, for logs
	id   string // wamid, for logs
	// done, when set, gets the outcome on the queue's goroutine.
	done func(error)
}

// queue is the ordered webhooks of one user; running tells whether a
// goroutine drains it.
type queue struct {
	items   []*delivery
	running bool
}

// encode wraps the contents of one change in the simulator's envelope and
// encodes it as Meta does.
func (s *Simulator) encode(v wire.Value) ([]byte, error) {
	v.MessagingProduct = wire.MessagingProduct
	v.Metadata = &wire.Metadata{DisplayPhoneNumber: s.opts.DisplayPhone, PhoneNumberID: s.opts.PhoneNumberID}
	env := wire.Envelope{
		Object: wire.ObjectWhatsAppBusinessAccount,
		Entry:  []wire.Entry{{ID: s.opts.WABAID, Changes: []wire.Change{{Field: "messages", Value: v}}}},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		return nil, fmt.Errorf("encoding webhook: %w", err)
	}
	return escapeNonASCII(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// escapeNonASCII rewrites every non-ASCII character of a JSON text as
// \uXXXX (surrogate pairs beyond the BMP), the way Meta encodes webhooks.
// Outside strings JSON is ASCII, so only string contents change.
func escapeNonASCII(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		switch {
		case r < utf8.RuneSelf:
			out = append(out, b[0])
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		default:
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		b = b[size:]
	}
	return out
}

// enqueue appends d to the queue of phone and makes sure a goroutine drains
// it. Webhooks of one user leave in enqueue order. It reports false, and
// never calls d.done, once the simulator is closed: callers may hold the
// user's lock, which done takes.
func (s *Simulator) enqueue(phone string, d *delivery) bool {
	s.qmu.Lock()
	if s.qclosed {
		s.qmu.Unlock()
		return false
	}
	q := s.queues[phone]
	if q == nil {
		q = &queue{}
		s.queues[phone] = q
	}
	q.items = append(q.items, d)
	start := !q.running
	q.running = true
	if start {
		// wg.Add under qmu: Close sets qclosed under qmu before it waits.
		s.wg.Add(1)
	}
	s.qmu.Unlock()
	if start {
		go s.drain(phone, q)
	}
	return true
}

// drain posts the webhooks of one queue in order until it is empty.
func (s *Simulator) drain(phone string, q *queue) {
	defer s.wg.Done()
	for {
		s.qmu.Lock()
		if len(q.items) == 0 {
			q.running = false
			delete(s.queues, phone)
			s.qmu.Unlock()
			return
		}
		d := q.items[0]
		q.items[0] = nil
		q.items = q.items[1:]
		s.qmu.Unlock()

		err := s.deliver(d)
		if d.done != nil {
			d.done(err)
		}
	}
}

// deliver POSTs one webhook, retrying on anything but 200.
func (s *Simulator) deliver(d *delivery) error {
	wait := s.retry.backoff
	for attempt := 1; ; attempt++ {
		status, err := s.post(d.body)
		if err == nil && status == http.StatusOK {
			return nil
		}
		if s.ctx.Err() != nil {
			return ErrClosed
		}
		if attempt >= s.retry.attempts {
			s.log.Warn("webhook not accepted, giving up",
				slog.String("kind", d.kind), slog.String("wamid", d.id),
				slog.Int("attempts", attempt), slog.Int("http_status", status), slog.Any("error", err))
			return &DeliveryError{Attempts: attempt, StatusCode: status, Err: err}
		}
		s.log.Debug("webhook not accepted, retrying",
			slog.String("kind", d.kind), slog.String("wamid", d.id),
			slog.Int("attempt", attempt), slog.Int("http_status", status), slog.Any("error", err))
		if !s.sleep(wait) {
			return ErrClosed
		}
		wait = min(2*wait, s.retry.maxWait)
	}
}

// post sends one signed webhook and returns the answer's status.
func (s *Simulator) post(body []byte) (int, error) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.opts.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("building webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign(s.opts.AppSecret, body))
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	// Drain a little so that the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// unix renders t as Meta's string timestamp.
func unix(t time.Time) wire.Timestamp { return wire.Timestamp(strconv.FormatInt(t.Unix(), 10)) }
