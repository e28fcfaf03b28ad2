package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/yanit/yanit/channel"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/store"
)

// Errors of the agents' actions, besides the store's ErrNotFound and
// ErrConflict.
var (
	// ErrForbidden: the ticket is not of the agent's teams, or not theirs.
	ErrForbidden = errors.New("not allowed")
	// ErrWindowClosed: the user last wrote more than 24 hours ago, so
	// WhatsApp only carries an approved template.
	ErrWindowClosed = errors.New("the 24-hour window is closed: only an approved template can reach the user")
	// ErrInvalid: the request itself is wrong (an empty reply).
	ErrInvalid = errors.New("invalid")
)

// Window is WhatsApp's customer service window: free-form messages reach
// a user until this long after their last message.
const Window = 24 * time.Hour

// MaxNote bounds an internal note, in characters.
const MaxNote = 4000

// MaxReply bounds an agent's reply: one WhatsApp text message.
const MaxReply = 4096

// Service is what agents do with tickets: claim, reply, note, transfer,
// resolve and return to the bot. Every action is recorded in the ticket's
// history and published on the bus.
type Service struct {
	st  store.Store
	bus Bus
	log *slog.Logger
	// wake tells the outbox a reply is queued.
	wake      func()
	now       func() time.Time
	csat      bool
	templates []Template
}

// Options configure a Service.
type Options struct {
	Logger *slog.Logger
	// Wake is called after a reply is queued (the job runner's Notify).
	Wake func()
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// CSAT asks the user to rate a resolved ticket (CSATQuestion).
	CSAT bool
	// Templates are the approved templates agents may send (NewTemplate).
	Templates []Template
}

