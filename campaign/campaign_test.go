package campaign_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yanit/yanit/campaign"
	"github.com/yanit/yanit/channel"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/inbox"
	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
)

const number = "1001"

// approved are the templates of the tests' configuration.
func approved(t testing.TB) []inbox.Template {
	t.Helper()
	var out []inbox.Template
	for _, d := range [][4]string{
		{"bahar_indirimi", "tr", "marketing", "Merhaba {{1}}, {{2}} mağazamızda bahar indirimi başladı!"},
		{"siparis_hazir", "tr", "utility", "Siparişiniz hazır, {{1}}."},
		{"spring_sale", "en", "marketing", "Hi {{1}}!"},
	} {
		tm, err := inbox.NewTemplate(d[0], d[1], d[2], d[3])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tm)
	}
	return out
}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// env is a store with a campaign service and people in segments.
type env struct {
	t     *testing.T
	st    store.Store
	svc   *campaign.Service
	clock *clock
}

func newEnv(t *testing.T, st store.Store, o campaign.Options) *env {
	t.Helper()
	e := &env{t: t, st: st, clock: &clock{t: time.Now()}}
	o.Templates, o.PhoneNumberID, o.Now = approved(t), number, e.clock.Now
	svc, err := campaign.NewService(st, o)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	if _, err := st.PutSegment(t.Context(), store.Segment{Name: "herkes"}); err != nil {
		t.Fatal(err)
	}
	return e
}

// person is a contact the tests make: its wa_id, name, city and consent.
type person struct {
	waID, name, city string
	consent          string // "yes", "no", "stop" (opted out without a record) or "" (none)
}

func (e *env) people(ps ...person) map[string]store.Contact {
	e.t.Helper()
	ctx := e.t.Context()
	out := map[string]store.Contact{}
	for _, p := range ps {
		u := store.ContactUpsert{WaID: p.waID, Name: p.name}
		if p.city != "" {
			u.Attributes = map[string]string{"city": p.city}
		}
		c, err := e.st.UpsertContact(ctx, u)
		if err != nil {
			e.t.Fatal(err)
		}
		switch p.consent {
		case "yes", "no":
			_, err = privacy.RecordConsent(ctx, e.st, store.Consent{ContactID: c.ID, Purpose: store.PurposeMarketing,
				Granted: p.consent == "yes", Source: store.ConsentByImport, At: time.Now().Add(-time.Hour)}, privacy.ActorCLI)
		case "stop":
			_, err = e.st.SetMarketingPreference(ctx, c.ID, true, time.Now().Add(-time.Hour))
		}
		if err != nil {
			e.t.Fatal(err)
		}
		out[p.waID], _ = e.st.GetContact(ctx, c.ID)
	}
	return out
}

