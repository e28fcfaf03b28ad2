package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/yanit/yanit/store"
)

var (
	sqlInsertOpenConversation = query("InsertOpenConversation")
	sqlGetOpenConversation    = query("GetOpenConversation")
	sqlGetConversation        = query("GetConversation")
	sqlListConversations      = query("ListConversations")
	sqlSetConversationState   = query("SetConversationState")
	sqlCloseConversation      = query("CloseConversation")
)

// Limits of ListConversations.
const (
	defaultListLimit = 50
	maxListLimit     = 500
)

// openTries bounds how often OpenConversation looks again for the open
// conversation that kept it from creating one, in case that one was closed
// in between.
const openTries = 3

func scanConversation(r scanner) (store.Conversation, error) {
	var c store.Conversation
	err := r.Scan(&c.ID, &c.ContactID, &c.PhoneNumberID, &c.Status, &c.Mode, jsonColumn(&c.State),
		timeColumn{&c.CreatedAt}, timeColumn{&c.UpdatedAt}, timeColumn{&c.ClosedAt})
	return c, err
}

// OpenConversation returns the open conversation of the contact on the
// number, creating it, open in bot mode with the state {}, when there is
// none. Two racing calls get the same conversation: the insert does nothing
// when one is open (the unique index conversations_one_open decides), and the
// statement after it, with a snapshot of its own, reads the one that is.
func (q queries) OpenConversation(ctx context.Context, contactID int64, phoneNumberID string) (store.Conversation, error) {
	a := args{"contact_id": contactID, "phone_number_id": phoneNumberID}
	// Most messages belong to a conversation already open: look first.
	c, err := scanConversation(q.db.QueryRow(ctx, sqlGetOpenConversation, a))
	for try := 1; errors.Is(err, pgx.ErrNoRows) && try <= openTries; try++ {
		c, err = scanConversation(q.db.QueryRow(ctx, sqlInsertOpenConversation, a))
		if !errors.Is(err, pgx.ErrNoRows) {
			break
		}
		c, err = scanConversation(q.db.QueryRow(ctx, sqlGetOpenConversation, a))
		if !errors.Is(err, pgx.ErrNoRows) {
			break
		}
	}
	if err != nil {
		return store.Conversation{}, fmt.Errorf("opening conversation of contact %d on %s: %w",
			contactID, phoneNumberID, interpretError(err))
	}
	return c, nil
}

// GetConversation returns the conversation with the id; ErrNotFound when
// there is none.
func (q queries) GetConversation(ctx context.Context, id int64) (store.Conversation, error) {
	c, err := scanConversation(q.db.QueryRow(ctx, sqlGetConversation, args{"id": id}))
	if err != nil {
		return store.Conversation{}, fmt.Errorf("getting conversation %d: %w", id, interpretError(err))
	}
	return c, nil
}

// ListConversations returns the conversations matching f, the most recently
// updated first: at most f.Limit, 50 when it is zero, never more than 500.
func (q queries) ListConversations(ctx context.Context, f store.ConversationFilter) ([]store.Conversation, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxListLimit)
	// Unprepared (QueryExecModeExec), the statement is planned for the
	// values at hand: see ListConversations in queries/conversations.sql.
	rows, err := q.db.Query(ctx, sqlListConversations, pgx.QueryExecModeExec,
		args{"contact_id": f.ContactID, "status": f.Status, "limit": limit})
	cs, err := collect(rows, err, scanConversation)
	if err != nil {
		return nil, fmt.Errorf("listing conversations: %w", interpretError(err))
	}
	return cs, nil
}

// SetConversationState replaces the mode and the state of an open
// conversation; a nil state is {}. ErrNotFound when the conversation is
// missing or closed.
func (q queries) SetConversationState(ctx context.Context, id int64, mode string, state json.RawMessage) error {
	tag, err := q.db.Exec(ctx, sqlSetConversationState, args{"id": id, "mode": mode, "state": jsonObject(state)})
	if err == nil && tag.RowsAffected() == 0 {
		err = fmt.Errorf("no open conversation: %w", store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("setting state of conversation %d: %w", id, interpretError(err))
	}
	return nil
}

// CloseConversation closes the conversation; closing a closed one changes
// nothing. ErrNotFound when the conversation is missing.
func (q queries) CloseConversation(ctx context.Context, id int64) error {
	tag, err := q.db.Exec(ctx, sqlCloseConversation, args{"id": id})
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("closing conversation %d: %w", id, interpretError(err))
	}
	return nil
}
