package tools_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yanit/yanit/tools"
)

// orderSchema is the schema of a tool that takes an order number.
const orderSchema = `{
	"type": "object",
	"properties": {"order_id": {"type": "string", "pattern": "^SP-\\d{4}-\\d{4}$"}},
	"required": ["order_id"],
	"additionalProperties": false
}`

// fakeTool is a tool whose behaviour a test sets; it counts its calls.
type fakeTool struct {
	spec  tools.Spec
	run   func(ctx context.Context, args json.RawMessage) (tools.Result, error)
	calls atomic.Int32
}

func (f *fakeTool) Spec() tools.Spec { return f.spec }

func (f *fakeTool) Call(ctx context.Context, args json.RawMessage) (tools.Result, error) {
	f.calls.Add(1)
	if f.run == nil {
		return tools.Result{User: map[string]any{"ok": true}}, nil
	}
	return f.run(ctx, args)
}

// newTool returns a fake order tool named name with the given behaviour.
func newTool(name string, run func(context.Context, json.RawMessage) (tools.Result, error)) *fakeTool {
	return &fakeTool{
		spec: tools.Spec{
			Name:        name,
			Description: map[string]string{"en": "Looks up an order.", "tr": "Sipariş sorgular."},
			Parameters:  json.RawMessage(orderSchema),
		},
		run: run,
	}
}

// setup returns a registry that retries twice without a noticeable wait.
func setup(t *testing.T, ts ...tools.Tool) *tools.Registry {
	t.Helper()
	r := tools.NewRegistry()
	r.SetRetry(2, time.Millisecond)
	for _, tool := range ts {
		if err := r.Register(tool); err != nil {
			t.Fatalf("Register: %v", err)
		}
	}
	return r
}

// asError returns the *tools.Error in err, failing the test when there is
// none.
func asError(t *testing.T, err error) *tools.Error {
	t.Helper()
	var te *tools.Error
	if !errors.As(err, &te) {
		t.Fatalf("error %v (%T) holds no *tools.Error", err, err)
	}
	return te
}

const validArgs = `{"order_id": "SP-2026-0001"}`

