package main

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/yanit/yanit/channel/whatsapp/simulator"
	"github.com/yanit/yanit/store/postgres/pgtest"
)

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestCrashBetweenPersistAndReply kills yanit (SIGKILL) after it accepted
// webhooks and before it could reply, restarts it, and checks that every
// accepted message gets exactly one reply: the inbound messages, their turn
// jobs and the outbox survive the crash, and nothing is sent twice.
func TestCrashBetweenPersistAndReply(t *testing.T) {
	for name, dsn := range map[string]func(t *testing.T) string{
		"sqlite":   func(*testing.T) string { return "" },
		"postgres": func(t *testing.T) string { return pgtest.NewSchemaDSN(t) },
	} {
		t.Run(name, func(t *testing.T) { crashTest(t, dsn(t)) })
	}
}

func crashTest(t *testing.T, databaseURL string) {
	const (
		appSecret = "crash-app-secret"
		token     = "crash-token"
		phoneID   = "123456789012345"
		users     = 24
	)
	addr := freeAddr(t)
	sim, err := simulator.New(simulator.Options{
		AppSecret: appSecret, AccessToken: token, PhoneNumberID: phoneID,
		WebhookURL: "http://" + addr + "/webhooks/whatsapp", StatusDelay: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	graph := httptest.NewServer(sim.Routes())
	t.Cleanup(func() { sim.Close(); graph.Close() })

	dataDir := t.TempDir() // both lives share the store
	env := func(graphURL string) []string {
		return []string{
			"YANIT_HTTP_ADDR=" + addr, "YANIT_DATA_DIR=" + dataDir, "YANIT_DATABASE_URL=" + databaseURL,
			"YANIT_WHATSAPP_GRAPH_URL=" + graphURL, "YANIT_WHATSAPP_PHONE_NUMBER_ID=" + phoneID,
			"YANIT_WHATSAPP_ACCESS_TOKEN=" + token, "YANIT_WHATSAPP_APP_SECRET=" + appSecret,
			"YANIT_WHATSAPP_VERIFY_TOKEN=v",
			"YANIT_JOBS_LEASE=2s", "YANIT_JOBS_POLL_INTERVAL=20ms",
		}
	}
	// First life: the Graph API is unreachable, so nothing can be replied.
	first := startCLI(t, env("http://127.0.0.1:1"), "serve")
	base := first.baseURL(t)
	waitStatus(t, base+"/readyz", 200, "ready")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	accepted := make([]bool, users)
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := sim.User(fmt.Sprintf("Kullanıcı %d", i), fmt.Sprintf("9053200000%02d", i))
			m, err := u.SendText(ctx, "merhaba")
			accepted[i] = err == nil && m.Delivered
		}()
	}
	wg.Wait()
	time.Sleep(300 * time.Millisecond) // let turns run and sends fail mid-flight
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.cmd.Wait()
	for i, ok := range accepted {
		if !ok {
			t.Fatalf("user %d: webhook not accepted before the crash", i)
		}
		if n := len(businessMessages(sim.User("", fmt.Sprintf("9053200000%02d", i)))); n != 0 {
			t.Fatalf("user %d got %d replies while the Graph API was down", i, n)
		}
	}

	// Second life on the same database, with the Graph API back.
	second := startCLI(t, env(simulator.GraphURL(graph.URL)), "serve")
	waitStatus(t, second.baseURL(t)+"/readyz", 200, "ready")
	deadline := time.Now().Add(45 * time.Second)
	for i := range users {
		u := sim.User("", fmt.Sprintf("9053200000%02d", i))
		for len(businessMessages(u)) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("user %d has no reply 45 s after the restart\n%s", i, second.logs())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	time.Sleep(time.Second) // a duplicate would arrive now
	for i := range users {
		if n := len(businessMessages(sim.User("", fmt.Sprintf("9053200000%02d", i)))); n != 1 {
			t.Errorf("user %d got %d replies, want exactly 1", i, n)
		}
	}
	second.cmd.Process.Signal(syscall.SIGTERM)
	second.cmd.Wait()
}

func businessMessages(u *simulator.User) []simulator.Message {
	var out []simulator.Message
	for _, m := range u.Transcript() {
		if m.FromBusiness() {
			out = append(out, m)
		}
	}
	return out
}
