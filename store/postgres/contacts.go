package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
)

// upsertTries bounds how often UpsertContact starts over after losing a race
// to a concurrent upsert of the same contact.
const upsertTries = 3

func scanContact(r scanner) (store.Contact, error) {
	var c store.Contact
	err := r.Scan(&c.ID, &c.WaID, &c.UserID, &c.Name, &c.Locale,
		timeColumn{&c.LastInboundAt}, &c.MarketingOptOut, timeColumn{&c.MarketingPrefAt},
		timeColumn{&c.CreatedAt}, timeColumn{&c.UpdatedAt})
	return c, err
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
	if c.WaID == "" && c.UserID == "" {
		return store.Contact{}, errors.New("upserting contact: neither a wa_id nor a user_id identifies it")
	}
	if c.WaID != "" {
		// The fast path of every message from a known contact: one statement.
		out, err := scanContact(q.db.QueryRow(ctx, sqlTouchContactByWaID, args{
			"wa_id": c.WaID, "user_id": c.UserID, "name": c.Name, "locale": c.Locale, "seen": nullTime(c.Seen),
		}))
		if err == nil {
			return out, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return store.Contact{}, fmt.Errorf("upserting contact: %w", interpretError(err))
		}
	}
	var out store.Contact
	var err error
	for try := 1; try <= upsertTries; try++ {
		err = q.atomically(ctx, func(q queries) error {
			var tryErr error
			out, tryErr = q.upsertContact(ctx, c)
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

func (q queries) upsertContact(ctx context.Context, c store.ContactUpsert) (store.Contact, error) {
	a := args{"wa_id": c.WaID, "user_id": c.UserID, "name": c.Name, "locale": c.Locale, "seen": nullTime(c.Seen)}
	id, err := q.findContact(ctx, c.WaID, c.UserID)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return scanContact(q.db.QueryRow(ctx, sqlInsertContact, a))
	case err != nil:
		return store.Contact{}, err
	}
	a["id"] = id
	return scanContact(q.db.QueryRow(ctx, sqlUpdateContact, a))
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
