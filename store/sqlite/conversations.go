package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/yanit/yanit/store"
)

var (
	sqlGetConversation          = query("GetConversation")
	sqlGetOpenConversation      = query("GetOpenConversation")
	sqlInsertConversation       = query("InsertConversation")
	sqlListConversations        = query("ListConversations")
	sqlListContactConversations = query("ListContactConversations")
	sqlSetConversationState     = query("SetConversationState")
	sqlCloseConversation        = query("CloseConversation")
	sqlConversationExists       = query("ConversationExists")
)

// ListConversations returns this many conversations when the filter sets no
// limit, and never more than the maximum.
const (
	defaultConversationListLimit = 50
	maxConversationListLimit     = 500
)

func scanConversation(r scanner) (store.Conversation, error) {
	var c store.Conversation
	err := r.Scan(&c.ID, &c.ContactID, &c.PhoneNumberID, &c.Status, &c.Mode, jsonColumn{&c.State},
		timeColumn{&c.CreatedAt}, timeColumn{&c.UpdatedAt}, timeColumn{&c.ClosedAt})
	return c, err
}

// OpenConversation returns the open conversation of the contact on the
// number, creating it in bot mode with an empty state when there is none.
func (q queries) OpenConversation(ctx context.Context, contactID int64, phoneNumberID string) (store.Conversation, error) {
	open := func(q queries) (store.Conversation, error) {
		return scanConversation(q.db.QueryRowContext(ctx, sqlGetOpenConversation,
			sql.Named("contact_id", contactID), sql.Named("phone_number_id", phoneNumberID)))
	}
	// Most calls find the conversation open: read it without the write lock.
	conv, err := open(q)
	if errors.Is(err, sql.ErrNoRows) {
		// Look again holding the write lock, so that two callers create one
		// conversation between them.
		err = q.atomically(ctx, func(q queries) error {
			var err error
			conv, err = open(q)
			if errors.Is(err, sql.ErrNoRows) {
				conv, err = scanConversation(q.db.QueryRowContext(ctx, sqlInsertConversation,
					sql.Named("contact_id", contactID), sql.Named("phone_number_id", phoneNumberID),
					sql.Named("now", unixMicro(now()))))
			}
			return err
		})
	}
	if err != nil {
		return store.Conversation{}, fmt.Errorf("opening conversation of contact %d on %s: %w",
			contactID, phoneNumberID, interpretError(err))
	}
	return conv, nil
}

// GetConversation returns the conversation with the id.
func (q queries) GetConversation(ctx context.Context, id int64) (store.Conversation, error) {
	c, err := scanConversation(q.db.QueryRowContext(ctx, sqlGetConversation, sql.Named("id", id)))
	if err != nil {
		return store.Conversation{}, fmt.Errorf("getting conversation %d: %w", id, interpretError(err))
	}
	return c, nil
}

// ListConversations returns the conversations matching f, most recently
// updated first.
func (q queries) ListConversations(ctx context.Context, f store.ConversationFilter) ([]store.Conversation, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = defaultConversationListLimit
	}
	limit = min(limit, maxConversationListLimit)
	text := sqlListConversations
	if f.ContactID != 0 {
		text = sqlListContactConversations
	}
	rows, err := q.db.QueryContext(ctx, text, sql.Named("contact_id", f.ContactID),
		sql.Named("status", f.Status), sql.Named("limit", limit))
	cs, err := collect(rows, err, scanConversation)
	if err != nil {
		return nil, fmt.Errorf("listing conversations: %w", interpretError(err))
	}
	return cs, nil
}

// SetConversationState replaces the mode and the state of an open
// conversation; a nil state is the empty object.
func (q queries) SetConversationState(ctx context.Context, id int64, mode string, state json.RawMessage) error {
	n, err := rowsAffected(q.db.ExecContext(ctx, sqlSetConversationState, sql.Named("id", id),
		sql.Named("mode", mode), sql.Named("state", jsonText(state, "{}")), sql.Named("now", unixMicro(now()))))
	if err == nil && n == 0 {
		err = fmt.Errorf("no open conversation: %w", store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("setting state of conversation %d: %w", id, interpretError(err))
	}
	return nil
}

// CloseConversation closes an open conversation; closing a closed one
// changes nothing. ErrNotFound when the conversation is missing.
func (q queries) CloseConversation(ctx context.Context, id int64) error {
	n, err := rowsAffected(q.db.ExecContext(ctx, sqlCloseConversation, sql.Named("id", id),
		sql.Named("now", unixMicro(now()))))
	if err == nil && n == 0 {
		var exists bool
		err = q.db.QueryRowContext(ctx, sqlConversationExists, sql.Named("id", id)).Scan(&exists)
		if err == nil && !exists {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("closing conversation %d: %w", id, interpretError(err))
	}
	return nil
}
