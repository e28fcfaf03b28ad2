package store_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/yanit/yanit/store"
)

func TestAuditEntryValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		entry   store.AuditEntry
		wantErr string // "" when valid
	}{
		{"no detail", store.AuditEntry{Action: "contact.erased"}, ""},
		{"an object", store.AuditEntry{Action: "contact.erased", Detail: json.RawMessage(` {"messages": 3}`)}, ""},
		{"no action", store.AuditEntry{Detail: json.RawMessage(`{}`)}, "the action is empty"},
		{"an array", store.AuditEntry{Action: "contact.erased", Detail: json.RawMessage(`[1]`)}, "not a JSON object"},
		{"a string", store.AuditEntry{Action: "contact.erased", Detail: json.RawMessage(`"x"`)}, "not a JSON object"},
		{"invalid", store.AuditEntry{Action: "contact.erased", Detail: json.RawMessage(`{"a":`)}, "not a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.entry.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate() = %v, want an error with %q", err, tc.wantErr)
			}
		})
	}
}

func TestAuditFilterCheckLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		limit, want int
		wantErr     bool
	}{
		{limit: 0, want: 100},
		{limit: 1, want: 1},
		{limit: 1000, want: 1000},
		{limit: -1, wantErr: true},
		{limit: 1001, wantErr: true},
	} {
		got, err := store.AuditFilter{Limit: tc.limit}.CheckLimit()
		switch {
		case tc.wantErr && (err == nil || !strings.Contains(err.Error(), "want 1 to 1000")):
			t.Errorf("limit %d: CheckLimit() = %d, %v; want an error naming the range", tc.limit, got, err)
		case !tc.wantErr && (err != nil || got != tc.want):
			t.Errorf("limit %d: CheckLimit() = %d, %v; want %d", tc.limit, got, err, tc.want)
		}
	}
}