func (e *env) create(name, template string, params ...string) store.Campaign {
	e.t.Helper()
	var ps []store.CampaignParam
	for _, p := range params {
		cp, err := campaign.ParseParam(p)
		if err != nil {
			e.t.Fatal(err)
		}
		ps = append(ps, cp)
	}
	lang := "tr"
	if template == "spring_sale" {
		lang = "en"
	}
	c, err := e.svc.Create(e.t.Context(), privacy.ActorCLI, campaign.Spec{Name: name, Template: template, Language: lang,
		Segment: "herkes", Params: ps})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// runJobs runs the due campaign jobs until none is left, n at most.
func (e *env) runJobs(ctx context.Context) {
	e.t.Helper()
	for range 100 {
		js, err := e.st.Claim(ctx, jobs.ClaimParams{Worker: "test", Kinds: []string{campaign.KindRun, campaign.KindStart},
			Limit: 1, Lease: time.Minute})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(js) == 0 {
			return
		}
		h := e.svc.Run
		if js[0].Kind == campaign.KindStart {
			h = e.svc.StartScheduled
		}
		if err := h(ctx, js[0]); err != nil {
			e.t.Fatalf("%s job: %v", js[0].Kind, err)
		}
		if err := e.st.Complete(ctx, "test", js[0].ID); err != nil {
			e.t.Fatal(err)
		}
	}
	e.t.Fatal("campaign jobs keep coming")
}

func (e *env) stats(name string) (store.Campaign, store.CampaignStats) {
	e.t.Helper()
	c, s, err := e.svc.Stats(e.t.Context(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return c, s
}

// outbox returns the template messages queued to each wa_id: their
// parameters, one string each.
func (e *env) outbox(contacts map[string]store.Contact) map[string][]string {
	e.t.Helper()
	ctx := e.t.Context()
	out := map[string][]string{}
	for waID, c := range contacts {
		convs, err := e.st.ListConversations(ctx, store.ConversationFilter{ContactID: c.ID})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, conv := range convs {
			msgs, err := e.st.ListMessages(ctx, conv.ID)
			if err != nil {
				e.t.Fatal(err)
			}
			for _, m := range msgs {
				if m.Direction != store.Outbound {
					continue
				}
				var o whatsapp.Outbound
				if err := json.Unmarshal(m.Payload, &o); err != nil {
					e.t.Fatal(err)
				}
				tm, ok := o.Content.(*whatsapp.Template)
				if !ok {
					e.t.Fatalf("outbox message %d is a %s, want a template", m.ID, o.Content.Type())
				}
				var params []string
				for _, comp := range tm.Components {
					for _, p := range comp.Parameters {
						params = append(params, p.Text)
					}
				}
				out[waID] = append(out[waID], tm.Name+"("+strings.Join(params, "|")+")")
			}
		}
	}
	return out
}

func TestCreateRefusesWhatCannotBeSent(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, campaign.Options{Numbers: []string{number, "2002"}})
		ctx := t.Context()
		name := campaign.Spec{Name: "bahar", Template: "bahar_indirimi", Language: "tr", Segment: "herkes",
			Params: []store.CampaignParam{{Source: store.ParamName}, {Source: store.ParamAttr, Attribute: "city", Default: "İstanbul"}}}
		for _, tc := range []struct {
			name string
			edit func(*campaign.Spec)
			says []string
		}{
			{"unknown template", func(s *campaign.Spec) { s.Template = "yok" }, []string{`template "yok"`, "bahar_indirimi (tr)"}},
			{"other language", func(s *campaign.Spec) { s.Language = "en" }, []string{`template "bahar_indirimi" in language "en"`}},
			{"no language", func(s *campaign.Spec) { s.Language = "" }, []string{"language: empty"}},
			{"a placeholder unfilled", func(s *campaign.Spec) { s.Params = s.Params[:1] }, []string{"params", "{{1}} to {{2}}", "got 1"}},
			{"a parameter too many", func(s *campaign.Spec) { s.Params = append(s.Params, store.CampaignParam{Source: store.ParamName}) },
				[]string{"params", "got 3"}},
			{"bad source", func(s *campaign.Spec) { s.Params[0].Source = "soyad" }, []string{`{{1}}: source "soyad"`}},
			{"missing segment", func(s *campaign.Spec) { s.Segment = "vipler" }, []string{`segment "vipler"`, "no segment"}},
			{"foreign number", func(s *campaign.Spec) { s.PhoneNumberID = "3003" }, []string{`number "3003"`}},
			{"bad name", func(s *campaign.Spec) { s.Name = "" }, []string{"campaign name: empty"}},
		} {
			sp := name
			sp.Params = slices.Clone(name.Params)
			tc.edit(&sp)
			_, err := e.svc.Create(ctx, privacy.ActorCLI, sp)
			if !errors.Is(err, campaign.ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", tc.name, err)
				continue
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%s: %q does not say %q", tc.name, err, s)
				}
			}
		}
		if cs, _ := st.ListCampaigns(ctx); len(cs) != 0 {
			t.Fatalf("refused campaigns were stored: %d", len(cs))
		}
		c, err := e.svc.Create(ctx, privacy.Actor{Name: "ayse", UserID: 7}, name)
		if err != nil {
			t.Fatal(err)
		}
		if c.Category != "marketing" || c.PhoneNumberID != number || c.CreatedBy != "ayse" || c.Status != store.CampaignDraft {
			t.Fatalf("created %+v", c)
		}
		if _, err := e.svc.Create(ctx, privacy.ActorCLI, name); !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), `"bahar"`) {
			t.Fatalf("the same name again: %v, want ErrConflict naming it", err)
		}
		audit, err := st.ListAudit(ctx, store.AuditFilter{Action: "campaign.created"})
		if err != nil || len(audit) != 1 || audit[0].Actor != "ayse" || audit[0].Target != fmt.Sprintf("campaign:%d", c.ID) {
			t.Fatalf("audit = %+v, %v", audit, err)
		}
	})
}

