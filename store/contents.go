package store

import (
	"context"
	"encoding/json"
)

// MessageContent is what a message says, the two columns of a message that
// hold personal content, with the id to write them back under.
type MessageContent struct {
	ID      int64
	Body    string
	Payload json.RawMessage
}

// MaxContentBatch is the most contents MessageContents returns at once.
const MaxContentBatch = 10000

// Contents reads and rewrites the contents of messages in bulk, for work
// that changes every message at rest, such as sealing them under a new key
// (store/sealed.Rotate), or clears one (a message kept without its
// content).
type Contents interface {
	// MessageContents returns the contents of the messages with ids above
	// afterID, by id, at most limit of them (1 to MaxContentBatch); fewer
	// than limit means there are no more. Inside a transaction, the rows
	// returned stay locked for writes until it ends (PostgreSQL's FOR
	// UPDATE; a SQLite transaction holds the write lock anyway), so that a
	// rewrite of them loses no concurrent change.
	MessageContents(ctx context.Context, afterID int64, limit int) ([]MessageContent, error)
	// SetMessageContent replaces the body and the payload of message id; a
	// nil payload is the empty object. ErrNotFound when there is no such
	// message.
	SetMessageContent(ctx context.Context, id int64, body string, payload json.RawMessage) error
}
