package whatsapp

import (
	"errors"
	"fmt"
	"strings"
)

// Errors returned by Client besides *APIError, *HTTPError and *LimitError.
var (
	// ErrNoMessageID means the Graph API answered a send with success but
	// without a readable message id: the message was probably accepted, so
	// resending it blindly risks a duplicate (see ActionReconcile).
	ErrNoMessageID = errors.New("whatsapp: send accepted without a message id")
	// ErrConfig means the Client or a call's arguments cannot make a request
	// (no token, bad base URL, bad phone number id): an operator problem.
	ErrConfig = errors.New("whatsapp: client misconfigured")
)

// APIError is an error reported by the Graph API in its own format
// ({"error":{"message","type","code","error_subcode","error_data":
// {"details"},"fbtrace_id"}}). Branch on Code, or better on Classify.
type APIError struct {
	HTTPStatus int
	Code       int
	Subcode    int
	Type       string
	Message    string
	Details    string
	// FBTraceID identifies the call for Meta support.
	FBTraceID string
}

// Error describes the error by code, status and Meta's message. It never
// contains the access token.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "whatsapp: graph api error %d", e.Code)
	if e.Subcode != 0 {
		fmt.Fprintf(&b, "/%d", e.Subcode)
	}
	fmt.Fprintf(&b, " (http %d", e.HTTPStatus)
	if e.Type != "" {
		b.WriteString(", " + e.Type)
	}
	b.WriteString(")")
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Details != "" {
		b.WriteString(": " + e.Details)
	}
	if e.FBTraceID != "" {
		b.WriteString(" [fbtrace_id " + e.FBTraceID + "]")
	}
	return b.String()
}

// HTTPError is a failed Graph API call whose body is not a Graph API error
// (a proxy's 502 page, an empty 429): only the status is known.
type HTTPError struct {
	StatusCode int
	// Body is the start of the response body, for logs.
	Body string
}

// Error describes the status and the start of the body.
func (e *HTTPError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("whatsapp: graph api: http %d", e.StatusCode)
	}
	return fmt.Sprintf("whatsapp: graph api: http %d: %s", e.StatusCode, e.Body)
}