func TestParseParam(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want store.CampaignParam
	}{
		{"name", store.CampaignParam{Source: store.ParamName}},
		{"name:Müşterimiz", store.CampaignParam{Source: store.ParamName, Default: "Müşterimiz"}},
		{"attr:city", store.CampaignParam{Source: store.ParamAttr, Attribute: "city"}},
		{"attr:city:İstanbul", store.CampaignParam{Source: store.ParamAttr, Attribute: "city", Default: "İstanbul"}},
		{"attr:plan:a:b", store.CampaignParam{Source: store.ParamAttr, Attribute: "plan", Default: "a:b"}},
		{"text:Bahar: %20", store.CampaignParam{Source: store.ParamText, Default: "Bahar: %20"}},
		{"phone", store.CampaignParam{Source: store.ParamPhone}},
		{"language:tr", store.CampaignParam{Source: store.ParamLanguage, Default: "tr"}},
	} {
		got, err := campaign.ParseParam(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseParam(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if back, err := campaign.ParseParam(got.String()); err != nil || back != got {
			t.Errorf("ParseParam(%q.String() = %q) = %+v, %v", tc.in, got.String(), back, err)
		}
	}
	for _, bad := range []string{"", "soyad", "attr", "attr:", "text", "text:"} {
		if _, err := campaign.ParseParam(bad); err == nil {
			t.Errorf("ParseParam(%q): no error", bad)
		}
	}
	idx, p, err := campaign.ParseNumberedParam("2=attr:city:İstanbul")
	if err != nil || idx != 2 || p.Attribute != "city" {
		t.Errorf("ParseNumberedParam = %d, %+v, %v", idx, p, err)
	}
	for _, bad := range []string{"attr:city", "0=name", "x=name", "1=", "=name"} {
		if _, _, err := campaign.ParseNumberedParam(bad); err == nil {
			t.Errorf("ParseNumberedParam(%q): no error", bad)
		}
	}
}

func TestStateMachine(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, campaign.Options{})
		ctx := t.Context()
		e.people(person{waID: "905320000001", name: "Ayşe", consent: "yes"})
		by := privacy.Actor{Name: "ayse"}
		e.create("k", "bahar_indirimi", "name", "attr:city:İstanbul")

		// Illegal moves name both states and change nothing.
		for _, tc := range []struct {
			do       func() (store.Campaign, error)
			from, to string
		}{
			{func() (store.Campaign, error) { return e.svc.Pause(ctx, by, "k") }, "draft", "paused"},
			{func() (store.Campaign, error) { return e.svc.Resume(ctx, by, "k") }, "draft", "running"},
		} {
			_, err := tc.do()
			if !errors.Is(err, store.ErrIllegalMove) || !strings.Contains(err.Error(), "is "+tc.from) || !strings.Contains(err.Error(), "become "+tc.to) {
				t.Errorf("%s → %s: %v, want an illegal move naming both", tc.from, tc.to, err)
			}
		}
		at := e.clock.Now().Add(time.Hour).Truncate(time.Second)
		if _, err := e.svc.Schedule(ctx, by, "k", e.clock.Now().Add(-time.Minute), "Europe/Istanbul"); !errors.Is(err, campaign.ErrInvalid) ||
			!strings.Contains(err.Error(), "past") {
			t.Fatalf("scheduling in the past: %v", err)
		}
		if _, err := e.svc.Schedule(ctx, by, "k", at, "Asia/Nowhere"); !errors.Is(err, campaign.ErrInvalid) || !strings.Contains(err.Error(), "Asia/Nowhere") {
			t.Fatalf("scheduling in a bad zone: %v", err)
		}
		c, err := e.svc.Schedule(ctx, by, "k", at, "Europe/Istanbul")
		if err != nil || c.Status != store.CampaignScheduled || !c.ScheduledAt.Equal(at) {
			t.Fatalf("scheduled: %+v, %v", c, err)
		}
		c, err = e.svc.Start(ctx, by, "k")
		if err != nil || c.Status != store.CampaignRunning || c.StartedAt.IsZero() {
			t.Fatalf("started: %+v, %v", c, err)
		}
		if _, err := e.svc.Start(ctx, by, "k"); !errors.Is(err, store.ErrIllegalMove) || !strings.Contains(err.Error(), "running") {
			t.Fatalf("starting twice: %v", err)
		}
		if c, err = e.svc.Pause(ctx, by, "k"); err != nil || c.Status != store.CampaignPaused {
			t.Fatalf("paused: %+v, %v", c, err)
		}
		e.runJobs(ctx) // the run queued by Start finds it paused: nothing
		if _, s := e.stats("k"); s.Recipients != 0 {
			t.Fatalf("a paused campaign found %d recipients", s.Recipients)
		}
		if _, err := e.svc.Start(ctx, by, "k"); !errors.Is(err, store.ErrIllegalMove) || !strings.Contains(err.Error(), "resume") {
			t.Fatalf("starting a paused campaign: %v, want a hint to resume", err)
		}
		if c, err = e.svc.Resume(ctx, by, "k"); err != nil || c.Status != store.CampaignRunning {
			t.Fatalf("resumed: %+v, %v", c, err)
		}
		e.runJobs(ctx)
		if c, s := e.stats("k"); c.Status != store.CampaignDone || s.Queued != 1 || c.FinishedAt.IsZero() {
			t.Fatalf("after the run: %s, %+v; want done with one queued", c.Status, s)
		}
		for _, do := range []func() (store.Campaign, error){
			func() (store.Campaign, error) { return e.svc.Cancel(ctx, by, "k") },
			func() (store.Campaign, error) { return e.svc.Pause(ctx, by, "k") },
			func() (store.Campaign, error) { return e.svc.Resume(ctx, by, "k") },
		} {
			if _, err := do(); !errors.Is(err, store.ErrIllegalMove) || !strings.Contains(err.Error(), "is done") {
				t.Errorf("moving a done campaign: %v", err)
			}
		}
		// Cancel from draft; a cancelled campaign stays so.
		e.create("k2", "bahar_indirimi", "name", "attr:city:İstanbul")
		if c, err = e.svc.Cancel(ctx, by, "k2"); err != nil || c.Status != store.CampaignCancelled {
			t.Fatalf("cancelled: %+v, %v", c, err)
		}
		if _, err := e.svc.Start(ctx, by, "k2"); !errors.Is(err, store.ErrIllegalMove) || !strings.Contains(err.Error(), "cancelled") {
			t.Fatalf("starting a cancelled campaign: %v", err)
		}
		if _, err := e.svc.Start(ctx, by, "yok"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("starting a missing campaign: %v", err)
		}
		var actions []string
		audit, _ := st.ListAudit(ctx, store.AuditFilter{Action: "campaign."})
		for _, a := range slices.Backward(audit) {
			actions = append(actions, a.Action+" by "+a.Actor)
		}
		want := []string{"campaign.created by cli", "campaign.scheduled by ayse", "campaign.started by ayse", "campaign.paused by ayse",
			"campaign.resumed by ayse", "campaign.done by system", "campaign.created by cli", "campaign.cancelled by ayse"}
		if !slices.Equal(actions, want) {
			t.Fatalf("audit = %q\nwant %q", actions, want)
		}
	})
}

