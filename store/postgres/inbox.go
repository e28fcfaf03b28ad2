package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/yanit/yanit/store"
)

var (
	sqlInsertTicket     = query("InsertTicket")
	sqlGetTicket        = query("GetTicket")
	sqlOpenTicketOf     = query("OpenTicketOf")
	sqlListTickets      = query("ListTickets")
	sqlClaimTicket      = query("ClaimTicket")
	sqlTransferTicket   = query("TransferTicket")
	sqlCloseTicket      = query("CloseTicket")
	sqlRecordFirstReply = query("RecordFirstReply")
	sqlSetTicketCSAT    = query("SetTicketCSAT")
	sqlAddTicketEvent   = query("AddTicketEvent")
	sqlListTicketEvents = query("ListTicketEvents")
	sqlTouchPresence    = query("TouchPresence")
	sqlOnlineAgents     = query("OnlineAgents")
)

func scanTicket(r scanner) (store.Ticket, error) {
	var t store.Ticket
	var assignee *int64
	err := r.Scan(&t.ID, &t.ConversationID, &t.ContactID, &t.Status, &t.Team, &t.Priority, &t.Reason, jsonColumn(&t.Pack),
		&assignee, timeColumn{&t.CreatedAt}, timeColumn{&t.AssignedAt}, timeColumn{&t.FirstReplyAt}, timeColumn{&t.ClosedAt},
		timeColumn{&t.UpdatedAt}, &t.CSAT)
	if assignee != nil {
		t.AssigneeID = *assignee
	}
	return t, err
}

func scanTicketEvent(r scanner) (store.TicketEvent, error) {
	var e store.TicketEvent
	err := r.Scan(&e.ID, &e.TicketID, &e.UserID, &e.Kind, jsonColumn(&e.Data), timeColumn{&e.CreatedAt})
	return e, err
}

// OpenTicket stores a queued ticket unless the conversation has an open one,
// which it returns instead.
func (q queries) OpenTicket(ctx context.Context, t store.Ticket) (store.Ticket, bool, error) {
	var got store.Ticket
	created := false
	err := q.atomically(ctx, func(q queries) error {
		var err error
		got, err = scanTicket(q.db.QueryRow(ctx, sqlInsertTicket, args{"conversation_id": t.ConversationID,
			"contact_id": t.ContactID, "team": t.Team, "priority": t.Priority, "reason": t.Reason, "pack": jsonObject(t.Pack)}))
		if err == nil {
			created = true
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		got, err = scanTicket(q.db.QueryRow(ctx, sqlOpenTicketOf, args{"conversation_id": t.ConversationID}))
		return err
	})
	if err != nil {
		return store.Ticket{}, false, fmt.Errorf("opening a ticket of conversation %d: %w", t.ConversationID, interpretError(err))
	}
	return got, created, nil
}

// GetTicket returns a ticket.
func (q queries) GetTicket(ctx context.Context, id int64) (store.Ticket, error) {
	t, err := scanTicket(q.db.QueryRow(ctx, sqlGetTicket, args{"id": id}))
	if err != nil {
		return store.Ticket{}, fmt.Errorf("getting ticket %d: %w", id, interpretError(err))
	}
	return t, nil
}

// OpenTicketOf returns the open ticket of a conversation.
func (q queries) OpenTicketOf(ctx context.Context, conversationID int64) (store.Ticket, error) {
	t, err := scanTicket(q.db.QueryRow(ctx, sqlOpenTicketOf, args{"conversation_id": conversationID}))
	if err != nil {
		return store.Ticket{}, fmt.Errorf("getting the open ticket of conversation %d: %w", conversationID, interpretError(err))
	}
	return t, nil
}

// ListTickets returns the tickets passing f in queue order.
func (q queries) ListTickets(ctx context.Context, f store.TicketFilter) ([]store.Ticket, error) {
	limit, err := f.CheckLimit()
	var ts []store.Ticket
	if err == nil {
		rows, qerr := q.db.Query(ctx, sqlListTickets, args{"statuses": texts(f.Statuses), "teams": texts(f.Teams),
			"assignee_id": f.AssigneeID, "conversation_id": f.ConversationID, "contact_id": f.ContactID,
			"newest": f.NewestFirst, "lim": limit})
		ts, err = collect(rows, qerr, scanTicket)
	}
	if err != nil {
		return nil, fmt.Errorf("listing tickets: %w", interpretError(err))
	}
	return ts, nil
}

// ticketChange runs a statement that changes an open ticket and returns
// it; no row means the ticket is missing (ErrNotFound) or not open
// (ErrConflict).
func (q queries) ticketChange(ctx context.Context, what string, id int64, sql string, a args) (store.Ticket, error) {
	t, err := scanTicket(q.db.QueryRow(ctx, sql, a))
	if errors.Is(err, pgx.ErrNoRows) {
		cur, gerr := scanTicket(q.db.QueryRow(ctx, sqlGetTicket, args{"id": id}))
		switch {
		case gerr != nil:
			err = gerr
		default:
			err = fmt.Errorf("%w: the ticket is %s", store.ErrConflict, cur.Status)
		}
	}
	if err != nil {
		return store.Ticket{}, fmt.Errorf("%s ticket %d: %w", what, id, interpretError(err))
	}
	return t, nil
}

// ClaimTicket assigns a queued ticket to an agent; one of racing claims wins.
func (q queries) ClaimTicket(ctx context.Context, id, userID int64, at time.Time) (store.Ticket, error) {
	return q.ticketChange(ctx, "claiming", id, sqlClaimTicket, args{"id": id, "user_id": userID, "at": at})
}

// TransferTicket moves an open ticket to a team, or to an agent of it.
func (q queries) TransferTicket(ctx context.Context, id int64, team string, assigneeID int64, at time.Time) (store.Ticket, error) {
	return q.ticketChange(ctx, "transferring", id, sqlTransferTicket, args{"id": id, "team": team, "assignee_id": assigneeID, "at": at})
}

// CloseTicket ends an open ticket as resolved or returned.
func (q queries) CloseTicket(ctx context.Context, id int64, status string, at time.Time) (store.Ticket, error) {
	if status != store.TicketResolved && status != store.TicketReturned {
		return store.Ticket{}, fmt.Errorf("closing ticket %d: status %q, want resolved or returned", id, status)
	}
	return q.ticketChange(ctx, "closing", id, sqlCloseTicket, args{"id": id, "status": status, "at": at})
}

// RecordFirstReply sets the time of the first agent reply, once.
func (q queries) RecordFirstReply(ctx context.Context, id int64, at time.Time) error {
	tag, err := q.db.Exec(ctx, sqlRecordFirstReply, args{"id": id, "at": at})
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("recording the first reply of ticket %d: %w", id, interpretError(err))
	}
	return nil
}

