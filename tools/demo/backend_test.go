package demo_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/yanit/yanit/tools"
	"github.com/yanit/yanit/tools/demo"
)

// backendKey signs the tests' requests to the backend.
var backendKey = []byte("yanit-demo-backend-test-key")

// tomorrow is the day after the tests' clock, now.
const tomorrow = "2026-03-11"

// startBackend serves the backend of a freshly seeded store; the store and
// the backend both run on the tests' clock.
func startBackend(t *testing.T) (*demo.Store, *httptest.Server) {
	t.Helper()
	return startBackendLogging(t, slog.New(slog.NewTextHandler(t.Output(), nil)))
}

// startBackendLogging is startBackend with the backend's logger.
func startBackendLogging(t *testing.T, log *slog.Logger) (*demo.Store, *httptest.Server) {
	t.Helper()
	s := demo.New(func() time.Time { return now })
	srv := httptest.NewServer(demo.NewBackend(s, backendKey, demo.BackendOptions{
		Logger: log,
		Now:    func() time.Time { return now },
	}))
	t.Cleanup(srv.Close)
	return s, srv
}

// signature is the X-Yanit-Signature of a request made at the time, with
// the scheme yanit signs with: t=<unix seconds>,v1=<hex of
// HMAC-SHA256(key, "<t>.<METHOD>.<request URI>.<body>")>.
func signature(key []byte, at time.Time, method, uri, body string) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(ts + "." + method + "." + uri + "." + body))
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// newRequest returns an unsigned request to srv.
func newRequest(t *testing.T, srv *httptest.Server, method, uri, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+uri, strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request %s %s: %v", method, uri, err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// send sends req and returns the status, the headers and the JSON body,
// which every answer must have.
func send(t *testing.T, req *http.Request) (int, http.Header, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer to %s %s: %v", req.Method, req.URL, err)
	}
	if req.Method == http.MethodHead {
		return resp.StatusCode, resp.Header, nil
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("%s %s: Content-Type %q, want JSON", req.Method, req.URL, ct)
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("%s %s: %d with a body that is not a JSON object: %v\n%s", req.Method, req.URL, resp.StatusCode, err, raw)
	}
	return resp.StatusCode, resp.Header, body
}

// do sends a request signed with backendKey at now, as yanit would.
func do(t *testing.T, srv *httptest.Server, method, uri, body string) (int, map[string]any) {
	t.Helper()
	req := newRequest(t, srv, method, uri, body)
	req.Header.Set("X-Yanit-Signature", signature(backendKey, now, method, req.URL.RequestURI(), body))
	status, _, got := send(t, req)
	return status, got
}

// jsonTexts is a text in Turkish and English as it reads from JSON.
func jsonTexts(tr, en string) map[string]any { return map[string]any{"tr": tr, "en": en} }

// wantErrorBody fails unless body is {"error": "…"} with the field, if any.
func wantErrorBody(t *testing.T, body map[string]any, field string) {
	t.Helper()
	if msg, _ := body["error"].(string); msg == "" {
		t.Errorf("body %v has no error message", body)
	}
	got, ok := body["field"]
	switch {
	case field == "" && ok:
		t.Errorf("field = %v, want none", got)
	case field != "" && got != field:
		t.Errorf("field = %v, want %q", got, field)
	}
	for k := range body {
		if k != "error" && k != "field" {
			t.Errorf("error body has field %s = %v", k, body[k])
		}
	}
}

// wantAppointment fails unless the store holds the appointment with the
// status, or holds none when status is "".
func wantAppointment(t *testing.T, s *demo.Store, id, status string) {
	t.Helper()
	a, ok := s.Appointment(id)
	switch {
	case status == "" && ok:
		t.Errorf("appointment %s was stored: %+v", id, a)
	case status != "" && !ok:
		t.Errorf("appointment %s missing, want %s", id, status)
	case status != "" && a.Status != status:
		t.Errorf("appointment %s is %s, want %s", id, a.Status, status)
	}
}

