package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Handler does the work of one job. Returning nil completes it; an error
// retries it with backoff until MaxAttempts; Cancel(err) discards it at once.
// The context is cancelled when the runner hard-stops or the lease is lost.
type Handler func(ctx context.Context, j Job) error

type cancelError struct{ err error }

func (e cancelError) Error() string { return "cancelled: " + e.err.Error() }
func (e cancelError) Unwrap() error { return e.err }

// Cancel marks an error as permanent: the job is discarded without retries.
func Cancel(err error) error { return cancelError{err: err} }

type retryAfterError struct {
	err   error
	after time.Duration
}

func (e retryAfterError) Error() string { return e.err.Error() }
func (e retryAfterError) Unwrap() error { return e.err }

// RetryAfter asks for the next attempt no sooner than after (e.g. the wait a
// rate-limit error names), instead of the default backoff when that is
// shorter.
func RetryAfter(err error, after time.Duration) error { return retryAfterError{err: err, after: after} }

// Config tunes a Runner.
type Config struct {
	Worker       string        // lease holder name, unique per process; required
	Concurrency  int           // jobs in flight at once; default 4
	PollInterval time.Duration // how often to look for due jobs; default 250ms
	Lease        time.Duration // lease per claim, renewed at a third of it; default 30s
	Logger       *slog.Logger
}

// Runner claims jobs from a Queue and runs their handlers. Work for one key
// never runs concurrently; that is the Queue's Claim rule, so it holds across
// runners and processes sharing a database.
//
// It claims when Notify is called, at every poll, and when jobs finish: then
// only once a batch of slots is free (a quarter of Concurrency), so that a
// runner kept busy by many short jobs (a campaign's sends) claims them
// several at a time instead of one query per job. A slot freed meanwhile
// waits for the batch, a Notify or the next poll, whichever comes first.
type Runner struct {
	q        Queue
	cfg      Config
	log      *slog.Logger
	handlers map[string]Handler
	kinds    []string

	wake     chan struct{}
	freed    chan struct{} // a job finished
	batch    int           // free slots a finished job's claim waits for
	mu       sync.Mutex
	inflight map[int64]context.CancelFunc
	wg       sync.WaitGroup
	stopPoll context.CancelFunc
	hardStop context.CancelFunc
	pollDone chan struct{}
}

// NewRunner returns a runner over q. Register handlers before Start.
func NewRunner(q Queue, cfg Config) (*Runner, error) {
	if cfg.Worker == "" {
		return nil, errors.New("jobs: Config.Worker is required")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 250 * time.Millisecond
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{
		q: q, cfg: cfg, log: log,
		handlers: map[string]Handler{},
		wake:     make(chan struct{}, 1),
		freed:    make(chan struct{}, 1),
		batch:    max(cfg.Concurrency/4, 1),
		inflight: map[int64]context.CancelFunc{},
	}, nil
}

// Handle registers the handler of a job kind. A kind registers once.
func (r *Runner) Handle(kind string, h Handler) error {
	if kind == "" || h == nil {
		return errors.New("jobs: Handle needs a kind and a handler")
	}
	if _, dup := r.handlers[kind]; dup {
		return fmt.Errorf("jobs: handler for kind %q registered twice", kind)
	}
	r.handlers[kind] = h
	r.kinds = append(r.kinds, kind)
	return nil
}

// Notify wakes the poller, e.g. right after a local Enqueue.
func (r *Runner) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Start begins polling in the background. Stop ends it.
func (r *Runner) Start() {
	pollCtx, stopPoll := context.WithCancel(context.Background())
	workCtx, hardStop := context.WithCancel(context.Background())
	r.stopPoll, r.hardStop = stopPoll, hardStop
	r.pollDone = make(chan struct{})
	go r.poll(pollCtx, workCtx)
}

// Stop stops claiming, waits for running jobs until ctx ends, then cancels
// what is still running (those jobs are retried after their lease expires).
func (r *Runner) Stop(ctx context.Context) error {
	if r.stopPoll == nil {
		return nil
	}
	r.stopPoll()
	<-r.pollDone
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		r.hardStop()
		return nil
	case <-ctx.Done():
		r.hardStop()
		<-done
		return fmt.Errorf("jobs: stopping: %w", ctx.Err())
	}
}

