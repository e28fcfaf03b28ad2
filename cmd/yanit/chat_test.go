package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chatCLI runs `yanit chat` with args as a child process on the data dir,
// typing input, and returns what it printed. The child's environment has
// no YANIT_* variable of the developer's but the data dir, so chat runs on
// the embedded store. It fails the test unless chat exits 0.
func chatCLI(t *testing.T, dataDir, input string, args ...string) string {
	t.Helper()
	// A guard against a chat that never ends, not a timing assertion.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := cliCommand(t, ctx, append([]string{"chat"}, args...)...)
	env := cmd.Env
	cmd.Env = nil
	for _, kv := range env {
		if !strings.HasPrefix(kv, "YANIT_") || kv == "YANIT_TEST_AS_CLI=1" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "YANIT_DATA_DIR="+dataDir, "YANIT_DATABASE_URL=")
	cmd.Dir = t.TempDir()
	cmd.Stdin = strings.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("yanit chat %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// A user greets, taps the first button, gives the order number, asks for a
// person; the conversation stays with the person on the next run, because
// chat keeps it in the embedded store of the data dir.
func TestChatConversation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()

	out := chatCLI(t, dir, "merhaba\n1\nSP-2026-0001\ntemsilci\n/quit\n", "--debug")
	// What the user reads, in the order of the conversation.
	seen := 0
	for _, want := range []string{
		"yanit: Merhaba!",
		"[1] Siparişim nerede?",
		"  · intent greeting",
		"yanit: Sipariş numaranızı yazar mısınız?", // typing 1 tapped the button
		"  · intent order_status",
		"tap) → ask",
		"Kargoya verildi",
		"Takip numarası: YK4816230957",
		"→ tool",
		"tool order_status ok",
		"yanit: Sizi ekibimizden birine aktarıyorum.",
		"→ handoff",
	} {
		i := strings.Index(out[seen:], want)
		if i < 0 {
			t.Fatalf("chat output lacks %q after what came before:\n%s", want, out)
		}
		seen += i + len(want)
	}
	if _, err := os.Stat(filepath.Join(dir, "yanit.db")); err != nil {
		t.Fatalf("chat did not keep its store in the data dir: %v", err)
	}

	// The next session finds the conversation with a person: the bot says
	// nothing, and the debug line says why.
	out = chatCLI(t, dir, "merhaba\n", "--debug")
	if !strings.Contains(out, "→ silent") {
		t.Errorf("second session: no silent turn:\n%s", out)
	}
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "yanit: ") || strings.HasPrefix(line, "> yanit: ") {
			t.Errorf("second session: the bot answered a conversation a person owns: %q\n%s", line, out)
		}
	}
}

func TestChatRejectsBadPhone(t *testing.T) {
	for _, phone := range []string{"abc", "1234567"} {
		t.Run(phone, func(t *testing.T) {
			isolate(t)
			t.Setenv("YANIT_DATA_DIR", t.TempDir())
			code, _, stderr := run(t, "chat", "--phone", phone)
			if code == 0 || !strings.Contains(stderr, "--phone") || !strings.Contains(stderr, phone) {
				t.Fatalf("chat --phone %s = %d %q, want a failure naming --phone and the value", phone, code, stderr)
			}
		})
	}
}
