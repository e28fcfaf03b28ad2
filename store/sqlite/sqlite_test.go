package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/storetest"
)

var harness = storetest.Harness{
	Name:   "sqlite",
	NewDSN: func(t *testing.T) string { return filepath.Join(t.TempDir(), "yanit.db") },
	Open: func(ctx context.Context, dsn string) (store.Store, error) {
		s, err := openMigrated(ctx, dsn)
		if err != nil {
			return nil, err
		}
		return s, nil
	},
}

// openMigrated is what yanit does at start: Open, then Migrate.
func openMigrated(ctx context.Context, path string) (*Store, error) {
	s, err := Open(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Environment of the child process of TestCommittedWritesSurviveKill.
const (
	envCrashDB   = "YANIT_SQLITE_CRASH_DB"
	envCrashConv = "YANIT_SQLITE_CRASH_CONV"
)

func TestMain(m *testing.M) {
	storetest.WorkerProcess(harness)
	if path := os.Getenv(envCrashDB); path != "" {
		os.Exit(runCrashChild(path))
	}
	os.Exit(m.Run())
}

func TestConformance(t *testing.T) {
	storetest.Run(t, harness)
}

func newStore(t *testing.T, path string) *Store {
	t.Helper()
	s, err := openMigrated(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func newConversation(t *testing.T, s store.Queries, waID string) store.Conversation {
	t.Helper()
	ctx := testCtx(t)
	ct, err := s.UpsertContact(ctx, store.ContactUpsert{WaID: waID})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := s.OpenConversation(ctx, ct.ID, "1001")
	if err != nil {
		t.Fatal(err)
	}
	return conv
}

// The file itself is in WAL mode, whoever opens it next: the property that
// lets readers run beside the writer and a killed process lose nothing it
// committed.
func TestFileIsInWALMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "yanit.db")
	s := newStore(t, path)
	if err := s.Ping(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	plain, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	var mode string
	if err := plain.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Fatalf("journal_mode of the file = %q, want wal", mode)
	}
}

// Every connection of the pool commits durably, enforces references and
// waits for the write lock.
func TestConnectionSettings(t *testing.T) {
	s := newStore(t, filepath.Join(t.TempDir(), "yanit.db"))
	ctx := testCtx(t)
	// Hold several connections at once, so that the pool opens more than one.
	var conns []*sql.Conn
	for range 3 {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		for pragma, want := range map[string]int{"synchronous": 2, "foreign_keys": 1, "busy_timeout": 10000} {
			var got int
			if err := c.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("connection %d: PRAGMA %s = %d, want %d", i, pragma, got, want)
			}
		}
	}
}

// Transactions that read then write, from two pools on one file as from two
// processes, neither fail with SQLITE_BUSY nor lose an update: each takes the
// write lock at BEGIN.
func TestReadModifyWriteTransactions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "yanit.db")
	a, b := newStore(t, path), newStore(t, path)
	ctx := testCtx(t)
	conv := newConversation(t, a, "905550000100")
	const workers, rounds = 8, 20
	var wg sync.WaitGroup
	for w := range workers {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				err := s.InTx(ctx, func(tx store.Queries) error {
					c, err := tx.GetConversation(ctx, conv.ID)
					if err != nil {
						return err
					}
					var st struct{ N int }
					if err := json.Unmarshal(c.State, &st); err != nil {
						return err
					}
					st.N++
					next, _ := json.Marshal(st)
					return tx.SetConversationState(ctx, conv.ID, store.ModeBot, next)
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	c, err := a.GetConversation(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ N int }
	if err := json.Unmarshal(c.State, &st); err != nil {
		t.Fatal(err)
	}
	if st.N != workers*rounds {
		t.Fatalf("counter = %d after %d increments: updates were lost", st.N, workers*rounds)
	}
}

// Processes starting together on a new file all migrate it.
func TestConcurrentMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "yanit.db")
	ctx := testCtx(t)
	stores := make([]*Store, 4)
	for i := range stores {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Migrate(ctx); err != nil {
				t.Errorf("store %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	for i, s := range stores {
		cur, latest, err := s.MigrationStatus(ctx)
		if err != nil || cur != latest {
			t.Errorf("store %d: current %d, latest %d, err %v", i, cur, latest, err)
		}
	}
}

// A file that the first release migrated keeps its contacts through the
// marketing preference migration: opted in, with no preference time, and
// the column takes only 0 or 1.
func TestMarketingPreferenceMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "yanit.db")
	ctx := testCtx(t)
	first := fstest.MapFS{}
	data, err := fs.ReadFile(embeddedMigrations(), "00001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	first["00001_init.sql"] = &fstest.MapFile{Data: data}
	old, err := open(ctx, path, first)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if err := old.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := old.db.ExecContext(ctx, `INSERT INTO contacts (wa_id, name, created_at, updated_at)
		VALUES ('905550000900', 'Eski', 1, 1)`); err != nil {
		t.Fatal(err)
	}

	s := newStore(t, path)
	var id int64
	if err := s.db.QueryRowContext(ctx, "SELECT id FROM contacts WHERE wa_id = '905550000900'").Scan(&id); err != nil {
		t.Fatal(err)
	}
	c, err := s.GetContact(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Eski" || c.MarketingOptOut || !c.MarketingPrefAt.IsZero() {
		t.Fatalf("contact after the upgrade = %+v, want Eski, opted in, no preference time", c)
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE contacts SET marketing_opt_out = 2 WHERE id = ?", id); err == nil {
		t.Fatal("marketing_opt_out = 2: want a CHECK violation")
	}
}

// Processes of a new release, starting together on a file that an older
// release migrated, all apply the new migrations: one applies each, and the
// others, whose attempt fails on the table it created, find it applied.
func TestConcurrentUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "yanit.db")
	ctx := testCtx(t)
	if err := newStore(t, path).Close(); err != nil {
		t.Fatal(err)
	}
	next := fstest.MapFS{}
	current := embeddedMigrations()
	entries, err := fs.ReadDir(current, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := fs.ReadFile(current, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		next[e.Name()] = &fstest.MapFile{Data: data}
	}
	// Two new migrations: a process that lost the race for the first may
	// find the second still pending, and lose that race too.
	const version = 99999
	for _, v := range []int{version - 1, version} {
		next[fmt.Sprintf("%d_next.sql", v)] = &fstest.MapFile{
			Data: fmt.Appendf(nil, "-- +goose Up\nCREATE TABLE next_%d (id INTEGER PRIMARY KEY);\n", v),
		}
	}
	stores := make([]*Store, 6)
	for i := range stores {
		s, err := open(ctx, path, next)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := s.Migrate(ctx); err != nil {
				t.Errorf("store %d: %v", i, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	for i, s := range stores {
		if cur, latest, err := s.MigrationStatus(ctx); err != nil || cur != version || latest != version {
			t.Errorf("store %d: current %d, latest %d, err %v; want %d", i, cur, latest, err, version)
		}
	}
}

// A process killed with SIGKILL while it writes loses none of the
// transactions it saw commit, and leaves a sound file.
func TestCommittedWritesSurviveKill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "yanit.db")
	s := newStore(t, path)
	conv := newConversation(t, s, "905550000200")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envCrashDB+"="+path, envCrashConv+"="+strconv.FormatInt(conv.ID, 10))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The child prints "wamid message-id job-id" after each commit. Kill it
	// while it writes, then read what it printed before dying.
	const killAfter = 200
	type commit struct {
		wamid        string
		message, job int64
	}
	var commits []commit
	killed := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var c commit
		if _, err := fmt.Sscanf(sc.Text(), "%s %d %d", &c.wamid, &c.message, &c.job); err != nil {
			t.Fatalf("child printed %q: %v", sc.Text(), err)
		}
		commits = append(commits, c)
		if len(commits) == killAfter {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	werr := cmd.Wait()
	if !killed {
		t.Fatalf("the child stopped before it was killed: %v\n%s", werr, stderr.String())
	}
	t.Logf("child killed after reporting %d commits", len(commits))

	s = newStore(t, path)
	ctx := testCtx(t)
	for _, c := range commits {
		m, err := s.GetMessage(ctx, c.message)
		if err != nil {
			t.Fatalf("message %d (%s), reported committed: %v", c.message, c.wamid, err)
		}
		if m.ChannelMessageID != c.wamid || m.Direction != store.Inbound {
			t.Fatalf("message %d = %+v, want inbound %s", c.message, m, c.wamid)
		}
		if _, err := s.GetJob(ctx, c.job); err != nil {
			t.Fatalf("job %d of message %d, reported committed: %v", c.job, c.message, err)
		}
	}
	stored, err := s.ListMessages(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) < len(commits) {
		t.Fatalf("%d messages in the file, fewer than the %d reported committed", len(stored), len(commits))
	}
	t.Logf("%d messages reported committed, %d in the file", len(commits), len(stored))
	var integrity string
	if err := s.db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&integrity); err != nil {
		t.Fatal(err)
	}
	if integrity != "ok" {
		t.Fatalf("integrity_check after the kill: %s", integrity)
	}
}

