package sqlite

import (
	"database/sql"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/yanit/yanit/store"
)

// interpretError maps what the driver reports to the store's sentinels, so
// that callers branch on store.ErrNotFound and store.ErrConflict whatever the
// database. It is the one place where that mapping happens; other errors
// pass through unchanged.
func interpretError(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		// A write that would make two records claim one identity.
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		// A write naming a record that does not exist, e.g. a message for
		// a missing conversation.
		return fmt.Errorf("%w: a referenced record is missing: %w", store.ErrNotFound, err)
	}
	return err
}
