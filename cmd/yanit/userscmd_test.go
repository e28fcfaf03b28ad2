package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres/pgtest"
	"github.com/yanit/yanit/web"
)

// runStdin executes the CLI in-process, as run does, with stdin as its
// standard input.
func runStdin(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(&out, &errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	if err := root.ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(&errOut, "yanit:", err)
		return 1, out.String(), errOut.String()
	}
	return 0, out.String(), errOut.String()
}

// openConfiguredStore opens the store the users commands of the test use.
func openConfiguredStore(t *testing.T) store.Store {
	t.Helper()
	cfg, err := loadDevConfig(&globals{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := openAndMigrate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestUsersCommands(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		isolate(t)
		dir := t.TempDir()
		t.Setenv("YANIT_DATA_DIR", dir)
		token := testUsersCommands(t)
		// Neither the token nor the password is anywhere in the files.
		files, err := filepath.Glob(filepath.Join(dir, "*"))
		if err != nil || len(files) == 0 {
			t.Fatalf("data dir files: %v %v", files, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{token, "yeni-sifre-2026", "ilk-sifre-2026"} {
				if bytes.Contains(b, []byte(secret)) {
					t.Errorf("%s holds the secret %q in plain text", f, secret)
				}
			}
		}
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.NewSchemaDSN(t)
		isolate(t)
		t.Setenv("YANIT_DATABASE_URL", dsn)
		testUsersCommands(t)
	})
}

// testUsersCommands runs the users commands against the configured store
// and returns the valid API token they made.
func testUsersCommands(t *testing.T) string {
	ctx := context.Background()
	ok := func(stdin string, args ...string) string {
		t.Helper()
		code, out, errOut := runStdin(t, stdin, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
		}
		return out
	}
	fails := func(stdin string, want []string, args ...string) {
		t.Helper()
		code, out, errOut := runStdin(t, stdin, args...)
		if code != 1 {
			t.Errorf("%v: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
		}
		for _, w := range want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr %q, want it to say %q", args, errOut, w)
			}
		}
	}
	row := func(login string) string {
		t.Helper()
		out := ok("", "users", "list")
		if !strings.HasPrefix(out, "LOGIN ") {
			t.Fatalf("users list: no header:\n%s", out)
		}
		for line := range strings.Lines(out) {
			if strings.HasPrefix(line, login+" ") {
				return strings.TrimRight(line, "\n")
			}
		}
		return ""
	}
	wantRow := func(login, pattern string) {
		t.Helper()
		if r := row(login); !regexp.MustCompile(`^` + pattern + `$`).MatchString(r) {
			t.Errorf("users list row of %s = %q, want it to match %s", login, r, pattern)
		}
	}

	code, out, errOut := runStdin(t, "ilk-sifre-2026\n", "users", "add", "ayse", "--role", "agent", "--teams", "billing, iade", "--password-stdin")
	if code != 0 || out != "added ayse (agent)\n" || strings.Contains(errOut, "ilk-sifre") {
		t.Fatalf("users add ayse: exit %d, stdout %q, stderr %q; want added ayse (agent)", code, out, errOut)
	}
	fails("baska-sifre-2026\n", []string{`user "ayse" exists already`}, "users", "add", "ayse", "--role", "content", "--password-stdin")
	fails("baska-sifre-2026\n", []string{`"boss"`, "admin, agent, content, qa"}, "users", "add", "mehmet", "--role", "boss", "--password-stdin")
	fails("kisa\n", []string{"4 characters long", "at least 10"}, "users", "add", "mehmet", "--role", "content", "--password-stdin")
	fails("", []string{"0 characters long"}, "users", "add", "mehmet", "--role", "content", "--password-stdin")
	fails("baska-sifre-2026\n", []string{"lower case"}, "users", "add", "Mehmet", "--role", "content", "--password-stdin")
	fails("baska-sifre-2026\n", []string{"--password-stdin"}, "users", "add", "mehmet", "--role", "content")
	fails("", []string{`"role" not set`}, "users", "add", "mehmet")
	if r := row("mehmet"); r != "" {
		t.Errorf("a refused add stored mehmet: %q", r)
	}
	ok("", "users", "add", "crm-bot", "--role", "content", "--name", "CRM", "--no-password")

	wantRow("ayse", `ayse +ayse +agent +billing,iade +active *`)
	wantRow("crm-bot", `crm-bot +CRM +content +tokens only *`)

	// A token is printed once, on stdout alone, and listed by its id.
	code, token, errOut := runStdin(t, "", "users", "token", "ayse", "--name", "crm")
	m := regexp.MustCompile(`^token (\d+) of ayse \(agent\), shown once:\n$`).FindStringSubmatch(errOut)
	if code != 0 || !regexp.MustCompile(`^yanit_[A-Za-z0-9_-]{43}\n$`).MatchString(token) || m == nil {
		t.Fatalf("users token ayse: exit %d, stdout %q, stderr %q; want the token alone on stdout and its id on stderr", code, token, errOut)
	}
	token, id := strings.TrimSpace(token), m[1]
	wantRow("ayse", `ayse +ayse +agent +billing,iade +active +`+id+`:crm`)
	fails("", []string{"--name"}, "users", "token", "ayse")
	fails("", []string{`no user "nobody"`}, "users", "token", "nobody", "--name", "crm")
	_, token2, _ := runStdin(t, "", "users", "token", "ayse", "--name", "erp")
	token2 = strings.TrimSpace(token2)

	// Revoking takes the token off the list, once.
	if out := ok("", "users", "revoke", "ayse", id); out != "revoked token "+id+" (crm) of ayse\n" {
		t.Errorf("users revoke ayse %s: %q", id, out)
	}
	fails("", []string{"token " + id + " of ayse was revoked already"}, "users", "revoke", "ayse", id)
	fails("", []string{"ayse has no token 999"}, "users", "revoke", "ayse", "999")
	fails("", []string{`token id "crm": want a number`}, "users", "revoke", "ayse", "crm")
	if r := row("ayse"); strings.Contains(r, id+":crm") || !strings.Contains(r, ":erp") {
		t.Errorf("users list after revoking %s: %q, want only the erp token", id, r)
	}

	// Disabling ends the user's sessions; enabling lets them in again.
	st := openConfiguredStore(t)
	ayse, err := st.GetUserByLogin(ctx, "ayse")
	if err != nil {
		t.Fatal(err)
	}
	sessionHash := sha256.Sum256([]byte("a session secret"))
	session := store.Session{Hash: sessionHash[:], UserID: ayse.ID, CSRF: "csrf",
		CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	if err := st.CreateSession(ctx, session); err != nil {
		t.Fatal(err)
	}
	if out := ok("", "users", "disable", "ayse"); out != "disabled ayse (1 session(s) ended)\n" {
		t.Errorf("users disable ayse: %q, want one session ended", out)
	}
	if _, _, err := st.GetSession(ctx, session.Hash, time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the session of ayse outlived disable: %v", err)
	}
	wantRow("ayse", `ayse +ayse +agent +billing,iade +disabled +\d+:erp`)
	fails("", []string{`no user "nobody"`}, "users", "disable", "nobody")
	if out := ok("", "users", "enable", "ayse"); out != "enabled ayse\n" {
		t.Errorf("users enable ayse: %q", out)
	}
	wantRow("ayse", `ayse +ayse +agent +billing,iade +active +\d+:erp`)

	// A new password replaces the old one; a short one changes nothing.
	fails("kisa-sifre\n", []string{"no terminal", "--password-stdin"}, "users", "password", "ayse")
	fails("kisa\n", []string{"4 characters long"}, "users", "password", "ayse", "--password-stdin")
	code, out, errOut = runStdin(t, "yeni-sifre-2026\r\nsecond line\n", "users", "password", "ayse", "--password-stdin")
	if code != 0 || out != "password of ayse set\n" || strings.Contains(out+errOut, "yeni-sifre") {
		t.Fatalf("users password ayse: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	// The store holds the password's argon2id hash and the tokens'
	// SHA-256, never them.
	ayse, err = st.GetUserByLogin(ctx, "ayse")
	if err != nil {
		t.Fatal(err)
	}
	if ayse.Disabled || ayse.Name != "ayse" || ayse.Role != store.RoleAgent || strings.Join(ayse.Teams, ",") != "billing,iade" {
		t.Errorf("ayse in the store: %+v, want an enabled agent of billing and iade", ayse)
	}
	if !strings.HasPrefix(ayse.PasswordHash, "$argon2id$") || !web.CheckPassword(ayse.PasswordHash, "yeni-sifre-2026") ||
		web.CheckPassword(ayse.PasswordHash, "ilk-sifre-2026") || web.CheckPassword(ayse.PasswordHash, "yeni-sifre-2026\r") {
		t.Errorf("ayse's password hash %q: want the new password alone to verify", ayse.PasswordHash)
	}
	if bot, err := st.GetUserByLogin(ctx, "crm-bot"); err != nil || bot.PasswordHash != "" {
		t.Errorf("crm-bot: %+v %v, want no password", bot, err)
	}
	toks, err := st.ListAPITokens(ctx, ayse.ID)
	if err != nil || len(toks) != 2 {
		t.Fatalf("tokens of ayse: %+v %v, want 2", toks, err)
	}
	for i, tok := range []string{token, token2} {
		sum := sha256.Sum256([]byte(tok))
		if !bytes.Equal(toks[i].Hash, sum[:]) || bytes.Contains(toks[i].Hash, []byte(tok)) {
			t.Errorf("token %d stored as %x, want the SHA-256 of the token printed", toks[i].ID, toks[i].Hash)
		}
	}
	if fmt.Sprint(toks[0].ID) != id || toks[0].Name != "crm" || toks[0].RevokedAt.IsZero() || toks[1].Name != "erp" || !toks[1].RevokedAt.IsZero() {
		t.Errorf("tokens of ayse: %+v, want crm (%s) revoked and erp valid", toks, id)
	}
	if _, u, err := st.UseAPIToken(ctx, toks[1].Hash, time.Now()); err != nil || u.Login != "ayse" {
		t.Errorf("the erp token does not authenticate ayse: %v", err)
	}
	if _, _, err := st.UseAPIToken(ctx, toks[0].Hash, time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the revoked crm token still works: %v", err)
	}

	// Every change is in the audit log, by the command line, and no
	// refused command left an entry.
	entries, err := st.ListAudit(ctx, store.AuditFilter{Action: "user."})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Actor != "cli" || !strings.HasPrefix(e.Target, "user:") || strings.Contains(string(e.Detail), "sifre") {
			t.Errorf("audit entry %+v, want the cli acting on a user, no password", e)
		}
		actions = append(actions, e.Action)
	}
	want := "user.created user.created user.token_created user.token_created user.token_revoked user.disabled user.enabled user.password_set"
	if got := strings.Join(actions, " "); got != want {
		t.Errorf("audit log of the users commands:\n%s\nwant\n%s", got, want)
	}
	return token2
}
