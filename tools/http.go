package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// userAgent is the User-Agent of every request of an HTTP tool.
const userAgent = "yanit"

// maxResponse is the largest response body an HTTP tool reads.
const maxResponse = 1 << 20

// refusedLogEvery is the least time between two error logs of a backend
// refusing yanit's credentials.
const refusedLogEvery = time.Minute

// HTTPTool is a tool declared in YAML that calls an HTTP backend (see
// LoadHTTPTools). It is safe for concurrent use.
type HTTPTool struct {
	spec    Spec
	backend *Backend
	// args holds the compiled schema, for DescribeRequest.
	args *entry
	// params are the top-level properties of the schema.
	params map[string]bool
	method string
	path   []pathPart
	query  []queryParam
	// body is the JSON body with placeholders; nil for none.
	body        any
	user, agent [][]string
}

var _ Tool = (*HTTPTool)(nil)

// pathPart is literal text of a path, or the parameter whose escaped value
// goes there.
type pathPart struct {
	text  string
	param string
}

// queryParam is one key of the query: a literal value, or a parameter.
type queryParam struct {
	key   string
	value string
	param string
}

// placeholder stands for an argument in a body template.
type placeholder string

// Backend is a service HTTP tools call: its base URL, headers, signing
// secret and circuit breaker, shared by all its tools. It is safe for
// concurrent use.
type Backend struct {
	name    string
	baseURL string
	secret  []byte
	headers http.Header
	// masked is headers with secret values masked, for DescribeRequest.
	masked  http.Header
	timeout time.Duration
	client  *http.Client
	logger  *slog.Logger
	now     func() time.Time
	breaker *breaker

	mu        sync.Mutex
	refusedAt time.Time // when refused credentials were last logged
}

// Name returns the backend's name as declared.
func (b *Backend) Name() string { return b.name }

// State returns the state of the backend's circuit breaker.
func (b *Backend) State() BreakerState { return b.breaker.stats().State }

// Stats returns a snapshot of the backend's circuit breaker.
func (b *Backend) Stats() BreakerStats { return b.breaker.stats() }

// Backends returns the distinct backends of the HTTP tools among ts, in the
// order first met, for health checks and metrics.
func Backends(ts []Tool) []*Backend {
	var out []*Backend
	seen := make(map[*Backend]bool)
	for _, t := range ts {
		if h, ok := t.(*HTTPTool); ok && !seen[h.backend] {
			seen[h.backend] = true
			out = append(out, h.backend)
		}
	}
	return out
}

// Spec describes the tool as declared.
func (t *HTTPTool) Spec() Spec { return t.spec }

// Backend returns the backend the tool calls.
func (t *HTTPTool) Backend() *Backend { return t.backend }

// request is a request built from arguments.
type request struct {
	method string
	url    string
	body   []byte // nil for none
}

// Call sends the request built from args, signed, and maps the answer: a
// 2xx JSON object gives the declared user and agent fields; 404 is
// KindNotFound; 400 and 422 are KindInvalid; everything else, timeouts and
// connection failures included, is KindUnavailable. While the backend's
// breaker is open, Call fails fast with an error wrapping ErrCircuitOpen.
// Call honours ctx and bounds itself by the tool's Timeout.
func (t *HTTPTool) Call(ctx context.Context, args json.RawMessage) (Result, error) {
	req, err := t.build(args)
	if err != nil {
		return Result{}, err
	}
	b := t.backend
	adm := b.breaker.admit()
	if !adm.ok {
		return Result{}, b.circuitOpen(adm)
	}
	if adm.trial {
		b.logger.Info("tools: circuit half-open, sending a trial request",
			slog.String("backend", b.name), slog.String("tool", t.spec.Name))
	}
	res, o, err := t.send(ctx, req)
	from, to := b.breaker.record(adm.gen, o)
	if from != to {
		b.logStateChange(to)
	}
	return res, err
}

