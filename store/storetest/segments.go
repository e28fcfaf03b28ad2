package storetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yanit/yanit/store"
)

// testContactLabels covers a contact's tags and attributes: an upsert
// without them leaves them, one with them replaces them whole, an empty
// value clears them, bad ones are refused naming the field.
func testContactLabels(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

	plain := must(s.UpsertContact(c, store.ContactUpsert{WaID: "905320000001"}))(t)
	if plain.Tags != nil || plain.Attributes != nil {
		t.Fatalf("contact created without labels = tags %#v attributes %#v, want nil and nil", plain.Tags, plain.Attributes)
	}

	a := must(s.UpsertContact(c, store.ContactUpsert{WaID: "905320000002", Name: "Ayşe",
		Tags: []string{"vip", "İstanbul"}, Attributes: map[string]string{"şehir": "İstanbul", "plan": "altın"}}))(t)
	wantLabels := func(what string, got store.Contact, tags []string, attrs map[string]string) {
		t.Helper()
		if !slices.Equal(got.Tags, tags) || !maps.Equal(got.Attributes, attrs) {
			t.Fatalf("%s: tags %q attributes %q; want %q and %q", what, got.Tags, got.Attributes, tags, attrs)
		}
	}
	wantLabels("created", a, []string{"vip", "İstanbul"}, map[string]string{"şehir": "İstanbul", "plan": "altın"})
	wantLabels("read back", must(s.GetContact(c, a.ID))(t), []string{"vip", "İstanbul"}, map[string]string{"şehir": "İstanbul", "plan": "altın"})

	// An inbound message's upsert names no labels: they stay.
	touched := must(s.UpsertContact(c, store.ContactUpsert{WaID: "905320000002", Seen: t0}))(t)
	wantLabels("after an upsert without labels", touched, []string{"vip", "İstanbul"}, map[string]string{"şehir": "İstanbul", "plan": "altın"})

	// Tags replace the old ones whole; attributes left nil stay.
	retagged := must(s.UpsertContact(c, store.ContactUpsert{WaID: "905320000002", Tags: []string{"yeni"}}))(t)
	wantLabels("retagged", retagged, []string{"yeni"}, map[string]string{"şehir": "İstanbul", "plan": "altın"})
	reattr := must(s.UpsertContact(c, store.ContactUpsert{WaID: "905320000002", Attributes: map[string]string{"plan": "gümüş"}}))(t)
	wantLabels("attributes replaced", reattr, []string{"yeni"}, map[string]string{"plan": "gümüş"})

	// Empty, non-nil values clear them.
	cleared := must(s.UpsertContact(c, store.ContactUpsert{WaID: "905320000002", Tags: []string{}, Attributes: map[string]string{}}))(t)
	wantLabels("cleared", cleared, nil, nil)
	if cleared.ID != a.ID || cleared.Name != "Ayşe" || !cleared.LastInboundAt.Equal(t0) {
		t.Fatalf("cleared contact = %+v, want the same contact with its name and activity", cleared)
	}

	// A contact known by its user id alone gets labels when its wa_id
	// attaches (the general path of the upsert, not the one-statement one).
	byUser := must(s.UpsertContact(c, store.ContactUpsert{UserID: "TR.777", Tags: []string{"bsuid"}}))(t)
	attached := must(s.UpsertContact(c, store.ContactUpsert{WaID: "905320000003", UserID: "TR.777",
		Attributes: map[string]string{"kaynak": "web"}}))(t)
	if attached.ID != byUser.ID {
		t.Fatalf("attaching a wa_id made contact %d, want %d", attached.ID, byUser.ID)
	}
	wantLabels("attached", attached, []string{"bsuid"}, map[string]string{"kaynak": "web"})

	for _, bad := range []struct {
		u     store.ContactUpsert
		field string
	}{
		{store.ContactUpsert{WaID: "905320000009", Tags: []string{"vip", ""}}, "tags"},
		{store.ContactUpsert{WaID: "905320000009", Tags: []string{"v\x00ip"}}, "tags"},
		{store.ContactUpsert{WaID: "905320000009", Attributes: map[string]string{"": "x"}}, "attributes"},
		{store.ContactUpsert{WaID: "905320000009", Attributes: map[string]string{"k": "\x00"}}, "attributes"},
	} {
		_, err := s.UpsertContact(c, bad.u)
		if err == nil || !strings.Contains(err.Error(), bad.field) {
			t.Errorf("upserting %+v: %v, want an error naming %s", bad.u, err, bad.field)
		}
	}
	if _, err := s.GetContact(c, plain.ID+100); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused upsert left a contact: %v", err)
	}

	// ContactsByWaID finds the known wa_ids of a batch, and nothing else.
	found := must(s.ContactsByWaID(c, []string{"905320000002", "905329999999", "", "905320000003"}))(t)
	slices.SortFunc(found, func(x, y store.Contact) int { return strings.Compare(x.WaID, y.WaID) })
	if len(found) != 2 || found[0].ID != a.ID || found[1].ID != byUser.ID || !slices.Equal(found[1].Tags, []string{"bsuid"}) {
		t.Fatalf("ContactsByWaID = %+v, want contacts %d and %d with their labels", found, a.ID, byUser.ID)
	}
	if none := must(s.ContactsByWaID(c, nil))(t); len(none) != 0 {
		t.Fatalf("ContactsByWaID(nil) = %+v, want none", none)
	}
}

