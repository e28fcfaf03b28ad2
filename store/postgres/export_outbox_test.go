package postgres

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/yanit/yanit/store"
)

// CountingQueries returns the queries of s on its pool, counting the
// statements they send (a transaction begun counts as one), and a function
// reading the count.
func CountingQueries(s *Store) (store.Queries, func() int64) {
	db := &countingDB{dbtx: s.pool}
	return queries{db: db}, db.n.Load
}

// countingDB counts the statements sent through it.
type countingDB struct {
	dbtx
	n atomic.Int64
}

func (c *countingDB) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c.n.Add(1)
	return c.dbtx.Exec(ctx, sql, args...)
}

func (c *countingDB) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	c.n.Add(1)
	return c.dbtx.Query(ctx, sql, args...)
}

func (c *countingDB) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c.n.Add(1)
	return c.dbtx.QueryRow(ctx, sql, args...)
}

func (c *countingDB) Begin(ctx context.Context) (pgx.Tx, error) {
	c.n.Add(1)
	return c.dbtx.Begin(ctx)
}
