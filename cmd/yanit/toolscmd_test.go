package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yanit/yanit/configs"
)

func TestToolsList(t *testing.T) {
	isolate(t)
	code, out, errOut := run(t, "tools", "list")
	if code != 0 {
		t.Fatalf("tools list: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{
		"order_status", "card_balance", "book_appointment", "cancel_appointment",
		"date, time, phone?, service?", // required first, optional marked
		"demo (breaker closed, /healthz 200 OK)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tools list lacks %q:\n%s", want, out)
		}
	}
}

func TestToolsTest(t *testing.T) {
	isolate(t)
	code, out, errOut := run(t, "tools", "test", "order_status", "--args", `{"order_id":"SP-2026-0002"}`)
	if code != 0 {
		t.Fatalf("tools test: exit %d\n%s", code, errOut)
	}
	// The exact request, with the signature masked, then the result.
	for _, want := range []string{"GET http://127.0.0.1:", "/orders/SP-2026-0002", "X-Yanit-Signature: t=", "v1=***", `"status": "preparing"`, `"customer_name": "Mehmet Demir"`} {
		if !strings.Contains(out, want) {
			t.Errorf("tools test output lacks %q:\n%s", want, out)
		}
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"tools", "test", "order_status", "--args", `{"order_id":"SP-2026-9999"}`}, "not_found"},
		{[]string{"tools", "test", "order_status", "--args", `{"order_id":"12"}`}, "invalid (field order_id)"},
		{[]string{"tools", "test", "order_status", "--args", `{order`}, "--args"},
		{[]string{"tools", "test", "weather"}, `no tool "weather"; the tools are: book_appointment`},
	}
	for _, c := range cases {
		code, _, errOut := run(t, c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want a failure mentioning %q", c.args[2:], code, errOut, c.want)
		}
	}
}

func TestToolsFileAddsHTTPTools(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "tools.yaml")
	os.WriteFile(file, []byte(`
backends:
  - name: crm
    base_url: "http://127.0.0.1:1"
    signing_secret_env: CRM_SIGNING_SECRET
tools:
  - name: customer_lookup
    backend: crm
    description: {en: "Finds a customer"}
    parameters: {type: object, required: [phone], properties: {phone: {type: string}}}
    method: GET
    path: /customers/{phone}
    response: {user: [name]}
`), 0o600)
	t.Setenv("YANIT_TOOLS_FILE", file)
	// The secret's variable is not set: the error names it, not a value.
	if code, _, errOut := run(t, "tools", "list"); code == 0 || !strings.Contains(errOut, "CRM_SIGNING_SECRET is not set") {
		t.Fatalf("missing secret: exit %d, %q", code, errOut)
	}
	t.Setenv("CRM_SIGNING_SECRET", "a-very-secret-signing-key")
	code, out, errOut := run(t, "tools", "list")
	if code != 0 || !strings.Contains(out, "customer_lookup") || !strings.Contains(out, "crm (breaker closed)") {
		t.Fatalf("tools list with a tools file: exit %d\n%s\n%s", code, out, errOut)
	}
	// The backend is down: the call fails as unavailable, and the secret
	// appears nowhere.
	code, out, errOut = run(t, "tools", "test", "customer_lookup", "--args", `{"phone":"+905321234567"}`)
	if code == 0 || !strings.Contains(errOut, "unavailable") || strings.Contains(out+errOut, "a-very-secret-signing-key") {
		t.Fatalf("down backend: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestDemoBackendNeedsItsSecret(t *testing.T) {
	isolate(t)
	code, _, errOut := run(t, "demo-backend")
	if code == 0 || !strings.Contains(errOut, "YANIT_DEMO_BACKEND_SECRET") {
		t.Fatalf("demo-backend without a secret: exit %d, %q", code, errOut)
	}
}

// A definition that names a tool nobody declared stops the start with the
// reason, instead of running an assistant that cannot act.
func TestStartStopsOnABadAssistant(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	def := strings.Replace(string(configs.DemoAssistant), "tool: order_status", "tool: order_lookup", 1)
	os.WriteFile(filepath.Join(dir, "shop.yaml"), []byte(def), 0o600)
	os.WriteFile(filepath.Join(dir, "yanit.yaml"), []byte(`
assistants:
  - name: shop
    phone_number_ids: ["100000000000001"]
    file: `+filepath.Join(dir, "shop.yaml")+`
`), 0o600)
	t.Setenv("YANIT_HTTP_ADDR", "127.0.0.1:0")
	t.Setenv("YANIT_DATA_DIR", dir)
	// A guard against a start that never ends, not a timing assertion.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code := execute(ctx, []string{"dev", "--config", filepath.Join(dir, "yanit.yaml")}, &out, &errOut)
	if code == 0 || !strings.Contains(errOut.String(), `tool "order_lookup" is not registered`) || ctx.Err() != nil {
		t.Fatalf("exit %d (ctx %v), stderr:\n%s", code, ctx.Err(), errOut.String())
	}
}
