package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/sqlite"
)

func setup(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	s, err := NewServer(Options{Registry: prometheus.NewRegistry(), Version: "test", MaxBodyBytes: 2048})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Routes())
	t.Cleanup(ts.Close)
	return s, ts
}

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "yanit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestHealthAndReadiness(t *testing.T) {
	s, ts := setup(t)

	if code, body := get(t, ts.URL+"/healthz"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("/healthz = %d %s", code, body)
	}
	// No store yet: not ready, with the reason.
	s.SetNotReady("database: dial tcp 127.0.0.1:5432: connection refused (attempt 3, next in 2s)")
	code, body := get(t, ts.URL+"/readyz")
	if code != 503 || !strings.Contains(body, "connection refused") {
		t.Fatalf("/readyz without a store = %d %s, want 503 with the reason", code, body)
	}

	// A store that is not migrated: not ready, says to migrate.
	st := openSQLite(t)
	s.SetBackend(Backend{Store: st})
	code, body = get(t, ts.URL+"/readyz")
	if code != 503 || !strings.Contains(body, "yanit migrate") {
		t.Fatalf("/readyz on an unmigrated store = %d %s, want 503 naming yanit migrate", code, body)
	}
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, body = get(t, ts.URL+"/readyz")
	var ready struct {
		Status, Store string
		Version       int64 `json:"schema_version"`
	}
	if err := json.Unmarshal([]byte(body), &ready); err != nil || code != 200 || ready.Store != "sqlite" || ready.Version < 1 {
		t.Fatalf("/readyz when migrated = %d %s", code, body)
	}
	// The database goes away: not ready again.
	st.Close()
	if code, body := get(t, ts.URL+"/readyz"); code != 503 {
		t.Fatalf("/readyz with a closed store = %d %s, want 503", code, body)
	}
}

func TestMetrics(t *testing.T) {
	_, ts := setup(t)
	get(t, ts.URL+"/healthz")
	get(t, ts.URL+"/healthz")
	get(t, ts.URL+"/no/such/thing/123")
	code, body := get(t, ts.URL+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`yanit_http_requests_total{code="200",method="GET",route="/healthz"} 2`,
		`yanit_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`yanit_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"} 2`,
		"go_goroutines",
		"process_resident_memory_bytes",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "/no/such/thing/123") {
		t.Error("raw paths leak into metric labels")
	}
}

func TestUnknownRoute(t *testing.T) {
	_, ts := setup(t)
	code, body := get(t, ts.URL+"/api/v9/nothing")
	if code != 404 || !strings.Contains(body, "no such route: /api/v9/nothing") {
		t.Fatalf("unknown route = %d %s", code, body)
	}
}
