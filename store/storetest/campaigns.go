package storetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/store"
)

// newCampaign is a valid campaign of the name, on segment "herkes".
func newCampaign(name string) store.Campaign {
	return store.Campaign{Name: name, PhoneNumberID: "1001", Template: "kampanya", Language: "tr", Category: "marketing",
		Segment: "herkes", CreatedBy: "ayse",
		Params: []store.CampaignParam{{Source: store.ParamName, Default: "Müşterimiz"},
			{Source: store.ParamAttr, Attribute: "city", Default: "İstanbul"}}}
}

// testCampaigns covers making, reading, listing and deleting campaigns,
// and the fields a bad one is refused for.
func testCampaigns(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)

	draft := must(s.CreateCampaign(c, newCampaign("Bahar indirimi")))(t)
	if draft.ID == 0 || draft.Status != store.CampaignDraft || draft.CreatedAt.IsZero() || !draft.StartedAt.IsZero() ||
		draft.Materialized || draft.Cursor != 0 || !draft.Filter.IsZero() {
		t.Fatalf("created = %+v, want a draft with an id, not started", draft)
	}
	if !slices.Equal(draft.Params, newCampaign("").Params) || draft.Category != "marketing" || draft.CreatedBy != "ayse" {
		t.Fatalf("created params %+v category %q by %q; want them as given", draft.Params, draft.Category, draft.CreatedBy)
	}
	for _, got := range []store.Campaign{must(s.GetCampaign(c, "Bahar indirimi"))(t), must(s.GetCampaignByID(c, draft.ID))(t)} {
		if got.Name != draft.Name || !slices.Equal(got.Params, draft.Params) || got.Status != store.CampaignDraft ||
			!got.CreatedAt.Equal(draft.CreatedAt) {
			t.Fatalf("read back %+v, want %+v", got, draft)
		}
	}
	at := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	sched := newCampaign("Yılbaşı")
	sched.Params, sched.ScheduledAt, sched.TimeZone = nil, at, "Europe/Istanbul"
	scheduled := must(s.CreateCampaign(c, sched))(t)
	if scheduled.Status != store.CampaignScheduled || !scheduled.ScheduledAt.Equal(at) || scheduled.TimeZone != "Europe/Istanbul" ||
		scheduled.Params != nil {
		t.Fatalf("created with a time = %+v, want scheduled at %v in Europe/Istanbul, no params", scheduled, at)
	}
	if _, err := s.CreateCampaign(c, newCampaign("Bahar indirimi")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a second campaign of a name: %v, want ErrConflict", err)
	}
	list := must(s.ListCampaigns(c))(t)
	if len(list) != 2 || list[0].Name != "Yılbaşı" || list[1].Name != "Bahar indirimi" {
		t.Fatalf("ListCampaigns = %v, want the newest first", campaignNames(list))
	}
	if _, err := s.GetCampaign(c, "yok"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetCampaign(missing): %v, want ErrNotFound", err)
	}
	if _, err := s.GetCampaignByID(c, 424242); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetCampaignByID(missing): %v, want ErrNotFound", err)
	}

	for _, tc := range []struct {
		name string
		edit func(*store.Campaign)
		says string
	}{
		{"no name", func(k *store.Campaign) { k.Name = "" }, "name: empty"},
		{"spaces", func(k *store.Campaign) { k.Name = " x" }, "spaces"},
		{"long name", func(k *store.Campaign) { k.Name = strings.Repeat("ş", store.MaxCampaignName+1) }, "longer"},
		{"no number", func(k *store.Campaign) { k.PhoneNumberID = "" }, "business number"},
		{"no template", func(k *store.Campaign) { k.Template = "" }, "template is empty"},
		{"no language", func(k *store.Campaign) { k.Language = "" }, "language"},
		{"no segment", func(k *store.Campaign) { k.Segment = "" }, "segment"},
		{"bad status", func(k *store.Campaign) { k.Status = "sent" }, `status "sent"`},
		{"bad source", func(k *store.Campaign) { k.Params[1].Source = "city" }, `parameter {{2}}: source "city"`},
		{"attr without name", func(k *store.Campaign) { k.Params[1].Attribute = "" }, "{{2}}: source attr: the attribute"},
		{"empty text", func(k *store.Campaign) { k.Params[0] = store.CampaignParam{Source: store.ParamText} }, "{{1}}: source text"},
		{"bad zone", func(k *store.Campaign) { k.TimeZone = "Mars/Olympus" }, `time zone "Mars/Olympus"`},
	} {
		k := newCampaign("kötü " + tc.name)
		tc.edit(&k)
		if _, err := s.CreateCampaign(c, k); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: CreateCampaign error %v, want one saying %q", tc.name, err, tc.says)
		}
	}
	if n := len(must(s.ListCampaigns(c))(t)); n != 2 {
		t.Fatalf("%d campaigns after the refused ones, want 2", n)
	}

	// Only a campaign that never ran is deleted.
	must(s.MoveCampaign(c, draft.ID, store.CampaignDraft, store.CampaignRunning, time.Now(), store.CampaignMove{}))(t)
	if err := s.DeleteCampaign(c, draft.ID); !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "running") {
		t.Fatalf("deleting a running campaign: %v, want ErrConflict naming its status", err)
	}
	if err := s.DeleteCampaign(c, scheduled.ID); err != nil {
		t.Fatalf("deleting a scheduled campaign: %v", err)
	}
	if err := s.DeleteCampaign(c, scheduled.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting it again: %v, want ErrNotFound", err)
	}
}