// circuitOpen is the error of a call the breaker refused.
func (b *Backend) circuitOpen(adm admission) error {
	if adm.retryAt.IsZero() {
		return &Error{Kind: KindUnavailable, Err: fmt.Errorf("backend %s: %w, a trial request is on its way", b.name, ErrCircuitOpen)}
	}
	wait := adm.retryAt.Sub(b.now()).Round(time.Second)
	return &Error{Kind: KindUnavailable, Err: fmt.Errorf("backend %s: %w, retrying after %s", b.name, ErrCircuitOpen, max(wait, time.Second))}
}

func (b *Backend) logStateChange(to BreakerState) {
	s := b.breaker.stats()
	switch to {
	case BreakerOpen:
		b.logger.Warn("tools: circuit opened; calls fail fast until the cooldown has passed",
			slog.String("backend", b.name), slog.Int("failures", s.Failures), slog.Time("retry_at", s.RetryAt))
	case BreakerClosed:
		b.logger.Info("tools: circuit closed", slog.String("backend", b.name))
	}
}

// send makes one request and maps its answer; the outcome is for the
// breaker.
func (t *HTTPTool) send(ctx context.Context, req request) (Result, outcome, error) {
	b := t.backend
	timeout := t.spec.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, req.url, body)
	if err != nil {
		// The URL was checked at load; only a bug gets here.
		return Result{}, outcomeIgnored, &Error{Kind: KindUnavailable, Message: "building the request", Err: errors.Unwrap(err)}
	}
	hr.Header = b.headers.Clone()
	hr.Header.Set("User-Agent", userAgent)
	if req.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	SignRequest(b.secret, hr, req.body, b.now())

	resp, err := b.client.Do(hr)
	if err != nil {
		o, err := t.failed(ctx, err)
		return Result{}, o, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		o, err := t.failed(ctx, err)
		return Result{}, o, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	res, o, err := t.answer(resp.StatusCode, data)
	if o == outcomeFailure {
		t.logFailure(resp.StatusCode, err)
	}
	return res, o, err
}

// failed maps an error of sending the request or reading the answer. The
// request's URL, which may hold personal data, is left out.
func (t *HTTPTool) failed(ctx context.Context, err error) (outcome, error) {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	b := t.backend
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		// The caller gave up: nothing is known about the backend.
		return outcomeIgnored, &Error{Kind: KindUnavailable, Message: "call cancelled", Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		e := &Error{Kind: KindUnavailable, Message: fmt.Sprintf("backend %s did not answer in time", b.name), Err: err}
		t.logFailure(0, e)
		return outcomeFailure, e
	}
	e := &Error{Kind: KindUnavailable, Message: fmt.Sprintf("calling backend %s", b.name), Err: err}
	t.logFailure(0, e)
	return outcomeFailure, e
}

// answer maps a response.
func (t *HTTPTool) answer(status int, data []byte) (Result, outcome, error) {
	b := t.backend
	switch {
	case status >= 200 && status < 300:
		if len(data) > maxResponse {
			return Result{}, outcomeFailure, &Error{Kind: KindUnavailable,
				Message: fmt.Sprintf("backend %s answered %d with a body over %d bytes", b.name, status, maxResponse)}
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return Result{}, outcomeSuccess, nil
		}
		obj, ok := decodeObject(data)
		if !ok {
			return Result{}, outcomeFailure, &Error{Kind: KindUnavailable,
				Message: fmt.Sprintf("backend %s answered %d with a body that is not a JSON object", b.name, status)}
		}
		return Result{User: pick(obj, t.user), Agent: pick(obj, t.agent)}, outcomeSuccess, nil
	case status == http.StatusNotFound:
		msg, _ := problem(data)
		if msg == "" {
			msg = "not found"
		}
		return Result{}, outcomeSuccess, NotFound("%s", msg)
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		msg, field := problem(data)
		if msg == "" {
			msg = fmt.Sprintf("backend %s rejected the arguments (%d)", b.name, status)
		}
		if !t.params[field] {
			field = "" // not an argument the user could give again
		}
		return Result{}, outcomeSuccess, Invalid(field, "%s", msg)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		b.logRefused(t.spec.Name, status)
		return Result{}, outcomeFailure, &Error{Kind: KindUnavailable, Err: ErrCredentialsRefused,
			Message: fmt.Sprintf("backend %s refused yanit's credentials (%d %s); check its headers and signing secret", b.name, status, http.StatusText(status))}
	}
	msg := fmt.Sprintf("backend %s answered %d %s", b.name, status, http.StatusText(status))
	if status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests {
		// An answer the tool does not expect, such as 405 or 409: the
		// backend's reason helps whoever configured it.
		if p, _ := problem(data); p != "" {
			msg += ": " + p
		}
	}
	return Result{}, outcomeFailure, &Error{Kind: KindUnavailable, Message: msg}
}

