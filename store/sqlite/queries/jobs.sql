-- The job queue; the rules are jobs.Queue's. Every query returning a job
-- selects the columns that scanJob reads, in its order.

-- name: EnqueueJob :one
INSERT INTO jobs (kind, key, payload, state, attempt, max_attempts, run_at, created_at)
VALUES (@kind, @key, @payload, 'available', 0, @max_attempts, @run_at, @now)
RETURNING id, kind, key, payload, state, attempt, max_attempts, run_at, locked_by, lease_until,
          last_error, created_at;

-- name: ClaimJobs :many
-- A job is claimable when it is available and due, or running with an
-- expired lease; of the unfinished jobs of a non-empty key, only the one
-- with the smallest id is. @kinds is a JSON array of kinds.
--
-- "run_at <= @now" holds for every claimable job, running ones included (a
-- job runs only once due), and lets the scan of jobs_unfinished_run_at stop
-- at the first job not yet due. The statement is one write transaction, so
-- no two claims can take the same job.
UPDATE jobs
SET state = 'running', attempt = attempt + 1, locked_by = @worker, lease_until = @lease_until
WHERE id IN (
    SELECT j.id
    FROM jobs AS j
    WHERE j.state IN ('available', 'running')
      AND j.run_at <= @now
      AND (j.state = 'available' OR j.lease_until < @now)
      AND j.kind IN (SELECT value FROM json_each(@kinds))
      AND (j.key = '' OR NOT EXISTS (
              SELECT 1 FROM jobs AS h
              WHERE h.state IN ('available', 'running') AND h.key = j.key AND h.id < j.id))
    ORDER BY j.run_at, j.id
    LIMIT @limit
)
RETURNING id, kind, key, payload, state, attempt, max_attempts, run_at, locked_by, lease_until,
          last_error, created_at;

-- name: ExtendLeases :many
-- @ids is a JSON array of job ids; returns those the worker still holds.
UPDATE jobs
SET lease_until = @lease_until
WHERE id IN (SELECT value FROM json_each(@ids)) AND state = 'running' AND locked_by = @worker
RETURNING id;

-- name: CompleteJob :execrows
-- locked_by stays: it tells who finished the job.
UPDATE jobs
SET state = 'completed', lease_until = NULL, finished_at = @now
WHERE id = @id AND state = 'running' AND locked_by = @worker;

-- name: RetryJob :execrows
UPDATE jobs
SET state = 'available', run_at = @run_at, last_error = @last_error, lease_until = NULL
WHERE id = @id AND state = 'running' AND locked_by = @worker;

-- name: DiscardJob :execrows
UPDATE jobs
SET state = 'discarded', last_error = @last_error, lease_until = NULL, finished_at = @now
WHERE id = @id AND state = 'running' AND locked_by = @worker;

-- name: GetJob :one
SELECT id, kind, key, payload, state, attempt, max_attempts, run_at, locked_by, lease_until,
       last_error, created_at
FROM jobs
WHERE id = @id;

-- name: DiscardAbandonedJobs :execrows
-- A job whose worker lost its lease on the last attempt (a crash loop, e.g.
-- a payload that kills the process) is discarded instead of claimed again.
UPDATE jobs
SET state       = 'discarded',
    last_error  = 'abandoned: the worker lost its lease on attempt ' || attempt || ' of ' || max_attempts,
    lease_until = NULL,
    finished_at = @now
WHERE state = 'running' AND lease_until < @now AND attempt >= max_attempts;
