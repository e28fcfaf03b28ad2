package whatsapp

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	const secret = "8d4f2c1e9b7a6d5c4b3a2f1e0d9c8b7a"
	body, err := os.ReadFile(filepath.Join("testdata", "webhooks", "text.json"))
	if err != nil {
		t.Fatal(err)
	}
	good := Sign(secret, body)
	// The same JSON with the escapes decoded: equal meaning, different bytes.
	reencoded := []byte(strings.ReplaceAll(string(body), `\u00f6`, "ö"))
	changed := append([]byte(nil), body...)
	changed[len(changed)/2] ^= 1

	tests := []struct {
		name   string
		secret string
		header string
		body   []byte
		want   error
	}{
		{"valid", secret, good, body, nil},
		{"valid with surrounding space", secret, "  " + good + " ", body, nil},
		{"valid upper-case hex", secret, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), body, nil},
		{"missing", secret, "", body, ErrSignatureMissing},
		{"no prefix", secret, strings.TrimPrefix(good, "sha256="), body, ErrSignatureMalformed},
		{"sha1 prefix", secret, "sha1=" + strings.TrimPrefix(good, "sha256="), body, ErrSignatureMalformed},
		{"not hex", secret, "sha256=" + strings.Repeat("zz", 32), body, ErrSignatureMalformed},
		{"short digest", secret, good[:len(good)-2], body, ErrSignatureMalformed},
		{"wrong secret", "another-secret", good, body, ErrSignatureMismatch},
		{"body changed by one bit", secret, good, changed, ErrSignatureMismatch},
		{"body re-encoded", secret, good, reencoded, ErrSignatureMismatch},
		{"no app secret", "", good, body, ErrNoAppSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := VerifySignature(tt.secret, tt.header, tt.body)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("VerifySignature = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSignatureErrorClasses(t *testing.T) {
	t.Parallel()
	for _, err := range []error{ErrSignatureMalformed, ErrSignatureMismatch} {
		if !errors.Is(err, ErrSignatureInvalid) {
			t.Errorf("%v is not ErrSignatureInvalid", err)
		}
	}
	if errors.Is(ErrSignatureMissing, ErrSignatureInvalid) {
		t.Error("a missing signature is reported as invalid; callers answer it differently")
	}
}

func TestSignKnownVector(t *testing.T) {
	t.Parallel()
	// HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), a
	// widely published test vector.
	got := Sign("key", []byte("The quick brown fox jumps over the lazy dog"))
	want := "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestVerifyChallenge(t *testing.T) {
	t.Parallel()
	q := func(mode, token, challenge string) url.Values {
		v := url.Values{}
		if mode != "" {
			v.Set("hub.mode", mode)
		}
		if token != "" {
			v.Set("hub.verify_token", token)
		}
		if challenge != "" {
			v.Set("hub.challenge", challenge)
		}
		return v
	}
	tests := []struct {
		name   string
		q      url.Values
		token  string
		want   string
		wantOK bool
	}{
		{"match", q("subscribe", "yanit-dogrulama", "1158201444"), "yanit-dogrulama", "1158201444", true},
		{"wrong token", q("subscribe", "yanit-dogrulamx", "1158201444"), "yanit-dogrulama", "", false},
		{"token prefix", q("subscribe", "yanit", "1158201444"), "yanit-dogrulama", "", false},
		{"wrong mode", q("unsubscribe", "yanit-dogrulama", "1158201444"), "yanit-dogrulama", "", false},
		{"no mode", q("", "yanit-dogrulama", "1158201444"), "yanit-dogrulama", "", false},
		{"no challenge", q("subscribe", "yanit-dogrulama", ""), "yanit-dogrulama", "", false},
		{"unconfigured token never matches", q("subscribe", "", "1158201444"), "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := VerifyChallenge(tt.q, tt.token)
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("VerifyChallenge = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
