package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/yanit/yanit/store"
)

var (
	sqlGetContact                  = query("GetContact")
	sqlContactIDByWaID             = query("ContactIDByWaID")
	sqlContactIDByUserID           = query("ContactIDByUserID")
	sqlUnattachedContactIDByUserID = query("UnattachedContactIDByUserID")
	sqlInsertContact               = query("InsertContact")
	sqlUpdateContact               = query("UpdateContact")
	sqlSetMarketingPreference      = query("SetMarketingPreference")
	sqlContactExists               = query("ContactExists")
	sqlContactsByWaID              = query("ContactsByWaID")
	sqlUpdateContactsByWaID        = query("UpdateContactsByWaID")
	sqlInsertContactsByWaID        = query("InsertContactsByWaID")
)

func scanContact(r scanner) (store.Contact, error) {
	var c store.Contact
	var attrs json.RawMessage
	err := r.Scan(&c.ID, &c.WaID, &c.UserID, &c.Name, &c.Locale,
		timeColumn{&c.LastInboundAt}, &c.MarketingOptOut, timeColumn{&c.MarketingPrefAt},
		textsColumn{&c.Tags}, jsonColumn{&attrs}, timeColumn{&c.CreatedAt}, timeColumn{&c.UpdatedAt})
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
func contactArgs(c store.ContactUpsert) ([]any, error) {
	var tags, attrs any
	if c.Tags != nil {
		tags = jsonArray(c.Tags)
	}
	if c.Attributes != nil {
		b, err := json.Marshal(c.Attributes)
		if err != nil {
			return nil, fmt.Errorf("encoding attributes: %w", err)
		}
		attrs = string(b)
	}
	return []any{
		sql.Named("wa_id", c.WaID), sql.Named("user_id", c.UserID),
		sql.Named("name", c.Name), sql.Named("locale", c.Locale),
		sql.Named("seen", unixMicro(c.Seen)), sql.Named("tags", tags), sql.Named("attributes", attrs),
		sql.Named("now", unixMicro(now())),
	}, nil
}

// UpsertContact finds the contact by WaID, or, when no contact has the WaID,
// the one known by UserID alone, which the WaID then attaches to; without a
// WaID, by UserID. It creates the contact when none is found. A UserID that
// belongs to another contact is an ErrConflict.
func (q queries) UpsertContact(ctx context.Context, c store.ContactUpsert) (store.Contact, error) {
	if err := c.Validate(); err != nil {
		return store.Contact{}, fmt.Errorf("upserting contact: %w", err)
	}
	args, err := contactArgs(c)
	if err != nil {
		return store.Contact{}, fmt.Errorf("upserting contact: %w", err)
	}
	var out store.Contact
	err = q.atomically(ctx, func(q queries) error {
		id, err := q.findContact(ctx, c.WaID, c.UserID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			out, err = scanContact(q.db.QueryRowContext(ctx, sqlInsertContact, args...))
		case err == nil:
			out, err = scanContact(q.db.QueryRowContext(ctx, sqlUpdateContact, append(args, sql.Named("id", id))...))
		}
		return err
	})
	if err != nil {
		return store.Contact{}, fmt.Errorf("upserting contact: %w", interpretError(err))
	}
	return out, nil
}

// findContact returns the id of the contact an upsert applies to, or
// sql.ErrNoRows when it creates one.
func (q queries) findContact(ctx context.Context, waID, userID string) (int64, error) {
	var id int64
	if waID == "" {
		err := q.db.QueryRowContext(ctx, sqlContactIDByUserID, sql.Named("user_id", userID)).Scan(&id)
		return id, err
	}
	err := q.db.QueryRowContext(ctx, sqlContactIDByWaID, sql.Named("wa_id", waID)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) && userID != "" {
		err = q.db.QueryRowContext(ctx, sqlUnattachedContactIDByUserID, sql.Named("user_id", userID)).Scan(&id)
	}
	return id, err
}

// GetContact returns the contact with the id.
func (q queries) GetContact(ctx context.Context, id int64) (store.Contact, error) {
	c, err := scanContact(q.db.QueryRowContext(ctx, sqlGetContact, sql.Named("id", id)))
	if err != nil {
		return store.Contact{}, fmt.Errorf("getting contact %d: %w", id, interpretError(err))
	}
	return c, nil
}

// SetMarketingPreference records the contact's marketing opt-out (true) or
// resume (false) made at at, or now when at is zero, unless the contact has a
// preference recorded at the same time or later: webhooks arrive out of
// order, and the newest preference wins. It reports whether the preference
// was recorded; ErrNotFound when the contact is missing.
func (q queries) SetMarketingPreference(ctx context.Context, contactID int64, optOut bool, at time.Time) (bool, error) {
	if at.IsZero() {
		at = now()
	}
	// One conditional UPDATE: racing preferences cannot interleave between a
	// read of the recorded time and the write.
	n, err := rowsAffected(q.db.ExecContext(ctx, sqlSetMarketingPreference, sql.Named("id", contactID),
		sql.Named("opt_out", optOut), sql.Named("at", unixMicro(at)), sql.Named("now", unixMicro(now()))))
	if err == nil && n == 0 {
		// Unchanged: a newer preference is recorded, or the contact is missing.
		var exists bool
		err = q.db.QueryRowContext(ctx, sqlContactExists, sql.Named("id", contactID)).Scan(&exists)
		if err == nil && !exists {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return false, fmt.Errorf("setting marketing preference of contact %d: %w", contactID, interpretError(err))
	}
	return n > 0, nil
}

// ContactsByWaID returns the contacts with these wa_ids, in one query.
func (q queries) ContactsByWaID(ctx context.Context, waIDs []string) ([]store.Contact, error) {
	rows, err := q.db.QueryContext(ctx, sqlContactsByWaID, sql.Named("wa_ids", jsonArray(waIDs)))
	cs, err := collect(rows, err, scanContact)
	if err != nil {
		return nil, fmt.Errorf("getting %d contact(s) by wa_id: %w", len(waIDs), interpretError(err))
	}
	return cs, nil
}

// UpsertContactsByWaID applies a batch of upserts in one transaction: one
// UPDATE of the contacts that exist, one INSERT of the others. The
// transaction holds the write lock, so no other writer inserts between the
// two.
func (q queries) UpsertContactsByWaID(ctx context.Context, us []store.ContactUpsert) ([]store.Contact, error) {
	if err := store.CheckContactBatch(us); err != nil {
		return nil, fmt.Errorf("upserting %d contact(s): %w", len(us), err)
	}
	done := make(map[string]store.Contact, len(us))
	err := q.atomically(ctx, func(q queries) error {
		pending := us
		for _, query := range []string{sqlUpdateContactsByWaID, sqlInsertContactsByWaID} {
			batch, err := batchJSON(pending)
			if err != nil {
				return err
			}
			rows, err := q.db.QueryContext(ctx, query, sql.Named("batch", batch), sql.Named("now", unixMicro(now())))
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
		if len(pending) > 0 {
			return fmt.Errorf("%d contact(s), the first %s, were neither updated nor inserted", len(pending), pending[0].WaID)
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

// batchRow is an upsert as the batch queries read it; a nil pointer leaves
// the contact's value.
type batchRow struct {
	WaID       string             `json:"wa_id"`
	Name       string             `json:"name"`
	Locale     string             `json:"locale"`
	Seen       *int64             `json:"seen,omitempty"`
	Tags       *[]string          `json:"tags,omitempty"`
	Attributes *map[string]string `json:"attributes,omitempty"`
}

// batchJSON encodes upserts as the @batch of the batch queries.
func batchJSON(us []store.ContactUpsert) (string, error) {
	rows := make([]batchRow, len(us))
	for i, u := range us {
		rows[i] = batchRow{WaID: u.WaID, Name: u.Name, Locale: u.Locale}
		if !u.Seen.IsZero() {
			rows[i].Seen = new(u.Seen.UnixMicro())
		}
		if u.Tags != nil {
			rows[i].Tags = &us[i].Tags
		}
		if u.Attributes != nil {
			rows[i].Attributes = &us[i].Attributes
		}
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return "", fmt.Errorf("encoding the batch: %w", err)
	}
	return string(b), nil
}
