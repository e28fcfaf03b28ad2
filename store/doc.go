// Package store holds the storage contracts shared by yanit's domains: the
// records every part of the system reads (contacts, conversations, messages,
// turns), the sentinel errors callers branch on, and the Store interface that
// store/postgres and store/sqlite implement. store/storetest is the
// conformance suite both implementations must pass.
//
// Concurrency: a Store is safe for concurrent use. A Tx belongs to the
// goroutine that received it inside InTx and must not escape the callback.
package store
