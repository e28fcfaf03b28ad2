package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/channel/whatsapp/simulator"
	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres/pgtest"
	"github.com/yanit/yanit/store/sqlite"
)

var (
	routerDir  string // removed by TestMain
	routerOnce sync.Once
	router     assistant.Router
	routerErr  error
)

// demoRouter is the demo assistant of yanit dev, trained once per test
// binary: under -race, training takes tens of seconds, and every
// in-process start would pay it.
func demoRouter(t testing.TB) assistant.Router {
	t.Helper()
	routerOnce.Do(func() {
		cfg, err := devDefaults()
		if err != nil {
			routerErr = err
			return
		}
		log := slog.New(slog.DiscardHandler)
		box, err := newToolbox(cfg, log, prometheus.NewRegistry())
		if err != nil {
			routerErr = err
			return
		}
		// The shared router keeps its knowledge in a store of its own.
		routerDir, err = os.MkdirTemp("", "yanit-router-")
		if err != nil {
			routerErr = err
			return
		}
		kst, err := sqlite.Open(context.Background(), filepath.Join(routerDir, "knowledge.db"))
		if err == nil {
			err = kst.Migrate(context.Background())
		}
		if err != nil {
			routerErr = err
			return
		}
		router, routerErr = assistants(context.Background(), cfg, log, box.registry, kst)
	})
	if routerErr != nil {
		t.Fatal(routerErr)
	}
	return router
}

// startDev runs yanit dev in-process on a free port and returns it once the
// store is ready; it stops at the test's cleanup.
func startDev(t *testing.T, databaseURL string) *app {
	t.Helper()
	a, stop := startDevStoppable(t, databaseURL)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return a
}

// startDevStoppable is startDev with the stop in the caller's hands: stop
// cancels serve's context (as SIGTERM does) and returns what serve returned.
func startDevStoppable(t *testing.T, databaseURL string) (*app, func() error) {
	t.Helper()
	return startDevWith(t, databaseURL, demoRouter(t))
}

// startDevOwnAssistants is startDev with the assistants built on the
// app's own store, as yanit dev builds them, so that what the knowledge
// API changes is what they answer from.
func startDevOwnAssistants(t *testing.T) *app {
	t.Helper()
	return startDevOwnAssistantsOn(t, "")
}

// startDevOwnAssistantsOn is startDevOwnAssistants on the database (""
// for SQLite).
func startDevOwnAssistantsOn(t *testing.T, databaseURL string) *app {
	t.Helper()
	demoRouter(t) // trains the classifier once per process; the build below reuses it
	a, stop := startDevWith(t, databaseURL, nil)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return a
}

// startDevWith starts yanit dev in process, answering with router, or
// with the assistants of the config when it is nil.
func startDevWith(t testing.TB, databaseURL string, router assistant.Router, tune ...func(*config.Config)) (*app, func() error) {
	t.Helper()
	return startDevLogging(t, databaseURL, router, nil, tune...)
}

// startDevLogging is startDevWith writing its log through the production
// logger (newLogger: personal data redacted) at debug level into logs,
// when logs is not nil.
func startDevLogging(t testing.TB, databaseURL string, router assistant.Router, logs io.Writer, tune ...func(*config.Config)) (*app, func() error) {
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
	for _, f := range tune {
		f(&cfg)
	}
	if err := cfg.Validate(config.Dev); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *app, 1)
	done := make(chan error, 1)
	go func() {
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		if logs != nil {
			log = newLogger(logs, config.Log{Level: "debug", Format: "text"}, cfg.Privacy)
		}
		done <- serve(ctx, cfg, log, serveOptions{simulator: true, router: router, started: func(a *app) { started <- a }})
	}()
	var once sync.Once
	var serveErr error
	stop := func() error {
		once.Do(func() { cancel(); serveErr = <-done })
		return serveErr
	}
	t.Cleanup(func() { stop() })
	var a *app
	select {
	case a = <-started:
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	}
	select {
	case <-a.ready:
	case <-time.After(30 * time.Second):
		t.Fatal("store not ready after 30 s")
	}
	return a, stop
}

func reply(t *testing.T, u *simulator.User, after simulator.Message) simulator.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := u.NextReply(ctx, after)
	if err != nil {
		t.Fatalf("no reply from yanit: %v\ntranscript: %+v", err, u.Transcript())
	}
	return m
}

