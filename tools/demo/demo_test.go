package demo_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yanit/yanit/tools"
	"github.com/yanit/yanit/tools/demo"
)

// now is the demo's clock in the tests: Tuesday 10 March 2026, noon in
// Istanbul. The seeds are dated from it.
var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.FixedZone("TRT", 3*60*60))

// setup returns a seeded store and a registry holding its tools.
func setup(t *testing.T) (*demo.Store, *tools.Registry) {
	t.Helper()
	s := demo.New(func() time.Time { return now })
	r := tools.NewRegistry()
	r.SetRetry(0, 0)
	if err := demo.Register(r, s); err != nil {
		t.Fatalf("Register: %v", err)
	}
	return s, r
}

// call calls a tool through the registry, as the engine does.
func call(t *testing.T, r *tools.Registry, name, args string) (tools.Result, error) {
	t.Helper()
	c, err := r.Call(context.Background(), name, json.RawMessage(args))
	return c.Result, err
}

// mustCall is call for a call that must succeed.
func mustCall(t *testing.T, r *tools.Registry, name, args string) tools.Result {
	t.Helper()
	res, err := call(t, r, name, args)
	if err != nil {
		t.Fatalf("%s %s: %v", name, args, err)
	}
	return res
}

// wantError fails unless err is an *Error of the kind, naming field.
func wantError(t *testing.T, err error, kind tools.Kind, field, msg string) {
	t.Helper()
	var te *tools.Error
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want %s %s", err, kind, field)
	}
	if te.Kind != kind || te.Field != field || !strings.Contains(te.Message, msg) {
		t.Errorf("err = %v; want %s, field %q, message with %q", err, kind, field, msg)
	}
}

// checkFields compares the fields of got named in want, and fails for
// fields in absent that got has.
func checkFields(t *testing.T, got, want map[string]any, absent ...string) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("field %s missing", k)
			continue
		}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}
	for _, k := range absent {
		if v, ok := got[k]; ok {
			t.Errorf("field %s = %v, want none", k, v)
		}
	}
}

func texts(tr, en string) map[string]string { return map[string]string{"tr": tr, "en": en} }

func TestSpecs(t *testing.T) {
	t.Parallel()
	_, r := setup(t)
	want := map[string][2]bool{ // mutates, idempotent
		"book_appointment":   {true, false},
		"cancel_appointment": {true, true},
		"card_balance":       {false, true},
		"order_status":       {false, true},
	}
	specs := r.Specs()
	if len(specs) != len(want) {
		t.Fatalf("%d tools registered, want %d", len(specs), len(want))
	}
	for _, s := range specs {
		w, ok := want[s.Name]
		if !ok {
			t.Errorf("unexpected tool %s", s.Name)
			continue
		}
		if s.Mutates != w[0] || s.Idempotent != w[1] {
			t.Errorf("%s: Mutates %v Idempotent %v, want %v %v", s.Name, s.Mutates, s.Idempotent, w[0], w[1])
		}
		if s.Description["tr"] == "" || s.Description["en"] == "" {
			t.Errorf("%s: description missing a language: %v", s.Name, s.Description)
		}
	}
	if err := demo.Register(r, demo.New(nil)); err == nil {
		t.Error("registering the demo tools twice succeeded")
	}
}