// NewService returns the inbox on st, publishing on bus.
func NewService(st store.Store, bus Bus, o Options) *Service {
	s := &Service{st: st, bus: bus, log: o.Logger, wake: o.Wake, now: o.Now, csat: o.CSAT, templates: o.Templates}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.wake == nil {
		s.wake = func() {}
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Bus returns the bus events are published on.
func (s *Service) Bus() Bus { return s.bus }

// CanSee reports whether the user may see the ticket: admins see all,
// agents the tickets of their teams (the default team "" is everyone's).
func CanSee(u store.User, t store.Ticket) bool {
	return u.Role == store.RoleAdmin || t.Team == "" || slices.Contains(u.Teams, t.Team)
}

// Visible returns the tickets of f that u may see: for an agent, f is
// narrowed to their teams and the default team.
func (s *Service) Visible(ctx context.Context, u store.User, f store.TicketFilter) ([]store.Ticket, error) {
	if u.Role != store.RoleAdmin {
		allowed := append([]string{""}, u.Teams...)
		if len(f.Teams) == 0 {
			f.Teams = allowed
		} else {
			f.Teams = slices.DeleteFunc(slices.Clone(f.Teams), func(t string) bool { return !slices.Contains(allowed, t) })
			if len(f.Teams) == 0 {
				return []store.Ticket{}, nil
			}
		}
	}
	return s.st.ListTickets(ctx, f)
}

// Ticket returns a ticket u may see.
func (s *Service) Ticket(ctx context.Context, u store.User, id int64) (store.Ticket, error) {
	t, err := s.st.GetTicket(ctx, id)
	if err != nil {
		return t, err
	}
	if !CanSee(u, t) {
		// As if it did not exist: an agent does not learn of other teams'
		// tickets.
		return store.Ticket{}, fmt.Errorf("ticket %d: %w", id, store.ErrNotFound)
	}
	return t, nil
}

// owned returns the open ticket id, which u must own (admins act on any).
func (s *Service) owned(ctx context.Context, u store.User, id int64) (store.Ticket, error) {
	t, err := s.Ticket(ctx, u, id)
	if err != nil {
		return t, err
	}
	switch {
	case !t.Open():
		return t, fmt.Errorf("ticket %d is %s: %w", id, t.Status, store.ErrConflict)
	case u.Role != store.RoleAdmin && t.AssigneeID != u.ID:
		return t, fmt.Errorf("ticket %d is not assigned to %s: claim it first: %w", id, u.Login, ErrForbidden)
	}
	return t, nil
}

// Claim assigns a queued ticket to u. Of agents claiming at once exactly
// one wins; the others get ErrConflict.
func (s *Service) Claim(ctx context.Context, u store.User, id int64) (store.Ticket, error) {
	if _, err := s.Ticket(ctx, u, id); err != nil {
		return store.Ticket{}, err
	}
	var t store.Ticket
	err := s.st.InTx(ctx, func(tx store.Queries) error {
		var err error
		if t, err = tx.ClaimTicket(ctx, id, u.ID, s.now()); err != nil {
			return err
		}
		return s.record(ctx, tx, t, u, KindTicketAssigned, map[string]any{"by": u.Login, "claimed": true})
	})
	if err != nil {
		return store.Ticket{}, err
	}
	s.publish(ctx, t, KindTicketAssigned, map[string]any{"assignee": u.Login})
	return t, nil
}

// Reply sends text to the user of a ticket u owns, through the outbox,
// within the 24-hour window.
func (s *Service) Reply(ctx context.Context, u store.User, id int64, text string) (store.Message, error) {
	text = strings.TrimSpace(text)
	switch n := len([]rune(text)); {
	case n == 0:
		return store.Message{}, fmt.Errorf("%w: the reply is empty", ErrInvalid)
	case n > MaxReply:
		return store.Message{}, fmt.Errorf("%w: the reply is %d characters long, at most %d (one WhatsApp message)", ErrInvalid, n, MaxReply)
	}
	return s.send(ctx, u, id, &whatsapp.Text{Body: text}, true, "reply", map[string]any{}, text)
}

// send queues content to the user of the ticket id u owns, through the
// outbox: within the 24-hour window when window is set (free-form
// content), at any time otherwise (an approved template). It records the
// first reply's time and a history entry kind with data and the message
// ids, tells the outbox, and publishes a message event previewing preview.
func (s *Service) send(ctx context.Context, u store.User, id int64, content whatsapp.Content, window bool, kind string, data map[string]any, preview string) (store.Message, error) {
	t, err := s.owned(ctx, u, id)
	if err != nil {
		return store.Message{}, err
	}
	conv, err := s.st.GetConversation(ctx, t.ConversationID)
	if err != nil {
		return store.Message{}, err
	}
	contact, err := s.st.GetContact(ctx, t.ContactID)
	if err != nil {
		return store.Message{}, err
	}
	now := s.now()
	if window && (contact.LastInboundAt.IsZero() || now.Sub(contact.LastInboundAt) >= Window) {
		return store.Message{}, fmt.Errorf("ticket %d: the user last wrote at %s: %w", id, contact.LastInboundAt.Format(time.RFC3339), ErrWindowClosed)
	}
	var sent []store.Message
	err = s.st.InTx(ctx, func(tx store.Queries) error {
		var err error
		sent, err = channel.Queue(ctx, tx, conv, contact, []whatsapp.Outbound{{Content: content}})
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if err := tx.RecordFirstReply(ctx, t.ID, now); err != nil {
			return err
		}
		data["message_ids"] = ids(sent)
		return s.record(ctx, tx, t, u, kind, data)
	})
	if err != nil {
		return store.Message{}, err
	}
	s.wake()
	s.publish(ctx, t, KindMessage, map[string]any{"direction": store.Outbound, "by": u.Login, "as": kind, "preview": Preview(preview)})
	return sent[0], nil
}

// Note adds an internal note to a ticket u may see; the user never sees
// it.
func (s *Service) Note(ctx context.Context, u store.User, id int64, text string) (store.TicketEvent, error) {
	text = strings.TrimSpace(text)
	switch n := len([]rune(text)); {
	case n == 0:
		return store.TicketEvent{}, fmt.Errorf("%w: the note is empty", ErrInvalid)
	case n > MaxNote:
		return store.TicketEvent{}, fmt.Errorf("%w: the note is %d characters long, at most %d", ErrInvalid, n, MaxNote)
	}
	t, err := s.Ticket(ctx, u, id)
	if err != nil {
		return store.TicketEvent{}, err
	}
	data, _ := json.Marshal(map[string]any{"text": text, "by": u.Login})
	ev, err := s.st.AddTicketEvent(ctx, store.TicketEvent{TicketID: t.ID, UserID: u.ID, Kind: KindNote, Data: data})
	if err != nil {
		return ev, err
	}
	s.publish(ctx, t, KindNote, map[string]any{"by": u.Login, "preview": Preview(text)})
	return ev, nil
}

// Transfer moves an open ticket u may see to team, queued there, or to the
// agent assignee of that team.
func (s *Service) Transfer(ctx context.Context, u store.User, id int64, team string, assignee string) (store.Ticket, error) {
	cur, err := s.Ticket(ctx, u, id)
	if err != nil {
		return cur, err
	}
	var to store.User
	if assignee != "" {
		if to, err = s.st.GetUserByLogin(ctx, assignee); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return cur, fmt.Errorf("%w: no user %q", ErrInvalid, assignee)
			}
			return cur, err
		}
		if to.Disabled || (to.Role != store.RoleAgent && to.Role != store.RoleAdmin) {
			return cur, fmt.Errorf("%w: %s is not an active agent", ErrInvalid, assignee)
		}
		if team != "" && to.Role != store.RoleAdmin && !slices.Contains(to.Teams, team) {
			return cur, fmt.Errorf("%w: %s is not in team %q", ErrInvalid, assignee, team)
		}
	}
	var t store.Ticket
	err = s.st.InTx(ctx, func(tx store.Queries) error {
		var err error
		if t, err = tx.TransferTicket(ctx, id, team, to.ID, s.now()); err != nil {
			return err
		}
		return s.record(ctx, tx, t, u, KindTicketTransferred, map[string]any{"from_team": cur.Team, "team": team, "assignee": assignee})
	})
	if err != nil {
		return store.Ticket{}, err
	}
	s.publish(ctx, t, KindTicketTransferred, map[string]any{"team": team, "assignee": assignee})
	return t, nil
}