// segmentPeople are the contacts of testSegmentFilters, known by name;
// their activity counts back from segmentNow.
var segmentNow = time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)

func seedSegmentPeople(t *testing.T, s store.Store) {
	t.Helper()
	c := ctx(t)
	day := 24 * time.Hour
	people := []struct {
		u      store.ContactUpsert
		optOut bool
	}{
		{u: store.ContactUpsert{WaID: "905321110001", Name: "ayse", Locale: "tr-TR", Seen: segmentNow.Add(-2 * day),
			Tags: []string{"vip", "istanbul"}, Attributes: map[string]string{"city": "İstanbul", "plan": "gold"}}},
		{u: store.ContactUpsert{WaID: "905321110002", Name: "burak", Locale: "tr", Seen: segmentNow.Add(-40 * day),
			Tags: []string{"vip"}, Attributes: map[string]string{"city": "İzmir"}}, optOut: true},
		{u: store.ContactUpsert{WaID: "905321110003", Name: "ceren", Locale: "en",
			Tags: []string{"istanbul"}, Attributes: map[string]string{"city": "İstanbul", "plan": "silver"}}},
		{u: store.ContactUpsert{WaID: "905321110004", Name: "deniz", Locale: "tr_TR", Seen: segmentNow.Add(-100 * day)}},
		{u: store.ContactUpsert{UserID: "TR.555", Name: "emre", Locale: "en-GB", Seen: segmentNow.Add(-10 * day),
			Tags: []string{"yeni"}}},
		// Exactly 30 days: active within 30 days, not inactive for 30.
		// "trv" (Taroko) starts with "tr", but is another language.
		{u: store.ContactUpsert{WaID: "905321110006", Name: "fatma", Locale: "trv", Seen: segmentNow.Add(-30 * day),
			Attributes: map[string]string{`"city"`: "x') OR 1=1 --"}}},
	}
	for _, p := range people {
		got := must(s.UpsertContact(c, p.u))(t)
		if p.optOut {
			must(s.SetMarketingPreference(c, got.ID, true, segmentNow.Add(-day)))(t)
		}
	}
}

// members pages through the members of f with pages of size limit,
// checking that IDs ascend and never repeat, and returns their names.
func members(t *testing.T, s store.Queries, f store.SegmentFilter, limit int) []string {
	t.Helper()
	c := ctx(t)
	var names []string
	var after int64
	for {
		page := must(s.ContactsInSegment(c, f, segmentNow, after, limit))(t)
		if len(page) > limit {
			t.Fatalf("a page of %d contacts for a limit of %d", len(page), limit)
		}
		for _, ct := range page {
			if ct.ID <= after {
				t.Fatalf("contact %d after %d: IDs must ascend", ct.ID, after)
			}
			after = ct.ID
			names = append(names, ct.Name)
		}
		if len(page) < limit {
			break
		}
	}
	slices.Sort(names)
	return names
}