// runCrashChild is the process TestCommittedWritesSurviveKill kills: it
// stores inbound messages as a webhook would, each with its turn job in one
// transaction, and prints each one after its commit, until it is killed (or
// a minute has passed, should its parent be gone).
func runCrashChild(path string) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	convID, _ := strconv.ParseInt(os.Getenv(envCrashConv), 10, 64)
	s, err := openMigrated(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 1
	}
	for i := 0; ctx.Err() == nil; i++ {
		wamid := fmt.Sprintf("wamid.crash.%d", i)
		var msg store.Message
		var job jobs.Job
		err := s.InTx(ctx, func(tx store.Queries) error {
			var err error
			msg, err = tx.InsertMessage(ctx, store.Message{ConversationID: convID, Direction: store.Inbound,
				ChannelMessageID: wamid, Type: "text", Body: "merhaba", Status: store.StatusReceived, SentAt: time.Now()})
			if err != nil {
				return err
			}
			job, err = tx.Enqueue(ctx, jobs.EnqueueParams{Kind: "turn", Key: fmt.Sprintf("conv:%d", convID)})
			return err
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			return 1
		}
		fmt.Printf("%s %d %d\n", wamid, msg.ID, job.ID)
	}
	return 2
}

// A transaction whose callback panics rolls back, releases the write lock
// and lets the panic through.
func TestInTxRollsBackOnPanic(t *testing.T) {
	s := newStore(t, filepath.Join(t.TempDir(), "yanit.db"))
	ctx := testCtx(t)
	conv := newConversation(t, s, "905550000300")
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Fatalf("recovered %v, want the callback's panic", p)
			}
		}()
		_ = s.InTx(ctx, func(tx store.Queries) error {
			if _, err := tx.InsertMessage(ctx, store.Message{ConversationID: conv.ID, Direction: store.Inbound,
				ChannelMessageID: "wamid.PANIC", Type: "text"}); err != nil {
				t.Fatal(err)
			}
			panic("boom")
		})
	}()
	msgs, err := s.ListMessages(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 0 {
		t.Fatalf("after a panicking transaction: %d messages, want 0", len(msgs))
	}
	// The lock is free: a write goes through at once.
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := s.InsertMessage(short, store.Message{ConversationID: conv.ID, Direction: store.Inbound,
		ChannelMessageID: "wamid.PANIC", Type: "text"}); err != nil {
		t.Fatalf("writing after the panic: %v", err)
	}
}

