package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres/pgtest"
	"github.com/yanit/yanit/tools"
	"github.com/yanit/yanit/web"
)

// crmSet declares one HTTP tool against a CRM the test runs.
const crmSet = `
backends:
  - name: crm
    base_url: "${TEST_CRM_URL}"
    signing_secret_env: TEST_CRM_SECRET
tools:
  - name: customer_lookup
    backend: crm
    description: {en: "Finds a customer by phone"}
    parameters: {type: object, required: [phone], properties: {phone: {type: string}}}
    method: GET
    path: /customers/{phone}
    response: {user: [name], agent: [segment]}
`

// bearer returns a new API token of the role for the running yanit, of
// the user test-ROLE, made in its store when missing.
func bearer(t *testing.T, a *app, role string) string {
	t.Helper()
	ctx := context.Background()
	u, err := a.store.GetUserByLogin(ctx, "test-"+role)
	if errors.Is(err, store.ErrNotFound) {
		u, err = a.store.CreateUser(ctx, store.User{Login: "test-" + role, Role: role})
	}
	if err != nil {
		t.Fatal(err)
	}
	token, hash := web.NewAPIToken()
	if _, err := a.store.CreateAPIToken(ctx, store.APIToken{UserID: u.ID, Name: "test", Hash: hash}); err != nil {
		t.Fatal(err)
	}
	return token
}

// api sends an admin API request to the running yanit.
func api(t *testing.T, a *app, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+a.addr.String()+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+bearer(t, a, store.RoleAdmin))
	req.Header.Set("Content-Type", "application/yaml")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// An integrator declares an HTTP tool through the admin API: it is checked,
// stored, live at once, listed with its breaker, survives a restart, and
// its calls are signed.
func TestToolSetsThroughTheAdminAPI(t *testing.T) {
	const secret = "crm-signing-secret-0123456789"
	var signedOK bool
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		signedOK = tools.VerifyRequest([]byte(secret), r, nil, time.Now(), 0) == nil
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"name":"Ayşe Yılmaz","segment":"gold"}`)
	}))
	defer crm.Close()
	t.Setenv("TEST_CRM_URL", crm.URL)
	t.Setenv("TEST_CRM_SECRET", secret)
	dsn := pgtest.NewSchemaDSN(t)

	a, stop := startDevStoppable(t, dsn)
	if code, body := api(t, a, http.MethodPut, "/api/v1/tools/sets/crm", crmSet); code != http.StatusOK || !strings.Contains(body, `"customer_lookup"`) {
		t.Fatalf("PUT the set: %d %s", code, body)
	}
	for _, c := range []struct {
		name, path, body, want string
		code                   int
	}{
		{"not a parameter", "/api/v1/tools/sets/crm", strings.Replace(crmSet, "{phone}", "{id}", 1), "{id}", http.StatusBadRequest},
		{"secret variable unset", "/api/v1/tools/sets/crm", strings.Replace(crmSet, "TEST_CRM_SECRET", "TEST_CRM_NOPE", 1), "TEST_CRM_NOPE", http.StatusBadRequest},
		{"a demo tool's name", "/api/v1/tools/sets/other", strings.Replace(crmSet, "customer_lookup", "order_status", 1), "order_status", http.StatusConflict},
		{"bad set name", "/api/v1/tools/sets/CRM!", crmSet, "set name", http.StatusBadRequest},
	} {
		code, body := api(t, a, http.MethodPut, c.path, c.body)
		if code != c.code || !strings.Contains(body, c.want) || strings.Contains(body, secret) {
			t.Errorf("%s: %d %s; want %d mentioning %q", c.name, code, body, c.code, c.want)
		}
	}
	// Without the token nothing is changed.
	req, _ := http.NewRequest(http.MethodDelete, "http://"+a.addr.String()+"/api/v1/tools/sets/crm", nil)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("DELETE without a token: %v %v", res.StatusCode, err)
	}
	listed := func(a *app) map[string]map[string]any {
		code, body := api(t, a, http.MethodGet, "/api/v1/tools", "")
		if code != http.StatusOK {
			t.Fatalf("GET /api/v1/tools: %d %s", code, body)
		}
		var out struct{ Tools []map[string]any }
		json.Unmarshal([]byte(body), &out)
		m := map[string]map[string]any{}
		for _, tl := range out.Tools {
			m[tl["name"].(string)] = tl
		}
		return m
	}
	got := listed(a)
	if c := got["customer_lookup"]; c == nil || c["kind"] != "http" || c["set"] != "crm" || c["breaker"] != "closed" || got["order_status"] == nil {
		t.Fatalf("tools listed: %v", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// Another start on the same database loads the stored set; the CLI
	// calls it, signed.
	a = startDev(t, dsn)
	if listed(a)["customer_lookup"] == nil {
		t.Fatal("the stored set did not load after a restart")
	}
	t.Setenv("YANIT_DATABASE_URL", dsn)
	code, out, errOut := run(t, "tools", "test", "customer_lookup", "--args", `{"phone":"+905321234567"}`)
	if code != 0 || !strings.Contains(out, "Ayşe Yılmaz") || !signedOK {
		t.Fatalf("tools test customer_lookup: exit %d, signed %v\n%s\n%s", code, signedOK, out, errOut)
	}
	if code, body := api(t, a, http.MethodDelete, "/api/v1/tools/sets/crm", ""); code != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", code, body)
	}
	if listed(a)["customer_lookup"] != nil {
		t.Error("the deleted set's tool is still listed")
	}
	if code, _ := api(t, a, http.MethodDelete, "/api/v1/tools/sets/crm", ""); code != http.StatusNotFound {
		t.Errorf("DELETE again: %d, want 404", code)
	}
}
