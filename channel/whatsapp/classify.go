package whatsapp

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Action is what a sender does with a failed send.
type Action int

// Actions, per Meta's error codes (see Classify).
const (
	// ActionNone: there was no error.
	ActionNone Action = iota
	// ActionRetry: a transient failure; retry this message with backoff.
	ActionRetry
	// ActionBackOff: a rate limit; pause everything in Decision.Scope, then
	// retry.
	ActionBackOff
	// ActionNeedTemplate: more than 24 hours since the user last wrote; only a
	// template may be sent now.
	ActionNeedTemplate
	// ActionFail: the message cannot be delivered; mark it failed.
	ActionFail
	// ActionHoldMarketing: the user reached the marketing limit; do not retry
	// within 24 hours.
	ActionHoldMarketing
	// ActionOptOut: the user stopped marketing messages; record the opt-out.
	ActionOptOut
	// ActionBadRequest: the request or template is wrong; do not retry,
	// surface it to whoever owns the content.
	ActionBadRequest
	// ActionAlertOperator: the token or configuration is broken; do not retry,
	// alert the operator.
	ActionAlertOperator
	// ActionReconcile: Meta probably accepted the message but its id is
	// unknown; do not resend blindly, reconcile from status webhooks.
	ActionReconcile
)

var actionNames = [...]string{"none", "retry", "back_off", "need_template", "fail", "hold_marketing", "opt_out", "bad_request", "alert_operator", "reconcile"}

// String returns a stable snake_case name, fit for logs and metric labels.
func (a Action) String() string {
	if a >= 0 && int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}

// Scope is what a back-off applies to.
type Scope int

// Scopes.
const (
	// ScopeNone: only this message.
	ScopeNone Scope = iota
	// ScopeRecipient: every message to this user (pair rate limit).
	ScopeRecipient
	// ScopeNumber: every message from this business phone number.
	ScopeNumber
	// ScopeAccount: every message of the app or business account.
	ScopeAccount
)

var scopeNames = [...]string{"none", "recipient", "number", "account"}

// String returns a stable name, fit for logs and metric labels.
func (s Scope) String() string {
	if s >= 0 && int(s) < len(scopeNames) {
		return scopeNames[s]
	}
	return "scope(" + strconv.Itoa(int(s)) + ")"
}

// Decision is Classify's verdict on a send error.
type Decision struct {
	Action Action
	// Retry reports whether the same message may be sent again later.
	Retry bool
	Scope Scope
	// After is the least wait Meta's rules suggest before the next attempt
	// (6 s for the pair limit, 24 h for the marketing limit); zero leaves it
	// to the sender's backoff.
	After time.Duration
	// Code is the Graph API error code, or the HTTP status when there was no
	// Graph API error, or 0.
	Code   int
	Reason string
}

// pairLimitWait is Meta's pair rate: about one message per 6 s to a user.
const pairLimitWait = 6 * time.Second

