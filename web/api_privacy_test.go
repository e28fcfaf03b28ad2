package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yanit/yanit/inbox"
	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
)

// privacyEnv is a server over a real store holding the API fixture (seed),
// a ticket of each contact, a pending job of Ayşe's conversation, and a
// user of every role.
type privacyEnv struct {
	st      store.Store
	f       fixture
	base    string
	logs    *syncBuffer
	ticket  store.Ticket          // Ayşe's, default team, two events
	billing store.Ticket          // Can's, team billing
	auth    map[string]string     // the Authorization header of each role's user
	user    map[string]store.User // each role's user
	tools   *privacyTools
}

// privacyLogins are the users of newPrivacyEnv by role; the admin is the
// data protection officer.
var privacyLogins = map[string]string{store.RoleAdmin: "dpo", store.RoleAgent: "agent-user", store.RoleContent: "content-user", store.RoleQA: "qa-user"}

func newPrivacyEnv(t *testing.T, st store.Store) *privacyEnv {
	t.Helper()
	ctx := context.Background()
	e := &privacyEnv{st: st, f: seed(t, st), auth: map[string]string{}, user: map[string]store.User{}, tools: &privacyTools{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	e.ticket, _, err = st.OpenTicket(ctx, store.Ticket{ConversationID: e.f.open.ID, ContactID: e.f.ayse.ID, Reason: "complaint",
		Pack: json.RawMessage(`{"summary":"kargo gecikti"}`)})
	must(err)
	for _, kind := range []string{"created", "note"} {
		_, err = st.AddTicketEvent(ctx, store.TicketEvent{TicketID: e.ticket.ID, Kind: kind, Data: json.RawMessage(`{"text":"` + kind + `"}`)})
		must(err)
	}
	e.billing, _, err = st.OpenTicket(ctx, store.Ticket{ConversationID: e.f.closed.ID, ContactID: e.f.can.ID, Team: "billing", Reason: "complaint"})
	must(err)
	_, err = st.Enqueue(ctx, jobs.EnqueueParams{Kind: "turn", Key: store.TurnKey(e.f.open.ID),
		Payload: json.RawMessage(fmt.Sprintf(`{"conversation_id":%d}`, e.f.open.ID))})
	must(err)
	for _, role := range store.Roles {
		login := privacyLogins[role]
		e.auth[role] = "Bearer " + addUser(t, st, login, role)
		e.user[role], err = st.GetUserByLogin(ctx, login)
		must(err)
	}
	e.logs = &syncBuffer{}
	s, err := NewServer(Options{Registry: prometheus.NewRegistry(),
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	must(err)
	s.SetBackend(Backend{Store: st, Tools: e.tools, Knowledge: newTestKnowledge(st), Inbox: inbox.NewService(st, inbox.NewLocalBus(), inbox.Options{})})
	e.base = httpServer(t, s)
	return e
}

// call sends a request as role's user; a string body is sent as JSON.
func (e *privacyEnv) call(t *testing.T, role, method, path string, body string) apiResponse {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	return privacyCall(t, method, e.base+path, e.auth[role], "application/json", r)
}

// privacyCall sends a request with the Authorization header.
func privacyCall(t *testing.T, method, url, authorization, contentType string, body io.Reader) apiResponse {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return apiResponse{code: res.StatusCode, header: res.Header, body: string(b)}
}

// errorOf returns the error message of an answer.
func errorOf(t *testing.T, r apiResponse) string {
	t.Helper()
	var body struct{ Error string }
	r.decode(t, &body)
	return body.Error
}

// auditSince returns the entries of the audit log with ids above after,
// oldest first, read from the store.
func auditSince(t *testing.T, st store.Store, after int64) []store.AuditEntry {
	t.Helper()
	all, err := st.ListAudit(context.Background(), store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditEntry
	for _, e := range slices.Backward(all) {
		// The test's own reads of the contact (contact.viewed, checked in
		// "consents") are left out.
		if e.ID > after && e.Action != "contact.viewed" {
			out = append(out, e)
		}
	}
	return out
}

// lastAuditID is the id of the newest entry of the audit log, 0 if none.
func lastAuditID(t *testing.T, st store.Store) int64 {
	t.Helper()
	es, err := st.ListAudit(context.Background(), store.AuditFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) == 0 {
		return 0
	}
	return es[0].ID
}

// describe lists entries for a failure message.
func describe(es []store.AuditEntry) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "\n  %d %s %s %s %s", e.ID, e.Actor, e.Action, e.Target, e.Detail)
	}
	if b.Len() == 0 {
		return " none"
	}
	return b.String()
}

// privacyTools is a tool admin that keeps the sets it is given.
type privacyTools struct {
	mu   sync.Mutex
	sets map[string]string
}

func (p *privacyTools) ListTools() []ToolInfo { return []ToolInfo{} }

func (p *privacyTools) PutToolSet(_ context.Context, name string, body []byte) ([]string, error) {
	if !bytes.Contains(body, []byte("tools:")) {
		return nil, fmt.Errorf("tool set %s: no tools: %w", name, ErrInvalidInput)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sets == nil {
		p.sets = map[string]string{}
	}
	p.sets[name] = string(body)
	return []string{name + "_lookup"}, nil
}

func (p *privacyTools) DeleteToolSet(_ context.Context, name string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.sets[name]; !ok {
		return fmt.Errorf("tool set %s: %w", name, store.ErrNotFound)
	}
	delete(p.sets, name)
	return nil
}

// The JSON shapes of the privacy API the tests read back.
type (
	privacyConsent struct {
		ID            int64     `json:"id"`
		Purpose       string    `json:"purpose"`
		Granted       bool      `json:"granted"`
		Source        string    `json:"source"`
		PolicyVersion string    `json:"policy_version"`
		At            time.Time `json:"at"`
	}
	privacyContact struct {
		Contact struct {
			ID              int64  `json:"id"`
			WaID            string `json:"wa_id"`
			Name            string `json:"name"`
			MarketingOptOut bool   `json:"marketing_opt_out"`
		} `json:"contact"`
		Consents []privacyConsent `json:"consents"`
		History  []privacyConsent `json:"history"`
	}
	privacyAudit struct {
		Entries []struct {
			ID      int64           `json:"id"`
			Actor   string          `json:"actor"`
			ActorID int64           `json:"actor_id"`
			Action  string          `json:"action"`
			Target  string          `json:"target"`
			Address string          `json:"address"`
			Detail  json.RawMessage `json:"detail"`
			At      time.Time       `json:"at"`
		} `json:"entries"`
	}
)

// Only admins reach the privacy routes: every other role is refused
// before anything is read or changed, and is told which role it needs.
func TestPrivacyRoutesAreAdmins(t *testing.T) {
	e := newPrivacyEnv(t, apiStores["sqlite"](t))
	ctx := context.Background()
	ayse := fmt.Sprintf("/api/v1/privacy/contacts/%d", e.f.ayse.ID)
	routes := []struct{ method, path, body string }{
		{http.MethodGet, ayse, ""},
		{http.MethodPost, ayse + "/consents", `{"purpose":"marketing","granted":false}`},
		{http.MethodGet, ayse + "/export", ""},
		{http.MethodGet, "/api/v1/privacy/audit", ""},
		{http.MethodDelete, ayse, ""},
	}
	before := lastAuditID(t, e.st)
	for _, role := range []string{store.RoleAgent, store.RoleContent, store.RoleQA} {
		for _, rt := range routes {
			r := e.call(t, role, rt.method, rt.path, rt.body)
			if r.code != http.StatusForbidden || !strings.Contains(errorOf(t, r), "needs the role admin") {
				t.Errorf("%s %s as %s: %d %s, want 403 naming the role admin", rt.method, rt.path, role, r.code, r.body)
			}
			if strings.Contains(r.body, "Ayşe") || strings.Contains(r.body, "905321234567") {
				t.Errorf("%s %s as %s: the refusal shows the contact: %s", rt.method, rt.path, role, r.body)
			}
		}
	}
	if got, err := e.st.GetContact(ctx, e.f.ayse.ID); err != nil || got.MarketingOptOut {
		t.Errorf("after refused calls the contact is %+v, %v; want it there and unchanged", got, err)
	}
	if ks, err := e.st.ListConsents(ctx, e.f.ayse.ID); err != nil || len(ks) != 0 {
		t.Errorf("refused calls recorded consents %+v, %v", ks, err)
	}
	if es := auditSince(t, e.st, before); len(es) != 0 {
		t.Errorf("refused calls wrote the audit log:%s", describe(es))
	}
	wantCodes := []int{http.StatusOK, http.StatusCreated, http.StatusOK, http.StatusOK, http.StatusOK}
	for i, rt := range routes {
		if r := e.call(t, store.RoleAdmin, rt.method, rt.path, rt.body); r.code != wantCodes[i] {
			t.Errorf("%s %s as admin: %d %s, want %d", rt.method, rt.path, r.code, r.body, wantCodes[i])
		}
	}
}

// The data protection officer's work on one store: consents recorded and
// read, a contact's data exported, the audit log searched, the contact
// erased.
func TestPrivacyAPI(t *testing.T) {
	for name, open := range apiStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newPrivacyEnv(t, open(t))
			ctx := context.Background()
			dpo := e.user[store.RoleAdmin]
			ayse := fmt.Sprintf("/api/v1/privacy/contacts/%d", e.f.ayse.ID)
			can := fmt.Sprintf("/api/v1/privacy/contacts/%d", e.f.can.ID)
			getContact := func(path string) privacyContact {
				t.Helper()
				r := e.call(t, store.RoleAdmin, http.MethodGet, path, "")
				if r.code != http.StatusOK {
					t.Fatalf("GET %s: %d %s", path, r.code, r.body)
				}
				var pc privacyContact
				r.decode(t, &pc)
				return pc
			}
			record := func(path, body string) privacyConsent {
				t.Helper()
				r := e.call(t, store.RoleAdmin, http.MethodPost, path+"/consents", body)
				if r.code != http.StatusCreated {
					t.Fatalf("POST %s/consents %s: %d %s, want 201", path, body, r.code, r.body)
				}
				var k privacyConsent
				r.decode(t, &k)
				return k
			}

			t.Run("consents", func(t *testing.T) {
				viewed := lastAuditID(t, e.st)
				if pc := getContact(ayse); pc.Contact.WaID != "905321234567" || pc.Contact.Name != "Ayşe" ||
					pc.Contact.MarketingOptOut || len(pc.Consents) != 0 || len(pc.History) != 0 {
					t.Fatalf("Ayşe before any consent: %+v", pc)
				}
				if es, _ := e.st.ListAudit(context.Background(), store.AuditFilter{Action: "contact.viewed"}); len(es) == 0 ||
					es[0].ID <= viewed || es[0].Actor != "dpo" || es[0].Target != privacy.ContactTarget(e.f.ayse.ID) {
					t.Errorf("reading Ayşe's consents left %+v in the audit log, want contact.viewed by dpo", es)
				}
				before := lastAuditID(t, e.st)
				refused := record(ayse, `{"purpose":"marketing","granted":false,"policy_version":"2026-01"}`)
				if refused.ID == 0 || refused.Purpose != "marketing" || refused.Granted || refused.Source != store.ConsentByAPI ||
					refused.PolicyVersion != "2026-01" || time.Since(refused.At) > time.Minute {
					t.Errorf("recorded %+v, want a marketing refusal by api, now, under policy 2026-01", refused)
				}
				pc := getContact(ayse)
				if !pc.Contact.MarketingOptOut {
					t.Errorf("after the refusal marketing_opt_out is false: %+v", pc.Contact)
				}
				if len(pc.Consents) != 1 || pc.Consents[0].ID != refused.ID || pc.Consents[0].Granted {
					t.Errorf("current consents %+v, want the refusal %d", pc.Consents, refused.ID)
				}
				es := auditSince(t, e.st, before)
				if len(es) != 1 || es[0].Actor != "dpo" || es[0].ActorID != dpo.ID || es[0].Action != "consent.refused" ||
					es[0].Target != privacy.ContactTarget(e.f.ayse.ID) || es[0].Address != "127.0.0.1" {
					t.Fatalf("audit log after the refusal:%s\nwant one consent.refused by dpo (user %d) from 127.0.0.1 on contact:%d",
						describe(es), dpo.ID, e.f.ayse.ID)
				}
				var detail struct {
					Purpose   string `json:"purpose"`
					Source    string `json:"source"`
					ConsentID int64  `json:"consent_id"`
				}
				if json.Unmarshal(es[0].Detail, &detail) != nil || detail.Purpose != "marketing" || detail.Source != "api" || detail.ConsentID != refused.ID {
					t.Errorf("audit detail %s, want the purpose, the source and the consent id", es[0].Detail)
				}

				// A grant given before the refusal (a form signed last
				// month) joins the history and changes nothing now.
				month := time.Now().UTC().AddDate(0, -1, 0).Truncate(time.Second)
				older := record(ayse, fmt.Sprintf(`{"purpose":"marketing","granted":true,"at":%q}`, month.Format(time.RFC3339)))
				pc = getContact(ayse)
				if !older.At.Equal(month) || !pc.Contact.MarketingOptOut || len(pc.Consents) != 1 || pc.Consents[0].ID != refused.ID {
					t.Errorf("after an older grant: %+v, current %+v; want the refusal to stay current", pc.Contact, pc.Consents)
				}
				if len(pc.History) != 2 || pc.History[0].ID != older.ID || pc.History[1].ID != refused.ID {
					t.Errorf("history %+v, want the older grant then the refusal", pc.History)
				}
				// A grant now, and service consent, make them current.
				granted := record(ayse, `{"purpose":"marketing","granted":true}`)
				service := record(ayse, `{"purpose":"service","granted":true,"policy_version":"2026-01"}`)
				pc = getContact(ayse)
				if pc.Contact.MarketingOptOut || len(pc.Consents) != 2 {
					t.Fatalf("after granting again: %+v, current %+v; want marketing allowed, two purposes", pc.Contact, pc.Consents)
				}
				for _, k := range pc.Consents {
					if want := map[string]int64{"marketing": granted.ID, "service": service.ID}[k.Purpose]; k.ID != want || !k.Granted {
						t.Errorf("current %s consent %+v, want the grant %d", k.Purpose, k, want)
					}
				}
				actions := []string{}
				for _, x := range auditSince(t, e.st, before) {
					actions = append(actions, x.Action)
				}
				if want := []string{"consent.refused", "consent.given", "consent.given", "consent.given"}; !slices.Equal(actions, want) {
					t.Errorf("audit actions %v, want %v", actions, want)
				}
				// Can refuses marketing too: another target in the log.
				record(can, `{"purpose":"marketing","granted":false}`)
			})

			t.Run("bad consents", func(t *testing.T) {
				before := lastAuditID(t, e.st)
				kept, err := e.st.ListConsents(ctx, e.f.ayse.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range []struct {
					path, body string
					code       int
					says       string
				}{
					{ayse, `{"purpose":"ads","granted":true}`, 400, `purpose "ads"`},
					{ayse, `{"purpose":"","granted":true}`, 400, "purpose"},
					{ayse, `{"purpose":"marketing"}`, 400, "granted is required"},
					{ayse, `{"purpose":"marketing","granted":"yes"}`, 400, "granted"},
					{ayse, `purpose=marketing&granted=false`, 400, "want a JSON body"},
					{ayse, `{"purpose":"marketing","granted":false,"at":"yesterday"}`, 400, "want a JSON body"},
					// Dated ahead, a grant would outweigh the contact's
					// opt-outs until then.
					{ayse, `{"purpose":"marketing","granted":true,"at":"2062-01-01T00:00:00Z"}`, 400, "at 2062-01-01T00:00:00Z is in the future"},
					{"/api/v1/privacy/contacts/abc", `{"purpose":"marketing","granted":false}`, 400, "id must be a positive integer"},
					{"/api/v1/privacy/contacts/987654", `{"purpose":"marketing","granted":false}`, 404, "contact 987654 not found"},
				} {
					r := e.call(t, store.RoleAdmin, http.MethodPost, c.path+"/consents", c.body)
					if r.code != c.code || !strings.Contains(errorOf(t, r), c.says) {
						t.Errorf("POST %s/consents %s: %d %s, want %d saying %q", c.path, c.body, r.code, r.body, c.code, c.says)
					}
				}
				if ks, err := e.st.ListConsents(ctx, e.f.ayse.ID); err != nil || len(ks) != len(kept) {
					t.Errorf("refused consents were stored: %d records, want %d (%v)", len(ks), len(kept), err)
				}
				if ks, err := e.st.ListConsents(ctx, 987654); err != nil || len(ks) != 0 {
					t.Errorf("a consent of an unknown contact was stored: %+v %v", ks, err)
				}
				if es := auditSince(t, e.st, before); len(es) != 0 {
					t.Errorf("refused consents were audited:%s", describe(es))
				}
				for _, path := range []string{"/api/v1/privacy/contacts/987654", "/api/v1/privacy/contacts/987654/export"} {
					if r := e.call(t, store.RoleAdmin, http.MethodGet, path, ""); r.code != http.StatusNotFound || !strings.Contains(errorOf(t, r), "contact 987654 not found") {
						t.Errorf("GET %s: %d %s, want 404 naming the contact", path, r.code, r.body)
					}
				}
				if es := auditSince(t, e.st, before); len(es) != 0 {
					t.Errorf("reads of an unknown contact were audited:%s", describe(es))
				}
			})

			t.Run("export", func(t *testing.T) {
				before := lastAuditID(t, e.st)
				r := e.call(t, store.RoleAdmin, http.MethodGet, ayse+"/export", "")
				if r.code != http.StatusOK {
					t.Fatalf("export: %d %s", r.code, r.body)
				}
				if cd := r.header.Get("Content-Disposition"); cd != fmt.Sprintf(`attachment; filename="contact-%d.json"`, e.f.ayse.ID) {
					t.Errorf("Content-Disposition %q, want an attachment named after the contact", cd)
				}
				var x privacy.Export
				r.decode(t, &x)
				if x.Contact.ID != e.f.ayse.ID || x.Contact.WaID != "905321234567" || x.Contact.Name != "Ayşe" || x.Contact.MarketingOptOut {
					t.Errorf("exported contact %+v, want Ayşe whole, marketing allowed again", x.Contact)
				}
				if len(x.Conversations) != 1 || x.Conversations[0].ID != e.f.open.ID {
					t.Fatalf("exported conversations %+v, want Ayşe's one (%d) and not Can's", x.Conversations, e.f.open.ID)
				}
				xc := x.Conversations[0]
				if len(xc.Messages) != len(e.f.messages) {
					t.Fatalf("%d messages exported, want %d", len(xc.Messages), len(e.f.messages))
				}
				for i, m := range xc.Messages {
					want := e.f.messages[i]
					var payload struct{ Text struct{ Body string } }
					if m.Body != want.Body || m.Direction != want.Direction || json.Unmarshal(m.Payload, &payload) != nil || payload.Text.Body != want.Body {
						t.Errorf("exported message %d: %+v (payload %s), want %q as written", i, m, m.Payload, want.Body)
					}
				}
				if len(xc.Turns) != 2 || xc.Turns[0].Intent != "order_status" || xc.Turns[0].Decision != "answer" {
					t.Errorf("exported turns %+v, want the two turns", xc.Turns)
				}
				if len(x.Consents) != 4 || x.Consents[len(x.Consents)-1].Purpose != "service" {
					t.Errorf("exported consents %+v, want Ayşe's four records, oldest first", x.Consents)
				}
				if len(x.Tickets) != 1 || x.Tickets[0].ID != e.ticket.ID || x.Tickets[0].Reason != "complaint" ||
					!strings.Contains(string(x.Tickets[0].Pack), "kargo gecikti") || len(x.Tickets[0].Events) != 2 ||
					x.Tickets[0].Events[1].Kind != "note" {
					t.Errorf("exported tickets %+v, want Ayşe's ticket with its pack and two events", x.Tickets)
				}
				if strings.Contains(r.body, `"Can"`) || strings.Contains(r.body, "905559876543") {
					t.Errorf("the export holds another contact's data:\n%s", r.body)
				}
				es := auditSince(t, e.st, before)
				if len(es) != 1 || es[0].Action != "contact.exported" || es[0].Actor != "dpo" || es[0].ActorID != dpo.ID ||
					es[0].Target != privacy.ContactTarget(e.f.ayse.ID) {
					t.Fatalf("audit log after the export:%s\nwant one contact.exported by dpo", describe(es))
				}
				var counts map[string]int
				if json.Unmarshal(es[0].Detail, &counts) != nil || counts["conversations"] != 1 || counts["tickets"] != 1 || counts["consents"] != 4 {
					t.Errorf("export audit detail %s, want what was exported counted", es[0].Detail)
				}
				if strings.Contains(string(es[0].Detail), "Sipariş") {
					t.Errorf("the audit entry holds message text: %s", es[0].Detail)
				}
			})

			t.Run("audit log", func(t *testing.T) {
				list := func(query string) privacyAudit {
					t.Helper()
					r := e.call(t, store.RoleAdmin, http.MethodGet, "/api/v1/privacy/audit"+query, "")
					if r.code != http.StatusOK {
						t.Fatalf("audit%s: %d %s", query, r.code, r.body)
					}
					var a privacyAudit
					r.decode(t, &a)
					return a
				}
				consents := list("?action=consent.")
				if len(consents.Entries) != 5 {
					t.Fatalf("action=consent.: %d entries, want the five consents recorded: %+v", len(consents.Entries), consents.Entries)
				}
				for i, x := range consents.Entries {
					if !strings.HasPrefix(x.Action, "consent.") || x.Actor != "dpo" || x.ActorID != dpo.ID || x.At.IsZero() {
						t.Errorf("entry %+v under action=consent.", x)
					}
					if i > 0 && x.ID >= consents.Entries[i-1].ID {
						t.Errorf("entries not newest first: %d after %d", x.ID, consents.Entries[i-1].ID)
					}
				}
				if got := list("?action=consent.refused"); len(got.Entries) != 2 {
					t.Errorf("action=consent.refused: %+v, want Ayşe's and Can's refusals", got.Entries)
				}
				if got := list("?action=consent"); len(got.Entries) != 0 {
					t.Errorf("action=consent (no dot, an exact action): %+v, want none", got.Entries)
				}
				canTarget := privacy.ContactTarget(e.f.can.ID)
				if got := list("?target=" + canTarget); len(got.Entries) != 1 || got.Entries[0].Action != "consent.refused" || got.Entries[0].Target != canTarget {
					t.Errorf("target=%s: %+v, want Can's refusal only", canTarget, got.Entries)
				}
				if got := list("?actor=dpo&action=contact.exported"); len(got.Entries) != 1 {
					t.Errorf("actor=dpo&action=contact.exported: %+v, want the export", got.Entries)
				}
				if got := list("?actor=nobody"); got.Entries == nil || len(got.Entries) != 0 {
					t.Errorf("actor=nobody: %+v, want an empty list, not null", got.Entries)
				}
				if got := list("?since=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339)); len(got.Entries) != 0 {
					t.Errorf("since in an hour: %+v, want none", got.Entries)
				}
				hourAgo := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
				recent := list("?action=consent.refused&since=" + hourAgo.Format(time.RFC3339))
				if len(recent.Entries) != 2 {
					t.Errorf("since an hour ago: %+v, want both refusals", recent.Entries)
				}
				for _, x := range recent.Entries {
					if x.At.Before(hourAgo) {
						t.Errorf("since %s: entry %+v is older", hourAgo, x)
					}
				}
				// Pages of two, each starting before the last id of the one before.
				var paged []int64
				for before, pages := "", 0; ; pages++ {
					if pages > 5 {
						t.Fatal("paging does not end")
					}
					page := list("?action=consent.&limit=2" + before)
					if len(page.Entries) > 2 {
						t.Fatalf("limit=2 gave %d entries", len(page.Entries))
					}
					for _, x := range page.Entries {
						paged = append(paged, x.ID)
					}
					if len(page.Entries) < 2 {
						break
					}
					before = fmt.Sprintf("&before=%d", page.Entries[len(page.Entries)-1].ID)
				}
				var all []int64
				for _, x := range consents.Entries {
					all = append(all, x.ID)
				}
				if !slices.Equal(paged, all) {
					t.Errorf("paged ids %v, want %v: every entry once, in order", paged, all)
				}
				for query, says := range map[string]string{
					"?limit=0": "limit", "?limit=1001": "limit", "?limit=ten": "limit",
					"?before=0": "before", "?before=-4": "before", "?before=x": "before",
					"?since=yesterday": "since", "?since=2026-11-01": "since",
				} {
					r := e.call(t, store.RoleAdmin, http.MethodGet, "/api/v1/privacy/audit"+query, "")
					if r.code != http.StatusBadRequest || !strings.Contains(errorOf(t, r), says) {
						t.Errorf("audit%s: %d %s, want 400 naming %s", query, r.code, r.body, says)
					}
				}
				if got := list("?limit=1000"); len(got.Entries) == 0 {
					t.Error("limit=1000 gave nothing")
				}
			})

			t.Run("erase", func(t *testing.T) {
				before := lastAuditID(t, e.st)
				r := e.call(t, store.RoleAdmin, http.MethodDelete, ayse, "")
				if r.code != http.StatusOK {
					t.Fatalf("erase: %d %s", r.code, r.body)
				}
				var body struct{ Erased store.Erasure }
				r.decode(t, &body)
				want := store.Erasure{Contacts: 1, Conversations: 1, Messages: 3, Turns: 2, Tickets: 1, TicketEvents: 2, Consents: 4, Jobs: 1}
				if body.Erased != want {
					t.Errorf("erased %+v, want %+v: what the fixture and the consents made", body.Erased, want)
				}
				for _, path := range []string{ayse, ayse + "/export", fmt.Sprintf("/api/v1/conversations/%d", e.f.open.ID)} {
					if r := e.call(t, store.RoleAdmin, http.MethodGet, path, ""); r.code != http.StatusNotFound {
						t.Errorf("GET %s after the erasure: %d %s, want 404", path, r.code, r.body)
					}
				}
				if _, err := e.st.GetTicket(ctx, e.ticket.ID); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Ayşe's ticket after the erasure: %v, want not found", err)
				}
				if ms, err := e.st.ListMessages(ctx, e.f.open.ID); err != nil || len(ms) != 0 {
					t.Errorf("Ayşe's messages after the erasure: %+v %v", ms, err)
				}
				// Can is untouched.
				if pc := getContact(can); pc.Contact.Name != "Can" || len(pc.History) != 1 {
					t.Errorf("Can after Ayşe's erasure: %+v", pc)
				}
				es := auditSince(t, e.st, before)
				if len(es) != 1 || es[0].Action != "contact.erased" || es[0].Actor != "dpo" || es[0].ActorID != dpo.ID ||
					es[0].Target != privacy.ContactTarget(e.f.ayse.ID) {
					t.Fatalf("audit log after the erasure:%s\nwant one contact.erased by dpo", describe(es))
				}
				var logged store.Erasure
				if json.Unmarshal(es[0].Detail, &logged) != nil || logged != want {
					t.Errorf("erasure audit detail %s, want the counts %+v", es[0].Detail, want)
				}
				// The log keeps what happened to the contact before.
				trail := slices.DeleteFunc(auditActions(t, e, "?target="+privacy.ContactTarget(e.f.ayse.ID)),
					func(a string) bool { return a == "contact.viewed" })
				if len(trail) != 6 || trail[0] != "contact.erased" || trail[1] != "contact.exported" || trail[5] != "consent.refused" {
					t.Errorf("Ayşe's trail %v, want the erasure, the export and the four consents", trail)
				}
				if cv, err := e.st.GetConversation(ctx, e.f.closed.ID); err != nil || cv.ContactID != e.f.can.ID {
					t.Errorf("Can's conversation after Ayşe's erasure: %+v %v", cv, err)
				}
				// A second erasure finds nothing, and logs nothing.
				if r := e.call(t, store.RoleAdmin, http.MethodDelete, ayse, ""); r.code != http.StatusNotFound {
					t.Errorf("second erasure: %d %s, want 404", r.code, r.body)
				}
				if es := auditSince(t, e.st, es[0].ID); len(es) != 0 {
					t.Errorf("a failed erasure was audited:%s", describe(es))
				}
				if strings.Contains(e.logs.String(), "905321234567") || strings.Contains(e.logs.String(), "Ayşe") {
					t.Errorf("the server log names the contact:\n%s", e.logs.String())
				}
			})
		})
	}
}

