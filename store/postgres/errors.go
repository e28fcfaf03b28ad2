package postgres

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/yanit/yanit/store"
)

// SQLSTATE codes the store branches on.
const (
	codeUniqueViolation       = "23505"
	codeForeignKeyViolation   = "23503"
	codeSerializationFailure  = "40001"
	codeDeadlockDetected      = "40P01"
	codeFeatureNotSupported   = "0A000" // CREATE EXTENSION of one not installed (PostgreSQL 15+)
	codeUndefinedFile         = "58P01" // the same, in older releases
	codeInsufficientPrivilege = "42501"
)

// interpretError maps what pgx and the server report to the store's
// sentinels, so that callers branch on store.ErrNotFound and
// store.ErrConflict whatever the database. It is the one place where that
// mapping happens; other errors pass through unchanged.
func interpretError(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.Code {
	case codeUniqueViolation:
		// A write that would make two records claim one identity.
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	case codeForeignKeyViolation:
		// A write naming a record that does not exist, e.g. a message for
		// a missing conversation.
		return fmt.Errorf("%w: a referenced record is missing: %w", store.ErrNotFound, err)
	case codeSerializationFailure, codeDeadlockDetected:
		// A transaction that lost a race; the caller may run it again.
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	}
	return err
}

// pgCode returns the SQLSTATE of err, or "" when the server did not report
// one.
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// scrubbedError hides a secret, the password of a DSN, in the message of the
// error it wraps. pgx already leaves passwords out of its messages; this is
// the belt to its braces, for whatever else might quote a connection string.
type scrubbedError struct {
	err    error
	secret string
}

func (e scrubbedError) Error() string { return strings.ReplaceAll(e.err.Error(), e.secret, "xxxxx") }
func (e scrubbedError) Unwrap() error { return e.err }

// scrub wraps err so that its message never shows secret.
func scrub(err error, secret string) error {
	if err == nil || secret == "" {
		return err
	}
	return scrubbedError{err: err, secret: secret}
}
