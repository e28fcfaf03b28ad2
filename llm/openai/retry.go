package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/yanit/yanit/llm"
)

// maxRetryAfter caps the wait a server may ask for with Retry-After.
const maxRetryAfter = 60 * time.Second

// maxErrorBody bounds how much of an error body that is not OpenAI's error
// JSON (a proxy's HTML page) an APIError keeps.
const maxErrorBody = 256

// APIError is a call the server answered with an error status. Message,
// Type, Code and Param come from OpenAI's error body
// ({"error":{"message","type","param","code"}}) when the server sent one;
// otherwise Message is the start of the body. None of them contains the
// API key.
type APIError struct {
	StatusCode int
	Type       string
	Code       string
	Param      string
	Message    string
}

// Error describes the status and the server's message.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "http %d", e.StatusCode)
	var details []string
	if e.Type != "" {
		details = append(details, e.Type)
	}
	if e.Code != "" {
		details = append(details, "code "+e.Code)
	}
	if e.Param != "" {
		details = append(details, "param "+e.Param)
	}
	if len(details) > 0 {
		b.WriteString(" (" + strings.Join(details, ", ") + ")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// retryable reports whether a later attempt may get another answer: rate
// limits and server errors. Other 4xx statuses (bad request, bad key,
// unknown model) would fail the same way again.
func (e *APIError) retryable() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// exchange carries, through an attempt's context, what the Client needs to
// do to the HTTP request and learn from the response beyond what go-openai
// exposes.
type exchange struct {
	// zeroTemperature puts "temperature": 0 into the request body:
	// go-openai's float32 field with omitempty drops a zero, and the
	// server's default (often 1) would replace the caller's choice.
	zeroTemperature bool
	// retryAfter is the Retry-After header of the response, if any.
	retryAfter string
}

type exchangeKey struct{}

// exchangeDoer is the go-openai HTTPDoer: it applies and records the
// attempt's exchange around the real HTTP client.
type exchangeDoer struct {
	next *http.Client
}

func (d exchangeDoer) Do(req *http.Request) (*http.Response, error) {
	x, _ := req.Context().Value(exchangeKey{}).(*exchange)
	if x != nil && x.zeroTemperature {
		if err := setZeroTemperature(req); err != nil {
			return nil, err
		}
	}
	resp, err := d.next.Do(req)
	if x != nil && resp != nil {
		x.retryAfter = resp.Header.Get("Retry-After")
	}
	return resp, err
}

// setZeroTemperature rewrites the JSON body of req with "temperature": 0.
func setZeroTemperature(req *http.Request) error {
	if req.Body == nil {
		return nil
	}
	raw, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return fmt.Errorf("reading the request body: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return fmt.Errorf("decoding the request body: %w", err)
	}
	fields["temperature"] = json.RawMessage("0")
	body, err := json.Marshal(fields)
	if err != nil {
		return fmt.Errorf("encoding the request body: %w", err)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return nil
}

// failure is a failed attempt, classified.
type failure struct {
	err    error
	retry  bool
	status int
	// wait is the server's Retry-After when waitSet.
	wait    time.Duration
	waitSet bool
}

// call runs op, giving each attempt c.timeout, and retries failures a later
// attempt may not have, up to c.maxRetries times. A cancelled ctx ends it at
// once with ctx.Err(), during an attempt or a wait. what names the call in
// logs.
func (c *Client) call(ctx context.Context, what string, x exchange, op func(context.Context) error) error {
	attempts := c.maxRetries + 1
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		ex := x
		actx, cancel := context.WithTimeout(context.WithValue(ctx, exchangeKey{}, &ex), c.timeout)
		err := op(actx)
		timedOut := actx.Err() != nil
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		f := c.classify(err, timedOut, ex.retryAfter)
		if !f.retry {
			return f.err
		}
		if attempt == attempts {
			return fmt.Errorf("%w: gave up after %d attempts, last: %w", llm.ErrUnavailable, attempts, f.err)
		}
		wait := f.wait
		if !f.waitSet {
			wait = c.backoff(attempt)
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "llm call failed, retrying",
			slog.String("call", what),
			slog.Int("attempt", attempt),
			slog.Int("status", f.status),
			slog.Duration("wait", wait),
			slog.String("error", c.redact(f.err.Error())))
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// classify turns the error of an attempt into an APIError when the server
// answered with a status, and says whether to retry and after how long.
func (c *Client) classify(err error, timedOut bool, retryAfter string) failure {
	var apiErr *goopenai.APIError
	var reqErr *goopenai.RequestError
	var e *APIError
	switch {
	// A RequestError (a body that is not OpenAI's error JSON) may wrap
	// an APIError without a status: test it first.
	case errors.As(err, &reqErr):
		e = &APIError{
			StatusCode: reqErr.HTTPStatusCode,
			Message:    c.redact(truncate(strings.TrimSpace(string(reqErr.Body)), maxErrorBody)),
		}
	case errors.As(err, &apiErr):
		e = &APIError{
			StatusCode: apiErr.HTTPStatusCode,
			Type:       c.redact(apiErr.Type),
			Code:       c.redact(codeString(apiErr.Code)),
			Message:    c.redact(apiErr.Message),
		}
		if apiErr.Param != nil {
			e.Param = c.redact(*apiErr.Param)
		}
	case timedOut:
		return failure{err: fmt.Errorf("no response within %s", c.timeout), retry: true}
	case transient(err):
		return failure{err: err, retry: true}
	default:
		return failure{err: err}
	}
	f := failure{err: e, retry: e.retryable(), status: e.StatusCode}
	if e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusServiceUnavailable {
		f.wait, f.waitSet = parseRetryAfter(retryAfter)
	}
	return f
}

// codeString renders OpenAI's error code, a string or a number; go-openai
// decodes a null code as the number 0.
func codeString(code any) string {
	switch v := code.(type) {
	case nil:
		return ""
	case string:
		return v
	case int:
		if v == 0 {
			return ""
		}
		return strconv.Itoa(v)
	default:
		return fmt.Sprint(v)
	}
}

// transient reports whether err is a network failure: refused or reset
// connections, DNS errors, a body cut short.
func transient(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF)
}

// parseRetryAfter reads a Retry-After header in seconds, capped at
// maxRetryAfter. The HTTP-date form, which OpenAI-compatible servers do not
// send, falls back to the backoff.
func parseRetryAfter(v string) (time.Duration, bool) {
	secs, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || secs < 0 {
		return 0, false
	}
	if secs >= int(maxRetryAfter/time.Second) {
		return maxRetryAfter, true
	}
	return time.Duration(secs) * time.Second, true
}

// backoff is the wait before retry n (from 1): full jitter, uniform in
// [0, min(backoffMax, backoffBase·2ⁿ⁻¹)), so that clients that failed
// together do not retry together.
func (c *Client) backoff(n int) time.Duration {
	ceiling := c.backoffMax
	if n-1 < 32 {
		if d := c.backoffBase << (n - 1); d > 0 && d < ceiling {
			ceiling = d
		}
	}
	return rand.N(ceiling)
}

// sleep waits d or until ctx is done, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// redact removes the API key from text, should a server or a library ever
// echo it.
func (c *Client) redact(s string) string {
	if c.apiKey == "" {
		return s
	}
	return strings.ReplaceAll(s, c.apiKey, "[redacted]")
}

// truncate shortens s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
