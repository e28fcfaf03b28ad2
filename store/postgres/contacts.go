package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/yanit/yanit/store"
)

var (
	sqlGetContact                  = query("GetContact")
	sqlContactIDByWaID             = query("ContactIDByWaID")
	sqlContactIDByUserID           = query("ContactIDByUserID")
	sqlUnattachedContactIDByUserID = query("UnattachedContactIDByUserID")
	sqlInsertContact               = query("InsertContact")
	sqlUpdateContact               = query("UpdateContact")
	sqlTouchContactByWaID          = query("TouchContactByWaID")
	sqlSetMarketingPreference      = query("SetMarketingPreference")
	sqlContactExists               = query("ContactExists")
	sqlContactsByWaID              = query("ContactsByWaID")
	sqlUpdateContactsByWaID        = query("UpdateContactsByWaID")
	sqlInsertContactsByWaID        = query("InsertContactsByWaID")
)

// upsertTries bounds how often UpsertContact starts over after losing a race
// to a concurrent upsert of the same contact.
const upsertTries = 3

func scanContact(r scanner) (store.Contact, error) {
	var c store.Contact
	var attrs []byte
	err := r.Scan(&c.ID, &c.WaID, &c.UserID, &c.Name, &c.Locale,
		timeColumn{&c.LastInboundAt}, &c.MarketingOptOut, timeColumn{&c.MarketingPrefAt},
		&c.Tags, &attrs, timeColumn{&c.CreatedAt}, timeColumn{&c.UpdatedAt})
	if err != nil {
		return c, err
	}
	if len(c.Tags) == 0 {
		c.Tags = nil
	}
	if err := json.Unmarshal(attrs, &c.Attributes); err != nil {
		return c, fmt.Errorf("reading the attributes of contact %d: %w", c.ID, err)
	}
	if len(c.Attributes) == 0 {
		c.Attributes = nil
	}
	return c, nil
}

// contactArgs are the arguments of the queries writing a contact: tags and
// attributes NULL when the upsert leaves them.
func contactArgs(c store.ContactUpsert) (args, error) {
	a := args{"wa_id": c.WaID, "user_id": c.UserID, "name": c.Name, "locale": c.Locale, "seen": nullTime(c.Seen),
		"tags": nil, "attributes": nil}
	if c.Tags != nil {
		a["tags"] = c.Tags
	}
	if c.Attributes != nil {
		b, err := json.Marshal(c.Attributes)
		if err != nil {
			return nil, fmt.Errorf("encoding attributes: %w", err)
		}
		a["attributes"] = string(b)
	}
	return a, nil
}

// UpsertContact finds the contact by WaID, or, when no contact has the WaID,
// the one known by UserID alone, which the WaID then attaches to; without a
// WaID, by UserID. It creates the contact when none is found. A UserID that
// belongs to another contact is an ErrConflict.
//
// Each try runs in a transaction of its own (a savepoint inside InTx). Two
// upserts of a new contact race to insert it: the loser's insert fails on the
// unique index once the winner commits, its try is rolled back, and the next
// try finds the winner's row.
func (q queries) UpsertContact(ctx context.Context, c store.ContactUpsert) (store.Contact, error) {
	if err := c.Validate(); err != nil {
		return store.Contact{}, fmt.Errorf("upserting contact: %w", err)
	}
	a, err := contactArgs(c)
	if err != nil {
		return store.Contact{}, fmt.Errorf("upserting contact: %w", err)
	}
	if c.WaID != "" {
		// The fast path of every message from a known contact: one statement.
		out, err := scanContact(q.db.QueryRow(ctx, sqlTouchContactByWaID, a))
		if err == nil {
			return out, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return store.Contact{}, fmt.Errorf("upserting contact: %w", interpretError(err))
		}
	}
	var out store.Contact
	for try := 1; try <= upsertTries; try++ {
		err = q.atomically(ctx, func(q queries) error {
			var tryErr error
			out, tryErr = q.upsertContact(ctx, c, a)
			return tryErr
		})
		err = interpretError(err)
		if !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	if err != nil {
		return store.Contact{}, fmt.Errorf("upserting contact: %w", err)
	}
	return out, nil
}

// upsertContact is one try of UpsertContact, with the contact's arguments
// a (contactArgs), which it does not change.
func (q queries) upsertContact(ctx context.Context, c store.ContactUpsert, a args) (store.Contact, error) {
	id, err := q.findContact(ctx, c.WaID, c.UserID)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return scanContact(q.db.QueryRow(ctx, sqlInsertContact, a))
	case err != nil:
		return store.Contact{}, err
	}
	withID := maps.Clone(a)
	withID["id"] = id
	return scanContact(q.db.QueryRow(ctx, sqlUpdateContact, withID))
}

// findContact returns the id of the contact an upsert applies to, or
// pgx.ErrNoRows when it creates one.
func (q queries) findContact(ctx context.Context, waID, userID string) (int64, error) {
	var id int64
	if waID == "" {
		err := q.db.QueryRow(ctx, sqlContactIDByUserID, args{"user_id": userID}).Scan(&id)
		return id, err
	}
	err := q.db.QueryRow(ctx, sqlContactIDByWaID, args{"wa_id": waID}).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) && userID != "" {
		err = q.db.QueryRow(ctx, sqlUnattachedContactIDByUserID, args{"user_id": userID}).Scan(&id)
	}
	return id, err
}

