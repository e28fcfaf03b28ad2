package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yanit/yanit/campaign"
	"github.com/yanit/yanit/inbox"
	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
)

// campaignNumber is the business number of the campaign tests.
const campaignNumber = "1001"

// serviceAdmin is the campaign service as the API takes it, the way
// cmd/yanit's adapter makes it: the spec converted, the service's
// invalid-campaign errors marked as the caller's to fix.
type serviceAdmin struct{ *campaign.Service }

func (a serviceAdmin) Create(ctx context.Context, by privacy.Actor, sp CampaignSpec) (store.Campaign, error) {
	c, err := a.Service.Create(ctx, by, campaign.Spec{Name: sp.Name, Template: sp.Template, Language: sp.Language,
		Params: sp.Params, Segment: sp.Segment, PhoneNumberID: sp.PhoneNumberID, ScheduledAt: sp.ScheduledAt, TimeZone: sp.TimeZone})
	return c, callerError(err)
}

func (a serviceAdmin) Schedule(ctx context.Context, by privacy.Actor, name string, at time.Time, tz string) (store.Campaign, error) {
	c, err := a.Service.Schedule(ctx, by, name, at, tz)
	return c, callerError(err)
}

func (a serviceAdmin) Start(ctx context.Context, by privacy.Actor, name string) (store.Campaign, error) {
	c, err := a.Service.Start(ctx, by, name)
	return c, callerError(err)
}

// callerError marks the service's invalid-campaign errors as the caller's
// to fix, shown without the sentinel's words, as cmd/yanit does.
func callerError(err error) error {
	if errors.Is(err, campaign.ErrInvalid) {
		return invalidCampaign{err}
	}
	return err
}

type invalidCampaign struct{ err error }

func (e invalidCampaign) Error() string {
	return strings.Replace(e.err.Error(), campaign.ErrInvalid.Error()+": ", "", 1)
}

func (e invalidCampaign) Unwrap() []error { return []error{ErrInvalidInput, e.err} }

// campaignEnv is a server over a real store with the real campaign
// service, contacts in two segments and a user of every role.
type campaignEnv struct {
	st   store.Store
	svc  *campaign.Service
	base string
	auth map[string]string     // the Authorization header of each role's user
	user map[string]store.User // each role's user
	vip  []store.Contact       // the members of segment vip, by ID
}

// The vip segment's members: five with a granted marketing consent, one
// who refused it, one without a record; two contacts are in no segment but
// herkes (everyone).
var campaignPeople = []struct {
	waID, name, city, consent string
	vip                       bool
}{
	{"905320000001", "Ayşe", "İzmir", "yes", true},
	{"905320000002", "Barış", "Ankara", "yes", true},
	{"905320000003", "Cem", "", "yes", true},
	{"905320000004", "Deniz", "İstanbul", "yes", true},
	{"905320000005", "Ece", "Bursa", "yes", true},
	{"905320000006", "Fatma", "İzmir", "no", true},
	{"905320000007", "Gül", "", "", true},
	{"905320000008", "Hakan", "Adana", "yes", false},
	{"905320000009", "Irmak", "", "", false},
}

func campaignTemplates(t *testing.T) []inbox.Template {
	t.Helper()
	var out []inbox.Template
	for _, d := range [][4]string{
		{"bahar_indirimi", "tr", "marketing", "Merhaba {{1}}, {{2}} mağazamızda bahar indirimi başladı!"},
		{"siparis_hazir", "tr", "utility", "Siparişiniz hazır, {{1}}."},
		{"siparis_hazir", "en", "utility", "Your order is ready, {{1}}."},
	} {
		tm, err := inbox.NewTemplate(d[0], d[1], d[2], d[3])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tm)
	}
	return out
}

func newCampaignEnv(t *testing.T, st store.Store) *campaignEnv {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	e := &campaignEnv{st: st, auth: map[string]string{}, user: map[string]store.User{}}
	for _, p := range campaignPeople {
		u := store.ContactUpsert{WaID: p.waID, Name: p.name, Locale: "tr", Tags: []string{"musteri"}}
		if p.vip {
			u.Tags = append(u.Tags, "vip")
		}
		if p.city != "" {
			u.Attributes = map[string]string{"city": p.city}
		}
		c, err := st.UpsertContact(ctx, u)
		must(err)
		if p.consent != "" {
			_, err = privacy.RecordConsent(ctx, st, store.Consent{ContactID: c.ID, Purpose: store.PurposeMarketing,
				Granted: p.consent == "yes", Source: store.ConsentByImport, At: time.Now().Add(-time.Hour)}, privacy.ActorCLI)
			must(err)
		}
		if p.vip {
			e.vip = append(e.vip, c)
		}
	}
	slices.SortFunc(e.vip, func(a, b store.Contact) int { return int(a.ID - b.ID) })
	for _, s := range []store.Segment{
		{Name: "vip", Description: "the best customers", Filter: store.SegmentFilter{Tags: []string{"vip"}}},
		{Name: "herkes"},
		{Name: "Yeni müşteriler", Filter: store.SegmentFilter{ActiveWithinDays: 7}},
	} {
		_, err := st.PutSegment(ctx, s)
		must(err)
	}
	for _, role := range store.Roles {
		login := role + "-user"
		e.auth[role] = "Bearer " + addUser(t, st, login, role)
		var err error
		e.user[role], err = st.GetUserByLogin(ctx, login)
		must(err)
	}
	svc, err := campaign.NewService(st, campaign.Options{Templates: campaignTemplates(t), PhoneNumberID: campaignNumber})
	must(err)
	e.svc = svc
	s, err := NewServer(Options{Registry: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)})
	must(err)
	s.SetBackend(Backend{Store: st, Campaigns: serviceAdmin{svc}})
	e.base = httpServer(t, s)
	return e
}

