package channel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
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

// Handle sends the outbox message named by the job. The wamid is recorded
// before the job completes; a message already sent or failed is not sent
// again. Errors Meta says are worth retrying return an error (the job runner
// retries with backoff, or after the wait Meta's rules name); the others mark
// the message failed with the code and reason.
func (s *Sender) Handle(ctx context.Context, j jobs.Job) error {
	var p SendPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.MessageID == 0 {
		return jobs.Cancel(fmt.Errorf("send job %d has no message id: %s", j.ID, j.Payload))
	}
	msg, err := s.store.GetMessage(ctx, p.MessageID)
	if errors.Is(err, store.ErrNotFound) {
		return jobs.Cancel(fmt.Errorf("outbox message %d: %w", p.MessageID, err))
	}
	if err != nil {
		return err
	}
	if msg.Direction != store.Outbound || msg.Status != store.StatusQueued {
		return nil // sent, failed or reconciled already: never twice
	}
	var out whatsapp.Outbound
	if err := json.Unmarshal(msg.Payload, &out); err != nil {
		return s.fail(ctx, msg.ID, 0, "stored message is unreadable: "+err.Error())
	}
	conv, err := s.store.GetConversation(ctx, msg.ConversationID)
	if err != nil {
		return err
	}
	contact, err := s.store.GetContact(ctx, conv.ContactID)
	if err != nil {
		return err
	}
	if _, isTemplate := out.Content.(*whatsapp.Template); !isTemplate && !InWindow(contact, s.now()) {
		return s.fail(ctx, msg.ID, CodeOutsideWindow, ErrOutsideWindow.Error())
	}
	out.BizOpaque = OutboxTag(msg.ID)

	recipient := firstNonEmpty(contact.WaID, contact.UserID)
	if err := s.limiter.Wait(ctx, conv.PhoneNumberID, recipient); err != nil {
		return fmt.Errorf("waiting for the rate limit: %w", err)
	}
	wamid, sendErr := s.graph.Send(ctx, conv.PhoneNumberID, out)
	if sendErr == nil {
		// Record before acknowledging: a crash here is the one window for a
		// second send (see the package doc); the status webhooks carry the
		// outbox id and reconcile it.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := s.store.RecordSend(rctx, msg.ID, wamid, s.now()); err != nil {
			return jobs.Cancel(fmt.Errorf("recording wamid %s of outbox message %d: %w", wamid, msg.ID, err))
		}
		s.metrics.sends.WithLabelValues("sent", "0").Inc()
		return nil
	}

	d := whatsapp.Classify(sendErr)
	code := strconv.Itoa(d.Code)
	log := s.log.With(slog.Int64("outbox_id", msg.ID), slog.Int("code", d.Code), slog.String("action", d.Action.String()), slog.String("reason", d.Reason))
	switch {
	case d.Retry && j.Attempt < j.MaxAttempts:
		s.metrics.sends.WithLabelValues("retry", code).Inc()
		switch d.Scope {
		case whatsapp.ScopeRecipient:
			s.limiter.Hold(conv.PhoneNumberID, recipient, d.After)
		case whatsapp.ScopeNumber, whatsapp.ScopeAccount:
			s.limiter.Hold(conv.PhoneNumberID, "", max(d.After, time.Second))
		}
		log.Warn("send failed, will retry", slog.Int("attempt", j.Attempt))
		return jobs.RetryAfter(fmt.Errorf("sending outbox message %d: %w", msg.ID, sendErr), d.After)
	case d.Action == whatsapp.ActionReconcile:
		// Meta probably accepted it; the status webhook's outbox id records it.
		log.Warn("send accepted without a message id: waiting for its status webhook")
		return nil
	}
	reason := d.Reason + ": " + sendErr.Error()
	if d.Retry {
		reason = fmt.Sprintf("gave up after %d attempts: %s", j.Attempt, reason)
	}
	switch d.Action {
	case whatsapp.ActionOptOut:
		// Meta refused a marketing message because the user stopped them:
		// the same as their user_preferences webhook.
		err := s.store.InTx(ctx, func(tx store.Queries) error {
			changed, err := tx.SetMarketingPreference(ctx, contact.ID, true, s.now())
			if err != nil || !changed {
				return err
			}
			_, err = privacy.RecordConsent(ctx, tx, store.Consent{ContactID: contact.ID, Purpose: store.PurposeMarketing,
				Source: store.ConsentByWebhook, At: s.now()}, privacy.Actor{})
			return err
		})
		if err != nil {
			return err
		}
	case whatsapp.ActionAlertOperator:
		log.Error("whatsapp refused the access token or configuration: an operator must fix it")
	}
	return s.fail(ctx, msg.ID, d.Code, reason)
}

func (s *Sender) fail(ctx context.Context, id int64, code int, reason string) error {
	if err := s.store.FailOutbound(ctx, id, code, reason); err != nil {
		return fmt.Errorf("recording the failure of outbox message %d: %w", id, err)
	}
	s.metrics.sends.WithLabelValues("failed", strconv.Itoa(code)).Inc()
	s.log.Warn("message not sent", slog.Int64("outbox_id", id), slog.Int("code", code), slog.String("reason", reason))
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