// The start job alone starts a campaign on time, without the periodic
// check; and a campaign created with a time is scheduled in the same step.
func TestStartJobStartsTheCampaign(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, campaign.Options{})
		ctx := t.Context()
		e.people(person{waID: "905320000001", name: "Ayşe", consent: "yes"})
		at := e.clock.Now().Add(time.Hour).Truncate(time.Second)
		c, err := e.svc.Create(ctx, privacy.ActorCLI, campaign.Spec{Name: "sabah", Template: "bahar_indirimi", Language: "tr",
			Segment: "herkes", Params: []store.CampaignParam{{Source: store.ParamName}, {Source: store.ParamAttr, Attribute: "city", Default: "İstanbul"}},
			ScheduledAt: at, TimeZone: "Europe/Istanbul"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != store.CampaignScheduled || !c.ScheduledAt.Equal(at) {
			t.Fatalf("created with a time: %s at %v, want scheduled at %v", c.Status, c.ScheduledAt, at)
		}
		starts := startJobs(t, st)
		if len(starts) != 1 || !starts[0].RunAt.Equal(at) {
			t.Fatalf("start jobs %+v, want one due at %v", starts, at)
		}
		e.clock.Set(at)
		if err := e.svc.StartScheduled(ctx, starts[0]); err != nil {
			t.Fatal(err)
		}
		if c, _ := e.stats("sabah"); c.Status != store.CampaignRunning {
			t.Fatalf("after its start job: %s, want running", c.Status)
		}
		if _, err := e.svc.Create(ctx, privacy.ActorCLI, campaign.Spec{Name: "dün", Template: "bahar_indirimi", Language: "tr",
			Segment: "herkes", ScheduledAt: at.Add(-time.Hour), TimeZone: "Europe/Istanbul"}); !errors.Is(err, campaign.ErrInvalid) {
			t.Fatalf("created for a past time: %v, want ErrInvalid", err)
		}
		if _, err := e.svc.Get(ctx, "dün"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the refused campaign was stored: %v", err)
		}
	})
}

