package postgres

import (
	"context"
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
// It is one statement (INSERT … ON CONFLICT), so racing puts of one name
// both succeed and the last one's body stays. The name must not be empty,
// and the body, a text column, must be UTF-8 without NUL bytes.
func (q queries) PutToolSet(ctx context.Context, name string, body []byte) (store.ToolSet, error) {
	var s store.ToolSet
	var err error
	if name == "" {
		err = errors.New("the name is empty")
	} else {
		s, err = scanToolSet(q.db.QueryRow(ctx, sqlPutToolSet, args{"name": name, "body": string(body)}))
	}
	if err != nil {
		return store.ToolSet{}, fmt.Errorf("putting tool set %q: %w", name, interpretError(err))
	}
	return s, nil
}

// ListToolSets returns every tool set, by name in byte order.
func (q queries) ListToolSets(ctx context.Context) ([]store.ToolSet, error) {
	rows, err := q.db.Query(ctx, sqlListToolSets)
	ss, err := collect(rows, err, scanToolSet)
	if err != nil {
		return nil, fmt.Errorf("listing tool sets: %w", interpretError(err))
	}
	return ss, nil
}

// DeleteToolSet removes the tool set called name; ErrNotFound when there is
// none.
func (q queries) DeleteToolSet(ctx context.Context, name string) error {
	tag, err := q.db.Exec(ctx, sqlDeleteToolSet, args{"name": name})
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("deleting tool set %q: %w", name, interpretError(err))
	}
	return nil
}
