package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/store"
)

func claimIDs(t *testing.T, q jobs.Queue, worker string, limit int, lease time.Duration) []int64 {
	t.Helper()
	js := must(q.Claim(ctx(t), jobs.ClaimParams{Worker: worker, Kinds: []string{"probe"}, Limit: limit, Lease: lease}))(t)
	out := make([]int64, len(js))
	for i, j := range js {
		if j.State != jobs.StateRunning || j.LockedBy != worker || j.Attempt < 1 {
			t.Fatalf("claimed job = %+v, want running, leased to %s, attempt ≥ 1", j, worker)
		}
		out[i] = j.ID
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	return out
}

func enqueue(t *testing.T, q jobs.Queue, key string) int64 {
	t.Helper()
	return must(q.Enqueue(ctx(t), jobs.EnqueueParams{Kind: "probe", Key: key, Payload: json.RawMessage(`{"k":"` + key + `"}`)}))(t).ID
}

func testJobs(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	a1, a2, a3 := enqueue(t, s, "conv:A"), enqueue(t, s, "conv:A"), enqueue(t, s, "conv:A")
	b1 := enqueue(t, s, "conv:B")
	n1, n2 := enqueue(t, s, ""), enqueue(t, s, "")
	must(s.Enqueue(c, jobs.EnqueueParams{Kind: "other", Key: "conv:A"}))(t)
	later := must(s.Enqueue(c, jobs.EnqueueParams{Kind: "probe", RunAt: time.Now().Add(time.Hour)}))(t)

	j := must(s.GetJob(c, a1))(t)
	if j.State != jobs.StateAvailable || j.MaxAttempts != 10 || j.Attempt != 0 || !jsonEqual(j.Payload, json.RawMessage(`{"k":"conv:A"}`)) {
		t.Fatalf("enqueued job = %+v", j)
	}

	// Only the head of each key, every unkeyed job, nothing scheduled later.
	got := claimIDs(t, s, "w1", 50, time.Minute)
	if fmt.Sprint(got) != fmt.Sprint([]int64{a1, b1, n1, n2}) {
		t.Fatalf("first claim = %v, want heads of keys and unkeyed jobs %v", got, []int64{a1, b1, n1, n2})
	}
	if again := claimIDs(t, s, "w2", 50, time.Minute); len(again) != 0 {
		t.Fatalf("second claim while the heads run = %v, want none", again)
	}
	if err := s.Complete(c, "w2", a1); !errors.Is(err, jobs.ErrLeaseLost) {
		t.Fatalf("completing another worker's job: %v, want ErrLeaseLost", err)
	}
	if err := s.Complete(c, "w1", a1); err != nil {
		t.Fatal(err)
	}
	if got := claimIDs(t, s, "w2", 50, time.Minute); fmt.Sprint(got) != fmt.Sprint([]int64{a2}) {
		t.Fatalf("after completing %d: claim = %v, want [%d]", a1, got, a2)
	}
	// A retry scheduled later keeps its key blocked: order is kept.
	if err := s.Retry(c, "w2", a2, time.Now().Add(time.Hour), "backend down"); err != nil {
		t.Fatal(err)
	}
	if got := claimIDs(t, s, "w3", 50, time.Minute); len(got) != 0 {
		t.Fatalf("while %d waits for its retry: claim = %v, want none (%d must wait)", a2, got, a3)
	}
	r := must(s.GetJob(c, a2))(t)
	if r.State != jobs.StateAvailable || r.LastError != "backend down" || r.Attempt != 1 {
		t.Fatalf("retried job = %+v", r)
	}
	// Discarding a head unblocks the next one of its key.
	if err := s.Retry(c, "w2", a2, time.Now().Add(-time.Second), "again"); !errors.Is(err, jobs.ErrLeaseLost) {
		t.Fatalf("retrying a job no longer held: %v, want ErrLeaseLost", err)
	}
	if err := s.Discard(c, "w1", b1, "bad payload"); err != nil {
		t.Fatal(err)
	}
	if d := must(s.GetJob(c, b1))(t); d.State != jobs.StateDiscarded || d.LastError != "bad payload" {
		t.Fatalf("discarded job = %+v", d)
	}
	if d := must(s.GetJob(c, a1))(t); d.State != jobs.StateCompleted {
		t.Fatalf("completed job state = %q", d.State)
	}
	if l := must(s.GetJob(c, later.ID))(t); l.State != jobs.StateAvailable {
		t.Fatalf("scheduled job state = %q", l.State)
	}
	if _, err := s.GetJob(c, 777777); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetJob(missing) = %v, want ErrNotFound", err)
	}
}