func TestScheduledCampaignStartsOnceWhenDue(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, campaign.Options{})
		ctx := t.Context()
		e.people(person{waID: "905320000001", name: "Ayşe", consent: "yes"})
		e.create("gece", "bahar_indirimi", "name", "attr:city:İstanbul")
		tz := "Europe/Istanbul"
		at, err := campaign.ParseLocalTime("2030-12-01 10:00", tz)
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2030, 12, 1, 7, 0, 0, 0, time.UTC); !at.Equal(want) {
			t.Fatalf("10:00 in Istanbul = %v, want %v", at.UTC(), want)
		}
		e.clock.Set(at.Add(-48 * time.Hour))
		if _, err := e.svc.Schedule(ctx, privacy.ActorCLI, "gece", at.Add(-time.Hour), tz); err != nil {
			t.Fatal(err)
		}
		// Moved later: the first job, due at the first time, does nothing.
		if _, err := e.svc.Schedule(ctx, privacy.ActorCLI, "gece", at, tz); err != nil {
			t.Fatal(err)
		}
		starts := startJobs(t, st)
		if len(starts) != 2 {
			t.Fatalf("%d start jobs, want 2", len(starts))
		}
		e.clock.Set(at.Add(-time.Hour))
		if err := e.svc.StartScheduled(ctx, starts[0]); err != nil {
			t.Fatal(err)
		}
		if c, _ := e.stats("gece"); c.Status != store.CampaignScheduled {
			t.Fatalf("the stale start job moved it to %s", c.Status)
		}
		if err := e.svc.StartDue(ctx); err != nil {
			t.Fatal(err)
		}
		if c, _ := e.stats("gece"); c.Status != store.CampaignScheduled {
			t.Fatalf("StartDue an hour early moved it to %s", c.Status)
		}
		// Due: the job and the periodic check race; one starts it.
		e.clock.Set(at)
		var wg sync.WaitGroup
		errs := make(chan error, 3)
		for _, f := range []func() error{
			func() error { return e.svc.StartScheduled(ctx, starts[1]) },
			func() error { return e.svc.StartDue(ctx) },
			func() error { return e.svc.StartDue(ctx) },
		} {
			wg.Go(func() { errs <- f() })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if c, _ := e.stats("gece"); c.Status != store.CampaignRunning {
			t.Fatalf("due: %s, want running", c.Status)
		}
		if started, _ := st.ListAudit(ctx, store.AuditFilter{Action: "campaign.started"}); len(started) != 1 || started[0].Actor != "system" {
			t.Fatalf("started %d times (%+v), want once by system", len(started), started)
		}
		e.runJobs(ctx)
		if c, s := e.stats("gece"); c.Status != store.CampaignDone || s.Queued != 1 {
			t.Fatalf("after its run: %s %+v", c.Status, s)
		}
	})
}

// startJobs returns the unfinished start jobs, oldest first.
func startJobs(t *testing.T, st store.Store) []jobs.Job {
	t.Helper()
	var out []jobs.Job
	for id := int64(1); id < 100; id++ {
		j, err := st.GetJob(t.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if j.Kind == campaign.KindStart && j.State == jobs.StateAvailable {
			out = append(out, j)
		}
	}
	return out
}

func TestConsentRules(t *testing.T) {
	people := []person{
		{waID: "905320000001", name: "Ayşe", consent: "yes"},
		{waID: "905320000002", name: "Mehmet", consent: "no"},
		{waID: "905320000003", name: "Can", consent: "stop"},
		{waID: "905320000004", name: "Deniz"},
		{waID: "905320000005", name: "Ece", consent: "yes"},
	}
	for _, tc := range []struct {
		name, marketing, utility, template string
		queued                             []string
		skipped                            map[string]int
	}{
		{"marketing needs consent", "", "", "bahar_indirimi", []string{"905320000001", "905320000005"},
			map[string]int{store.SkipOptedOut: 2, store.SkipNoConsent: 1}},
		{"marketing to all not opted out", campaign.RequireNotOptedOut, "", "bahar_indirimi",
			[]string{"905320000001", "905320000004", "905320000005"}, map[string]int{store.SkipOptedOut: 2}},
		{"utility to all not opted out", "", "", "siparis_hazir",
			[]string{"905320000001", "905320000004", "905320000005"}, map[string]int{store.SkipOptedOut: 2}},
		{"utility to anyone", "", campaign.RequireAny, "siparis_hazir",
			[]string{"905320000001", "905320000002", "905320000003", "905320000004", "905320000005"}, map[string]int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			onStores(t, func(t *testing.T, st store.Store) {
				e := newEnv(t, st, campaign.Options{MarketingRequires: tc.marketing, UtilityRequires: tc.utility})
				contacts := e.people(people...)
				params := []string{"name", "attr:city:İstanbul"}
				if tc.template == "siparis_hazir" {
					params = params[:1]
				}
				e.create("k", tc.template, params...)
				if _, err := e.svc.Start(t.Context(), privacy.ActorCLI, "k"); err != nil {
					t.Fatal(err)
				}
				e.runJobs(t.Context())
				c, s := e.stats("k")
				if c.Status != store.CampaignDone || s.Recipients != len(people) || s.Queued != len(tc.queued) ||
					s.Skipped != len(people)-len(tc.queued) || !maps.Equal(s.SkippedBy, tc.skipped) || s.Pending != 0 {
					t.Fatalf("%s: %+v; want %d queued, skipped %v", c.Status, s, len(tc.queued), tc.skipped)
				}
				got := slices.Sorted(maps.Keys(e.outbox(contacts)))
				if !slices.Equal(got, tc.queued) {
					t.Fatalf("messages to %v, want %v", got, tc.queued)
				}
			})
		})
	}
}

