package campaign_test

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yanit/yanit/campaign"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres/pgtest"
	"github.com/yanit/yanit/store/sqlite"
)

// stores are the stores every import test runs on, each opened new and
// migrated.
var stores = []struct {
	name string
	open func(t testing.TB) store.Store
}{
	{"sqlite", func(t testing.TB) store.Store {
		t.Helper()
		ctx := context.Background()
		s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "yanit.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return s
	}},
	{"postgres", func(t testing.TB) store.Store { t.Helper(); return pgtest.NewStore(t) }},
}

// onStores runs test on each store.
func onStores(t *testing.T, test func(t *testing.T, st store.Store)) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			test(t, s.open(t))
		})
	}
}

func importString(t *testing.T, st store.Store, csv string, opt campaign.ImportOptions) campaign.ImportResult {
	t.Helper()
	res, err := campaign.ImportContacts(t.Context(), st, strings.NewReader(csv), opt)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return res
}

func contactByWaID(t *testing.T, st store.Store, waID string) store.Contact {
	t.Helper()
	cs, err := st.ContactsByWaID(t.Context(), []string{waID})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 {
		t.Fatalf("%d contacts with wa_id %s, want 1", len(cs), waID)
	}
	return cs[0]
}

func countAll(t *testing.T, st store.Store) int {
	t.Helper()
	n, err := st.CountSegment(t.Context(), store.SegmentFilter{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// wantCounts compares the counters of res, leaving Errors to the caller.
func wantCounts(t *testing.T, what string, res campaign.ImportResult, rows, created, updated, unchanged, failed int) {
	t.Helper()
	if res.Rows != rows || res.Created != created || res.Updated != updated || res.Unchanged != unchanged ||
		res.Failed != failed || len(res.Errors) != failed {
		t.Errorf("%s: %d rows, %d created, %d updated, %d unchanged, %d failed (%v); want %d, %d, %d, %d, %d",
			what, res.Rows, res.Created, res.Updated, res.Unchanged, res.Failed, res.Errors,
			rows, created, updated, unchanged, failed)
	}
}

// A spreadsheet export as a Turkish shop sends it: a byte order mark,
// CRLF line ends, numbers written three ways, extra columns, bad rows.
const shopCSV = "\uFEFFphone,name,language,tags,consent,city,plan\r\n" +
	"0532 123 45 67,Ayşe Yılmaz,tr,vip;istanbul,evet,İstanbul,altın\r\n" + // line 2
	"+90 533 765 43 21,Mehmet Öz,tr-TR,yeni|vip,HAYIR,Ankara,\r\n" + // line 3
	"12345,Numarası Yanlış,tr,,yes,İzmir,gümüş\r\n" + // line 4: bad phone
	"905441112233,Zeynep Kaya,en,,\r\n" + // line 5: 5 fields
	"\"0 (542) 111 22 33\",\"Demir, Can\",tr,istanbul,belki,Bursa,\r\n" + // line 6: unknown consent
	"0555 444 33 22,\"Elif\r\nŞahin\",tr,,,İzmir,\r\n" + // lines 7-8: a name on two lines
	"905321234567,Ayşe Y.,tr,istanbul|vip,,İstanbul,altın\r\n" // line 9: Ayşe again, new name

func TestImportContacts(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		res := importString(t, st, shopCSV, campaign.ImportOptions{})
		wantCounts(t, "first import", res, 7, 3, 1, 0, 3)
		wantErrs := []struct {
			line int
			says string
		}{{4, `phone "12345"`}, {5, "5 fields, want 7"}, {6, `consent "belki"`}}
		for i, w := range wantErrs {
			if i >= len(res.Errors) {
				break
			}
			if e := res.Errors[i]; e.Line != w.line || !strings.Contains(e.Reason, w.says) {
				t.Errorf("error %d = line %d %q, want line %d saying %q", i, e.Line, e.Reason, w.line, w.says)
			}
		}
		if got := countAll(t, st); got != 3 {
			t.Errorf("%d contacts stored, want 3", got)
		}

		ayse := contactByWaID(t, st, "905321234567")
		if ayse.Name != "Ayşe Y." || ayse.Locale != "tr" || !slices.Equal(ayse.Tags, []string{"istanbul", "vip"}) ||
			!maps.Equal(ayse.Attributes, map[string]string{"city": "İstanbul", "plan": "altın"}) || ayse.MarketingOptOut {
			t.Errorf("Ayşe = %+v", ayse)
		}
		mehmet := contactByWaID(t, st, "905337654321")
		if mehmet.Locale != "tr-TR" || !slices.Equal(mehmet.Tags, []string{"vip", "yeni"}) ||
			!maps.Equal(mehmet.Attributes, map[string]string{"city": "Ankara"}) || !mehmet.MarketingOptOut {
			t.Errorf("Mehmet = %+v, want opted out, tags vip and yeni, no plan", mehmet)
		}
		if elif := contactByWaID(t, st, "905554443322"); elif.Name != "Elif\nŞahin" {
			t.Errorf("the name across two lines = %q", elif.Name)
		}

		// The same file again creates nobody. Ayşe's two rows disagree on
		// her name, so each import applies both in turn.
		again := importString(t, st, shopCSV, campaign.ImportOptions{})
		wantCounts(t, "same file again", again, 7, 0, 2, 2, 3)
		if got := countAll(t, st); got != 3 {
			t.Errorf("%d contacts after importing again, want 3", got)
		}
	})
}

func TestImportNormalizesNumbers(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		res := importString(t, st, "phone,name\n0532 123 45 67,Ayşe\n+90 532 123 45 67,Ayşe\n905321234567,Ayşe\n"+
			"0090 532 123 4567,Ayşe\n(532) 123-45-67,Ayşe\n", campaign.ImportOptions{})
		wantCounts(t, "five ways to write one number", res, 5, 1, 0, 4, 0)
		if got := countAll(t, st); got != 1 {
			t.Errorf("%d contacts, want 1", got)
		}
		if c := contactByWaID(t, st, "905321234567"); c.Name != "Ayşe" {
			t.Errorf("contact = %+v", c)
		}
	})
}

