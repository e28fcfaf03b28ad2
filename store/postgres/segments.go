package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/yanit/yanit/store"
)

var (
	sqlPutSegment        = query("PutSegment")
	sqlGetSegment        = query("GetSegment")
	sqlListSegments      = query("ListSegments")
	sqlDeleteSegment     = query("DeleteSegment")
	sqlCountSegment      = query("CountSegment")
	sqlSampleSegment     = query("SampleSegment")
	sqlContactsInSegment = query("ContactsInSegment")
)

func scanSegment(r scanner) (store.Segment, error) {
	var s store.Segment
	var filter []byte
	err := r.Scan(&s.ID, &s.Name, &s.Description, &filter, timeColumn{&s.CreatedAt}, timeColumn{&s.UpdatedAt})
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(filter, &s.Filter); err != nil {
		return s, fmt.Errorf("reading the filter of segment %q: %w", s.Name, err)
	}
	return s, nil
}

// PutSegment stores s under its name, in one statement (INSERT … ON
// CONFLICT), so racing puts of one name both succeed and the last one
// stays.
func (q queries) PutSegment(ctx context.Context, s store.Segment) (store.Segment, error) {
	err := s.Validate()
	var filter []byte
	if err == nil {
		filter, err = json.Marshal(s.Filter.Normalized())
	}
	var out store.Segment
	if err == nil {
		out, err = scanSegment(q.db.QueryRow(ctx, sqlPutSegment,
			args{"name": s.Name, "description": s.Description, "filter": string(filter)}))
	}
	if err != nil {
		return store.Segment{}, fmt.Errorf("putting segment %q: %w", s.Name, interpretError(err))
	}
	return out, nil
}

// GetSegment returns the segment called name; ErrNotFound when none.
func (q queries) GetSegment(ctx context.Context, name string) (store.Segment, error) {
	s, err := scanSegment(q.db.QueryRow(ctx, sqlGetSegment, args{"name": name}))
	if err != nil {
		return store.Segment{}, fmt.Errorf("getting segment %q: %w", name, interpretError(err))
	}
	return s, nil
}

// ListSegments returns every segment, by name in byte order.
func (q queries) ListSegments(ctx context.Context) ([]store.Segment, error) {
	rows, err := q.db.Query(ctx, sqlListSegments)
	ss, err := collect(rows, err, scanSegment)
	if err != nil {
		return nil, fmt.Errorf("listing segments: %w", interpretError(err))
	}
	return ss, nil
}

// DeleteSegment removes the segment called name; ErrNotFound when none.
func (q queries) DeleteSegment(ctx context.Context, name string) error {
	tag, err := q.db.Exec(ctx, sqlDeleteSegment, args{"name": name})
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("deleting segment %q: %w", name, interpretError(err))
	}
	return nil
}

// planWithValues is the mode of the member queries: pgx's describe-exec,
// on the unnamed statement, which PostgreSQL plans with the values bound,
// so that it folds away the fields that are NULL and can use the indexes
// for the others. A cached statement may, after five runs, settle on a
// generic plan made for no value in particular, which cannot tell an
// unused field from a used one, so cannot use an index for either. The
// price is a round trip more per query (the describe).
const planWithValues = pgx.QueryExecModeDescribeExec

// segmentArgs validates f and returns the arguments of the member queries
// (queries/segments.sql) at now: NULL for each field that is off.
func segmentArgs(f store.SegmentFilter, now time.Time) (args, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	f = f.Normalized()
	a := args{"tags": nil, "any_tags": nil, "attributes": nil, "marketing": nil,
		"active_since": nil, "inactive_before": nil, "locale": nil}
	if f.Tags != nil {
		a["tags"] = f.Tags
	}
	if f.AnyTags != nil {
		a["any_tags"] = f.AnyTags
	}
	if f.Attributes != nil {
		b, err := json.Marshal(f.Attributes)
		if err != nil {
			return nil, fmt.Errorf("encoding attributes: %w", err)
		}
		a["attributes"] = string(b)
	}
	if f.Consent == store.SegmentConsentMarketing {
		a["marketing"] = true
	}
	since, before := f.ActivityBounds(now)
	a["active_since"], a["inactive_before"] = nullTime(since), nullTime(before)
	if f.Locale != "" {
		a["locale"] = f.Locale
	}
	return a, nil
}

// CountSegment returns how many contacts pass f at now.
func (q queries) CountSegment(ctx context.Context, f store.SegmentFilter, now time.Time) (int, error) {
	a, err := segmentArgs(f, now)
	var n int
	if err == nil {
		err = q.db.QueryRow(ctx, sqlCountSegment, planWithValues, a).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("counting segment: %w", interpretError(err))
	}
	return n, nil
}

// SampleSegment returns up to limit contacts passing f at now, at random.
func (q queries) SampleSegment(ctx context.Context, f store.SegmentFilter, now time.Time, limit int) ([]store.Contact, error) {
	a, err := segmentArgs(f, now)
	if err == nil {
		err = store.CheckSampleLimit(limit)
	}
	var cs []store.Contact
	if err == nil {
		a["limit"] = limit
		rows, qerr := q.db.Query(ctx, sqlSampleSegment, planWithValues, a)
		cs, err = collect(rows, qerr, scanContact)
	}
	if err != nil {
		return nil, fmt.Errorf("sampling segment: %w", interpretError(err))
	}
	return cs, nil
}

// ContactsInSegment returns a page of the contacts passing f at now, by ID.
func (q queries) ContactsInSegment(ctx context.Context, f store.SegmentFilter, now time.Time, afterID int64, limit int) ([]store.Contact, error) {
	a, err := segmentArgs(f, now)
	if err == nil {
		err = store.CheckPageLimit(limit)
	}
	var cs []store.Contact
	if err == nil {
		a["after_id"], a["limit"] = afterID, limit
		rows, qerr := q.db.Query(ctx, sqlContactsInSegment, planWithValues, a)
		cs, err = collect(rows, qerr, scanContact)
	}
	if err != nil {
		return nil, fmt.Errorf("listing segment members after contact %d: %w", afterID, interpretError(err))
	}
	return cs, nil
}