// auditActions returns the actions of the audit entries the API lists for
// query, newest first.
func auditActions(t *testing.T, e *privacyEnv, query string) []string {
	t.Helper()
	r := e.call(t, store.RoleAdmin, http.MethodGet, "/api/v1/privacy/audit"+query, "")
	if r.code != http.StatusOK {
		t.Fatalf("audit%s: %d %s", query, r.code, r.body)
	}
	var a privacyAudit
	r.decode(t, &a)
	out := make([]string, len(a.Entries))
	for i, x := range a.Entries {
		out[i] = x.Action
	}
	return out
}

// Every successful change through the API, and every read of a person's
// conversation or ticket, is in the audit log with who did it; failed and
// refused requests, and other reads, are not.
func TestAuditMiddleware(t *testing.T) {
	for name, open := range apiStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newPrivacyEnv(t, open(t))
			conv := fmt.Sprintf("/api/v1/conversations/%d", e.f.open.ID)
			type want struct{ actor, action, target, route string }
			for _, c := range []struct {
				name   string
				role   string
				method string
				path   string
				body   func() (io.Reader, string)
				code   int
				want   []want // the entries the request adds
			}{
				{"tool set stored by admin", store.RoleAdmin, http.MethodPut, "/api/v1/tools/sets/shop", yamlBody("tools:\n  - name: lookup\n"), 200,
					[]want{{"dpo", "api.put", "tools/sets/shop", "PUT /api/v1/tools/sets/:name"}}},
				{"invalid tool set", store.RoleAdmin, http.MethodPut, "/api/v1/tools/sets/shop", yamlBody("nothing: here\n"), 400, nil},
				{"tool set removed", store.RoleAdmin, http.MethodDelete, "/api/v1/tools/sets/shop", nil, 204,
					[]want{{"dpo", "api.delete", "tools/sets/shop", "DELETE /api/v1/tools/sets/:name"}}},
				{"unknown tool set", store.RoleAdmin, http.MethodDelete, "/api/v1/tools/sets/shop", nil, 404, nil},
				{"tools listed", store.RoleAdmin, http.MethodGet, "/api/v1/tools", nil, 200, nil},
				{"document uploaded by content", store.RoleContent, http.MethodPost, "/api/v1/knowledge/documents", func() (io.Reader, string) {
					return upload(t, "iade.md", "# İade\n\nÜrünler 14 gün içinde iade edilebilir.\n")
				}, 200, []want{{"content-user", "api.post", "knowledge/documents", "POST /api/v1/knowledge/documents"}}},
				{"document removed by content", store.RoleContent, http.MethodDelete, "/api/v1/knowledge/documents/default/iade", nil, 204,
					[]want{{"content-user", "api.delete", "knowledge/documents/default/iade", "DELETE /api/v1/knowledge/documents/:collection/*id"}}},
				{"unknown document", store.RoleContent, http.MethodDelete, "/api/v1/knowledge/documents/default/iade", nil, 404, nil},
				{"tool set by content", store.RoleContent, http.MethodPut, "/api/v1/tools/sets/shop", yamlBody("tools:\n  - name: lookup\n"), 403, nil},
				{"conversation read by qa", store.RoleQA, http.MethodGet, conv, nil, 200,
					[]want{{"qa-user", "conversation.viewed", fmt.Sprintf("conversation:%d", e.f.open.ID), "GET /api/v1/conversations/:id"}}},
				{"turns read by qa", store.RoleQA, http.MethodGet, conv + "/turns", nil, 200,
					[]want{{"qa-user", "conversation.viewed", fmt.Sprintf("conversation:%d", e.f.open.ID), "GET /api/v1/conversations/:id/turns"}}},
				{"conversations listed by qa", store.RoleQA, http.MethodGet, "/api/v1/conversations", nil, 200, nil},
				{"unknown conversation", store.RoleQA, http.MethodGet, "/api/v1/conversations/987654", nil, 404, nil},
				{"bad conversation id", store.RoleQA, http.MethodGet, "/api/v1/conversations/abc", nil, 400, nil},
				{"conversation by an agent", store.RoleAgent, http.MethodGet, conv, nil, 403, nil},
				{"ticket read by an agent", store.RoleAgent, http.MethodGet, fmt.Sprintf("/api/v1/inbox/tickets/%d", e.ticket.ID), nil, 200,
					[]want{{"agent-user", "ticket.viewed", fmt.Sprintf("ticket:%d", e.ticket.ID), "GET /api/v1/inbox/tickets/:id"}}},
				{"another team's ticket", store.RoleAgent, http.MethodGet, fmt.Sprintf("/api/v1/inbox/tickets/%d", e.billing.ID), nil, 404, nil},
				{"ticket claimed", store.RoleAgent, http.MethodPost, fmt.Sprintf("/api/v1/inbox/tickets/%d/claim", e.ticket.ID), nil, 200,
					[]want{{"agent-user", "api.post", fmt.Sprintf("inbox/tickets/%d/claim", e.ticket.ID), "POST /api/v1/inbox/tickets/:id/claim"}}},
				{"ticket claimed twice", store.RoleAgent, http.MethodPost, fmt.Sprintf("/api/v1/inbox/tickets/%d/claim", e.ticket.ID), nil, 409, nil},
				{"privacy route by qa", store.RoleQA, http.MethodGet, fmt.Sprintf("/api/v1/privacy/contacts/%d", e.f.ayse.ID), nil, 403, nil},
				{"no token", "", http.MethodDelete, "/api/v1/tools/sets/shop", nil, 401, nil},
			} {
				before := lastAuditID(t, e.st)
				var body io.Reader
				contentType := ""
				if c.body != nil {
					body, contentType = c.body()
				}
				r := privacyCall(t, c.method, e.base+c.path, e.auth[c.role], contentType, body)
				if r.code != c.code {
					t.Errorf("%s: %s %s as %s: %d %s, want %d", c.name, c.method, c.path, c.role, r.code, r.body, c.code)
					continue
				}
				es := auditSince(t, e.st, before)
				if len(es) != len(c.want) {
					t.Errorf("%s: %s %s (%d) added to the audit log:%s\nwant %d entries", c.name, c.method, c.path, r.code, describe(es), len(c.want))
					continue
				}
				for i, w := range c.want {
					x := es[i]
					var detail struct {
						Route  string `json:"route"`
						Status int    `json:"status"`
					}
					if x.Actor != w.actor || x.ActorID != e.user[c.role].ID || x.Action != w.action || x.Target != w.target ||
						x.Address != "127.0.0.1" || json.Unmarshal(x.Detail, &detail) != nil || detail.Route != w.route || detail.Status != c.code {
						t.Errorf("%s: entry %d %s %s %s from %q %s, want %s (user %d) %s %s from 127.0.0.1 with the route %q and status %d",
							c.name, x.ID, x.Actor, x.Action, x.Target, x.Address, x.Detail, w.actor, e.user[c.role].ID, w.action, w.target, w.route, c.code)
					}
				}
			}
		})
	}
}

