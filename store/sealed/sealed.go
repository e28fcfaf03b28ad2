package sealed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
)

// Wrap returns st with message contents sealed at rest under k: the body
// and the payload of a message are sealed with k's active key by every
// write (AcceptInbound, InsertMessage, InsertOutbound, SetMessageContent,
// and the same in InTx's transactions) and opened by every read
// (GetMessage, ListMessages, PendingInbound, OutboxEntries,
// MessageContents, the messages AcceptInbound, InsertMessage and
// InsertOutbound return, and ListRecentTurns' Turn.Input). Plain values,
// stored before sealing was turned on, read as they are. Every other
// operation is st's own.
//
// The store returned has an Unwrap method giving st back, for what needs
// the implementation (a *postgres.Store's Pool) or the raw rows. k must
// not be nil.
func Wrap(st store.Store, k *privacy.Keyring) store.Store {
	if k == nil {
		panic("sealed.Wrap: the keyring is nil")
	}
	return &wrapped{queries: queries{Queries: st, c: codec{k: k}}, st: st}
}

// wrapped is the store Wrap returns.
type wrapped struct {
	queries
	st store.Store
}

var _ store.Store = (*wrapped)(nil)

// Unwrap returns the store under the wrapper, whose reads and writes are
// not sealed.
func (w *wrapped) Unwrap() store.Store { return w.st }

// InTx runs fn in a transaction of the wrapped store, with the
// transaction's queries sealed too.
func (w *wrapped) InTx(ctx context.Context, fn func(tx store.Queries) error) error {
	return w.st.InTx(ctx, func(tx store.Queries) error { return fn(queries{Queries: tx, c: w.c}) })
}

// Ping is the wrapped store's.
func (w *wrapped) Ping(ctx context.Context) error { return w.st.Ping(ctx) }

// Migrate is the wrapped store's.
func (w *wrapped) Migrate(ctx context.Context) error { return w.st.Migrate(ctx) }

// MigrationStatus is the wrapped store's.
func (w *wrapped) MigrationStatus(ctx context.Context) (current, latest int64, err error) {
	return w.st.MigrationStatus(ctx)
}

// Dialect is the wrapped store's.
func (w *wrapped) Dialect() string { return w.st.Dialect() }

// Close closes the wrapped store.
func (w *wrapped) Close() error { return w.st.Close() }

// queries seals and opens the messages going through store.Queries.
type queries struct {
	store.Queries
	c codec
}

// AcceptInbound stores the inbound message sealed, and returns it opened.
func (q queries) AcceptInbound(ctx context.Context, p store.InboundParams) (store.Message, error) {
	m, err := q.c.sealMessage(p.Message)
	if err != nil {
		return store.Message{}, fmt.Errorf("accepting inbound message: %w", err)
	}
	p.Message = m
	if m, err = q.Queries.AcceptInbound(ctx, p); err != nil {
		return store.Message{}, err
	}
	return q.c.openMessage(m)
}

// InsertMessage stores m sealed, and returns it opened.
func (q queries) InsertMessage(ctx context.Context, m store.Message) (store.Message, error) {
	m, err := q.c.sealMessage(m)
	if err != nil {
		return store.Message{}, fmt.Errorf("inserting message: %w", err)
	}
	if m, err = q.Queries.InsertMessage(ctx, m); err != nil {
		return store.Message{}, err
	}
	return q.c.openMessage(m)
}

// InsertOutbound stores the messages sealed, and returns them opened.
func (q queries) InsertOutbound(ctx context.Context, ms []store.Message) ([]store.Message, error) {
	sealed := make([]store.Message, len(ms))
	for i, m := range ms {
		var err error
		if sealed[i], err = q.c.sealMessage(m); err != nil {
			return nil, fmt.Errorf("inserting outbound message %d: %w", i+1, err)
		}
	}
	return q.c.openMessages(q.Queries.InsertOutbound(ctx, sealed))
}

// GetMessage returns the message opened.
func (q queries) GetMessage(ctx context.Context, id int64) (store.Message, error) {
	m, err := q.Queries.GetMessage(ctx, id)
	if err != nil {
		return store.Message{}, err
	}
	return q.c.openMessage(m)
}