// GetContact returns the contact with the id; ErrNotFound when there is none.
func (q queries) GetContact(ctx context.Context, id int64) (store.Contact, error) {
	c, err := scanContact(q.db.QueryRow(ctx, sqlGetContact, args{"id": id}))
	if err != nil {
		return store.Contact{}, fmt.Errorf("getting contact %d: %w", id, interpretError(err))
	}
	return c, nil
}

// SetMarketingPreference records the contact's marketing opt-out (true) or
// resume (false) made at at, or now when at is zero, unless the contact has a
// preference recorded at the same time or later: webhooks arrive out of
// order, and the newest preference wins. It is one conditional UPDATE, so
// that racing preferences cannot interleave between a read of the recorded
// time and the write. It reports whether the preference was recorded;
// ErrNotFound when the contact is missing.
func (q queries) SetMarketingPreference(ctx context.Context, contactID int64, optOut bool, at time.Time) (bool, error) {
	tag, err := q.db.Exec(ctx, sqlSetMarketingPreference, args{"id": contactID, "opt_out": optOut, "at": nullTime(at)})
	if err == nil && tag.RowsAffected() == 0 {
		// Unchanged: a newer preference is recorded, or the contact is missing.
		var exists bool
		err = q.db.QueryRow(ctx, sqlContactExists, args{"id": contactID}).Scan(&exists)
		if err == nil && !exists {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return false, fmt.Errorf("setting marketing preference of contact %d: %w", contactID, interpretError(err))
	}
	return tag.RowsAffected() > 0, nil
}

// ContactsByWaID returns the contacts with these wa_ids, in one query.
func (q queries) ContactsByWaID(ctx context.Context, waIDs []string) ([]store.Contact, error) {
	rows, err := q.db.Query(ctx, sqlContactsByWaID, args{"wa_ids": texts(waIDs)})
	cs, err := collect(rows, err, scanContact)
	if err != nil {
		return nil, fmt.Errorf("getting %d contact(s) by wa_id: %w", len(waIDs), interpretError(err))
	}
	return cs, nil
}

// UpsertContactsByWaID applies a batch of upserts in one transaction (a
// savepoint inside InTx): one UPDATE of the contacts that exist, one
// INSERT of the others. A contact that another transaction inserts between
// the two is skipped by the INSERT and updated by the next round.
func (q queries) UpsertContactsByWaID(ctx context.Context, us []store.ContactUpsert) ([]store.Contact, error) {
	if err := store.CheckContactBatch(us); err != nil {
		return nil, fmt.Errorf("upserting %d contact(s): %w", len(us), err)
	}
	done := make(map[string]store.Contact, len(us))
	err := q.atomically(ctx, func(q queries) error {
		pending := us
		for try := 1; len(pending) > 0; try++ {
			if try > upsertTries {
				return fmt.Errorf("%w: %d contact(s) were inserted and deleted under the upsert %d times",
					store.ErrConflict, len(pending), upsertTries)
			}
			for _, sql := range []string{sqlUpdateContactsByWaID, sqlInsertContactsByWaID} {
				a, err := batchArgs(pending)
				if err != nil {
					return err
				}
				rows, err := q.db.Query(ctx, sql, a)
				cs, err := collect(rows, err, scanContact)
				if err != nil {
					return err
				}
				for _, c := range cs {
					done[c.WaID] = c
				}
				pending = slices.DeleteFunc(slices.Clone(pending), func(u store.ContactUpsert) bool {
					_, ok := done[u.WaID]
					return ok
				})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("upserting %d contact(s): %w", len(us), interpretError(err))
	}
	out := make([]store.Contact, len(us))
	for i, u := range us {
		out[i] = done[u.WaID]
	}
	return out, nil
}

// batchArgs are the arrays of the batch queries: one element per upsert,
// tags and attributes as JSON, NULL where the upsert leaves them.
func batchArgs(us []store.ContactUpsert) (args, error) {
	n := len(us)
	waIDs, names, locales := make([]string, n), make([]string, n), make([]string, n)
	seen := make([]pgtype.Timestamptz, n)
	tags, attrs := make([]*string, n), make([]*string, n)
	for i, u := range us {
		waIDs[i], names[i], locales[i] = u.WaID, u.Name, u.Locale
		seen[i] = pgtype.Timestamptz{Time: u.Seen, Valid: !u.Seen.IsZero()}
		if u.Tags != nil {
			b, err := json.Marshal(u.Tags)
			if err != nil {
				return nil, fmt.Errorf("encoding the tags of %s: %w", u.WaID, err)
			}
			tags[i] = new(string(b))
		}
		if u.Attributes != nil {
			b, err := json.Marshal(u.Attributes)
			if err != nil {
				return nil, fmt.Errorf("encoding the attributes of %s: %w", u.WaID, err)
			}
			attrs[i] = new(string(b))
		}
	}
	return args{"wa_ids": waIDs, "names": names, "locales": locales, "seen": seen, "tags": tags, "attributes": attrs}, nil
}
