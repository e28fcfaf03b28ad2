package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/yanit/yanit/jobs"
)

var (
	sqlEnqueueJob       = query("EnqueueJob")
	sqlEnqueueKeyedJob  = query("EnqueueKeyedJob")
	sqlClaimJobs        = query("ClaimJobs")
	sqlExtendLeases     = query("ExtendLeases")
	sqlCompleteJob      = query("CompleteJob")
	sqlRetryJob         = query("RetryJob")
	sqlDiscardJob       = query("DiscardJob")
	sqlDiscardAbandoned = query("DiscardAbandonedJobs")
	sqlGetJob           = query("GetJob")
)

// defaultMaxAttempts is a job's MaxAttempts when EnqueueParams leaves it zero.
const defaultMaxAttempts = 10

// jobKeyLockSpace is the first half of the two-int advisory lock that
// serializes the enqueuers of one key ("yjob" in ASCII); the second half is
// hashtext(key). Two keys with one hash merely take turns.
const jobKeyLockSpace int32 = 0x796a6f62

// How the queue keeps "one job of a key at a time, in ID order" under
// concurrency, in READ COMMITTED:
//
// Claim is one statement. It reads its candidates from the statement's
// snapshot, then locks each one (FOR UPDATE SKIP LOCKED passes over a job
// another claim is taking). A candidate that changed after the snapshot was
// taken is checked again in its newest version, so a job that another claim
// took, or that its worker finished or renewed, drops out. The key test (no
// unfinished job of the key has a smaller ID) is not checked again: it is
// the snapshot's. That is enough because finishing is final and, thanks to
// Enqueue below, no job of a key can appear with an ID smaller than one
// already visible: a job that heads its key in some snapshot heads it until
// it finishes. So a claimer whose snapshot predates another's claim of the
// head sees the head available, one whose snapshot follows it sees it
// running, and neither takes the second job of the key; taking the head
// itself, the later one finds it locked (and skips it) or, once it holds the
// lock, running on a fresh lease (and drops it). An expired head being
// reclaimed is no different: it is unfinished in every snapshot until it
// finishes, so it keeps blocking its key, and of two rescuers the second
// finds it locked or leased anew. (What no queue prevents is the worker whose
// lease expired still running the job while its rescuer runs it again; that
// worker learns it from Heartbeat and ErrLeaseLost.)
//
// What a snapshot cannot show is a job not yet committed. IDs are drawn when
// a row is inserted, and transactions commit in any order: were job 10 of a
// key uncommitted while job 11 of the key committed, a claim would take 11 as
// the head, and once 10 committed, another claim would take 10 while 11 ran:
// two jobs of one key at once, out of order. Enqueue closes that hole: a
// keyed insert first takes a transaction-scoped advisory lock on its key, so
// the enqueuers of one key take turns, each drawing its ID only after the
// previous one committed or rolled back. The IDs of a key are thus drawn in
// commit order, and a job of the key missing from a snapshot has a larger ID
// than every one in it. The cost: a transaction that enqueues a keyed job
// holds the key until it ends, so enqueue keyed jobs last in a transaction,
// and several keys in a fixed order (the server breaks a deadlock by failing
// one transaction, which the store reports as store.ErrConflict).

func scanJob(r scanner) (jobs.Job, error) {
	var j jobs.Job
	err := r.Scan(&j.ID, &j.Kind, &j.Key, jsonColumn(&j.Payload), &j.State, &j.Attempt, &j.MaxAttempts,
		timeColumn{&j.RunAt}, &j.LockedBy, timeColumn{&j.LeaseUntil}, &j.LastError, timeColumn{&j.CreatedAt})
	return j, err
}

// Enqueue adds an available job: its payload {} when nil, due now when RunAt
// is zero, with 10 attempts when MaxAttempts is zero. A keyed job holds its
// key's advisory lock until the enclosing transaction ends; see the comment
// at the top of jobs.go.
func (q queries) Enqueue(ctx context.Context, p jobs.EnqueueParams) (jobs.Job, error) {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = defaultMaxAttempts
	}
	var j jobs.Job
	var err error
	switch {
	case p.Kind == "":
		err = errors.New("the kind is empty")
	case p.MaxAttempts < 0:
		err = fmt.Errorf("max attempts %d is negative", p.MaxAttempts)
	default:
		a := args{"kind": p.Kind, "key": p.Key, "payload": jsonObject(p.Payload),
			"max_attempts": p.MaxAttempts, "run_at": nullTime(p.RunAt)}
		sql := sqlEnqueueJob
		if p.Key != "" {
			sql, a["lock_space"] = sqlEnqueueKeyedJob, jobKeyLockSpace
		}
		j, err = scanJob(q.db.QueryRow(ctx, sql, a))
	}
	if err != nil {
		return jobs.Job{}, fmt.Errorf("enqueueing %s job: %w", p.Kind, interpretError(err))
	}
	return j, nil
}

