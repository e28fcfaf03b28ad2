package sealed

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
)

// DefaultBatch is the number of messages Rotate rewrites in one
// transaction when it is given none.
const DefaultBatch = 500

// Rotate seals again, under k's active key, the body and the payload of
// every message of st that is plain or sealed under another key of k, and
// returns how many messages it changed. It walks the messages by id,
// batch of them (DefaultBatch when batch is 0 or less, at most
// store.MaxContentBatch) in each transaction of its own, so a stop midway
// keeps the batches done and a second run goes on where it is needed; a
// run after a complete one changes nothing. progress, when not nil, is
// called after every batch with the number of messages looked at so far.
//
// st is the store under the wrapper (a store Wrap returned is unwrapped).
// A value sealed under a key k lacks, or altered, stops Rotate with an
// error naming the message and the key id; the batches before it stay
// done.
func Rotate(ctx context.Context, st store.Store, k *privacy.Keyring, batch int, progress func(done int)) (int, error) {
	if w, ok := st.(interface{ Unwrap() store.Store }); ok {
		st = w.Unwrap()
	}
	if batch <= 0 {
		batch = DefaultBatch
	}
	batch = min(batch, store.MaxContentBatch)
	c := codec{k: k}
	var after int64
	changed, done := 0, 0
	for {
		if err := ctx.Err(); err != nil {
			return changed, fmt.Errorf("rotating message contents after message %d: %w", after, err)
		}
		var seen, n int
		var last int64
		err := st.InTx(ctx, func(tx store.Queries) error {
			cs, err := tx.MessageContents(ctx, after, batch)
			if err != nil {
				return err
			}
			seen, n = len(cs), 0
			for _, mc := range cs {
				last = mc.ID
				body, payload, dirty, err := c.reseal(mc.Body, mc.Payload)
				if err != nil {
					return fmt.Errorf("message %d: %w", mc.ID, err)
				}
				if !dirty {
					continue
				}
				if err := tx.SetMessageContent(ctx, mc.ID, body, payload); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return changed, fmt.Errorf("rotating message contents after message %d: %w", after, err)
		}
		changed += n
		done += seen
		after = last
		if progress != nil && seen > 0 {
			progress(done)
		}
		if seen < batch {
			return changed, nil
		}
	}
}

// reseal returns a message's body and payload sealed under the active key,
// and whether either changed: a plain value is sealed, one sealed under
// another key is opened and sealed again, and an empty one (see seal) or
// one sealed under the active key is kept as it is.
func (c codec) reseal(body string, payload json.RawMessage) (string, json.RawMessage, bool, error) {
	active := c.k.Active()
	dirty := false
	if body != "" && keyOf(body) != active {
		plain, err := c.openBody(body)
		if err == nil {
			body, err = c.sealBody(plain)
		}
		if err != nil {
			return "", nil, false, err
		}
		dirty = true
	}
	s, sealed := sealedPayload(payload)
	if sealed && keyOf(s) != active || !sealed && !emptyPayload(payload) {
		plain, err := c.openPayload(payload)
		if err == nil {
			payload, err = c.sealPayload(plain)
		}
		if err != nil {
			return "", nil, false, err
		}
		dirty = true
	}
	return body, payload, dirty, nil
}

// keyOf returns the id of the key that sealed s, or "" for a value that is
// not sealed in a known format.
func keyOf(s string) string {
	id, _ := privacy.KeyID(s)
	return id
}
