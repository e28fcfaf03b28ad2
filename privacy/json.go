package privacy

import (
	"bytes"
	"encoding/json"
	"maps"
)

// RedactJSON returns doc with red applied to each of its strings, and to
// each number that red would change (an identity number written without
// quotes, which becomes a string); doc itself when nothing changes. The
// text of the JSON is not redacted as a whole: a value right after an
// escape ("\n10000000146") would escape the detectors, and a placeholder
// after a backslash would make the document invalid. A doc that is not
// JSON comes back as a JSON string of its redacted text.
func RedactJSON(doc json.RawMessage, red func(string) string) json.RawMessage {
	if len(doc) == 0 {
		return doc
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		out, _ := json.Marshal(red(string(doc)))
		return out
	}
	v, changed := redact(v, red, true)
	if !changed {
		return doc
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		out, _ := json.Marshal(red(string(doc)))
		return out
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// RedactValue returns a copy of v, a decoded JSON value, with red applied
// to each of its strings at any depth (in maps and slices). Numbers,
// booleans, nil and values of other types are kept as they are; v itself
// is left unchanged.
func RedactValue(v any, red func(string) string) any {
	out, _ := redact(v, red, false)
	return out
}

// redact returns a copy of v with red applied to its strings, and, when
// numbers is set, to its json.Numbers (one that red changes becomes a
// string); it reports whether anything changed.
func redact(v any, red func(string) string, numbers bool) (any, bool) {
	switch x := v.(type) {
	case string:
		r := red(x)
		return r, r != x
	case json.Number:
		if !numbers {
			break // kept without calling red, which may record what it finds (a vault)
		}
		if r := red(x.String()); r != x.String() {
			return r, true
		}
	case map[string]any:
		out, changed := maps.Clone(x), false
		for k, e := range out {
			var c bool
			out[k], c = redact(e, red, numbers)
			changed = changed || c
		}
		return out, changed
	case []any:
		out, changed := make([]any, len(x)), false
		for i, e := range x {
			var c bool
			out[i], c = redact(e, red, numbers)
			changed = changed || c
		}
		return out, changed
	}
	return v, false
}