func TestBackendRoutes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		method, uri string
		body        string
		status      int
		// want is the whole body of a success; field the "field" of an
		// error.
		want  map[string]any
		field string
		check func(t *testing.T, s *demo.Store)
	}{
		{name: "order shipped", method: "GET", uri: "/orders/SP-2026-0001", status: 200, want: map[string]any{
			"order_id": "SP-2026-0001", "status": "shipped", "status_text": jsonTexts("Kargoya verildi", "Shipped"),
			"carrier": "Yurtiçi Kargo", "tracking_number": "YK4816230957", "eta": "2026-03-11",
			"items": "Türk kahvesi makinesi, 2 × Türk kahvesi 250 g", "total": "1.249,90 TL",
			"customer_name": "Ayşe Yılmaz", "address_city": "İstanbul", "payment_method": "Kredi kartı (**** 4417)",
		}},
		{name: "order delivered", method: "GET", uri: "/orders/SP-2026-0003", status: 200, want: map[string]any{
			"order_id": "SP-2026-0003", "status": "delivered", "status_text": jsonTexts("Teslim edildi", "Delivered"),
			"carrier": "MNG Kargo", "tracking_number": "MNG70314482", "delivered_on": "2026-03-05",
			"items": "Çelik çaydanlık, 12 parça çay bardağı seti", "total": "689,50 TL",
			"customer_name": "Zeynep Kaya", "address_city": "İzmir", "payment_method": "Kapıda ödeme",
		}},
		{name: "order unknown", method: "GET", uri: "/orders/SP-2026-0999", status: 404},
		{name: "order id malformed", method: "GET", uri: "/orders/SP-26-1", status: 422, field: "order_id"},
		{name: "order id lower case", method: "GET", uri: "/orders/sp-2026-0001", status: 422, field: "order_id"},

		{name: "card, + escaped", method: "GET", uri: "/cards/%2B905321234567", status: 200, want: map[string]any{
			"points": 1234.0, "tl_value": "123,40 TL", "tier": "Gold", "expiring_points": 200.0, "expiry_date": "2026-03-31",
			"member_since": "2019-04", "card_last4": "4417",
		}},
		{name: "card, + as is", method: "GET", uri: "/cards/+447700900123", status: 200, want: map[string]any{
			"points": 340.0, "tl_value": "34,00 TL", "tier": "Classic", "expiring_points": 0.0,
			"member_since": "2024-11", "card_last4": "7781",
		}},
		{name: "card unknown", method: "GET", uri: "/cards/%2B905551234000", status: 404},
		{name: "card phone without +", method: "GET", uri: "/cards/05321234567", status: 422, field: "phone"},

		{name: "book", method: "POST", uri: "/appointments",
			body:   `{"date": "2026-03-11", "time": "15:00", "service": "installation", "phone": "+905321234567"}`,
			status: 201, want: map[string]any{
				"appointment_id": "RDV-1006", "date": "2026-03-11", "time": "15:00", "service": "installation",
				"service_text": jsonTexts("Kurulum", "Installation"), "store": "Kadıköy", "phone": "+905321234567",
			},
			check: func(t *testing.T, s *demo.Store) { wantAppointment(t, s, "RDV-1006", "booked") }},
		{name: "book, optional fields empty", method: "POST", uri: "/appointments",
			body:   `{"date": "2026-03-11", "time": "15:00", "service": "", "phone": null}`,
			status: 201, want: map[string]any{
				"appointment_id": "RDV-1006", "date": "2026-03-11", "time": "15:00", "service": "repair",
				"service_text": jsonTexts("Teknik servis (onarım)", "Repair"), "store": "Kadıköy",
			},
			check: func(t *testing.T, s *demo.Store) { wantAppointment(t, s, "RDV-1006", "booked") }},
		{name: "book full slot", method: "POST", uri: "/appointments", body: `{"date": "2026-03-11", "time": "14:00"}`,
			status: 422, field: "time", check: func(t *testing.T, s *demo.Store) { wantAppointment(t, s, "RDV-1006", "") }},
		{name: "book in the past", method: "POST", uri: "/appointments", body: `{"date": "2026-03-09", "time": "14:00"}`,
			status: 422, field: "date"},
		{name: "book no date", method: "POST", uri: "/appointments", body: `{"time": "14:00"}`, status: 422, field: "date"},
		{name: "book unknown service", method: "POST", uri: "/appointments",
			body: `{"date": "2026-03-11", "time": "15:00", "service": "cleaning"}`, status: 422, field: "service"},
		{name: "book unknown field", method: "POST", uri: "/appointments",
			body: `{"date": "2026-03-11", "time": "15:00", "colour": "red"}`, status: 422, field: "colour"},
		{name: "book malformed JSON", method: "POST", uri: "/appointments", body: `{"date": "2026-03-11",`, status: 400,
			check: func(t *testing.T, s *demo.Store) { wantAppointment(t, s, "RDV-1006", "") }},
		{name: "book empty body", method: "POST", uri: "/appointments", status: 400},
		{name: "book array", method: "POST", uri: "/appointments", body: `[{"date": "2026-03-11", "time": "15:00"}]`, status: 400},
		{name: "book null", method: "POST", uri: "/appointments", body: `null`, status: 400},

		{name: "cancel", method: "POST", uri: "/appointments/RDV-1001/cancel", status: 200, want: map[string]any{
			"appointment_id": "RDV-1001", "date": "2026-03-11", "time": "14:00", "status": "cancelled",
			"status_text": jsonTexts("Randevunuz iptal edildi.", "Your appointment has been cancelled."), "phone": "+905321234567",
		}, check: func(t *testing.T, s *demo.Store) { wantAppointment(t, s, "RDV-1001", "cancelled") }},
		{name: "cancel cancelled", method: "POST", uri: "/appointments/RDV-1005/cancel", status: 200, want: map[string]any{
			"appointment_id": "RDV-1005", "date": "2026-03-11", "time": "10:00", "status": "already_cancelled",
			"status_text": jsonTexts("Bu randevu zaten iptal edilmişti.", "This appointment was already cancelled."), "phone": "+905059998877",
		}},
		{name: "cancel unknown", method: "POST", uri: "/appointments/RDV-9999/cancel", status: 404},
		{name: "cancel id malformed", method: "POST", uri: "/appointments/RDV-1/cancel", status: 422, field: "appointment_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, srv := startBackend(t)
			status, body := do(t, srv, tt.method, tt.uri, tt.body)
			if status != tt.status {
				t.Fatalf("%s %s: status %d, want %d; body %v", tt.method, tt.uri, status, tt.status, body)
			}
			if tt.want != nil {
				if !reflect.DeepEqual(body, tt.want) {
					t.Errorf("body\n%v\nwant\n%v", body, tt.want)
				}
			} else {
				wantErrorBody(t, body, tt.field)
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

// backendRoute is the request that asks the backend for a call of the tool
// with args.
func backendRoute(t *testing.T, tool string, args map[string]string) (method, uri, body string) {
	t.Helper()
	switch tool {
	case "order_status":
		return "GET", "/orders/" + url.PathEscape(args["order_id"]), ""
	case "card_balance":
		return "GET", "/cards/" + url.PathEscape(args["phone"]), ""
	case "book_appointment":
		b, err := json.Marshal(args)
		if err != nil {
			t.Fatal(err)
		}
		return "POST", "/appointments", string(b)
	case "cancel_appointment":
		return "POST", "/appointments/" + url.PathEscape(args["appointment_id"]) + "/cancel", ""
	}
	t.Fatalf("no route for tool %s", tool)
	return "", "", ""
}

// roundTrip returns m as it reads after a trip through JSON; never nil.
func roundTrip(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	if m == nil {
		return make(map[string]any)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("encoding %v: %v", m, err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	return out
}

// compareOutcome fails unless the backend's answer (status and body) says
// what the Go-native call (res, err) did: the same User and Agent fields,
// field by field, or the same failure.
func compareOutcome(t *testing.T, status int, body map[string]any, res tools.Result, err error, okStatus int) {
	t.Helper()
	if err != nil {
		var te *tools.Error
		if !errors.As(err, &te) {
			t.Fatalf("Go-native call failed with %v, not a *tools.Error", err)
		}
		wantStatus := map[tools.Kind]int{tools.KindNotFound: 404, tools.KindInvalid: 422}[te.Kind]
		if status != wantStatus {
			t.Fatalf("status %d, want %d for Go-native %v", status, wantStatus, err)
		}
		wantErrorBody(t, body, te.Field)
		if body["error"] != te.Message {
			t.Errorf("error %q, want the Go-native message %q", body["error"], te.Message)
		}
		return
	}
	if status != okStatus {
		t.Fatalf("status %d, want %d; body %v", status, okStatus, body)
	}
	want := roundTrip(t, res.Agent)
	maps.Copy(want, roundTrip(t, res.User))
	if len(want) != len(res.User)+len(res.Agent) {
		t.Fatalf("User %v and Agent %v share a field", res.User, res.Agent)
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if g, ok := body[k]; !ok || !reflect.DeepEqual(g, want[k]) {
			t.Errorf("%s = %v, want %v as the Go-native tool", k, g, want[k])
		}
	}
	for k, g := range body {
		if _, ok := want[k]; !ok {
			t.Errorf("field %s = %v, which the Go-native tool does not return", k, g)
		}
	}
}

func TestBackendMatchesTools(t *testing.T) {
	t.Parallel()
	type call struct {
		tool string
		args map[string]string
	}
	var calls []call
	for _, o := range demo.New(func() time.Time { return now }).Orders() {
		calls = append(calls, call{"order_status", map[string]string{"order_id": o.ID}})
	}
	for _, id := range []string{"SP-2026-0999", "SP-26-1", "sp-2026-0001", "SP 2026 0001", "SP-2026/0001"} {
		calls = append(calls, call{"order_status", map[string]string{"order_id": id}})
	}
	for _, phone := range []string{"+905321234567", "+905551112233", "+447700900123", "+905339876543", "+905059998877",
		"+4915112345678", "+905550000042", "+905550009999", "+905551234000", "05321234567", "+90 532 123 45 67"} {
		calls = append(calls, call{"card_balance", map[string]string{"phone": phone}})
	}
	for _, args := range []map[string]string{
		{"date": tomorrow, "time": "15:00"},
		{"date": tomorrow, "time": "21:00", "service": "return_help", "phone": "+447700900123"},
		{"date": "2026-03-10", "time": "12:30"},
		{"date": "2026-03-10", "time": "11:00"},
		{"date": tomorrow, "time": "14:00"},
		{"date": "2026-03-09", "time": "15:00"},
		{"date": "2026-02-30", "time": "15:00"},
		{"date": tomorrow, "time": "21:30"},
		{"date": tomorrow, "time": "10:15"},
		{"date": tomorrow, "time": "15:00", "service": "cleaning"},
		{"date": tomorrow, "time": "15:00", "phone": "0532"},
		{"date": tomorrow},
	} {
		calls = append(calls, call{"book_appointment", args})
	}
	for _, id := range []string{"RDV-1001", "RDV-1003", "RDV-1005", "RDV-9999", "RDV-1"} {
		calls = append(calls, call{"cancel_appointment", map[string]string{"appointment_id": id}})
	}

	for _, c := range calls {
		t.Run(fmt.Sprintf("%s %v", c.tool, c.args), func(t *testing.T) {
			t.Parallel()
			// Each path on a store of its own, both seeded the same way.
			_, reg := setup(t)
			_, srv := startBackend(t)
			args, err := json.Marshal(c.args)
			if err != nil {
				t.Fatal(err)
			}
			native, nerr := reg.Call(context.Background(), c.tool, args)

			method, uri, body := backendRoute(t, c.tool, c.args)
			status, got := do(t, srv, method, uri, body)
			okStatus := http.StatusOK
			if c.tool == "book_appointment" {
				okStatus = http.StatusCreated
			}
			compareOutcome(t, status, got, native.Result, nerr, okStatus)
		})
	}
}

func TestBackendSignature(t *testing.T) {
	t.Parallel()
	const book = `{"date": "2026-03-11", "time": "15:00", "phone": "+905321234567"}`
	good := signature(backendKey, now, "POST", "/appointments", book)
	ts := strconv.FormatInt(now.Unix(), 10)
	mac := strings.TrimPrefix(good, "t="+ts+",v1=")

	tests := []struct {
		name string
		// header is the X-Yanit-Signature sent, none when empty.
		header string
		// uri and body are what is sent: POST /appointments with book
		// when empty.
		uri, body string
		status    int
	}{
		{name: "valid", header: good, status: 201},
		{name: "valid, spaces after the comma", header: "t=" + ts + ", v1=" + mac, status: 201},
		{name: "valid, signed 5 minutes ago", header: signature(backendKey, now.Add(-5*time.Minute), "POST", "/appointments", book), status: 201},
		{name: "valid, signer's clock 5 minutes ahead", header: signature(backendKey, now.Add(5*time.Minute), "POST", "/appointments", book), status: 201},

		{name: "valid among others", header: "t=" + ts + ",v1=" + strings.Repeat("0", 64) + ",v1=" + mac, status: 201},
		{name: "valid, unknown scheme ignored", header: "t=" + ts + ",v0=abc,v1=" + mac, status: 201},

		{name: "missing", status: 401},
		{name: "malformed", header: "sha256=" + mac, status: 401},
		{name: "no time", header: "v1=" + mac, status: 401},
		{name: "no mac", header: "t=" + ts, status: 401},
		{name: "time not a number", header: "t=now,v1=" + mac, status: 401},
		{name: "negative time", header: "t=-" + ts + ",v1=" + mac, status: 401},
		{name: "two times", header: "t=" + ts + ",t=" + ts + ",v1=" + mac, status: 401},
		{name: "mac not hex", header: "t=" + ts + ",v1=" + strings.Repeat("z", 64), status: 401},
		{name: "mac too short", header: "t=" + ts + ",v1=" + mac[:62], status: 401},
		{name: "stale", header: signature(backendKey, now.Add(-5*time.Minute-time.Second), "POST", "/appointments", book), status: 401},
		{name: "from the future", header: signature(backendKey, now.Add(5*time.Minute+time.Second), "POST", "/appointments", book), status: 401},
		{name: "time changed", header: "t=" + strconv.FormatInt(now.Unix()+1, 10) + ",v1=" + mac, status: 401},
		{name: "wrong key", header: signature([]byte("another key"), now, "POST", "/appointments", book), status: 401},
		{name: "empty key", header: signature(nil, now, "POST", "/appointments", book), status: 401},
		{name: "tampered body", header: good, body: `{"date": "2026-03-11", "time": "16:00", "phone": "+905321234567"}`, status: 401},
		{name: "tampered path", header: signature(backendKey, now, "POST", "/appointments/RDV-1003/cancel", book), status: 401},
		{name: "tampered query", header: good, uri: "/appointments?confirm=yes", status: 401},
		{name: "tampered method", header: signature(backendKey, now, "GET", "/appointments", book), status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, srv := startBackend(t)
			uri, body := cmp.Or(tt.uri, "/appointments"), cmp.Or(tt.body, book)
			req := newRequest(t, srv, "POST", uri, body)
			if tt.header != "" {
				req.Header.Set("X-Yanit-Signature", tt.header)
			}
			status, header, got := send(t, req)
			if status != tt.status {
				t.Fatalf("status %d, want %d; body %v", status, tt.status, got)
			}
			if status == 201 {
				wantAppointment(t, s, "RDV-1006", "booked")
				return
			}
			wantErrorBody(t, got, "")
			if h := header.Get("WWW-Authenticate"); h == "" {
				t.Error("401 without WWW-Authenticate")
			}
			wantAppointment(t, s, "RDV-1006", "")
			// Nor does a later booking get the number, as if one was taken.
			status, got = do(t, srv, "POST", "/appointments", `{"date": "2026-03-12", "time": "15:00"}`)
			if status != 201 || got["appointment_id"] != "RDV-1006" {
				t.Errorf("next booking: %d %v, want 201 RDV-1006", status, got)
			}
		})
	}

	t.Run("every route but healthz", func(t *testing.T) {
		t.Parallel()
		s, srv := startBackend(t)
		for _, r := range []struct{ method, uri string }{
			{"GET", "/orders/SP-2026-0001"},
			{"GET", "/cards/+905321234567"},
			{"POST", "/appointments/RDV-1001/cancel"},
		} {
			for name, header := range map[string]string{
				"missing":   "",
				"wrong key": signature([]byte("another key"), now, r.method, r.uri, ""),
			} {
				req := newRequest(t, srv, r.method, r.uri, "")
				if header != "" {
					req.Header.Set("X-Yanit-Signature", header)
				}
				status, _, got := send(t, req)
				if status != 401 {
					t.Errorf("%s %s, signature %s: status %d, want 401; body %v", r.method, r.uri, name, status, got)
				}
				wantErrorBody(t, got, "")
			}
		}
		wantAppointment(t, s, "RDV-1001", "booked")
	})
}

func TestBackendHealthz(t *testing.T) {
	t.Parallel()
	_, srv := startBackend(t)
	status, _, body := send(t, newRequest(t, srv, "GET", "/healthz", ""))
	if status != 200 || !reflect.DeepEqual(body, map[string]any{"status": "ok"}) {
		t.Errorf("GET /healthz unsigned: %d %v, want 200 {status: ok}", status, body)
	}
	if status, _, _ := send(t, newRequest(t, srv, "HEAD", "/healthz", "")); status != 200 {
		t.Errorf("HEAD /healthz: %d, want 200", status)
	}
}

func TestBackendMethodsAndRoutes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, uri string
		status      int
		allow       string
	}{
		{"DELETE", "/orders/SP-2026-0001", 405, "GET, HEAD"},
		{"POST", "/orders/SP-2026-0001", 405, "GET, HEAD"},
		{"PUT", "/cards/+905321234567", 405, "GET, HEAD"},
		{"GET", "/appointments", 405, "POST"},
		{"GET", "/appointments/RDV-1001/cancel", 405, "POST"},
		{"DELETE", "/appointments/RDV-1001/cancel", 405, "POST"},
		{"POST", "/healthz", 405, "GET, HEAD"},
		{"GET", "/", 404, ""},
		{"GET", "/orders", 404, ""},
		{"GET", "/orders/", 404, ""},
		{"GET", "/orders/SP-2026-0001/items", 404, ""},
		{"DELETE", "/appointments/RDV-1001", 404, ""},
		{"GET", "/admin", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.uri, func(t *testing.T) {
			t.Parallel()
			s, srv := startBackend(t)
			req := newRequest(t, srv, tt.method, tt.uri, "")
			req.Header.Set("X-Yanit-Signature", signature(backendKey, now, tt.method, tt.uri, ""))
			status, header, body := send(t, req)
			if status != tt.status {
				t.Fatalf("status %d, want %d; body %v", status, tt.status, body)
			}
			if got := header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			wantErrorBody(t, body, "")
			wantAppointment(t, s, "RDV-1001", "booked")
		})
	}
}

func TestBackendBodyLimit(t *testing.T) {
	t.Parallel()
	const book = `{"date": "2026-03-11", "time": "15:00"}`
	pad := func(n int) string { return book + strings.Repeat(" ", n-len(book)) }
	tests := []struct {
		name   string
		body   string
		status int
	}{
		{"64 KiB", pad(64 << 10), 201},
		{"64 KiB and a byte", pad(64<<10 + 1), 413},
		{"1 MiB", pad(1 << 20), 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, srv := startBackend(t)
			status, body := do(t, srv, "POST", "/appointments", tt.body)
			if status != tt.status {
				t.Fatalf("status %d, want %d; body %v", status, tt.status, body)
			}
			if status == 201 {
				wantAppointment(t, s, "RDV-1006", "booked")
				return
			}
			wantErrorBody(t, body, "")
			wantAppointment(t, s, "RDV-1006", "")
		})
	}
}

// syncBuffer is a bytes.Buffer that the server's goroutines may write.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestBackendLogsNoPhone(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	_, srv := startBackendLogging(t, slog.New(slog.NewTextHandler(&logs, nil)))
	req := newRequest(t, srv, "GET", "/cards/+905321234567", "")
	req.Header.Set("X-Yanit-Signature", signature([]byte("another key"), now, "GET", "/cards/+905321234567", ""))
	if status, _, _ := send(t, req); status != 401 {
		t.Fatalf("status %d, want 401", status)
	}
	got := logs.String()
	if !strings.Contains(got, "GET /cards/{phone}") {
		t.Errorf("the refusal was not logged with its route:\n%s", got)
	}
	if strings.Contains(got, "5321234567") {
		t.Errorf("the log holds the phone number:\n%s", got)
	}
}