func campaignNames(cs []store.Campaign) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// testCampaignMoves covers the state machine: every legal move, every
// illegal one refused naming both statuses, a stale move losing its race,
// and what the moves record.
func testCampaignMoves(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

	// Each status, and every move out of it.
	statuses := store.CampaignStatuses
	reach := map[string][]string{ // a path from draft to each status
		store.CampaignDraft:     nil,
		store.CampaignScheduled: {store.CampaignScheduled},
		store.CampaignRunning:   {store.CampaignRunning},
		store.CampaignPaused:    {store.CampaignRunning, store.CampaignPaused},
		store.CampaignCancelled: {store.CampaignCancelled},
		store.CampaignDone:      {store.CampaignRunning, store.CampaignDone},
	}
	later := store.CampaignMove{ScheduledAt: t0.Add(10000 * time.Hour), TimeZone: "UTC"} // never due below
	n := 0
	for _, from := range statuses {
		for _, to := range statuses {
			n++
			k := must(s.CreateCampaign(c, newCampaign(fmt.Sprintf("k%d", n))))(t)
			for _, step := range reach[from] {
				k = must(s.MoveCampaign(c, k.ID, k.Status, step, t0, later))(t)
			}
			got, err := s.MoveCampaign(c, k.ID, from, to, t0.Add(time.Hour), later)
			legal := store.CanMoveCampaign(from, to)
			switch {
			case legal && (err != nil || got.Status != to):
				t.Errorf("%s → %s: %+v, %v; want the move made", from, to, got.Status, err)
			case !legal && !errors.Is(err, store.ErrIllegalMove):
				t.Errorf("%s → %s: %v, want ErrIllegalMove", from, to, err)
			case !legal && (!strings.Contains(err.Error(), from) || !strings.Contains(err.Error(), to)):
				t.Errorf("%s → %s: error %q names not both statuses", from, to, err)
			}
		}
	}
	for _, final := range []string{store.CampaignDone, store.CampaignCancelled} {
		if len(store.CampaignMoves[final]) != 0 {
			t.Errorf("%s has moves %v; it is final", final, store.CampaignMoves[final])
		}
	}

	// What the moves record.
	k := must(s.CreateCampaign(c, newCampaign("kayıt")))(t)
	at := t0.Add(48 * time.Hour)
	k = must(s.MoveCampaign(c, k.ID, store.CampaignDraft, store.CampaignScheduled, t0, store.CampaignMove{ScheduledAt: at, TimeZone: "Europe/Istanbul"}))(t)
	if !k.ScheduledAt.Equal(at) || k.TimeZone != "Europe/Istanbul" || !k.UpdatedAt.Equal(t0) {
		t.Fatalf("scheduled = %+v, want at %v in Europe/Istanbul, updated at %v", k, at, t0)
	}
	if due := must(s.DueCampaigns(c, at.Add(-time.Second)))(t); len(due) != 0 {
		t.Fatalf("due a second early: %v", campaignNames(due))
	}
	if due := must(s.DueCampaigns(c, at))(t); len(due) != 1 || due[0].ID != k.ID {
		t.Fatalf("due at its time: %v, want [kayıt]", campaignNames(due))
	}
	filter := store.SegmentFilter{Tags: []string{"vip"}, Consent: store.SegmentConsentMarketing}
	started := t0.Add(49 * time.Hour)
	k = must(s.MoveCampaign(c, k.ID, store.CampaignScheduled, store.CampaignRunning, started, store.CampaignMove{Filter: filter}))(t)
	if !k.StartedAt.Equal(started) || !slices.Equal(k.Filter.Tags, filter.Tags) || k.Filter.Consent != filter.Consent {
		t.Fatalf("started = %+v, want started at %v with the filter", k, started)
	}
	if due := must(s.DueCampaigns(c, at))(t); len(due) != 0 {
		t.Fatalf("a running campaign is due: %v", campaignNames(due))
	}
	// A stale move loses: the campaign is no longer scheduled.
	if _, err := s.MoveCampaign(c, k.ID, store.CampaignScheduled, store.CampaignRunning, started, store.CampaignMove{}); !errors.Is(err, store.ErrConflict) ||
		!strings.Contains(err.Error(), "running") {
		t.Fatalf("moving from a status it left: %v, want ErrConflict naming running", err)
	}
	k = must(s.MoveCampaign(c, k.ID, store.CampaignRunning, store.CampaignPaused, started.Add(time.Minute), store.CampaignMove{}))(t)
	// Running again keeps the first start and its filter.
	k = must(s.MoveCampaign(c, k.ID, store.CampaignPaused, store.CampaignRunning, started.Add(2*time.Minute),
		store.CampaignMove{Filter: store.SegmentFilter{Locale: "en"}}))(t)
	if !k.StartedAt.Equal(started) || k.Filter.Locale != "" || !slices.Equal(k.Filter.Tags, filter.Tags) {
		t.Fatalf("resumed = %+v, want the first start and filter kept", k)
	}
	if !k.FinishedAt.IsZero() {
		t.Fatalf("finished at %v before it finished", k.FinishedAt)
	}
	done := started.Add(time.Hour)
	k = must(s.MoveCampaign(c, k.ID, store.CampaignRunning, store.CampaignDone, done, store.CampaignMove{}))(t)
	if !k.FinishedAt.Equal(done) {
		t.Fatalf("done at %v, want %v", k.FinishedAt, done)
	}
	if _, err := s.MoveCampaign(c, 424242, store.CampaignDraft, store.CampaignRunning, t0, store.CampaignMove{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("moving a missing campaign: %v, want ErrNotFound", err)
	}
}

// campaignPeople makes n contacts (wa_ids 90532100000i), each with a
// conversation on 1001, and returns them.
func campaignPeople(t *testing.T, s store.Queries, n int) []store.Contact {
	t.Helper()
	c := ctx(t)
	out := make([]store.Contact, n)
	for i := range n {
		out[i] = must(s.UpsertContact(c, store.ContactUpsert{WaID: fmt.Sprintf("9053210%05d", i), Name: fmt.Sprintf("Kişi %d", i),
			Attributes: map[string]string{"city": "Ankara"}}))(t)
	}
	return out
}

// testCampaignRecipients covers recipient rows: inserted once per contact
// whatever the retries, the dispatcher's cursor, the sender's pending
// batches, queueing and skipping each once.
func testCampaignRecipients(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	people := campaignPeople(t, s, 6)
	k := must(s.CreateCampaign(c, newCampaign("alıcılar")))(t)
	k = must(s.MoveCampaign(c, k.ID, store.CampaignDraft, store.CampaignRunning, time.Now(), store.CampaignMove{}))(t)

	page := []store.CampaignRecipient{
		{ContactID: people[0].ID, Status: store.RecipientPending},
		{ContactID: people[1].ID, Status: store.RecipientSkipped, SkipReason: store.SkipOptedOut},
		{ContactID: people[2].ID, Status: store.RecipientPending},
	}
	if n := must(s.AddCampaignRecipients(c, k.ID, page, people[2].ID, false))(t); n != 3 {
		t.Fatalf("inserted %d, want 3", n)
	}
	// The same page again (a dispatcher restarted before it saw its
	// commit) adds nobody; the next page adds its own.
	if n := must(s.AddCampaignRecipients(c, k.ID, page, people[2].ID, false))(t); n != 0 {
		t.Fatalf("the same page again inserted %d, want 0", n)
	}
	next := []store.CampaignRecipient{
		{ContactID: people[2].ID, Status: store.RecipientSkipped, SkipReason: store.SkipNoConsent}, // seen again: kept as it was
		{ContactID: people[3].ID, Status: store.RecipientSkipped, SkipReason: store.SkipNoConsent},
		{ContactID: people[4].ID, Status: store.RecipientPending},
		{ContactID: people[5].ID, Status: store.RecipientPending},
	}
	if n := must(s.AddCampaignRecipients(c, k.ID, next, people[5].ID, true))(t); n != 3 {
		t.Fatalf("the next page inserted %d, want 3", n)
	}
	k = must(s.GetCampaignByID(c, k.ID))(t)
	if k.Cursor != people[5].ID || !k.Materialized {
		t.Fatalf("cursor %d materialized %v, want %d and true", k.Cursor, k.Materialized, people[5].ID)
	}
	// An old page never moves the cursor back, nor unsets materialized.
	must(s.AddCampaignRecipients(c, k.ID, nil, people[1].ID, false))(t)
	if k = must(s.GetCampaignByID(c, k.ID))(t); k.Cursor != people[5].ID || !k.Materialized {
		t.Fatalf("after an old page: cursor %d materialized %v", k.Cursor, k.Materialized)
	}
	for _, tc := range []struct {
		name string
		rs   []store.CampaignRecipient
		says string
	}{
		{"no contact", []store.CampaignRecipient{{Status: store.RecipientPending}}, "no contact"},
		{"twice", []store.CampaignRecipient{{ContactID: 1, Status: store.RecipientPending}, {ContactID: 1, Status: store.RecipientPending}}, "repeats"},
		{"queued", []store.CampaignRecipient{{ContactID: 1, Status: store.RecipientQueued}}, `status "queued"`},
		{"no reason", []store.CampaignRecipient{{ContactID: 1, Status: store.RecipientSkipped}}, "skip reason"},
		{"unknown reason", []store.CampaignRecipient{{ContactID: 1, Status: store.RecipientSkipped, SkipReason: "bored"}}, `"bored"`},
		{"pending with a reason", []store.CampaignRecipient{{ContactID: 1, Status: store.RecipientPending, SkipReason: store.SkipOptedOut}}, "pending with"},
	} {
		if _, err := s.AddCampaignRecipients(c, k.ID, tc.rs, 0, false); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.says)
		}
	}
	if _, err := s.AddCampaignRecipients(c, 424242, page, 0, false); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("recipients of a missing campaign: %v, want ErrNotFound", err)
	}

	// Pending recipients come by contact, with the contact.
	pending := must(s.PendingRecipients(c, k.ID, 0, 2))(t)
	if len(pending) != 2 || pending[0].ContactID != people[0].ID || pending[1].ContactID != people[2].ID ||
		pending[0].Contact.WaID != people[0].WaID || pending[0].Contact.Attributes["city"] != "Ankara" ||
		pending[0].Status != store.RecipientPending {
		t.Fatalf("PendingRecipients(2) = %+v, want contacts 0 and 2 with their records", pending)
	}
	conv := must(s.OpenConversation(c, people[0].ID, "1001"))(t)
	msg := must(s.InsertMessage(c, store.Message{ConversationID: conv.ID, Direction: store.Outbound, Type: "template", Status: store.StatusQueued}))(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := s.MarkRecipientQueued(c, k.ID, people[0].ID, msg.ID, now); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkRecipientQueued(c, k.ID, people[0].ID, msg.ID, now); !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "queued") {
		t.Fatalf("queueing a recipient twice: %v, want ErrConflict saying queued", err)
	}
	if err := s.SkipRecipient(c, k.ID, people[0].ID, store.SkipOptedOut, now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("skipping a queued recipient: %v, want ErrConflict", err)
	}
	if err := s.MarkRecipientQueued(c, k.ID, 424242, msg.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("queueing a contact the campaign has not: %v, want ErrNotFound", err)
	}
	if err := s.SkipRecipient(c, k.ID, people[2].ID, "bored", now); err == nil || !strings.Contains(err.Error(), "bored") {
		t.Fatalf("skipping for an unknown reason: %v", err)
	}
	if err := s.SkipRecipient(c, k.ID, people[2].ID, store.SkipInvalidParams, now); err != nil {
		t.Fatal(err)
	}
	// One message is one recipient's: a second recipient cannot claim it.
	k2 := must(s.CreateCampaign(c, newCampaign("ikinci")))(t)
	must(s.AddCampaignRecipients(c, k2.ID, []store.CampaignRecipient{{ContactID: people[0].ID, Status: store.RecipientPending}}, 0, true))(t)
	if err := s.MarkRecipientQueued(c, k2.ID, people[0].ID, msg.ID, now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("two recipients of one message: %v, want ErrConflict", err)
	}
	pending = must(s.PendingRecipients(c, k.ID, 0, 10))(t)
	if len(pending) != 2 || pending[0].ContactID != people[4].ID || pending[1].ContactID != people[5].ID {
		t.Fatalf("pending after queueing and skipping = %+v, want contacts 4 and 5", pending)
	}
	if after := must(s.PendingRecipients(c, k.ID, people[4].ID, 10))(t); len(after) != 1 || after[0].ContactID != people[5].ID {
		t.Fatalf("pending after contact 4 = %+v, want contact 5", after)
	}
	if _, err := s.PendingRecipients(c, k.ID, 0, 0); err == nil {
		t.Fatal("PendingRecipients with limit 0: no error")
	}

	// Listing pages by contact, with each message's status.
	var all []store.CampaignRecipient
	for after := int64(0); ; {
		got := must(s.ListCampaignRecipients(c, k.ID, after, 4))(t)
		if len(got) == 0 {
			break
		}
		all = append(all, got...)
		after = got[len(got)-1].ContactID
	}
	var show []string
	for _, r := range all {
		i := slices.IndexFunc(people, func(p store.Contact) bool { return p.ID == r.ContactID })
		show = append(show, fmt.Sprintf("%d:%s:%s:%d:%s", i, r.Status, r.SkipReason, min(r.MessageID, 1), r.MessageStatus))
		if r.Contact.ID != r.ContactID || r.Contact.WaID != people[i].WaID {
			t.Fatalf("listed recipient %d with contact %d %q, want its wa_id %q", r.ContactID, r.Contact.ID, r.Contact.WaID, people[i].WaID)
		}
	}
	want := []string{"0:queued::1:queued", "1:skipped:opted_out:0:", "2:skipped:invalid_params:0:", "3:skipped:no_consent:0:",
		"4:pending::0:", "5:pending::0:"}
	if !slices.Equal(show, want) {
		t.Fatalf("recipients = %q, want %q", show, want)
	}
	if !all[0].QueuedAt.Equal(now) {
		t.Fatalf("queued at %v, want %v", all[0].QueuedAt, now)
	}

	// Current marketing consents, newest record first.
	rec := func(id int64, granted bool, at time.Time) {
		t.Helper()
		must(s.RecordConsent(c, store.Consent{ContactID: id, Purpose: store.PurposeMarketing, Granted: granted, Source: store.ConsentByImport, At: at}))(t)
	}
	rec(people[0].ID, true, now.Add(-time.Hour))
	rec(people[1].ID, true, now.Add(-2*time.Hour))
	rec(people[1].ID, false, now.Add(-time.Hour))
	rec(people[2].ID, false, now.Add(-2*time.Hour))
	rec(people[2].ID, true, now.Add(-time.Hour))
	must(s.RecordConsent(c, store.Consent{ContactID: people[3].ID, Purpose: store.PurposeService, Granted: true, Source: store.ConsentByButton, At: now}))(t)
	ids := []int64{people[0].ID, people[1].ID, people[2].ID, people[3].ID, 424242}
	got := must(s.MarketingConsents(c, ids))(t)
	if wantC := map[int64]bool{people[0].ID: true, people[1].ID: false, people[2].ID: true}; !maps.Equal(got, wantC) {
		t.Fatalf("MarketingConsents = %v, want %v", got, wantC)
	}
	if got := must(s.MarketingConsents(c, nil))(t); len(got) != 0 {
		t.Fatalf("MarketingConsents(none) = %v", got)
	}

	// Erasing a contact removes their recipient rows.
	e := must(s.EraseContact(c, people[0].ID))(t)
	if e.CampaignRecipients != 2 {
		t.Fatalf("erasure removed %d recipient rows, want 2 (one per campaign)", e.CampaignRecipients)
	}
	if st := must(s.CampaignStats(c, k.ID))(t); st.Recipients != 5 || st.Queued != 0 {
		t.Fatalf("after erasure: %+v, want 5 recipients, none queued", st)
	}
}