func TestRegisterRejects(t *testing.T) {
	t.Parallel()
	withSpec := func(edit func(*tools.Spec)) tools.Tool {
		tool := newTool("order_status", nil)
		edit(&tool.spec)
		return tool
	}
	withSchema := func(schema string) tools.Tool {
		return withSpec(func(s *tools.Spec) { s.Parameters = json.RawMessage(schema) })
	}
	tests := []struct {
		name string
		tool tools.Tool
		want []string // substrings of the error
	}{
		{"nil tool", nil, []string{"nil"}},
		{"empty name", withSpec(func(s *tools.Spec) { s.Name = "" }), []string{"name must match"}},
		{"upper case", withSpec(func(s *tools.Spec) { s.Name = "OrderStatus" }), []string{`"OrderStatus"`, "name must match"}},
		{"leading digit", withSpec(func(s *tools.Spec) { s.Name = "1order" }), []string{`"1order"`}},
		{"dash", withSpec(func(s *tools.Spec) { s.Name = "order-status" }), []string{`"order-status"`}},
		{"65 characters", withSpec(func(s *tools.Spec) { s.Name = "a" + strings.Repeat("b", 64) }), []string{"name must match"}},
		{"no description", withSpec(func(s *tools.Spec) { s.Description = nil }), []string{"order_status", "description"}},
		{"blank descriptions", withSpec(func(s *tools.Spec) { s.Description = map[string]string{"tr": "", "en": ""} }), []string{"order_status", "description"}},
		{"negative timeout", withSpec(func(s *tools.Spec) { s.Timeout = -time.Second }), []string{"order_status", "timeout"}},
		{"no parameters", withSchema(""), []string{"order_status", "parameters", "missing"}},
		{"parameters not JSON", withSchema(`{"type": `), []string{"order_status", "not JSON"}},
		{"parameters an array", withSchema(`[]`), []string{"order_status", "not a JSON object"}},
		{"arguments not an object", withSchema(`{"type": "string"}`), []string{"order_status", `"type" must be "object"`}},
		{"unknown type", withSchema(`{"type": "object", "properties": {"order_id": {"type": "strin"}}}`), []string{"order_status", "/properties/order_id/type"}},
		{"bad regular expression", withSchema(`{"type": "object", "properties": {"order_id": {"pattern": "SP-("}}}`), []string{"order_status", "/properties/order_id/pattern", "not valid regex"}},
		{"required not a list", withSchema(`{"type": "object", "required": "order_id"}`), []string{"order_status", "/required"}},
		{"reference to another document", withSchema(`{"type": "object", "properties": {"order_id": {"$ref": "order.json"}}}`), []string{"order_status", "self-contained"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := tools.NewRegistry()
			err := r.Register(tt.tool)
			if err == nil {
				t.Fatal("Register accepted the tool")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if len(r.Specs()) != 0 {
				t.Errorf("the rejected tool is listed: %v", r.Specs())
			}
		})
	}
}

func TestRegisterDuplicate(t *testing.T) {
	t.Parallel()
	first := newTool("order_status", nil)
	r := setup(t, first)
	err := r.Register(newTool("order_status", nil))
	if err == nil || !strings.Contains(err.Error(), "order_status") {
		t.Fatalf("second order_status: err = %v, want an error naming the tool", err)
	}
	if got, _ := r.Get("order_status"); got != first {
		t.Error("the duplicate replaced the first tool")
	}
	defer func() {
		if recover() == nil {
			t.Error("MustRegister of a duplicate did not panic")
		}
	}()
	r.MustRegister(newTool("order_status", nil))
}

func TestRegisterOneLanguageIsEnough(t *testing.T) {
	t.Parallel()
	tool := newTool("order_status", nil)
	tool.spec.Description = map[string]string{"tr": "Sipariş sorgular."}
	if err := tools.NewRegistry().Register(tool); err != nil {
		t.Fatalf("Register with only a Turkish description: %v", err)
	}
}

func TestGetAndSpecs(t *testing.T) {
	t.Parallel()
	r := setup(t, newTool("card_balance", nil), newTool("order_status", nil), newTool("book_appointment", nil))
	var names []string
	for _, s := range r.Specs() {
		names = append(names, s.Name)
	}
	if got, want := strings.Join(names, ","), "book_appointment,card_balance,order_status"; got != want {
		t.Errorf("Specs names = %s, want %s", got, want)
	}

	specs := r.Specs()
	specs[0].Description["en"] = "changed"
	if got := r.Specs()[0].Description["en"]; got == "changed" {
		t.Error("changing a returned Spec changed the registry")
	}

	if _, ok := r.Get("order_status"); !ok {
		t.Error("Get(order_status) found nothing")
	}
	if tool, ok := r.Get("refund"); ok || tool != nil {
		t.Errorf("Get(refund) = %v, %v; want nil, false", tool, ok)
	}
}

func TestCallSucceeds(t *testing.T) {
	t.Parallel()
	var got string
	tool := newTool("order_status", func(_ context.Context, args json.RawMessage) (tools.Result, error) {
		var in struct {
			OrderID string `json:"order_id"`
		}
		_ = json.Unmarshal(args, &in)
		got = in.OrderID
		return tools.Result{User: map[string]any{"status": "shipped"}, Agent: map[string]any{"city": "İzmir"}}, nil
	})
	r := setup(t, tool)
	call, err := r.Call(context.Background(), "order_status", json.RawMessage(validArgs))
	if err != nil {
		t.Fatalf("Call: %v", err)
	}
	if got != "SP-2026-0001" {
		t.Errorf("the tool got order_id %q", got)
	}
	if call.Name != "order_status" || string(call.Args) != validArgs || call.Attempts != 1 || call.Err != "" || call.Kind != "" {
		t.Errorf("record = %+v", call)
	}
	if call.Result.User["status"] != "shipped" || call.Result.Agent["city"] != "İzmir" {
		t.Errorf("result = %+v", call.Result)
	}
}

func TestCallUnknownTool(t *testing.T) {
	t.Parallel()
	r := setup(t)
	call, err := r.Call(context.Background(), "refund", json.RawMessage(`{}`))
	if !errors.Is(err, tools.ErrUnknownTool) || !strings.Contains(err.Error(), "refund") {
		t.Fatalf("err = %v, want ErrUnknownTool naming refund", err)
	}
	if tools.KindOf(err) != tools.KindUnavailable || call.Kind != tools.KindUnavailable || call.Attempts != 0 {
		t.Errorf("kind %s, record %+v; want unavailable, no attempt", tools.KindOf(err), call)
	}
}

func TestCallRejectsArgumentsBeforeCalling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		args      string
		wantField string
		wantMsg   string
	}{
		{"missing required", `{}`, "order_id", "missing required"},
		{"empty arguments", ``, "order_id", "missing required"},
		{"wrong type", `{"order_id": 20260001}`, "order_id", "must be string"},
		{"pattern mismatch", `{"order_id": "2026-0001"}`, "order_id", "format"},
		{"lower case", `{"order_id": "sp-2026-0001"}`, "order_id", "format"},
		{"unexpected argument", `{"order_id": "SP-2026-0001", "email": "a@b.c"}`, "email", "unexpected"},
		{"not an object", `["SP-2026-0001"]`, "", "JSON object"},
		{"not JSON", `{"order_id": `, "", "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tool := newTool("order_status", nil)
			r := setup(t, tool)
			call, err := r.Call(context.Background(), "order_status", json.RawMessage(tt.args))
			te := asError(t, err)
			if te.Kind != tools.KindInvalid || te.Field != tt.wantField {
				t.Errorf("error %q: kind %s field %q; want invalid %q", err, te.Kind, te.Field, tt.wantField)
			}
			if !strings.Contains(te.Message, tt.wantMsg) {
				t.Errorf("message %q does not say %q", te.Message, tt.wantMsg)
			}
			if n := tool.calls.Load(); n != 0 || call.Attempts != 0 {
				t.Errorf("tool ran %d times (record %d) on rejected arguments", n, call.Attempts)
			}
			if call.Kind != tools.KindInvalid || call.Err == "" {
				t.Errorf("record = %+v", call)
			}
		})
	}
}