// SetTicketCSAT records the rating of a closed ticket.
func (q queries) SetTicketCSAT(ctx context.Context, id int64, score int) error {
	var err error
	if score < 1 || score > 5 {
		err = fmt.Errorf("score %d: want 1 to 5", score)
	} else {
		var tag interface{ RowsAffected() int64 }
		tag, err = q.db.Exec(ctx, sqlSetTicketCSAT, args{"id": id, "score": score})
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("%w: no closed ticket %d", store.ErrNotFound, id)
		}
	}
	if err != nil {
		return fmt.Errorf("rating ticket %d: %w", id, interpretError(err))
	}
	return nil
}

// AddTicketEvent appends to a ticket's history.
func (q queries) AddTicketEvent(ctx context.Context, e store.TicketEvent) (store.TicketEvent, error) {
	got, err := scanTicketEvent(q.db.QueryRow(ctx, sqlAddTicketEvent, args{"ticket_id": e.TicketID, "user_id": e.UserID,
		"kind": e.Kind, "data": jsonObject(e.Data)}))
	if err != nil {
		return store.TicketEvent{}, fmt.Errorf("adding a %s event to ticket %d: %w", e.Kind, e.TicketID, interpretError(err))
	}
	return got, nil
}

// ListTicketEvents returns a ticket's history, oldest first.
func (q queries) ListTicketEvents(ctx context.Context, ticketID int64) ([]store.TicketEvent, error) {
	rows, err := q.db.Query(ctx, sqlListTicketEvents, args{"ticket_id": ticketID})
	es, err := collect(rows, err, scanTicketEvent)
	if err != nil {
		return nil, fmt.Errorf("listing the events of ticket %d: %w", ticketID, interpretError(err))
	}
	return es, nil
}

// TouchPresence records when the agent was last seen.
func (q queries) TouchPresence(ctx context.Context, userID int64, at time.Time) error {
	if _, err := q.db.Exec(ctx, sqlTouchPresence, args{"user_id": userID, "at": at}); err != nil {
		return fmt.Errorf("recording the presence of user %d: %w", userID, interpretError(err))
	}
	return nil
}

// OnlineAgents returns the team's agents seen since since, with their load.
func (q queries) OnlineAgents(ctx context.Context, team string, since time.Time) ([]store.AgentLoad, error) {
	rows, err := q.db.Query(ctx, sqlOnlineAgents, args{"team": team, "since": since})
	out, err := collect(rows, err, func(r scanner) (store.AgentLoad, error) {
		var a store.AgentLoad
		err := r.Scan(append(userDest(&a.User), &a.Open, timeColumn{&a.LastAssigned})...)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("listing the online agents of team %q: %w", team, interpretError(err))
	}
	return out, nil
}
