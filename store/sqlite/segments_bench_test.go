package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/yanit/yanit/store"
)

// BenchmarkSegmentCount100k counts segments over 100,000 contacts with the
// shares of the PostgreSQL store's benchmark: every contact has "all"; 1
// in 10 "vip", 1 in 7 "istanbul", 1 in 200 "rare"; the city is one of 7,
// the plan one of 200; the locale tr, tr-TR or en. An op is one
// CountSegment; every query reads every contact (json_each, row by row).
// Run it with
//
//	go test -run XXX -bench SegmentCount ./store/sqlite/
func BenchmarkSegmentCount100k(b *testing.B) {
	ctx := b.Context()
	s, err := openMigrated(ctx, filepath.Join(b.TempDir(), "yanit.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	_, err = s.db.ExecContext(ctx, `
		WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
		INSERT INTO contacts (wa_id, name, locale, last_inbound_at, marketing_opt_out, tags, attributes, created_at, updated_at)
		SELECT printf('90532%07d', i), 'Müşteri ' || i, CASE i % 3 WHEN 0 THEN 'tr' WHEN 1 THEN 'tr-TR' ELSE 'en' END,
		       CASE WHEN i % 4 = 0 THEN NULL ELSE @now - (i % 200) * 86400000000 END,
		       i % 10 = 3,
		       (SELECT json_group_array(t) FROM (
		            SELECT 'all' AS t
		            UNION ALL SELECT 'vip' WHERE i % 10 = 0
		            UNION ALL SELECT 'istanbul' WHERE i % 7 = 0
		            UNION ALL SELECT 'rare' WHERE i % 200 = 1)),
		       json_object('city', CASE i % 7 WHEN 0 THEN 'İstanbul' WHEN 1 THEN 'Ankara' WHEN 2 THEN 'İzmir'
		                                      WHEN 3 THEN 'Bursa' WHEN 4 THEN 'Antalya' WHEN 5 THEN 'Adana' ELSE 'Trabzon' END,
		                   'plan', 'plan-' || (i % 200)),
		       @now, @now
		FROM n`, sql.Named("now", time.Now().UnixMicro()))
	if err != nil {
		b.Fatalf("seeding contacts: %v", err)
	}
	now := time.Now()
	for _, bc := range []struct {
		name string
		f    store.SegmentFilter
	}{
		{"every contact", store.SegmentFilter{}},
		{"tag 10%", store.SegmentFilter{Tags: []string{"vip"}}},
		{"tag 0.5%", store.SegmentFilter{Tags: []string{"rare"}}},
		{"any of two tags 10.5%", store.SegmentFilter{AnyTags: []string{"vip", "rare"}}},
		{"attribute 0.5%", store.SegmentFilter{Attributes: map[string]string{"plan": "plan-7"}}},
		{"locale tr 67%", store.SegmentFilter{Locale: "tr"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var n int
			for b.Loop() {
				var err error
				if n, err = s.CountSegment(ctx, bc.f, now); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "contacts")
		})
	}
}
