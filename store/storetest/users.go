package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/yanit/yanit/store"
)

func testUsers(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)

	ayse := must(s.CreateUser(c, store.User{Login: "ayse", Name: "Ayşe Yılmaz", Role: store.RoleAgent,
		Teams: []string{"billing", "iade"}, PasswordHash: "$argon2id$v=19$x"}))(t)
	if ayse.ID == 0 || ayse.Name != "Ayşe Yılmaz" || !slices.Equal(ayse.Teams, []string{"billing", "iade"}) ||
		ayse.CreatedAt.IsZero() || ayse.Disabled {
		t.Fatalf("created %+v", ayse)
	}
	content := must(s.CreateUser(c, store.User{Login: "can@example.com", Role: store.RoleContent}))(t)
	if len(content.Teams) != 0 {
		t.Fatalf("teams of a user without teams = %v", content.Teams)
	}

	// Logins are unique; bad users are refused before they reach a table.
	if _, err := s.CreateUser(c, store.User{Login: "ayse", Role: store.RoleQA}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second user ayse: %v, want ErrConflict", err)
	}
	for _, bad := range []store.User{
		{Login: "", Role: store.RoleAdmin},
		{Login: "Ayse2", Role: store.RoleAdmin},
		{Login: "ayşe", Role: store.RoleAdmin},
		{Login: "mehmet", Role: "owner"},
		{Login: "mehmet", Role: store.RoleAgent, Teams: []string{""}},
	} {
		if _, err := s.CreateUser(c, bad); err == nil {
			t.Errorf("created %+v, want an error", bad)
		}
	}

	if got := must(s.GetUserByLogin(c, "ayse"))(t); got.ID != ayse.ID || got.PasswordHash != ayse.PasswordHash {
		t.Errorf("by login: %+v", got)
	}
	if _, err := s.GetUserByLogin(c, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown login: %v, want ErrNotFound", err)
	}
	if _, err := s.GetUser(c, 987654); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown id: %v, want ErrNotFound", err)
	}
	users := must(s.ListUsers(c))(t)
	if len(users) != 2 || users[0].Login != "ayse" || users[1].Login != "can@example.com" {
		t.Errorf("ListUsers = %+v, want ayse then can@example.com", users)
	}

	// Update changes the role, teams, password and the disabled flag; not
	// the login.
	ayse.Role, ayse.Teams, ayse.PasswordHash, ayse.Disabled = store.RoleQA, nil, "", true
	ayse.Login = "ayse"
	upd := must(s.UpdateUser(c, ayse))(t)
	if upd.Role != store.RoleQA || len(upd.Teams) != 0 || upd.PasswordHash != "" || !upd.Disabled || upd.UpdatedAt.Before(upd.CreatedAt) {
		t.Errorf("updated %+v", upd)
	}
	if _, err := s.UpdateUser(c, store.User{ID: 987654, Login: "x", Role: store.RoleQA}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("updating an unknown user: %v, want ErrNotFound", err)
	}
	if _, err := s.UpdateUser(c, store.User{ID: content.ID, Login: content.Login, Role: "root"}); err == nil {
		t.Error("updating to an unknown role succeeded")
	}
	if got := must(s.GetUser(c, content.ID))(t); got.Role != store.RoleContent {
		t.Errorf("a refused update changed the role to %q", got.Role)
	}
}

