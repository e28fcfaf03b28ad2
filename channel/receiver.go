package channel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
)

// KindTurn is the job kind of an assistant turn; its key is TurnKey.
const KindTurn = "turn"

// TurnKey is the job key of the conversation's turns: one at a time, in
// arrival order.
func TurnKey(conversationID int64) string { return store.TurnKey(conversationID) }

// TurnPayload is the payload of a turn job.
type TurnPayload = store.TurnPayload

// Receiver persists what webhooks carry: each inbound message with its
// contact and conversation and a turn job, in one transaction; statuses,
// opt-outs and channel errors. It is safe for concurrent use.
type Receiver struct {
	store   store.Store
	log     *slog.Logger
	metrics *Metrics
	routed  func(phoneNumberID string) bool
	wake    func()
}

// ReceiverOptions configure a Receiver.
type ReceiverOptions struct {
	Logger  *slog.Logger
	Metrics *Metrics
	// Routed reports whether this deployment answers the business number;
	// messages to other numbers are stored but start no turn.
	Routed func(phoneNumberID string) bool
	// Wake is called after turn jobs were enqueued (the job runner's Notify).
	Wake func()
}

// NewReceiver returns a Receiver writing to st.
func NewReceiver(st store.Store, o ReceiverOptions) *Receiver {
	r := &Receiver{store: st, log: o.Logger, metrics: o.Metrics, routed: o.Routed, wake: o.Wake}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.metrics == nil {
		r.metrics = NewMetrics(nil)
	}
	if r.routed == nil {
		r.routed = func(string) bool { return true }
	}
	if r.wake == nil {
		r.wake = func() {}
	}
	return r
}

// Accepted counts what Accept did with a batch.
type Accepted struct {
	Messages, Duplicates, Statuses, Preferences, Errors int
}

// Accept persists a parsed batch. It returns an error only when the store
// failed: the webhook must then answer non-200 so that Meta delivers it
// again (items already stored are duplicates then, and no-ops). Items the
// channel could not parse are counted and logged by the caller.
func (r *Receiver) Accept(ctx context.Context, b whatsapp.Batch) (Accepted, error) {
	var acc Accepted
	enqueued := false
	for _, m := range b.Messages {
		dup, turn, err := r.message(ctx, m)
		if err != nil {
			return acc, fmt.Errorf("storing message %s: %w", m.WAMID, err)
		}
		if dup {
			acc.Duplicates++
			r.metrics.items.WithLabelValues("message", "duplicate").Inc()
			continue
		}
		acc.Messages++
		enqueued = enqueued || turn
		r.metrics.items.WithLabelValues("message", "stored").Inc()
	}
	if enqueued {
		r.wake()
	}
	for _, s := range b.Statuses {
		outcome, err := r.status(ctx, s)
		if err != nil {
			return acc, fmt.Errorf("applying status %s of %s: %w", s.Status, s.WAMID, err)
		}
		acc.Statuses++
		r.metrics.items.WithLabelValues("status", outcome).Inc()
	}
	for _, p := range b.Preferences {
		outcome, err := r.preference(ctx, p)
		if err != nil {
			return acc, fmt.Errorf("recording preference of a contact: %w", err)
		}
		acc.Preferences++
		r.metrics.items.WithLabelValues("preference", outcome).Inc()
	}
	for _, e := range b.Errors {
		acc.Errors++
		r.metrics.items.WithLabelValues("error", "logged").Inc()
		r.log.Warn("whatsapp reported an error", slog.String("phone_number_id", e.PhoneNumberID),
			slog.Int("code", e.Code), slog.String("title", e.Title), slog.String("details", e.Details))
	}
	for _, o := range b.Other {
		r.metrics.items.WithLabelValues("other", "ignored").Inc()
		r.log.Info("webhook field not handled", slog.String("field", o.Field))
	}
	return acc, nil
}

// message stores one inbound message with its contact, conversation and,
// when its number is routed, a turn job, atomically. dup reports a message
// seen before.
func (r *Receiver) message(ctx context.Context, m whatsapp.Inbound) (dup, turn bool, err error) {
	turn = r.routed(m.PhoneNumberID)
	if !turn {
		r.log.Warn("message to a number this deployment does not answer", slog.String("phone_number_id", m.PhoneNumberID))
	}
	sentAt := m.Timestamp
	if sentAt.IsZero() {
		sentAt = time.Now()
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return false, false, fmt.Errorf("encoding message: %w", err)
	}
	p := store.InboundParams{
		Contact:       store.ContactUpsert{WaID: m.WaID, UserID: m.UserID, Name: m.ProfileName, Seen: sentAt},
		PhoneNumberID: m.PhoneNumberID,
		Message: store.Message{Direction: store.Inbound, ChannelMessageID: m.WAMID, Type: messageType(m),
			Body: m.Text, Payload: payload, Status: store.StatusReceived, SentAt: sentAt},
	}
	if turn {
		p.TurnKind = KindTurn
	}
	_, err = r.store.AcceptInbound(ctx, p)
	if errors.Is(err, store.ErrDuplicate) {
		return true, false, nil
	}
	return false, turn, err
}

// messageType is the stored type: Meta's, refined for interactive replies.
func messageType(m whatsapp.Inbound) string {
	if m.Subtype != "" {
		return m.Type + "." + m.Subtype
	}
	return m.Type
}

