package privacy_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/yanit/yanit/privacy"
)

// Fixed keys, so that a failing test shows the same values every run.
var (
	keyA = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xa1}, 32))
	keyB = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xb2}, 32))
)

func mustRing(t testing.TB, spec string) *privacy.Keyring {
	t.Helper()
	k, err := privacy.ParseKeyring(spec)
	if err != nil {
		t.Fatalf("ParseKeyring: %v", err)
	}
	return k
}

func mustSeal(t testing.TB, k *privacy.Keyring, plain string) string {
	t.Helper()
	s, err := k.Seal([]byte(plain))
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return s
}

func TestSealRoundTrip(t *testing.T) {
	t.Parallel()
	k := mustRing(t, "k1:"+keyA)
	for _, plain := range []string{
		"",
		"Siparişim nerede? TC 10000000146",
		strings.Repeat("line\n", 200),
		`{"text":{"body":"merhaba"}}`,
	} {
		s := mustSeal(t, k, plain)
		if !strings.HasPrefix(s, "yanit:enc:v1:k1:") || !privacy.Sealed(s) {
			t.Errorf("Seal(%.20q) = %.40q…, want a value starting yanit:enc:v1:k1:", plain, s)
		}
		if id, ok := privacy.KeyID(s); !ok || id != "k1" {
			t.Errorf("KeyID = %q, %v; want k1, true", id, ok)
		}
		if strings.ContainsAny(s, "\n\"\\") {
			t.Errorf("sealed value %.40q… holds a newline, quote or backslash", s)
		}
		if plain != "" && strings.Contains(s, plain) {
			t.Errorf("sealed value holds the plain text %q", plain)
		}
		got, err := k.Open(s)
		if err != nil || string(got) != plain {
			t.Errorf("Open(Seal(%.20q)) = %.20q, %v", plain, got, err)
		}
		if again := mustSeal(t, k, plain); again == s {
			t.Errorf("sealing %.20q twice gave the same value: the nonce repeats", plain)
		}
	}
	if privacy.Sealed("merhaba") || privacy.Sealed("") {
		t.Error("Sealed reports plain text as sealed")
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	const secret = "kart 4111 1111 1111 1111"
	k := mustRing(t, "k1:"+keyA+",k2:"+keyB)
	sealed := mustSeal(t, k, secret)
	data := strings.TrimPrefix(sealed, "yanit:enc:v1:k1:")
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 1
	flipped := "yanit:enc:v1:k1:" + base64.StdEncoding.EncodeToString(raw)

	for _, tc := range []struct {
		name   string
		ring   *privacy.Keyring
		value  string
		want   string
		target error
	}{
		{"another key under the same id", mustRing(t, "k1:"+keyB), sealed, `key "k1": it was altered`, nil},
		{"a flipped bit", k, flipped, `key "k1": it was altered`, nil},
		{"truncated", k, sealed[:len(sealed)-8], `key "k1"`, nil},
		{"moved under another id", k, "yanit:enc:v1:k2:" + data, `key "k2": it was altered`, nil},
		{"unknown key id", mustRing(t, "k9:"+keyA), sealed, `key "k1": unknown key`, privacy.ErrUnknownKey},
		{"not base64", k, "yanit:enc:v1:k1:" + secret, `key "k1": the ciphertext is not base64`, nil},
		{"plain text", k, secret, "not a sealed value", nil},
		{"a future format", k, "yanit:enc:v2:k1:" + data, "format v2", nil},
		{"plain text that looks sealed", k, "yanit:enc:" + secret, "malformed version", nil},
		{"a malformed key id", k, "yanit:enc:v1:" + secret + ":" + data, "malformed key id", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.ring.Open(tc.value)
			if err == nil {
				t.Fatalf("Open = %q, want an error", got)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to say %q", err, tc.want)
			}
			if tc.target != nil && !errors.Is(err, tc.target) {
				t.Errorf("error %q is not %v", err, tc.target)
			}
			if strings.Contains(err.Error(), "4111") || strings.Contains(err.Error(), data[:12]) {
				t.Errorf("error %q shows the content", err)
			}
		})
	}
}

