// Package pgtest gives tests of any package a PostgreSQL database of their
// own: URL names the test server, Require fails or skips a test that cannot
// reach it, NewSchemaDSN makes a fresh, empty schema per test, and NewStore
// opens a migrated store in one.
//
// In CI (CI=true) an unreachable database fails the test: Postgres-backed
// tests never skip there. Elsewhere they skip with a pointer to `make test`,
// which prepares the server (scripts/setup-postgres.sh).
//
// Concurrency: every schema belongs to one test and is dropped at its
// cleanup, so tests using separate schemas may run in parallel, in one
// process or several.
package pgtest