func (r *Runner) poll(ctx, workCtx context.Context) {
	defer close(r.pollDone)
	tick := time.NewTicker(r.cfg.PollInterval)
	defer tick.Stop()
	beat := time.NewTicker(r.cfg.Lease / 3)
	defer beat.Stop()
	least := 1 // free slots worth a claim
	for {
		r.claim(ctx, workCtx, least)
		least = 1
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-r.wake:
		case <-r.freed:
			least = r.batch
		case <-beat.C:
			r.heartbeat(ctx)
		}
	}
}

func (r *Runner) claim(ctx, workCtx context.Context, least int) {
	r.mu.Lock()
	free := r.cfg.Concurrency - len(r.inflight)
	r.mu.Unlock()
	if free <= 0 || free < least || len(r.kinds) == 0 {
		return
	}
	claimed, err := r.q.Claim(ctx, ClaimParams{Worker: r.cfg.Worker, Kinds: r.kinds, Limit: free, Lease: r.cfg.Lease})
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("claiming jobs", slog.String("error", err.Error()))
		}
		return
	}
	for _, j := range claimed {
		jctx, cancel := context.WithCancel(workCtx)
		r.mu.Lock()
		r.inflight[j.ID] = cancel
		r.mu.Unlock()
		r.wg.Add(1)
		go r.run(jctx, cancel, j)
	}
}

func (r *Runner) heartbeat(ctx context.Context) {
	r.mu.Lock()
	ids := make([]int64, 0, len(r.inflight))
	for id := range r.inflight {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	lost, err := r.q.Heartbeat(ctx, r.cfg.Worker, ids, r.cfg.Lease)
	if err != nil {
		r.log.Warn("renewing job leases", slog.String("error", err.Error()))
		return
	}
	r.mu.Lock()
	for _, id := range lost {
		if cancel, ok := r.inflight[id]; ok {
			cancel()
		}
	}
	r.mu.Unlock()
}

func (r *Runner) run(ctx context.Context, cancel context.CancelFunc, j Job) {
	defer r.wg.Done()
	defer func() {
		cancel()
		r.mu.Lock()
		delete(r.inflight, j.ID)
		r.mu.Unlock()
		// A slot is free, and the next job of this key may be due.
		select {
		case r.freed <- struct{}{}:
		default:
		}
	}()
	err := r.safeCall(ctx, j)
	// The outcome is recorded even when the work context was cancelled.
	octx, ocancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer ocancel()
	log := r.log.With(slog.Int64("job_id", j.ID), slog.String("kind", j.Kind), slog.Int("attempt", j.Attempt))
	var outcome error
	var ce cancelError
	switch {
	case err == nil:
		outcome = r.q.Complete(octx, r.cfg.Worker, j.ID)
	case errors.As(err, &ce) || j.Attempt >= j.MaxAttempts:
		log.Error("job discarded", slog.String("error", err.Error()))
		outcome = r.q.Discard(octx, r.cfg.Worker, j.ID, err.Error())
	default:
		wait := Backoff(j.Attempt)
		var ra retryAfterError
		if errors.As(err, &ra) && ra.after > wait {
			wait = ra.after
		}
		at := time.Now().Add(wait)
		log.Warn("job failed, will retry", slog.String("error", err.Error()), slog.Time("retry_at", at))
		outcome = r.q.Retry(octx, r.cfg.Worker, j.ID, at, err.Error())
	}
	if outcome != nil {
		log.Warn("recording job outcome", slog.String("error", outcome.Error()))
	}
}

func (r *Runner) safeCall(ctx context.Context, j Job) (err error) {
	h := r.handlers[j.Kind]
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return h(ctx, j)
}

// Backoff is the delay before retry n (1-based): 2^n seconds capped at ten
// minutes, with up to 25% jitter so that failed jobs do not retry in step.
func Backoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := time.Second << min(attempt, 10)
	if d > 10*time.Minute {
		d = 10 * time.Minute
	}
	return d + time.Duration(rand.Int64N(int64(d/4)+1))
}
