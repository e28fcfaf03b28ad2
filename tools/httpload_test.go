package tools_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/yanit/yanit/tools"
)

const httpTestURL = "https://backend.example.com"

func TestLoadHTTPTools(t *testing.T) {
	t.Parallel()
	loaded, err := tools.LoadHTTPTools([]byte(httpToolsYAML), httpLookup(httpEnv(httpTestURL)), tools.HTTPOptions{})
	if err != nil {
		t.Fatalf("LoadHTTPTools: %v", err)
	}
	var names []string
	for _, tool := range loaded {
		names = append(names, tool.Spec().Name)
	}
	if got, want := strings.Join(names, ","), "order_status,item_lookup,book_appointment,stock_quick,cancel_quick"; got != want {
		t.Fatalf("tools %s, want %s in the order declared", got, want)
	}

	r := tools.NewRegistry()
	for _, tool := range loaded {
		if err := r.Register(tool); err != nil {
			t.Fatalf("Register(%s): %v", tool.Spec().Name, err)
		}
	}
	specs := map[string]tools.Spec{}
	for _, s := range r.Specs() {
		specs[s.Name] = s
	}
	tests := []struct {
		name                string
		mutates, idempotent bool
		timeout             time.Duration
	}{
		{"order_status", false, true, 2 * time.Second},       // GET defaults, the backend's timeout
		{"book_appointment", true, false, 5 * time.Second},   // POST defaults, its own timeout
		{"cancel_quick", true, false, 50 * time.Millisecond}, // DELETE defaults
	}
	for _, tt := range tests {
		s := specs[tt.name]
		if s.Mutates != tt.mutates || s.Idempotent != tt.idempotent || s.Timeout != tt.timeout {
			t.Errorf("%s: mutates %v idempotent %v timeout %s; want %v %v %s", tt.name, s.Mutates, s.Idempotent, s.Timeout, tt.mutates, tt.idempotent, tt.timeout)
		}
	}
	if d := specs["order_status"].Description; d["tr"] != "Sipariş durumunu sorgular." || d["en"] != "Looks up an order." {
		t.Errorf("description %v", d)
	}

	// The YAML schema, pattern included, is what the Registry enforces.
	_, err = r.Call(context.Background(), "order_status", json.RawMessage(`{"order_id": "SP-26-1"}`))
	if te := asError(t, err); te.Kind != tools.KindInvalid || te.Field != "order_id" || !strings.Contains(te.Message, `^SP-\d{4}-\d{4}$`) {
		t.Errorf("order_id against the YAML pattern: %v", err)
	}

	backends := tools.Backends(loaded)
	if len(backends) != 1 || backends[0].Name() != "demo" || backends[0].State() != tools.BreakerClosed {
		t.Errorf("Backends = %v", backends)
	}
}

func TestLoadHTTPToolsEmpty(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{"", "# nothing yet\n", "backends: []\ntools: []\n"} {
		loaded, err := tools.LoadHTTPTools([]byte(doc), httpLookup(nil), tools.HTTPOptions{})
		if err != nil || len(loaded) != 0 {
			t.Errorf("%q: %d tools, %v", doc, len(loaded), err)
		}
	}
}

func TestLoadHTTPToolsRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		old, new string            // replaces the first old in httpToolsYAML
		env      map[string]string // changes to the environment; "" unsets
		want     []string          // substrings of the error
	}{
		{"path parameter unknown", "path: /orders/{order_id}", "path: /orders/{order}", nil,
			[]string{"tools[order_status].path: {order} is not a parameter"}},
		{"path parameter optional", "path: /orders/{order_id}", "path: /orders/{order_id}/{lang}", nil,
			[]string{"tools[order_status].path: {lang} must be a required parameter"}},
		{"path parameter a list", "        id: {type: string}\n        lang:", "        id: {type: array}\n        lang:", nil,
			[]string{"tools[item_lookup].path: {id} is an array"}},
		{"path stray brace", "path: /orders/{order_id}", "path: /orders/{order_id}}", nil,
			[]string{"tools[order_status].path:", "{ or }"}},
		{"path relative", "path: /orders/{order_id}", "path: orders/{order_id}", nil,
			[]string{"tools[order_status].path: must start with /"}},
		{"path with a query", "path: /orders/{order_id}", "path: /orders/{order_id}?x=1", nil,
			[]string{"tools[order_status].path:", "query"}},
		{"query parameter unknown", `query: {lang: "{lang}"}`, `query: {lang: "{language}"}`, nil,
			[]string{"tools[order_status].query.lang: {language} is not a parameter"}},
		{"body parameter unknown", `time: "{time}"`, `time: "{hour}"`, nil,
			[]string{"tools[book_appointment].body.time: {hour} is not a parameter"}},
		{"body parameter unknown, nested", `tags: ["{note}", "walk-in"]`, `tags: ["{notes}", "walk-in"]`, nil,
			[]string{"tools[book_appointment].body.meta.tags[0]: {notes} is not a parameter"}},
		{"body a list", "    path: /appointments\n    timeout: 50ms", "    path: /appointments\n    body: [1, 2]\n    timeout: 50ms", nil,
			[]string{"tools[cancel_quick].body: must be a mapping"}},
		{"body on a GET", "path: /orders/{order_id}", "path: /orders/{order_id}\n    body: {x: 1}", nil,
			[]string{"tools[order_status].body: a GET request has no body"}},
		{"body with an unquoted date", "source: whatsapp", "source: 2026-03-10", nil,
			[]string{"tools[book_appointment].body.source: a YAML timestamp; quote it"}},
		{"signing secret not set", "", "", map[string]string{"YANIT_DEMO_BACKEND_SECRET": ""},
			[]string{"backends[demo].signing_secret_env: YANIT_DEMO_BACKEND_SECRET is not set"}},
		{"signing secret short", "", "", map[string]string{"YANIT_DEMO_BACKEND_SECRET": "short"},
			[]string{"backends[demo].signing_secret_env: YANIT_DEMO_BACKEND_SECRET is shorter than 16 bytes"}},
		{"signing secret missing", "    signing_secret_env: YANIT_DEMO_BACKEND_SECRET\n", "", nil,
			[]string{"backends[demo].signing_secret_env: required"}},
		{"signing secret written in place of its variable", "signing_secret_env: YANIT_DEMO_BACKEND_SECRET", "signing_secret_env: " + httpSecret, nil,
			[]string{"backends[demo].signing_secret_env: must be the name of an environment variable"}},
		{"header variable not set", "", "", map[string]string{"YANIT_DEMO_BACKEND_TOKEN": ""},
			[]string{"backends[demo].headers.Authorization: ${YANIT_DEMO_BACKEND_TOKEN} not set"}},
		{"header variable with a line break", "", "", map[string]string{"YANIT_DEMO_BACKEND_TOKEN": httpToken + "\r\nX-Admin: 1"},
			[]string{"backends[demo].headers.Authorization: the value holds a line break"}},
		{"header set by yanit", "X-Tenant: kadikoy", "X-Yanit-Signature: forged", nil,
			[]string{"backends[demo].headers.X-Yanit-Signature: set by yanit"}},
		{"header ${ not closed", "X-Tenant: kadikoy", `X-Tenant: "${TENANT"`, nil,
			[]string{"backends[demo].headers.X-Tenant: a ${ is not closed"}},
		{"base URL variable not set", "", "", map[string]string{"YANIT_DEMO_BACKEND_URL": ""},
			[]string{"backends[demo].base_url: ${YANIT_DEMO_BACKEND_URL} not set"}},
		{"base URL not http", "", "", map[string]string{"YANIT_DEMO_BACKEND_URL": "ftp://backend.example.com"},
			[]string{"backends[demo].base_url: must be an absolute http or https URL"}},
		{"base URL with credentials", "", "", map[string]string{"YANIT_DEMO_BACKEND_URL": "https://user:" + httpToken + "@backend.example.com"},
			[]string{"backends[demo].base_url: must not hold credentials"}},
		{"unknown backend", "    backend: demo\n    description: {en: \"Looks up an item.\"}", "    backend: shop\n    description: {en: \"Looks up an item.\"}", nil,
			[]string{`tools[item_lookup].backend: unknown backend "shop"`}},
		{"unknown tool key", "    method: GET\n", "    method: GET\n    retries: 3\n", nil,
			[]string{"field retries not found"}},
		{"unknown backend key", "    timeout: 2s\n", "    timeout: 2s\n    retries: 3\n", nil,
			[]string{"field retries not found"}},
		{"duplicate tool", "  - name: item_lookup", "  - name: order_status", nil,
			[]string{"tools[order_status]: declared twice"}},
		{"duplicate backend", "tools:\n", "  - {name: demo, base_url: \"https://x.example.com\", signing_secret_env: YANIT_DEMO_BACKEND_SECRET}\ntools:\n", nil,
			[]string{"backends[demo]: declared twice"}},
		{"bad method", "    method: GET\n", "    method: FETCH\n", nil,
			[]string{`tools[order_status].method: "FETCH" is not one of GET, POST, PUT, PATCH, DELETE`}},
		{"schema not an object", "type: object", "type: string", nil,
			[]string{"tools[order_status].parameters:", `"type" must be "object"`}},
		{"schema pattern broken", `pattern: '^SP-\d{4}-\d{4}$'`, `pattern: '^SP-('`, nil,
			[]string{"tools[order_status].parameters:", "/properties/order_id/pattern"}},
		{"parameters missing", "    parameters: {type: object, properties: {id: {type: string}}}\n    method: GET", "    method: GET", nil,
			[]string{"tools[stock_quick].parameters: required"}},
		{"tool name", "  - name: item_lookup", "  - name: Item-Lookup", nil,
			[]string{"tools[Item-Lookup].name: must match"}},
		{"tool without name", "  - name: item_lookup\n    backend: demo", "  - backend: demo", nil,
			[]string{"tools[1].name: required"}},
		{"no description", `    description: {en: "Looks up an item."}` + "\n", "", nil,
			[]string{"tools[item_lookup].description: required"}},
		{"bad timeout", "timeout: 2s", "timeout: 2 seconds", nil,
			[]string{`backends[demo].timeout: "2 seconds" is not a duration`}},
		{"negative tool timeout", "timeout: 5s", "timeout: -5s", nil,
			[]string{"tools[book_appointment].timeout: -5s must be positive"}},
		{"negative breaker failures", "failures: 3", "failures: -1", nil,
			[]string{"backends[demo].breaker.failures: -1 is negative"}},
		{"bad response field", "user: [id]", "user: [id, stock..count]", nil,
			[]string{`tools[item_lookup].response.user: "stock..count"`}},
		{"not YAML", "tools:\n", "tools: [\n", nil,
			[]string{"reading HTTP tools"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(httpToolsYAML, tt.old) {
				t.Fatalf("httpToolsYAML has no %q", tt.old)
			}
			doc := httpToolsYAML
			if tt.old != "" {
				doc = strings.Replace(doc, tt.old, tt.new, 1)
			}
			env := httpEnv(httpTestURL)
			for k, v := range tt.env {
				if v == "" {
					delete(env, k)
				} else {
					env[k] = v
				}
			}
			loaded, err := tools.LoadHTTPTools([]byte(doc), httpLookup(env), tools.HTTPOptions{})
			if err == nil {
				t.Fatalf("loaded %d tools", len(loaded))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, secret := range []string{httpSecret, httpToken} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q holds a secret", err)
				}
			}
		})
	}
}