// OutboxEntries returns the entries with their messages opened.
func (q queries) OutboxEntries(ctx context.Context, ids []int64) ([]store.OutboxEntry, error) {
	es, err := q.Queries.OutboxEntries(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range es {
		if es[i].Message, err = q.c.openMessage(es[i].Message); err != nil {
			return nil, err
		}
	}
	return es, nil
}

// ListMessages returns the messages opened.
func (q queries) ListMessages(ctx context.Context, conversationID int64) ([]store.Message, error) {
	return q.c.openMessages(q.Queries.ListMessages(ctx, conversationID))
}

// PendingInbound returns the messages opened.
func (q queries) PendingInbound(ctx context.Context, conversationID int64) ([]store.Message, error) {
	return q.c.openMessages(q.Queries.PendingInbound(ctx, conversationID))
}

// ListRecentTurns returns the turns with their Input opened: the store
// joins the bodies of a turn's messages with newlines, and a sealed body
// holds none, so each sealed line is one body.
func (q queries) ListRecentTurns(ctx context.Context, f store.TurnFilter) ([]store.Turn, error) {
	ts, err := q.Queries.ListRecentTurns(ctx, f)
	if err != nil {
		return nil, err
	}
	for i := range ts {
		if ts[i].Input, err = q.c.openLines(ts[i].Input); err != nil {
			return nil, fmt.Errorf("opening the input of turn %d: %w", ts[i].ID, err)
		}
	}
	return ts, nil
}

// MessageContents returns the contents opened.
func (q queries) MessageContents(ctx context.Context, afterID int64, limit int) ([]store.MessageContent, error) {
	cs, err := q.Queries.MessageContents(ctx, afterID, limit)
	if err != nil {
		return nil, err
	}
	for i := range cs {
		if cs[i].Body, cs[i].Payload, err = q.c.open(cs[i].Body, cs[i].Payload); err != nil {
			return nil, fmt.Errorf("opening message %d: %w", cs[i].ID, err)
		}
	}
	return cs, nil
}

// SetMessageContent stores the body and the payload sealed.
func (q queries) SetMessageContent(ctx context.Context, id int64, body string, payload json.RawMessage) error {
	body, payload, err := q.c.seal(body, payload)
	if err != nil {
		return fmt.Errorf("setting the content of message %d: %w", id, err)
	}
	return q.Queries.SetMessageContent(ctx, id, body, payload)
}

// codec seals and opens message contents with a keyring.
type codec struct {
	k *privacy.Keyring
}

func (c codec) sealMessage(m store.Message) (store.Message, error) {
	var err error
	m.Body, m.Payload, err = c.seal(m.Body, m.Payload)
	return m, err
}

func (c codec) openMessage(m store.Message) (store.Message, error) {
	var err error
	if m.Body, m.Payload, err = c.open(m.Body, m.Payload); err != nil {
		return store.Message{}, fmt.Errorf("opening message %d: %w", m.ID, err)
	}
	return m, nil
}

func (c codec) openMessages(ms []store.Message, err error) ([]store.Message, error) {
	if err != nil {
		return nil, err
	}
	for i := range ms {
		if ms[i], err = c.openMessage(ms[i]); err != nil {
			return nil, err
		}
	}
	return ms, nil
}

// seal seals a body and a payload; see sealBody and sealPayload.
func (c codec) seal(body string, payload json.RawMessage) (string, json.RawMessage, error) {
	body, err := c.sealBody(body)
	if err == nil {
		payload, err = c.sealPayload(payload)
	}
	return body, payload, err
}

// open opens a body and a payload; see openBody and openPayload.
func (c codec) open(body string, payload json.RawMessage) (string, json.RawMessage, error) {
	body, err := c.openBody(body)
	if err == nil {
		payload, err = c.openPayload(payload)
	}
	return body, payload, err
}

// sealBody seals a body unless it is empty.
func (c codec) sealBody(body string) (string, error) {
	if body == "" {
		return "", nil
	}
	s, err := c.k.Seal([]byte(body))
	if err != nil {
		return "", fmt.Errorf("sealing the body: %w", err)
	}
	return s, nil
}

// sealPayload seals a payload, unless it is empty, {} or null, into a JSON
// string holding the sealed value.
func (c codec) sealPayload(payload json.RawMessage) (json.RawMessage, error) {
	if emptyPayload(payload) {
		return payload, nil
	}
	if !json.Valid(payload) {
		return nil, errors.New("sealing the payload: it is not valid JSON")
	}
	s, err := c.k.Seal(payload)
	if err != nil {
		return nil, fmt.Errorf("sealing the payload: %w", err)
	}
	return jsonString(s), nil
}

// openBody opens a sealed body; a plain one is returned as it is.
func (c codec) openBody(body string) (string, error) {
	if !privacy.Sealed(body) {
		return body, nil
	}
	plain, err := c.k.Open(body)
	if err != nil {
		return "", fmt.Errorf("opening the body: %w", err)
	}
	return string(plain), nil
}

// openPayload opens a payload holding a sealed value; a plain one is
// returned as it is.
func (c codec) openPayload(payload json.RawMessage) (json.RawMessage, error) {
	s, ok := sealedPayload(payload)
	if !ok {
		return payload, nil
	}
	plain, err := c.k.Open(s)
	if err != nil {
		return nil, fmt.Errorf("opening the payload: %w", err)
	}
	return plain, nil
}

// openLines opens every sealed line of text, keeping the plain ones.
func (c codec) openLines(text string) (string, error) {
	lines := strings.Split(text, "\n")
	opened := false
	for i, line := range lines {
		if !privacy.Sealed(line) {
			continue
		}
		plain, err := c.k.Open(line)
		if err != nil {
			return "", fmt.Errorf("line %d: %w", i+1, err)
		}
		lines[i], opened = string(plain), true
	}
	if !opened {
		return text, nil
	}
	return strings.Join(lines, "\n"), nil
}

// emptyPayload reports whether a payload holds nothing worth sealing.
func emptyPayload(p json.RawMessage) bool {
	t := bytes.TrimSpace(p)
	return len(t) == 0 || string(t) == "{}" || string(t) == "null"
}

// jsonString is the JSON string of a sealed value, whose characters
// (a-z, 0-9, ':', '_', '-' and base64's) need no escaping.
func jsonString(sealed string) json.RawMessage {
	out := make(json.RawMessage, 0, len(sealed)+2)
	out = append(out, '"')
	out = append(out, sealed...)
	return append(out, '"')
}

// sealedPayload returns the sealed value a payload holds as a JSON string,
// and false when it holds something else.
func sealedPayload(p json.RawMessage) (string, bool) {
	t := bytes.TrimSpace(p)
	if len(t) < 2 || t[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(t, &s); err != nil || !privacy.Sealed(s) {
		return "", false
	}
	return s, true
}
