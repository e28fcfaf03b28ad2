package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

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
	var filter json.RawMessage
	err := r.Scan(&s.ID, &s.Name, &s.Description, jsonColumn{&filter}, timeColumn{&s.CreatedAt}, timeColumn{&s.UpdatedAt})
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(filter, &s.Filter); err != nil {
		return s, fmt.Errorf("reading the filter of segment %q: %w", s.Name, err)
	}
	return s, nil
}

// PutSegment stores s under its name, replacing the segment of that name.
func (q queries) PutSegment(ctx context.Context, s store.Segment) (store.Segment, error) {
	err := s.Validate()
	var filter []byte
	if err == nil {
		filter, err = json.Marshal(s.Filter.Normalized())
	}
	var out store.Segment
	if err == nil {
		out, err = scanSegment(q.db.QueryRowContext(ctx, sqlPutSegment, sql.Named("name", s.Name),
			sql.Named("description", s.Description), sql.Named("filter", string(filter)), sql.Named("now", unixMicro(now()))))
	}
	if err != nil {
		return store.Segment{}, fmt.Errorf("putting segment %q: %w", s.Name, interpretError(err))
	}
	return out, nil
}

// GetSegment returns the segment called name; ErrNotFound when none.
func (q queries) GetSegment(ctx context.Context, name string) (store.Segment, error) {
	s, err := scanSegment(q.db.QueryRowContext(ctx, sqlGetSegment, sql.Named("name", name)))
	if err != nil {
		return store.Segment{}, fmt.Errorf("getting segment %q: %w", name, interpretError(err))
	}
	return s, nil
}

// ListSegments returns every segment, by name in byte order.
func (q queries) ListSegments(ctx context.Context) ([]store.Segment, error) {
	rows, err := q.db.QueryContext(ctx, sqlListSegments)
	ss, err := collect(rows, err, scanSegment)
	if err != nil {
		return nil, fmt.Errorf("listing segments: %w", interpretError(err))
	}
	return ss, nil
}

// DeleteSegment removes the segment called name; ErrNotFound when none.
func (q queries) DeleteSegment(ctx context.Context, name string) error {
	n, err := rowsAffected(q.db.ExecContext(ctx, sqlDeleteSegment, sql.Named("name", name)))
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("deleting segment %q: %w", name, interpretError(err))
	}
	return nil
}

// segmentArgs validates f and returns the arguments of the member queries
// (queries/segments.sql) at now: NULL for each field that is off.
func segmentArgs(f store.SegmentFilter, now time.Time) ([]any, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	f = f.Normalized()
	var tags, anyTags, attrs, marketing, locale any
	if f.Tags != nil {
		tags = jsonArray(f.Tags)
	}
	if f.AnyTags != nil {
		anyTags = jsonArray(f.AnyTags)
	}
	if f.Attributes != nil {
		b, err := json.Marshal(f.Attributes)
		if err != nil {
			return nil, fmt.Errorf("encoding attributes: %w", err)
		}
		attrs = string(b)
	}
	if f.Consent == store.SegmentConsentMarketing {
		marketing = 1
	}
	if f.Locale != "" {
		locale = f.Locale
	}
	since, before := f.ActivityBounds(now)
	return []any{
		sql.Named("tags", tags), sql.Named("any_tags", anyTags), sql.Named("attributes", attrs),
		sql.Named("marketing", marketing), sql.Named("active_since", unixMicro(since)),
		sql.Named("inactive_before", unixMicro(before)), sql.Named("locale", locale),
	}, nil
}

// CountSegment returns how many contacts pass f at now.
func (q queries) CountSegment(ctx context.Context, f store.SegmentFilter, now time.Time) (int, error) {
	a, err := segmentArgs(f, now)
	var n int
	if err == nil {
		err = q.db.QueryRowContext(ctx, sqlCountSegment, a...).Scan(&n)
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
		rows, qerr := q.db.QueryContext(ctx, sqlSampleSegment, append(a, sql.Named("limit", limit))...)
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
		rows, qerr := q.db.QueryContext(ctx, sqlContactsInSegment,
			append(a, sql.Named("after_id", afterID), sql.Named("limit", limit))...)
		cs, err = collect(rows, qerr, scanContact)
	}
	if err != nil {
		return nil, fmt.Errorf("listing segment members after contact %d: %w", afterID, interpretError(err))
	}
	return cs, nil
}