func TestParamsPerContactWithDefaults(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, campaign.Options{})
		contacts := e.people(
			person{waID: "905320000001", name: "Ayşe", city: "İzmir", consent: "yes"},
			person{waID: "905320000002", name: "Mehmet", consent: "yes"},
			person{waID: "905320000003", consent: "yes"},
		)
		e.create("k", "bahar_indirimi", "name:Değerli müşterimiz", "attr:city:İstanbul")
		if _, err := e.svc.Start(t.Context(), privacy.ActorCLI, "k"); err != nil {
			t.Fatal(err)
		}
		e.runJobs(t.Context())
		want := map[string][]string{
			"905320000001": {"bahar_indirimi(Ayşe|İzmir)"},
			"905320000002": {"bahar_indirimi(Mehmet|İstanbul)"},
			"905320000003": {"bahar_indirimi(Değerli müşterimiz|İstanbul)"},
		}
		if got := e.outbox(contacts); !maps.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("outbox = %v\nwant %v", got, want)
		}

		// A parameter with no value and no default skips the contact.
		e.create("k2", "bahar_indirimi", "name", "attr:plan")
		if _, err := e.svc.Start(t.Context(), privacy.ActorCLI, "k2"); err != nil {
			t.Fatal(err)
		}
		e.runJobs(t.Context())
		if _, s := e.stats("k2"); s.Queued != 0 || s.SkippedBy[store.SkipInvalidParams] != 3 {
			t.Fatalf("without a plan: %+v, want all three skipped for invalid params", s)
		}
	})
}

// failingStore fails the commit of the nth transaction after its writes,
// as a crash before the commit would.
type failingStore struct {
	store.Store
	mu sync.Mutex
	n  int
}

var errCrash = errors.New("crash before the commit")

func (f *failingStore) InTx(ctx context.Context, fn func(tx store.Queries) error) error {
	return f.Store.InTx(ctx, func(tx store.Queries) error {
		if err := fn(tx); err != nil {
			return err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.n--
		if f.n == 0 {
			return errCrash
		}
		return nil
	})
}

func TestRestartInTheMiddleSendsEachOnce(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		const n = 230
		e := newEnv(t, st, campaign.Options{})
		var ps []person
		for i := range n {
			ps = append(ps, person{waID: fmt.Sprintf("9053201%05d", i), name: fmt.Sprintf("Kişi %d", i), consent: "yes"})
		}
		contacts := e.people(ps...)
		e.create("k", "bahar_indirimi", "name", "attr:city:İstanbul")
		if _, err := e.svc.Start(t.Context(), privacy.ActorCLI, "k"); err != nil {
			t.Fatal(err)
		}
		run := func(svc *campaign.Service, st store.Store) error {
			js, err := st.Claim(t.Context(), jobs.ClaimParams{Worker: "w", Kinds: []string{campaign.KindRun}, Limit: 1, Lease: time.Minute})
			if err != nil || len(js) != 1 {
				t.Fatalf("claiming the run: %d jobs, %v", len(js), err)
			}
			err = svc.Run(t.Context(), js[0])
			if err == nil {
				err = st.Complete(t.Context(), "w", js[0].ID)
			} else {
				// The worker died: its lease lapses and the job is claimed again.
				if rerr := st.Retry(t.Context(), "w", js[0].ID, time.Now().Add(-time.Second), err.Error()); rerr != nil {
					t.Fatal(rerr)
				}
			}
			return err
		}
		// First life: batches of 40; the third batch's transaction fails
		// at the commit, like a crash.
		fs := &failingStore{Store: st, n: 3}
		svc1, err := campaign.NewService(fs, campaign.Options{Templates: approved(t), PhoneNumberID: number, BatchSize: 40})
		if err != nil {
			t.Fatal(err)
		}
		if err := run(svc1, fs); !errors.Is(err, errCrash) {
			t.Fatalf("first life: %v, want the crash", err)
		}
		_, s := e.stats("k")
		if s.Queued != 80 || s.Pending != n-80 {
			t.Fatalf("after the crash: %+v, want 80 queued (two batches), the rest pending", s)
		}
		// Second life: goes on from the pending recipients.
		svc2, err := campaign.NewService(st, campaign.Options{Templates: approved(t), PhoneNumberID: number, BatchSize: 40})
		if err != nil {
			t.Fatal(err)
		}
		if err := run(svc2, st); err != nil {
			t.Fatal(err)
		}
		c, s := e.stats("k")
		if c.Status != store.CampaignDone || s.Queued != n || s.Pending != 0 || s.Recipients != n {
			t.Fatalf("after the restart: %s %+v", c.Status, s)
		}
		out := e.outbox(contacts)
		for waID := range contacts {
			if len(out[waID]) != 1 {
				t.Errorf("%s has %d messages in the outbox, want 1", waID, len(out[waID]))
			}
		}
		if ids := bulkMessages(t, st); len(ids) != n {
			t.Fatalf("the send batch jobs name %d messages, want %d", len(ids), n)
		}
	})
}

