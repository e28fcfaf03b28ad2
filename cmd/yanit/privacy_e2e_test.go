package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/configs"
	"github.com/yanit/yanit/llm/openai/openaitest"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres/pgtest"
)

// lockedBuffer collects the log lines of every goroutine of a yanit.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestPrivacyWithAModel runs yanit dev with the demo assistant in strict
// consent mode, understanding through a model (a recording
// OpenAI-compatible server), on both stores:
//   - before consent no turn runs and no request reaches the model;
//   - after consent, a message holding a TCKN, an e-mail, a card number
//     and an IBAN reaches the model, the log and the stored traces only
//     as placeholders, while the order tool still gets the order number.
func TestPrivacyWithAModel(t *testing.T) {
	const (
		tckn  = "10000000146"
		email = "ayse.yilmaz@example.com"
		card  = "4111 1111 1111 1111"
		iban  = "TR33 0006 1005 1978 6457 8413 26"
	)
	for name, url := range map[string]func(t *testing.T) string{
		"sqlite":   func(*testing.T) string { return "" },
		"postgres": func(t *testing.T) string { return pgtest.NewSchemaDSN(t) },
	} {
		t.Run(name, func(t *testing.T) {
			model := openaitest.New(t, openaitest.Config{Key: "k", Reply: func(req openaitest.ChatRequest) openaitest.Reply {
				if strings.HasPrefix(req.System(), "You route customer-service messages") {
					return openaitest.Reply{Content: "order_status"}
				}
				return openaitest.Reply{Content: "none"}
			}})
			def := bytes.Replace(configs.DemoAssistant, []byte("    mode: off\n"), []byte("    mode: strict\n"), 1)
			def = bytes.Replace(def, []byte("  provider: local\n"), []byte("  provider: llm\n"), 1)
			file := filepath.Join(t.TempDir(), "assistant.yaml")
			if err := os.WriteFile(file, def, 0o600); err != nil {
				t.Fatal(err)
			}
			logs := &lockedBuffer{}
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("yanit's log:\n%s", logs.String())
				}
			})
			demoRouter(t) // the classifier trains once per process
			a, stop := startDevLogging(t, url(t), nil, logs, func(c *config.Config) {
				// The demo on a second number brings the demo's tools and
				// backend, which the strict copy calls too.
				c.Assistants = []config.Assistant{{Name: "strict", PhoneNumberIDs: []string{c.WhatsApp.PhoneNumberID}, File: file,
					KnowledgeDir: filepath.Join("..", "..", "configs", "knowledge")}, {Name: "demo", PhoneNumberIDs: []string{"100000000000099"}}}
				c.LLM = config.LLM{Provider: "openai", BaseURL: model.URL(), APIKey: "k", APIType: "openai", ChatModel: "gpt-test",
					Timeout: 5 * time.Second, MaxRetries: 1}
			})
			t.Cleanup(func() { stop() })
			ctx := context.Background()
			u := a.sim.User("Ayşe", "905321234567")

			first, err := u.SendText(ctx, "Merhaba, TC kimlik numaram "+tckn)
			if err != nil {
				t.Fatal(err)
			}
			ask := reply(t, u, first)
			if b, ok := ask.Outbound.Content.(*whatsapp.Buttons); !ok || !strings.Contains(b.Body, "KVKK") || len(b.Buttons) != 2 {
				t.Fatalf("first reply %+v, want the consent question with two buttons", ask.Outbound)
			}
			tap, err := u.TapButton(ctx, "Onaylıyorum")
			if err != nil {
				t.Fatal(err)
			}
			if thanks := reply(t, u, tap); !strings.Contains(whatsapp.Summary(thanks.Outbound.Content), "Teşekkürler") {
				t.Fatalf("after consent: %+v, want thanks", thanks.Outbound)
			}
			if n := len(model.Requests()); n != 0 {
				t.Fatalf("%d requests reached the model before the user's first real question, want 0", n)
			}
			convs, _ := a.store.ListConversations(ctx, store.ConversationFilter{})
			if len(convs) != 1 {
				t.Fatalf("%d conversations, want 1", len(convs))
			}
			if turns, _ := a.store.ListTurns(ctx, convs[0].ID); len(turns) != 1 || turns[0].Reason == "" || !strings.Contains(turns[0].Reason, "consent") {
				t.Fatalf("turns %+v, want only the consent turn", turns)
			}
			msgs, _ := a.store.ListMessages(ctx, convs[0].ID)
			if msgs[0].Direction != store.Inbound || msgs[0].Body != "" {
				t.Fatalf("the message written before consent is kept: %q", msgs[0].Body)
			}

			q, err := u.SendText(ctx, "SP-2026-0001 numaralı siparişim nerede? TC "+tckn+", e-posta "+email+", kart "+card+", IBAN "+iban)
			if err != nil {
				t.Fatal(err)
			}
			status := reply(t, u, q)
			if body := whatsapp.Summary(status.Outbound.Content); !strings.Contains(body, "Kargoya verildi") {
				t.Fatalf("order status reply %q, want the order the tool found by its number", body)
			}
			if len(model.Requests()) == 0 {
				t.Fatal("no request reached the model: the test proves nothing")
			}
			secrets := []string{tckn, email, card, "4111111111111111", iban, "TR330006100519786457841326"}
			for _, r := range model.Requests() {
				for _, v := range secrets {
					if strings.Contains(string(r.Body), v) {
						t.Errorf("a request to the model carries %q: %s", v, r.Body)
					}
				}
			}
			turns, _ := a.store.ListTurns(ctx, convs[0].ID)
			for _, tr := range turns {
				for _, v := range secrets {
					if strings.Contains(string(tr.Trace), v) {
						t.Errorf("a stored trace carries %q: %s", v, tr.Trace)
					}
				}
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			log := logs.String()
			if !strings.Contains(log, "level=DEBUG") && !strings.Contains(log, "level=INFO") {
				t.Fatal("nothing was logged: the test proves nothing")
			}
			for _, v := range secrets {
				if strings.Contains(log, v) {
					t.Errorf("the log carries %q", v)
				}
			}
		})
	}
}