// yamlBody is a request body of YAML.
func yamlBody(doc string) func() (io.Reader, string) {
	return func() (io.Reader, string) { return strings.NewReader(doc), "application/yaml" }
}

// leavingStore holds the audit entry of a conversation read until the
// client that asked for it has gone, as far as the server can tell: the
// request's context, which the server's handler hands over, is done.
type leavingStore struct {
	store.Store
	request chan context.Context // the server's context of the request
	writing chan struct{}        // closed when the entry is about to be written
	written chan error           // what the write returned
}

func (s *leavingStore) AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error) {
	if e.Action != "conversation.viewed" {
		return s.Store.AppendAudit(ctx, e)
	}
	req := <-s.request
	close(s.writing)
	select {
	case <-req.Done():
	case <-time.After(20 * time.Second):
		s.written <- errors.New("the server never saw the client leave")
		return store.AuditEntry{}, errors.New("test: the client did not leave")
	}
	got, err := s.Store.AppendAudit(ctx, e)
	s.written <- err
	return got, err
}

// A client that leaves as soon as it is answered does not escape the
// audit log: the read happened, the entry is written.
func TestAuditWrittenAfterTheClientLeaves(t *testing.T) {
	st := &leavingStore{Store: apiStores["sqlite"](t), request: make(chan context.Context, 1),
		writing: make(chan struct{}), written: make(chan error, 1)}
	f := seed(t, st)
	token := addUser(t, st, "qa-user", store.RoleQA)
	s, err := NewServer(Options{Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	s.SetBackend(Backend{Store: st})
	routes := s.Routes()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v1/conversations/") {
			st.request <- r.Context()
		}
		routes.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)

	ctx, leave := context.WithCancel(context.Background())
	defer leave()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/api/v1/conversations/%d", ts.URL, f.open.ID), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	asked := make(chan error, 1)
	go func() {
		res, err := client.Do(req)
		if err == nil {
			res.Body.Close()
		}
		asked <- err
	}()
	select {
	case <-st.writing:
	case <-time.After(20 * time.Second):
		t.Fatal("the conversation read reached no audit write")
	}
	leave()
	<-asked
	select {
	case err := <-st.written:
		if err != nil {
			t.Errorf("writing the audit entry after the client left: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the audit write never returned")
	}
	es, err := st.ListAudit(context.Background(), store.AuditFilter{Action: "conversation.viewed"})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Actor != "qa-user" || es[0].Target != fmt.Sprintf("conversation:%d", f.open.ID) {
		t.Errorf("audit log after a read whose client left:%s\nwant the read by qa-user", describe(es))
	}
}

// QA reads conversations without the personal data in them: each value a
// detector finds shows as its kind, in the message bodies and payloads, and
// the contact is masked. Admins see everything but the vault, which no one
// sees.
func TestConversationRedaction(t *testing.T) {
	const (
		tckn  = "10000000146"
		email = "ayse.yilmaz@example.com"
		iban  = "TR330006100519786457841326"
	)
	for name, open := range apiStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			ctx := context.Background()
			contact, err := st.UpsertContact(ctx, store.ContactUpsert{WaID: "905321234567", Name: "Ayşe Yılmaz"})
			if err != nil {
				t.Fatal(err)
			}
			conv, err := st.OpenConversation(ctx, contact.ID, "1001")
			if err != nil {
				t.Fatal(err)
			}
			// The state keeps the values in the vault, behind placeholders.
			var vault privacy.Vault
			redacted, _ := vault.Redact("TC "+tckn+" "+email, privacy.Builtin("TR"))
			// The slots and the handoff's pack hold them too.
			state, err := json.Marshal(map[string]any{"language": "tr", "last_intent": "order_status", "vault": vault,
				"last_slots": map[string]string{"email": email},
				"handoff": map[string]any{"contact": map[string]string{"name": "Ayşe", "wa_id": "905321234567"},
					"transcript": []map[string]string{{"text": "TC " + tckn}}}})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(state), tckn) || strings.Contains(redacted, tckn) {
				t.Fatalf("the vault does not hold the value: %s (%q)", state, redacted)
			}
			if err := st.SetConversationState(ctx, conv.ID, store.ModeBot, state); err != nil {
				t.Fatal(err)
			}
			bodies := []struct{ text, redacted string }{
				{"TC kimlik no " + tckn + ", e-posta " + email + ", IBAN " + iban + ". Siparişim nerede?",
					"TC kimlik no [TCKN], e-posta [EMAIL], IBAN [IBAN]. Siparişim nerede?"},
				// Each value on a line of its own: in the payload's JSON
				// each follows an escaped newline.
				{"Kimlik:\n" + tckn + "\nE-posta:\n" + email + "\nIBAN:\n" + iban,
					"Kimlik:\n[TCKN]\nE-posta:\n[EMAIL]\nIBAN:\n[IBAN]"},
				{"Teşekkürler <3", "Teşekkürler <3"},
			}
			for i, b := range bodies {
				payload, _ := json.Marshal(map[string]any{"type": "text", "text": map[string]string{"body": b.text}, "ref": json.Number(tckn), "n": i})
				if _, err := st.InsertMessage(ctx, store.Message{ConversationID: conv.ID, Direction: store.Inbound, Type: "text",
					ChannelMessageID: fmt.Sprintf("wamid.RED%d", i), Body: b.text, Payload: payload, Status: store.StatusReceived}); err != nil {
					t.Fatal(err)
				}
			}
			base, _ := apiServer(t, st)
			read := func(role string) (apiResponse, struct {
				Conversation apiConversation
				Contact      apiContact
				Messages     []apiMessage
			}) {
				t.Helper()
				r := apiGet(t, fmt.Sprintf("%s/api/v1/conversations/%d", base, conv.ID), "Bearer "+addUser(t, st, role+"-reader", role))
				var body struct {
					Conversation apiConversation
					Contact      apiContact
					Messages     []apiMessage
				}
				if r.code != http.StatusOK {
					t.Fatalf("as %s: %d %s", role, r.code, r.body)
				}
				r.decode(t, &body)
				if len(body.Messages) != len(bodies) {
					t.Fatalf("as %s: %d messages, want %d", role, len(body.Messages), len(bodies))
				}
				return r, body
			}
			payloadOf := func(m apiMessage) (text string, ref any) {
				t.Helper()
				var p struct {
					Text struct{ Body string }
					Ref  any
				}
				if err := json.Unmarshal(m.Payload, &p); err != nil {
					t.Fatalf("payload %s: %v", m.Payload, err)
				}
				return p.Text.Body, p.Ref
			}
			noVault := func(role string, cv apiConversation) {
				t.Helper()
				var s map[string]json.RawMessage
				if err := json.Unmarshal(cv.State, &s); err != nil || s["vault"] != nil || string(s["language"]) != `"tr"` {
					t.Errorf("as %s: state %s, want it without the vault", role, cv.State)
				}
				// Only admins see the values the slots and the handoff keep.
				hidden := role == store.RoleQA
				if shows := strings.Contains(string(cv.State), tckn) || strings.Contains(string(cv.State), email); shows == hidden {
					t.Errorf("as %s: state %s, want the personal data hidden: %v", role, cv.State, hidden)
				}
				if hidden && (s["handoff"] != nil || !strings.Contains(string(s["last_slots"]), "[EMAIL]")) {
					t.Errorf("as %s: state %s, want no handoff pack and the e-mail slot as [EMAIL]", role, cv.State)
				}
			}

			r, qa := read(store.RoleQA)
			for _, secret := range []string{tckn, email, iban, "905321234567", "Ayşe"} {
				if strings.Contains(r.body, secret) {
					t.Errorf("QA sees %q:\n%s", secret, r.body)
				}
			}
			for i, m := range qa.Messages {
				text, ref := payloadOf(m)
				if m.Body != bodies[i].redacted || text != bodies[i].redacted {
					t.Errorf("QA message %d: body %q, payload text %q; want %q in both", i, m.Body, text, bodies[i].redacted)
				}
				if ref != "[TCKN]" {
					t.Errorf("QA message %d: payload ref %v, want [TCKN]", i, ref)
				}
			}
			if qa.Contact.WaID != "••••••••4567" || qa.Contact.Name != "" {
				t.Errorf("QA sees the contact %+v, want the number masked and no name", qa.Contact)
			}
			noVault(store.RoleQA, qa.Conversation)

			_, admin := read(store.RoleAdmin)
			for i, m := range admin.Messages {
				text, ref := payloadOf(m)
				if m.Body != bodies[i].text || text != bodies[i].text {
					t.Errorf("admin message %d: body %q, payload text %q; want %q as written", i, m.Body, text, bodies[i].text)
				}
				if n, ok := ref.(float64); !ok || n != 10000000146 {
					t.Errorf("admin message %d: payload ref %v, want the number", i, ref)
				}
			}
			if admin.Contact.WaID != "905321234567" || admin.Contact.Name != "Ayşe Yılmaz" {
				t.Errorf("admin sees the contact %+v, want it whole", admin.Contact)
			}
			noVault(store.RoleAdmin, admin.Conversation)

			// Nor does the list show the vault.
			r = apiGet(t, base+"/api/v1/conversations", "Bearer "+addUser(t, st, "admin-lister", store.RoleAdmin))
			var listed struct{ Conversations []apiConversation }
			r.decode(t, &listed)
			if r.code != http.StatusOK || len(listed.Conversations) != 1 {
				t.Fatalf("list: %d %s", r.code, r.body)
			}
			noVault("admin listing", listed.Conversations[0])
		})
	}
}
