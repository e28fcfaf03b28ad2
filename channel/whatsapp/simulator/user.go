package simulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/channel/whatsapp/wire"
)

// typingTimeout is how long WhatsApp shows the typing indicator without a
// reply.
const typingTimeout = 25 * time.Second

// Kinds of answers to a business message, as the webhook's interactive type
// (or "button" for a template quick reply).
const (
	kindButtonReply = "button_reply"
	kindListReply   = "list_reply"
	kindQuickReply  = "button"
)

// User is a simulated WhatsApp user: the Go API through which a test (and,
// through the page's endpoints, a person) acts. Every action becomes a signed
// webhook to yanit; everything yanit sends to the user's number lands in the
// user's transcript. Get one with Simulator.User.
type User struct {
	s     *Simulator
	phone string
	err   error // ErrInvalidPhone for a user that was never registered

	mu          sync.Mutex
	name        string
	records     []*record
	byID        map[string]*record
	lastWrote   time.Time // the last user message: opens the 24-hour window
	typingUntil time.Time
	changed     chan struct{} // closed and replaced at every change
}

// record is a transcript entry and what only the simulator needs of it.
type record struct {
	msg Message
	// seen reports that a page displayed this business message (or ReadAll
	// read it): it is read once delivered.
	seen bool
}

func newUser(s *Simulator, phone string) *User {
	return &User{s: s, phone: phone, name: phone, byID: map[string]*record{}, changed: make(chan struct{})}
}

// Phone is the user's number (wa_id), E.164 digits.
func (u *User) Phone() string { return u.phone }