func testJobLeases(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	a := enqueue(t, s, "conv:L")
	b := enqueue(t, s, "conv:M")
	if got := claimIDs(t, s, "dead", 10, time.Second); len(got) != 2 {
		t.Fatalf("claim = %v", got)
	}
	// The live worker renews b well within its lease; a's worker died and
	// its lease runs out.
	time.Sleep(100 * time.Millisecond)
	lost := must(s.Heartbeat(c, "dead", []int64{b}, time.Minute))(t)
	if len(lost) != 0 {
		t.Fatalf("heartbeat of a held job reported lost %v", lost)
	}
	time.Sleep(1100 * time.Millisecond)
	got := claimIDs(t, s, "rescuer", 10, time.Minute)
	if fmt.Sprint(got) != fmt.Sprint([]int64{a}) {
		t.Fatalf("after a's lease expired: claim = %v, want [%d] (b was renewed)", got, a)
	}
	if j := must(s.GetJob(c, a))(t); j.Attempt != 2 || j.LockedBy != "rescuer" {
		t.Fatalf("reclaimed job = %+v, want attempt 2 by rescuer", j)
	}
	if err := s.Complete(c, "dead", a); !errors.Is(err, jobs.ErrLeaseLost) {
		t.Fatalf("the old worker completing a reclaimed job: %v, want ErrLeaseLost", err)
	}
	lost = must(s.Heartbeat(c, "dead", []int64{a, b}, time.Minute))(t)
	if fmt.Sprint(lost) != fmt.Sprint([]int64{a}) {
		t.Fatalf("heartbeat lost = %v, want [%d]", lost, a)
	}

	// A job whose worker dies on its last attempt is discarded, and the next
	// job of its key goes on.
	poison := must(s.Enqueue(c, jobs.EnqueueParams{Kind: "probe", Key: "conv:P", MaxAttempts: 1}))(t).ID
	next := enqueue(t, s, "conv:P")
	if got := claimIDs(t, s, "crashy", 10, 100*time.Millisecond); fmt.Sprint(got) != fmt.Sprint([]int64{poison}) {
		t.Fatalf("claim = %v, want [%d]", got, poison)
	}
	time.Sleep(250 * time.Millisecond)
	if got := claimIDs(t, s, "rescuer", 10, time.Minute); fmt.Sprint(got) != fmt.Sprint([]int64{next}) {
		t.Fatalf("after the poison job's last lease expired: claim = %v, want the next job [%d]", got, next)
	}
	if j := must(s.GetJob(c, poison))(t); j.State != jobs.StateDiscarded || !strings.Contains(j.LastError, "abandoned") {
		t.Fatalf("poison job = %+v, want discarded as abandoned", j)
	}
}

// probe records the start and end of each job as messages in one
// conversation; message ids order the events across workers and processes.
func probe(s store.Queries, convID int64, hold time.Duration) jobs.Handler {
	return func(ctx context.Context, j jobs.Job) error {
		mark := func(what string) error {
			_, err := s.InsertMessage(ctx, store.Message{ConversationID: convID, Direction: store.Outbound,
				Type: "probe", Body: fmt.Sprintf("%s %d %s", what, j.ID, j.Key), Status: store.StatusQueued})
			return err
		}
		if err := mark("start"); err != nil {
			return err
		}
		time.Sleep(hold)
		return mark("end")
	}
}

