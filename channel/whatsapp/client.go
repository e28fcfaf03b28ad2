package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/yanit/yanit/channel/whatsapp/wire"
)

// Defaults used by Client when a field is left empty.
const (
	DefaultBaseURL = "https://graph.facebook.com"
	DefaultVersion = "v24.0"
	// DefaultTimeout bounds a call when HTTPClient is nil; pass a context
	// deadline for tighter bounds.
	DefaultTimeout = 30 * time.Second
)

// maxResponseBytes bounds how much of a response is read.
const maxResponseBytes = 1 << 20

// maxErrorBody bounds the body kept in an HTTPError.
const maxErrorBody = 256

// Client calls the Graph API for one access token. Build it as a struct
// literal; empty fields take the defaults above. A Client is safe for
// concurrent use: its methods never modify it.
//
// Client does not retry, throttle or log: the sender on top does, guided by
// Classify. The token never appears in its errors or in its String form.
type Client struct {
	BaseURL    string // DefaultBaseURL when empty
	Version    string // DefaultVersion when empty
	Token      string // system-user access token
	HTTPClient *http.Client
}

// String describes c without its token, so that logging a Client is safe.
func (c *Client) String() string {
	return fmt.Sprintf("whatsapp.Client{BaseURL: %q, Version: %q, Token: [redacted]}", c.baseURL(), c.version())
}

// GoString is String, for %#v.
func (c *Client) GoString() string { return c.String() }

// Send validates msg, posts it from the business phone number phoneNumberID
// and returns the wamid Meta assigned. Success means accepted, not delivered:
// delivery arrives later as status webhooks. A message that fails Validate
// never leaves the process. Errors are *LimitError, *APIError, *HTTPError,
// ErrNoMessageID, ErrConfig or transport errors; pass them to Classify.
func (c *Client) Send(ctx context.Context, phoneNumberID string, msg Outbound) (wamid string, err error) {
	if err := msg.Validate(); err != nil {
		return "", fmt.Errorf("validating outbound message: %w", err)
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return "", fmt.Errorf("encoding %s message: %w", msg.Content.Type(), err)
	}
	var resp wire.SendResponse
	if err := c.post(ctx, phoneNumberID, body, &resp); err != nil {
		return "", fmt.Errorf("sending %s message: %w", msg.Content.Type(), err)
	}
	if len(resp.Messages) == 0 || resp.Messages[0].ID == "" {
		return "", fmt.Errorf("sending %s message: %w", msg.Content.Type(), ErrNoMessageID)
	}
	return resp.Messages[0].ID, nil
}

// MarkRead marks the inbound message wamid read (blue ticks) and, with
// typing, shows the typing indicator until the reply or 25 s: set it only
// when a reply will follow.
func (c *Client) MarkRead(ctx context.Context, phoneNumberID, wamid string, typing bool) error {
	r := ReadReceipt{MessageID: wamid, Typing: typing}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("validating read receipt: %w", err)
	}
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding read receipt: %w", err)
	}
	// Any 2xx is success; the body ({"success":true}) adds nothing.
	if err := c.post(ctx, phoneNumberID, body, nil); err != nil {
		return fmt.Errorf("marking message read: %w", err)
	}
	return nil
}

// post sends body to the messages endpoint of phoneNumberID and decodes a
// 2xx answer into out (when not nil). An undecodable 2xx answer is
// ErrNoMessageID.
func (c *Client) post(ctx context.Context, phoneNumberID string, body []byte, out any) error {
	endpoint, err := c.endpoint(phoneNumberID)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: building request: %v", ErrConfig, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("reading response (http %d): %w", resp.StatusCode, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.responseError(resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%w: decoding response: %v", ErrNoMessageID, err)
		}
	}
	return nil
}

// responseError turns a failed response into an *APIError when the body is a
// Graph API error, else an *HTTPError.
func (c *Client) responseError(status int, data []byte) error {
	var er wire.ErrorResponse
	if json.Unmarshal(data, &er) == nil && er.Error != nil && er.Error.Code != nil {
		g := er.Error
		e := &APIError{
			HTTPStatus: status,
			Code:       *g.Code,
			Subcode:    g.ErrorSubcode,
			Type:       c.redact(g.Type),
			Message:    c.redact(g.Message),
			FBTraceID:  c.redact(g.FBTraceID),
		}
		if g.ErrorData != nil {
			e.Details = c.redact(g.ErrorData.Details)
		}
		return e
	}
	return &HTTPError{StatusCode: status, Body: c.redact(truncate(strings.TrimSpace(string(data)), maxErrorBody))}
}

// redact removes the token from text the server sent, should it ever echo it.
func (c *Client) redact(s string) string {
	if c.Token == "" {
		return s
	}
	return strings.ReplaceAll(s, c.Token, "[redacted]")
}

// endpoint returns {base}/{version}/{phoneNumberID}/messages.
func (c *Client) endpoint(phoneNumberID string) (string, error) {
	if c.Token == "" {
		return "", fmt.Errorf("%w: no access token", ErrConfig)
	}
	if phoneNumberID == "" || strings.ContainsFunc(phoneNumberID, func(r rune) bool { return r < '0' || r > '9' }) {
		return "", fmt.Errorf("%w: phone number id %q is not numeric", ErrConfig, truncate(phoneNumberID, 32))
	}
	version := c.version()
	if strings.ContainsAny(version, "/?#") {
		return "", fmt.Errorf("%w: bad api version %q", ErrConfig, version)
	}
	base, err := url.Parse(c.baseURL())
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return "", fmt.Errorf("%w: bad base url", ErrConfig)
	}
	return strings.TrimRight(base.String(), "/") + "/" + version + "/" + phoneNumberID + "/messages", nil
}

func (c *Client) baseURL() string { return firstNonEmpty(c.BaseURL, DefaultBaseURL) }

func (c *Client) version() string { return firstNonEmpty(c.Version, DefaultVersion) }

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return &http.Client{Timeout: DefaultTimeout}
}
