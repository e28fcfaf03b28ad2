package sqlite

import (
	"context"
	"fmt"

	"github.com/yanit/yanit/store"
)

// AcceptInbound stores an inbound message with its contact, conversation
// and turn job in one transaction (the enclosing one, if any). In-process
// SQLite has no round trips to save: it is the generic sequence.
func (q queries) AcceptInbound(ctx context.Context, p store.InboundParams) (store.Message, error) {
	var m store.Message
	err := q.atomically(ctx, func(q queries) error {
		var err error
		m, err = store.AcceptInbound(ctx, q, p)
		return err
	})
	if err != nil {
		return store.Message{}, fmt.Errorf("accepting inbound message: %w", err)
	}
	return m, nil
}
