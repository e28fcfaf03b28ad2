package privacy_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/yanit/yanit/privacy"
)

const tckn = "10000000146" // a valid Turkish identity number

func redKinds(s string) string { return privacy.RedactKinds(s, privacy.Builtin("TR")) }

func TestRedactJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"empty", ``, ``},
		{"nothing personal keeps the text as written", `{ "total": 1.50, "items": [ "a<b" ] }`, `{ "total": 1.50, "items": [ "a<b" ] }`},
		{"strings at any depth", `{"a":{"b":["TC ` + tckn + `", true, null]},"n":1.50}`, `{"a":{"b":["TC [TCKN]",true,null]},"n":1.50}`},
		{"after an escape", `{"note":"x\n` + tckn + `"}`, `{"note":"x\n[TCKN]"}`},
		{"an unquoted number becomes a string", `{"tckn":` + tckn + `,"qty":3}`, `{"qty":3,"tckn":"[TCKN]"}`},
		{"no HTML escaping", `["<` + tckn + `>"]`, `["<[TCKN]>"]`},
		{"not JSON", `{"tckn": ` + tckn, `"{\"tckn\": [TCKN]"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := privacy.RedactJSON(json.RawMessage(tc.doc), redKinds); string(got) != tc.want {
				t.Errorf("RedactJSON(%s) = %s, want %s", tc.doc, got, tc.want)
			}
		})
	}
}

func TestRedactValue(t *testing.T) {
	t.Parallel()
	in := map[string]any{
		"name":   "TC " + tckn,
		"orders": []any{map[string]any{"id": "SP-1001", "owner": tckn}, 2.5, false, nil},
		"number": json.Number(tckn),
		"count":  3,
	}
	var called []string
	red := func(s string) string { called = append(called, s); return redKinds(s) }
	got := privacy.RedactValue(in, red)
	want := map[string]any{
		"name":   "TC [TCKN]",
		"orders": []any{map[string]any{"id": "SP-1001", "owner": "[TCKN]"}, 2.5, false, nil},
		"number": json.Number(tckn), // numbers are kept, and not passed to red
		"count":  3,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RedactValue = %v, want %v", got, want)
	}
	if len(called) != 3 {
		t.Errorf("red was called with %q, want the three strings only", called)
	}
	if in["name"] != "TC "+tckn || in["orders"].([]any)[0].(map[string]any)["owner"] != tckn {
		t.Errorf("RedactValue changed its argument: %v", in)
	}
	if got := privacy.RedactValue(map[string]any(nil), red); got.(map[string]any) != nil {
		t.Errorf("RedactValue(nil map) = %#v, want a nil map", got)
	}
}
