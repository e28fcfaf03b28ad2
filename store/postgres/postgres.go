package postgres

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxvec "github.com/pgvector/pgvector-go/pgx"

	"github.com/yanit/yanit/store"
)

// Store is the PostgreSQL store: a pgx connection pool with pgvector's types
// registered on every connection. Its Queries run on the pool, one statement
// (or one short transaction) at a time; InTx groups them. It is safe for
// concurrent use.
type Store struct {
	queries
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Minimal pgvector release: 0.7 brought halfvec, sparsevec and the binary
// quantization the knowledge index may use.
const (
	minVectorMajor = 0
	minVectorMinor = 7
)

// Open connects to the PostgreSQL database at dsn (a postgres:// URL or a
// key=value string, as pgx reads them) and returns the store on a connection
// pool. It makes sure the vector extension exists, which pgvector's types
// need before they can be registered, and pings the pool. It neither retries
// (the caller decides on backoff) nor migrates (see Migrate). Its errors
// never show the DSN's password.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx masks the password of a DSN it quotes; scrub covers a DSN too
		// malformed for pgx to find its password.
		return nil, fmt.Errorf("parsing the postgres DSN: %w", scrub(err, dsnPassword(dsn)))
	}
	password := cfg.ConnConfig.Password
	if err := ensureVector(ctx, cfg.ConnConfig.Copy()); err != nil {
		return nil, scrub(err, password)
	}
	cfg.AfterConnect = registerVector
	if !strings.Contains(dsn, "pool_max_conns") {
		// pgxpool's default, max(4, CPUs), queues webhook bursts behind a few
		// connections; requests hold a connection for one short transaction.
		cfg.MaxConns = int32(max(16, 4*runtime.NumCPU()))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the postgres pool: %w", scrub(err, password))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pinging postgres: %w", scrub(err, password))
	}
	return &Store{queries: queries{db: pool}, pool: pool}, nil
}

// ensureVector creates the vector extension, on a connection of its own,
// unless it exists. It is idempotent, needs no privilege when the extension
// exists, and tolerates another process creating it at the same moment.
func ensureVector(ctx context.Context, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connecting to postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	_, err = conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS vector")
	switch pgCode(err) {
	case "":
		if err != nil {
			return fmt.Errorf("creating the vector extension: %w", err)
		}
	case codeUniqueViolation:
		// Another process created it between our check and our insert.
	case codeFeatureNotSupported, codeUndefinedFile:
		return fmt.Errorf("creating the vector extension: pgvector %d.%d+ must be installed on the PostgreSQL server "+
			"(scripts/setup-postgres.sh installs it on Debian and Ubuntu): %w", minVectorMajor, minVectorMinor, err)
	case codeInsufficientPrivilege:
		return fmt.Errorf("creating the vector extension: the role may not; have a superuser run "+
			"CREATE EXTENSION vector in this database once: %w", err)
	default:
		return fmt.Errorf("creating the vector extension: %w", err)
	}

	var version string
	if err := conn.QueryRow(ctx, "SELECT extversion FROM pg_extension WHERE extname = 'vector'").Scan(&version); err != nil {
		return fmt.Errorf("reading the vector extension's version: %w", err)
	}
	if !vectorVersionOK(version) {
		return fmt.Errorf("pgvector %s is installed; yanit needs %d.%d+: install a newer pgvector "+
			"(scripts/setup-postgres.sh), then run ALTER EXTENSION vector UPDATE", version, minVectorMajor, minVectorMinor)
	}
	return nil
}

// vectorVersionOK reports whether a pgvector version ("0.8.0") is at least
// minVectorMajor.minVectorMinor.
func vectorVersionOK(version string) bool {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return major > minVectorMajor || major == minVectorMajor && minor >= minVectorMinor
}

// registerVector registers pgvector's types on a new connection of the pool.
func registerVector(ctx context.Context, conn *pgx.Conn) error {
	if err := pgxvec.RegisterTypes(ctx, conn); err != nil {
		return fmt.Errorf("registering pgvector types (is the vector extension's schema on the search_path?): %w", err)
	}
	return nil
}

// dsnPassword returns the password written in a postgres:// DSN, if it can
// tell, so that it can be scrubbed from an error about the DSN.
func dsnPassword(dsn string) string {
	rest, ok := strings.CutPrefix(dsn, "postgres://")
	if !ok {
		rest, ok = strings.CutPrefix(dsn, "postgresql://")
	}
	if !ok {
		return ""
	}
	// The user info ends at the last @ before the query; a password may
	// hold an unescaped @ of its own.
	authority, _, _ := strings.Cut(rest, "?")
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return ""
	}
	_, password, _ := strings.Cut(authority[:at], ":")
	return password
}

// Pool returns the store's connection pool, for the packages that run their
// own SQL on the same database (e.g. the knowledge index). The store owns
// it: Close closes it.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// InTx runs fn in one transaction, committed when fn returns nil and rolled
// back when it returns an error, which InTx returns as is, or panics. The
// Queries fn receives must not be used after fn returns.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Queries) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	// Rolling back a committed transaction does nothing; after an error or
	// a panic of fn, this rolls back, even when ctx is done. Should the
	// rollback fail, pgx closes the connection, which ends the transaction.
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(queries{db: tx}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing transaction: %w", interpretError(err))
	}
	return nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("pinging postgres: %w", err)
	}
	return nil
}

// Dialect returns "postgres".
func (s *Store) Dialect() string { return "postgres" }

// Close closes the pool, waiting for the connections in use to be released.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}