func TestOrderStatus(t *testing.T) {
	t.Parallel()
	_, r := setup(t)
	tests := []struct {
		id     string
		user   map[string]any
		agent  map[string]any
		absent []string
	}{
		{
			id: "SP-2026-0001",
			user: map[string]any{
				"order_id": "SP-2026-0001", "status": "shipped", "status_text": texts("Kargoya verildi", "Shipped"),
				"carrier": "Yurtiçi Kargo", "tracking_number": "YK4816230957", "eta": "2026-03-11",
				"items": "Türk kahvesi makinesi, 2 × Türk kahvesi 250 g", "total": "1.249,90 TL",
			},
			agent:  map[string]any{"customer_name": "Ayşe Yılmaz", "address_city": "İstanbul", "payment_method": "Kredi kartı (**** 4417)"},
			absent: []string{"delivered_on"},
		},
		{
			id: "SP-2026-0002",
			user: map[string]any{
				"status": "preparing", "status_text": texts("Hazırlanıyor", "Being prepared"),
				"carrier": "Aras Kargo", "eta": "2026-03-14", "total": "18.999,00 TL",
			},
			agent:  map[string]any{"customer_name": "Mehmet Demir"},
			absent: []string{"tracking_number", "delivered_on"},
		},
		{
			id: "SP-2026-0003",
			user: map[string]any{
				"status": "delivered", "status_text": texts("Teslim edildi", "Delivered"),
				"delivered_on": "2026-03-05", "total": "689,50 TL",
			},
			agent:  map[string]any{"payment_method": "Kapıda ödeme"},
			absent: []string{"eta"},
		},
		{
			id: "SP-2026-0004",
			user: map[string]any{
				"status": "cancelled", "status_text": texts("İptal edildi", "Cancelled"), "total": "7.499,00 TL",
			},
			absent: []string{"eta", "carrier", "tracking_number"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			res := mustCall(t, r, "order_status", `{"order_id": "`+tt.id+`"}`)
			checkFields(t, res.User, tt.user, tt.absent...)
			checkFields(t, res.Agent, tt.agent)
			for _, k := range []string{"customer_name", "address_city", "payment_method"} {
				if _, ok := res.User[k]; ok {
					t.Errorf("agent-only field %s is in the user's fields", k)
				}
			}
		})
	}
}

func TestOrderSeeds(t *testing.T) {
	t.Parallel()
	s, r := setup(t)
	orders := s.Orders()
	if len(orders) < 8 {
		t.Fatalf("%d orders seeded, want at least 8", len(orders))
	}
	perStatus := map[string]int{}
	for i, o := range orders {
		if i > 0 && orders[i-1].ID >= o.ID {
			t.Errorf("Orders not sorted: %s before %s", orders[i-1].ID, o.ID)
		}
		perStatus[o.Status]++
		res := mustCall(t, r, "order_status", `{"order_id": "`+o.ID+`"}`)
		if res.User["status"] != o.Status {
			t.Errorf("%s: tool says %v, store says %s", o.ID, res.User["status"], o.Status)
		}
	}
	for _, st := range []string{"preparing", "shipped", "delivered", "cancelled"} {
		if perStatus[st] < 2 {
			t.Errorf("%d orders %s, want at least 2", perStatus[st], st)
		}
	}
}

func TestOrderStatusErrors(t *testing.T) {
	t.Parallel()
	_, r := setup(t)
	_, err := call(t, r, "order_status", `{"order_id": "SP-2026-9999"}`)
	wantError(t, err, tools.KindNotFound, "", "SP-2026-9999")
	_, err = call(t, r, "order_status", `{"order_id": "SP-26-1"}`)
	wantError(t, err, tools.KindInvalid, "order_id", "format")
	_, err = call(t, r, "order_status", `{}`)
	wantError(t, err, tools.KindInvalid, "order_id", "missing")
}

