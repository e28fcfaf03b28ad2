package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/yanit/yanit/store/sqlfile"

	"github.com/yanit/yanit/store"
)

// queries implements store.Queries over a connection pool or a transaction.
type queries struct {
	db dbtx
}

var _ store.Queries = queries{}

// dbtx is what *sql.DB and *sql.Tx have in common.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// atomically runs fn in one transaction: a new one when q is on the pool, or
// the enclosing one. Operations of several statements go through it, so that
// they are atomic and, since every transaction takes the write lock at BEGIN,
// isolated from other writers, in this process or another.
func (q queries) atomically(ctx context.Context, fn func(q queries) error) error {
	if db, ok := q.db.(*sql.DB); ok {
		return inTx(ctx, db, fn)
	}
	return fn(q)
}

// inTx runs fn in a new transaction, committed when fn returns nil and rolled
// back otherwise, including when fn panics or calls runtime.Goexit.
func inTx(ctx context.Context, db *sql.DB, fn func(q queries) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	done := false
	defer func() {
		if !done { // fn panicked: roll back and let the panic go on
			_ = tx.Rollback()
		}
	}()
	err = fn(queries{db: tx})
	done = true
	if err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("rolling back: %w", rbErr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing transaction: %w", err)
	}
	return nil
}

// now is the clock of every time the store sets itself.
func now() time.Time { return time.Now().UTC() }

// The SQL of the store lives in queries/*.sql, one statement per
// "-- name: Name :kind" header (sqlc's format; the kind is informative).
// Each file ties its queries to Go variables at package initialization, so a
// misspelt name fails every test of the package at once.

//go:embed queries/*.sql
var queryFiles embed.FS

var sqlText = sqlfile.MustLoad(queryFiles, "queries/*.sql")

// query returns the statement named name in queries/*.sql.
func query(name string) string { return sqlText.Get(name) }

// Values the tables store as they are: times as INTEGER unix microseconds,
// NULL for the zero time; JSON as TEXT.

// unixMicro is a time as a query argument.
func unixMicro(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// timeColumn scans unixMicro's column into a UTC time.
type timeColumn struct{ t *time.Time }

func (c timeColumn) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMicro(x).UTC()
	default:
		return fmt.Errorf("scanning a time: got %T, want an integer", v)
	}
	return nil
}

// jsonText is a JSON document as a query argument; empty stands for a
// missing one.
func jsonText(raw json.RawMessage, empty string) string {
	if len(raw) == 0 {
		return empty
	}
	return string(raw)
}

// jsonColumn scans a JSON column into a json.RawMessage of its own.
type jsonColumn struct{ raw *json.RawMessage }

func (c jsonColumn) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*c.raw = nil
	case string:
		*c.raw = json.RawMessage(x)
	case []byte:
		*c.raw = append(json.RawMessage(nil), x...)
	default:
		return fmt.Errorf("scanning JSON: got %T, want text", v)
	}
	return nil
}

// jsonArray encodes a list of ids or names as one query argument that SQL
// reads with json_each.
func jsonArray[T int64 | string](xs []T) string {
	if len(xs) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(xs) // numbers and strings always encode
	return string(b)
}

// idsColumn scans a JSON array of ids.
type idsColumn struct{ ids *[]int64 }

func (c idsColumn) Scan(v any) error {
	var raw json.RawMessage
	if err := (jsonColumn{&raw}).Scan(v); err != nil {
		return err
	}
	*c.ids = nil
	if len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, c.ids)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// collect scans every row of a query with scan.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// rowsAffected returns the number of rows a statement changed.
func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
