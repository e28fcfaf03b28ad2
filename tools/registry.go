package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Retry defaults of a new Registry (see SetRetry).
const (
	DefaultRetries = 2
	DefaultBackoff = 200 * time.Millisecond
)

// ErrUnknownTool is returned (wrapped) by Registry.Call for a name nothing
// was registered under. It is a configuration or engine mistake, not a
// failure of the tool, so it carries no Kind; KindOf reports it as
// KindUnavailable, which hands the conversation to a person.
var ErrUnknownTool = errors.New("unknown tool")

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Registry holds the tools an assistant may call and runs their calls:
// arguments are validated against the tool's schema first, each attempt is
// bounded by the tool's timeout, failures of idempotent tools are retried,
// and a panicking tool is recovered. A Registry is safe for concurrent use.
type Registry struct {
	mu       sync.RWMutex
	entries  map[string]*entry
	retries  int
	backoff  time.Duration
	observer func(Call)
}

// Observe sets a function that sees every finished call (metrics); it
// runs on the caller's goroutine and must be quick.
func (r *Registry) Observe(fn func(Call)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.observer = fn
}

// entry is a registered tool with the spec and compiled schema frozen at
// registration.
type entry struct {
	tool   Tool
	spec   Spec
	schema *jsonschema.Schema
	// required lists the schema's top-level required properties in order;
	// it ranks the fields of a validation error.
	required []string
}

// NewRegistry returns an empty registry that retries DefaultRetries times
// after DefaultBackoff, doubling.
func NewRegistry() *Registry {
	return &Registry{
		entries: make(map[string]*entry),
		retries: DefaultRetries,
		backoff: DefaultBackoff,
	}
}

// SetRetry sets how many times a failed call of an idempotent tool is
// retried (0 disables retries) and the wait before the first retry, which
// doubles for each further one. Negative values count as 0.
func (r *Registry) SetRetry(retries int, backoff time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries = max(retries, 0)
	r.backoff = max(backoff, 0)
}

// Register adds a tool. It fails for a nil tool, a name that is not
// lower-case letters, digits and underscores (at most 64, starting with a
// letter), a name already registered, a Description with no text in any
// language, a negative Timeout, or Parameters that are not a JSON Schema
// (draft 2020-12) of "type": "object". References to other documents in the
// schema are not loaded.
func (r *Registry) Register(t Tool) error {
	return r.Replace(nil, []Tool{t})
}