func TestCardBalance(t *testing.T) {
	t.Parallel()
	_, r := setup(t)
	tests := []struct {
		phone  string
		user   map[string]any
		agent  map[string]any
		absent []string
	}{
		{
			phone: "+905321234567",
			user: map[string]any{
				"points": 1234, "tl_value": "123,40 TL", "tier": "Gold",
				"expiring_points": 200, "expiry_date": "2026-03-31",
			},
			agent: map[string]any{"member_since": "2019-04", "card_last4": "4417"},
		},
		{
			phone: "+905551112233",
			user:  map[string]any{"points": 15820, "tl_value": "1.582,00 TL", "tier": "Platinum", "expiring_points": 1500},
		},
		{
			phone:  "+447700900123",
			user:   map[string]any{"points": 340, "tl_value": "34,00 TL", "tier": "Classic", "expiring_points": 0},
			absent: []string{"expiry_date"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.phone, func(t *testing.T) {
			t.Parallel()
			res := mustCall(t, r, "card_balance", `{"phone": "`+tt.phone+`"}`)
			checkFields(t, res.User, tt.user, tt.absent...)
			checkFields(t, res.Agent, tt.agent)
		})
	}
}

func TestCardBalanceGenerated(t *testing.T) {
	t.Parallel()
	_, r := setup(t)
	first := mustCall(t, r, "card_balance", `{"phone": "+905550001234"}`)
	again := mustCall(t, r, "card_balance", `{"phone": "+905550001234"}`)
	if fmt.Sprint(first) != fmt.Sprint(again) {
		t.Errorf("the same number gave two cards:\n%v\n%v", first, again)
	}
	other := mustCall(t, r, "card_balance", `{"phone": "+905550004321"}`)
	if fmt.Sprint(first) == fmt.Sprint(other) {
		t.Errorf("two numbers gave the same card: %v", first)
	}
	checkFields(t, first.User, map[string]any{
		"points": 12046, "tl_value": "1.204,60 TL", "tier": "Platinum", "expiring_points": 1204, "expiry_date": "2026-03-31",
	})
	checkFields(t, first.Agent, map[string]any{"member_since": "2024-11", "card_last4": "6658"})
	// Another fresh store generates the same card.
	_, r2 := setup(t)
	if res := mustCall(t, r2, "card_balance", `{"phone": "+905550001234"}`); fmt.Sprint(res) != fmt.Sprint(first) {
		t.Errorf("a new store generated another card: %v", res)
	}
}

func TestCardBalanceErrors(t *testing.T) {
	t.Parallel()
	_, r := setup(t)
	for _, phone := range []string{"+905559999999", "+15555550100", "+9055500012345"} {
		_, err := call(t, r, "card_balance", `{"phone": "`+phone+`"}`)
		wantError(t, err, tools.KindNotFound, "", "no loyalty card")
		if err != nil && strings.Contains(err.Error(), phone) {
			t.Errorf("the error repeats the phone number: %v", err)
		}
	}
	_, err := call(t, r, "card_balance", `{"phone": "05321234567"}`)
	wantError(t, err, tools.KindInvalid, "phone", "format")
}

func TestBookAppointment(t *testing.T) {
	t.Parallel()
	s, r := setup(t)
	res := mustCall(t, r, "book_appointment", `{"date": "2026-03-12", "time": "10:30", "service": "installation", "phone": "+905321234567"}`)
	checkFields(t, res.User, map[string]any{
		"appointment_id": "RDV-1006", "date": "2026-03-12", "time": "10:30", "service": "installation",
		"service_text": texts("Kurulum", "Installation"), "store": "Kadıköy",
	})
	checkFields(t, res.Agent, map[string]any{"phone": "+905321234567"})

	// The service defaults to a repair; numbers go on.
	res = mustCall(t, r, "book_appointment", `{"date": "2026-03-10", "time": "21:00"}`)
	checkFields(t, res.User, map[string]any{
		"appointment_id": "RDV-1007", "service": "repair", "service_text": texts("Teknik servis (onarım)", "Repair"),
	})

	a, ok := s.Appointment("RDV-1007")
	if !ok || a.Date != "2026-03-10" || a.Time != "21:00" || a.Service != "repair" || a.Status != "booked" {
		t.Errorf("Appointment(RDV-1007) = %+v, %v", a, ok)
	}
}

func TestBookAppointmentRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, args, field, msg string
	}{
		{"yesterday", `{"date": "2026-03-09", "time": "11:00"}`, "date", "past"},
		{"last year", `{"date": "2025-12-30", "time": "11:00"}`, "date", "past"},
		{"no such day", `{"date": "2026-02-30", "time": "11:00"}`, "date", "calendar"},
		{"date in words", `{"date": "yarın", "time": "11:00"}`, "date", "format"},
		{"before opening", `{"date": "2026-03-11", "time": "09:30"}`, "time", "between 10:00 and 21:00"},
		{"after the last slot", `{"date": "2026-03-11", "time": "21:30"}`, "time", "between 10:00 and 21:00"},
		{"not on a half hour", `{"date": "2026-03-11", "time": "10:15"}`, "time", "half past"},
		{"earlier today", `{"date": "2026-03-10", "time": "11:00"}`, "time", "passed"},
		{"now", `{"date": "2026-03-10", "time": "12:00"}`, "time", "passed"},
		{"seeded full slot", `{"date": "2026-03-11", "time": "14:00"}`, "time", "full"},
		{"unknown service", `{"date": "2026-03-11", "time": "11:00", "service": "cleaning"}`, "service", "one of"},
		{"no time", `{"date": "2026-03-11"}`, "time", "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, r := setup(t)
			_, err := call(t, r, "book_appointment", tt.args)
			wantError(t, err, tools.KindInvalid, tt.field, tt.msg)
			if _, ok := s.Appointment("RDV-1006"); ok {
				t.Error("a rejected booking was stored")
			}
		})
	}
}

