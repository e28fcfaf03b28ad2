package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

func TestClassifyOtherErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		action Action
		retry  bool
	}{
		{"nil", nil, ActionNone, false},
		{"wrapped limit error", fmt.Errorf("sending: %w", &LimitError{Field: "text.body", Limit: 4096, Got: 5000, Problem: "too long"}), ActionBadRequest, false},
		{"deadline", fmt.Errorf("sending: %w", context.DeadlineExceeded), ActionRetry, true},
		{"unexpected EOF", fmt.Errorf("reading response: %w", io.ErrUnexpectedEOF), ActionRetry, true},
		{"dial error", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, ActionRetry, true},
		{"config", fmt.Errorf("%w: no access token", ErrConfig), ActionAlertOperator, false},
		{"no message id", fmt.Errorf("sending: %w", ErrNoMessageID), ActionReconcile, false},
		{"unknown", errors.New("something odd"), ActionRetry, true},
	}
	for _, tt := range tests {
		d := Classify(tt.err)
		if d.Action != tt.action || d.Retry != tt.retry {
			t.Errorf("%s: Classify = %+v, want %v retry=%v", tt.name, d, tt.action, tt.retry)
		}
	}
}

// TestClassifyFailedStatus classifies the errors of failed status webhooks,
// which arrive after Meta accepted the send.
func TestClassifyFailedStatus(t *testing.T) {
	t.Parallel()
	b, _ := parseFile(t, "status_failed")
	if d := Classify(b.Statuses[0].Errors[0]); d.Action != ActionNeedTemplate || d.Code != 131047 {
		t.Errorf("Classify(failed status) = %+v", d)
	}
	tests := []struct {
		code   int
		action Action
	}{
		{131026, ActionFail},
		{131050, ActionOptOut},
		{131049, ActionHoldMarketing},
		{130472, ActionFail}, // not in the table
		{131000, ActionRetry},
	}
	for _, tt := range tests {
		if d := Classify(ErrorDetail{Code: tt.code, Title: "x"}); d.Action != tt.action {
			t.Errorf("code %d: Classify = %+v, want %v", tt.code, d, tt.action)
		}
	}
	if got := (ErrorDetail{Code: 131026, Title: "Message undeliverable"}).Error(); got != "whatsapp: error 131026: Message undeliverable" {
		t.Errorf("Error() = %q", got)
	}
}

func TestClassifyWaits(t *testing.T) {
	t.Parallel()
	if d := Classify(&APIError{HTTPStatus: 400, Code: 131056}); d.After != 6*time.Second || d.Scope != ScopeRecipient {
		t.Errorf("pair limit: %+v", d)
	}
	if d := Classify(&APIError{HTTPStatus: 400, Code: 131049}); d.After != 24*time.Hour || d.Retry {
		t.Errorf("marketing limit: %+v", d)
	}
}

func TestActionAndScopeNames(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for a := ActionNone; a <= ActionReconcile; a++ {
		s := a.String()
		if seen[s] {
			t.Errorf("duplicate action name %q", s)
		}
		seen[s] = true
	}
	if got := Action(99).String(); got != "action(99)" {
		t.Errorf("unknown action = %q", got)
	}
	if ScopeRecipient.String() != "recipient" || ScopeAccount.String() != "account" || Scope(-1).String() != "scope(-1)" {
		t.Error("scope names wrong")
	}
}

func TestAPIErrorMessage(t *testing.T) {
	t.Parallel()
	e := &APIError{HTTPStatus: 400, Code: 131047, Subcode: 2494010, Type: "OAuthException",
		Message: "(#131047) Re-engagement message", Details: "More than 24 hours have passed.", FBTraceID: "AbC"}
	want := "whatsapp: graph api error 131047/2494010 (http 400, OAuthException): (#131047) Re-engagement message: More than 24 hours have passed. [fbtrace_id AbC]"
	if e.Error() != want {
		t.Errorf("got  %s\nwant %s", e.Error(), want)
	}
}