// Name is the profile name sent with the user's messages.
func (u *User) Name() string {
	if u.err != nil {
		return ""
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.name
}

// rename sets a non-empty profile name and reports whether it changed.
func (u *User) rename(name string) bool {
	if name == "" || u.err != nil {
		return false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.name == name {
		return false
	}
	u.name = name
	return true
}

// SendText sends a text message and returns once yanit answered its webhook
// (with a *DeliveryError when it never answered 200) or ctx ended. The
// message is in the transcript either way.
func (u *User) SendText(ctx context.Context, text string) (Message, error) {
	if text == "" {
		return Message{}, errors.New("simulator: empty text")
	}
	return u.act(ctx, true, func() (*wire.Message, *record, string, error) {
		return textMessage(text), nil, "", nil
	})
}

func textMessage(text string) *wire.Message {
	return &wire.Message{Type: whatsapp.TypeText, Text: &wire.Text{Body: text}}
}

// Send sends any message the Cloud API can deliver (image, location,
// reaction, ...) given in its webhook shape. ID, From and Timestamp are
// filled in when empty; Context is sent as given. It returns like SendText.
func (u *User) Send(ctx context.Context, m wire.Message) (Message, error) {
	if m.Type == "" {
		return Message{}, errors.New("simulator: message type required")
	}
	return u.act(ctx, true, func() (*wire.Message, *record, string, error) {
		return &m, nil, "", nil
	})
}

// TapButton taps the reply button, or template quick reply, titled title on
// the newest business message that offers it: the webhook is an
// interactive button_reply {id, title} (a template's is a button {payload,
// text}) whose context names that message. Reply buttons work once
// (ErrAnswered); ErrNoSuchChoice when no message offers the title. It returns
// like SendText.
func (u *User) TapButton(ctx context.Context, title string) (Message, error) {
	return u.act(ctx, true, func() (*wire.Message, *record, string, error) {
		return u.findByTitle(title, kindButtonReply, kindQuickReply)
	})
}

// PickRow picks the list row titled title on the newest list message that
// has it: the webhook is an interactive list_reply {id, title, description}
// whose context names that message. It returns like SendText.
func (u *User) PickRow(ctx context.Context, title string) (Message, error) {
	return u.act(ctx, true, func() (*wire.Message, *record, string, error) {
		return u.findByTitle(title, kindListReply)
	})
}

// WaitFor returns the first transcript message, oldest first, for which
// match is true, waiting for new messages and status changes until ctx ends.
// match runs without locks held and sees snapshots.
func (u *User) WaitFor(ctx context.Context, match func(Message) bool) (Message, error) {
	if u.err != nil {
		return Message{}, u.err
	}
	for {
		u.mu.Lock()
		msgs := u.snapshot()
		ch := u.changed
		u.mu.Unlock()
		for _, m := range msgs {
			if match(m) {
				return m, nil
			}
		}
		select {
		case <-ctx.Done():
			return Message{}, fmt.Errorf("simulator: waiting for a message of %s: %w", u.phone, ctx.Err())
		case <-u.s.ctx.Done():
			return Message{}, ErrClosed
		case <-ch:
		}
	}
}

// NextReply waits for the first business message after m.
func (u *User) NextReply(ctx context.Context, after Message) (Message, error) {
	return u.WaitFor(ctx, func(m Message) bool { return m.FromBusiness() && m.Seq > after.Seq })
}

// Transcript returns both directions of the chat, oldest first.
func (u *User) Transcript() []Message {
	if u.err != nil {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.snapshot()
}

// Typing reports whether yanit shows the typing indicator to the user now:
// it asked for it with a mark-read and has not replied since, for at most
// 25 s.
func (u *User) Typing() bool {
	if u.err != nil {
		return false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.typingUntil.After(u.s.now())
}

// ReadAll makes the user read every business message: those delivered are
// reported read now, the others as soon as they are delivered. With
// ReadOnlyOnDisplay it is how a test reads without a page.
func (u *User) ReadAll() {
	if u.err != nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, r := range u.records {
		u.see(r)
	}
}

// markSeen is a page reporting that it displayed the business messages ids.
func (u *User) markSeen(ids []string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, id := range ids {
		if r := u.byID[id]; r != nil {
			u.see(r)
		}
	}
}

// see marks a business message seen and reads it if it was delivered;
// u.mu is held.
func (u *User) see(r *record) {
	if !r.msg.FromBusiness() || r.seen {
		return
	}
	r.seen = true
	if r.msg.Status == whatsapp.StatusDelivered {
		u.advanceLocked(r, whatsapp.StatusRead)
	}
}

// snapshot copies the transcript; u.mu is held.
func (u *User) snapshot() []Message {
	msgs := make([]Message, len(u.records))
	for i, r := range u.records {
		msgs[i] = r.msg
	}
	return msgs
}

// add appends m to the transcript and publishes it; u.mu is held.
func (u *User) add(m Message) *record {
	m.Seq = len(u.records) + 1
	r := &record{msg: m}
	u.records = append(u.records, r)
	u.byID[m.ID] = r
	u.changedLocked(r)
	return r
}

// changedLocked publishes r (when not nil) to the pages and wakes WaitFor;
// u.mu is held.
func (u *User) changedLocked(r *record) {
	if r != nil {
		u.s.hub.publish(u.phone, messageEvent(r.msg))
	}
	close(u.changed)
	u.changed = make(chan struct{})
}

// option is one thing a business message lets the user tap or pick.
type option struct {
	kind  string // kindButtonReply, kindListReply or kindQuickReply
	id    string // button id, row id or quick-reply payload
	title string
	reply *wire.Message // the user's answer, without id, sender and context
}

// options lists what a business message offers.
func options(m Message) []option {
	if m.Outbound == nil {
		return nil
	}
	var opts []option
	switch c := m.Outbound.Content.(type) {
	case *whatsapp.Buttons:
		for _, b := range c.Buttons {
			opts = append(opts, option{kind: kindButtonReply, id: b.ID, title: b.Title, reply: &wire.Message{
				Type:        whatsapp.TypeInteractive,
				Interactive: &wire.Interactive{Type: kindButtonReply, ButtonReply: &wire.Reply{ID: b.ID, Title: b.Title}},
			}})
		}
	case *whatsapp.List:
		for _, s := range c.Sections {
			for _, r := range s.Rows {
				opts = append(opts, option{kind: kindListReply, id: r.ID, title: r.Title, reply: &wire.Message{
					Type: whatsapp.TypeInteractive,
					Interactive: &wire.Interactive{Type: kindListReply,
						ListReply: &wire.Reply{ID: r.ID, Title: r.Title, Description: r.Description}},
				}})
			}
		}
	case *whatsapp.Template:
		// The simulator does not know the approved template, so a quick
		// reply's label is its payload.
		for _, comp := range c.Components {
			if comp.Type != whatsapp.ComponentButton || comp.SubType != "quick_reply" {
				continue
			}
			for _, p := range comp.Parameters {
				if p.Type == whatsapp.ParamPayload {
					opts = append(opts, option{kind: kindQuickReply, id: p.Payload, title: p.Payload, reply: &wire.Message{
						Type: whatsapp.TypeButton, Button: &wire.Button{Payload: p.Payload, Text: p.Payload},
					}})
				}
			}
		}
	}
	return opts
}

// findByTitle finds, newest message first, the option titled title of one of
// kinds; u.mu is held.
func (u *User) findByTitle(title string, kinds ...string) (*wire.Message, *record, string, error) {
	for i := len(u.records) - 1; i >= 0; i-- {
		r := u.records[i]
		for _, o := range options(r.msg) {
			if o.title != title || !slices.Contains(kinds, o.kind) {
				continue
			}
			if o.kind == kindButtonReply && r.msg.Answer != "" {
				return nil, nil, "", fmt.Errorf("tapping %q: %w", title, ErrAnswered)
			}
			return o.reply, r, o.id, nil
		}
	}
	return nil, nil, "", fmt.Errorf("tapping %q: %w", title, ErrNoSuchChoice)
}

// findByID finds the option of kind and id on the business message
// messageID; u.mu is held.
func (u *User) findByID(messageID, kind, id string) (*wire.Message, *record, string, error) {
	r := u.byID[messageID]
	if r == nil || !r.msg.FromBusiness() {
		return nil, nil, "", fmt.Errorf("answering message %s: %w", messageID, ErrNoSuchChoice)
	}
	for _, o := range options(r.msg) {
		if o.kind != kind || o.id != id {
			continue
		}
		if o.kind == kindButtonReply && r.msg.Answer != "" {
			return nil, nil, "", fmt.Errorf("answering message %s: %w", messageID, ErrAnswered)
		}
		return o.reply, r, o.id, nil
	}
	return nil, nil, "", fmt.Errorf("answering message %s with %s %q: %w", messageID, kind, id, ErrNoSuchChoice)
}

// act records the user's next message, built by build under u.mu (with the
// business message it answers and the answer's id, if any), and queues its
// webhook. With wait it returns once yanit answered the webhook.
func (u *User) act(ctx context.Context, wait bool, build func() (*wire.Message, *record, string, error)) (Message, error) {
	if u.err != nil {
		return Message{}, u.err
	}
	s := u.s
	u.mu.Lock()
	if s.isClosed() {
		u.mu.Unlock()
		return Message{}, ErrClosed
	}
	m, answered, answer, err := build()
	if err != nil {
		u.mu.Unlock()
		return Message{}, err
	}
	now := s.now()
	if m.ID == "" {
		m.ID = newWAMID()
	}
	if m.From == "" {
		m.From = u.phone
	}
	if m.Timestamp == "" {
		m.Timestamp = unix(now)
	}
	if answered != nil {
		m.Context = &wire.Context{From: s.opts.DisplayPhone, ID: answered.msg.ID}
	}
	body, err := s.encode(wire.Value{
		Contacts: []wire.Contact{{Profile: &wire.Profile{Name: u.name}, WaID: u.phone}},
		Messages: []wire.Message{*m},
	})
	if err != nil {
		u.mu.Unlock()
		return Message{}, err
	}
	if answered != nil {
		answered.msg.Answer = answer
		u.changedLocked(answered)
	}
	r := u.add(Message{ID: m.ID, Direction: FromUser, Time: now, Inbound: m})
	u.lastWrote = now
	s.mu.Lock()
	s.inbound[m.ID] = u
	s.mu.Unlock()

	done := make(chan error, 1)
	queued := s.enqueue(u.phone, &delivery{body: body, kind: "message", id: m.ID, done: func(err error) {
		u.deliveredWebhook(m.ID, err)
		done <- err
	}})
	if !queued {
		r.msg.Error = ErrClosed.Error()
		u.changedLocked(r)
		u.mu.Unlock()
		return r.msg, ErrClosed
	}
	msg := r.msg
	u.mu.Unlock()
	if !wait {
		return msg, nil
	}
	select {
	case err := <-done:
		u.mu.Lock()
		msg = r.msg
		u.mu.Unlock()
		return msg, err
	case <-ctx.Done():
		return msg, ctx.Err()
	}
}

// deliveredWebhook records the outcome of a user message's webhook.
func (u *User) deliveredWebhook(id string, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	r := u.byID[id]
	if r == nil {
		return
	}
	if err == nil {
		r.msg.Delivered = true
	} else {
		r.msg.Error = err.Error()
	}
	u.changedLocked(r)
}

// receive checks the 24-hour window and the throughput for a business
// message and, when both allow it, records it and starts its statuses. It
// returns the wamid, or the Graph API error to answer.
func (u *User) receive(out *whatsapp.Outbound) (string, *graphError) {
	s := u.s
	u.mu.Lock()
	defer u.mu.Unlock()
	now := s.now()
	if _, isTemplate := out.Content.(*whatsapp.Template); !isTemplate {
		if u.lastWrote.IsZero() || now.Sub(u.lastWrote) > 24*time.Hour {
			return "", errReengagement()
		}
	}
	if !s.bucket.take(now) {
		return "", errThroughput()
	}
	id := newWAMID()
	// progress finds the message only once u.mu is released, after add.
	if !s.spawn(func() { s.progress(u, id) }) {
		return "", errUnavailable()
	}
	if !u.typingUntil.IsZero() {
		u.typingUntil = time.Time{}
		s.hub.publish(u.phone, typingEvent(0))
	}
	u.add(Message{ID: id, Direction: FromBusiness, Time: now, Outbound: out, Status: StatusAccepted})
	return id, nil
}

// progress reports sent, then delivered, then (unless the user waits for a
// page to display it) read, StatusDelay apart.
func (s *Simulator) progress(u *User, id string) {
	d := s.opts.StatusDelay
	if !s.sleep(d) {
		return
	}
	u.advance(id, whatsapp.StatusSent)
	if !s.sleep(d) {
		return
	}
	if readSoon := u.advance(id, whatsapp.StatusDelivered); !readSoon {
		return
	}
	if !s.sleep(d) {
		return
	}
	u.advance(id, whatsapp.StatusRead)
}

// advance moves a business message to status and queues the status
// webhook. For delivered it reports whether the message should be read
// right away: a page displayed it already, or (ReadOnDisplay) no page shows
// this chat.
func (u *User) advance(id, status string) (readSoon bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	r := u.byID[id]
	if r == nil || !u.advanceLocked(r, status) {
		return false
	}
	if status != whatsapp.StatusDelivered {
		return false
	}
	return r.seen || (u.s.opts.Read == ReadOnDisplay && u.s.hub.watchers(u.phone) == 0)
}

// advanceLocked moves r to status, if that is a step forward, and queues the
// status webhook on the user's queue, or hands it to the batcher with
// Options.StatusBatch > 1; u.mu is held.
func (u *User) advanceLocked(r *record, status string) bool {
	if !whatsapp.Advances(r.msg.Status, status) {
		return false
	}
	s := u.s
	r.msg.Status = status
	u.changedLocked(r)
	st := wire.Status{
		ID:                    r.msg.ID,
		Status:                status,
		Timestamp:             unix(s.now()),
		RecipientID:           u.phone,
		BizOpaqueCallbackData: r.msg.Outbound.BizOpaque,
	}
	if _, ok := r.msg.Outbound.Content.(*whatsapp.Template); ok {
		billable := true
		// Per-message pricing since July 2025; the simulator cannot know the
		// template's category and reports utility.
		st.Pricing = &wire.Pricing{Billable: &billable, PricingModel: "PMP", Category: "utility", Type: "regular"}
	}
	if s.statuses != nil {
		s.batchStatus(st)
		return true
	}
	body, err := s.encode(wire.Value{Statuses: []wire.Status{st}})
	if err != nil {
		s.log.Error("encoding status webhook", slog.String("wamid", r.msg.ID), slog.Any("error", err))
		return true
	}
	s.enqueue(u.phone, &delivery{body: body, kind: status, id: r.msg.ID})
	return true
}

// markRead is yanit marking the user message id, and every earlier one,
// read; typing also shows the typing indicator. It reports whether id is a
// message of this user.
func (u *User) markRead(id string, typing bool) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	r := u.byID[id]
	if r == nil || r.msg.FromBusiness() {
		return false
	}
	for _, x := range u.records[:r.msg.Seq] {
		if !x.msg.FromBusiness() && !x.msg.Read {
			x.msg.Read = true
			u.changedLocked(x)
		}
	}
	if typing {
		u.typingUntil = u.s.now().Add(typingTimeout)
		u.s.hub.publish(u.phone, typingEvent(typingTimeout))
		u.changedLocked(nil)
	}
	return true
}

// subscribe opens an event stream on this chat whose first events are
// first, the whole transcript and the typing state: later changes follow
// in order, because they are published under the same lock.
func (u *User) subscribe(first ...event) *subscriber {
	u.mu.Lock()
	defer u.mu.Unlock()
	typing := time.Duration(0)
	if left := u.typingUntil.Sub(u.s.now()); left > 0 {
		typing = left
	}
	first = append(first, event{name: "reset", data: mustJSON(u.snapshot())}, typingEvent(typing))
	return u.s.hub.subscribe(u.phone, first...)
}