// testCampaignStats covers the counts of a campaign from its messages'
// statuses, replies within 24 hours, opt-outs after the send and second
// sends; the daily reach; the campaign a reply answers.
func testCampaignStats(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	people := campaignPeople(t, s, 9)
	k := must(s.CreateCampaign(c, newCampaign("sayım")))(t)
	k = must(s.MoveCampaign(c, k.ID, store.CampaignDraft, store.CampaignRunning, time.Now(), store.CampaignMove{}))(t)
	var rs []store.CampaignRecipient
	for i, p := range people {
		r := store.CampaignRecipient{ContactID: p.ID, Status: store.RecipientPending}
		switch i {
		case 7:
			r.Status, r.SkipReason = store.RecipientSkipped, store.SkipOptedOut
		case 8:
			r.Status, r.SkipReason = store.RecipientSkipped, store.SkipNoConsent
		}
		rs = append(rs, r)
	}
	must(s.AddCampaignRecipients(c, k.ID, rs, people[8].ID, true))(t)
	empty := must(s.CampaignStats(c, k.ID))(t)
	if empty.Recipients != 9 || empty.Pending != 7 || empty.Skipped != 2 || empty.Queued != 0 ||
		!maps.Equal(empty.SkippedBy, map[string]int{store.SkipOptedOut: 1, store.SkipNoConsent: 1}) ||
		empty.FailedBy == nil || len(empty.FailedBy) != 0 {
		t.Fatalf("before any send: %+v", empty)
	}

	sent := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Microsecond)
	convs := make([]store.Conversation, 7)
	msgs := make([]store.Message, 7)
	for i := range 7 {
		convs[i] = must(s.OpenConversation(c, people[i].ID, "1001"))(t)
		msgs[i] = must(s.InsertMessage(c, store.Message{ConversationID: convs[i].ID, Direction: store.Outbound, Type: "template", Status: store.StatusQueued}))(t)
		if err := s.MarkRecipientQueued(c, k.ID, people[i].ID, msgs[i].ID, sent); err != nil {
			t.Fatal(err)
		}
	}
	// 0 stays queued (not sent yet); 1 sent; 2 delivered; 3 read and
	// replied within the day; 4 failed 131026; 5 failed 131049 after
	// it was sent; 6 read, opted out after the send, replied a day later.
	for i := 1; i < 7; i++ {
		if err := s.RecordSend(c, msgs[i].ID, fmt.Sprintf("wamid.k%d", i), sent); err != nil {
			t.Fatal(err)
		}
	}
	status := func(i int, st string, code int) {
		t.Helper()
		if _, err := s.UpdateMessageStatus(c, fmt.Sprintf("wamid.k%d", i), st, code, ""); err != nil {
			t.Fatal(err)
		}
	}
	status(2, store.StatusDelivered, 0)
	status(3, store.StatusRead, 0)
	status(4, store.StatusFailed, 131026)
	status(5, store.StatusDelivered, 0)
	status(5, store.StatusFailed, 131049)
	status(6, store.StatusRead, 0)
	must(s.InsertMessage(c, inbound(convs[3].ID, "wamid.in3", "ne zaman?", sent.Add(time.Hour))))(t)
	must(s.InsertMessage(c, inbound(convs[6].ID, "wamid.in6", "geç cevap", sent.Add(25*time.Hour))))(t)
	before := inbound(convs[2].ID, "wamid.in2", "önceki", sent.Add(-time.Minute)) // written before the send
	must(s.InsertMessage(c, before))(t)
	must(s.SetMarketingPreference(c, people[6].ID, true, sent.Add(30*time.Minute)))(t)
	must(s.SetMarketingPreference(c, people[1].ID, true, sent.Add(-time.Hour)))(t) // before the send
	if err := s.RecordDuplicateSend(c, msgs[3].ID, "wamid.k3.again"); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordDuplicateSend(c, msgs[3].ID, "wamid.k3.again"); err != nil {
		t.Fatalf("noting a second send again: %v", err)
	}
	if err := s.RecordDuplicateSend(c, 424242, "wamid.nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a second send of a missing message: %v, want ErrNotFound", err)
	}

	st := must(s.CampaignStats(c, k.ID))(t)
	want := store.CampaignStats{Recipients: 9, Pending: 0, Skipped: 2, Queued: 7,
		SkippedBy: map[string]int{store.SkipOptedOut: 1, store.SkipNoConsent: 1},
		Sent:      4, Delivered: 3, Read: 2, Failed: 2, FailedBy: map[int]int{131026: 1, 131049: 1},
		Replied: 1, OptedOutAfter: 1, Duplicates: 1}
	if st.Recipients != want.Recipients || st.Pending != want.Pending || st.Skipped != want.Skipped || st.Queued != want.Queued ||
		!maps.Equal(st.SkippedBy, want.SkippedBy) || st.Sent != want.Sent || st.Delivered != want.Delivered || st.Read != want.Read ||
		st.Failed != want.Failed || !maps.Equal(st.FailedBy, want.FailedBy) || st.Replied != want.Replied ||
		st.OptedOutAfter != want.OptedOutAfter || st.Duplicates != want.Duplicates {
		t.Fatalf("stats = %+v\nwant    %+v", st, want)
	}

	// The daily reach counts the contacts queued since, once each.
	k2 := must(s.CreateCampaign(c, newCampaign("sayım 2")))(t)
	must(s.AddCampaignRecipients(c, k2.ID, []store.CampaignRecipient{{ContactID: people[0].ID, Status: store.RecipientPending},
		{ContactID: people[8].ID, Status: store.RecipientPending}}, 0, true))(t)

	// The tallies of every campaign at once: the same counts, without the
	// replies, opt-outs and second sends.
	tallies := must(s.CampaignTallies(c))(t)
	tk, tk2 := tallies[k.ID], tallies[k2.ID]
	if len(tallies) != 2 || tk.Recipients != want.Recipients || tk.Skipped != want.Skipped || tk.Queued != want.Queued ||
		!maps.Equal(tk.SkippedBy, want.SkippedBy) || tk.Sent != want.Sent || tk.Delivered != want.Delivered || tk.Read != want.Read ||
		tk.Failed != want.Failed || !maps.Equal(tk.FailedBy, want.FailedBy) || tk.Replied != 0 ||
		tk2.Recipients != 2 || tk2.Pending != 2 {
		t.Fatalf("tallies = %+v, want %q as its stats say (without replies) and %q with 2 pending", tallies, k.Name, k2.Name)
	}
	m0 := must(s.InsertMessage(c, store.Message{ConversationID: convs[0].ID, Direction: store.Outbound, Type: "template", Status: store.StatusQueued}))(t)
	if err := s.MarkRecipientQueued(c, k2.ID, people[0].ID, m0.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n := must(s.CampaignReach(c, sent.Add(-time.Minute)))(t); n != 7 {
		t.Fatalf("reach since the send: %d, want 7 contacts (one of them twice)", n)
	}
	if n := must(s.CampaignReach(c, sent.Add(time.Minute)))(t); n != 1 {
		t.Fatalf("reach since a minute after the send: %d, want 1", n)
	}

	// Only contacts reached outside their customer-service window count:
	// not one whose last message is at or less than 24 hours before the
	// queue time; one whose last message is older, one who never wrote, and
	// one who wrote only after the queue time (the window then is unknown)
	// do. A contact counts once whatever its campaigns and windows.
	at := sent.Add(-72 * time.Hour)
	windows := []struct {
		name   string
		seen   time.Time // the last inbound message; zero: never wrote
		counts bool
	}{
		{"open", at.Add(-time.Hour), false},
		{"writing", at, false},
		{"just open", at.Add(-24*time.Hour + time.Microsecond), false},
		{"a day ago", at.Add(-24 * time.Hour), true},
		{"stale", at.Add(-25 * time.Hour), true},
		{"never", time.Time{}, true},
		{"after", at.Add(time.Hour), true},
		{"open, later closed", at.Add(-time.Hour), true}, // again 30 hours later
		{"stale twice", at.Add(-25 * time.Hour), true},   // again an hour later
		{"open twice", at.Add(-time.Hour), false},        // again two hours later
	}
	k3 := must(s.CreateCampaign(c, newCampaign("sayım 3")))(t)
	k4 := must(s.CreateCampaign(c, newCampaign("sayım 4")))(t)
	queue := func(k store.Campaign, who store.Contact, at time.Time) {
		t.Helper()
		must(s.AddCampaignRecipients(c, k.ID, []store.CampaignRecipient{{ContactID: who.ID, Status: store.RecipientPending}}, 0, true))(t)
		conv := must(s.OpenConversation(c, who.ID, "1001"))(t)
		m := must(s.InsertMessage(c, store.Message{ConversationID: conv.ID, Direction: store.Outbound, Type: "template", Status: store.StatusQueued}))(t)
		if err := s.MarkRecipientQueued(c, k.ID, who.ID, m.ID, at); err != nil {
			t.Fatal(err)
		}
	}
	counted := 0
	for i, w := range windows {
		who := must(s.UpsertContact(c, store.ContactUpsert{WaID: fmt.Sprintf("9053211%05d", i), Name: w.name, Seen: w.seen}))(t)
		queue(k3, who, at)
		switch w.name {
		case "open, later closed":
			queue(k4, who, at.Add(30*time.Hour))
		case "stale twice":
			queue(k4, who, at.Add(time.Hour))
		case "open twice":
			queue(k4, who, at.Add(2*time.Hour))
		}
		if w.counts {
			counted++
		}
		if n := must(s.CampaignReach(c, at.Add(-time.Minute)))(t); n != 7+counted {
			t.Fatalf("reach with %q (last message %v, queued %v): %d, want %d", w.name, w.seen, at, n, 7+counted)
		}
	}
	if n := must(s.CampaignReach(c, at.Add(90*time.Minute)))(t); n != 8 {
		t.Fatalf("reach since 90 minutes after the queue time: %d, want 8 (one reached outside its window, one inside)", n)
	}

	// A reply within a day of a campaign message the channel accepted
	// knows the campaign; later, or a message not sent yet, does not.
	if got := must(s.CampaignOfReply(c, convs[3].ID, sent.Add(time.Hour)))(t); got.ID != k.ID {
		t.Fatalf("campaign of a reply = %q, want %q", got.Name, k.Name)
	}
	for _, tc := range []struct {
		name string
		conv int64
		at   time.Time
	}{
		{"a day later", convs[3].ID, sent.Add(25 * time.Hour)},
		{"before the send", convs[3].ID, sent.Add(-time.Minute)},
		{"not sent yet", convs[0].ID, time.Now()},
		{"no campaign", 424242, time.Now()},
	} {
		if got, err := s.CampaignOfReply(c, tc.conv, tc.at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: campaign %q, %v; want ErrNotFound", tc.name, got.Name, err)
		}
	}

	// The outbox backlog counts unfinished jobs of a kind.
	for range 3 {
		must(s.Enqueue(c, jobs.EnqueueParams{Kind: "send"}))(t)
	}
	done := must(s.Enqueue(c, jobs.EnqueueParams{Kind: "send"}))(t)
	claimed := must(s.Claim(c, jobs.ClaimParams{Worker: "w", Kinds: []string{"send"}, Limit: 10, Lease: time.Minute}))(t)
	if len(claimed) != 4 {
		t.Fatalf("claimed %d jobs, want 4", len(claimed))
	}
	if err := s.Complete(c, "w", done.ID); err != nil {
		t.Fatal(err)
	}
	must(s.Enqueue(c, jobs.EnqueueParams{Kind: "turn"}))(t)
	if n := must(s.UnfinishedJobs(c, "send"))(t); n != 3 {
		t.Fatalf("unfinished send jobs: %d, want 3", n)
	}
}
