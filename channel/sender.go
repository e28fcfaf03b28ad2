package channel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
)

// ServiceWindow is WhatsApp's customer-service window: free-form messages
// only within 24 hours of the user's last message; templates at any time.
const ServiceWindow = 24 * time.Hour

// CodeOutsideWindow is the code recorded on a message refused before it
// reached Meta because the window was closed; Meta's own code for it.
const CodeOutsideWindow = 131047

// ErrOutsideWindow is returned (wrapped) for a free-form message to a contact
// whose 24-hour window is closed: a template is needed.
var ErrOutsideWindow = errors.New("outside the 24-hour customer-service window: only a template may be sent")

// Graph is the part of the Cloud API client the sender uses.
type Graph interface {
	Send(ctx context.Context, phoneNumberID string, msg whatsapp.Outbound) (string, error)
	MarkRead(ctx context.Context, phoneNumberID, wamid string, typing bool) error
}

// Sender delivers outbox messages: it is the handler of KindSend jobs.
type Sender struct {
	store   store.Store
	graph   Graph
	limiter *Limiter
	log     *slog.Logger
	metrics *Metrics
	now     func() time.Time
}

// SenderOptions configure a Sender.
type SenderOptions struct {
	Limiter *Limiter
	Logger  *slog.Logger
	Metrics *Metrics
	Now     func() time.Time // the clock of the 24-hour window; time.Now by default
}

