package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres"
	"github.com/yanit/yanit/store/postgres/pgtest"
)

// TestServeAppliesRetentionOnSchedule checks the retention job of a running
// yanit serve on both stores: messages older than the demo assistant's
// retention_days lose their bodies and payloads within a few runs of
// privacy.retention_every, each clearing is in the audit log, and the
// messages of a recent conversation are kept whole. Two rounds of old
// messages, the second written after the first was cleared, show that the
// job runs again and again, not only when serve starts.
func TestServeAppliesRetentionOnSchedule(t *testing.T) {
	for name, dsn := range map[string]func(t *testing.T) string{
		"sqlite":   func(*testing.T) string { return "" },
		"postgres": func(t *testing.T) string { return pgtest.NewSchemaDSN(t) },
	} {
		t.Run(name, func(t *testing.T) {
			router := demoRouter(t)
			policies := retentionPolicies(router)
			if len(policies) != 1 || policies[0].Days <= 0 || len(policies[0].PhoneNumberIDs) != 1 {
				t.Fatalf("the demo router's retention policies are %+v, want one assistant keeping some days on one number", policies)
			}
			number, days := policies[0].PhoneNumberIDs[0], policies[0].Days
			a := startRetaining(t, dsn(t), router, 200*time.Millisecond)
			st := a.store
			ctx := context.Background()

			ayse, err := st.UpsertContact(ctx, store.ContactUpsert{WaID: "905321234567", Name: "Ayşe"})
			if err != nil {
				t.Fatal(err)
			}
			can, err := st.UpsertContact(ctx, store.ContactUpsert{WaID: "905559876543", Name: "Can"})
			if err != nil {
				t.Fatal(err)
			}
			oldConv, err := st.OpenConversation(ctx, ayse.ID, number)
			if err != nil {
				t.Fatal(err)
			}
			recentConv, err := st.OpenConversation(ctx, can.ID, number)
			if err != nil {
				t.Fatal(err)
			}
			recent := []store.Message{
				privacyMessage(t, st, recentConv.ID, store.Inbound, "Bu haftaki siparişim SP-2026-0042 nerede?"),
				privacyMessage(t, st, recentConv.ID, store.Outbound, "Siparişiniz kargoya verildi."),
			}
			longAgo := time.Now().AddDate(0, 0, -(days + 35))

			// Each round's messages are made old in one statement, so that
			// one run of the job clears them together.
			for round, bodies := range [][]string{
				{"Geçen yılki siparişim, TC 10000000146", "Adresim Moda, Kadıköy"},
				{"Bir mesaj daha, IBAN TR330006100519786457841326"},
			} {
				var ids []int64
				for _, b := range bodies {
					ids = append(ids, privacyMessage(t, st, oldConv.ID, store.Inbound, b).ID)
				}
				backdate(t, a, ids, longAgo)
				waitFor(t, 20*time.Second, func() string {
					for _, id := range ids {
						m, err := st.GetMessage(ctx, id)
						if err != nil {
							return err.Error()
						}
						if m.Body != "" || !emptyPayload(m.Payload) {
							return fmt.Sprintf("message %d of round %d still has its content", id, round+1)
						}
					}
					return ""
				})
				waitFor(t, 20*time.Second, func() string {
					entries, err := st.ListAudit(ctx, store.AuditFilter{Action: "retention."})
					if err != nil {
						return err.Error()
					}
					if len(entries) != round+1 {
						return "the audit log holds " + auditLines(entries) + "; want one retention entry per round"
					}
					e := entries[0] // newest first
					var detail struct {
						Assistant string          `json:"assistant"`
						Cleared   store.Retention `json:"cleared"`
					}
					if e.Actor != "system" || e.Action != "retention.expired" || e.Target != "assistant:"+policies[0].Assistant ||
						json.Unmarshal(e.Detail, &detail) != nil || detail.Assistant != policies[0].Assistant ||
						detail.Cleared.Messages != len(ids) {
						return "the newest retention entry is " + auditLines(entries[:1]) + "; want the system clearing this round's messages"
					}
					return ""
				})
			}

			// Old messages keep their rows; the recent conversation is whole.
			all, err := st.ListMessages(ctx, oldConv.ID)
			if err != nil || len(all) != 3 {
				t.Errorf("the old conversation lists %d messages (%v), want its 3 rows kept", len(all), err)
			}
			for _, want := range recent {
				m, err := st.GetMessage(ctx, want.ID)
				if err != nil || m.Body != want.Body || !jsonEqualBytes(m.Payload, want.Payload) {
					t.Errorf("the recent message %d reads %q %s (%v), want %q %s untouched", want.ID, m.Body, m.Payload, err,
						want.Body, want.Payload)
				}
			}
		})
	}
}

// startRetaining starts yanit serve in process, answering with router,
// with the retention job every every. The config is validated before
// every is set: validation refuses an interval under a minute, which a
// test cannot wait for.
func startRetaining(t *testing.T, databaseURL string, router assistant.Router, every time.Duration) *app {
	t.Helper()
	cfg, err := devDefaults()
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Database.URL = databaseURL
	cfg.Jobs.PollInterval = 20 * time.Millisecond
	fillDevSecrets(&cfg)
	if err := cfg.Validate(config.Dev); err != nil {
		t.Fatal(err)
	}
	cfg.Privacy.RetentionEvery = every
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *app, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), serveOptions{router: router,
			started: func(a *app) { started <- a }})
	}()
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	})
	var a *app
	select {
	case a = <-started:
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	}
	select {
	case <-a.ready:
	case err := <-done:
		t.Fatalf("serve stopped before its store was ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("store not ready after 30 s")
	}
	return a
}

// backdate sets the creation time of the messages, as the passing of time
// would: the store dates what it writes now.
func backdate(t *testing.T, a *app, ids []int64, at time.Time) {
	t.Helper()
	ctx := context.Background()
	if pg, ok := rawStore(a.store).(*postgres.Store); ok {
		tag, err := pg.Pool().Exec(ctx, `UPDATE messages SET created_at = $1 WHERE id = ANY($2)`, at, ids)
		if err != nil || tag.RowsAffected() != int64(len(ids)) {
			t.Fatalf("backdating messages %v: %d rows, %v", ids, tag.RowsAffected(), err)
		}
		return
	}
	db := rawMessages(t, a.cfg.DataDir)
	args := []any{at.UnixMicro()}
	for _, id := range ids {
		args = append(args, id)
	}
	res, err := db.ExecContext(ctx, `UPDATE messages SET created_at = ? WHERE id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, args...)
	if err != nil {
		t.Fatalf("backdating messages %v: %v", ids, err)
	}
	if n, _ := res.RowsAffected(); n != int64(len(ids)) {
		t.Fatalf("backdating messages %v changed %d rows", ids, n)
	}
}

// waitFor polls cond until it returns "" or the deadline passes, then
// fails with cond's last answer.
func waitFor(t *testing.T, deadline time.Duration, cond func() string) {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		why := cond()
		if why == "" {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("after %s: %s", deadline, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func emptyPayload(p json.RawMessage) bool {
	s := strings.TrimSpace(string(p))
	return s == "" || s == "{}" || s == "null"
}

func jsonEqualBytes(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return string(xs) == string(ys)
}

func auditLines(es []store.AuditEntry) string {
	var lines []string
	for _, e := range es {
		lines = append(lines, e.Actor+" "+e.Action+" "+e.Target+" "+string(e.Detail))
	}
	return "[" + strings.Join(lines, "; ") + "]"
}