// TestChatThroughTheSimulator is the thin path end to end on both stores: a
// WhatsApp user writes, taps a button and picks a list row; every step goes
// as a signed webhook into yanit, through a turn, the outbox and the Graph
// API, back to the user; statuses come back and are recorded.
func TestChatThroughTheSimulator(t *testing.T) {
	for name, url := range map[string]func(t *testing.T) string{
		"sqlite":   func(*testing.T) string { return "" },
		"postgres": func(t *testing.T) string { return pgtest.NewSchemaDSN(t) },
	} {
		t.Run(name, func(t *testing.T) {
			a := startDev(t, url(t))
			ctx := context.Background()
			u := a.sim.User("Ayşe", "905321234567")

			sent, err := u.SendText(ctx, "Merhaba")
			if err != nil {
				t.Fatal(err)
			}
			greeting := reply(t, u, sent)
			if b, ok := greeting.Outbound.Content.(*whatsapp.Buttons); !ok || !strings.Contains(b.Body, "Merhaba") || len(b.Buttons) != 3 {
				t.Fatalf("greeting = %+v, want the demo greeting with three buttons", greeting)
			}
			tap, err := u.TapButton(ctx, "Diğer konular")
			if err != nil {
				t.Fatal(err)
			}
			list := reply(t, u, tap)
			if l, ok := list.Outbound.Content.(*whatsapp.List); !ok || len(l.Sections[0].Rows) != 8 {
				t.Fatalf("after tapping Diğer konular: %+v, want the list of eight topics", list)
			}
			pick, err := u.PickRow(ctx, "Mağaza saatleri")
			if err != nil {
				t.Fatal(err)
			}
			hours := reply(t, u, pick)
			if txt, ok := hours.Outbound.Content.(*whatsapp.Text); !ok || !strings.Contains(txt.Body, "10:00") || !strings.Contains(txt.Body, "Kaynak: Mağazalarımız") {
				t.Fatalf("after picking the hours row: %+v, want the hours with their source", hours.Outbound)
			}
			// A tool call: the order status comes from the demo tools.
			ask, err := u.SendText(ctx, "SP-2026-0001 numaralı siparişim nerede?")
			if err != nil {
				t.Fatal(err)
			}
			status := reply(t, u, ask)
			if txt, ok := status.Outbound.Content.(*whatsapp.Text); !ok || !strings.Contains(txt.Body, "Kargoya verildi") || !strings.Contains(txt.Body, "Yurtiçi") {
				t.Fatalf("order status reply: %+v, want the shipped order with its carrier", status.Outbound)
			}

			// yanit recorded the conversation, its turns and the deliveries.
			st := a.store
			convs, err := st.ListConversations(ctx, store.ConversationFilter{})
			if err != nil || len(convs) != 1 {
				t.Fatalf("conversations = %d (%v), want 1", len(convs), err)
			}
			turns, _ := st.ListTurns(ctx, convs[0].ID)
			var intents []string
			for _, tr := range turns {
				intents = append(intents, tr.Intent)
			}
			if strings.Join(intents, ",") != "greeting,menu_more,store_hours,order_status" {
				t.Fatalf("turn intents = %v", intents)
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				msgs, _ := st.ListMessages(ctx, convs[0].ID)
				delivered := 0
				for _, m := range msgs {
					if m.Direction == store.Outbound && store.StatusRank(m.Status) >= store.StatusRank(store.StatusDelivered) && m.Status != store.StatusFailed {
						delivered++
					}
				}
				if delivered == 4 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d of 4 replies delivered after 20 s: %+v", delivered, msgs)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// TestShutdownLetsInFlightRequestsFinish starts a webhook, stops yanit (as
// SIGTERM does) while the request body is still arriving, and checks that
// the request completes with 200 and its message is stored: shutdown waits
// for in-flight requests before it closes the store.
func TestShutdownLetsInFlightRequestsFinish(t *testing.T) {
	a, stop := startDevStoppable(t, "")
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"908502220000","phone_number_id":"` +
		a.cfg.WhatsApp.PhoneNumberID + `"},"contacts":[{"profile":{"name":"Can"},"wa_id":"905550001122"}],"messages":[{"from":"905550001122","id":"wamid.SHUTDOWN1","timestamp":"1764080000","type":"text","text":{"body":"son mesaj"}}]}}]}]}`)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, "http://"+a.addr.String()+"/webhooks/whatsapp", pr)
	req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign(a.cfg.WhatsApp.AppSecret, body))
	req.ContentLength = int64(len(body))
	result := make(chan int, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			result <- 0
			return
		}
		res.Body.Close()
		result <- res.StatusCode
	}()
	half := len(body) / 2
	if _, err := pw.Write(body[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the request is in flight
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(200 * time.Millisecond) // shutdown has begun and is waiting
	if _, err := pw.Write(body[half:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if code := <-result; code != http.StatusOK {
		t.Fatalf("in-flight webhook during shutdown answered %d, want 200", code)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("serve: %v", err)
	}
	st, err := sqlite.Open(context.Background(), sqlitePath(a.cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	convs, _ := st.ListConversations(context.Background(), store.ConversationFilter{})
	if len(convs) != 1 {
		t.Fatalf("after shutdown: %d conversations, want the in-flight message's one", len(convs))
	}
	if msgs, _ := st.ListMessages(context.Background(), convs[0].ID); len(msgs) == 0 || msgs[0].ChannelMessageID != "wamid.SHUTDOWN1" {
		t.Fatalf("the in-flight message is not stored: %+v", msgs)
	}
}
