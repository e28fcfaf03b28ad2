package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/yanit/yanit/store"
)

var (
	sqlPutToolSet    = query("PutToolSet")
	sqlListToolSets  = query("ListToolSets")
	sqlDeleteToolSet = query("DeleteToolSet")
)

func scanToolSet(r scanner) (store.ToolSet, error) {
	var s store.ToolSet
	err := r.Scan(&s.Name, &s.Body, timeColumn{&s.CreatedAt}, timeColumn{&s.UpdatedAt})
	return s, err
}

// PutToolSet stores the tool set's body, the YAML as it was sent, under its
// name, replacing the body of a set of that name, which keeps its CreatedAt.
// The name must not be empty.
func (q queries) PutToolSet(ctx context.Context, name string, body []byte) (store.ToolSet, error) {
	var s store.ToolSet
	var err error
	if name == "" {
		err = errors.New("the name is empty")
	} else {
		s, err = scanToolSet(q.db.QueryRowContext(ctx, sqlPutToolSet, sql.Named("name", name),
			sql.Named("body", string(body)), sql.Named("now", unixMicro(now()))))
	}
	if err != nil {
		return store.ToolSet{}, fmt.Errorf("putting tool set %q: %w", name, interpretError(err))
	}
	return s, nil
}

// ListToolSets returns every tool set, by name in byte order.
func (q queries) ListToolSets(ctx context.Context) ([]store.ToolSet, error) {
	rows, err := q.db.QueryContext(ctx, sqlListToolSets)
	ss, err := collect(rows, err, scanToolSet)
	if err != nil {
		return nil, fmt.Errorf("listing tool sets: %w", interpretError(err))
	}
	return ss, nil
}

// DeleteToolSet removes the tool set called name; ErrNotFound when there is
// none.
func (q queries) DeleteToolSet(ctx context.Context, name string) error {
	n, err := rowsAffected(q.db.ExecContext(ctx, sqlDeleteToolSet, sql.Named("name", name)))
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("deleting tool set %q: %w", name, interpretError(err))
	}
	return nil
}