func TestCallNamesFirstRequiredField(t *testing.T) {
	t.Parallel()
	tool := newTool("book_appointment", nil)
	tool.spec.Parameters = json.RawMessage(`{
		"type": "object",
		"properties": {
			"date": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
			"time": {"type": "string", "pattern": "^\\d{2}:\\d{2}$"},
			"service": {"enum": ["repair", "installation"]}
		},
		"required": ["date", "time"]
	}`)
	r := setup(t, tool)
	tests := []struct{ args, want string }{
		{`{}`, "date"},
		{`{"date": "tomorrow"}`, "date"},
		{`{"date": "2026-05-01"}`, "time"},
		{`{"date": "2026-05-01", "time": "10:00", "service": "cleaning"}`, "service"},
		{`{"time": "late", "service": "cleaning"}`, "date"},
	}
	for _, tt := range tests {
		// Repeated, since the validator visits properties in map order.
		for range 5 {
			_, err := r.Call(context.Background(), "book_appointment", json.RawMessage(tt.args))
			if te := asError(t, err); te.Field != tt.want {
				t.Fatalf("%s: field %q, want %q (%v)", tt.args, te.Field, tt.want, err)
			}
		}
	}
	if n := tool.calls.Load(); n != 0 {
		t.Errorf("tool ran %d times", n)
	}
}

// blockUntilDone is a tool body that waits for its context to end.
func blockUntilDone(ctx context.Context, _ json.RawMessage) (tools.Result, error) {
	<-ctx.Done()
	return tools.Result{}, ctx.Err()
}

func TestCallTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		idempotent   bool
		wantAttempts int32
	}{
		{"idempotent is retried", true, 3},
		{"not idempotent is tried once", false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tool := newTool("order_status", blockUntilDone)
			tool.spec.Idempotent = tt.idempotent
			tool.spec.Timeout = 20 * time.Millisecond
			r := setup(t, tool)
			call, err := r.Call(context.Background(), "order_status", json.RawMessage(validArgs))
			te := asError(t, err)
			if te.Kind != tools.KindUnavailable || !strings.Contains(err.Error(), "timed out after 20ms") {
				t.Errorf("err = %v, want unavailable, timed out after 20ms", err)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v does not wrap context.DeadlineExceeded", err)
			}
			if n := tool.calls.Load(); n != tt.wantAttempts || int32(call.Attempts) != tt.wantAttempts {
				t.Errorf("tool ran %d times (record %d), want %d", n, call.Attempts, tt.wantAttempts)
			}
		})
	}
}

func TestCallTimeoutOfToolIgnoringContext(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	tool := newTool("order_status", func(context.Context, json.RawMessage) (tools.Result, error) {
		<-release
		return tools.Result{User: map[string]any{"late": true}}, nil
	})
	tool.spec.Timeout = 20 * time.Millisecond
	r := setup(t, tool)
	call, err := r.Call(context.Background(), "order_status", json.RawMessage(validArgs))
	if tools.KindOf(err) != tools.KindUnavailable || call.Result.User != nil {
		t.Fatalf("err = %v, result %+v; want unavailable and no result", err, call.Result)
	}
}

func TestCallRetriesOnlyUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		idempotent   bool
		err          error
		wantKind     tools.Kind
		wantAttempts int32
	}{
		{"not found", true, tools.NotFound("no order SP-2026-0001"), tools.KindNotFound, 1},
		{"invalid", true, tools.Invalid("order_id", "that order belongs to another customer"), tools.KindInvalid, 1},
		{"unavailable", true, tools.Unavailable(errors.New("connection refused")), tools.KindUnavailable, 3},
		{"plain error counts as unavailable", true, errors.New("HTTP 502"), tools.KindUnavailable, 3},
		{"error without a kind counts as unavailable", true, &tools.Error{Message: "odd"}, tools.KindUnavailable, 3},
		{"unavailable, not idempotent", false, tools.Unavailable(errors.New("connection refused")), tools.KindUnavailable, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tool := newTool("order_status", func(context.Context, json.RawMessage) (tools.Result, error) {
				return tools.Result{}, tt.err
			})
			tool.spec.Idempotent = tt.idempotent
			r := setup(t, tool)
			call, err := r.Call(context.Background(), "order_status", json.RawMessage(validArgs))
			te := asError(t, err)
			if te.Kind != tt.wantKind || call.Kind != tt.wantKind {
				t.Errorf("kind %s (record %s), want %s", te.Kind, call.Kind, tt.wantKind)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("err = %v does not wrap the tool's error", err)
			}
			if n := tool.calls.Load(); n != tt.wantAttempts || int32(call.Attempts) != tt.wantAttempts {
				t.Errorf("tool ran %d times (record %d), want %d", n, call.Attempts, tt.wantAttempts)
			}
		})
	}
}

func TestCallInvalidFromToolKeepsField(t *testing.T) {
	t.Parallel()
	tool := newTool("order_status", func(context.Context, json.RawMessage) (tools.Result, error) {
		return tools.Result{}, tools.Invalid("order_id", "that order belongs to another customer")
	})
	r := setup(t, tool)
	_, err := r.Call(context.Background(), "order_status", json.RawMessage(validArgs))
	if te := asError(t, err); te.Field != "order_id" || te.Message != "that order belongs to another customer" {
		t.Errorf("error = %+v", te)
	}
}

func TestCallSucceedsAfterRetry(t *testing.T) {
	t.Parallel()
	tool := newTool("order_status", nil)
	tool.run = func(context.Context, json.RawMessage) (tools.Result, error) {
		if tool.calls.Load() == 1 {
			return tools.Result{}, tools.Unavailable(errors.New("connection reset"))
		}
		return tools.Result{User: map[string]any{"status": "delivered"}}, nil
	}
	tool.spec.Idempotent = true
	r := setup(t, tool)
	call, err := r.Call(context.Background(), "order_status", json.RawMessage(validArgs))
	if err != nil {
		t.Fatalf("Call: %v", err)
	}
	if call.Attempts != 2 || call.Result.User["status"] != "delivered" || call.Err != "" {
		t.Errorf("record = %+v, want success on the second attempt", call)
	}
}

func TestCallRecoversPanic(t *testing.T) {
	t.Parallel()
	tool := newTool("order_status", func(context.Context, json.RawMessage) (tools.Result, error) {
		var m map[string]int
		m["boom"]++ // assignment to a nil map panics
		return tools.Result{}, nil
	})
	tool.spec.Idempotent = true
	r := setup(t, tool)
	call, err := r.Call(context.Background(), "order_status", json.RawMessage(validArgs))
	if tools.KindOf(err) != tools.KindUnavailable || !strings.Contains(err.Error(), "nil map") {
		t.Fatalf("err = %v, want unavailable with the panic message", err)
	}
	if n := tool.calls.Load(); n != 1 || call.Attempts != 1 {
		t.Errorf("a panicking tool ran %d times (record %d), want 1", n, call.Attempts)
	}
	// The registry still works.
	tool.run = nil
	if _, err := r.Call(context.Background(), "order_status", json.RawMessage(validArgs)); err != nil {
		t.Errorf("Call after a panic: %v", err)
	}
}

