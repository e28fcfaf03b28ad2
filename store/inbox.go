package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// The states of a ticket: queued for a person, assigned to one, then
// resolved by them or returned to the bot. Queued and assigned tickets are
// open; a conversation has at most one open ticket.
const (
	TicketQueued   = "queued"
	TicketAssigned = "assigned"
	TicketResolved = "resolved"
	TicketReturned = "returned"
)

// Ticket is a conversation handed to people: who should take it, who did,
// with the context the assistant had, and its timers.
type Ticket struct {
	ID             int64
	ConversationID int64
	ContactID      int64
	Status         string
	// Team is the team whose agents see the ticket; "" is the default
	// team.
	Team string
	// Priority orders the queue: higher first, then older first.
	Priority int
	// Reason is why the assistant handed off (assistant.Reason…).
	Reason string
	// Pack is the context pack (assistant.Handoff as JSON).
	Pack json.RawMessage
	// AssigneeID is the agent (User.ID) who owns the ticket; 0 when queued.
	AssigneeID   int64
	CreatedAt    time.Time
	AssignedAt   time.Time // the last assignment; zero while queued
	FirstReplyAt time.Time // the first agent reply; zero until then
	ClosedAt     time.Time // resolved or returned; zero while open
	UpdatedAt    time.Time
	// CSAT is the user's rating, 1 to 5; 0 when not given.
	CSAT int
}

// Open reports whether the ticket is queued or assigned.
func (t Ticket) Open() bool { return t.Status == TicketQueued || t.Status == TicketAssigned }

// TicketFilter narrows ListTickets; zero values match all.
type TicketFilter struct {
	Statuses   []string
	Teams      []string
	AssigneeID int64
	// ConversationID keeps the tickets of one conversation.
	ConversationID int64
	// ContactID keeps the tickets of one contact (a data export).
	ContactID int64
	// NewestFirst orders by creation, newest first, instead of queue
	// order.
	NewestFirst bool
	// Limit bounds the tickets returned: default 100, at most 1000.
	Limit int
}

// CheckLimit returns the limit f asks for, or an error naming a limit or
// a status out of range.
func (f TicketFilter) CheckLimit() (int, error) {
	for _, s := range f.Statuses {
		if !slices.Contains([]string{TicketQueued, TicketAssigned, TicketResolved, TicketReturned}, s) {
			return 0, fmt.Errorf("status %q: want queued, assigned, resolved or returned", s)
		}
	}
	switch {
	case f.Limit == 0:
		return 100, nil
	case f.Limit < 0 || f.Limit > 1000:
		return 0, fmt.Errorf("limit %d: want 1 to 1000", f.Limit)
	}
	return f.Limit, nil
}

// TicketEvent is one entry of a ticket's history: created, claimed,
// assigned, transferred, note, reply, resolved, returned, csat.
type TicketEvent struct {
	ID       int64
	TicketID int64
	// UserID is the agent who acted; 0 for the system.
	UserID    int64
	Kind      string
	Data      json.RawMessage
	CreatedAt time.Time
}

// Inbox keeps the tickets of the human queue.
type Inbox interface {
	// OpenTicket stores t as a queued ticket of its conversation, or, when
	// the conversation has an open ticket already, returns that one with
	// created false.
	OpenTicket(ctx context.Context, t Ticket) (ticket Ticket, created bool, err error)
	// GetTicket returns a ticket; ErrNotFound when none.
	GetTicket(ctx context.Context, id int64) (Ticket, error)
	// OpenTicketOf returns the open ticket of a conversation; ErrNotFound
	// when it has none.
	OpenTicketOf(ctx context.Context, conversationID int64) (Ticket, error)
	// ListTickets returns the tickets passing f in queue order: priority,
	// highest first, then oldest first; or newest first (f.NewestFirst).
	ListTickets(ctx context.Context, f TicketFilter) ([]Ticket, error)
	// ClaimTicket assigns a queued ticket to the agent userID. Of agents
	// claiming one ticket at once exactly one wins; the others get an
	// error wrapping ErrConflict (ErrNotFound when there is no ticket).
	ClaimTicket(ctx context.Context, id, userID int64, at time.Time) (Ticket, error)
	// TransferTicket moves an open ticket to team, queued again when
	// assigneeID is 0, else assigned to that agent; ErrConflict when the
	// ticket is closed.
	TransferTicket(ctx context.Context, id int64, team string, assigneeID int64, at time.Time) (Ticket, error)
	// CloseTicket ends an open ticket as TicketResolved or TicketReturned;
	// ErrConflict when it is closed already.
	CloseTicket(ctx context.Context, id int64, status string, at time.Time) (Ticket, error)
	// RecordFirstReply sets the ticket's FirstReplyAt unless it is set.
	RecordFirstReply(ctx context.Context, id int64, at time.Time) error
	// SetTicketCSAT records the user's rating (1 to 5) of a closed ticket.
	SetTicketCSAT(ctx context.Context, id int64, score int) error
	// AddTicketEvent appends an entry to a ticket's history.
	AddTicketEvent(ctx context.Context, e TicketEvent) (TicketEvent, error)
	// ListTicketEvents returns a ticket's history, oldest first.
	ListTicketEvents(ctx context.Context, ticketID int64) ([]TicketEvent, error)

	// TouchPresence records that the agent was seen at at (a live inbox
	// stream); an older time than the recorded one changes nothing.
	TouchPresence(ctx context.Context, userID int64, at time.Time) error
	// OnlineAgents returns the active agents and admins of team (of any
	// team for the default team "") seen since since, by ID, with their
	// load.
	OnlineAgents(ctx context.Context, team string, since time.Time) ([]AgentLoad, error)
}

// AgentLoad is an online agent with what they hold.
type AgentLoad struct {
	User
	// Open counts the tickets assigned to them now.
	Open int
	// LastAssigned is their latest assignment; zero if never.
	LastAssigned time.Time
}
