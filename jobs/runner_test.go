package jobs_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/store/sqlite"
)

func newQueue(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestHandleRejectsDuplicates(t *testing.T) {
	r, err := jobs.NewRunner(newQueue(t), jobs.Config{Worker: "w"})
	if err != nil {
		t.Fatal(err)
	}
	h := func(context.Context, jobs.Job) error { return nil }
	if err := r.Handle("turn", h); err != nil {
		t.Fatal(err)
	}
	if err := r.Handle("turn", h); err == nil || !strings.Contains(err.Error(), `"turn" registered twice`) {
		t.Fatalf("second Handle(turn) = %v, want a duplicate error", err)
	}
	if _, err := jobs.NewRunner(newQueue(t), jobs.Config{}); err == nil {
		t.Fatal("NewRunner without a worker name: want an error")
	}
}

func TestOutcomes(t *testing.T) {
	q := newQueue(t)
	ctx := context.Background()
	r, err := jobs.NewRunner(q, jobs.Config{Worker: "w", PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var flaky atomic.Int32
	handlers := map[string]jobs.Handler{
		"ok":     func(context.Context, jobs.Job) error { return nil },
		"cancel": func(context.Context, jobs.Job) error { return jobs.Cancel(errors.New("payload names no conversation")) },
		"panic":  func(context.Context, jobs.Job) error { panic("nil map") },
		"flaky": func(context.Context, jobs.Job) error {
			if flaky.Add(1) == 1 {
				return errors.New("graph api 503")
			}
			return nil
		},
	}
	for k, h := range handlers {
		if err := r.Handle(k, h); err != nil {
			t.Fatal(err)
		}
	}
	id := map[string]int64{}
	for _, k := range []string{"ok", "cancel", "panic", "flaky"} {
		max := 10
		if k == "panic" {
			max = 1
		}
		j, err := q.Enqueue(ctx, jobs.EnqueueParams{Kind: k, MaxAttempts: max})
		if err != nil {
			t.Fatal(err)
		}
		id[k] = j.ID
	}
	r.Start()
	defer r.Stop(ctx)

	want := map[string]string{"ok": jobs.StateCompleted, "cancel": jobs.StateDiscarded, "panic": jobs.StateDiscarded}
	deadline := time.Now().Add(20 * time.Second)
	for k, state := range want {
		for {
			j, err := q.GetJob(ctx, id[k])
			if err != nil {
				t.Fatal(err)
			}
			if j.State == state {
				if k == "panic" && !strings.Contains(j.LastError, "handler panicked: nil map") {
					t.Errorf("panicking job's error = %q", j.LastError)
				}
				if k == "cancel" && (j.Attempt != 1 || !strings.Contains(j.LastError, "payload names no conversation")) {
					t.Errorf("cancelled job = %+v, want discarded after one attempt with its reason", j)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job %s stayed %s, want %s", k, j.State, state)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// The flaky job failed once and waits for its backoff (2 s and more), with the error kept.
	for {
		j, _ := q.GetJob(ctx, id["flaky"])
		if j.Attempt == 1 && j.State == jobs.StateAvailable {
			if j.LastError != "graph api 503" || time.Until(j.RunAt) < time.Second {
				t.Fatalf("retried job = %+v, want its error and a backoff of at least 2 s", j)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("flaky job = %+v, want waiting for its retry", j)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBackoff(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: 2 * time.Second, 3: 8 * time.Second, 9: 512 * time.Second, 30: 10 * time.Minute} {
		for range 50 {
			d := jobs.Backoff(attempt)
			if d < want || d > want+want/4 {
				t.Fatalf("Backoff(%d) = %s, want between %s and %s", attempt, d, want, want+want/4)
			}
		}
	}
}

func TestStopWaitsForRunningJobs(t *testing.T) {
	q := newQueue(t)
	ctx := context.Background()
	r, _ := jobs.NewRunner(q, jobs.Config{Worker: "w", PollInterval: 5 * time.Millisecond})
	started := make(chan struct{})
	var finished atomic.Bool
	r.Handle("slow", func(ctx context.Context, j jobs.Job) error {
		close(started)
		time.Sleep(300 * time.Millisecond)
		finished.Store(true)
		return nil
	})
	j, _ := q.Enqueue(ctx, jobs.EnqueueParams{Kind: "slow"})
	r.Start()
	<-started
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if !finished.Load() {
		t.Fatal("Stop returned before the running job finished")
	}
	if got, _ := q.GetJob(ctx, j.ID); got.State != jobs.StateCompleted {
		t.Fatalf("job after soft stop = %s, want completed", got.State)
	}

	// A stop whose deadline passes cancels the job; it stays claimable later.
	r2, _ := jobs.NewRunner(q, jobs.Config{Worker: "w2", PollInterval: 5 * time.Millisecond, Lease: time.Second})
	started2 := make(chan struct{})
	r2.Handle("stuck", func(ctx context.Context, j jobs.Job) error {
		close(started2)
		<-ctx.Done()
		return ctx.Err()
	})
	j2, _ := q.Enqueue(ctx, jobs.EnqueueParams{Kind: "stuck"})
	r2.Start()
	<-started2
	sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := r2.Stop(sctx); err == nil {
		t.Fatal("Stop with a job that ignores the deadline: want an error")
	}
	if got, _ := q.GetJob(ctx, j2.ID); got.State == jobs.StateCompleted || got.State == jobs.StateDiscarded {
		t.Fatalf("hard-stopped job = %s, want it left to run again", got.State)
	}
}

// countingQueue counts the claims made through it.
type countingQueue struct {
	jobs.Queue
	claims atomic.Int32
}

func (q *countingQueue) Claim(ctx context.Context, p jobs.ClaimParams) ([]jobs.Job, error) {
	q.claims.Add(1)
	return q.Queue.Claim(ctx, p)
}

// A runner busy with many short jobs claims them a batch at a time (a
// quarter of its slots), not one query per finished job, and still runs
// them all.
func TestClaimsInBatches(t *testing.T) {
	const n, concurrency = 200, 16
	q := newQueue(t)
	ctx := context.Background()
	for range n {
		if _, err := q.Enqueue(ctx, jobs.EnqueueParams{Kind: "short"}); err != nil {
			t.Fatal(err)
		}
	}
	cq := &countingQueue{Queue: q}
	// Polls never come: only the start and finished jobs claim.
	r, err := jobs.NewRunner(cq, jobs.Config{Worker: "w", Concurrency: concurrency, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var done atomic.Int32
	if err := r.Handle("short", func(context.Context, jobs.Job) error { done.Add(1); return nil }); err != nil {
		t.Fatal(err)
	}
	r.Start()
	deadline := time.Now().Add(30 * time.Second)
	for done.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d jobs ran in 30 s", done.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// The first claim takes 16; every later one waits for 4 free slots
	// (so takes 4 while jobs remain), and at most one claim per slot finds
	// nothing at the end. One claim per job would be 200.
	if c := cq.claims.Load(); c > 1+(n-concurrency)/(concurrency/4)+concurrency {
		t.Fatalf("%d claims for %d jobs, want batches of %d", c, n, concurrency/4)
	}
}