func testAPITokens(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	u := must(s.CreateUser(c, store.User{Login: "crm", Role: store.RoleAdmin}))(t)
	h1, h2 := sha256.Sum256([]byte("token one")), sha256.Sum256([]byte("token two"))

	tok := must(s.CreateAPIToken(c, store.APIToken{UserID: u.ID, Name: "crm sync", Hash: h1[:]}))(t)
	if tok.ID == 0 || tok.CreatedAt.IsZero() || !tok.LastUsedAt.IsZero() || !tok.RevokedAt.IsZero() {
		t.Fatalf("created %+v", tok)
	}
	if _, err := s.CreateAPIToken(c, store.APIToken{UserID: u.ID, Hash: h1[:]}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("the same hash twice: %v, want ErrConflict", err)
	}
	if _, err := s.CreateAPIToken(c, store.APIToken{UserID: 987654, Hash: h2[:]}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a token of an unknown user: %v, want ErrNotFound", err)
	}
	if _, err := s.CreateAPIToken(c, store.APIToken{UserID: u.ID, Hash: []byte("short")}); err == nil {
		t.Error("a hash that is not SHA-256 was stored")
	}

	at := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	gotTok, gotUser := must2(s.UseAPIToken(c, h1[:], at))(t)
	if gotTok.ID != tok.ID || !gotTok.LastUsedAt.Equal(at) || gotUser.ID != u.ID || gotUser.Role != store.RoleAdmin {
		t.Errorf("UseAPIToken = %+v, %+v", gotTok, gotUser)
	}
	// A use within a minute of the last one recorded is not written; a
	// later one is.
	if again, _ := must2(s.UseAPIToken(c, h1[:], at.Add(10*time.Second)))(t); !again.LastUsedAt.Equal(at) {
		t.Errorf("last use after a use 10 s later = %v, want still %v", again.LastUsedAt, at)
	}
	if later, _ := must2(s.UseAPIToken(c, h1[:], at.Add(2*time.Minute)))(t); !later.LastUsedAt.Equal(at.Add(2 * time.Minute)) {
		t.Errorf("last use after a use 2 min later = %v, want %v", later.LastUsedAt, at.Add(2*time.Minute))
	}
	if _, _, err := s.UseAPIToken(c, h2[:], at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an unknown token: %v, want ErrNotFound", err)
	}

	must(s.CreateAPIToken(c, store.APIToken{UserID: u.ID, Name: "backup", Hash: h2[:]}))(t)
	if err := s.RevokeAPIToken(c, tok.ID, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIToken(c, tok.ID, at.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoking twice: %v, want ErrNotFound", err)
	}
	if _, _, err := s.UseAPIToken(c, h1[:], at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a revoked token: %v, want ErrNotFound", err)
	}
	toks := must(s.ListAPITokens(c, u.ID))(t)
	if len(toks) != 2 || toks[0].ID != tok.ID || !toks[0].RevokedAt.Equal(at.Add(time.Hour)) ||
		toks[1].Name != "backup" || !toks[1].RevokedAt.IsZero() || !bytes.Equal(toks[1].Hash, h2[:]) {
		t.Errorf("ListAPITokens = %+v", toks)
	}
}

func testSessions(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	u := must(s.CreateUser(c, store.User{Login: "zeynep", Role: store.RoleAgent}))(t)
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	hash := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

	sess := store.Session{Hash: hash("a"), UserID: u.ID, CSRF: "csrf-a", CreatedAt: now, ExpiresAt: now.Add(8 * time.Hour)}
	if err := s.CreateSession(c, sess); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(c, store.Session{Hash: hash("x"), UserID: 987654, CSRF: "x", CreatedAt: now, ExpiresAt: now}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a session of an unknown user: %v, want ErrNotFound", err)
	}
	got, gotUser := must2(s.GetSession(c, hash("a"), now.Add(time.Hour)))(t)
	if got.CSRF != "csrf-a" || !got.ExpiresAt.Equal(sess.ExpiresAt) || gotUser.Login != "zeynep" {
		t.Errorf("GetSession = %+v, %+v", got, gotUser)
	}
	// Expired at ExpiresAt exactly.
	if _, _, err := s.GetSession(c, hash("a"), sess.ExpiresAt); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an expired session: %v, want ErrNotFound", err)
	}
	if _, _, err := s.GetSession(c, hash("b"), now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an unknown session: %v, want ErrNotFound", err)
	}

	// Sign-out is idempotent; a user's sessions end together.
	if err := s.CreateSession(c, store.Session{Hash: hash("b"), UserID: u.ID, CSRF: "csrf-b", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(c, hash("b")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(c, hash("b")); err != nil {
		t.Errorf("signing out twice: %v", err)
	}
	if _, _, err := s.GetSession(c, hash("b"), now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a deleted session: %v, want ErrNotFound", err)
	}
	for i, exp := range []time.Duration{time.Minute, time.Hour} {
		if err := s.CreateSession(c, store.Session{Hash: hash(string(rune('c' + i))), UserID: u.ID, CSRF: "c", CreatedAt: now, ExpiresAt: now.Add(exp)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := must(s.DeleteExpiredSessions(c, now.Add(30*time.Minute)))(t); n != 1 {
		t.Errorf("DeleteExpiredSessions removed %d, want 1", n)
	}
	if n := must(s.DeleteUserSessions(c, u.ID))(t); n != 2 {
		t.Errorf("DeleteUserSessions removed %d, want 2 (a, d)", n)
	}

	// Tokens are used concurrently by every request of an integration.
	h1 := hash("concurrent")
	must(s.CreateAPIToken(c, store.APIToken{UserID: u.ID, Hash: h1}))(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			if _, _, err := s.UseAPIToken(c, h1, now.Add(time.Duration(i)*time.Second)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent use: %v", err)
	}
}