// NewSender returns a sender delivering through graph.
func NewSender(st store.Store, graph Graph, o SenderOptions) *Sender {
	s := &Sender{store: st, graph: graph, limiter: o.Limiter, log: o.Logger, metrics: o.Metrics, now: o.Now}
	if s.limiter == nil {
		s.limiter = NewLimiter(80, 10, 6*time.Second)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.metrics == nil {
		s.metrics = NewMetrics(nil)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// InWindow reports whether the contact's 24-hour window is open at now.
func InWindow(c store.Contact, now time.Time) bool {
	return !c.LastInboundAt.IsZero() && now.Sub(c.LastInboundAt) < ServiceWindow
}

// Handle sends the outbox message named by a KindSend job. The wamid is
// recorded before the job completes; a message already sent or failed is
// not sent again. Errors Meta says are worth retrying return an error (the
// job runner retries with backoff, or after the wait Meta's rules name);
// the others mark the message failed with the code and reason.
func (s *Sender) Handle(ctx context.Context, j jobs.Job) error {
	var p SendPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.MessageID == 0 {
		return jobs.Cancel(fmt.Errorf("send job %d has no message id: %s", j.ID, j.Payload))
	}
	entries, err := s.store.OutboxEntries(ctx, []int64{p.MessageID})
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return jobs.Cancel(fmt.Errorf("outbox message %d: %w", p.MessageID, store.ErrNotFound))
	}
	return s.deliver(ctx, j, entries)
}

// HandleBatch sends the outbox messages named by a KindSendBatch job, a
// wave of SendWave at a time: each wave's sends run concurrently and their
// wamids are recorded in one statement before the next wave starts, so a
// crash resends at most the wave in flight, and only those of its sends
// whose status webhooks did not arrive within InterruptedWait. Messages
// sent or failed before (by an earlier attempt of the job, or reconciled
// by status webhooks) are skipped. When some messages failed in a way
// worth retrying, the job is retried after the longest wait their errors
// name, and the retry sends only the messages still queued.
func (s *Sender) HandleBatch(ctx context.Context, j jobs.Job) error {
	var p SendBatchPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || len(p.MessageIDs) == 0 || len(p.MessageIDs) > store.MaxOutboxBatch {
		return jobs.Cancel(fmt.Errorf("send batch job %d names no messages, or more than %d: %.200s", j.ID, store.MaxOutboxBatch, j.Payload))
	}
	if j.Attempt > 1 && j.LastError == "" {
		// The last attempt was cut off (a crash, or its lease lost), maybe
		// with a wave in flight: let those sends' status webhooks record
		// them before sending what is still queued.
		return jobs.RetryAfter(ErrInterrupted, InterruptedWait)
	}
	entries, err := s.store.OutboxEntries(ctx, p.MessageIDs)
	if err != nil {
		return err
	}
	return s.deliver(ctx, j, entries)
}

// InterruptedWait is how long a send batch job whose last attempt was cut
// off waits before it sends again: Meta posts the status webhooks of the
// sends that attempt had in flight within seconds (and retries them for
// days), and each records its send through the outbox tag, so the job then
// skips it instead of sending a copy. ErrInterrupted is the retry's reason.
const InterruptedWait = 30 * time.Second

// ErrInterrupted is the reason a cut-off send batch job waits.
var ErrInterrupted = errors.New("the last attempt of this send batch was cut off: waiting for the status webhooks of its sends in flight")

// sent is one message's send: the wamid Meta returned, or Meta's error.
// A settled message was dealt with without Meta (failed for the window, or
// the wait for the rate limit ended); err is then the error that retries
// the job, if any.
type sent struct {
	entry   store.OutboxEntry
	wamid   string
	err     error
	settled bool
}

// deliver sends the queued messages of entries wave by wave and settles
// each: records the wamids, fails what Meta refused for good, and returns
// a retry error when some should be sent again.
func (s *Sender) deliver(ctx context.Context, j jobs.Job, entries []store.OutboxEntry) error {
	var pending []store.OutboxEntry
	for _, e := range entries {
		if e.Message.Direction == store.Outbound && e.Message.Status == store.StatusQueued {
			pending = append(pending, e)
		}
		// Otherwise sent, failed or reconciled already: never twice.
	}
	var retryErr error
	var retryAfter time.Duration
	for len(pending) > 0 {
		wave := pending[:min(len(pending), SendWave)]
		pending = pending[len(wave):]
		results := make([]sent, len(wave))
		var wg sync.WaitGroup
		for i, e := range wave {
			wg.Go(func() { results[i] = s.send(ctx, e) })
		}
		wg.Wait()
		if err := s.record(ctx, results); err != nil {
			return err
		}
		for _, r := range results {
			if r.err == nil {
				continue
			}
			if r.settled {
				if retryErr == nil {
					retryErr = r.err
				}
				continue
			}
			after, err := s.settle(ctx, j, r)
			if err != nil && retryErr == nil {
				retryErr = err
			}
			if err != nil {
				retryAfter = max(retryAfter, after)
			}
		}
	}
	if retryErr != nil {
		return jobs.RetryAfter(retryErr, retryAfter)
	}
	return nil
}

// send sends one message after the 24-hour window's check and the rate
// limit's wait.
func (s *Sender) send(ctx context.Context, e store.OutboxEntry) sent {
	r := sent{entry: e}
	var out whatsapp.Outbound
	if err := json.Unmarshal(e.Message.Payload, &out); err != nil {
		r.settled, r.err = true, s.fail(ctx, e.Message.ID, 0, "stored message is unreadable: "+err.Error())
		return r
	}
	if _, isTemplate := out.Content.(*whatsapp.Template); !isTemplate && !InWindow(e.Contact, s.now()) {
		r.settled, r.err = true, s.fail(ctx, e.Message.ID, CodeOutsideWindow, ErrOutsideWindow.Error())
		return r
	}
	out.BizOpaque = OutboxTag(e.Message.ID)
	if err := s.limiter.Wait(ctx, e.PhoneNumberID, recipientOf(e.Contact)); err != nil {
		r.settled, r.err = true, fmt.Errorf("waiting for the rate limit: %w", err)
		return r
	}
	r.wamid, r.err = s.graph.Send(ctx, e.PhoneNumberID, out)
	return r
}

// record stores the wamids of a wave's accepted sends in one statement,
// before the job is acknowledged: a crash before it commits is the one
// window for a second send (see the package doc); the status webhooks
// carry the outbox id and reconcile it. When the database fails here, the
// job is retried after recordRetry, by when the status webhooks have
// normally recorded these sends, so that the retry sends none of them
// again.
func (s *Sender) record(ctx context.Context, results []sent) error {
	var sends []store.Send
	for _, r := range results {
		if r.err == nil && !r.settled {
			sends = append(sends, store.Send{MessageID: r.entry.Message.ID, ChannelMessageID: r.wamid, At: s.now()})
		}
	}
	if len(sends) == 0 {
		return nil
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	errs, err := s.store.RecordSends(rctx, sends)
	if err != nil {
		return jobs.RetryAfter(fmt.Errorf("recording %d sends: %w", len(sends), err), recordRetry)
	}
	for i, err := range errs {
		if err != nil {
			// A status webhook recorded another wamid first: WhatsApp
			// accepted the message twice (the receiver counts it).
			s.log.Warn("send not recorded", slog.Int64("outbox_id", sends[i].MessageID), slog.String("error", err.Error()))
		}
	}
	s.metrics.sends.WithLabelValues("sent", "0").Add(float64(len(sends)))
	return nil
}

// recordRetry is how long a job whose sends could not be recorded waits
// before it runs again.
const recordRetry = 30 * time.Second

// settle deals with a send Meta refused. It returns an error, with the wait
// Meta's rules name, when the message should be sent again; otherwise the
// message is failed (or left for its status webhook) and settle returns
// nil.
func (s *Sender) settle(ctx context.Context, j jobs.Job, r sent) (time.Duration, error) {
	e := r.entry
	d := whatsapp.Classify(r.err)
	code := strconv.Itoa(d.Code)
	log := s.log.With(slog.Int64("outbox_id", e.Message.ID), slog.Int("code", d.Code), slog.String("action", d.Action.String()), slog.String("reason", d.Reason))
	switch {
	case d.Retry && j.Attempt < j.MaxAttempts:
		s.metrics.sends.WithLabelValues("retry", code).Inc()
		switch d.Scope {
		case whatsapp.ScopeRecipient:
			s.limiter.Hold(e.PhoneNumberID, recipientOf(e.Contact), d.After)
		case whatsapp.ScopeNumber, whatsapp.ScopeAccount:
			s.limiter.Hold(e.PhoneNumberID, "", max(d.After, time.Second))
		}
		log.Warn("send failed, will retry", slog.Int("attempt", j.Attempt))
		return d.After, fmt.Errorf("sending outbox message %d: %w", e.Message.ID, r.err)
	case d.Action == whatsapp.ActionReconcile:
		// Meta probably accepted it; the status webhook's outbox id records it.
		log.Warn("send accepted without a message id: waiting for its status webhook")
		return 0, nil
	}
	reason := d.Reason + ": " + r.err.Error()
	if d.Retry {
		reason = fmt.Sprintf("gave up after %d attempts: %s", j.Attempt, reason)
	}
	switch d.Action {
	case whatsapp.ActionOptOut:
		// Meta refused a marketing message because the user stopped them:
		// the same as their user_preferences webhook.
		err := s.store.InTx(ctx, func(tx store.Queries) error {
			changed, err := tx.SetMarketingPreference(ctx, e.Contact.ID, true, s.now())
			if err != nil || !changed {
				return err
			}
			_, err = privacy.RecordConsent(ctx, tx, store.Consent{ContactID: e.Contact.ID, Purpose: store.PurposeMarketing,
				Source: store.ConsentByWebhook, At: s.now()}, privacy.Actor{})
			return err
		})
		if err != nil {
			return 0, err
		}
	case whatsapp.ActionAlertOperator:
		log.Error("whatsapp refused the access token or configuration: an operator must fix it")
	}
	return 0, s.fail(ctx, e.Message.ID, d.Code, reason)
}

func (s *Sender) fail(ctx context.Context, id int64, code int, reason string) error {
	if err := s.store.FailOutbound(ctx, id, code, reason); err != nil {
		return fmt.Errorf("recording the failure of outbox message %d: %w", id, err)
	}
	s.metrics.sends.WithLabelValues("failed", strconv.Itoa(code)).Inc()
	s.log.Warn("message not sent", slog.Int64("outbox_id", id), slog.Int("code", code), slog.String("reason", reason))
	return nil
}

// recipientOf is the address the Cloud API knows the contact by.
func recipientOf(c store.Contact) string {
	if c.WaID != "" {
		return c.WaID
	}
	return c.UserID
}
