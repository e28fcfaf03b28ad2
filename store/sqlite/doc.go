// Package sqlite is yanit's embedded default store: store.Store on one
// SQLite file, through modernc.org/sqlite (pure Go, no cgo), so that yanit
// runs with nothing else installed. It owns the file's schema, versioned
// forward-only migrations in migrations/*.sql applied by goose, and its SQL,
// named statements in queries/*.sql; it passes store/storetest like
// store/postgres.
//
// Values: times are INTEGER unix microseconds UTC, NULL for the zero time,
// and read back in UTC; JSON documents, and the id lists of a turn, are TEXT.
//
// Concurrency: a Store is safe for concurrent use, and several processes may
// share one file on one machine (not over a network file system, where
// SQLite's locks do not hold). The file is in WAL mode: readers run in
// parallel and never wait for the writer. There is one writer at a time:
// every transaction begins IMMEDIATE, taking the write lock at BEGIN, and a
// writer waits up to ten seconds for the lock before failing with
// SQLITE_BUSY. Since a transaction holds the lock from its first statement,
// what it reads stays true until it commits, and operations of several
// statements (upserting a contact, opening a conversation) run in one. Claim
// is one statement, so two workers never take one job, whichever processes
// they run in. Commits are synchronous (FULL): a committed write survives a
// killed process and a power loss.
//
// Inside InTx, use only the transaction's Queries: a write through the Store
// itself waits for the transaction's own lock.
package sqlite
