package whatsapp

import (
	"encoding/json"
	"os"
	"testing"
)

// FuzzParse checks that Parse never panics and accounts for every item: each
// element of a value list it reads is either returned (at its position) or
// covered by an ItemError at it or at an enclosing
// entry, change or list, and nothing is returned twice or from nowhere.
func FuzzParse(f *testing.F) {
	for _, file := range webhookFiles(f) {
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"messages":[{"id":"w","from":"1","timestamp":1}]}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":null}`))

	f.Fuzz(func(t *testing.T, body []byte) {
		batch, itemErrs, err := Parse(body)
		if err != nil {
			if batch.Len() != 0 || len(itemErrs) != 0 {
				t.Fatalf("envelope error %v with %d items and %d item errors", err, batch.Len(), len(itemErrs))
			}
			if envelopeOK(body) {
				t.Fatalf("envelope error on a valid envelope: %v", err)
			}
			return
		}
		if _, err := json.Marshal(batch); err != nil {
			t.Fatalf("batch does not encode: %v", err)
		}

		returned := map[Position]int{}
		note := func(p Position) { returned[p]++ }
		for _, m := range batch.Messages {
			note(m.Position)
			if m.WAMID == "" || (m.WaID == "" && m.UserID == "") || m.PhoneNumberID == "" {
				t.Fatalf("message at %s lacks identity: %+v", m.Position, m)
			}
		}
		for _, s := range batch.Statuses {
			note(s.Position)
			if s.WAMID == "" || s.Status == "" || s.PhoneNumberID == "" {
				t.Fatalf("status at %s lacks identity: %+v", s.Position, s)
			}
		}
		for _, e := range batch.Errors {
			note(e.Position)
		}
		for _, p := range batch.Preferences {
			note(p.Position)
		}
		for p, n := range returned {
			if n > 1 {
				t.Fatalf("%s returned %d times", p, n)
			}
		}
		covered := func(p Position) bool {
			for _, ie := range itemErrs {
				if ie.Position.Contains(p) {
					return true
				}
			}
			return false
		}

		// Walk the body generically and account for every item.
		seen := map[Position]bool{}
		for _, p := range itemPositions(body) {
			seen[p] = true
			if p.List == ListContacts {
				continue // contacts are folded into messages, not returned
			}
			if returned[p] == 0 && !covered(p) {
				t.Fatalf("%s neither returned nor reported", p)
			}
		}
		for p := range returned {
			if !seen[p] {
				t.Fatalf("%s returned but not in the body", p)
			}
		}
		for _, c := range batch.Other {
			if c.Position.Change < 0 || c.Position.List != "" {
				t.Fatalf("other change at a bad position %s", c.Position)
			}
		}
	})
}

// envelopeOK reports whether body, decoded generically, is a
// whatsapp_business_account object whose entry is a list or absent.
func envelopeOK(body []byte) bool {
	var env map[string]any
	if json.Unmarshal(body, &env) != nil || env == nil {
		return false
	}
	if env["object"] != "whatsapp_business_account" {
		return false
	}
	switch env["entry"].(type) {
	case nil, []any:
		return true
	}
	return false
}

// itemPositions lists the position of every element of the value lists
// Parse reads, found by a generic decode of body.
func itemPositions(body []byte) []Position {
	var env map[string]any
	if json.Unmarshal(body, &env) != nil {
		return nil
	}
	entries, _ := env["entry"].([]any)
	var out []Position
	for i, e := range entries {
		entry, _ := e.(map[string]any)
		changes, _ := entry["changes"].([]any)
		for j, c := range changes {
			change, _ := c.(map[string]any)
			if f := change["field"]; f != fieldMessages && f != fieldUserPreferences {
				continue
			}
			value, _ := change["value"].(map[string]any)
			for _, list := range []string{ListContacts, ListMessages, ListStatuses, ListErrors, ListUserPreferences} {
				items, _ := value[list].([]any)
				for k := range items {
					out = append(out, itemPos(i, j, list, k))
				}
			}
		}
	}
	return out
}