func TestDailyLimitHoldsRecipients(t *testing.T) {
	// One batch of all five, and batches of one: between two counts of the
	// store's reach the sender keeps its own tally.
	for _, batch := range []int{0, 1} {
		t.Run(fmt.Sprintf("batch_size_%d", batch), func(t *testing.T) { testDailyLimitHoldsRecipients(t, batch) })
	}
}

func testDailyLimitHoldsRecipients(t *testing.T, batch int) {
	onStores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, campaign.Options{DailyUniqueLimit: 3, LimitWait: time.Hour, BatchSize: batch})
		var ps []person
		for i := range 5 {
			ps = append(ps, person{waID: fmt.Sprintf("90532000000%d", i), name: "K", consent: "yes"})
		}
		e.people(ps...)
		e.create("k", "bahar_indirimi", "name", "attr:city:İstanbul")
		if _, err := e.svc.Start(t.Context(), privacy.ActorCLI, "k"); err != nil {
			t.Fatal(err)
		}
		e.runJobs(t.Context()) // the next run is an hour away: not claimed
		c, s := e.stats("k")
		if c.Status != store.CampaignRunning || s.Queued != 3 || s.Pending != 2 || s.Skipped != 0 {
			t.Fatalf("at the limit: %s %+v; want running, 3 queued, 2 waiting", c.Status, s)
		}
		var later []jobs.Job
		for id := int64(1); id < 50; id++ {
			if j, err := st.GetJob(t.Context(), id); err == nil && j.Kind == campaign.KindRun && j.State == jobs.StateAvailable {
				later = append(later, j)
			}
		}
		if len(later) != 1 || later[0].RunAt.Before(time.Now().Add(50*time.Minute)) {
			t.Fatalf("runs waiting: %+v; want one an hour away", later)
		}
	})
}

// TestDailyLimitSparesOpenWindows: contacts who wrote within the last 24
// hours are reached inside their service window, which the daily
// unique-user limit does not count, so a campaign at its limit still
// queues their messages; only the others past the limit wait.
func TestDailyLimitSparesOpenWindows(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, campaign.Options{DailyUniqueLimit: 3, LimitWait: time.Hour})
		now := e.clock.Now()
		// In contact order: one who never wrote (or wrote two days ago),
		// then one who wrote an hour ago, five times over.
		var ps []person
		open := map[string]bool{}
		for i := range 10 {
			p := person{waID: fmt.Sprintf("90532300000%d", i), name: "K", consent: "yes"}
			ps = append(ps, p)
			open[p.waID] = i%2 == 1
		}
		contacts := e.people(ps...)
		for i, p := range ps {
			var seen time.Time
			switch {
			case open[p.waID]:
				seen = now.Add(-time.Hour)
			case i%4 == 2:
				seen = now.Add(-48 * time.Hour)
			default:
				continue // never wrote
			}
			if _, err := st.UpsertContact(t.Context(), store.ContactUpsert{WaID: p.waID, Seen: seen}); err != nil {
				t.Fatal(err)
			}
		}
		e.create("k", "bahar_indirimi", "name", "attr:city:İstanbul")
		if _, err := e.svc.Start(t.Context(), privacy.ActorCLI, "k"); err != nil {
			t.Fatal(err)
		}
		e.runJobs(t.Context()) // the next run is an hour away: not claimed

		c, s := e.stats("k")
		if c.Status != store.CampaignRunning || s.Queued != 8 || s.Pending != 2 || s.Skipped != 0 {
			t.Fatalf("at the limit: %s %+v; want running, 8 queued (5 in their window, 3 not), 2 waiting", c.Status, s)
		}
		sent := e.outbox(contacts)
		var reachedOutside []string
		for _, p := range ps {
			switch {
			case open[p.waID] && len(sent[p.waID]) != 1:
				t.Errorf("%s wrote an hour ago: queued %v, want its message", p.waID, sent[p.waID])
			case !open[p.waID] && len(sent[p.waID]) > 0:
				reachedOutside = append(reachedOutside, p.waID)
			}
		}
		if want := []string{ps[0].waID, ps[2].waID, ps[4].waID}; !slices.Equal(reachedOutside, want) {
			t.Errorf("reached outside their window: %v, want the first three %v", reachedOutside, want)
		}
		if n, err := st.CampaignReach(t.Context(), now.Add(-24*time.Hour)); err != nil || n != 3 {
			t.Errorf("daily reach: %d, %v; want the limit, 3", n, err)
		}
		var later []jobs.Job
		for id := int64(1); id < 50; id++ {
			if j, err := st.GetJob(t.Context(), id); err == nil && j.Kind == campaign.KindRun && j.State == jobs.StateAvailable {
				later = append(later, j)
			}
		}
		if len(later) != 1 || later[0].RunAt.Before(now.Add(50*time.Minute)) {
			t.Fatalf("runs waiting: %+v; want one an hour away", later)
		}
	})
}

