package tools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// build makes the request for args: parameters path-escaped into the path,
// added to the query, or put in the body with their JSON type. An optional
// argument that is missing (or null, in the path and query) leaves its key
// out.
func (t *HTTPTool) build(args json.RawMessage) (request, error) {
	in := map[string]any{}
	if len(bytes.TrimSpace(args)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(args))
		dec.UseNumber()
		in = nil
		if err := dec.Decode(&in); err != nil || in == nil {
			return request{}, &Error{Kind: KindInvalid, Message: "arguments are not a JSON object"}
		}
	}

	var u strings.Builder
	u.WriteString(t.backend.baseURL)
	for _, p := range t.path {
		if p.param == "" {
			u.WriteString(p.text)
			continue
		}
		v, ok := in[p.param]
		if !ok || v == nil {
			return request{}, Invalid(p.param, "missing required argument %q", p.param)
		}
		s, err := scalar(p.param, v, "path")
		if err != nil {
			return request{}, err
		}
		u.WriteString(url.PathEscape(s))
	}

	q := url.Values{}
	for _, qp := range t.query {
		if qp.param == "" {
			q.Add(qp.key, qp.value)
			continue
		}
		v, ok := in[qp.param]
		if !ok || v == nil {
			continue
		}
		values, isList := v.([]any)
		if !isList {
			values = []any{v}
		}
		for _, e := range values {
			s, err := scalar(qp.param, e, "query")
			if err != nil {
				return request{}, err
			}
			q.Add(qp.key, s)
		}
	}
	if len(q) > 0 {
		u.WriteString("?" + q.Encode())
	}

	req := request{method: t.method, url: u.String()}
	if t.body != nil {
		body, _ := fill(t.body, in)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(body); err != nil {
			return request{}, &Error{Kind: KindUnavailable, Message: "encoding the request body", Err: err}
		}
		req.body = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	return req, nil
}

// scalar is the text of an argument in a path or query. An object or a
// list has none: the tool's declaration is at fault, not the user.
func scalar(name string, v any, where string) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	return "", &Error{Kind: KindUnavailable,
		Message: fmt.Sprintf("argument %q is not a string, number or boolean and cannot go in the %s; fix the tool's schema", name, where)}
}

// fill replaces the placeholders of a body template with the arguments;
// ok is false for a placeholder whose argument is missing.
func fill(v any, in map[string]any) (out any, ok bool) {
	switch v := v.(type) {
	case placeholder:
		a, ok := in[string(v)]
		return a, ok
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			if f, ok := fill(e, in); ok {
				m[k] = f
			}
		}
		return m, true
	case []any:
		list := make([]any, 0, len(v))
		for _, e := range v {
			if f, ok := fill(e, in); ok {
				list = append(list, f)
			}
		}
		return list, true
	}
	return v, true
}
