package tools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/yanit/yanit/tools"
)

// An organisation's backend checks yanit's signature before anything else.
func orderBackend(key []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, `{"error": "unreadable body"}`, http.StatusBadRequest)
			return
		}
		if err := tools.VerifyRequest(key, r, body, time.Now(), 0); err != nil {
			http.Error(w, `{"error": "bad signature"}`, http.StatusUnauthorized)
			return
		}
		if r.PathValue("id") != "SP-2026-0001" {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"error": "no order %s"}`, r.PathValue("id"))
			return
		}
		fmt.Fprint(w, `{"order_id": "SP-2026-0001", "status": "shipped", "customer": {"name": "Ayşe Yılmaz"}}`)
	})
}

func ExampleLoadHTTPTools() {
	const secret = "a-signing-secret-of-32-bytes-000"
	mux := http.NewServeMux()
	mux.Handle("GET /orders/{id}", orderBackend([]byte(secret)))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	config := []byte(`
backends:
  - name: shop
    base_url: "${SHOP_URL}"
    signing_secret_env: SHOP_SECRET
tools:
  - name: order_status
    backend: shop
    description: {en: "Looks up an order by its number."}
    parameters:
      type: object
      required: [order_id]
      properties: {order_id: {type: string, pattern: '^SP-\d{4}-\d{4}$'}}
    method: GET
    path: /orders/{order_id}
    response:
      user: [order_id, status]
      agent: [customer.name]
`)
	// In production: os.LookupEnv.
	env := map[string]string{"SHOP_URL": srv.URL, "SHOP_SECRET": secret}
	loaded, err := tools.LoadHTTPTools(config, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, tools.HTTPOptions{})
	if err != nil {
		log.Fatal(err)
	}
	r := tools.NewRegistry()
	for _, t := range loaded {
		r.MustRegister(t)
	}

	ctx := context.Background()
	call, err := r.Call(ctx, "order_status", json.RawMessage(`{"order_id": "SP-2026-0001"}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(call.Result.User["status"], call.Result.Agent["customer"])

	call, _ = r.Call(ctx, "order_status", json.RawMessage(`{"order_id": "SP-2026-0009"}`))
	fmt.Println(call.Kind, "-", call.Err)
	// Output:
	// shipped map[name:Ayşe Yılmaz]
	// not_found - calling order_status: not_found: no order SP-2026-0009
}