// call sends a request as role's user; a body is sent as JSON.
func (e *campaignEnv) call(t *testing.T, role, method, path, body string) apiResponse {
	t.Helper()
	var r *strings.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	if r == nil {
		return privacyCall(t, method, e.base+path, e.auth[role], "", nil)
	}
	return privacyCall(t, method, e.base+path, e.auth[role], "application/json", r)
}

// admin sends a request as the admin and wants the status code back.
func (e *campaignEnv) admin(t *testing.T, method, path, body string, want int) apiResponse {
	t.Helper()
	r := e.call(t, store.RoleAdmin, method, path, body)
	if r.code != want {
		t.Fatalf("%s %s %s: %d %s, want %d", method, path, body, r.code, r.body, want)
	}
	return r
}

// runJobs runs the due campaign jobs, as the job runner of yanit does,
// until none is left. The outbox's send jobs are left waiting: the
// messages stay queued.
func (e *campaignEnv) runJobs(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for range 100 {
		js, err := e.st.Claim(ctx, jobs.ClaimParams{Worker: "test", Kinds: []string{campaign.KindRun, campaign.KindStart},
			Limit: 1, Lease: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if len(js) == 0 {
			return
		}
		h := e.svc.Run
		if js[0].Kind == campaign.KindStart {
			h = e.svc.StartScheduled
		}
		if err := h(ctx, js[0]); err != nil {
			t.Fatalf("%s job: %v", js[0].Kind, err)
		}
		if err := e.st.Complete(ctx, "test", js[0].ID); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("campaign jobs keep coming")
}

// campaignCount is how many campaigns the store has.
func campaignCount(t *testing.T, st store.Store) int {
	t.Helper()
	cs, err := st.ListCampaigns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(cs)
}

// The JSON shapes of the campaign API the tests read back.
type (
	apiCampaignParam struct {
		Source    string `json:"source"`
		Attribute string `json:"attribute"`
		Default   string `json:"default"`
	}
	apiCampaign struct {
		ID       int64              `json:"id"`
		Name     string             `json:"name"`
		Number   string             `json:"number"`
		Template string             `json:"template"`
		Language string             `json:"language"`
		Category string             `json:"category"`
		Params   []apiCampaignParam `json:"params"`
		Segment  string             `json:"segment"`
		Filter   *struct {
			Tags []string `json:"tags"`
		} `json:"filter"`
		Status      string     `json:"status"`
		ScheduledAt *time.Time `json:"scheduled_at"`
		TimeZone    string     `json:"time_zone"`
		CreatedBy   string     `json:"created_by"`
		StartedAt   *time.Time `json:"started_at"`
		FinishedAt  *time.Time `json:"finished_at"`
		CreatedAt   *time.Time `json:"created_at"`
	}
	apiStats struct {
		Recipients    int            `json:"recipients"`
		Pending       int            `json:"pending"`
		Skipped       int            `json:"skipped"`
		SkippedBy     map[string]int `json:"skipped_by"`
		Queued        int            `json:"queued"`
		Sent          int            `json:"sent"`
		Delivered     int            `json:"delivered"`
		Read          int            `json:"read"`
		Failed        int            `json:"failed"`
		FailedBy      map[string]int `json:"failed_by"`
		Replied       *int           `json:"replied"`
		OptedOutAfter *int           `json:"opted_out_after"`
		DeliveryRate  *float64       `json:"delivery_rate"`
		ReadRate      *float64       `json:"read_rate"`
	}
	apiRecipient struct {
		ContactID     int64      `json:"contact_id"`
		Phone         string     `json:"phone"`
		Status        string     `json:"status"`
		SkipReason    string     `json:"skip_reason"`
		MessageID     int64      `json:"message_id"`
		MessageStatus string     `json:"message_status"`
		ErrorCode     int        `json:"error_code"`
		QueuedAt      *time.Time `json:"queued_at"`
	}
	apiSegment struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		Count       int    `json:"count"`
		Filter      struct {
			Tags             []string `json:"tags"`
			ActiveWithinDays int      `json:"active_within_days"`
		} `json:"filter"`
		Sample []struct {
			ContactID int64    `json:"contact_id"`
			Phone     string   `json:"phone"`
			Locale    string   `json:"locale"`
			Tags      []string `json:"tags"`
		} `json:"sample"`
	}
)

// campaignOf decodes {"campaign": ...}.
func campaignOf(t *testing.T, r apiResponse) apiCampaign {
	t.Helper()
	var body struct {
		Campaign *apiCampaign `json:"campaign"`
	}
	r.decode(t, &body)
	if body.Campaign == nil {
		t.Fatalf("no campaign in %s", r.body)
	}
	return *body.Campaign
}

// A draft of bahar_indirimi to vip, as the API takes it.
const baharBody = `{"name":"Bahar","template":"bahar_indirimi","language":"tr","segment":"vip",
	"params":[{"source":"name","default":"değerli müşterimiz"},{"source":"attr","attribute":"city","default":"tüm"}]}`

// Only admins reach the campaign routes: agents, the content team and QA
// are refused before anything is read or changed, told the role they need.
func TestCampaignRoutesAreAdmins(t *testing.T) {
	for name, open := range apiStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newCampaignEnv(t, open(t))
			draft := campaignOf(t, e.admin(t, http.MethodPost, "/api/v1/campaigns", baharBody, http.StatusCreated))
			one := fmt.Sprintf("/api/v1/campaigns/%d", draft.ID)
			routes := []struct{ method, path, body string }{
				{http.MethodGet, "/api/v1/campaigns", ""},
				{http.MethodPost, "/api/v1/campaigns", strings.Replace(baharBody, `"Bahar"`, `"Bahar 2"`, 1)},
				{http.MethodGet, "/api/v1/campaigns/templates", ""},
				{http.MethodGet, one, ""},
				{http.MethodGet, one + "/recipients", ""},
				{http.MethodPost, one + "/schedule", `{"scheduled_at":"2099-01-01T10:00","time_zone":"Europe/Istanbul"}`},
				{http.MethodPost, one + "/start", ""},
				{http.MethodPost, one + "/pause", ""},
				{http.MethodPost, one + "/resume", ""},
				{http.MethodPost, one + "/cancel", ""},
				{http.MethodDelete, one, ""},
				{http.MethodGet, "/api/v1/segments", ""},
				{http.MethodGet, "/api/v1/segments/vip/preview", ""},
			}
			before := lastAuditID(t, e.st)
			for _, role := range []string{store.RoleAgent, store.RoleContent, store.RoleQA} {
				for _, rt := range routes {
					r := e.call(t, role, rt.method, rt.path, rt.body)
					if r.code != http.StatusForbidden || !strings.Contains(errorOf(t, r), "needs the role admin") {
						t.Errorf("%s %s as %s: %d %s, want 403 naming the role admin", rt.method, rt.path, role, r.code, r.body)
					}
					if strings.Contains(r.body, "Bahar") || strings.Contains(r.body, "0001") {
						t.Errorf("%s %s as %s: the refusal shows data: %s", rt.method, rt.path, role, r.body)
					}
				}
			}
			got, err := e.st.GetCampaignByID(context.Background(), draft.ID)
			if err != nil || got.Status != store.CampaignDraft || !got.ScheduledAt.IsZero() {
				t.Errorf("after refused calls the campaign is %+v, %v; want the draft unchanged", got, err)
			}
			if n := campaignCount(t, e.st); n != 1 {
				t.Errorf("refused calls left %d campaigns, want the one draft", n)
			}
			if es := auditSince(t, e.st, before); len(es) != 0 {
				t.Errorf("refused calls wrote the audit log:%s", describe(es))
			}
			// The admin passes each of them.
			for _, rt := range routes {
				if r := e.call(t, store.RoleAdmin, rt.method, rt.path, rt.body); r.code == http.StatusForbidden || r.code >= 500 {
					t.Errorf("%s %s as admin: %d %s", rt.method, rt.path, r.code, r.body)
				}
			}
		})
	}
}

