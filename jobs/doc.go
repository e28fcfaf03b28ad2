// Package jobs is yanit's durable background work: the Queue storage
// contract (implemented by store/postgres and store/sqlite) and the Runner
// that claims jobs and runs their handlers.
//
// Guarantees, on both stores and across any number of runners and processes
// sharing one database:
//   - a job survives restarts: it is a row until completed or discarded, and a
//     job whose worker died is claimed again once its lease expires;
//   - jobs with the same non-empty Key (yanit uses the conversation) run one
//     at a time, in enqueue order; a job waiting for its retry holds back the
//     later jobs of its key;
//   - a handler runs at least once; handlers make their effects idempotent
//     (yanit's turn handler records what it consumed in the same transaction
//     as what it produced).
//
// A worker keeps its leases with heartbeats at a third of the lease; if it
// cannot reach the database for a whole lease, another worker may take its
// job, and the old worker's Complete fails with ErrLeaseLost.
package jobs