// Resolve closes a ticket u owns; the conversation goes back to the bot,
// which answers the user's next message. With CSAT on, the user is asked
// to rate it (when the 24-hour window is open).
func (s *Service) Resolve(ctx context.Context, u store.User, id int64) (store.Ticket, error) {
	return s.close(ctx, u, id, store.TicketResolved, KindTicketResolved)
}

// ReturnToBot closes a ticket u owns as returned: the bot takes the
// conversation back at once.
func (s *Service) ReturnToBot(ctx context.Context, u store.User, id int64) (store.Ticket, error) {
	return s.close(ctx, u, id, store.TicketReturned, KindTicketReturned)
}

func (s *Service) close(ctx context.Context, u store.User, id int64, status, kind string) (store.Ticket, error) {
	if _, err := s.owned(ctx, u, id); err != nil {
		return store.Ticket{}, err
	}
	var t store.Ticket
	asked := false
	err := s.st.InTx(ctx, func(tx store.Queries) error {
		var err error
		if t, err = tx.CloseTicket(ctx, id, status, s.now()); err != nil {
			return err
		}
		conv, err := tx.GetConversation(ctx, t.ConversationID)
		if err != nil {
			return err
		}
		// The bot starts afresh: no task or fallback count of before the
		// handoff carries over.
		if err := tx.SetConversationState(ctx, conv.ID, store.ModeBot, json.RawMessage(`{}`)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if status == store.TicketResolved && s.csat {
			contact, err := tx.GetContact(ctx, t.ContactID)
			if err != nil {
				return err
			}
			if !contact.LastInboundAt.IsZero() && s.now().Sub(contact.LastInboundAt) < Window {
				if _, err := channel.Queue(ctx, tx, conv, contact, []whatsapp.Outbound{CSATQuestion(t)}); err != nil {
					return err
				}
				asked = true
			}
		}
		return s.record(ctx, tx, t, u, kind, map[string]any{"by": u.Login, "csat_asked": asked})
	})
	if err != nil {
		return store.Ticket{}, err
	}
	if asked {
		s.wake()
	}
	s.publish(ctx, t, kind, map[string]any{"by": u.Login})
	return t, nil
}

// record appends an event to the ticket's history inside tx.
func (s *Service) record(ctx context.Context, tx store.Queries, t store.Ticket, u store.User, kind string, data map[string]any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_, err = tx.AddTicketEvent(ctx, store.TicketEvent{TicketID: t.ID, UserID: u.ID, Kind: kind, Data: b})
	return err
}

// publish tells the agents connected to any instance; a failure costs a
// live update (the console reloads on reconnect), so it is logged only.
func (s *Service) publish(ctx context.Context, t store.Ticket, kind string, data map[string]any) {
	PublishTicket(ctx, s.bus, s.log, t, kind, data, s.now())
}

// PublishTicket publishes an event about the ticket t on bus, logging a
// failure.
func PublishTicket(ctx context.Context, bus Bus, log *slog.Logger, t store.Ticket, kind string, data map[string]any, at time.Time) {
	if bus == nil {
		return
	}
	b, _ := json.Marshal(data)
	e := Event{Kind: kind, TicketID: t.ID, ConversationID: t.ConversationID, Team: t.Team, AssigneeID: t.AssigneeID, At: at, Data: b}
	if err := bus.Publish(ctx, e); err != nil {
		log.Warn("inbox: publishing an event", slog.String("kind", kind), slog.Int64("ticket", t.ID), slog.String("error", err.Error()))
	}
}

func ids(ms []store.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// Preview is the start of a text, for an event.
func Preview(text string) string {
	const max = 120
	r := []rune(text)
	if len(r) <= max {
		return text
	}
	return string(r[:max-1]) + "…"
}
