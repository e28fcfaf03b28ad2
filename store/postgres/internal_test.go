package postgres

import (
	"errors"
	"strings"
	"testing"
)

func TestVectorVersionOK(t *testing.T) {
	for version, want := range map[string]bool{
		"0.8.0": true, "0.7.0": true, "0.10.1": true, "1.0": true,
		"0.6.2": false, "0.5": false, "": false, "x.y": false, "0": false,
	} {
		if got := vectorVersionOK(version); got != want {
			t.Errorf("vectorVersionOK(%q) = %v, want %v", version, got, want)
		}
	}
}

func TestDSNPassword(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://yanit:pw@127.0.0.1/db":             "pw",
		"postgresql://yanit:p@ss@127.0.0.1:x/db?a=b@c": "p@ss",
		"postgres://yanit@127.0.0.1/db":                "",
		"postgres://127.0.0.1/db":                      "",
		"host=127.0.0.1 password=pw":                   "", // pgx parses these; its errors mask them
	} {
		if got := dsnPassword(dsn); got != want {
			t.Errorf("dsnPassword(%q) = %q, want %q", dsn, got, want)
		}
	}
}

func TestScrub(t *testing.T) {
	base := errors.New("cannot use pw-123 at host")
	err := scrub(base, "pw-123")
	if strings.Contains(err.Error(), "pw-123") || !errors.Is(err, base) {
		t.Fatalf("scrub = %q (wraps the original: %v)", err, errors.Is(err, base))
	}
	if scrub(base, "") != base || scrub(nil, "pw") != nil {
		t.Fatal("scrub without a secret or an error must change nothing")
	}
}
