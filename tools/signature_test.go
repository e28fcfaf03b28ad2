package tools_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yanit/yanit/tools"
)

// signedHeader returns the X-Yanit-Signature a client sends for method,
// target (path and query, escaped) and body at now.
func signedHeader(t *testing.T, key, method, target, body string, now time.Time) string {
	t.Helper()
	r, err := http.NewRequest(method, "https://backend.example.com"+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	tools.SignRequest([]byte(key), r, []byte(body), now)
	return r.Header.Get(tools.SignatureHeader)
}

func TestVerifyRequest(t *testing.T) {
	t.Parallel()
	const (
		key    = "backend-signing-key-0123456789"
		target = "/api/orders/a%2Fb%20c?lang=tr"
		body   = `{"date":"2026-03-10"}`
	)
	now := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	good := signedHeader(t, key, "POST", target, body, now)
	tests := []struct {
		name   string
		key    string
		method string
		target string
		header string
		body   string
		now    time.Time
		want   error
	}{
		{"as sent", key, "POST", target, good, body, now, nil},
		{"within the tolerance", key, "POST", target, good, body, now.Add(4 * time.Minute), nil},
		{"another key", "another-signing-key-0123456789", "POST", target, good, body, now, tools.ErrSignatureMismatch},
		{"no key", "", "POST", target, good, body, now, tools.ErrNoSigningKey},
		{"tampered body", key, "POST", target, good, `{"date":"2026-03-11"}`, now, tools.ErrSignatureMismatch},
		{"tampered path", key, "POST", "/api/orders/a%2Fb%20d?lang=tr", good, body, now, tools.ErrSignatureMismatch},
		{"path unescaped", key, "POST", "/api/orders/a/b%20c?lang=tr", good, body, now, tools.ErrSignatureMismatch},
		{"tampered query", key, "POST", "/api/orders/a%2Fb%20c?lang=en", good, body, now, tools.ErrSignatureMismatch},
		{"another method", key, "PUT", target, good, body, now, tools.ErrSignatureMismatch},
		{"stale", key, "POST", target, good, body, now.Add(6 * time.Minute), tools.ErrSignatureStale},
		{"from the future", key, "POST", target, good, body, now.Add(-6 * time.Minute), tools.ErrSignatureStale},
		{"timestamp changed", key, "POST", target, strings.Replace(good, "t=1773050400", "t=1773050401", 1), body, now, tools.ErrSignatureMismatch},
		{"missing", key, "POST", target, "", body, now, tools.ErrSignatureMissing},
		{"no timestamp", key, "POST", target, good[strings.Index(good, "v1="):], body, now, tools.ErrSignatureMalformed},
		{"negative timestamp", key, "POST", target, strings.Replace(good, "t=", "t=-", 1), body, now, tools.ErrSignatureMalformed},
		{"no v1", key, "POST", target, "t=1773050400", body, now, tools.ErrSignatureMalformed},
		{"v1 not hex", key, "POST", target, "t=1773050400,v1=" + strings.Repeat("zz", 32), body, now, tools.ErrSignatureMalformed},
		{"v1 short", key, "POST", target, good[:len(good)-2], body, now, tools.ErrSignatureMalformed},
		{"not key=value", key, "POST", target, "sha256=abc", body, now, tools.ErrSignatureMalformed},
		{"a second v1 for a new key", key, "POST", target, good + ",v1=" + strings.Repeat("ab", 32), body, now, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.header != "" {
				r.Header.Set(tools.SignatureHeader, tt.header)
			}
			err := tools.VerifyRequest([]byte(tt.key), r, []byte(tt.body), tt.now, 5*time.Minute)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("VerifyRequest = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyRequestDefaultTolerance(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	r := httptest.NewRequest("GET", "/api/orders/SP-2026-0001", nil)
	r.Header.Set(tools.SignatureHeader, signedHeader(t, "backend-signing-key-0123456789", "GET", "/api/orders/SP-2026-0001", "", now))
	key := []byte("backend-signing-key-0123456789")
	if err := tools.VerifyRequest(key, r, nil, now.Add(tools.DefaultSignatureTolerance), 0); err != nil {
		t.Errorf("at the edge of the default tolerance: %v", err)
	}
	if err := tools.VerifyRequest(key, r, nil, now.Add(tools.DefaultSignatureTolerance+time.Second), 0); !errors.Is(err, tools.ErrSignatureStale) {
		t.Errorf("past the default tolerance: %v, want ErrSignatureStale", err)
	}
}