func TestNewBackendNeedsKey(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("NewBackend with no key did not panic")
		}
	}()
	demo.NewBackend(demo.New(nil), nil, demo.BackendOptions{})
}

// placeholder is an argument's place in a path or body template.
var placeholder = regexp.MustCompile(`\{([a-z_]+)\}`)

// expandRoute fills the request template of an HTTP tool in
// configs/demo-tools.yaml with args, as yanit's loader does; a body field
// whose argument is missing is left out.
func expandRoute(t *testing.T, decl map[string]any, args map[string]string) (method, uri, body string) {
	t.Helper()
	method, _ = decl["method"].(string)
	path, _ := decl["path"].(string)
	uri = placeholder.ReplaceAllStringFunc(path, func(m string) string {
		return url.PathEscape(args[m[1:len(m)-1]])
	})
	tmpl, ok := decl["body"].(map[string]any)
	if !ok {
		return method, uri, ""
	}
	fields := make(map[string]string)
	for k, v := range tmpl {
		s, _ := v.(string)
		m := placeholder.FindStringSubmatch(s)
		if m == nil || m[0] != s {
			t.Fatalf("body field %s = %v, want a whole {argument}", k, v)
		}
		if a, ok := args[m[1]]; ok {
			fields[k] = a
		}
	}
	b, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return method, uri, string(b)
}

