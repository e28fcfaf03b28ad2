package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/channel/whatsapp/simulator"
	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres/pgtest"
)

// startDev runs yanit dev in-process on a free port and returns it once the
// store is ready.
func startDev(t *testing.T, databaseURL string) *app {
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
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *app, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), serveOptions{simulator: true, started: func(a *app) { started <- a }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
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
	return a
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
			tap, err := u.TapButton(ctx, "Mağaza / Store")
			if err != nil {
				t.Fatal(err)
			}
			list := reply(t, u, tap)
			if l, ok := list.Outbound.Content.(*whatsapp.List); !ok || len(l.Sections[0].Rows) != 3 {
				t.Fatalf("after tapping Mağaza: %+v, want a list of three rows", list)
			}
			pick, err := u.PickRow(ctx, "Çalışma saatleri")
			if err != nil {
				t.Fatal(err)
			}
			hours := reply(t, u, pick)
			if txt, ok := hours.Outbound.Content.(*whatsapp.Text); !ok || !strings.Contains(txt.Body, "10:00-22:00") {
				t.Fatalf("after picking the hours row: %+v", hours.Outbound)
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
			if strings.Join(intents, ",") != "greeting,store_info,hours" {
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
				if delivered == 3 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d of 3 replies delivered after 20 s: %+v", delivered, msgs)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}
