package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/yanit/yanit/store"
)

// Store is yanit's embedded store: one SQLite database file. It is safe for
// concurrent use, and several processes may open the same file.
type Store struct {
	queries
	db         *sql.DB
	migrations *goose.Provider
}

var _ store.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// busyTimeout is how long a connection waits for another to release the
// write lock before its statement fails with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// Open opens the database file at path, creating it and its parent
// directories when they are missing. It does not migrate: call Migrate.
func Open(ctx context.Context, path string) (*Store, error) {
	s, err := open(ctx, path, embeddedMigrations())
	if err != nil {
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}
	return s, nil
}

// embeddedMigrations returns migrations/*.sql at the root of a file system,
// the way goose reads them.
func embeddedMigrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // "migrations" is a valid path: fs.Sub cannot fail
	}
	return sub
}

// open opens the store at path with the migrations at the root of
// migrations.
func open(ctx context.Context, path string, migrations fs.FS) (*Store, error) {
	if path == "" {
		return nil, errors.New("the path is empty")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("creating the directory: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, err
	}
	// Readers run in parallel under WAL; writers queue on the write lock.
	// Idle connections are kept, since opening one runs the pragmas again.
	conns := max(4, runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	provider, err := goose.NewProvider(goose.DialectSQLite3, db, migrations,
		goose.WithDisableGlobalRegistry(true), // only this package's migrations
		goose.WithLogger(goose.NopLogger()))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("loading migrations: %w", err)
	}
	return &Store{queries: queries{db: db}, db: db, migrations: provider}, nil
}

// dsn is the modernc.org/sqlite data source name of the file at abs, a
// "file:" URI so that any character may appear in the path. Each connection
// of the pool applies its settings:
//   - busy_timeout: wait for the write lock rather than fail at once;
//   - journal_mode WAL: readers never block the writer nor wait for it;
//   - synchronous FULL: a commit is fsynced to the WAL before it returns,
//     so it survives a kill -9, and a power loss on a disk that honours
//     fsync;
//   - foreign_keys: references are enforced;
//   - _txlock immediate: BEGIN takes the write lock, so a transaction that
//     reads then writes never fails to upgrade its lock (SQLITE_BUSY) and
//     never writes from a stale read.
func dsn(abs string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter: file:///C:/…
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", Path: p, RawQuery: q.Encode()}
	return u.String()
}

// Migrate applies the pending migrations, forward only. Processes that
// migrate one file at the same time all succeed: each migration runs in a
// transaction holding the write lock, and a process that finds a migration
// applied by another under its feet (its own attempt fails on the tables the
// other created) checks again and goes on.
func (s *Store) Migrate(ctx context.Context) error {
	const attempts = 5
	var err error
	for i := range attempts {
		if _, err = s.migrations.Up(ctx); err == nil {
			return nil
		}
		if pending, perr := s.migrations.HasPending(ctx); perr == nil && !pending {
			return nil
		}
		if i == attempts-1 {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("migrating: %w", errors.Join(err, ctx.Err()))
		case <-time.After(time.Duration(i+1) * 50 * time.Millisecond):
		}
	}
	return fmt.Errorf("migrating: %w", err)
}

// MigrationStatus reports the newest applied migration version and the
// newest version this build knows.
func (s *Store) MigrationStatus(ctx context.Context) (current, latest int64, err error) {
	current, latest, err = s.migrations.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("reading migration status: %w", err)
	}
	return current, latest, nil
}

// InTx runs fn in one transaction, which holds the database's write lock
// from its start: other writers, in this process or another, wait for it.
// The transaction commits when fn returns nil; it rolls back when fn returns
// an error, which InTx returns as it is, or panics. fn must use tx only, not
// the Store: a write through the Store would wait for tx's lock.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Queries) error) error {
	return inTx(ctx, s.db, func(q queries) error { return fn(q) })
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("pinging sqlite store: %w", err)
	}
	return nil
}

// Dialect returns "sqlite".
func (s *Store) Dialect() string { return "sqlite" }

// Close closes the database. The last connection to close checkpoints the
// WAL into the database file.
func (s *Store) Close() error {
	return s.db.Close()
}