func TestDemoToolsConfig(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../configs/demo-tools.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("configs/demo-tools.yaml: %v", err)
	}

	backends, _ := doc["backends"].([]any)
	if len(backends) != 1 {
		t.Fatalf("backends = %v, want one", doc["backends"])
	}
	backend, _ := backends[0].(map[string]any)
	for k, want := range map[string]any{
		"name": "demo", "base_url": "${YANIT_DEMO_BACKEND_URL}", "signing_secret_env": "YANIT_DEMO_BACKEND_SECRET",
	} {
		if backend[k] != want {
			t.Errorf("backends[0].%s = %v, want %v", k, backend[k], want)
		}
	}

	// Representative calls of each tool, which together return every field.
	store := demo.New(func() time.Time { return now })
	calls := map[string][]map[string]string{
		"book_appointment": {
			{"date": tomorrow, "time": "15:00", "service": "installation", "phone": "+905321234567"},
			{"date": tomorrow, "time": "16:30"},
		},
		"cancel_appointment": {{"appointment_id": "RDV-1001"}, {"appointment_id": "RDV-1004"}},
	}
	for _, o := range store.Orders() {
		calls["order_status"] = append(calls["order_status"], map[string]string{"order_id": o.ID})
	}
	for _, phone := range []string{"+905321234567", "+447700900123", "+905550000042"} {
		calls["card_balance"] = append(calls["card_balance"], map[string]string{"phone": phone})
	}

	specs := make(map[string]tools.Spec)
	for _, tool := range store.Tools() {
		specs[tool.Spec().Name] = tool.Spec()
	}
	decls, _ := doc["tools"].([]any)
	if len(decls) != len(specs) {
		t.Errorf("%d tools declared, want %d", len(decls), len(specs))
	}
	// The Go-native tools and the backend each on a store of their own,
	// called in the same order.
	_, reg := setup(t)
	_, srv := startBackend(t)
	seen := make(map[string]bool)
	for i, d := range decls {
		decl, _ := d.(map[string]any)
		name, _ := decl["name"].(string)
		spec, ok := specs[name]
		if !ok || seen[name] {
			t.Errorf("tools[%d]: name %q is not a Go-native tool or is declared twice", i, name)
			continue
		}
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			if decl["backend"] != "demo" {
				t.Errorf("backend = %v, want demo", decl["backend"])
			}
			var wantDesc map[string]any
			if err := json.Unmarshal(must(json.Marshal(spec.Description)), &wantDesc); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(decl["description"], wantDesc) {
				t.Errorf("description = %v, want %v", decl["description"], wantDesc)
			}
			var params, wantParams any
			if err := json.Unmarshal(must(json.Marshal(decl["parameters"])), &params); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(spec.Parameters, &wantParams); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(params, wantParams) {
				t.Errorf("parameters\n%s\nwant the Go-native schema\n%s", must(json.Marshal(params)), must(json.Marshal(wantParams)))
			}
			if decl["mutates"] != spec.Mutates || decl["idempotent"] != spec.Idempotent {
				t.Errorf("mutates %v, idempotent %v; want %v, %v", decl["mutates"], decl["idempotent"], spec.Mutates, spec.Idempotent)
			}

			properties, _ := wantParams.(map[string]any)["properties"].(map[string]any)
			path, _ := decl["path"].(string)
			templates := []string{path}
			if tmpl, ok := decl["body"].(map[string]any); ok {
				for _, v := range tmpl {
					s, _ := v.(string)
					templates = append(templates, s)
				}
			}
			for _, s := range templates {
				for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
					if _, ok := properties[m[1]]; !ok {
						t.Errorf("%s names %s, which is not a parameter", s, m[0])
					}
				}
			}

			userKeys, agentKeys := make(map[string]bool), make(map[string]bool)
			for _, args := range calls[name] {
				native, err := reg.Call(context.Background(), name, must(json.Marshal(args)))
				if err != nil {
					t.Fatalf("Go-native %s %v: %v", name, args, err)
				}
				for k := range native.Result.User {
					userKeys[k] = true
				}
				for k := range native.Result.Agent {
					agentKeys[k] = true
				}
				method, uri, body := expandRoute(t, decl, args)
				status, got := do(t, srv, method, uri, body)
				okStatus := http.StatusOK
				if name == "book_appointment" {
					okStatus = http.StatusCreated
				}
				compareOutcome(t, status, got, native.Result, nil, okStatus)
			}
			response, _ := decl["response"].(map[string]any)
			for part, want := range map[string]map[string]bool{"user": userKeys, "agent": agentKeys} {
				list, _ := response[part].([]any)
				got := make([]string, 0, len(list))
				for _, v := range list {
					s, _ := v.(string)
					got = append(got, s)
				}
				slices.Sort(got)
				if w := slices.Sorted(maps.Keys(want)); !slices.Equal(got, w) {
					t.Errorf("response.%s = %v, want the Go-native tool's %v", part, got, w)
				}
			}
		})
	}
}

// must returns v, panicking on err; for encodings that cannot fail.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