// A wa_id attaches to the contact known only by its user_id; a user_id that
// belongs to another contact is a conflict, never a silent merge.
func TestUpsertContactIdentity(t *testing.T) {
	s := newStore(t, filepath.Join(t.TempDir(), "yanit.db"))
	ctx := testCtx(t)
	byUser, err := s.UpsertContact(ctx, store.ContactUpsert{UserID: "TR.1", Name: "Deniz", Locale: "tr"})
	if err != nil {
		t.Fatal(err)
	}
	both, err := s.UpsertContact(ctx, store.ContactUpsert{WaID: "905550000401", UserID: "TR.1"})
	if err != nil {
		t.Fatal(err)
	}
	if both.ID != byUser.ID || both.WaID != "905550000401" || both.Name != "Deniz" || both.Locale != "tr" {
		t.Fatalf("after attaching the wa_id: %+v, want contact %d with the wa_id and its name and locale", both, byUser.ID)
	}
	other, err := s.UpsertContact(ctx, store.ContactUpsert{WaID: "905550000402"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.UpsertContact(ctx, store.ContactUpsert{WaID: other.WaID, UserID: "TR.1"})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("giving contact %d the user_id of contact %d: %v, want ErrConflict", other.ID, byUser.ID, err)
	}
	if got, err := s.GetContact(ctx, other.ID); err != nil || got.UserID != "" {
		t.Fatalf("contact after the conflict = %+v, %v; want it unchanged", got, err)
	}
}

// Writes naming a missing record report ErrNotFound.
func TestMissingReferences(t *testing.T) {
	s := newStore(t, filepath.Join(t.TempDir(), "yanit.db"))
	ctx := testCtx(t)
	if _, err := s.OpenConversation(ctx, 4242, "1001"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("opening a conversation of a missing contact: %v, want ErrNotFound", err)
	}
	if _, err := s.InsertMessage(ctx, store.Message{ConversationID: 4242, Direction: store.Outbound}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("inserting a message into a missing conversation: %v, want ErrNotFound", err)
	}
	if err := s.CloseConversation(ctx, 4242); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("closing a missing conversation: %v, want ErrNotFound", err)
	}
}

