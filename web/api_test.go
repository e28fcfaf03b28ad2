package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres/pgtest"
)

// addUser stores a user of the role and returns an API token of theirs.
func addUser(t *testing.T, st store.Store, login, role string) string {
	t.Helper()
	u, err := st.CreateUser(context.Background(), store.User{Login: login, Name: login, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	token, hash := NewAPIToken()
	if _, err := st.CreateAPIToken(context.Background(), store.APIToken{UserID: u.ID, Name: "test", Hash: hash}); err != nil {
		t.Fatal(err)
	}
	return token
}

// apiStores opens a fresh, migrated store of each kind.
var apiStores = map[string]func(t *testing.T) store.Store{
	"sqlite": func(t *testing.T) store.Store {
		st := openSQLite(t)
		if err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return st
	},
	"postgres": func(t *testing.T) store.Store { return pgtest.NewStore(t) },
}

// syncBuffer collects log output written from handler goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// apiServer serves the routes with st attached (nil: no store yet). It
// returns the base URL and the server log.
func apiServer(t *testing.T, st store.Store) (string, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	s, err := NewServer(Options{Registry: prometheus.NewRegistry(),
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	if st != nil {
		s.SetBackend(Backend{Store: st})
	}
	return httpServer(t, s), logs
}

// apiResponse is one answer of the API.
type apiResponse struct {
	code   int
	header http.Header
	body   string
}

// decode unmarshals the body into v, failing the test when it is not JSON.
func (r apiResponse) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("body is not the JSON expected: %v\n%s", err, r.body)
	}
}

// apiGet sends GET url with the Authorization header, if any.
func apiGet(t *testing.T, url, authorization string) apiResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
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

// fixture is what seed stored.
type fixture struct {
	ayse, can    store.Contact
	open, closed store.Conversation
	messages     []store.Message // of open, in order
	turns        []store.Turn    // of open, in order
	t0           time.Time
}

// seed stores two contacts through the store's own methods: Ayşe with an
// open conversation of three messages and two turns, Can with a closed
// conversation and no messages.
func seed(t *testing.T, st store.Store) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{t0: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	f.ayse, err = st.UpsertContact(ctx, store.ContactUpsert{WaID: "905321234567", Name: "Ayşe", Locale: "tr", Seen: f.t0})
	must(err)
	f.can, err = st.UpsertContact(ctx, store.ContactUpsert{WaID: "905559876543", Name: "Can"})
	must(err)
	f.closed, err = st.OpenConversation(ctx, f.can.ID, "1001")
	must(err)
	must(st.CloseConversation(ctx, f.closed.ID))
	f.closed, err = st.GetConversation(ctx, f.closed.ID)
	must(err)
	f.open, err = st.OpenConversation(ctx, f.ayse.ID, "1001")
	must(err)
	must(st.SetConversationState(ctx, f.open.ID, store.ModeBot, json.RawMessage(`{"intent":"order_status","slots":{"order_id":"12345"}}`)))

	for i, m := range []store.Message{
		{Direction: store.Inbound, ChannelMessageID: "wamid.API1", Body: "Siparişim nerede? #12345",
			Status: store.StatusReceived, SentAt: f.t0},
		{Direction: store.Outbound, Body: "Siparişiniz kargoda.", Status: store.StatusQueued},
		{Direction: store.Inbound, ChannelMessageID: "wamid.API2", Body: "Teşekkürler",
			Status: store.StatusReceived, SentAt: f.t0.Add(time.Minute)},
	} {
		m.ConversationID, m.Type = f.open.ID, "text"
		m.Payload = json.RawMessage(fmt.Sprintf(`{"type":"text","text":{"body":%q},"n":%d}`, m.Body, i))
		stored, err := st.InsertMessage(ctx, m)
		must(err)
		f.messages = append(f.messages, stored)
	}
	for i, tr := range []store.Turn{
		{InboundIDs: []int64{f.messages[0].ID}, OutboundIDs: []int64{f.messages[1].ID}, Intent: "order_status",
			Confidence: 0.91, Decision: "answer", Reason: "confident",
			Trace: json.RawMessage(`{"candidates":[{"intent":"order_status","prob":0.91},{"intent":"cancel","prob":0.04}],"slots":{"order_id":"12345"}}`)},
		{InboundIDs: []int64{f.messages[2].ID}, Intent: "thanks", Confidence: 0.42, Decision: "clarify", Reason: "below threshold",
			Trace: json.RawMessage(`{"candidates":[{"intent":"thanks","prob":0.42}]}`)},
	} {
		tr.ConversationID, tr.LatencyMS = f.open.ID, float64(3+i)
		stored, err := st.InsertTurn(ctx, tr)
		must(err)
		f.turns = append(f.turns, stored)
	}
	return f
}

// The JSON shapes the tests read back.
type (
	apiConversation struct {
		ID            int64           `json:"id"`
		ContactID     int64           `json:"contact_id"`
		PhoneNumberID string          `json:"phone_number_id"`
		Status        string          `json:"status"`
		Mode          string          `json:"mode"`
		State         json.RawMessage `json:"state"`
		CreatedAt     *time.Time      `json:"created_at"`
		ClosedAt      *time.Time      `json:"closed_at"`
	}
	apiContact struct {
		ID            int64      `json:"id"`
		WaID          string     `json:"wa_id"`
		Name          string     `json:"name"`
		LastInboundAt *time.Time `json:"last_inbound_at"`
	}
	apiMessage struct {
		ID        int64           `json:"id"`
		Direction string          `json:"direction"`
		Body      string          `json:"body"`
		Payload   json.RawMessage `json:"payload"`
		Status    string          `json:"status"`
		SentAt    *time.Time      `json:"sent_at"`
	}
	apiTurn struct {
		ID          int64   `json:"id"`
		InboundIDs  []int64 `json:"inbound_ids"`
		OutboundIDs []int64 `json:"outbound_ids"`
		Intent      string  `json:"intent"`
		Confidence  float64 `json:"confidence"`
		Decision    string  `json:"decision"`
		Trace       struct {
			Candidates []struct {
				Intent string  `json:"intent"`
				Prob   float64 `json:"prob"`
			} `json:"candidates"`
		} `json:"trace"`
		CreatedAt *time.Time `json:"created_at"`
	}
)

func TestAPI(t *testing.T) {
	for name, open := range apiStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			f := seed(t, st)
			adminToken := addUser(t, st, "admin", store.RoleAdmin)
			base, logs := apiServer(t, st)
			bearer := "Bearer " + adminToken

			t.Run("auth", func(t *testing.T) {
				for _, c := range []struct{ name, authorization, wantErr string }{
					{"no header", "", "sign in first"},
					{"empty bearer", "Bearer ", "Bearer followed by an API token"},
					{"basic scheme", "Basic " + adminToken, "Bearer followed by an API token"},
					{"wrong token", "Bearer wrong-token-0123456789", "invalid API token"},
					{"token prefix", "Bearer " + adminToken[:len(adminToken)-1], "invalid API token"},
				} {
					for _, path := range []string{"/api/v1/conversations", fmt.Sprintf("/api/v1/conversations/%d", f.open.ID),
						fmt.Sprintf("/api/v1/conversations/%d/turns", f.open.ID)} {
						r := apiGet(t, base+path, c.authorization)
						var body map[string]string
						r.decode(t, &body)
						if r.code != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
							t.Errorf("%s, %s: %d, WWW-Authenticate %q; want 401 and a Bearer challenge",
								c.name, path, r.code, r.header.Get("WWW-Authenticate"))
						}
						if len(body) != 1 || !strings.Contains(body["error"], c.wantErr) {
							t.Errorf("%s, %s: body %s, want only an error saying %q", c.name, path, r.body, c.wantErr)
						}
					}
				}
				if r := apiGet(t, base+"/api/v1/conversations", "bearer "+adminToken); r.code != http.StatusOK {
					t.Errorf("lower-case scheme: %d %s, want 200 (the scheme is case-insensitive)", r.code, r.body)
				}
				if l := logs.String(); strings.Contains(l, adminToken[:10]) || strings.Contains(l, "wrong-token") {
					t.Errorf("a token reached the log:\n%s", l)
				}
				if l := logs.String(); !strings.Contains(l, "unknown or revoked token") {
					t.Errorf("refused requests are not logged:\n%s", l)
				}
			})

			t.Run("list", func(t *testing.T) {
				list := func(query string) []apiConversation {
					t.Helper()
					r := apiGet(t, base+"/api/v1/conversations"+query, bearer)
					if r.code != http.StatusOK {
						t.Fatalf("list %s: %d %s", query, r.code, r.body)
					}
					var body struct{ Conversations []apiConversation }
					r.decode(t, &body)
					return body.Conversations
				}
				all := list("")
				if len(all) != 2 {
					t.Fatalf("all conversations: %+v, want 2", all)
				}
				ayse := list(fmt.Sprintf("?contact_id=%d", f.ayse.ID))
				if len(ayse) != 1 || ayse[0].ID != f.open.ID || ayse[0].ContactID != f.ayse.ID ||
					ayse[0].Status != store.ConversationOpen || ayse[0].PhoneNumberID != "1001" {
					t.Errorf("conversations of contact %d: %+v, want only %d", f.ayse.ID, ayse, f.open.ID)
				}
				if closed := list("?status=closed"); len(closed) != 1 || closed[0].ID != f.closed.ID || closed[0].ClosedAt == nil {
					t.Errorf("closed conversations: %+v, want only %d with its closed_at", closed, f.closed.ID)
				}
				if open := list("?status=open&limit=500"); len(open) != 1 || open[0].ID != f.open.ID || open[0].ClosedAt != nil {
					t.Errorf("open conversations: %+v, want only %d without closed_at", open, f.open.ID)
				}
				if one := list("?limit=1"); len(one) != 1 {
					t.Errorf("limit=1 gave %d conversations", len(one))
				}
				if none := list(fmt.Sprintf("?contact_id=%d&status=closed", f.ayse.ID)); none == nil || len(none) != 0 {
					t.Errorf("no match: %+v, want an empty list, not null", none)
				}
			})

			t.Run("detail", func(t *testing.T) {
				r := apiGet(t, fmt.Sprintf("%s/api/v1/conversations/%d", base, f.open.ID), bearer)
				if r.code != http.StatusOK {
					t.Fatalf("detail: %d %s", r.code, r.body)
				}
				var body struct {
					Conversation apiConversation
					Contact      apiContact
					Messages     []apiMessage
				}
				r.decode(t, &body)
				cv := body.Conversation
				var state struct {
					Intent string `json:"intent"`
				}
				if cv.ID != f.open.ID || cv.Mode != store.ModeBot || json.Unmarshal(cv.State, &state) != nil || state.Intent != "order_status" {
					t.Errorf("conversation %+v (state %s), want %d with its state as an object", cv, cv.State, f.open.ID)
				}
				if cv.CreatedAt == nil || cv.ClosedAt != nil || strings.Contains(r.body, `"closed_at"`) {
					t.Errorf("conversation times: created %v, closed %v; want created_at and no closed_at while open", cv.CreatedAt, cv.ClosedAt)
				}
				if body.Contact.ID != f.ayse.ID || body.Contact.WaID != "905321234567" || body.Contact.Name != "Ayşe" ||
					body.Contact.LastInboundAt == nil || !body.Contact.LastInboundAt.Equal(f.t0) {
					t.Errorf("contact %+v, want Ayşe last seen at %s", body.Contact, f.t0)
				}
				if len(body.Messages) != len(f.messages) {
					t.Fatalf("%d messages, want %d", len(body.Messages), len(f.messages))
				}
				for i, m := range body.Messages {
					want := f.messages[i]
					var payload struct{ N int }
					if m.ID != want.ID || m.Body != want.Body || m.Direction != want.Direction || m.Status != want.Status ||
						json.Unmarshal(m.Payload, &payload) != nil || payload.N != i {
						t.Errorf("message %d: %+v (payload %s), want %q in order with its payload object", i, m, m.Payload, want.Body)
					}
					if want.SentAt.IsZero() != (m.SentAt == nil) || (m.SentAt != nil && !m.SentAt.Equal(want.SentAt)) {
						t.Errorf("message %d sent_at %v, want %v (absent when zero)", i, m.SentAt, want.SentAt)
					}
				}
				if !strings.Contains(r.body, `"sent_at":"2026-05-01T10:00:00Z"`) {
					t.Errorf("sent_at is not RFC 3339 in UTC:\n%s", r.body)
				}

				r = apiGet(t, fmt.Sprintf("%s/api/v1/conversations/%d", base, f.closed.ID), bearer)
				var closed struct{ Conversation apiConversation }
				r.decode(t, &closed)
				if r.code != http.StatusOK || closed.Conversation.ClosedAt == nil || !strings.Contains(r.body, `"messages":[]`) {
					t.Errorf("closed conversation: %d %s, want closed_at and an empty message list", r.code, r.body)
				}
			})

			t.Run("turns", func(t *testing.T) {
				r := apiGet(t, fmt.Sprintf("%s/api/v1/conversations/%d/turns", base, f.open.ID), bearer)
				if r.code != http.StatusOK {
					t.Fatalf("turns: %d %s", r.code, r.body)
				}
				var body struct{ Turns []apiTurn }
				r.decode(t, &body)
				if len(body.Turns) != 2 {
					t.Fatalf("%d turns, want 2:\n%s", len(body.Turns), r.body)
				}
				first, second := body.Turns[0], body.Turns[1]
				if first.ID != f.turns[0].ID || first.Intent != "order_status" || first.Decision != "answer" ||
					len(first.InboundIDs) != 1 || first.InboundIDs[0] != f.messages[0].ID ||
					len(first.OutboundIDs) != 1 || first.OutboundIDs[0] != f.messages[1].ID || first.CreatedAt == nil {
					t.Errorf("first turn %+v, want order_status answering message %d", first, f.messages[0].ID)
				}
				if c := first.Trace.Candidates; len(c) != 2 || c[0].Intent != "order_status" || c[0].Prob != 0.91 {
					t.Errorf("first trace candidates %+v, want the stored ones", c)
				}
				if second.Decision != "clarify" || second.OutboundIDs == nil || len(second.OutboundIDs) != 0 {
					t.Errorf("second turn %+v, want clarify with outbound_ids []", second)
				}
				if strings.Contains(r.body, `"trace":"`) {
					t.Errorf("trace is a string, want an object:\n%s", r.body)
				}

				r = apiGet(t, fmt.Sprintf("%s/api/v1/conversations/%d/turns", base, f.closed.ID), bearer)
				if r.code != http.StatusOK || !strings.Contains(r.body, `"turns":[]`) {
					t.Errorf("turns of a conversation without any: %d %s, want an empty list", r.code, r.body)
				}
			})

			t.Run("bad requests", func(t *testing.T) {
				for _, c := range []struct {
					path     string
					code     int
					wantWord string
				}{
					{"/api/v1/conversations/abc", 400, "id must be a positive integer"},
					{"/api/v1/conversations/0", 400, "id must be a positive integer"},
					{"/api/v1/conversations/-3/turns", 400, "id must be a positive integer"},
					{"/api/v1/conversations/99999999999999999999", 400, "id must be a positive integer"},
					{"/api/v1/conversations/987654", 404, "conversation 987654 not found"},
					{"/api/v1/conversations/987654/turns", 404, "conversation 987654 not found"},
					{"/api/v1/conversations?limit=0", 400, "limit"},
					{"/api/v1/conversations?limit=501", 400, "limit"},
					{"/api/v1/conversations?limit=ten", 400, "limit"},
					{"/api/v1/conversations?status=pending", 400, "status must be open or closed"},
					{"/api/v1/conversations?contact_id=x", 400, "contact_id must be a positive integer"},
					{"/api/v1/conversations?contact_id=0", 400, "contact_id must be a positive integer"},
				} {
					r := apiGet(t, base+c.path, bearer)
					var body map[string]string
					r.decode(t, &body)
					if r.code != c.code || !strings.Contains(body["error"], c.wantWord) {
						t.Errorf("%s: %d %s, want %d naming %q", c.path, r.code, r.body, c.code, c.wantWord)
					}
				}
			})
		})
	}
}