// A campaign that cannot be made is refused with 400 naming what is
// wrong, and nothing is stored.
func TestCampaignCreateRefusesBadInput(t *testing.T) {
	for name, open := range apiStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newCampaignEnv(t, open(t))
			past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
			for _, c := range []struct {
				name, body string
				want       []string // in the error
			}{
				{"unknown template", `{"name":"X","template":"yok_boyle","language":"tr","segment":"vip","params":[]}`,
					[]string{`template "yok_boyle"`, "approved: bahar_indirimi (tr)"}},
				{"template in another language", `{"name":"X","template":"bahar_indirimi","language":"en","segment":"vip","params":[{"source":"name"},{"source":"name"}]}`,
					[]string{`template "bahar_indirimi" in language "en"`}},
				{"a missing parameter", `{"name":"X","template":"bahar_indirimi","language":"tr","segment":"vip","params":[{"source":"name"}]}`,
					[]string{"params", "2 placeholders", "got 1"}},
				{"no parameters", `{"name":"X","template":"siparis_hazir","language":"tr","segment":"vip"}`,
					[]string{"params", "1 placeholder", "got 0"}},
				{"unknown segment", `{"name":"X","template":"siparis_hazir","language":"tr","segment":"yok","params":[{"source":"name"}]}`,
					[]string{`segment "yok"`, "no segment of that name"}},
				{"unknown source", `{"name":"X","template":"siparis_hazir","language":"tr","segment":"vip","params":[{"source":"email"}]}`,
					[]string{"{{1}}", `source "email"`}},
				{"attribute without its name", `{"name":"X","template":"siparis_hazir","language":"tr","segment":"vip","params":[{"source":"attr"}]}`,
					[]string{"{{1}}", "attribute"}},
				{"empty name", `{"name":"","template":"siparis_hazir","language":"tr","segment":"vip","params":[{"source":"name"}]}`,
					[]string{"campaign name", "empty"}},
				{"no template", `{"name":"X","segment":"vip"}`, []string{"template", "empty"}},
				{"ambiguous language left out", `{"name":"X","template":"siparis_hazir","segment":"vip","params":[{"source":"name"}]}`,
					[]string{"language", "empty"}},
				{"a misspelled field", `{"name":"X","template":"siparis_hazir","language":"tr","segmnt":"vip"}`,
					[]string{`unknown field "segmnt"`}},
				{"params not a list", `{"name":"X","template":"siparis_hazir","language":"tr","segment":"vip","params":"name"}`,
					[]string{"params", "want a JSON array"}},
				{"a default not text", `{"name":"X","template":"siparis_hazir","language":"tr","segment":"vip","params":[{"source":"name","default":7}]}`,
					[]string{"params.default", "want a JSON string"}},
				{"not JSON", `name=X`, []string{"not the JSON object expected"}},
				{"scheduled in the past", `{"name":"X","template":"siparis_hazir","language":"tr","segment":"vip","params":[{"source":"name"}],"scheduled_at":"` + past + `"}`,
					[]string{"scheduled_at", "in the past"}},
				{"a local time without its zone", `{"name":"X","template":"siparis_hazir","language":"tr","segment":"vip","params":[{"source":"name"}],"scheduled_at":"2099-05-01T10:00"}`,
					[]string{"time_zone", "required"}},
				{"an unknown zone", `{"name":"X","template":"siparis_hazir","language":"tr","segment":"vip","params":[{"source":"name"}],"scheduled_at":"2099-05-01T10:00","time_zone":"Mars/Olympus"}`,
					[]string{`time_zone "Mars/Olympus"`, "IANA"}},
				{"a time that is no time", `{"name":"X","template":"siparis_hazir","language":"tr","segment":"vip","params":[{"source":"name"}],"scheduled_at":"yarın","time_zone":"Europe/Istanbul"}`,
					[]string{`scheduled_at "yarın"`, "RFC 3339"}},
				{"a zone without a time", `{"name":"X","template":"siparis_hazir","language":"tr","segment":"vip","params":[{"source":"name"}],"time_zone":"Europe/Istanbul"}`,
					[]string{"scheduled_at", "required"}},
			} {
				r := e.call(t, store.RoleAdmin, http.MethodPost, "/api/v1/campaigns", c.body)
				if r.code != http.StatusBadRequest {
					t.Errorf("%s: %d %s, want 400", c.name, r.code, r.body)
					continue
				}
				msg := errorOf(t, r)
				for _, w := range c.want {
					if !strings.Contains(msg, w) {
						t.Errorf("%s: error %q, want it to say %q", c.name, msg, w)
					}
				}
			}
			huge := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`
			if r := e.call(t, store.RoleAdmin, http.MethodPost, "/api/v1/campaigns", huge); r.code != http.StatusRequestEntityTooLarge {
				t.Errorf("a body over the limit: %d %.200s, want 413", r.code, r.body)
			}
			if n := campaignCount(t, e.st); n != 0 {
				t.Errorf("refused creations stored %d campaigns", n)
			}
			// A name that is taken is a conflict.
			e.admin(t, http.MethodPost, "/api/v1/campaigns", baharBody, http.StatusCreated)
			if r := e.call(t, store.RoleAdmin, http.MethodPost, "/api/v1/campaigns", baharBody); r.code != http.StatusConflict ||
				!strings.Contains(errorOf(t, r), `"Bahar"`) {
				t.Errorf("the same name again: %d %s, want 409 naming it", r.code, r.body)
			}
		})
	}
}

// An admin makes a campaign, moves it through its states (start, pause,
// resume, cancel; an illegal move is a conflict), schedules another and
// deletes it, and reads a campaign that ran: its stats and recipients.
// Every change is in the audit log.
func TestCampaignAPI(t *testing.T) {
	for name, open := range apiStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newCampaignEnv(t, open(t))
			ctx := context.Background()
			before := lastAuditID(t, e.st)

			// Made as a draft, as asked.
			c := campaignOf(t, e.admin(t, http.MethodPost, "/api/v1/campaigns", baharBody, http.StatusCreated))
			if c.Name != "Bahar" || c.Status != store.CampaignDraft || c.Template != "bahar_indirimi" || c.Language != "tr" ||
				c.Category != "marketing" || c.Segment != "vip" || c.Number != campaignNumber || c.CreatedBy != "admin-user" ||
				c.CreatedAt == nil || c.StartedAt != nil || c.Filter != nil || c.ScheduledAt != nil {
				t.Errorf("created %+v, want the draft asked for, by admin-user", c)
			}
			wantParams := []apiCampaignParam{{Source: "name", Default: "değerli müşterimiz"}, {Source: "attr", Attribute: "city", Default: "tüm"}}
			if !slices.Equal(c.Params, wantParams) {
				t.Errorf("params %+v, want %+v", c.Params, wantParams)
			}
			one := fmt.Sprintf("/api/v1/campaigns/%d", c.ID)

			// The list shows it with its counts, nothing yet.
			var list struct {
				Campaigns []struct {
					apiCampaign
					Stats *apiStats `json:"stats"`
				} `json:"campaigns"`
			}
			e.admin(t, http.MethodGet, "/api/v1/campaigns", "", http.StatusOK).decode(t, &list)
			if len(list.Campaigns) != 1 || list.Campaigns[0].ID != c.ID || list.Campaigns[0].Status != store.CampaignDraft ||
				list.Campaigns[0].Stats == nil || list.Campaigns[0].Stats.Recipients != 0 || list.Campaigns[0].Stats.DeliveryRate != nil {
				t.Errorf("list %+v, want the draft with zero counts and no delivery rate", list.Campaigns)
			}

			// start → pause → resume → cancel, each answering the campaign.
			move := func(verb string, want string) apiCampaign {
				t.Helper()
				got := campaignOf(t, e.admin(t, http.MethodPost, one+"/"+verb, "", http.StatusOK))
				if got.Status != want {
					t.Errorf("%s: status %s, want %s", verb, got.Status, want)
				}
				return got
			}
			refuse := func(method, path, body, says string) {
				t.Helper()
				r := e.call(t, store.RoleAdmin, method, path, body)
				if r.code != http.StatusConflict || !strings.Contains(errorOf(t, r), says) {
					t.Errorf("%s %s: %d %s, want 409 saying %q", method, path, r.code, r.body, says)
				}
			}
			refuse(http.MethodPost, one+"/pause", "", "is draft and cannot become paused")
			running := move("start", store.CampaignRunning)
			if running.StartedAt == nil || running.Filter == nil || !slices.Equal(running.Filter.Tags, []string{"vip"}) {
				t.Errorf("started %+v, want its start time and the segment's filter", running)
			}
			refuse(http.MethodPost, one+"/start", "", "is running and cannot become running")
			refuse(http.MethodDelete, one, "", "")
			move("pause", store.CampaignPaused)
			refuse(http.MethodPost, one+"/pause", "", "is paused and cannot become paused")
			move("resume", store.CampaignRunning)
			cancelled := move("cancel", store.CampaignCancelled)
			if cancelled.FinishedAt == nil {
				t.Errorf("cancelled %+v, want its end time", cancelled)
			}
			refuse(http.MethodPost, one+"/resume", "", "is cancelled and cannot become running")
			refuse(http.MethodPost, one+"/cancel", "", "is cancelled and cannot become cancelled")
			refuse(http.MethodPost, one+"/schedule", `{"scheduled_at":"2099-01-01T10:00:00Z"}`, "is cancelled and cannot become scheduled")

			// Every change is in the audit log: the API's entry and the
			// service's, by the admin.
			var actions []string
			for _, x := range auditSince(t, e.st, before) {
				if x.Actor != "admin-user" || x.ActorID != e.user[store.RoleAdmin].ID {
					t.Errorf("audit entry %s %s by %q (%d), want admin-user", x.Action, x.Target, x.Actor, x.ActorID)
				}
				actions = append(actions, x.Action+" "+x.Target)
			}
			id := fmt.Sprint(c.ID)
			for _, w := range []string{"campaign.created campaign:" + id, "api.post campaigns",
				"campaign.started campaign:" + id, "api.post campaigns/" + id + "/start",
				"campaign.paused campaign:" + id, "api.post campaigns/" + id + "/pause",
				"campaign.resumed campaign:" + id, "api.post campaigns/" + id + "/resume",
				"campaign.cancelled campaign:" + id, "api.post campaigns/" + id + "/cancel"} {
				if !slices.Contains(actions, w) {
					t.Errorf("the audit log lacks %q: %q", w, actions)
				}
			}
			if len(actions) != 10 {
				t.Errorf("the audit log has %d entries, want 10 (refused moves record nothing): %q", len(actions), actions)
			}

			// Scheduled at 10:00 in İstanbul (UTC+3): 07:00 UTC. Scheduled
			// again, then deleted.
			sched := campaignOf(t, e.admin(t, http.MethodPost, "/api/v1/campaigns",
				`{"name":"Sipariş","template":"siparis_hazir","language":"tr","segment":"herkes","params":[{"source":"name"}],
				  "scheduled_at":"2099-05-01T10:00","time_zone":"Europe/Istanbul"}`, http.StatusCreated))
			if want := time.Date(2099, 5, 1, 7, 0, 0, 0, time.UTC); sched.Status != store.CampaignScheduled ||
				sched.ScheduledAt == nil || !sched.ScheduledAt.Equal(want) || sched.TimeZone != "Europe/Istanbul" || sched.Category != "utility" {
				t.Errorf("scheduled %+v, want scheduled at %s in Europe/Istanbul", sched, want)
			}
			two := fmt.Sprintf("/api/v1/campaigns/%d", sched.ID)
			again := campaignOf(t, e.admin(t, http.MethodPost, two+"/schedule", `{"scheduled_at":"2099-06-01T09:30:00+02:00"}`, http.StatusOK))
			if want := time.Date(2099, 6, 1, 7, 30, 0, 0, time.UTC); again.ScheduledAt == nil || !again.ScheduledAt.Equal(want) || again.TimeZone != "UTC" {
				t.Errorf("scheduled again %+v, want %s in UTC", again, want)
			}
			if r := e.call(t, store.RoleAdmin, http.MethodPost, two+"/schedule", `{"scheduled_at":"2001-01-01T10:00:00Z"}`); r.code != http.StatusBadRequest ||
				!strings.Contains(errorOf(t, r), "in the past") {
				t.Errorf("scheduled in the past: %d %s, want 400", r.code, r.body)
			}
			e.admin(t, http.MethodDelete, two, "", http.StatusNoContent)
			e.admin(t, http.MethodGet, two, "", http.StatusNotFound)
			e.admin(t, http.MethodDelete, two, "", http.StatusNotFound)
			for _, path := range []string{"/api/v1/campaigns/987654", "/api/v1/campaigns/987654/recipients"} {
				e.admin(t, http.MethodGet, path, "", http.StatusNotFound)
			}
			e.admin(t, http.MethodPost, "/api/v1/campaigns/987654/start", "", http.StatusNotFound)
			e.admin(t, http.MethodGet, "/api/v1/campaigns/abc", "", http.StatusBadRequest)

			// A campaign that ran: five of the seven members have a
			// marketing consent; one refused it, one never gave it.
			ran := campaignOf(t, e.admin(t, http.MethodPost, "/api/v1/campaigns",
				strings.Replace(baharBody, `"Bahar"`, `"Bahar 2"`, 1), http.StatusCreated))
			three := fmt.Sprintf("/api/v1/campaigns/%d", ran.ID)
			move3 := campaignOf(t, e.admin(t, http.MethodPost, three+"/start", "", http.StatusOK))
			if move3.Status != store.CampaignRunning {
				t.Fatalf("started %+v", move3)
			}
			e.runJobs(t)
			// What WhatsApp made of the messages: three delivered (one of
			// them read), one failed.
			rs, err := e.st.ListCampaignRecipients(ctx, ran.ID, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			var queued []store.CampaignRecipient
			for _, r := range rs {
				if r.Status == store.RecipientQueued {
					queued = append(queued, r)
				}
			}
			if len(queued) != 5 {
				t.Fatalf("%d recipients queued, want 5: %+v", len(queued), rs)
			}
			for i, r := range queued[:4] {
				wamid := fmt.Sprintf("wamid.CAMPAIGN%d", i)
				if err := e.st.RecordSend(ctx, r.MessageID, wamid, time.Now()); err != nil {
					t.Fatal(err)
				}
				status := []string{store.StatusRead, store.StatusDelivered, store.StatusDelivered, store.StatusFailed}[i]
				code := map[string]int{store.StatusFailed: 131049}[status]
				if _, err := e.st.UpdateMessageStatus(ctx, wamid, status, code, ""); err != nil {
					t.Fatal(err)
				}
			}

			var got struct {
				Campaign apiCampaign `json:"campaign"`
				Stats    apiStats    `json:"stats"`
			}
			e.admin(t, http.MethodGet, three, "", http.StatusOK).decode(t, &got)
			s := got.Stats
			if got.Campaign.Status != store.CampaignDone || got.Campaign.FinishedAt == nil {
				t.Errorf("the campaign that ran is %+v, want done", got.Campaign)
			}
			if s.Recipients != 7 || s.Pending != 0 || s.Skipped != 2 || s.Queued != 5 || s.Sent != 3 || s.Delivered != 3 ||
				s.Read != 1 || s.Failed != 1 || s.Replied == nil || *s.Replied != 0 || s.OptedOutAfter == nil {
				t.Errorf("stats %+v, want 7 recipients: 2 skipped, 5 queued, 3 delivered (1 read), 1 failed", s)
			}
			if want := map[string]int{store.SkipOptedOut: 1, store.SkipNoConsent: 1}; !sameCounts(s.SkippedBy, want) {
				t.Errorf("skipped_by %v, want %v", s.SkippedBy, want)
			}
			if want := map[string]int{"131049": 1}; !sameCounts(s.FailedBy, want) {
				t.Errorf("failed_by %v, want %v", s.FailedBy, want)
			}
			if s.DeliveryRate == nil || *s.DeliveryRate != 0.6 || s.ReadRate == nil || *s.ReadRate != 1.0/3 {
				t.Errorf("rates %s and %s, want delivery 3/5 and read 1/3", rateText(s.DeliveryRate), rateText(s.ReadRate))
			}
			e.admin(t, http.MethodGet, "/api/v1/campaigns", "", http.StatusOK).decode(t, &list)
			for _, x := range list.Campaigns {
				if x.ID == ran.ID && (x.Stats.Recipients != 7 || x.Stats.Delivered != 3 || x.Stats.Read != 1 ||
					x.Stats.DeliveryRate == nil || *x.Stats.DeliveryRate != 0.6) {
					t.Errorf("the list shows %+v, want the stats of the campaign", x.Stats)
				}
			}

			// The recipients, three a page, by contact: every member once,
			// each number masked.
			var pages [][]apiRecipient
			after := int64(0)
			for range 10 {
				var page struct {
					Recipients []apiRecipient `json:"recipients"`
					NextAfter  *int64         `json:"next_after"`
				}
				e.admin(t, http.MethodGet, fmt.Sprintf("%s/recipients?limit=3&after=%d", three, after), "", http.StatusOK).decode(t, &page)
				pages = append(pages, page.Recipients)
				if page.NextAfter == nil {
					break
				}
				after = *page.NextAfter
			}
			if len(pages) != 3 || len(pages[0]) != 3 || len(pages[1]) != 3 || len(pages[2]) != 1 {
				t.Fatalf("pages of %v recipients, want 3, 3 and 1", pageSizes(pages))
			}
			statusOf := map[int64]string{}
			for i, r := range slices.Concat(pages...) {
				member := e.vip[i]
				if r.ContactID != member.ID || r.Phone != privacy.MaskPhone(member.WaID) || strings.Contains(r.Phone, member.WaID[:8]) ||
					!strings.HasSuffix(r.Phone, member.WaID[len(member.WaID)-4:]) || r.QueuedAt == nil {
					t.Errorf("recipient %d: %+v, want contact %d with the phone masked as %s", i, r, member.ID, privacy.MaskPhone(member.WaID))
				}
				switch r.Status {
				case store.RecipientQueued:
					if r.MessageID == 0 || r.MessageStatus == "" || r.SkipReason != "" {
						t.Errorf("queued recipient %+v, want its message and status", r)
					}
				case store.RecipientSkipped:
					if r.MessageID != 0 || r.SkipReason == "" {
						t.Errorf("skipped recipient %+v, want a reason and no message", r)
					}
				}
				statusOf[r.ContactID] = r.Status + r.SkipReason + r.MessageStatus + fmt.Sprint(r.ErrorCode)
			}
			for i, want := range map[int]string{0: "queuedread0", 5: "skipped" + store.SkipOptedOut + "0", 6: "skipped" + store.SkipNoConsent + "0"} {
				if got := statusOf[e.vip[i].ID]; got != want {
					t.Errorf("recipient %s: %s, want %s", e.vip[i].Name, got, want)
				}
			}
			if !slices.Contains(slices.Collect(maps.Values(statusOf)), "queuedfailed131049") {
				t.Errorf("no recipient shows the failed message with its code: %v", statusOf)
			}
			for _, q := range []string{"limit=0", "limit=501", "limit=x", "after=-1"} {
				r := e.call(t, store.RoleAdmin, http.MethodGet, three+"/recipients?"+q, "")
				if name, _, _ := strings.Cut(q, "="); r.code != http.StatusBadRequest || !strings.HasPrefix(errorOf(t, r), name) {
					t.Errorf("recipients?%s: %d %s, want 400 naming %s", q, r.code, r.body, name)
				}
			}
		})
	}
}

func rateText(r *float64) string {
	if r == nil {
		return "null"
	}
	return fmt.Sprint(*r)
}

func sameCounts(got, want map[string]int) bool {
	for k, v := range got {
		if v != want[k] {
			return false
		}
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func pageSizes(pages [][]apiRecipient) []int {
	out := make([]int, len(pages))
	for i, p := range pages {
		out[i] = len(p)
	}
	return out
}

// The segments a campaign may go to, each counted now as the store counts
// it; a preview's count is the store's and its sample shows masked numbers.
func TestCampaignSegmentsAPI(t *testing.T) {
	for name, open := range apiStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newCampaignEnv(t, open(t))
			ctx := context.Background()
			count := func(name string) int {
				t.Helper()
				s, err := e.st.GetSegment(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				n, err := e.st.CountSegment(ctx, s.Filter, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			var list struct {
				Segments []apiSegment `json:"segments"`
			}
			e.admin(t, http.MethodGet, "/api/v1/segments", "", http.StatusOK).decode(t, &list)
			var names []string
			for _, s := range list.Segments {
				names = append(names, s.Name)
				if want := count(s.Name); s.Count != want {
					t.Errorf("segment %s: count %d, want the store's %d", s.Name, s.Count, want)
				}
			}
			if want := []string{"Yeni müşteriler", "herkes", "vip"}; !slices.Equal(names, want) {
				t.Errorf("segments %q, want %q", names, want)
			}
			if list.Segments[2].Count != 7 || list.Segments[1].Count != 9 || list.Segments[0].Count != 0 ||
				list.Segments[2].Description != "the best customers" || !slices.Equal(list.Segments[2].Filter.Tags, []string{"vip"}) {
				t.Errorf("segments %+v, want vip of 7 with its filter, herkes of 9, nobody active", list.Segments)
			}

			var p apiSegment
			e.admin(t, http.MethodGet, "/api/v1/segments/vip/preview", "", http.StatusOK).decode(t, &p)
			if p.Name != "vip" || p.Count != count("vip") || len(p.Sample) != 7 {
				t.Errorf("preview of vip: %s count %d sample %d, want the store's count %d and all 7 sampled", p.Name, p.Count, len(p.Sample), count("vip"))
			}
			members := map[int64]store.Contact{}
			for _, c := range e.vip {
				members[c.ID] = c
			}
			for _, m := range p.Sample {
				c, ok := members[m.ContactID]
				if !ok || m.Phone != privacy.MaskPhone(c.WaID) || strings.Contains(m.Phone, "90532") ||
					!slices.Contains(m.Tags, "vip") || m.Locale != "tr" {
					t.Errorf("sample member %+v, want a vip member with the phone masked", m)
				}
			}
			e.admin(t, http.MethodGet, "/api/v1/segments/herkes/preview?sample=2", "", http.StatusOK).decode(t, &p)
			if p.Count != 9 || len(p.Sample) != 2 {
				t.Errorf("preview of herkes with sample=2: count %d, %d sampled; want 9 and 2", p.Count, len(p.Sample))
			}
			e.admin(t, http.MethodGet, "/api/v1/segments/"+url.PathEscape("Yeni müşteriler")+"/preview", "", http.StatusOK).decode(t, &p)
			if p.Name != "Yeni müşteriler" || p.Count != 0 || p.Sample == nil || len(p.Sample) != 0 || p.Filter.ActiveWithinDays != 7 {
				t.Errorf("preview of an empty segment: %+v, want its name, 0 and an empty sample", p)
			}
			if r := e.call(t, store.RoleAdmin, http.MethodGet, "/api/v1/segments/yok/preview", ""); r.code != http.StatusNotFound ||
				!strings.Contains(errorOf(t, r), `segment "yok" not found`) {
				t.Errorf("preview of an unknown segment: %d %s, want 404 naming it", r.code, r.body)
			}
			for _, q := range []string{"sample=0", "sample=101", "sample=ten"} {
				if r := e.call(t, store.RoleAdmin, http.MethodGet, "/api/v1/segments/vip/preview?"+q, ""); r.code != http.StatusBadRequest ||
					!strings.HasPrefix(errorOf(t, r), "sample") {
					t.Errorf("preview?%s: %d %s, want 400 naming sample", q, r.code, r.body)
				}
			}
		})
	}
}

// The templates a campaign may send are the approved ones, with their
// category and how many placeholders they have.
func TestCampaignTemplatesAPI(t *testing.T) {
	e := newCampaignEnv(t, apiStores["sqlite"](t))
	var body struct {
		Templates []inbox.Template `json:"templates"`
	}
	e.admin(t, http.MethodGet, "/api/v1/campaigns/templates", "", http.StatusOK).decode(t, &body)
	if want := campaignTemplates(t); !slices.Equal(body.Templates, want) {
		t.Errorf("templates %+v, want %+v", body.Templates, want)
	}
	if b := body.Templates[0]; b.Category != "marketing" || b.Params != 2 || !strings.Contains(b.Body, "{{2}}") {
		t.Errorf("first template %+v, want bahar_indirimi: marketing, 2 placeholders", b)
	}
}

// Without the campaign service the changes and the templates answer 503;
// what the store holds can still be read.
func TestCampaignsNotWired(t *testing.T) {
	st := apiStores["sqlite"](t)
	base, _ := apiServer(t, st)
	auth := "Bearer " + addUser(t, st, "admin-user", store.RoleAdmin)
	for _, c := range []struct {
		method, path, body string
		code               int
	}{
		{http.MethodPost, "/api/v1/campaigns", baharBody, http.StatusServiceUnavailable},
		{http.MethodGet, "/api/v1/campaigns/templates", "", http.StatusServiceUnavailable},
		{http.MethodPost, "/api/v1/campaigns/1/start", "", http.StatusServiceUnavailable},
		{http.MethodDelete, "/api/v1/campaigns/1", "", http.StatusServiceUnavailable},
		{http.MethodGet, "/api/v1/campaigns", "", http.StatusOK},
		{http.MethodGet, "/api/v1/segments", "", http.StatusOK},
		{http.MethodGet, "/api/v1/campaigns/1", "", http.StatusNotFound},
	} {
		var body *strings.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		var r apiResponse
		if body != nil {
			r = privacyCall(t, c.method, base+c.path, auth, "application/json", body)
		} else {
			r = privacyCall(t, c.method, base+c.path, auth, "", nil)
		}
		if r.code != c.code {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, r.code, r.body, c.code)
		}
		if c.code == http.StatusServiceUnavailable && !strings.Contains(errorOf(t, r), "campaigns are not ready") {
			t.Errorf("%s %s: %s, want the reason", c.method, c.path, r.body)
		}
	}
}

// The campaigns page is the admins': it is served with the strict content
// policy, its one script and the session's CSRF token, and the navigation
// links it for admins only; the other roles are refused.
func TestCampaignsConsolePage(t *testing.T) {
	st := apiStores["sqlite"](t)
	for _, role := range store.Roles {
		addPerson(t, st, role+"-user", role, consolePassword, nil)
	}
	base, _ := consoleServer(t, st)
	for _, role := range store.Roles {
		b := newBrowser(t, base)
		if r := b.signIn(role+"-user", consolePassword, "", nil); r.code != http.StatusSeeOther {
			t.Fatalf("sign-in of %s: %d", role, r.code)
		}
		r := b.get("/console/campaigns")
		if role != store.RoleAdmin {
			if r.code != http.StatusForbidden || !strings.Contains(r.body, "needs the role admin") {
				t.Errorf("campaigns page as %s: %d %s, want 403 naming the role admin", role, r.code, r.body)
			}
			if home := b.get("/console/"); home.code == http.StatusSeeOther {
				if page := b.get(home.header.Get("Location")); strings.Contains(page.body, `href="/console/campaigns"`) {
					t.Errorf("the navigation of %s links the campaigns page", role)
				}
			}
			continue
		}
		if r.code != http.StatusOK {
			t.Fatalf("campaigns page as admin: %d %s", r.code, r.body)
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("Content-Security-Policy %q, want the console's strict policy", csp)
		}
		for _, want := range []string{`<script src="/console/static/campaigns.js"></script>`, `<meta name="csrf-token" content="` + b.csrf() + `">`,
			`<a href="/console/campaigns" aria-current="page">Campaigns</a>`, `name="time_zone" list="time-zones" value="Europe/Istanbul"`,
			`id="chart-counts"`, `id="segment-count"`} {
			if !strings.Contains(r.body, want) {
				t.Errorf("the campaigns page lacks %s", want)
			}
		}
		if strings.Count(r.body, "<script") != 1 || strings.Contains(r.body, "style=") || strings.Contains(r.body, "<style") ||
			regexp.MustCompile(`\son[a-z]+=`).MatchString(r.body) {
			t.Error("the campaigns page has inline script or style")
		}
		js := b.get("/console/static/campaigns.js")
		if js.code != http.StatusOK || !strings.Contains(js.body, `fetch("/api/v1" + path`) || strings.Contains(js.body, "innerHTML") {
			t.Errorf("campaigns.js: %d, want the script, calling the API, never writing HTML", js.code)
		}
		// The page's changes go with the session's CSRF token.
		header := http.Header{"Content-Type": {"application/json"}}
		if r := b.do(http.MethodPost, "/api/v1/campaigns", strings.NewReader(baharBody), header); r.code != http.StatusForbidden ||
			!strings.Contains(r.body, "CSRF") {
			t.Errorf("a change with the cookie and no CSRF token: %d %s, want 403", r.code, r.body)
		}
		header.Set(CSRFHeader, b.csrf())
		if r := b.do(http.MethodPost, "/api/v1/campaigns", strings.NewReader(baharBody), header); r.code != http.StatusServiceUnavailable {
			t.Errorf("a change with the CSRF token: %d %s, want it through to the missing campaign service (503)", r.code, r.body)
		}
	}
}