func TestBookCancelCancel(t *testing.T) {
	t.Parallel()
	s, r := setup(t)
	booked := mustCall(t, r, "book_appointment", `{"date": "2026-03-13", "time": "15:30", "service": "return_help"}`)
	id := booked.User["appointment_id"].(string)

	cancelled := mustCall(t, r, "cancel_appointment", `{"appointment_id": "`+id+`"}`)
	checkFields(t, cancelled.User, map[string]any{
		"appointment_id": id, "date": "2026-03-13", "time": "15:30", "status": "cancelled",
		"status_text": texts("Randevunuz iptal edildi.", "Your appointment has been cancelled."),
	})
	if a, _ := s.Appointment(id); a.Status != "cancelled" {
		t.Errorf("after cancel, status %q", a.Status)
	}

	again := mustCall(t, r, "cancel_appointment", `{"appointment_id": "`+id+`"}`)
	checkFields(t, again.User, map[string]any{
		"appointment_id": id, "status": "already_cancelled",
		"status_text": texts("Bu randevu zaten iptal edilmişti.", "This appointment was already cancelled."),
	})

	seeded := mustCall(t, r, "cancel_appointment", `{"appointment_id": "RDV-1005"}`)
	checkFields(t, seeded.User, map[string]any{"status": "already_cancelled"})
}

func TestCancelFreesSlot(t *testing.T) {
	t.Parallel()
	_, r := setup(t)
	const full = `{"date": "2026-03-11", "time": "14:00"}`
	if _, err := call(t, r, "book_appointment", full); err == nil {
		t.Fatal("the seeded full slot took a third booking")
	}
	mustCall(t, r, "cancel_appointment", `{"appointment_id": "RDV-1001"}`)
	res := mustCall(t, r, "book_appointment", full)
	checkFields(t, res.User, map[string]any{"appointment_id": "RDV-1006"})
}

func TestCancelAppointmentErrors(t *testing.T) {
	t.Parallel()
	_, r := setup(t)
	_, err := call(t, r, "cancel_appointment", `{"appointment_id": "RDV-9999"}`)
	wantError(t, err, tools.KindNotFound, "", "RDV-9999")
	_, err = call(t, r, "cancel_appointment", `{"appointment_id": "RDV-12"}`)
	wantError(t, err, tools.KindInvalid, "appointment_id", "format")
}

func TestSeededAppointments(t *testing.T) {
	t.Parallel()
	s, _ := setup(t)
	for i := 1001; i <= 1005; i++ {
		id := fmt.Sprintf("RDV-%d", i)
		a, ok := s.Appointment(id)
		if !ok || a.ID != id || a.Date < "2026-03-11" {
			t.Errorf("Appointment(%s) = %+v, %v; want a seeded one in the coming days", id, a, ok)
		}
	}
	if a, ok := s.Appointment("RDV-1006"); ok {
		t.Errorf("RDV-1006 exists before any booking: %+v", a)
	}
}

func TestConcurrentBookingsOfOneSlot(t *testing.T) {
	t.Parallel()
	s, r := setup(t)
	const n = 10
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ids  = map[string]bool{}
		full int
	)
	for range n {
		wg.Go(func() {
			res, err := call(t, r, "book_appointment", `{"date": "2026-03-16", "time": "17:00"}`)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ids[res.User["appointment_id"].(string)] = true
			case tools.KindOf(err) == tools.KindInvalid && strings.Contains(err.Error(), "full"):
				full++
			default:
				t.Errorf("book: %v", err)
			}
		})
	}
	wg.Wait()
	if len(ids) != 2 || full != n-2 {
		t.Fatalf("%d bookings (%v) and %d refusals, want 2 and %d", len(ids), slices.Sorted(maps.Keys(ids)), full, n-2)
	}
	for id := range ids {
		if a, ok := s.Appointment(id); !ok || a.Date != "2026-03-16" || a.Time != "17:00" {
			t.Errorf("Appointment(%s) = %+v, %v", id, a, ok)
		}
	}
}