func TestBacklogBoundsTheOutbox(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		const n, backlog = 60, 10
		e := newEnv(t, st, campaign.Options{})
		var ps []person
		for i := range n {
			ps = append(ps, person{waID: fmt.Sprintf("9053202%05d", i), name: "K", consent: "yes"})
		}
		e.people(ps...)
		e.create("k", "bahar_indirimi", "name", "attr:city:İstanbul")
		svc, err := campaign.NewService(st, campaign.Options{Templates: approved(t), PhoneNumberID: number, BatchSize: 8,
			Backlog: backlog, RatePerSecond: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Start(t.Context(), privacy.ActorCLI, "k"); err != nil {
			t.Fatal(err)
		}
		js, err := st.Claim(t.Context(), jobs.ClaimParams{Worker: "w", Kinds: []string{campaign.KindRun}, Limit: 1, Lease: time.Minute})
		if err != nil || len(js) != 1 {
			t.Fatal(len(js), err)
		}
		done := make(chan error, 1)
		go func() { done <- svc.Run(t.Context(), js[0]) }()
		// The test is the Sender: it finishes send batch jobs one by one
		// and checks that the outbox never holds more than the backlog
		// (rounded up to whole jobs: one).
		sent, most := 0, 0
		deadline := time.Now().Add(30 * time.Second)
		for sent < n {
			if time.Now().After(deadline) {
				t.Fatalf("only %d of %d messages queued in 30 s", sent, n)
			}
			u, err := st.UnfinishedJobs(t.Context(), channel.KindSendBatch)
			if err != nil {
				t.Fatal(err)
			}
			most = max(most, u)
			got, err := st.Claim(t.Context(), jobs.ClaimParams{Worker: "s", Kinds: []string{channel.KindSendBatch}, Limit: 1, Lease: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range got {
				var p channel.SendBatchPayload
				if err := json.Unmarshal(j.Payload, &p); err != nil || len(p.MessageIDs) > 8 {
					t.Fatalf("send batch job %s: %v; want at most a campaign batch (8)", j.Payload, err)
				}
				if err := st.Complete(t.Context(), "s", j.ID); err != nil {
					t.Fatal(err)
				}
				sent += len(p.MessageIDs)
			}
			if len(got) == 0 {
				time.Sleep(5 * time.Millisecond)
			}
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if most > 1 {
			t.Fatalf("the outbox held %d send batch jobs, backlog %d messages (one job)", most, backlog)
		}
		if c, s := e.stats("k"); c.Status != store.CampaignDone || s.Queued != n {
			t.Fatalf("%s %+v", c.Status, s)
		}
	})
}

// bulkMessages returns the outbox messages the send batch jobs name, each
// once, and fails the test if a message is in two jobs.
func bulkMessages(t *testing.T, st store.Store) map[int64]bool {
	t.Helper()
	ids := map[int64]bool{}
	for id := int64(1); ; id++ {
		j, err := st.GetJob(t.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			if id > 2000 {
				return ids
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if j.Kind != channel.KindSendBatch {
			continue
		}
		var p channel.SendBatchPayload
		if err := json.Unmarshal(j.Payload, &p); err != nil {
			t.Fatal(err)
		}
		for _, m := range p.MessageIDs {
			if ids[m] {
				t.Fatalf("message %d is in two send batch jobs", m)
			}
			ids[m] = true
		}
	}
}