func testSegmentFilters(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	seedSegmentPeople(t, s)

	cases := []struct {
		name string
		f    store.SegmentFilter
		want []string
	}{
		{"every contact", store.SegmentFilter{}, []string{"ayse", "burak", "ceren", "deniz", "emre", "fatma"}},
		{"one tag", store.SegmentFilter{Tags: []string{"vip"}}, []string{"ayse", "burak"}},
		{"all of two tags", store.SegmentFilter{Tags: []string{"istanbul", "vip"}}, []string{"ayse"}},
		{"any of two tags", store.SegmentFilter{AnyTags: []string{"istanbul", "yeni"}}, []string{"ayse", "ceren", "emre"}},
		{"all of and any of", store.SegmentFilter{Tags: []string{"vip"}, AnyTags: []string{"istanbul", "yeni"}}, []string{"ayse"}},
		{"a tag nobody has", store.SegmentFilter{Tags: []string{"vip", "ankara"}}, nil},
		{"tags match case", store.SegmentFilter{Tags: []string{"VIP"}}, nil},
		{"an attribute", store.SegmentFilter{Attributes: map[string]string{"city": "İstanbul"}}, []string{"ayse", "ceren"}},
		{"two attributes", store.SegmentFilter{Attributes: map[string]string{"city": "İstanbul", "plan": "gold"}}, []string{"ayse"}},
		{"attribute values match exactly", store.SegmentFilter{Attributes: map[string]string{"city": "istanbul"}}, nil},
		{"marketing consent", store.SegmentFilter{Consent: store.SegmentConsentMarketing},
			[]string{"ayse", "ceren", "deniz", "emre", "fatma"}},
		{"active within 30 days", store.SegmentFilter{ActiveWithinDays: 30}, []string{"ayse", "emre", "fatma"}},
		{"inactive for 30 days", store.SegmentFilter{InactiveForDays: 30}, []string{"burak", "ceren", "deniz"}},
		{"active within 60, inactive for 7", store.SegmentFilter{ActiveWithinDays: 60, InactiveForDays: 7},
			[]string{"burak", "emre", "fatma"}},
		{"a language, not one it starts", store.SegmentFilter{Locale: "tr"}, []string{"ayse", "burak", "deniz"}},
		{"a language and region", store.SegmentFilter{Locale: "tr-TR"}, []string{"ayse", "deniz"}},
		{"case and underscore", store.SegmentFilter{Locale: "EN_gb"}, []string{"emre"}},
		{"a region the contact lacks", store.SegmentFilter{Locale: "en-US"}, nil},
		{"everything at once", store.SegmentFilter{AnyTags: []string{"istanbul"}, Consent: store.SegmentConsentMarketing,
			Locale: "tr", ActiveWithinDays: 7, Attributes: map[string]string{"plan": "gold"}}, []string{"ayse"}},
		// The filter is data: what looks like SQL matches only itself.
		{"a tag like SQL", store.SegmentFilter{Tags: []string{"vip' OR '1'='1"}}, nil},
		{"attributes like SQL", store.SegmentFilter{Attributes: map[string]string{`"city"`: "x') OR 1=1 --"}}, []string{"fatma"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := must(s.CountSegment(c, tc.f, segmentNow))(t)
			if n != len(tc.want) {
				t.Errorf("count %d, want %d (%v)", n, len(tc.want), tc.want)
			}
			for _, limit := range []int{1, 2, store.MaxSegmentPage} {
				if got := members(t, s, tc.f, limit); !slices.Equal(got, tc.want) {
					t.Errorf("members by pages of %d = %v, want %v", limit, got, tc.want)
				}
			}
			sample := must(s.SampleSegment(c, tc.f, segmentNow, 2))(t)
			if len(sample) != min(2, len(tc.want)) {
				t.Errorf("sample of 2 holds %d contacts, want %d", len(sample), min(2, len(tc.want)))
			}
			for _, ct := range sample {
				if !slices.Contains(tc.want, ct.Name) {
					t.Errorf("sample holds %s, who is not a member", ct.Name)
				}
			}
		})
	}

	// Inside a transaction, the queries see its writes.
	err := s.InTx(c, func(tx store.Queries) error {
		if _, err := tx.UpsertContact(c, store.ContactUpsert{WaID: "905321110002", Tags: []string{"vip", "istanbul"}}); err != nil {
			return err
		}
		n, err := tx.CountSegment(c, store.SegmentFilter{Tags: []string{"istanbul", "vip"}}, segmentNow)
		if err == nil && n != 2 {
			err = fmt.Errorf("count inside the transaction = %d, want 2", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Re-tagging moves a contact between segments at once.
	must(s.UpsertContact(c, store.ContactUpsert{WaID: "905321110001", Tags: []string{"istanbul"}}))(t)
	if got := members(t, s, store.SegmentFilter{Tags: []string{"vip"}}, 10); !slices.Equal(got, []string{"burak"}) {
		t.Errorf("vip after retagging ayse = %v, want [burak]", got)
	}
}

// testSegmentPaging walks a segment larger than a page: the count equals
// the members paged through, each once.
func testSegmentPaging(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	const n = 260
	err := s.InTx(c, func(tx store.Queries) error {
		for i := range n {
			tags := []string{"all"}
			if i%3 == 0 {
				tags = append(tags, "third")
			}
			_, err := tx.UpsertContact(c, store.ContactUpsert{WaID: fmt.Sprintf("90533%07d", i), Name: fmt.Sprint(i), Tags: tags})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []store.SegmentFilter{{}, {Tags: []string{"all"}}, {Tags: []string{"third"}}} {
		count := must(s.CountSegment(c, f, segmentNow))(t)
		got := members(t, s, f, 100)
		if count != len(got) || len(slices.Compact(got)) != len(got) {
			t.Errorf("filter %+v: count %d, %d members paged through (each once: %v)", f, count, len(got), len(slices.Compact(got)) == len(got))
		}
		if want := map[bool]int{true: n, false: (n + 2) / 3}[len(f.Tags) == 0 || f.Tags[0] == "all"]; count != want {
			t.Errorf("filter %+v: count %d, want %d", f, count, want)
		}
	}
	sample := must(s.SampleSegment(c, store.SegmentFilter{}, segmentNow, store.MaxSegmentSample))(t)
	if len(sample) != store.MaxSegmentSample {
		t.Errorf("a sample of %d from %d contacts holds %d", store.MaxSegmentSample, n, len(sample))
	}
	seen := map[int64]bool{}
	for _, ct := range sample {
		if seen[ct.ID] {
			t.Fatalf("the sample holds contact %d twice", ct.ID)
		}
		seen[ct.ID] = true
	}
}

// testBadSegmentFilters: a filter no contact can pass, or a limit out of
// range, is an error naming the field, from every query.
func testBadSegmentFilters(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	must(s.UpsertContact(c, store.ContactUpsert{WaID: "905321110001", Tags: []string{"vip"}}))(t)
	cases := []struct {
		f     store.SegmentFilter
		field string
	}{
		{store.SegmentFilter{Tags: []string{"vip", ""}}, "tags"},
		{store.SegmentFilter{AnyTags: []string{""}}, "any_tags"},
		{store.SegmentFilter{Attributes: map[string]string{"": "İzmir"}}, "attributes"},
		{store.SegmentFilter{Consent: "all"}, "consent"},
		{store.SegmentFilter{ActiveWithinDays: -1}, "active_within_days"},
		{store.SegmentFilter{InactiveForDays: store.MaxSegmentDays + 1}, "inactive_for_days"},
		{store.SegmentFilter{ActiveWithinDays: 7, InactiveForDays: 30}, "active_within_days"},
		{store.SegmentFilter{Locale: "Türkçe"}, "locale"},
	}
	for _, tc := range cases {
		named := func(what string, err error) {
			t.Helper()
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("%s with %+v: %v, want an error naming %s", what, tc.f, err, tc.field)
			}
		}
		_, err := s.CountSegment(c, tc.f, segmentNow)
		named("CountSegment", err)
		_, err = s.SampleSegment(c, tc.f, segmentNow, 10)
		named("SampleSegment", err)
		_, err = s.ContactsInSegment(c, tc.f, segmentNow, 0, 10)
		named("ContactsInSegment", err)
		_, err = s.PutSegment(c, store.Segment{Name: "bad", Filter: tc.f})
		named("PutSegment", err)
	}
	for _, limit := range []int{0, -1, store.MaxSegmentSample + 1} {
		if _, err := s.SampleSegment(c, store.SegmentFilter{}, segmentNow, limit); err == nil || !strings.Contains(err.Error(), "limit") {
			t.Errorf("a sample of %d: %v, want an error naming the limit", limit, err)
		}
	}
	for _, limit := range []int{0, store.MaxSegmentPage + 1} {
		if _, err := s.ContactsInSegment(c, store.SegmentFilter{}, segmentNow, 0, limit); err == nil || !strings.Contains(err.Error(), "limit") {
			t.Errorf("a page of %d: %v, want an error naming the limit", limit, err)
		}
	}
	if got := must(s.ListSegments(c))(t); len(got) != 0 {
		t.Errorf("refused segments were stored: %+v", got)
	}
}

// testSegments covers saving segments: put, replace, get, list, delete.
func testSegments(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	seedSegmentPeople(t, s)

	vip := must(s.PutSegment(c, store.Segment{Name: "vip-istanbul", Description: "İstanbul'daki VIP müşteriler",
		Filter: store.SegmentFilter{Tags: []string{"vip", "istanbul", "vip"}, Locale: "TR_tr", Consent: store.SegmentConsentMarketing}}))(t)
	if vip.ID == 0 || vip.CreatedAt.IsZero() || vip.Description != "İstanbul'daki VIP müşteriler" {
		t.Fatalf("put = %+v", vip)
	}
	// The filter is kept normalized, and finds what it found before.
	wantFilter := store.SegmentFilter{Tags: []string{"istanbul", "vip"}, Locale: "tr-tr", Consent: store.SegmentConsentMarketing}
	got := must(s.GetSegment(c, "vip-istanbul"))(t)
	if got.ID != vip.ID || fmt.Sprint(got.Filter) != fmt.Sprint(wantFilter) {
		t.Fatalf("get = %+v, want filter %+v", got, wantFilter)
	}
	if n := must(s.CountSegment(c, got.Filter, segmentNow))(t); n != 1 {
		t.Fatalf("the stored filter counts %d, want 1 (ayse)", n)
	}

	// Putting the name again replaces description and filter, keeps the
	// ID and creation time.
	time.Sleep(2 * time.Millisecond)
	again := must(s.PutSegment(c, store.Segment{Name: "vip-istanbul", Filter: store.SegmentFilter{ActiveWithinDays: 30,
		Attributes: map[string]string{"city": "İstanbul"}}}))(t)
	if again.ID != vip.ID || !again.CreatedAt.Equal(vip.CreatedAt) || !again.UpdatedAt.After(vip.UpdatedAt) ||
		again.Description != "" || again.Filter.ActiveWithinDays != 30 || again.Filter.Tags != nil ||
		again.Filter.Attributes["city"] != "İstanbul" {
		t.Fatalf("replaced = %+v, first %+v", again, vip)
	}

	must(s.PutSegment(c, store.Segment{Name: "Ankara", Filter: store.SegmentFilter{}}))(t)
	must(s.PutSegment(c, store.Segment{Name: "aktif müşteriler", Filter: store.SegmentFilter{ActiveWithinDays: 7}}))(t)
	var names []string
	for _, sg := range must(s.ListSegments(c))(t) {
		names = append(names, sg.Name)
	}
	if want := []string{"Ankara", "aktif müşteriler", "vip-istanbul"}; !slices.Equal(names, want) {
		t.Fatalf("ListSegments = %v, want %v (byte order)", names, want)
	}

	for _, bad := range []string{"", " vip", "vip\n", strings.Repeat("ş", store.MaxSegmentName+1)} {
		if _, err := s.PutSegment(c, store.Segment{Name: bad}); err == nil || !strings.Contains(err.Error(), "name") {
			t.Errorf("putting a segment named %q: %v, want an error about the name", bad, err)
		}
	}

	if err := s.DeleteSegment(c, "Ankara"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSegment(c, "Ankara"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get after delete: %v, want ErrNotFound", err)
	}
	if err := s.DeleteSegment(c, "Ankara"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting again: %v, want ErrNotFound", err)
	}
	if len(must(s.ListSegments(c))(t)) != 2 {
		t.Fatal("delete removed more than its segment")
	}
}

// testContactBatches covers the batch operations of imports: a batch upsert
// does what one upsert per contact would, in one go, all or none.
func testContactBatches(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	ayse := must(s.UpsertContact(c, store.ContactUpsert{WaID: "905320000001", Name: "Ayşe", Locale: "tr", Seen: t0,
		Tags: []string{"eski"}, Attributes: map[string]string{"şehir": "Bursa"}}))(t)

	got := must(s.UpsertContactsByWaID(c, []store.ContactUpsert{
		{WaID: "905320000002", Name: "Burak", Locale: "tr-TR", Seen: t0, Tags: []string{"vip", "İzmir"},
			Attributes: map[string]string{"şehir": "İzmir"}},
		{WaID: "905320000001", Seen: t0.Add(-time.Hour), Attributes: map[string]string{"plan": "altın"}},
		{WaID: "905320000003"},
	}))(t)
	if len(got) != 3 || got[0].WaID != "905320000002" || got[1].WaID != "905320000001" || got[2].WaID != "905320000003" {
		t.Fatalf("batch upsert returned %+v, want three contacts in the order asked", got)
	}
	burak, a, third := got[0], got[1], got[2]
	if burak.ID == 0 || burak.ID == ayse.ID || burak.Name != "Burak" || burak.Locale != "tr-TR" || !burak.LastInboundAt.Equal(t0) ||
		!slices.Equal(burak.Tags, []string{"vip", "İzmir"}) || !maps.Equal(burak.Attributes, map[string]string{"şehir": "İzmir"}) {
		t.Errorf("new contact = %+v", burak)
	}
	// Empty values and nil labels leave what the contact has; an older
	// Seen does not move its activity back; attributes are replaced whole.
	if a.ID != ayse.ID || a.Name != "Ayşe" || a.Locale != "tr" || !a.LastInboundAt.Equal(t0) ||
		!slices.Equal(a.Tags, []string{"eski"}) || !maps.Equal(a.Attributes, map[string]string{"plan": "altın"}) {
		t.Errorf("updated contact = %+v, was %+v", a, ayse)
	}
	if third.ID == 0 || third.Tags != nil || third.Attributes != nil || !third.LastInboundAt.IsZero() {
		t.Errorf("bare new contact = %+v", third)
	}
	if read := must(s.GetContact(c, burak.ID))(t); read.Name != "Burak" || !slices.Equal(read.Tags, burak.Tags) {
		t.Errorf("read back %+v, want %+v", read, burak)
	}

	again := must(s.UpsertContactsByWaID(c, []store.ContactUpsert{
		{WaID: "905320000001", Tags: []string{}},
		{WaID: "905320000002", Name: "Burak K.", Seen: t0.Add(time.Hour)},
	}))(t)
	if again[0].Tags != nil || again[0].Attributes["plan"] != "altın" {
		t.Errorf("empty tags in a batch: %+v, want the tags cleared and the attributes kept", again[0])
	}
	if again[1].Name != "Burak K." || !again[1].LastInboundAt.Equal(t0.Add(time.Hour)) || again[1].ID != burak.ID {
		t.Errorf("second batch = %+v", again[1])
	}
	if none := must(s.UpsertContactsByWaID(c, nil))(t); len(none) != 0 {
		t.Errorf("an empty batch returned %+v", none)
	}

	// A bad upsert refuses the whole batch, naming it.
	for _, bad := range []struct {
		us   []store.ContactUpsert
		says string
	}{
		{[]store.ContactUpsert{{WaID: "905320000009"}, {WaID: "905320000009", Name: "again"}}, "repeats"},
		{[]store.ContactUpsert{{WaID: "905320000009"}, {WaID: "905320000010", UserID: "TR.1"}}, "user_id"},
		{[]store.ContactUpsert{{WaID: "905320000009"}, {UserID: "TR.1"}}, "wa_id"},
		{[]store.ContactUpsert{{WaID: "905320000009"}, {WaID: "905320000010", Tags: []string{""}}}, "tags"},
	} {
		if _, err := s.UpsertContactsByWaID(c, bad.us); err == nil || !strings.Contains(err.Error(), bad.says) {
			t.Errorf("batch %+v: %v, want an error saying %s", bad.us, err, bad.says)
		}
	}
	// Inside a transaction that rolls back, nothing of a batch stays.
	err := s.InTx(c, func(tx store.Queries) error {
		if _, err := tx.UpsertContactsByWaID(c, []store.ContactUpsert{{WaID: "905320000009"}, {WaID: "905320000001", Name: "X"}}); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if err == nil || err.Error() != "roll back" {
		t.Fatalf("InTx = %v", err)
	}
	if found := must(s.ContactsByWaID(c, []string{"905320000009", "905320000010"}))(t); len(found) != 0 {
		t.Errorf("refused or rolled back batches stored %+v", found)
	}
	if got := must(s.GetContact(c, ayse.ID))(t); got.Name != "Ayşe" {
		t.Errorf("a rolled back batch renamed Ayşe to %q", got.Name)
	}
}
