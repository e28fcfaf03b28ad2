package channel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
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

	statusMu      sync.Mutex
	statusWaiting []*statusCall // statuses of webhooks waiting for the next statement
	statusBusy    bool          // a goroutine is applying them
}

// statusCall is one webhook's statuses waiting to be applied with those of
// other webhooks arriving meanwhile.
type statusCall struct {
	ss   []whatsapp.Status
	done chan error
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
	if len(b.Statuses) > 0 {
		if err := r.applyStatuses(ctx, b.Statuses); err != nil {
			return acc, err
		}
		acc.Statuses = len(b.Statuses)
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

// applyStatuses applies a webhook's statuses together with those of the
// webhooks that arrive while a statement runs (group commit): when Meta
// posts each status alone, thousands a second during a campaign, they take
// a statement per group instead of one each. A goroutine, started when
// statuses wait and none runs, applies what waits, group after group,
// until nothing does; each webhook waits for its group's outcome. An error
// fails every webhook of its group, and Meta delivers them again.
func (r *Receiver) applyStatuses(ctx context.Context, ss []whatsapp.Status) error {
	call := &statusCall{ss: ss, done: make(chan error, 1)}
	r.statusMu.Lock()
	r.statusWaiting = append(r.statusWaiting, call)
	start := !r.statusBusy
	r.statusBusy = true
	r.statusMu.Unlock()
	if start {
		go func() {
			for r.applyGroup() {
			}
		}()
	}
	select {
	case err := <-call.done:
		return err
	case <-ctx.Done():
		return ctx.Err() // the group still applies them; Meta's retry is a no-op
	}
}

// applyGroup applies the statuses waiting, up to store.MaxOutboxBatch of
// them (a webhook with more is a group of its own, in chunks), and reports
// whether it found any; when it finds none, the goroutine ends.
func (r *Receiver) applyGroup() bool {
	r.statusMu.Lock()
	n, take := 0, 0
	for _, c := range r.statusWaiting {
		if take > 0 && n+len(c.ss) > store.MaxOutboxBatch {
			break
		}
		n += len(c.ss)
		take++
	}
	group := r.statusWaiting[:take:take]
	r.statusWaiting = r.statusWaiting[take:]
	if len(group) == 0 {
		r.statusBusy = false
	}
	r.statusMu.Unlock()
	if len(group) == 0 {
		return false
	}
	var all []whatsapp.Status
	for _, c := range group {
		all = append(all, c.ss...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	for start := 0; start < len(all) && err == nil; start += store.MaxOutboxBatch {
		err = r.statuses(ctx, all[start:min(start+store.MaxOutboxBatch, len(all))])
	}
	for _, c := range group {
		c.done <- err
	}
	return true
}

// statuses applies delivery statuses, in one statement for the lot (a
// webhook may carry hundreds). A status may arrive before yanit recorded
// the wamid of its message (the window between Meta accepting a send and
// the sender recording it): the outbox id in biz_opaque_callback_data
// links them (reconcile).
func (r *Receiver) statuses(ctx context.Context, ss []whatsapp.Status) error {
	us := make([]store.StatusUpdate, len(ss))
	for i, s := range ss {
		us[i] = statusUpdate(s)
	}
	outcomes, err := r.store.UpdateMessageStatuses(ctx, us)
	if err != nil {
		return fmt.Errorf("applying %d statuses: %w", len(us), err)
	}
	for i, o := range outcomes {
		outcome := o.String()
		if o == store.StatusUnknown {
			if outcome, err = r.reconcile(ctx, ss[i], us[i]); err != nil {
				return fmt.Errorf("applying status %s of %s: %w", us[i].Status, us[i].ChannelMessageID, err)
			}
		}
		if outcome == "applied" && us[i].Status == store.StatusFailed {
			r.log.Warn("message failed", slog.String("wamid", us[i].ChannelMessageID), slog.Int("code", us[i].ErrorCode), slog.String("reason", us[i].ErrorText))
		}
		r.metrics.items.WithLabelValues("status", outcome).Inc()
	}
	return nil
}

// statusUpdate is the store's form of a status webhook.
func statusUpdate(s whatsapp.Status) store.StatusUpdate {
	u := store.StatusUpdate{ChannelMessageID: s.WAMID, Status: s.Status}
	if u.Status == whatsapp.StatusPlayed { // a played voice message has been read
		u.Status = store.StatusRead
	}
	if len(s.Errors) > 0 {
		u.ErrorCode, u.ErrorText = s.Errors[0].Code, s.Errors[0].Error()
	}
	return u
}

// reconcile applies the status of a wamid no message has: the send of its
// outbox message (named by the tag) was never recorded, or it is a second
// send of a message recorded under another wamid (a send in flight at a
// crash, sent again after it), or a message another system sent on this
// number.
func (r *Receiver) reconcile(ctx context.Context, s whatsapp.Status, u store.StatusUpdate) (string, error) {
	id, ok := OutboxID(s.BizOpaque)
	if !ok {
		return "unknown", nil // a message sent by another system on this number
	}
	if err := r.store.RecordSend(ctx, id, s.WAMID, s.Timestamp); err != nil {
		if errors.Is(err, store.ErrConflict) {
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
	changed, err := r.store.UpdateMessageStatus(ctx, u.ChannelMessageID, u.Status, u.ErrorCode, u.ErrorText)
	if err != nil {
		return "", err
	}
	if !changed {
		return "stale", nil
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
