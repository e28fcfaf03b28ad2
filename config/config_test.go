package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "yanit.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadPrecedence(t *testing.T) {
	path := writeFile(t, `
http:
  addr: ":9000"
  shutdown_timeout: 5s
whatsapp:
  phone_number_id: "1234"
jobs:
  concurrency: 3
`)
	t.Setenv("YANIT_HTTP_ADDR", "127.0.0.1:9100")
	t.Setenv("YANIT_WHATSAPP_APP_SECRET", "from-env")
	t.Setenv("YANIT_JOBS_LEASE", "45s")
	cfg, err := Load(path, Default(), Tool)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"env overrides file", cfg.HTTP.Addr, "127.0.0.1:9100"},
		{"file over default", cfg.HTTP.ShutdownTimeout, 5 * time.Second},
		{"file value", cfg.WhatsApp.PhoneNumberID, "1234"},
		{"env secret", cfg.WhatsApp.AppSecret, "from-env"},
		{"env duration", cfg.Jobs.Lease, 45 * time.Second},
		{"file int", cfg.Jobs.Concurrency, 3},
		{"default fills the rest", cfg.DataDir, "./data"},
		{"default graph url", cfg.WhatsApp.GraphURL, "https://graph.facebook.com"},
		{"default marketing rule", cfg.Campaigns.MarketingRequires, "consent"},
		{"default utility rule", cfg.Campaigns.UtilityRequires, "not_opted_out"},
		{"no daily limit by default", cfg.Campaigns.DailyUniqueLimit, 0},
		{"default batch", cfg.Campaigns.BatchSize, 500},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadErrorsNameTheKey(t *testing.T) {
	full := map[string]string{
		"YANIT_WHATSAPP_PHONE_NUMBER_ID": "1", "YANIT_WHATSAPP_ACCESS_TOKEN": "a",
		"YANIT_WHATSAPP_APP_SECRET": "s", "YANIT_WHATSAPP_VERIFY_TOKEN": "v",
	}
	cases := []struct {
		name string
		file string
		env  map[string]string
		mode Mode
		want string
	}{
		{name: "unknown key", file: "http:\n  adr: ':1'\n", mode: Tool, want: "adr"},
		{name: "bad duration", env: map[string]string{"YANIT_JOBS_LEASE": "soon"}, mode: Tool, want: "lease"},
		{name: "bad addr", env: map[string]string{"YANIT_HTTP_ADDR": "8080"}, mode: Tool, want: "http.addr"},
		{name: "bad db url", env: map[string]string{"YANIT_DATABASE_URL": "mysql://x"}, mode: Tool, want: "database.url"},
		{name: "bad level", file: "log:\n  level: loud\n", mode: Tool, want: "log.level"},
		{name: "serve needs app secret", env: without(full, "YANIT_WHATSAPP_APP_SECRET"), mode: Serve, want: "whatsapp.app_secret: is required"},
		{name: "serve needs verify token", env: without(full, "YANIT_WHATSAPP_VERIFY_TOKEN"), mode: Serve, want: "whatsapp.verify_token: is required"},
		{name: "not yaml", file: "http: [\n", mode: Tool, want: "reading"},
		{name: "bad marketing rule", env: map[string]string{"YANIT_CAMPAIGNS_MARKETING_REQUIRES": "any"}, mode: Tool,
			want: `campaigns.marketing_requires: "any": want consent or not_opted_out`},
		{name: "bad utility rule", file: "campaigns:\n  utility_requires: consent\n", mode: Tool,
			want: `campaigns.utility_requires: "consent": want any or not_opted_out`},
		{name: "negative daily limit", env: map[string]string{"YANIT_CAMPAIGNS_DAILY_UNIQUE_LIMIT": "-1"}, mode: Tool,
			want: "campaigns.daily_unique_limit"},
		{name: "huge batch", file: "campaigns:\n  batch_size: 20000\n", mode: Tool, want: "campaigns.batch_size"},
		{name: "negative backlog", file: "campaigns:\n  backlog: -5\n", mode: Tool, want: "campaigns.backlog"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			path := ""
			if c.file != "" {
				path = writeFile(t, c.file)
			}
			_, err := Load(path, Default(), c.mode)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v, want one mentioning %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans several lines: %q", err)
			}
		})
	}
	t.Run("serve with everything set", func(t *testing.T) {
		for k, v := range full {
			t.Setenv(k, v)
		}
		if _, err := Load("", Default(), Serve); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), Default(), Tool)
		if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
			t.Fatalf("error = %v, want it to name the file", err)
		}
	})
}

func without(m map[string]string, k string) map[string]string { return with(m, k, "") }

func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{}
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

func TestMasked(t *testing.T) {
	c := Default()
	c.Database.URL = "postgres://yanit:hunter2@db.internal:5432/yanit?sslmode=require"
	c.WhatsApp.AppSecret = "app-secret-value"
	c.WhatsApp.AccessToken = "EAAG-token"
	m := c.Masked()
	for _, secret := range []string{"hunter2", "app-secret-value", "EAAG-token", "admin-token-value"} {
		for _, s := range []string{m.Database.URL, m.WhatsApp.AppSecret, m.WhatsApp.AccessToken} {
			if strings.Contains(s, secret) {
				t.Fatalf("masked config still shows %q", secret)
			}
		}
	}
	if !strings.Contains(m.Database.URL, "db.internal:5432/yanit") {
		t.Fatalf("masked URL lost its host and database: %s", m.Database.URL)
	}
	if c.WhatsApp.AppSecret != "app-secret-value" {
		t.Fatal("Masked changed the original config")
	}
	if m.WhatsApp.VerifyToken != "" {
		t.Fatal("an unset secret must stay visibly unset")
	}
}
