package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Job states.
const (
	StateAvailable = "available" // waiting for RunAt; also the state of a job waiting for a retry
	StateRunning   = "running"   // claimed by a worker holding a lease
	StateCompleted = "completed"
	StateDiscarded = "discarded" // failed for good: attempts exhausted or cancelled
)

// ErrLeaseLost is returned when a worker acts on a job it no longer holds:
// its lease expired and another worker may have claimed the job.
var ErrLeaseLost = errors.New("job lease lost")

// Job is one unit of background work.
type Job struct {
	ID          int64
	Kind        string
	Key         string // jobs with the same non-empty key run one at a time, in ID order
	Payload     json.RawMessage
	State       string
	Attempt     int // attempts started, including the current one
	MaxAttempts int
	RunAt       time.Time
	LockedBy    string
	LeaseUntil  time.Time
	LastError   string
	CreatedAt   time.Time
}

// EnqueueParams describe a job to add.
type EnqueueParams struct {
	Kind        string
	Key         string
	Payload     json.RawMessage // nil means {}
	RunAt       time.Time       // zero means now
	MaxAttempts int             // zero means 10
}

// ClaimParams describe which jobs a worker takes.
type ClaimParams struct {
	Worker string        // who holds the lease
	Kinds  []string      // only these kinds
	Limit  int           // at most this many jobs
	Lease  time.Duration // how long the worker holds each job without a heartbeat
}

// Queue is the storage contract of the job queue. Every store implements it.
//
// Claim's rules, which every implementation must keep:
//   - a job is claimable when it is available and due, or running with an
//     expired lease (its worker died);
//   - of the unfinished jobs (available or running) sharing a non-empty key,
//     only the one with the smallest ID is claimable, so work for one key never
//     runs concurrently and runs in enqueue order, across workers and processes;
//   - a claimed job is running, its Attempt incremented, leased to the worker;
//   - a running job whose lease expired on its last attempt (its worker died
//     every time: a crash loop) is discarded, never claimed again.
type Queue interface {
	Enqueue(ctx context.Context, p EnqueueParams) (Job, error)
	Claim(ctx context.Context, p ClaimParams) ([]Job, error)
	// Heartbeat extends the leases the worker still holds and returns the IDs
	// it no longer holds.
	Heartbeat(ctx context.Context, worker string, ids []int64, lease time.Duration) (lost []int64, err error)
	// Complete finishes a job; ErrLeaseLost if the worker no longer holds it.
	Complete(ctx context.Context, worker string, id int64) error
	// Retry makes a held job available again at runAt with the error recorded.
	Retry(ctx context.Context, worker string, id int64, runAt time.Time, lastErr string) error
	// Discard finishes a held job as failed for good.
	Discard(ctx context.Context, worker string, id int64, lastErr string) error
	// GetJob returns a job by ID.
	GetJob(ctx context.Context, id int64) (Job, error)
}