// checkSerial verifies that for every key the jobs ran one at a time, in
// enqueue order, and that every job in want ran exactly once.
func checkSerial(t *testing.T, msgs []store.Message, want map[int64]string) {
	t.Helper()
	running := map[string]int64{}
	last := map[string]int64{}
	done := map[int64]int{}
	for _, m := range msgs {
		if m.Type != "probe" { // readiness marks of the two-process test
			continue
		}
		f := strings.Fields(m.Body)
		id, _ := strconv.ParseInt(f[1], 10, 64)
		key := ""
		if len(f) > 2 {
			key = f[2]
		}
		switch f[0] {
		case "start":
			if key != "" {
				if other, busy := running[key]; busy {
					t.Fatalf("key %s: job %d started while job %d was running", key, id, other)
				}
				if id < last[key] {
					t.Fatalf("key %s: job %d ran after job %d: out of order", key, id, last[key])
				}
				running[key], last[key] = id, id
			}
		case "end":
			delete(running, key)
			done[id]++
		}
	}
	for id := range want {
		if done[id] != 1 {
			t.Errorf("job %d finished %d times, want exactly once", id, done[id])
		}
	}
}

func testJobsConcurrentClaims(t *testing.T, h Harness) {
	s := h.New(t)
	conv := newConversation(t, s, "905550000010")
	want := map[int64]string{}
	for i := 0; i < 60; i++ {
		k := fmt.Sprintf("conv:%d", i%4)
		want[enqueue(t, s, k)] = k
	}
	// Two runners in one process, each with several slots, share the queue.
	var runners []*jobs.Runner
	for _, w := range []string{"alpha", "beta"} {
		r, err := jobs.NewRunner(s, jobs.Config{Worker: w, Concurrency: 4, PollInterval: 5 * time.Millisecond, Lease: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Handle("probe", probe(s, conv.ID, 2*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		r.Start()
		runners = append(runners, r)
	}
	waitDone(t, s, want)
	for _, r := range runners {
		if err := r.Stop(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	checkSerial(t, must(s.ListMessages(ctx(t), conv.ID))(t), want)
}

func waitDone(t *testing.T, s store.Queries, want map[int64]string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		pending := 0
		for id := range want {
			j := must(s.GetJob(ctx(t), id))(t)
			if j.State != jobs.StateCompleted {
				pending++
			}
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d jobs not completed after 60 s", pending, len(want))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testJobsSurviveRestart(t *testing.T, h Harness) {
	dsn := h.NewDSN(t)
	first, err := h.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	conv := newConversation(t, first, "905550000011")
	want := map[int64]string{}
	for i := 0; i < 10; i++ {
		k := fmt.Sprintf("conv:%d", i%2)
		want[enqueue(t, first, k)] = k
	}
	// The first process claims the heads and dies without finishing them.
	held := claimIDs(t, first, "crashed", 10, 500*time.Millisecond)
	if len(held) != 2 {
		t.Fatalf("crashed worker held %v, want the two heads", held)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	// A new process on the same database finishes everything, the held jobs
	// once their leases expire, and keeps each key in order.
	second := h.open(t, dsn)
	r, err := jobs.NewRunner(second, jobs.Config{Worker: "restarted", Concurrency: 3, PollInterval: 10 * time.Millisecond, Lease: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Handle("probe", probe(second, conv.ID, time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	r.Start()
	waitDone(t, second, want)
	if err := r.Stop(ctx(t)); err != nil {
		t.Fatal(err)
	}
	checkSerial(t, must(second.ListMessages(ctx(t), conv.ID))(t), want)
	for _, id := range held {
		if j := must(second.GetJob(ctx(t), id))(t); j.Attempt != 2 || j.LockedBy != "restarted" {
			t.Errorf("job %d held by the crashed worker: %+v, want finished by the restarted one on attempt 2", id, j)
		}
	}
}

// Environment of a worker process started by JobsTwoProcesses.
const (
	envWorkerDSN  = "YANIT_STORETEST_WORKER_DSN"
	envWorkerConv = "YANIT_STORETEST_WORKER_CONV"
	envWorkerName = "YANIT_STORETEST_WORKER_NAME"
)

// WorkerProcess runs the worker side of the two-process test when the test
// binary was started as one; call it first in TestMain. It returns at once
// in a normal test run.
func WorkerProcess(h Harness) {
	dsn := os.Getenv(envWorkerDSN)
	if dsn == "" {
		return
	}
	os.Exit(runWorkerProcess(h, dsn))
}

func runWorkerProcess(h Harness, dsn string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s, err := h.Open(ctx, dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker: opening store:", err)
		return 1
	}
	defer s.Close()
	convID, _ := strconv.ParseInt(os.Getenv(envWorkerConv), 10, 64)
	r, err := jobs.NewRunner(s, jobs.Config{Worker: os.Getenv(envWorkerName), Concurrency: 4, PollInterval: 5 * time.Millisecond, Lease: 10 * time.Second})
	if err == nil {
		err = r.Handle("probe", probe(s, convID, 2*time.Millisecond))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	// Start together: announce readiness and wait for the other process, so
	// that both compete for the whole queue.
	if _, err := s.InsertMessage(ctx, store.Message{ConversationID: convID, Direction: store.Outbound, Type: "ready", Body: "ready", Status: store.StatusQueued}); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	for ctx.Err() == nil {
		if n, err := count(ctx, s, convID, "ready"); err == nil && n >= 2 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.Start()
	defer r.Stop(context.Background())
	// Work until every probe job has ended.
	for ctx.Err() == nil {
		if n, err := unfinished(ctx, s, convID); err == nil && n == 0 {
			return 0
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Fprintln(os.Stderr, "worker: timed out")
	return 1
}

// unfinished counts the probe jobs not yet ended, of the total the parent
// enqueued (passed as the conversation's state).
func unfinished(ctx context.Context, s store.Store, convID int64) (int, error) {
	conv, err := s.GetConversation(ctx, convID)
	if err != nil {
		return 0, err
	}
	var total struct{ Jobs int }
	if err := json.Unmarshal(conv.State, &total); err != nil {
		return 0, err
	}
	ends, err := count(ctx, s, convID, "end")
	return total.Jobs - ends, err
}

// count counts the messages of the conversation whose body starts with word.
func count(ctx context.Context, s store.Store, convID int64, word string) (int, error) {
	msgs, err := s.ListMessages(ctx, convID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range msgs {
		if strings.HasPrefix(m.Body, word) {
			n++
		}
	}
	return n, nil
}

func testJobsTwoProcesses(t *testing.T, h Harness) {
	dsn := h.NewDSN(t)
	s := h.open(t, dsn)
	conv := newConversation(t, s, "905550000012")
	want := map[int64]string{}
	for i := 0; i < 80; i++ {
		k := fmt.Sprintf("conv:%d", i%5)
		want[enqueue(t, s, k)] = k
	}
	if err := s.SetConversationState(ctx(t), conv.ID, store.ModeBot, json.RawMessage(fmt.Sprintf(`{"jobs":%d}`, len(want)))); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	outs := make([]string, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), envWorkerDSN+"="+dsn, envWorkerConv+"="+strconv.FormatInt(conv.ID, 10),
				envWorkerName+"="+fmt.Sprintf("process-%d", i))
			out, err := cmd.CombinedOutput()
			outs[i], errs[i] = string(out), err
		}()
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil {
			t.Fatalf("worker process %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	msgs := must(s.ListMessages(ctx(t), conv.ID))(t)
	checkSerial(t, msgs, want)
	// Both processes must have done work, or the test proved nothing.
	by := map[string]int{}
	for id := range want {
		by[must(s.GetJob(ctx(t), id))(t).LockedBy]++
	}
	if by["process-0"] == 0 || by["process-1"] == 0 {
		t.Fatalf("jobs per process = %v; both processes must have run jobs", by)
	}
	t.Logf("jobs per process: %v", by)
}