// logFailure logs a failed call without its arguments, URL or answer,
// which may hold personal data.
func (t *HTTPTool) logFailure(status int, err error) {
	attrs := []any{slog.String("backend", t.backend.name), slog.String("tool", t.spec.Name)}
	if status != 0 {
		attrs = append(attrs, slog.Int("status", status))
	}
	var e *Error
	if errors.As(err, &e) && e.Err != nil {
		attrs = append(attrs, slog.String("error", e.Err.Error()))
	}
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return // logRefused did
	}
	t.backend.logger.Warn("tools: HTTP tool call failed", attrs...)
}

// logRefused logs refused credentials at error level, at most once a
// minute: it needs a person, not a retry.
func (b *Backend) logRefused(tool string, status int) {
	now := b.now()
	b.mu.Lock()
	due := b.refusedAt.IsZero() || now.Sub(b.refusedAt) >= refusedLogEvery
	if due {
		b.refusedAt = now
	}
	b.mu.Unlock()
	if due {
		b.logger.Error("tools: backend refused yanit's credentials; check its headers and signing secret",
			slog.String("backend", b.name), slog.String("tool", tool), slog.Int("status", status))
	}
}

// problem reads the "error" and "field" strings of an error body.
func problem(data []byte) (msg, field string) {
	var p map[string]any
	if json.Unmarshal(data, &p) != nil {
		return "", ""
	}
	msg, _ = p["error"].(string)
	field, _ = p["field"].(string)
	const most = 300
	if r := []rune(msg); len(r) > most {
		msg = string(r[:most]) + "…"
	}
	return msg, field
}

// decodeObject decodes a JSON object, numbers kept as written.
func decodeObject(data []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var obj map[string]any
	if dec.Decode(&obj) != nil || obj == nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return obj, true
}

// pick copies the fields at paths from obj, keeping their nesting: a.b
// gives {"a": {"b": …}}. A missing field is left out; nil means none.
func pick(obj map[string]any, paths [][]string) map[string]any {
	var out map[string]any
	for _, p := range paths {
		v, ok := lookup(obj, p)
		if !ok {
			continue
		}
		if out == nil {
			out = make(map[string]any)
		}
		m := out
		for _, k := range p[:len(p)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = make(map[string]any)
				m[k] = next
			}
			m = next
		}
		m[p[len(p)-1]] = v
	}
	return out
}

func lookup(obj map[string]any, path []string) (any, bool) {
	var v any = obj
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// DescribeRequest returns the request Call would send for args, for
// "yanit tools test": the arguments are validated as the Registry would,
// and the values of secret headers and the signature are masked
// ("Bearer ***", "t=…,v1=***"). Nothing is sent.
func (t *HTTPTool) DescribeRequest(args json.RawMessage) (method, url string, headers http.Header, body []byte, err error) {
	if len(bytes.TrimSpace(args)) == 0 {
		args = json.RawMessage("{}")
	}
	if err := t.args.validate(args); err != nil {
		return "", "", nil, nil, err
	}
	req, err := t.build(args)
	if err != nil {
		return "", "", nil, nil, err
	}
	b := t.backend
	headers = b.masked.Clone()
	headers.Set("User-Agent", userAgent)
	if req.body != nil {
		headers.Set("Content-Type", "application/json")
	}
	headers.Set(SignatureHeader, "t="+strconv.FormatInt(b.now().Unix(), 10)+",v1=***")
	return req.method, req.url, headers, req.body, nil
}
