package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// The schema's migrations: versioned, forward-only goose SQL files.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// How long Migrate waits for another migrator of the same schema: it polls
// the advisory lock every second, for up to ten minutes.
const (
	migrateLockPollSeconds = 1
	migrateLockPolls       = 600
)

// Migrate applies the pending migrations, forward only, each in its own
// transaction. Migrators of one schema take turns on a session advisory lock
// keyed by the schema, so that processes starting at once do not trip over
// each other; the ones that come second find nothing left to do.
func (s *Store) Migrate(ctx context.Context) error {
	err := s.withProvider(ctx, true, func(p *goose.Provider) error {
		_, err := p.Up(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("migrating postgres: %w", err)
	}
	return nil
}

// MigrationStatus reports the newest applied migration version (0 on an
// empty schema) and the newest version this build knows. It reads without
// waiting for a migrator, and writes nothing.
func (s *Store) MigrationStatus(ctx context.Context) (current, latest int64, err error) {
	err = s.withProvider(ctx, false, func(p *goose.Provider) error {
		sources := p.ListSources()
		if len(sources) == 0 {
			return errors.New("no migrations are embedded")
		}
		latest = sources[len(sources)-1].Version
		// goose creates its version table when it reads versions; an
		// unmigrated schema has none, and is at version 0.
		var migrated bool
		err := s.pool.QueryRow(ctx, `SELECT EXISTS (
			SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1)`,
			goose.DefaultTablename).Scan(&migrated)
		if err != nil || !migrated {
			return err
		}
		current, _, err = p.GetVersions(ctx)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("reading migration status: %w", err)
	}
	return current, latest, nil
}

// withProvider runs fn with a goose provider over the pool, locking when
// locked is set.
func (s *Store) withProvider(ctx context.Context, locked bool, fn func(p *goose.Provider) error) error {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if locked {
		var schema *string
		if err := s.pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return fmt.Errorf("reading the current schema: %w", err)
		}
		if schema == nil {
			return errors.New("no schema of the search_path exists to migrate")
		}
		locker, err := lock.NewPostgresSessionLocker(
			lock.WithLockID(migrateLockID(*schema)),
			lock.WithLockTimeout(migrateLockPollSeconds, migrateLockPolls),
		)
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	// database/sql over the pool: goose's interface. Its connections come
	// from the pool and go back to it (it keeps none idle); closing it
	// leaves the pool open.
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, opts...)
	if err != nil {
		return err
	}
	return fn(p)
}

// migrateLockID is the advisory lock of the migrators of a schema. It is
// per schema, not goose's one lock for the whole database, so that
// installations (or tests) in separate schemas of one database do not wait
// for each other.
func migrateLockID(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("yanit migrate " + schema))
	return int64(h.Sum64())
}