// status applies a delivery status. A status may arrive before yanit
// recorded the wamid of its message (the window between Meta accepting a
// send and the sender recording it): the outbox id in biz_opaque_callback_data
// links them.
func (r *Receiver) status(ctx context.Context, s whatsapp.Status) (string, error) {
	st := s.Status
	if st == whatsapp.StatusPlayed { // a played voice message has been read
		st = store.StatusRead
	}
	code, text := 0, ""
	if len(s.Errors) > 0 {
		code, text = s.Errors[0].Code, s.Errors[0].Error()
	}
	changed, err := r.store.UpdateMessageStatus(ctx, s.WAMID, st, code, text)
	if errors.Is(err, store.ErrNotFound) {
		id, ok := OutboxID(s.BizOpaque)
		if !ok {
			return "unknown", nil // a message sent by another system on this number
		}
		if err := r.store.RecordSend(ctx, id, s.WAMID, s.Timestamp); err != nil {
			if errors.Is(err, store.ErrConflict) {
				// The message has another wamid: WhatsApp accepted it twice
				// (a send in flight at a crash, sent again after it).
				if err := r.store.RecordDuplicateSend(ctx, id, s.WAMID); err != nil {
					return "", err
				}
				r.log.Warn("a message was sent twice", slog.Int64("outbox_id", id), slog.String("wamid", s.WAMID))
				return "duplicate", nil
			}
			if errors.Is(err, store.ErrNotFound) {
				r.log.Warn("status names an outbox id that does not match", slog.Int64("outbox_id", id), slog.String("wamid", s.WAMID))
				return "unknown", nil
			}
			return "", err
		}
		r.log.Info("reconciled a send from its status", slog.Int64("outbox_id", id), slog.String("wamid", s.WAMID))
		changed, err = r.store.UpdateMessageStatus(ctx, s.WAMID, st, code, text)
	}
	if err != nil {
		return "", err
	}
	if !changed {
		return "stale", nil
	}
	if st == store.StatusFailed {
		r.log.Warn("message failed", slog.String("wamid", s.WAMID), slog.Int("code", code), slog.String("reason", text))
	}
	return "applied", nil
}

func (r *Receiver) preference(ctx context.Context, p whatsapp.Preference) (string, error) {
	if p.Category != "" && p.Category != "marketing_messages" {
		r.log.Info("preference for an unknown category", slog.String("category", p.Category))
		return "ignored", nil
	}
	optOut := p.Value == whatsapp.PreferenceStop
	if !optOut && p.Value != whatsapp.PreferenceResume {
		r.log.Warn("preference with an unknown value", slog.String("value", p.Value))
		return "ignored", nil
	}
	at := p.Timestamp
	if at.IsZero() {
		at = time.Now()
	}
	contact, err := r.store.UpsertContact(ctx, store.ContactUpsert{WaID: p.WaID, UserID: p.UserID})
	if err != nil {
		return "", err
	}
	changed := false
	confirm := p.PhoneNumberID != "" && r.routed(p.PhoneNumberID) && InWindow(contact, time.Now())
	err = r.store.InTx(ctx, func(tx store.Queries) error {
		var err error
		if changed, err = tx.SetMarketingPreference(ctx, contact.ID, optOut, at); err != nil || !changed {
			return err
		}
		c := store.Consent{ContactID: contact.ID, Purpose: store.PurposeMarketing, Granted: !optOut, Source: store.ConsentByWebhook, At: at}
		if _, err := privacy.RecordConsent(ctx, tx, c, privacy.Actor{}); err != nil {
			return err
		}
		if !confirm {
			return nil
		}
		// The user is told, by the assistant of the number, while the
		// service window is open: a preference message runs a turn.
		body, _ := json.Marshal(map[string]string{"preference": p.Value})
		_, err = store.AcceptInbound(ctx, tx, store.InboundParams{
			Contact:       store.ContactUpsert{WaID: p.WaID, UserID: p.UserID},
			PhoneNumberID: p.PhoneNumberID,
			Message: store.Message{Direction: store.Inbound, ChannelMessageID: PreferencePrefix + strconv.FormatInt(contact.ID, 10) + ":" + strconv.FormatInt(at.UnixNano(), 10),
				Type: TypePreference, Payload: body, Status: store.StatusReceived, SentAt: at},
			TurnKind: KindTurn,
		})
		return err
	})
	if err != nil {
		return "", err
	}
	if !changed {
		return "stale", nil
	}
	if confirm {
		r.wake()
	}
	return "applied", nil
}

// TypePreference is the type of the message a user_preferences webhook
// stores for the assistant to confirm the change; its payload is
// {"preference": "stop" | "resume"}. Its channel message id starts with
// PreferencePrefix: it is no WhatsApp message.
const (
	TypePreference   = "preference"
	PreferencePrefix = "pref:"
)

// outboxPrefix marks yanit's biz_opaque_callback_data.
const outboxPrefix = "yanit:"

// OutboxTag is the biz_opaque_callback_data yanit sends with outbox message id.
func OutboxTag(id int64) string { return outboxPrefix + strconv.FormatInt(id, 10) }

// OutboxID reads an outbox message id back from biz_opaque_callback_data.
func OutboxID(tag string) (int64, bool) {
	rest, ok := strings.CutPrefix(tag, outboxPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0
}
