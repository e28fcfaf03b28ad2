package postgres

import (
	"time"

	"github.com/yanit/yanit/store"
)

// SegmentCountQuery returns the statement CountSegment runs for f at now,
// and the arguments to run it with, in the mode it runs in, so that tests
// can EXPLAIN it.
func SegmentCountQuery(f store.SegmentFilter, now time.Time) (string, []any, error) {
	a, err := segmentArgs(f, now)
	return sqlCountSegment, []any{planWithValues, a}, err
}
