package postgres

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"time"

	"github.com/yanit/yanit/store/sqlfile"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/yanit/yanit/store"
)

// queries implements store.Queries over the pool or over a transaction.
type queries struct {
	db dbtx
}

var _ store.Queries = queries{}

// dbtx is what *pgxpool.Pool and pgx.Tx have in common. Begin starts a
// transaction on the pool, or a savepoint inside a transaction.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// atomically runs fn in a transaction of its own: a new one when q is on the
// pool, a savepoint when q is inside a transaction. When fn fails, its writes
// are rolled back and an enclosing transaction stays usable, so fn may end
// on a failed statement, e.g. a unique violation it retries.
func (q queries) atomically(ctx context.Context, fn func(q queries) error) error {
	return pgx.BeginFunc(ctx, q.db, func(tx pgx.Tx) error { return fn(queries{db: tx}) })
}

// scanner is a row to scan: pgx.Row or pgx.CollectableRow.
type scanner interface {
	Scan(dest ...any) error
}

// collect reads every row of a query with scan, closing the rows.
func collect[T any](rows pgx.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) { return scan(row) })
}

// The SQL of the store lives in queries/*.sql, one statement per
// "-- name: Name :kind" header (sqlc's format; the kind is informative), with
// pgx named arguments (@name). Each file ties its queries to Go variables at
// package initialization, so a misspelt name fails every test of the package
// at once; the arguments go through pgx.StrictNamedArgs, so a misspelt
// argument fails its query.

//go:embed queries/*.sql
var queryFiles embed.FS

var sqlText = sqlfile.MustLoad(queryFiles, "queries/*.sql")

// query returns the statement named name in queries/*.sql.
func query(name string) string { return sqlText.Get(name) }

// args are the named arguments of a query; a name the query does not use, or
// a name it uses and args lacks, is an error.
type args = pgx.StrictNamedArgs

// Values as the tables store them: timestamptz, NULL for the zero time;
// jsonb, '{}' for a missing document.

// nullTime is a time as a query argument: NULL when zero.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// timeColumn scans a timestamptz column into a UTC time, NULL into the zero
// time.
type timeColumn struct{ t *time.Time }

// ScanTimestamptz implements pgtype.TimestamptzScanner.
func (c timeColumn) ScanTimestamptz(v pgtype.Timestamptz) error {
	if !v.Valid {
		*c.t = time.Time{}
		return nil
	}
	if v.InfinityModifier != pgtype.Finite {
		return fmt.Errorf("scanning a time: %v is not a finite time", v.InfinityModifier)
	}
	*c.t = v.Time.UTC()
	return nil
}

// jsonColumn scans a jsonb column into a json.RawMessage of its own.
func jsonColumn(raw *json.RawMessage) *[]byte { return (*[]byte)(raw) }

// jsonObject is a JSON document as a query argument: the empty object when
// it is missing.
func jsonObject(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage(`{}`)
	}
	return raw
}

// int64s is a bigint[] as a query argument: an empty array, not NULL, when
// nil.
func int64s(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

// nilIfEmpty turns an empty slice read from a bigint[] column into nil, so
// that a nil slice written reads back nil.
func nilIfEmpty(ids []int64) []int64 {
	if len(ids) == 0 {
		return nil
	}
	return ids
}

// micros is a duration as a query argument, in whole microseconds, the
// precision of an interval.
func micros(d time.Duration) int64 {
	return d.Microseconds()
}
