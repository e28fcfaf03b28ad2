package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Tool is one action the assistant can take in the organisation's systems:
// look up an order, read a balance, cancel an appointment.
type Tool interface {
	// Spec describes the tool; it must not change after registration.
	Spec() Spec
	// Call runs the tool with arguments already validated against
	// Spec().Parameters. Failures are *Error values (see the Kinds);
	// any other error counts as KindUnavailable.
	Call(ctx context.Context, args json.RawMessage) (Result, error)
}

// Spec is what the engine and the model know about a tool.
type Spec struct {
	// Name is unique in a registry: lower-case letters, digits and
	// underscores, at most 64 characters (the function-calling limit).
	Name string
	// Description says what the tool does, per language ("tr", "en").
	Description map[string]string
	// Parameters is the JSON Schema (draft 2020-12) of the arguments object.
	Parameters json.RawMessage
	// Mutates is true when the call changes state (cancel, book): the
	// engine asks the user to confirm before calling it.
	Mutates bool
	// Idempotent is true when a call may be repeated safely: only then is a
	// failed call retried.
	Idempotent bool
	// Timeout bounds one attempt; 0 means DefaultTimeout.
	Timeout time.Duration
}

// DefaultTimeout bounds one call of a tool whose Spec sets none.
const DefaultTimeout = 5 * time.Second

// Result is what a call returned: User holds the fields the user may see
// (answer templates render them), Agent the fields only a human agent
// sees in the handoff context.
type Result struct {
	User  map[string]any `json:"user,omitempty"`
	Agent map[string]any `json:"agent,omitempty"`
}

// Kind classifies a failed call by what the engine should do next.
type Kind string

const (
	// KindNotFound: the thing asked for does not exist; tell the user.
	KindNotFound Kind = "not_found"
	// KindInvalid: an argument is wrong; ask the user for Field again.
	KindInvalid Kind = "invalid"
	// KindUnavailable: the backend failed or timed out after its retries;
	// apologise and hand off.
	KindUnavailable Kind = "unavailable"
)

// Error is a failed call: the Kind says what to do next.
type Error struct {
	Kind Kind
	// Field names the argument at fault for KindInvalid.
	Field   string
	Message string
	Err     error
}

// Error says the kind, the field and the message: "invalid date: that
// date is in the past".
func (e *Error) Error() string {
	msg := string(e.Kind)
	if e.Field != "" {
		msg += " " + e.Field
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of a call's error: the Kind of an *Error in its
// chain, else KindUnavailable.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindUnavailable
}

// NotFound returns an *Error of KindNotFound: the thing asked for does not
// exist.
func NotFound(format string, a ...any) error {
	return &Error{Kind: KindNotFound, Message: fmt.Sprintf(format, a...)}
}

// Invalid returns an *Error of KindInvalid naming the argument at fault.
func Invalid(field, format string, a ...any) error {
	return &Error{Kind: KindInvalid, Field: field, Message: fmt.Sprintf(format, a...)}
}

// Unavailable returns an *Error of KindUnavailable wrapping the backend's
// failure.
func Unavailable(err error) error { return &Error{Kind: KindUnavailable, Err: err} }
