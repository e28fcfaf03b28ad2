package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgvector/pgvector-go"

	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres"
	"github.com/yanit/yanit/store/postgres/pgtest"
	"github.com/yanit/yanit/store/storetest"
)

// harness opens migrated stores, each test in a schema of its own.
var harness = storetest.Harness{
	Name:   "postgres",
	NewDSN: func(t *testing.T) string { return pgtest.NewSchemaDSN(t) },
	Open:   openMigrated,
}

func openMigrated(ctx context.Context, dsn string) (store.Store, error) {
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func TestMain(m *testing.M) {
	// The two-process test of the suite starts this binary as its workers.
	storetest.WorkerProcess(harness)
	m.Run()
}

func TestConformance(t *testing.T) {
	pgtest.Require(t)
	storetest.Run(t, harness)
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestMigrateConcurrently(t *testing.T) {
	dsn := pgtest.NewSchemaDSN(t)
	ctx := testContext(t)
	// Two processes start at once on a fresh schema: both migrate, neither
	// fails, and the schema ends up migrated once.
	stores := make([]*postgres.Store, 2)
	for i := range stores {
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	if cur, _, err := stores[0].MigrationStatus(ctx); err != nil || cur != 0 {
		t.Fatalf("status of a fresh schema: current %d, error %v; want 0, nil", cur, err)
	}
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrator %d: %v", i, err)
		}
	}
	var latest int64
	for i, s := range stores {
		cur, l, err := s.MigrationStatus(ctx)
		if err != nil || l < 1 || cur != l {
			t.Errorf("store %d after migrating: current %d, latest %d, error %v", i, cur, l, err)
		}
		latest = l
	}
	// Each migration is recorded once: versions run 1, 2, …, latest.
	var applied, versions int64
	err := stores[0].Pool().QueryRow(ctx,
		"SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0").Scan(&applied, &versions)
	if err != nil || applied != latest || versions != latest {
		t.Fatalf("applied migrations recorded: %d of %d versions (error %v), want each of the %d once",
			applied, versions, err, latest)
	}
}

func TestOpenErrorsHideThePassword(t *testing.T) {
	const password = "s3cret-Pa55"
	for _, tc := range []struct{ name, dsn, want string }{
		{"unreachable", "postgres://yanit:" + password + "@127.0.0.1:1/yanit_test?sslmode=disable", "connecting to postgres"},
		{"malformed", "postgres://yanit:" + password + "@127.0.0.1:notaport/yanit_test", "parsing the postgres DSN"},
		{"malformed with @", "postgres://yanit:@" + password + "@127.0.0.1:notaport/yanit_test", "parsing the postgres DSN"},
		{"key-value", "host=127.0.0.1 port=1 user=yanit password=" + password + " dbname=yanit_test sslmode=disable", "connecting to postgres"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			s, err := postgres.Open(ctx, tc.dsn)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if strings.Contains(err.Error(), password) {
				t.Fatalf("the error shows the password: %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestVectorTypesRegistered(t *testing.T) {
	s := pgtest.NewStore(t)
	ctx := testContext(t)
	var v pgvector.Vector
	in := pgvector.NewVector([]float32{1, 2.5, -3})
	if err := s.Pool().QueryRow(ctx, "SELECT $1::vector", in).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if got := v.Slice(); len(got) != 3 || got[1] != 2.5 {
		t.Fatalf("vector read back = %v", got)
	}
}

// TestEnqueueKeepsKeyOrderAcrossTransactions: job ids are drawn at insert,
// and transactions commit in any order. An uncommitted job of a key must not
// let a later job of the key become its head: the later enqueue waits for the
// earlier transaction, so a claim never runs two jobs of a key at once.
func TestEnqueueKeepsKeyOrderAcrossTransactions(t *testing.T) {
	s := pgtest.NewStore(t)
	ctx := testContext(t)
	probe := func(key string) jobs.EnqueueParams { return jobs.EnqueueParams{Kind: "probe", Key: key} }
	claim := func() []int64 {
		t.Helper()
		js, err := s.Claim(ctx, jobs.ClaimParams{Worker: "w", Kinds: []string{"probe"}, Limit: 10, Lease: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]int64, len(js))
		for i, j := range js {
			ids[i] = j.ID
		}
		return ids
	}

	// Transaction A enqueues the first job of conv:X and stays open until
	// commitA, at the latest when the test ends.
	enqueued, commitA, doneA := make(chan int64), make(chan struct{}), make(chan error, 1)
	releaseA := sync.OnceFunc(func() { close(commitA) })
	t.Cleanup(releaseA)
	go func() {
		doneA <- s.InTx(ctx, func(tx store.Queries) error {
			j, err := tx.Enqueue(ctx, probe("conv:X"))
			if err != nil {
				close(enqueued)
				return err
			}
			enqueued <- j.ID
			<-commitA
			return nil
		})
	}()
	first, ok := <-enqueued
	if !ok {
		t.Fatal(<-doneA)
	}

	// B enqueues the second job of conv:X: it waits for A.
	type result struct {
		job jobs.Job
		err error
	}
	doneB := make(chan result, 1)
	go func() {
		j, err := s.Enqueue(ctx, probe("conv:X"))
		doneB <- result{j, err}
	}()
	waitForKeyLock(t, s, doneB)

	// C, on another key, is not held up, and draws its id before B.
	other, err := s.Enqueue(ctx, probe("conv:Y"))
	if err != nil {
		t.Fatal(err)
	}
	if got := claim(); len(got) != 1 || got[0] != other.ID {
		t.Fatalf("claim while A is open = %v, want only conv:Y's job %d (nothing of conv:X is visible)", got, other.ID)
	}

	releaseA()
	if err := <-doneA; err != nil {
		t.Fatal(err)
	}
	b := <-doneB
	if b.err != nil {
		t.Fatal(b.err)
	}
	second := b.job.ID
	if !(first < other.ID && other.ID < second) {
		t.Fatalf("ids: A %d, C %d, B %d; want B's drawn after A committed", first, other.ID, second)
	}
	if got := claim(); len(got) != 1 || got[0] != first {
		t.Fatalf("claim after A committed = %v, want [%d], the head of conv:X", got, first)
	}
	if err := s.Complete(ctx, "w", first); err != nil {
		t.Fatal(err)
	}
	if got := claim(); len(got) != 1 || got[0] != second {
		t.Fatalf("claim after the head completed = %v, want [%d]", got, second)
	}
}

// waitForKeyLock waits until some session waits for a job key's advisory
// lock, i.e. a keyed Enqueue is blocked; it fails the test when the enqueue
// that should block reports done first.
func waitForKeyLock[T any](t *testing.T, s *postgres.Store, done <-chan T) {
	t.Helper()
	ctx := testContext(t)
	for {
		var waiting bool
		err := s.Pool().QueryRow(ctx, `SELECT EXISTS (
			SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'
			  AND query LIKE '%key_lock%')`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("no enqueue waited for the key's lock")
		case r := <-done:
			t.Fatalf("a job of conv:X was enqueued while an earlier one was uncommitted: %+v", r)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestContactIdentityConflict(t *testing.T) {
	s := pgtest.NewStore(t)
	ctx := testContext(t)
	byPhone, err := s.UpsertContact(ctx, store.ContactUpsert{WaID: "905550000100"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpsertContact(ctx, store.ContactUpsert{UserID: "TR.100"}); err != nil {
		t.Fatal(err)
	}
	// The user id belongs to another contact: a conflict, and inside a
	// transaction the transaction goes on.
	err = s.InTx(ctx, func(tx store.Queries) error {
		_, err := tx.UpsertContact(ctx, store.ContactUpsert{WaID: "905550000100", UserID: "TR.100"})
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("upsert taking another contact's user id: %v, want ErrConflict", err)
		}
		_, err = tx.UpsertContact(ctx, store.ContactUpsert{WaID: "905550000100", Name: "Deniz"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetContact(ctx, byPhone.ID)
	if err != nil || got.Name != "Deniz" || got.UserID != "" {
		t.Fatalf("contact after the conflict = %+v, %v; want the name set and no user id", got, err)
	}
	// A wa_id attaches to the contact known by the user id alone.
	attached, err := s.UpsertContact(ctx, store.ContactUpsert{WaID: "905550000101", UserID: "TR.100"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.UpsertContact(ctx, store.ContactUpsert{UserID: "TR.100"})
	if err != nil || again.ID != attached.ID || again.WaID != "905550000101" {
		t.Fatalf("user-id contact after attaching a wa_id = %+v, %v; want id %d with the wa_id", again, err, attached.ID)
	}
}

func TestConcurrentUpsertsMakeOneContact(t *testing.T) {
	s := pgtest.NewStore(t)
	ctx := testContext(t)
	ids := make([]int64, 8)
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			c, err := s.UpsertContact(ctx, store.ContactUpsert{WaID: "905550000200", UserID: "TR.200"})
			ids[i], errs[i] = c.ID, err
		})
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("upsert %d: id %d, error %v; want id %d", i, ids[i], errs[i], ids[0])
		}
	}
}

// The audit log is append-only: UPDATE, DELETE and TRUNCATE of it fail,
// even a statement matching no row, and the entry stays as it was.
func TestAuditLogIsAppendOnly(t *testing.T) {
	s := pgtest.NewStore(t)
	ctx := testContext(t)
	e, err := s.AppendAudit(ctx, store.AuditEntry{Actor: "ayse", Action: "ticket.viewed", Target: "ticket:7"})
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"UPDATE audit_log SET actor = 'mallory'",
		"DELETE FROM audit_log",
		"DELETE FROM audit_log WHERE id = -1",
		"TRUNCATE audit_log",
	} {
		if _, err := s.Pool().Exec(ctx, stmt); err == nil || !strings.Contains(err.Error(), "audit_log is append-only") {
			t.Errorf("%s: %v, want the append-only error", stmt, err)
		}
	}
	got, err := s.ListAudit(ctx, store.AuditFilter{})
	if err != nil || len(got) != 1 || got[0].ID != e.ID || got[0].Actor != "ayse" {
		t.Fatalf("the log after the refused statements = %+v, %v; want the entry unchanged", got, err)
	}
}
