-- The job queue; the rules are jobs.Queue's, the reasoning behind the
-- statements is in jobs.go. Every query returning a job selects the columns
-- that scanJob reads, in its order.

-- name: EnqueueJob :one
INSERT INTO jobs (kind, key, payload, max_attempts, run_at)
VALUES (@kind, @key, @payload, @max_attempts, coalesce(@run_at::timestamptz, now()))
RETURNING id, kind, key, payload, state, attempt, max_attempts, run_at, locked_by, lease_until,
          last_error, created_at;

-- name: EnqueueKeyedJob :one
-- Takes the key's advisory lock, held until the enclosing transaction ends,
-- before the row is built, hence before its id is drawn: enqueuers of one
-- key take turns, so the ids of a key are drawn in commit order and a job
-- never becomes visible behind a later job of its key. The CTE is
-- materialized, and the inserted row is built from its one row, so the lock
-- comes first.
WITH key_lock AS MATERIALIZED (
    SELECT pg_advisory_xact_lock(@lock_space::integer, hashtext(@key::text))
)
INSERT INTO jobs (kind, key, payload, max_attempts, run_at)
SELECT @kind::text, @key::text, @payload::jsonb, @max_attempts::integer,
       coalesce(@run_at::timestamptz, now())
FROM key_lock
RETURNING id, kind, key, payload, state, attempt, max_attempts, run_at, locked_by, lease_until,
          last_error, created_at;

-- name: ClaimJobs :many
-- A job is claimable when it is available and due, or running with an
-- expired lease; of the unfinished jobs of a non-empty key, only the one
-- with the smallest id is. "run_at <= now()" holds for every claimable job,
-- running ones included (a job runs only once due), and lets the scan of
-- jobs_unfinished_run_at stop at the first job not yet due. SKIP LOCKED
-- passes over the jobs another claim is taking; a row locked after a
-- concurrent change is checked again against its new version.
WITH candidates AS (
    SELECT j.id
    FROM jobs AS j
    WHERE j.state IN ('available', 'running')
      AND j.run_at <= now()
      AND (j.state = 'available' OR j.lease_until < now())
      AND j.kind = ANY (@kinds::text[])
      AND (j.key = '' OR NOT EXISTS (
              SELECT 1 FROM jobs AS h
              WHERE h.state IN ('available', 'running') AND h.key = j.key AND h.id < j.id))
    ORDER BY j.run_at, j.id
    LIMIT @limit
    FOR UPDATE OF j SKIP LOCKED
)
UPDATE jobs
SET state       = 'running',
    attempt     = jobs.attempt + 1,
    locked_by   = @worker,
    lease_until = now() + @lease_us::bigint * interval '1 microsecond'
FROM candidates
WHERE jobs.id = candidates.id
RETURNING jobs.id, jobs.kind, jobs.key, jobs.payload, jobs.state, jobs.attempt, jobs.max_attempts,
          jobs.run_at, jobs.locked_by, jobs.lease_until, jobs.last_error, jobs.created_at;

-- name: ExtendLeases :many
-- Renews the leases the worker still holds; returns the asked ids it does
-- not hold, in order.
WITH held AS (
    UPDATE jobs
    SET lease_until = now() + @lease_us::bigint * interval '1 microsecond'
    WHERE id = ANY (@ids::bigint[]) AND state = 'running' AND locked_by = @worker
    RETURNING id
)
SELECT DISTINCT asked.id
FROM unnest(@ids::bigint[]) AS asked (id)
WHERE asked.id NOT IN (SELECT id FROM held)
ORDER BY asked.id;

-- name: CompleteJob :execrows
-- locked_by stays: it tells who finished the job.
UPDATE jobs
SET state = 'completed', lease_until = NULL, finished_at = now()
WHERE id = @id AND state = 'running' AND locked_by = @worker;

-- name: RetryJob :execrows
UPDATE jobs
SET state = 'available', run_at = coalesce(@run_at::timestamptz, now()), last_error = @last_error,
    lease_until = NULL
WHERE id = @id AND state = 'running' AND locked_by = @worker;

-- name: DiscardJob :execrows
UPDATE jobs
SET state = 'discarded', last_error = @last_error, lease_until = NULL, finished_at = now()
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
    finished_at = now()
WHERE state = 'running' AND lease_until < now() AND attempt >= max_attempts;
