package assistant

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/yanit/yanit/privacy"
)

const traceTCKN = "10000000146" // a valid Turkish identity number

func TestRedactTrace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		rec  ToolRecord
		// want is the record as the trace stores it; vault is how many
		// values the conversation's vault holds after.
		want  string
		vault int
	}{
		{
			name:  "a value after an escape in the arguments",
			rec:   ToolRecord{Name: "order_status", Args: json.RawMessage(`{"order_id":"SP-2026-0001\n` + traceTCKN + `"}`)},
			want:  `{"name":"order_status","args":{"order_id":"SP-2026-0001\n[TCKN_1]"},"status":"","attempts":0,"latency_ms":0}`,
			vault: 1,
		},
		{
			name: "an unquoted identity number in a result; ordinary numbers stay numbers",
			rec: ToolRecord{Name: "customer", User: map[string]any{
				"tckn": json.Number(traceTCKN), "qty": json.Number("3"), "total": json.Number("149.90"), "count": 3, "price": 149.9,
			}},
			want:  `{"name":"customer","status":"","user":{"count":3,"price":149.9,"qty":3,"tckn":"[TCKN_1]","total":149.90},"attempts":0,"latency_ms":0}`,
			vault: 1,
		},
		{
			name: "numbers and strings in typed maps, slices and structs a Go tool returned",
			rec: ToolRecord{Name: "customer", Agent: map[string]any{
				"ids":   []string{"TC " + traceTCKN},
				"owner": map[string]int64{"tckn": 10000000146, "age": 41},
				"card":  struct{ Number string }{"4111 1111 1111 1111"},
			}},
			want:  `{"name":"customer","status":"","agent":{"card":{"Number":"[CARD_1]"},"ids":["TC [TCKN_1]"],"owner":{"age":41,"tckn":"[TCKN_1]"}},"attempts":0,"latency_ms":0}`,
			vault: 2,
		},
		{
			name:  "nothing personal",
			rec:   ToolRecord{Name: "order_status", Args: json.RawMessage(`{"order_id":"SP-2026-0001"}`), User: map[string]any{"total": json.Number("1249.90")}},
			want:  `{"name":"order_status","args":{"order_id":"SP-2026-0001"},"status":"","user":{"total":1249.90},"attempts":0,"latency_ms":0}`,
			vault: 0,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var v privacy.Vault
			before, _ := json.Marshal(tc.rec)
			tr := Trace{Tools: []ToolRecord{tc.rec}}
			redactTrace(&tr, &v, defaultDetectors)
			got, err := json.Marshal(tr.Tools[0])
			if err != nil {
				t.Fatalf("encoding the redacted record: %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("redacted record\n%s\nwant\n%s", got, tc.want)
			}
			if len(v.Values) != tc.vault {
				t.Errorf("the vault holds %v, want %d values: only personal data is recorded", v.Values, tc.vault)
			}
			if after, _ := json.Marshal(tc.rec); !bytes.Equal(after, before) {
				t.Errorf("redacting the trace changed the state's record: %s, was %s", after, before)
			}
		})
	}
}

// A result that cannot be redacted is stored as a note saying so: the
// rest of the trace is kept.
func TestRedactTraceNotesAnUnencodableResult(t *testing.T) {
	t.Parallel()
	var v privacy.Vault
	tr := Trace{Intent: "customer", Tools: []ToolRecord{{Name: "customer", User: map[string]any{"score": math.NaN(), "tckn": traceTCKN}}}}
	redactTrace(&tr, &v, defaultDetectors)
	note, _ := tr.Tools[0].User[unredactable].(string)
	if len(tr.Tools[0].User) != 1 || !strings.Contains(note, "unsupported value: NaN") {
		t.Fatalf("user fields %v, want only a note that they could not be redacted", tr.Tools[0].User)
	}
	e := &Engine{deps: Deps{Logger: slog.New(slog.DiscardHandler), Detectors: defaultDetectors}}
	got := e.encodeTrace(&tr, 1)
	var back Trace
	if err := json.Unmarshal(got, &back); err != nil || back.Intent != "customer" || len(back.Tools) != 1 {
		t.Fatalf("stored trace %s (%v), want the trace with its tool record", got, err)
	}
	if strings.Contains(string(got), traceTCKN) {
		t.Errorf("the stored trace carries the identity number: %s", got)
	}
}

// A trace that does not encode is stored as a note saying so, and logged,
// not as nothing.
func TestEncodeTraceNotesWhatDoesNotEncode(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	e := &Engine{deps: Deps{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Detectors: defaultDetectors}}
	for _, tc := range []struct {
		name string
		tr   Trace
	}{
		{"a NaN", Trace{Language: "tr", Intent: "order_status", Confidence: math.NaN()}},
		{"arguments that are not JSON", Trace{Language: "tr", Intent: "order_status", Tools: []ToolRecord{{Args: json.RawMessage(`{"id":` + traceTCKN)}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			var got map[string]string
			if err := json.Unmarshal(e.encodeTrace(&tc.tr, 7), &got); err != nil {
				t.Fatalf("the stored trace is not JSON: %v", err)
			}
			if got["language"] != "tr" || got["intent"] != "order_status" || !strings.Contains(got[unredactable], "does not encode") {
				t.Errorf("stored trace %v, want the language, the intent and a note", got)
			}
			if !strings.Contains(logs.String(), "encoding a turn's trace") || strings.Contains(logs.String(), traceTCKN) {
				t.Errorf("logged %q, want a warning without the identity number", logs.String())
			}
		})
	}
}