func TestParseKeyring(t *testing.T) {
	t.Parallel()
	k := mustRing(t, " k2:"+keyB+" , old_1-x:"+keyA)
	if k.Active() != "k2" || fmt.Sprint(k.IDs()) != "[k2 old_1-x]" {
		t.Errorf("active %q, ids %v; want k2, [k2 old_1-x]", k.Active(), k.IDs())
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		if s := fmt.Sprintf(format, k); strings.Contains(s, keyA[:8]) || strings.Contains(s, keyB[:8]) ||
			strings.Contains(s, "a1a1") || strings.Contains(s, "b2b2") {
			t.Errorf("Sprintf(%q, keyring) = %q shows a key", format, s)
		}
	}

	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xa1}, 16))
	for _, tc := range []struct {
		name, spec, want string
	}{
		{"empty", " ", "no keys"},
		{"an empty entry", "k1:" + keyA + ",", "entry 2 is empty"},
		{"no id", keyA, "entry 1: want id:base64key"},
		{"an empty id", ":" + keyA, "entry 1: the key id must be"},
		{"upper case id", "K1:" + keyA, "entry 1: the key id must be 1 to 32 of a-z, 0-9, _ and -"},
		{"key and id swapped", "k1:" + keyA + "," + keyB + ":k2", "entry 2: the key id must be"},
		{"an id too long", strings.Repeat("k", 33) + ":" + keyA, "entry 1: the key id must be"},
		{"a duplicate id", "k1:" + keyA + ",k1:" + keyB, `entry 2: key id "k1" is used twice`},
		{"a short key", "k1:" + short, `key "k1" is 16 bytes long, want 32`},
		{"not base64", "k1:" + strings.ReplaceAll(keyA, "o", "!") + "!", `key "k1" is not standard base64`},
		{"url-safe base64", "k1:" + strings.NewReplacer("+", "-", "/", "_").Replace(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32))), `key "k1" is not standard base64`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := privacy.ParseKeyring(tc.spec)
			if err == nil {
				t.Fatalf("ParseKeyring(%q): no error, want %q", tc.name, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to say %q", err, tc.want)
			}
			for _, key := range []string{keyA, keyB, short} {
				if strings.Contains(err.Error(), key[:8]) {
					t.Errorf("error %q shows key material", err)
				}
			}
		})
	}
}

// TestRotation follows a key rotation: the old ring seals with k1; the new
// ring seals with k2 and still opens k1's values; the old ring cannot open
// k2's; once every value is sealed again, k1 can leave the ring.
func TestRotation(t *testing.T) {
	t.Parallel()
	before := mustRing(t, "k1:"+keyA)
	during := mustRing(t, "k2:"+keyB+",k1:"+keyA)
	after := mustRing(t, "k2:"+keyB)

	old := mustSeal(t, before, "eski mesaj")
	fresh := mustSeal(t, during, "yeni mesaj")
	if id, _ := privacy.KeyID(fresh); id != "k2" {
		t.Errorf("the new ring sealed with %q, want k2", id)
	}
	if got, err := during.Open(old); err != nil || string(got) != "eski mesaj" {
		t.Errorf("the new ring opens the old value as %q, %v", got, err)
	}
	if _, err := before.Open(fresh); !errors.Is(err, privacy.ErrUnknownKey) {
		t.Errorf("the old ring opens the new value: %v, want ErrUnknownKey", err)
	}
	if _, err := after.Open(old); !errors.Is(err, privacy.ErrUnknownKey) {
		t.Errorf("a ring without k1 opens k1's value: %v, want ErrUnknownKey", err)
	}
	if got, err := after.Open(fresh); err != nil || string(got) != "yeni mesaj" {
		t.Errorf("a ring of k2 only opens the new value as %q, %v", got, err)
	}
}

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	a, b := privacy.GenerateKey(), privacy.GenerateKey()
	if a == b {
		t.Fatal("GenerateKey returned the same key twice")
	}
	if raw, err := base64.StdEncoding.DecodeString(a); err != nil || len(raw) != privacy.KeySize {
		t.Fatalf("GenerateKey = a key of %d bytes, %v; want %d", len(raw), err, privacy.KeySize)
	}
	k := mustRing(t, "new:"+a)
	if got, err := k.Open(mustSeal(t, k, "x")); err != nil || string(got) != "x" {
		t.Errorf("a generated key opens %q, %v", got, err)
	}
}

// BenchmarkSeal seals a message body of 300 bytes, the size of a long
// WhatsApp text.
func BenchmarkSeal(b *testing.B) {
	k := mustRing(b, "k1:"+keyA)
	plain := []byte(strings.Repeat("Siparişim ne zaman gelir? ", 12)[:300])
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Seal(plain); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen opens a sealed message body of 300 bytes.
func BenchmarkOpen(b *testing.B) {
	k := mustRing(b, "k1:"+keyA)
	s := mustSeal(b, k, strings.Repeat("Siparişim ne zaman gelir? ", 12)[:300])
	b.SetBytes(300)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Open(s); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleKeyring() {
	// The active key first; older keys after it open what they sealed.
	k, err := privacy.ParseKeyring("k2:" + privacy.GenerateKey() + ",k1:" + privacy.GenerateKey())
	if err != nil {
		fmt.Println(err)
		return
	}
	s, _ := k.Seal([]byte("Siparişim nerede?"))
	id, _ := privacy.KeyID(s)
	plain, _ := k.Open(s)
	fmt.Println(privacy.Sealed(s), id, string(plain))
	// Output: true k2 Siparişim nerede?
}