// Every route names the roles it lets through; admin passes every check;
// disabled users and revoked tokens get nothing.
func TestAPIRoles(t *testing.T) {
	st := apiStores["sqlite"](t)
	f := seed(t, st)
	base, _ := apiServer(t, st)
	ctx := context.Background()
	tokens := map[string]string{}
	for _, role := range store.Roles {
		tokens[role] = addUser(t, st, role+"-user", role)
	}
	conv := fmt.Sprintf("/api/v1/conversations/%d", f.open.ID)
	for _, c := range []struct {
		path  string
		roles []string // the roles that get 200
	}{
		{conv, []string{store.RoleAdmin, store.RoleQA}}, // agents: through the inbox, their teams' only
		{"/api/v1/knowledge/collections", []string{store.RoleAdmin, store.RoleContent}},
		{"/api/v1/knowledge/documents", []string{store.RoleAdmin, store.RoleContent}},
		{"/api/v1/knowledge/gaps", []string{store.RoleAdmin, store.RoleContent}},
	} {
		for _, role := range store.Roles {
			r := apiGet(t, base+c.path, "Bearer "+tokens[role])
			want := http.StatusForbidden
			if slices.Contains(c.roles, role) {
				want = http.StatusOK
			}
			if r.code != want {
				t.Errorf("%s as %s: %d %s, want %d", c.path, role, r.code, r.body, want)
			}
			if want == http.StatusForbidden && (!strings.Contains(r.body, "needs the role") || strings.Contains(r.body, "Ayşe")) {
				t.Errorf("%s as %s: %s, want an error naming the roles and no data", c.path, role, r.body)
			}
		}
	}
	// The inbox is the agents' (the server has no inbox: the allowed get
	// 503, the others 403 before that).
	for role, want := range map[string]int{store.RoleAgent: 503, store.RoleAdmin: 503, store.RoleContent: 403, store.RoleQA: 403} {
		if r := apiGet(t, base+"/api/v1/inbox/tickets", "Bearer "+tokens[role]); r.code != want {
			t.Errorf("inbox as %s: %d %s, want %d", role, r.code, r.body, want)
		}
	}
	// The tools API is the admins' alone (an agent is refused before the
	// tool admin, missing in this server, is asked).
	if r := apiGet(t, base+"/api/v1/tools", "Bearer "+tokens[store.RoleAgent]); r.code != http.StatusForbidden {
		t.Errorf("tools as agent: %d %s, want 403", r.code, r.body)
	}

	// A disabled user's token stops working at once.
	qa, err := st.GetUserByLogin(ctx, "qa-user")
	if err != nil {
		t.Fatal(err)
	}
	qa.Disabled = true
	if _, err := st.UpdateUser(ctx, qa); err != nil {
		t.Fatal(err)
	}
	if r := apiGet(t, base+conv, "Bearer "+tokens[store.RoleQA]); r.code != http.StatusForbidden || !strings.Contains(r.body, "disabled") {
		t.Errorf("disabled user: %d %s, want 403 saying disabled", r.code, r.body)
	}
	// A revoked token is unknown.
	agent, err := st.GetUserByLogin(ctx, "agent-user")
	if err != nil {
		t.Fatal(err)
	}
	toks, err := st.ListAPITokens(ctx, agent.ID)
	if err != nil || len(toks) != 1 {
		t.Fatalf("tokens of the agent: %v %v", toks, err)
	}
	if err := st.RevokeAPIToken(ctx, toks[0].ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if r := apiGet(t, base+conv, "Bearer "+tokens[store.RoleAgent]); r.code != http.StatusUnauthorized {
		t.Errorf("revoked token: %d %s, want 401", r.code, r.body)
	}
}

// Tokens and users live in the store: until it is attached every API
// request gets 503 with the reason /readyz gives too, and no data.
func TestAPIBeforeTheStore(t *testing.T) {
	base, _ := apiServer(t, nil)
	for _, auth := range []string{"", "Bearer yanit_anything"} {
		r := apiGet(t, base+"/api/v1/conversations", auth)
		if r.code != http.StatusServiceUnavailable || !strings.Contains(r.body, "database: not connected yet") {
			t.Errorf("before the store is attached, with %q: %d %s, want 503 with the reason", auth, r.code, r.body)
		}
	}
}