// A status without a channel id addresses no message, not every queued one.
func TestStatusWithoutChannelID(t *testing.T) {
	s := newStore(t, filepath.Join(t.TempDir(), "yanit.db"))
	ctx := testCtx(t)
	conv := newConversation(t, s, "905550000500")
	if _, err := s.InsertMessage(ctx, store.Message{ConversationID: conv.ID, Direction: store.Outbound,
		Type: "text", Status: store.StatusQueued}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateMessageStatus(ctx, "", store.StatusRead, 0, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("status for an empty channel id: %v, want ErrNotFound", err)
	}
	msgs, err := s.ListMessages(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if msgs[0].Status != store.StatusQueued {
		t.Fatalf("queued message now %q", msgs[0].Status)
	}
}

// Every statement of queries/*.sql compiles against the migrated schema.
func TestQueriesCompile(t *testing.T) {
	s := newStore(t, filepath.Join(t.TempDir(), "yanit.db"))
	ctx := testCtx(t)
	for name, text := range sqlText {
		stmt, err := s.db.PrepareContext(ctx, text)
		if err != nil {
			t.Errorf("query %s: %v", name, err)
			continue
		}
		stmt.Close()
	}
}

// Claim reads only unfinished jobs, through the partial indexes, so that
// finished jobs piling up never slow it down.
func TestClaimReadsOnlyUnfinishedJobs(t *testing.T) {
	s := newStore(t, filepath.Join(t.TempDir(), "yanit.db"))
	ctx := testCtx(t)
	rows, err := s.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+sqlClaimJobs,
		sql.Named("worker", "w"), sql.Named("kinds", `["probe"]`), sql.Named("limit", 10),
		sql.Named("now", int64(0)), sql.Named("lease_until", int64(0)))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	for _, want := range []string{"jobs_unfinished_run_at", "jobs_unfinished_key"} {
		if !strings.Contains(text, want) {
			t.Errorf("claim plan does not use %s:\n%s", want, text)
		}
	}
	for _, step := range plan {
		// The jobs table goes by jobs, j and h in the statement.
		f := strings.Fields(step)
		if len(f) >= 2 && f[0] == "SCAN" && (f[1] == "jobs" || f[1] == "j" || f[1] == "h") &&
			!strings.Contains(step, "USING INDEX jobs_unfinished_") {
			t.Errorf("claim plan scans the jobs table (%q):\n%s", step, text)
		}
	}
}

// BenchmarkClaim claims and completes one job at a time from a queue that
// keeps many finished jobs.
func BenchmarkClaim(b *testing.B) {
	s, err := openMigrated(context.Background(), filepath.Join(b.TempDir(), "yanit.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	// 20,000 finished jobs, written in one transaction.
	err = s.InTx(ctx, func(tx store.Queries) error {
		for i := range 20000 {
			j, err := tx.Enqueue(ctx, jobs.EnqueueParams{Kind: "probe", Key: fmt.Sprintf("conv:%d", i%50)})
			if err != nil {
				return err
			}
			if _, err := tx.Claim(ctx, jobs.ClaimParams{Worker: "w", Kinds: []string{"probe"}, Limit: 1, Lease: time.Minute}); err != nil {
				return err
			}
			if err := tx.Complete(ctx, "w", j.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		if _, err := s.Enqueue(ctx, jobs.EnqueueParams{Kind: "probe", Key: fmt.Sprintf("conv:%d", i%50)}); err != nil {
			b.Fatal(err)
		}
		js, err := s.Claim(ctx, jobs.ClaimParams{Worker: "w", Kinds: []string{"probe"}, Limit: 1, Lease: time.Minute})
		if err != nil || len(js) != 1 {
			b.Fatalf("claim: %v, %d jobs", err, len(js))
		}
		if err := s.Complete(ctx, "w", js[0].ID); err != nil {
			b.Fatal(err)
		}
	}
}

// The audit log is append-only: UPDATE and DELETE of it fail, and the
// entry stays as it was.
func TestAuditLogIsAppendOnly(t *testing.T) {
	s := newStore(t, filepath.Join(t.TempDir(), "yanit.db"))
	ctx := testCtx(t)
	e, err := s.AppendAudit(ctx, store.AuditEntry{Actor: "ayse", Action: "ticket.viewed", Target: "ticket:7"})
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{"UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"} {
		if _, err := s.db.ExecContext(ctx, stmt); err == nil || !strings.Contains(err.Error(), "audit_log is append-only") {
			t.Errorf("%s: %v, want the append-only error", stmt, err)
		}
	}
	got, err := s.ListAudit(ctx, store.AuditFilter{})
	if err != nil || len(got) != 1 || got[0].ID != e.ID || got[0].Actor != "ayse" {
		t.Fatalf("the log after the refused statements = %+v, %v; want the entry unchanged", got, err)
	}
}
