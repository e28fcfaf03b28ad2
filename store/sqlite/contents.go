package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/yanit/yanit/store"
)

var (
	sqlMessageContents   = query("MessageContents")
	sqlSetMessageContent = query("SetMessageContent")
)

// MessageContents returns the contents of at most limit messages with ids
// above afterID, by id. A transaction holds the write lock from its start,
// so no other writer changes the rows before it ends.
func (q queries) MessageContents(ctx context.Context, afterID int64, limit int) ([]store.MessageContent, error) {
	if limit < 1 || limit > store.MaxContentBatch {
		return nil, fmt.Errorf("listing message contents: limit %d, want 1 to %d", limit, store.MaxContentBatch)
	}
	rows, err := q.db.QueryContext(ctx, sqlMessageContents, sql.Named("after_id", afterID), sql.Named("lim", limit))
	cs, err := collect(rows, err, func(r scanner) (store.MessageContent, error) {
		var c store.MessageContent
		err := r.Scan(&c.ID, &c.Body, jsonColumn{&c.Payload})
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("listing message contents after id %d: %w", afterID, interpretError(err))
	}
	return cs, nil
}

// SetMessageContent replaces the body and the payload of message id; a nil
// payload is the empty object. ErrNotFound when there is no such message.
func (q queries) SetMessageContent(ctx context.Context, id int64, body string, payload json.RawMessage) error {
	n, err := rowsAffected(q.db.ExecContext(ctx, sqlSetMessageContent, sql.Named("id", id), sql.Named("body", body),
		sql.Named("payload", jsonText(payload, "{}")), sql.Named("now", unixMicro(now()))))
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("setting the content of message %d: %w", id, interpretError(err))
	}
	return nil
}
