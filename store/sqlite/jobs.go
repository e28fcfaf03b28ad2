package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/yanit/yanit/jobs"
)

var (
	sqlEnqueueJob       = query("EnqueueJob")
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

func scanJob(r scanner) (jobs.Job, error) {
	var j jobs.Job
	err := r.Scan(&j.ID, &j.Kind, &j.Key, jsonColumn{&j.Payload}, &j.State, &j.Attempt, &j.MaxAttempts,
		timeColumn{&j.RunAt}, &j.LockedBy, timeColumn{&j.LeaseUntil}, &j.LastError, timeColumn{&j.CreatedAt})
	return j, err
}

// Enqueue adds an available job: its payload {} when nil, due now when RunAt
// is zero, with 10 attempts when MaxAttempts is zero.
func (q queries) Enqueue(ctx context.Context, p jobs.EnqueueParams) (jobs.Job, error) {
	t := now()
	if p.RunAt.IsZero() {
		p.RunAt = t
	}
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
		j, err = scanJob(q.db.QueryRowContext(ctx, sqlEnqueueJob,
			sql.Named("kind", p.Kind), sql.Named("key", p.Key), sql.Named("payload", jsonText(p.Payload, "{}")),
			sql.Named("max_attempts", p.MaxAttempts), sql.Named("run_at", unixMicro(p.RunAt)),
			sql.Named("now", unixMicro(t))))
	}
	if err != nil {
		return jobs.Job{}, fmt.Errorf("enqueueing job of kind %q: %w", p.Kind, interpretError(err))
	}
	return j, nil
}

// Claim leases up to p.Limit claimable jobs of p.Kinds to p.Worker, in the
// order of their RunAt, then ID. The claim is one statement, hence one write
// transaction: no two workers, in one process or several, take one job.
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
	t := now()
	if _, err := q.db.ExecContext(ctx, sqlDiscardAbandoned, sql.Named("now", unixMicro(t))); err != nil {
		return nil, fmt.Errorf("discarding abandoned jobs: %w", err)
	}
	rows, err := q.db.QueryContext(ctx, sqlClaimJobs,
		sql.Named("worker", p.Worker), sql.Named("kinds", jsonArray(p.Kinds)), sql.Named("limit", p.Limit),
		sql.Named("now", unixMicro(t)), sql.Named("lease_until", unixMicro(t.Add(p.Lease))))
	js, err := collect(rows, err, scanJob)
	if err != nil {
		return nil, err
	}
	// RETURNING gives rows in no set order.
	slices.SortFunc(js, func(a, b jobs.Job) int {
		return cmp.Or(a.RunAt.Compare(b.RunAt), cmp.Compare(a.ID, b.ID))
	})
	return js, nil
}

// Heartbeat extends by lease the leases of the jobs that the worker still
// holds, and returns the ids of the others, in the order given.
func (q queries) Heartbeat(ctx context.Context, worker string, ids []int64, lease time.Duration) ([]int64, error) {
	lost, err := q.heartbeat(ctx, worker, ids, lease)
	if err != nil {
		return nil, fmt.Errorf("renewing %d leases of %s: %w", len(ids), worker, interpretError(err))
	}
	return lost, nil
}

func (q queries) heartbeat(ctx context.Context, worker string, ids []int64, lease time.Duration) ([]int64, error) {
	if lease <= 0 {
		return nil, fmt.Errorf("lease %v is not positive", lease)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := q.db.QueryContext(ctx, sqlExtendLeases, sql.Named("ids", jsonArray(ids)),
		sql.Named("worker", worker), sql.Named("lease_until", unixMicro(now().Add(lease))))
	held, err := collect(rows, err, func(r scanner) (id int64, err error) { return id, r.Scan(&id) })
	if err != nil {
		return nil, err
	}
	var lost []int64
	for _, id := range ids {
		if !slices.Contains(held, id) {
			lost = append(lost, id)
		}
	}
	return lost, nil
}

// Complete finishes a job the worker holds. The job keeps LockedBy, which
// tells who finished it.
func (q queries) Complete(ctx context.Context, worker string, id int64) error {
	err := q.finish(ctx, sqlCompleteJob, worker, id)
	if err != nil {
		return fmt.Errorf("completing job %d: %w", id, err)
	}
	return nil
}

// Retry makes a job the worker holds available again at runAt, or now when
// it is zero, recording the error.
func (q queries) Retry(ctx context.Context, worker string, id int64, runAt time.Time, lastErr string) error {
	if runAt.IsZero() {
		runAt = now()
	}
	err := q.finish(ctx, sqlRetryJob, worker, id,
		sql.Named("run_at", unixMicro(runAt)), sql.Named("last_error", lastErr))
	if err != nil {
		return fmt.Errorf("retrying job %d: %w", id, err)
	}
	return nil
}

// Discard finishes a job the worker holds as failed for good, recording the
// error.
func (q queries) Discard(ctx context.Context, worker string, id int64, lastErr string) error {
	err := q.finish(ctx, sqlDiscardJob, worker, id, sql.Named("last_error", lastErr))
	if err != nil {
		return fmt.Errorf("discarding job %d: %w", id, err)
	}
	return nil
}

// finish runs a statement that ends the worker's hold on a job, and reports
// jobs.ErrLeaseLost when the job is not running under the worker's lease:
// missing, finished, or reclaimed by another worker after the lease ran out.
func (q queries) finish(ctx context.Context, text, worker string, id int64, args ...any) error {
	args = append(args, sql.Named("id", id), sql.Named("worker", worker), sql.Named("now", unixMicro(now())))
	n, err := rowsAffected(q.db.ExecContext(ctx, text, args...))
	if err != nil {
		return interpretError(err)
	}
	if n == 0 {
		return jobs.ErrLeaseLost
	}
	return nil
}

// GetJob returns the job with the id.
func (q queries) GetJob(ctx context.Context, id int64) (jobs.Job, error) {
	j, err := scanJob(q.db.QueryRowContext(ctx, sqlGetJob, sql.Named("id", id)))
	if err != nil {
		return jobs.Job{}, fmt.Errorf("getting job %d: %w", id, interpretError(err))
	}
	return j, nil
}
