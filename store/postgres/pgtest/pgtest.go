package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/yanit/yanit/store/postgres"
)

// DefaultURL is the test database of `make test` (scripts/setup-postgres.sh).
const DefaultURL = "postgres://yanit@127.0.0.1:5432/yanit_test?sslmode=disable"

// EnvURL names the environment variable that overrides DefaultURL.
const EnvURL = "YANIT_TEST_DATABASE_URL"

// URL returns the DSN of the test database: $YANIT_TEST_DATABASE_URL, or
// DefaultURL.
func URL() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return DefaultURL
}

// Require checks that the test database answers. When it does not, the test
// fails if the environment has CI=true, and is skipped otherwise.
func Require(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, URL())
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("pgtest: PostgreSQL at %s is unreachable, and Postgres-backed tests must not skip in CI (CI=true): %v",
			redacted(URL()), err)
	}
	t.Skipf("pgtest: skipping: PostgreSQL at %s is unreachable (%v); run `make test`, which prepares it "+
		"with scripts/setup-postgres.sh, or point %s at PostgreSQL 15+ with pgvector 0.7+",
		redacted(URL()), err, EnvURL)
}

// NewSchemaDSN creates an empty schema, t_<random>, in the test database and
// returns URL() with that schema first on the search_path, then public,
// where the vector extension lives. The schema is dropped, with all it
// holds, at the test's cleanup. It calls Require first.
func NewSchemaDSN(t testing.TB) string {
	t.Helper()
	Require(t)
	schema := "t_" + randomHex(8)
	ident := pgx.Identifier{schema}.Sanitize()
	exec(t, "creating test schema", "CREATE SCHEMA "+ident)
	t.Cleanup(func() { exec(t, "dropping test schema", "DROP SCHEMA "+ident+" CASCADE") })
	return withSearchPath(t, URL(), schema+",public")
}

// NewStore opens a migrated store in a new schema (NewSchemaDSN), closed at
// the test's cleanup.
func NewStore(t testing.TB) *postgres.Store {
	t.Helper()
	dsn := NewSchemaDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: opening store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("pgtest: migrating store: %v", err)
	}
	return s
}

// exec runs one statement on a connection of its own to URL().
func exec(t testing.TB, what, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, URL())
	if err != nil {
		t.Errorf("pgtest: %s: %v", what, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Errorf("pgtest: %s: %v", what, err)
	}
}

// withSearchPath returns dsn with the search_path run-time parameter set,
// in the DSN's own syntax: a postgres:// URL or key=value pairs.
func withSearchPath(t testing.TB, dsn, path string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("pgtest: parsing %s: %v", EnvURL, err)
		}
		q := u.Query()
		q.Set("search_path", path)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + path
}

// redacted returns dsn with its password masked, for messages.
func redacted(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return "$" + EnvURL
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b)
}
