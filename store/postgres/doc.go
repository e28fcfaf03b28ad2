// Package postgres is yanit's production store: store.Store on PostgreSQL
// 15+ with pgvector 0.7+, through a pgx connection pool.
//
// It owns the schema (versioned, forward-only goose migrations in
// migrations/, embedded and applied by Migrate, never by Open) and the SQL
// of every store operation (queries/*.sql, sqlc's layout, with pgx named
// arguments). Open makes sure the vector extension exists and registers
// pgvector's types on every connection of the pool, so that later packages
// can run vector queries on Pool. Tables are unqualified: they live in the
// first schema of the connection's search_path, which is how
// store/postgres/pgtest gives every test a schema of its own.
//
// Errors wrap once per operation with what was being done; pgx.ErrNoRows
// and the server's error codes are mapped to store.ErrNotFound and
// store.ErrConflict in one place, interpretError. An inbound message seen
// before is store.ErrDuplicate, without aborting an enclosing transaction.
//
// Concurrency: a Store is safe for concurrent use, by goroutines and by
// processes sharing the database. Every operation is one statement or one
// short transaction (a savepoint inside InTx), and the races the contracts
// name are settled by the database: unique indexes decide which racing
// insert wins (contacts, the one open conversation, a message's channel id),
// a conditional UPDATE never downgrades a message status, and the job queue
// claims with FOR UPDATE SKIP LOCKED. The queue keeps one job per key at a
// time, in ID order, across processes; jobs.go explains why, and the one
// cost: Enqueue of a keyed job holds a transaction-scoped advisory lock on
// its key until the enclosing transaction ends, so a transaction should
// enqueue its keyed jobs last and end soon after. The Queries that InTx hands its callback
// belong to that callback's goroutine and must not escape it. Migrate takes
// a session advisory lock per schema, so processes may migrate at once.
package postgres
