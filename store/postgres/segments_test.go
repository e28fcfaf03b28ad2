package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres"
	"github.com/yanit/yanit/store/postgres/pgtest"
)

// seedSegmentContacts inserts n contacts in one statement, with tags,
// attributes, activity and opt-outs in known shares, and analyzes the
// table: every contact has "all"; 1 in 10 "vip", 1 in 7 "istanbul", 1 in
// 200 "rare"; the city is one of 7, the plan one of 200; 1 in 4 never
// wrote, the others wrote 0 to 199 days ago; 1 in 10 opted out; the
// locale is tr, tr-TR or en. It vacuums the table as autovacuum would
// soon after, which also moves the GIN indexes' pending entries into
// their trees (a plain ANALYZE does not).
func seedSegmentContacts(ctx context.Context, tb testing.TB, s *postgres.Store, n int) {
	tb.Helper()
	_, err := s.Pool().Exec(ctx, `
		INSERT INTO contacts (wa_id, name, locale, last_inbound_at, marketing_opt_out, marketing_pref_at, tags, attributes)
		SELECT '90532' || lpad(i::text, 7, '0'), 'Müşteri ' || i, (ARRAY['tr', 'tr-TR', 'en'])[1 + i % 3],
		       CASE WHEN i % 4 = 0 THEN NULL ELSE now() - (i % 200) * interval '1 day' END,
		       i % 10 = 3, CASE WHEN i % 10 = 3 THEN now() END,
		       ARRAY['all']
		           || CASE WHEN i % 10 = 0 THEN ARRAY['vip'] ELSE '{}' END
		           || CASE WHEN i % 7 = 0 THEN ARRAY['istanbul'] ELSE '{}' END
		           || CASE WHEN i % 200 = 1 THEN ARRAY['rare'] ELSE '{}' END,
		       jsonb_build_object('city', (ARRAY['İstanbul', 'Ankara', 'İzmir', 'Bursa', 'Antalya', 'Adana', 'Trabzon'])[1 + i % 7],
		                          'plan', 'plan-' || (i % 200))
		FROM generate_series(1, $1::int) AS i`, n)
	if err == nil {
		_, err = s.Pool().Exec(ctx, "VACUUM ANALYZE contacts")
	}
	if err != nil {
		tb.Fatalf("seeding %d contacts: %v", n, err)
	}
}

// TestSegmentCountUsesIndexes: a count by a selective tag or attribute,
// planned as CountSegment runs it (with its values), reads the GIN index,
// not every contact.
func TestSegmentCountUsesIndexes(t *testing.T) {
	s := pgtest.NewStore(t)
	ctx := testContext(t)
	const n = 50_000
	seedSegmentContacts(ctx, t, s, n)
	for _, tc := range []struct {
		f     store.SegmentFilter
		index string
		want  int
	}{
		{store.SegmentFilter{Tags: []string{"rare"}}, "contacts_tags", n / 200},
		{store.SegmentFilter{AnyTags: []string{"rare", "nobody"}}, "contacts_tags", n / 200},
		{store.SegmentFilter{Attributes: map[string]string{"plan": "plan-7"}}, "contacts_attributes", n / 200},
		{store.SegmentFilter{Tags: []string{"rare"}, Consent: store.SegmentConsentMarketing, ActiveWithinDays: 365, Locale: "tr"},
			"contacts_tags", -1},
	} {
		stmt, a, err := postgres.SegmentCountQuery(tc.f, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		rows, err := s.Pool().Query(ctx, "EXPLAIN "+stmt, a...)
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(must(pgx.CollectRows(rows, pgx.RowTo[string]))(t), "\n")
		if !strings.Contains(plan, "Bitmap Index Scan on "+tc.index) {
			t.Errorf("count of %+v does not read %s:\n%s", tc.f, tc.index, plan)
		}
		if got := must(s.CountSegment(ctx, tc.f, time.Now()))(t); tc.want >= 0 && got != tc.want {
			t.Errorf("count of %+v = %d, want %d", tc.f, got, tc.want)
		}
	}
}

// BenchmarkSegmentCount100k counts segments over 100,000 contacts (see
// seedSegmentContacts for the shares); an op is one CountSegment. Run it
// with
//
//	go test -run XXX -bench SegmentCount ./store/postgres/
func BenchmarkSegmentCount100k(b *testing.B) {
	s := pgtest.NewStore(b)
	ctx := b.Context()
	seedSegmentContacts(ctx, b, s, 100_000)
	now := time.Now()
	for _, bc := range []struct {
		name string
		f    store.SegmentFilter
	}{
		{"every contact", store.SegmentFilter{}},
		{"tag 10%", store.SegmentFilter{Tags: []string{"vip"}}},
		{"tag 0.5%", store.SegmentFilter{Tags: []string{"rare"}}},
		{"two tags 1.4%", store.SegmentFilter{Tags: []string{"vip", "istanbul"}}},
		{"any of two tags 10.5%", store.SegmentFilter{AnyTags: []string{"vip", "rare"}}},
		{"attribute 0.5%", store.SegmentFilter{Attributes: map[string]string{"plan": "plan-7"}}},
		{"attribute 14%, consent, active 30d", store.SegmentFilter{Attributes: map[string]string{"city": "İzmir"},
			Consent: store.SegmentConsentMarketing, ActiveWithinDays: 30}},
		{"locale tr 67%", store.SegmentFilter{Locale: "tr"}},
		{"tag 0.5%, consent, locale, active 7d", store.SegmentFilter{Tags: []string{"rare"},
			Consent: store.SegmentConsentMarketing, Locale: "tr", ActiveWithinDays: 7}},
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
	b.Run("page through tag 10% by 1000", func(b *testing.B) {
		f := store.SegmentFilter{Tags: []string{"vip"}}
		for b.Loop() {
			var after int64
			total := 0
			for {
				page, err := s.ContactsInSegment(ctx, f, now, after, 1000)
				if err != nil {
					b.Fatal(err)
				}
				total += len(page)
				if len(page) < 1000 {
					break
				}
				after = page[len(page)-1].ID
			}
			if total != 10_000 {
				b.Fatalf("paged through %d members, want 10000", total)
			}
		}
	})
}
