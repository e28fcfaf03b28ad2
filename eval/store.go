package eval

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres"
	"github.com/yanit/yanit/store/sqlite"
)

// openStore makes the fresh store of a run, migrated: a SQLite file in a
// new folder, or, with databaseURL, a new schema of that PostgreSQL
// database (so that the run sees nothing else and leaves nothing behind).
// The returned function closes the store and removes what it made.
func openStore(ctx context.Context, databaseURL string) (store.Store, func(), error) {
	if databaseURL == "" {
		dir, err := os.MkdirTemp("", "yanit-eval-")
		if err != nil {
			return nil, nil, fmt.Errorf("making the store's folder: %w", err)
		}
		st, err := sqlite.Open(ctx, filepath.Join(dir, "eval.db"))
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		return migrated(ctx, st, func() { st.Close(); os.RemoveAll(dir) })
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := pgx.Identifier{"yanit_eval_" + hex.EncodeToString(b)}
	exec := func(ctx context.Context, sql string) error {
		conn, err := pgx.Connect(ctx, databaseURL)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec(ctx, "CREATE SCHEMA "+schema.Sanitize()); err != nil {
		return nil, nil, fmt.Errorf("making the run's schema: %w", err)
	}
	drop := func() { _ = exec(context.Background(), "DROP SCHEMA "+schema.Sanitize()+" CASCADE") }
	dsn, err := withSearchPath(databaseURL, schema[0]+",public")
	if err != nil {
		drop()
		return nil, nil, err
	}
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		drop()
		return nil, nil, err
	}
	return migrated(ctx, st, func() { st.Close(); drop() })
}

func migrated(ctx context.Context, st store.Store, cleanup func()) (store.Store, func(), error) {
	if err := st.Migrate(ctx); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("migrating the store: %w", err)
	}
	return st, cleanup, nil
}

// withSearchPath sets the search_path of a PostgreSQL connection string,
// URL or key=value form.
func withSearchPath(dsn, path string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("the database URL: %w", err)
		}
		q := u.Query()
		q.Set("search_path", path)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " search_path=" + path, nil
}