// Classify tells a sender what to do with an error from Client.Send or
// Client.MarkRead, following Meta's error-code table:
//
//	130429             back off the number, retry
//	131056             back off that recipient only (6 s), retry
//	4, 80007           back off the app / account, retry
//	131057             back off the number (maintenance), retry
//	1, 2, 131000, 131016, other 5xx, network errors, timeouts: retry
//	131047             need a template (outside the 24-hour window)
//	131026             fail (undeliverable)
//	131049             hold marketing for 24 h
//	131050             record the opt-out
//	100, 131008, 131009, 132xxx, *LimitError: bad request
//	0, 190, ErrConfig  alert the operator (token, configuration)
//	unknown 4xx        fail; unknown 5xx: retry
//	ErrNoMessageID     reconcile
//
// It also takes the ErrorDetail of a failed status webhook (Status.Errors),
// which uses the same codes; an unknown code there is a failure.
//
// A network error or timeout may hide a message Meta accepted: the retry
// this advises is the one window for a duplicate send.
func Classify(err error) Decision {
	if err == nil {
		return Decision{Action: ActionNone}
	}
	var (
		limitErr *LimitError
		apiErr   *APIError
		httpErr  *HTTPError
		detail   ErrorDetail
		netErr   net.Error
		urlErr   *url.Error
	)
	switch {
	case errors.As(err, &limitErr):
		return Decision{Action: ActionBadRequest, Reason: "request breaks a WhatsApp limit: " + limitErr.Field}
	case errors.As(err, &apiErr):
		if d, ok := classifyCode(apiErr.Code); ok {
			d.Code = apiErr.Code
			return d
		}
		d := classifyStatus(apiErr.HTTPStatus)
		d.Code = apiErr.Code
		return d
	case errors.As(err, &httpErr):
		return classifyStatus(httpErr.StatusCode)
	case errors.As(err, &detail):
		if d, ok := classifyCode(detail.Code); ok {
			d.Code = detail.Code
			return d
		}
		return Decision{Action: ActionFail, Code: detail.Code, Reason: "message failed with error " + strconv.Itoa(detail.Code)}
	case errors.Is(err, ErrNoMessageID):
		return Decision{Action: ActionReconcile, Reason: "accepted without a message id: reconcile, do not resend blindly"}
	case errors.Is(err, ErrConfig):
		return Decision{Action: ActionAlertOperator, Reason: "client misconfigured"}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.As(err, &netErr), errors.As(err, &urlErr),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return Decision{Action: ActionRetry, Retry: true, Reason: "network error or timeout (the message may have been accepted)"}
	}
	return Decision{Action: ActionRetry, Retry: true, Reason: "unclassified error"}
}

// classifyCode applies Meta's table to a Graph API error code.
func classifyCode(code int) (Decision, bool) {
	backOff := func(s Scope, after time.Duration, reason string) (Decision, bool) {
		return Decision{Action: ActionBackOff, Retry: true, Scope: s, After: after, Reason: reason}, true
	}
	stop := func(a Action, after time.Duration, reason string) (Decision, bool) {
		return Decision{Action: a, After: after, Reason: reason}, true
	}
	switch code {
	case 130429:
		return backOff(ScopeNumber, 0, "throughput limit of the phone number reached")
	case 131056:
		return backOff(ScopeRecipient, pairLimitWait, "pair rate limit: too many messages to this user")
	case 4:
		return backOff(ScopeAccount, 0, "application rate limit reached")
	case 80007:
		return backOff(ScopeAccount, 0, "business account rate limit reached")
	case 131057:
		return backOff(ScopeNumber, 0, "business account in maintenance (throughput upgrade)")
	case 1, 2, 131000, 131016:
		return Decision{Action: ActionRetry, Retry: true, Reason: "transient Graph API error"}, true
	case 131047:
		return stop(ActionNeedTemplate, 0, "more than 24 hours since the user last wrote: send a template")
	case 131026:
		return stop(ActionFail, 0, "message undeliverable")
	case 131049:
		return stop(ActionHoldMarketing, 24*time.Hour, "per-user marketing limit: no retry within 24 hours")
	case 131050:
		return stop(ActionOptOut, 0, "user stopped marketing messages")
	case 100, 131008, 131009:
		return stop(ActionBadRequest, 0, "invalid request")
	case 0, 190:
		return stop(ActionAlertOperator, 0, "access token invalid or expired")
	}
	if code >= 132000 && code < 133000 {
		return stop(ActionBadRequest, 0, "template error")
	}
	return Decision{}, false
}

// classifyStatus decides by HTTP status alone, for codes the table lacks.
func classifyStatus(status int) Decision {
	d := Decision{Code: status}
	switch {
	case status == http.StatusTooManyRequests:
		d.Action, d.Retry, d.Scope, d.Reason = ActionBackOff, true, ScopeNumber, "rate limited (http 429)"
	case status >= 500:
		d.Action, d.Retry, d.Reason = ActionRetry, true, "server error (http "+strconv.Itoa(status)+")"
	case status == http.StatusUnauthorized:
		d.Action, d.Reason = ActionAlertOperator, "unauthorized (http 401): check the access token"
	default:
		d.Action, d.Reason = ActionFail, "unknown client error (http "+strconv.Itoa(status)+")"
	}
	return d
}