func TestImportUpdatesWhatTheFileHolds(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		importString(t, st, "phone,name,tags,city,plan\n05321234567,Ayşe,vip;istanbul,İstanbul,altın\n", campaign.ImportOptions{})
		// A file without a plan column keeps the plan; the tags column
		// replaces the tags; an empty city removes the city.
		res := importString(t, st, "phone,tags,city,segment\n05321234567,sadık,,A\n", campaign.ImportOptions{})
		wantCounts(t, "second file", res, 1, 0, 1, 0, 0)
		c := contactByWaID(t, st, "905321234567")
		if c.Name != "Ayşe" || !slices.Equal(c.Tags, []string{"sadık"}) ||
			!maps.Equal(c.Attributes, map[string]string{"plan": "altın", "segment": "A"}) {
			t.Errorf("after the second file: %+v", c)
		}
		res = importString(t, st, "phone,tags,city,segment\n05321234567,sadık,,A\n", campaign.ImportOptions{})
		wantCounts(t, "second file again", res, 1, 0, 0, 1, 0)
		// An empty tags cell clears the tags.
		importString(t, st, "phone,tags\n05321234567,\n", campaign.ImportOptions{})
		if c := contactByWaID(t, st, "905321234567"); c.Tags != nil {
			t.Errorf("tags after an empty cell = %q, want none", c.Tags)
		}
	})
}