// Claim leases up to p.Limit claimable jobs of p.Kinds to p.Worker, taken in
// the order of their RunAt, then ID, and returns them by ID. It is one
// statement; see the comment at the top of jobs.go for why no two workers,
// in one process or several, take one job, or two jobs of one key.
func (q queries) Claim(ctx context.Context, p jobs.ClaimParams) ([]jobs.Job, error) {
	js, err := q.claim(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("claiming jobs for %s: %w", p.Worker, interpretError(err))
	}
	return js, nil
}

func (q queries) claim(ctx context.Context, p jobs.ClaimParams) ([]jobs.Job, error) {
	switch {
	case p.Worker == "":
		return nil, errors.New("the worker is unnamed")
	case p.Lease <= 0:
		return nil, fmt.Errorf("lease %v is not positive", p.Lease)
	case p.Limit <= 0 || len(p.Kinds) == 0:
		return nil, nil
	}
	if _, err := q.db.Exec(ctx, sqlDiscardAbandoned); err != nil {
		return nil, fmt.Errorf("discarding abandoned jobs: %w", err)
	}
	rows, err := q.db.Query(ctx, sqlClaimJobs, args{
		"worker": p.Worker, "kinds": p.Kinds, "limit": p.Limit, "lease_us": micros(p.Lease),
	})
	js, err := collect(rows, err, scanJob)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(js, func(a, b jobs.Job) int { return cmp.Compare(a.ID, b.ID) })
	return js, nil
}

// Heartbeat extends by lease the leases the worker still holds among ids and
// returns, in order, the ids it no longer holds.
func (q queries) Heartbeat(ctx context.Context, worker string, ids []int64, lease time.Duration) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := q.db.Query(ctx, sqlExtendLeases, args{"worker": worker, "ids": ids, "lease_us": micros(lease)})
	lost, err := collect(rows, err, func(r scanner) (int64, error) {
		var id int64
		err := r.Scan(&id)
		return id, err
	})
	if err != nil {
		return nil, fmt.Errorf("renewing leases of %s: %w", worker, interpretError(err))
	}
	return lost, nil
}

// Complete finishes a job the worker holds; LockedBy keeps the worker's
// name. ErrLeaseLost when the worker does not hold the job.
func (q queries) Complete(ctx context.Context, worker string, id int64) error {
	return q.finish(ctx, "completing", sqlCompleteJob, args{"id": id, "worker": worker})
}

// Retry makes a job the worker holds available again at runAt (now when
// zero), with lastErr recorded. ErrLeaseLost when the worker does not hold
// the job.
func (q queries) Retry(ctx context.Context, worker string, id int64, runAt time.Time, lastErr string) error {
	return q.finish(ctx, "retrying", sqlRetryJob,
		args{"id": id, "worker": worker, "run_at": nullTime(runAt), "last_error": lastErr})
}

// Discard finishes a job the worker holds as failed for good, with lastErr
// recorded. ErrLeaseLost when the worker does not hold the job.
func (q queries) Discard(ctx context.Context, worker string, id int64, lastErr string) error {
	return q.finish(ctx, "discarding", sqlDiscardJob, args{"id": id, "worker": worker, "last_error": lastErr})
}

// finish runs one of the statements that end a worker's hold on a job; each
// acts only on a running job locked by the worker.
func (q queries) finish(ctx context.Context, verb, sql string, a args) error {
	tag, err := q.db.Exec(ctx, sql, a)
	if err == nil && tag.RowsAffected() == 0 {
		err = jobs.ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("%s job %d for %s: %w", verb, a["id"], a["worker"], interpretError(err))
	}
	return nil
}

// GetJob returns the job with the id; ErrNotFound when there is none.
func (q queries) GetJob(ctx context.Context, id int64) (jobs.Job, error) {
	j, err := scanJob(q.db.QueryRow(ctx, sqlGetJob, args{"id": id}))
	if err != nil {
		return jobs.Job{}, fmt.Errorf("getting job %d: %w", id, interpretError(err))
	}
	return j, nil
}