// Replace unregisters the tools named old and registers add, all or
// nothing: when one of add is rejected (see Register), the registry is
// left as it was. It is how a set of tools declared through the admin API
// is updated while calls go on.
func (r *Registry) Replace(old []string, add []Tool) error {
	entries := make([]*entry, 0, len(add))
	for _, t := range add {
		e, err := newEntry(t)
		if err != nil {
			return err
		}
		entries = append(entries, e)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	next := maps.Clone(r.entries)
	for _, name := range old {
		delete(next, name)
	}
	for _, e := range entries {
		if _, dup := next[e.spec.Name]; dup {
			return fmt.Errorf("registering tool %s: a tool with that name is already registered", e.spec.Name)
		}
		next[e.spec.Name] = e
	}
	r.entries = next
	return nil
}

// newEntry checks a tool and freezes its spec and compiled schema.
func newEntry(t Tool) (*entry, error) {
	if t == nil {
		return nil, errors.New("registering tool: tool is nil")
	}
	spec := t.Spec()
	if !namePattern.MatchString(spec.Name) {
		return nil, fmt.Errorf("registering tool %q: name must match %s", spec.Name, namePattern)
	}
	if !hasText(spec.Description) {
		return nil, fmt.Errorf("registering tool %s: description is empty; give it in at least one language", spec.Name)
	}
	if spec.Timeout < 0 {
		return nil, fmt.Errorf("registering tool %s: timeout %s is negative", spec.Name, spec.Timeout)
	}
	schema, required, err := compileParameters(spec.Parameters)
	if err != nil {
		return nil, fmt.Errorf("registering tool %s: parameters: %w", spec.Name, err)
	}
	spec.Description = maps.Clone(spec.Description)
	spec.Parameters = bytes.Clone(spec.Parameters)
	return &entry{tool: t, spec: spec, schema: schema, required: required}, nil
}

// MustRegister is Register that panics on error, for wiring code where a
// bad tool is a programming mistake.
func (r *Registry) MustRegister(t Tool) {
	if err := r.Register(t); err != nil {
		panic(err)
	}
}

// Get returns the tool registered under name.
func (r *Registry) Get(name string) (Tool, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.entries[name]
	if !ok {
		return nil, false
	}
	return e.tool, true
}

// Specs returns the specs of all registered tools, sorted by name, as they
// were at registration. The caller may modify them.
func (r *Registry) Specs() []Spec {
	r.mu.RLock()
	specs := make([]Spec, 0, len(r.entries))
	for _, e := range r.entries {
		s := e.spec
		s.Description = maps.Clone(s.Description)
		s.Parameters = bytes.Clone(s.Parameters)
		specs = append(specs, s)
	}
	r.mu.RUnlock()
	slices.SortFunc(specs, func(a, b Spec) int { return strings.Compare(a.Name, b.Name) })
	return specs
}

// Call is the record of one Registry.Call, for the conversation trace and
// the handoff context.
type Call struct {
	Name string
	// Args are the arguments as given; they may hold personal data.
	Args json.RawMessage
	// Result is set when the call succeeded.
	Result Result
	// Attempts counts the times the tool ran: 0 when the arguments were
	// rejected or the tool is unknown, more than 1 after retries.
	Attempts int
	// Latency is the time the whole call took, backoff included.
	Latency time.Duration
	// Err is the error's text and Kind its kind; both are empty on success.
	Err  string
	Kind Kind
}

// Call runs the tool registered under name. The returned Call is filled in
// whether or not the call failed.
//
// The arguments are validated against the tool's schema before it runs; a
// violation is an *Error of KindInvalid whose Field names the first
// offending argument (in the order of the schema's "required" list, then by
// name), and the tool is not called. Empty args count as {}.
//
// Each attempt is bounded by the tool's Timeout (DefaultTimeout when 0);
// an attempt that runs out is KindUnavailable. A tool that ignores its
// context keeps running in the background and its result is dropped, so a
// timed-out mutating call may still have taken effect. Only a tool whose
// Spec is Idempotent is retried, only after KindUnavailable, with the
// backoff set by SetRetry. A panic in the tool is recovered as
// KindUnavailable and not retried: it is a bug, not a passing fault.
// Cancelling ctx stops the call at once with an error that wraps
// ctx.Err().
//
// Every error is wrapped once with the tool's name; errors.As finds the
// *Error in it, except for ErrUnknownTool. Errors a tool returns that are
// not an *Error of a known Kind become KindUnavailable.
func (r *Registry) Call(ctx context.Context, name string, args json.RawMessage) (Call, error) {
	start := time.Now()
	rec := Call{Name: name, Args: args}
	res, err := r.call(ctx, name, args, &rec.Attempts)
	rec.Latency = time.Since(start)
	if err != nil {
		err = fmt.Errorf("calling %s: %w", name, err)
		rec.Err = err.Error()
		rec.Kind = KindOf(err)
	} else {
		rec.Result = res
	}
	r.mu.RLock()
	observe := r.observer
	r.mu.RUnlock()
	if observe != nil {
		observe(rec)
	}
	return rec, err
}

func (r *Registry) call(ctx context.Context, name string, args json.RawMessage, attempts *int) (Result, error) {
	r.mu.RLock()
	e, ok := r.entries[name]
	retries, backoff := r.retries, r.backoff
	r.mu.RUnlock()
	if !ok {
		return Result{}, ErrUnknownTool
	}
	if len(bytes.TrimSpace(args)) == 0 {
		args = json.RawMessage("{}")
	}
	if err := e.validate(args); err != nil {
		return Result{}, err
	}

	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return Result{}, cancelled(err)
		}
		*attempts++
		res, err := e.attempt(ctx, args)
		if err == nil {
			return res, nil
		}
		if ctx.Err() != nil {
			return Result{}, cancelled(ctx.Err())
		}
		// An open circuit fails fast by design, and refused credentials
		// stay refused: retrying either only delays the answer.
		if !e.spec.Idempotent || KindOf(err) != KindUnavailable || errors.Is(err, ErrCircuitOpen) || errors.Is(err, ErrCredentialsRefused) ||
			errors.As(err, new(panicError)) || n >= retries {
			return Result{}, err
		}
		wait := time.NewTimer(backoff << n)
		select {
		case <-ctx.Done():
			wait.Stop()
			return Result{}, cancelled(ctx.Err())
		case <-wait.C:
		}
	}
}

// attempt runs the tool once under its timeout.
func (e *entry) attempt(ctx context.Context, args json.RawMessage) (Result, error) {
	timeout := e.spec.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	type outcome struct {
		res Result
		err error
	}
	// Buffered so that a tool finishing after its timeout does not block.
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() {
			if v := recover(); v != nil {
				o = outcome{err: &Error{Kind: KindUnavailable, Err: panicError{v}}}
			}
			done <- o
		}()
		o.res, o.err = e.tool.Call(actx, args)
	}()

	timedOut := &Error{Kind: KindUnavailable, Message: fmt.Sprintf("timed out after %s", timeout), Err: context.DeadlineExceeded}
	select {
	case o := <-done:
		switch {
		case o.err == nil:
			return o.res, nil
		case ctx.Err() != nil:
			return Result{}, cancelled(ctx.Err())
		case actx.Err() != nil && errors.Is(o.err, context.DeadlineExceeded):
			return Result{}, timedOut
		}
		return Result{}, typed(o.err)
	case <-actx.Done():
		if err := ctx.Err(); err != nil {
			return Result{}, cancelled(err)
		}
		return Result{}, timedOut
	}
}

// panicError is a panic recovered from a tool's Call.
type panicError struct{ value any }

func (p panicError) Error() string { return fmt.Sprintf("tool panicked: %v", p.value) }

// cancelled is the error of a call whose context ended.
func cancelled(cause error) error {
	return &Error{Kind: KindUnavailable, Message: "call cancelled", Err: cause}
}

// typed makes err an *Error of a known Kind, wrapping it as
// KindUnavailable when it is not one.
func typed(err error) error {
	var e *Error
	if errors.As(err, &e) {
		switch e.Kind {
		case KindNotFound, KindInvalid, KindUnavailable:
			return err
		}
	}
	return &Error{Kind: KindUnavailable, Err: err}
}

func hasText(m map[string]string) bool {
	for _, s := range m {
		if s != "" {
			return true
		}
	}
	return false
}