func TestCallCancel(t *testing.T) {
	t.Parallel()

	t.Run("while the tool runs", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		tool := newTool("order_status", func(ctx context.Context, args json.RawMessage) (tools.Result, error) {
			cancel()
			return blockUntilDone(ctx, args)
		})
		tool.spec.Idempotent = true
		r := setup(t, tool)
		call, err := r.Call(ctx, "order_status", json.RawMessage(validArgs))
		if !errors.Is(err, context.Canceled) || tools.KindOf(err) != tools.KindUnavailable {
			t.Fatalf("err = %v, want unavailable wrapping context.Canceled", err)
		}
		if n := tool.calls.Load(); n != 1 || call.Attempts != 1 {
			t.Errorf("tool ran %d times (record %d) after cancel, want 1", n, call.Attempts)
		}
	})

	t.Run("during the backoff", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		failed := make(chan struct{})
		tool := newTool("order_status", func(context.Context, json.RawMessage) (tools.Result, error) {
			close(failed) // a second call would panic here
			return tools.Result{}, tools.Unavailable(errors.New("connection refused"))
		})
		tool.spec.Idempotent = true
		r := setup(t, tool)
		r.SetRetry(2, time.Hour)
		go func() {
			<-failed
			cancel()
		}()
		call, err := r.Call(ctx, "order_status", json.RawMessage(validArgs))
		if !errors.Is(err, context.Canceled) || call.Attempts != 1 {
			t.Fatalf("err = %v, attempts %d; want context.Canceled after 1 attempt", err, call.Attempts)
		}
	})

	t.Run("before the call", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		tool := newTool("order_status", nil)
		r := setup(t, tool)
		if _, err := r.Call(ctx, "order_status", json.RawMessage(validArgs)); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if n := tool.calls.Load(); n != 0 {
			t.Errorf("tool ran %d times on a cancelled context", n)
		}
	})
}

func TestRegistryConcurrentUse(t *testing.T) {
	t.Parallel()
	r := setup(t, newTool("order_status", nil))
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if _, err := r.Call(context.Background(), "order_status", json.RawMessage(validArgs)); err != nil {
				t.Errorf("Call: %v", err)
			}
		})
		wg.Go(func() {
			if err := r.Register(newTool(fmt.Sprintf("tool_%d", i), nil)); err != nil {
				t.Errorf("Register: %v", err)
			}
			r.Specs()
		})
	}
	wg.Wait()
	if n := len(r.Specs()); n != 21 {
		t.Errorf("%d tools registered, want 21", n)
	}
}

func TestObserveSeesEveryCall(t *testing.T) {
	r := tools.NewRegistry()
	r.MustRegister(newTool("order_status", func(_ context.Context, args json.RawMessage) (tools.Result, error) {
		if strings.Contains(string(args), "9999") {
			return tools.Result{}, tools.NotFound("no such order")
		}
		return tools.Result{User: map[string]any{"ok": true}}, nil
	}))
	var seen []tools.Call
	r.Observe(func(c tools.Call) { seen = append(seen, c) })
	r.Call(context.Background(), "order_status", json.RawMessage(`{"order_id":"SP-2026-0001"}`))
	r.Call(context.Background(), "order_status", json.RawMessage(`{"order_id":"SP-2026-9999"}`))
	r.Call(context.Background(), "order_status", json.RawMessage(`{}`))
	if len(seen) != 3 || seen[0].Kind != "" || seen[1].Kind != tools.KindNotFound || seen[2].Kind != tools.KindInvalid {
		t.Fatalf("observed %+v, want ok, not_found, invalid", seen)
	}
}

func TestReplaceIsAllOrNothing(t *testing.T) {
	r := tools.NewRegistry()
	r.MustRegister(newTool("order_status", nil))
	r.MustRegister(newTool("card_balance", nil))
	bad := newTool("bad_tool", nil)
	bad.spec.Parameters = json.RawMessage(`{"type":"array"}`)
	// One rejected tool: nothing changes.
	if err := r.Replace([]string{"order_status"}, []tools.Tool{newTool("order_lookup", nil), bad}); err == nil {
		t.Fatal("a bad tool was accepted")
	}
	if _, ok := r.Get("order_status"); !ok {
		t.Fatal("a failed replace removed order_status")
	}
	if _, ok := r.Get("order_lookup"); ok {
		t.Fatal("a failed replace added order_lookup")
	}
	// A name of a tool outside the replaced ones is a duplicate.
	if err := r.Replace([]string{"order_status"}, []tools.Tool{newTool("card_balance", nil)}); err == nil || !strings.Contains(err.Error(), "card_balance") {
		t.Fatalf("duplicate: %v", err)
	}
	// The replacement lands whole.
	if err := r.Replace([]string{"order_status"}, []tools.Tool{newTool("order_lookup", nil)}); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Get("order_status"); ok {
		t.Error("order_status is still registered")
	}
	if _, ok := r.Get("order_lookup"); !ok {
		t.Error("order_lookup is not registered")
	}
}