func TestImportConsent(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		// A contact who wrote STOP on WhatsApp (no consent record: the
		// flag alone, as user_preferences before consents existed).
		stopped, err := st.UpsertContact(ctx, store.ContactUpsert{WaID: "905321234567"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.SetMarketingPreference(ctx, stopped.ID, true, time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		// A contact who refused with a button last week: their record is
		// theirs, the file must not add one.
		refused, err := st.UpsertContact(ctx, store.ContactUpsert{WaID: "905551112233"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.RecordConsent(ctx, store.Consent{ContactID: refused.ID, Purpose: store.PurposeMarketing,
			Granted: false, Source: store.ConsentByButton, At: time.Now().Add(-7 * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		const file = "phone,consent\n0532 123 45 67,yes\n0533 765 43 21,no\n0544 111 22 33,Evet\n0555 111 22 33,yes\n"
		first := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
		res := importString(t, st, file, campaign.ImportOptions{Now: first, Actor: privacy.ActorCLI})
		wantCounts(t, "consents", res, 4, 2, 0, 2, 0)
		if res.OptOutsKept != 2 || res.Consents != 2 {
			t.Errorf("%d opt-outs kept, %d consents recorded; want 2 and 2", res.OptOutsKept, res.Consents)
		}
		if c := contactByWaID(t, st, "905321234567"); !c.MarketingOptOut {
			t.Error("an import's yes resumed marketing for a contact who stopped it")
		}
		if c := contactByWaID(t, st, "905551112233"); !c.MarketingOptOut {
			t.Error("an import's yes resumed marketing for a contact who refused it")
		}
		no, yes := contactByWaID(t, st, "905337654321"), contactByWaID(t, st, "905441112233")
		if !no.MarketingOptOut || yes.MarketingOptOut {
			t.Errorf("opted out: no %v, yes %v; want true, false", no.MarketingOptOut, yes.MarketingOptOut)
		}
		for _, tc := range []struct {
			c       store.Contact
			granted bool
			action  string
		}{{yes, true, "consent.given"}, {no, false, "consent.refused"}} {
			cur, err := st.CurrentConsents(ctx, tc.c.ID)
			if err != nil || len(cur) != 1 || cur[0].Purpose != store.PurposeMarketing || cur[0].Granted != tc.granted ||
				cur[0].Source != store.ConsentByImport || !cur[0].At.Equal(first) {
				t.Errorf("consents of %s: %+v, %v; want one marketing record, granted %v, by import at %v",
					tc.c.WaID, cur, err, tc.granted, first)
			}
			audit, err := st.ListAudit(ctx, store.AuditFilter{Target: privacy.ContactTarget(tc.c.ID)})
			if err != nil || len(audit) != 1 || audit[0].Action != tc.action || audit[0].Actor != privacy.ActorCLI.Name {
				t.Errorf("audit of %s: %+v, %v; want one %s by cli", tc.c.WaID, audit, err, tc.action)
			}
		}
		if cur, err := st.CurrentConsents(ctx, stopped.ID); err != nil || len(cur) != 0 {
			t.Errorf("the stopped contact got consent records %+v, %v", cur, err)
		}
		n, err := st.CountSegment(ctx, store.SegmentFilter{Consent: store.SegmentConsentMarketing}, time.Time{})
		if err != nil || n != 1 {
			t.Errorf("contacts open to marketing: %d, %v; want 1 (0544…)", n, err)
		}

		// The contact opts out on WhatsApp; the same file imported again
		// must not resubscribe them, nor record anything new.
		if _, err := privacy.RecordConsent(ctx, st, store.Consent{ContactID: yes.ID, Purpose: store.PurposeMarketing,
			Source: store.ConsentByKeyword, At: first.Add(30 * time.Second)}, privacy.Actor{}); err != nil {
			t.Fatal(err)
		}
		res = importString(t, st, file, campaign.ImportOptions{Actor: privacy.ActorCLI})
		wantCounts(t, "the same file again", res, 4, 0, 0, 4, 0)
		if res.Consents != 0 || res.OptOutsKept != 3 {
			t.Errorf("again: %d consents recorded, %d opt-outs kept; want 0 and 3", res.Consents, res.OptOutsKept)
		}
		if c := contactByWaID(t, st, "905441112233"); !c.MarketingOptOut {
			t.Error("importing the file again resubscribed a contact who opted out")
		}
		if all, err := st.ListConsents(ctx, yes.ID); err != nil || len(all) != 2 {
			t.Errorf("records of the contact who opted out: %d, %v; want 2 (the import's, theirs)", len(all), err)
		}

		// A known contact without a record gets one granted record; "yes"
		// imported again adds none.
		known, err := st.UpsertContact(ctx, store.ContactUpsert{WaID: "905061234567"})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			importString(t, st, "phone,consent\n0506 123 45 67,yes\n", campaign.ImportOptions{})
		}
		if all, err := st.ListConsents(ctx, known.ID); err != nil || len(all) != 1 || !all[0].Granted {
			t.Errorf("records after two imports with yes: %+v, %v; want one granted", all, err)
		}
	})
}

func TestImportSeparatorsAndBatches(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		// Excel in Turkish writes ';'; tags then go with '|'. A number
		// repeated across batches stays one contact.
		csv := "Telefon;phone;Name;Tags\nev;0532 111 11 11;Ali;a|b\nev;0532 222 22 22;Veli;\n" +
			"iş;0532 333 33 33;Deniz;c\niş;0532 111 11 11;Ali Can;a|b\n;0532 444 44 44;Ece;\n"
		res := importString(t, st, csv, campaign.ImportOptions{BatchSize: 2})
		wantCounts(t, "semicolons in batches of 2", res, 5, 4, 1, 0, 0)
		ali := contactByWaID(t, st, "905321111111")
		if ali.Name != "Ali Can" || !slices.Equal(ali.Tags, []string{"a", "b"}) || ali.Attributes["Telefon"] != "iş" {
			t.Errorf("Ali = %+v", ali)
		}
		if ece := contactByWaID(t, st, "905324444444"); ece.Attributes != nil {
			t.Errorf("an empty attribute cell stored %q", ece.Attributes)
		}
	})
}

func TestImportBadFiles(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		for _, tc := range []struct {
			name, csv string
			opt       campaign.ImportOptions
			says      string
		}{
			{"no phone column", "name,telefon\nAyşe,05321234567\n", campaign.ImportOptions{}, `no "phone" column`},
			{"empty file", "", campaign.ImportOptions{}, "empty"},
			{"only a byte order mark", "\uFEFF", campaign.ImportOptions{}, "empty"},
			{"a column twice", "phone,city,City\n05321234567,a,b\n", campaign.ImportOptions{}, `"City"`},
			{"a column without a name", "phone,,city\n05321234567,a,b\n", campaign.ImportOptions{}, "column 2"},
			{"an unknown region", "phone\n05321234567\n", campaign.ImportOptions{Region: "XX"}, `region "XX"`},
			{"a batch too large", "phone\n05321234567\n", campaign.ImportOptions{BatchSize: campaign.MaxBatchSize + 1}, "batch size"},
		} {
			res, err := campaign.ImportContacts(t.Context(), st, strings.NewReader(tc.csv), tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("%s: %v, want an error saying %s", tc.name, err, tc.says)
			}
			if res.Rows != 0 {
				t.Errorf("%s: read %d rows", tc.name, res.Rows)
			}
		}
		if got := countAll(t, st); got != 0 {
			t.Errorf("bad files stored %d contacts", got)
		}

		// A quote CSV cannot read fails its row only.
		res := importString(t, st, "phone,name\n05321234567,Ay\"şe\n05337654321,Mehmet\n", campaign.ImportOptions{})
		wantCounts(t, "a bare quote", res, 2, 1, 0, 0, 1)
		if len(res.Errors) == 1 && res.Errors[0].Line != 2 {
			t.Errorf("the bare quote is reported on line %d, want 2", res.Errors[0].Line)
		}

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := campaign.ImportContacts(ctx, st, strings.NewReader("phone\n05441112233\n"), campaign.ImportOptions{}); err == nil {
			t.Error("an import with a cancelled context succeeded")
		}
	})
}

func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct {
		in, region, want, says string
	}{
		{in: "0532 123 45 67", region: "TR", want: "+905321234567"},
		{in: "+90 (532) 123-45-67", region: "TR", want: "+905321234567"},
		{in: "905321234567", region: "tr", want: "+905321234567"},
		{in: "0212 555 12 12", region: "TR", want: "+902125551212"},
		{in: "+49 151 12345678", region: "TR", want: "+4915112345678"},
		{in: "0151 12345678", region: "DE", want: "+4915112345678"},
		{in: "4915112345678", region: "TR", says: "+ and the country code"},
		{in: "0532 123 45 6", region: "TR", says: "not a valid number"},
		{in: "merhaba", region: "TR", says: "not a phone number"},
		{in: "0532 123 45 67 ext. 12", region: "TR", says: "extension"},
		{in: " ", region: "TR", says: "empty"},
		{in: "0532 123 45 67", region: "TÜRKİYE", says: "region"},
	} {
		got, err := campaign.NormalizePhone(tc.in, tc.region)
		switch {
		case tc.says == "" && (err != nil || got != tc.want):
			t.Errorf("NormalizePhone(%q, %s) = %q, %v; want %q", tc.in, tc.region, got, err, tc.want)
		case tc.says != "" && (err == nil || !strings.Contains(err.Error(), tc.says)):
			t.Errorf("NormalizePhone(%q, %s) = %q, %v; want an error saying %q", tc.in, tc.region, got, err, tc.says)
		}
	}
}
