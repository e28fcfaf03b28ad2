// Package storetest is the conformance suite every store implementation must
// pass. store/postgres and store/sqlite run it from their own tests, so that
// both stores keep the same contracts.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/store"
)

// Harness opens stores for the suite.
type Harness struct {
	// Name names the store in test output: TestConformance/<Name>/….
	Name string
	// NewDSN returns the location of a new, empty database, removed at test
	// cleanup.
	NewDSN func(t *testing.T) string
	// Open opens and migrates a store at dsn. Several stores may be open on
	// one location at once, the way several processes share one database.
	Open func(ctx context.Context, dsn string) (store.Store, error)
}

// New returns a store on a new, empty database, closed at test cleanup.
func (h Harness) New(t *testing.T) store.Store {
	t.Helper()
	return h.open(t, h.NewDSN(t))
}

func (h Harness) open(t *testing.T, dsn string) store.Store {
	t.Helper()
	s, err := h.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Run runs the whole conformance suite.
func Run(t *testing.T, h Harness) {
	t.Run(h.Name, func(t *testing.T) { run(t, h) })
}

func run(t *testing.T, h Harness) {
	t.Run("Migrations", func(t *testing.T) { testMigrations(t, h) })
	t.Run("Contacts", func(t *testing.T) { testContacts(t, h) })
	t.Run("Conversations", func(t *testing.T) { testConversations(t, h) })
	t.Run("Messages", func(t *testing.T) { testMessages(t, h) })
	t.Run("MessageStatus", func(t *testing.T) { testMessageStatus(t, h) })
	t.Run("MarketingPreference", func(t *testing.T) { testMarketingPreference(t, h) })
	t.Run("SendRecords", func(t *testing.T) { testSendRecords(t, h) })
	t.Run("Transactions", func(t *testing.T) { testTransactions(t, h) })
	t.Run("AcceptInbound", func(t *testing.T) { testAcceptInbound(t, h) })
	t.Run("Turns", func(t *testing.T) { testTurns(t, h) })
	t.Run("RecentTurns", func(t *testing.T) { testRecentTurns(t, h) })
	t.Run("ToolSets", func(t *testing.T) { testToolSets(t, h) })
	t.Run("Knowledge", func(t *testing.T) { testKnowledge(t, h) })
	t.Run("Tickets", func(t *testing.T) { testTickets(t, h) })
	t.Run("TicketQueue", func(t *testing.T) { testTicketQueue(t, h) })
	t.Run("TicketClaimRace", func(t *testing.T) { testTicketClaimRace(t, h) })
	t.Run("AgentPresence", func(t *testing.T) { testAgentPresence(t, h) })
	t.Run("Users", func(t *testing.T) { testUsers(t, h) })
	t.Run("APITokens", func(t *testing.T) { testAPITokens(t, h) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, h) })
	t.Run("ContactLabels", func(t *testing.T) { testContactLabels(t, h) })
	t.Run("ContactBatches", func(t *testing.T) { testContactBatches(t, h) })
	t.Run("Segments", func(t *testing.T) { testSegments(t, h) })
	t.Run("SegmentFilters", func(t *testing.T) { testSegmentFilters(t, h) })
	t.Run("SegmentPaging", func(t *testing.T) { testSegmentPaging(t, h) })
	t.Run("BadSegmentFilters", func(t *testing.T) { testBadSegmentFilters(t, h) })
	t.Run("Campaigns", func(t *testing.T) { testCampaigns(t, h) })
	t.Run("CampaignMoves", func(t *testing.T) { testCampaignMoves(t, h) })
	t.Run("CampaignRecipients", func(t *testing.T) { testCampaignRecipients(t, h) })
	t.Run("CampaignStats", func(t *testing.T) { testCampaignStats(t, h) })
	t.Run("Outbox", func(t *testing.T) { testOutbox(t, h) })
	t.Run("Consents", func(t *testing.T) { testConsents(t, h) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, h) })
	t.Run("Erasure", func(t *testing.T) { testErasure(t, h) })
	t.Run("Expiry", func(t *testing.T) { testExpiry(t, h) })
	t.Run("Jobs", func(t *testing.T) { testJobs(t, h) })
	t.Run("JobLeases", func(t *testing.T) { testJobLeases(t, h) })
	t.Run("JobsConcurrentClaims", func(t *testing.T) { testJobsConcurrentClaims(t, h) })
	t.Run("JobsSurviveRestart", func(t *testing.T) { testJobsSurviveRestart(t, h) })
	t.Run("JobsTwoProcesses", func(t *testing.T) { testJobsTwoProcesses(t, h) })
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// must turns a (value, error) pair into the value, failing the test on error:
// must(s.GetContact(ctx, id))(t).
func must2[T, U any](v T, w U, err error) func(t *testing.T) (T, U) {
	return func(t *testing.T) (T, U) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v, w
	}
}

func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// schemaVersion is the newest migration of every store: the stores keep one
// schema, so a migration added to one store only fails the suite.
const schemaVersion = 10

func testMigrations(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	cur, latest, err := s.MigrationStatus(c)
	if err != nil {
		t.Fatal(err)
	}
	if cur != schemaVersion || latest != schemaVersion {
		t.Fatalf("after migrating from empty: current %d, latest %d; want both %d", cur, latest, schemaVersion)
	}
	if err := s.Migrate(c); err != nil {
		t.Fatalf("migrating an up-to-date store again: %v", err)
	}
	if err := s.Ping(c); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

func testContacts(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

	a := must(s.UpsertContact(c, store.ContactUpsert{WaID: "905321234567", Name: "Ayşe", Seen: t0}))(t)
	if a.ID == 0 || a.Name != "Ayşe" || !a.LastInboundAt.Equal(t0) {
		t.Fatalf("created contact = %+v", a)
	}
	// Same wa_id: same row; name updated; an older Seen never moves the window back.
	b := must(s.UpsertContact(c, store.ContactUpsert{WaID: "905321234567", Name: "Ayşe Y.", UserID: "TR.123", Seen: t0.Add(-time.Hour)}))(t)
	if b.ID != a.ID || b.Name != "Ayşe Y." || b.UserID != "TR.123" || !b.LastInboundAt.Equal(t0) {
		t.Fatalf("upserted contact = %+v, want same id %d, new name, user id kept, window unchanged", b, a.ID)
	}
	// An empty name does not erase the known one; a newer Seen moves it forward.
	d := must(s.UpsertContact(c, store.ContactUpsert{WaID: "905321234567", Seen: t0.Add(time.Hour)}))(t)
	if d.Name != "Ayşe Y." || !d.LastInboundAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("contact after empty-name upsert = %+v", d)
	}
	// A contact known only by user_id.
	u := must(s.UpsertContact(c, store.ContactUpsert{UserID: "TR.999", Name: "Can"}))(t)
	u2 := must(s.UpsertContact(c, store.ContactUpsert{UserID: "TR.999"}))(t)
	if u.ID == a.ID || u2.ID != u.ID || u2.Name != "Can" {
		t.Fatalf("user-id contact: first %+v, second %+v", u, u2)
	}
	if _, err := s.UpsertContact(c, store.ContactUpsert{Name: "nobody"}); err == nil {
		t.Fatal("upsert without wa_id or user_id: want an error")
	}
	got := must(s.GetContact(c, a.ID))(t)
	if got.WaID != "905321234567" || got.Name != "Ayşe Y." {
		t.Fatalf("GetContact = %+v", got)
	}
	if _, err := s.GetContact(c, 424242); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetContact(missing) error = %v, want ErrNotFound", err)
	}
}

func newConversation(t *testing.T, s store.Queries, waID string) store.Conversation {
	t.Helper()
	c := ctx(t)
	ct := must(s.UpsertContact(c, store.ContactUpsert{WaID: waID}))(t)
	return must(s.OpenConversation(c, ct.ID, "1001"))(t)
}

func testConversations(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	ct := must(s.UpsertContact(c, store.ContactUpsert{WaID: "905550000001"}))(t)
	first := must(s.OpenConversation(c, ct.ID, "1001"))(t)
	if first.Status != store.ConversationOpen || first.Mode != store.ModeBot {
		t.Fatalf("new conversation = %+v, want open in bot mode", first)
	}
	again := must(s.OpenConversation(c, ct.ID, "1001"))(t)
	if again.ID != first.ID {
		t.Fatalf("second open on the same number gave %d, want the open one %d", again.ID, first.ID)
	}
	other := must(s.OpenConversation(c, ct.ID, "2002"))(t)
	if other.ID == first.ID {
		t.Fatal("a second business number must get its own conversation")
	}

	state := json.RawMessage(`{"intent":"order_status","slots":{"order":"A-1"}}`)
	if err := s.SetConversationState(c, first.ID, store.ModeHuman, state); err != nil {
		t.Fatal(err)
	}
	got := must(s.GetConversation(c, first.ID))(t)
	if got.Mode != store.ModeHuman || !jsonEqual(got.State, state) {
		t.Fatalf("after SetConversationState: mode %q state %s", got.Mode, got.State)
	}

	if err := s.CloseConversation(c, first.ID); err != nil {
		t.Fatal(err)
	}
	closed := must(s.GetConversation(c, first.ID))(t)
	if closed.Status != store.ConversationClosed || closed.ClosedAt.IsZero() {
		t.Fatalf("closed conversation = %+v", closed)
	}
	if err := s.SetConversationState(c, first.ID, store.ModeBot, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetConversationState on a closed conversation: %v, want ErrNotFound", err)
	}
	fresh := must(s.OpenConversation(c, ct.ID, "1001"))(t)
	if fresh.ID == first.ID || fresh.Mode != store.ModeBot {
		t.Fatalf("after close, open gave %+v; want a new bot conversation", fresh)
	}

	all := must(s.ListConversations(c, store.ConversationFilter{ContactID: ct.ID}))(t)
	if len(all) != 3 {
		t.Fatalf("ListConversations(contact) = %d, want 3", len(all))
	}
	open := must(s.ListConversations(c, store.ConversationFilter{ContactID: ct.ID, Status: store.ConversationOpen}))(t)
	if len(open) != 2 {
		t.Fatalf("ListConversations(open) = %d, want 2", len(open))
	}
	if _, err := s.GetConversation(c, 987654); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetConversation(missing) = %v, want ErrNotFound", err)
	}
}

func inbound(convID int64, wamid, body string, at time.Time) store.Message {
	return store.Message{
		ConversationID: convID, Direction: store.Inbound, ChannelMessageID: wamid,
		Type: "text", Body: body, Status: store.StatusReceived, SentAt: at,
		Payload: json.RawMessage(fmt.Sprintf(`{"id":%q,"type":"text","text":{"body":%q}}`, wamid, body)),
	}
}

func testMessages(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	conv := newConversation(t, s, "905550000002")
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

	m1 := must(s.InsertMessage(c, inbound(conv.ID, "wamid.A", "Merhaba, siparişim nerede?", t0)))(t)
	if m1.ID == 0 || m1.CreatedAt.IsZero() {
		t.Fatalf("inserted message = %+v", m1)
	}
	if _, err := s.InsertMessage(c, inbound(conv.ID, "wamid.A", "retry of the same webhook", t0)); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("inserting the same wamid again: %v, want ErrDuplicate", err)
	}
	m2 := must(s.InsertMessage(c, inbound(conv.ID, "wamid.B", "ve diğeri?", t0.Add(time.Second))))(t)

	// Outbound messages have no wamid until sent; many may wait at once.
	for i := 0; i < 2; i++ {
		must(s.InsertMessage(c, store.Message{ConversationID: conv.ID, Direction: store.Outbound, Type: "text", Body: "yanıt", Status: store.StatusQueued}))(t)
	}

	all := must(s.ListMessages(c, conv.ID))(t)
	if len(all) != 4 {
		t.Fatalf("ListMessages = %d messages, want 4 (the duplicate is not stored)", len(all))
	}
	if all[0].Body != "Merhaba, siparişim nerede?" || !jsonEqual(all[0].Payload, m1.Payload) || !all[0].SentAt.Equal(t0) {
		t.Fatalf("first message read back = %+v", all[0])
	}

	pending := must(s.PendingInbound(c, conv.ID))(t)
	if len(pending) != 2 || pending[0].ID != m1.ID || pending[1].ID != m2.ID {
		t.Fatalf("PendingInbound = %v, want [%d %d] in order", ids(pending), m1.ID, m2.ID)
	}
	if err := s.MarkProcessed(c, []int64{m1.ID}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	pending = must(s.PendingInbound(c, conv.ID))(t)
	if len(pending) != 1 || pending[0].ID != m2.ID {
		t.Fatalf("PendingInbound after processing the first = %v, want [%d]", ids(pending), m2.ID)
	}
	got := must(s.GetMessage(c, m1.ID))(t)
	if got.ProcessedAt.IsZero() {
		t.Fatal("processed message has no ProcessedAt")
	}
	if _, err := s.GetMessage(c, 99999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetMessage(missing) = %v, want ErrNotFound", err)
	}

	// Concurrent deliveries of one webhook: exactly one insert wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, dups := 0, 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.InsertMessage(c, inbound(conv.ID, "wamid.RACE", "aynı anda", t0))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrDuplicate):
				dups++
			default:
				t.Errorf("concurrent insert: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || dups != 7 {
		t.Fatalf("8 concurrent inserts of one wamid: %d stored, %d duplicates; want 1 and 7", wins, dups)
	}
}

func testMessageStatus(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	conv := newConversation(t, s, "905550000003")
	out := func(wamid string) {
		must(s.InsertMessage(c, store.Message{ConversationID: conv.ID, Direction: store.Outbound, ChannelMessageID: wamid, Type: "text", Body: "x", Status: store.StatusSent}))(t)
	}
	out("wamid.OUT1")
	out("wamid.OUT2")

	steps := []struct {
		wamid, status string
		changed       bool
		want          string
	}{
		{"wamid.OUT1", store.StatusRead, true, store.StatusRead},
		{"wamid.OUT1", store.StatusDelivered, false, store.StatusRead}, // late delivered never downgrades
		{"wamid.OUT1", store.StatusRead, false, store.StatusRead},      // duplicate
		{"wamid.OUT2", store.StatusDelivered, true, store.StatusDelivered},
		{"wamid.OUT2", store.StatusFailed, true, store.StatusFailed},
		{"wamid.OUT2", store.StatusRead, false, store.StatusFailed}, // failed is terminal
	}
	for _, st := range steps {
		code, text := 0, ""
		if st.status == store.StatusFailed {
			code, text = 131026, "Message undeliverable"
		}
		changed, err := s.UpdateMessageStatus(c, st.wamid, st.status, code, text)
		if err != nil {
			t.Fatal(err)
		}
		if changed != st.changed {
			t.Errorf("%s → %s: changed = %v, want %v", st.wamid, st.status, changed, st.changed)
		}
	}
	msgs := must(s.ListMessages(c, conv.ID))(t)
	for _, m := range msgs {
		want := map[string]string{"wamid.OUT1": store.StatusRead, "wamid.OUT2": store.StatusFailed}[m.ChannelMessageID]
		if m.Status != want {
			t.Errorf("%s status = %q, want %q", m.ChannelMessageID, m.Status, want)
		}
		if m.ChannelMessageID == "wamid.OUT2" && (m.ErrorCode != 131026 || m.ErrorText == "") {
			t.Errorf("failed message keeps its error: code %d text %q", m.ErrorCode, m.ErrorText)
		}
	}
	if _, err := s.UpdateMessageStatus(c, "wamid.UNKNOWN", store.StatusRead, 0, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("status for an unknown wamid: %v, want ErrNotFound", err)
	}
}

func testMarketingPreference(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	ct := must(s.UpsertContact(c, store.ContactUpsert{WaID: "905550000010"}))(t)
	if ct.MarketingOptOut || !ct.MarketingPrefAt.IsZero() {
		t.Fatalf("new contact = %+v, want opted in with no preference time", ct)
	}

	steps := []struct {
		name    string
		optOut  bool
		at      time.Time
		changed bool
		// The preference recorded after the step.
		wantOptOut bool
		wantAt     time.Time
	}{
		{"opt out", true, t0, true, true, t0},
		{"older resume arriving late", false, t0.Add(-time.Hour), false, true, t0},
		{"resume at the same time", false, t0, false, true, t0},
		{"newer resume", false, t0.Add(time.Hour), true, false, t0.Add(time.Hour)},
		{"opt out again", true, t0.Add(3 * time.Hour), true, true, t0.Add(3 * time.Hour)},
		// A newer preference equal to the recorded one still moves the
		// time forward, so that an older resume cannot override it.
		{"newer opt out repeated", true, t0.Add(5 * time.Hour), true, true, t0.Add(5 * time.Hour)},
		{"resume older than the repeat", false, t0.Add(4 * time.Hour), false, true, t0.Add(5 * time.Hour)},
	}
	for _, st := range steps {
		changed, err := s.SetMarketingPreference(c, ct.ID, st.optOut, st.at)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got := must(s.GetContact(c, ct.ID))(t)
		if changed != st.changed || got.MarketingOptOut != st.wantOptOut || !got.MarketingPrefAt.Equal(st.wantAt) {
			t.Fatalf("%s: changed %v, contact opted out %v at %v; want %v, %v at %v", st.name,
				changed, got.MarketingOptOut, got.MarketingPrefAt, st.changed, st.wantOptOut, st.wantAt)
		}
	}

	// Upserting the contact keeps its preference, and returns it.
	up := must(s.UpsertContact(c, store.ContactUpsert{WaID: "905550000010", Name: "Deniz"}))(t)
	if !up.MarketingOptOut || !up.MarketingPrefAt.Equal(t0.Add(5*time.Hour)) || up.Name != "Deniz" {
		t.Fatalf("contact after upsert = %+v, want the preference kept", up)
	}
	// The preference is the contact's alone.
	other := must(s.UpsertContact(c, store.ContactUpsert{WaID: "905550000011"}))(t)
	if other.MarketingOptOut || !other.MarketingPrefAt.IsZero() {
		t.Fatalf("another contact = %+v, want no preference", other)
	}
	if _, err := s.SetMarketingPreference(c, 424242, true, t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("preference of a missing contact: %v, want ErrNotFound", err)
	}

	// Preferences racing in any order: the newest wins.
	const racers = 16
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			at := t0.Add(24*time.Hour + time.Duration(i)*time.Minute)
			if _, err := s.SetMarketingPreference(c, other.ID, i%2 == 0, at); err != nil {
				t.Errorf("racing preference %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	newest := t0.Add(24*time.Hour + (racers-1)*time.Minute)
	got := must(s.GetContact(c, other.ID))(t)
	if got.MarketingOptOut != ((racers-1)%2 == 0) || !got.MarketingPrefAt.Equal(newest) {
		t.Fatalf("after %d racing preferences: opted out %v at %v; want the newest, %v at %v",
			racers, got.MarketingOptOut, got.MarketingPrefAt, (racers-1)%2 == 0, newest)
	}
}

func testSendRecords(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	conv := newConversation(t, s, "905550000012")
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	outbox := func(status string) store.Message {
		t.Helper()
		return must(s.InsertMessage(c, store.Message{ConversationID: conv.ID, Direction: store.Outbound,
			Type: "text", Body: "yanıt", Status: status}))(t)
	}
	get := func(id int64) store.Message {
		t.Helper()
		return must(s.GetMessage(c, id))(t)
	}

	// A send the channel accepted: the wamid is recorded and status webhooks
	// find the message by it.
	m := outbox(store.StatusQueued)
	if err := s.RecordSend(c, m.ID, "wamid.S1", t0); err != nil {
		t.Fatal(err)
	}
	if got := get(m.ID); got.ChannelMessageID != "wamid.S1" || got.Status != store.StatusSent || !got.SentAt.Equal(t0) {
		t.Fatalf("recorded send = %+v, want wamid.S1, sent at %v", got, t0)
	}
	if changed, err := s.UpdateMessageStatus(c, "wamid.S1", store.StatusDelivered, 0, ""); err != nil || !changed {
		t.Fatalf("delivered status for the recorded wamid: changed %v, %v", changed, err)
	}
	// Recording it again, as a retried job does, changes nothing.
	if err := s.RecordSend(c, m.ID, "wamid.S1", t0.Add(time.Minute)); err != nil {
		t.Fatalf("recording the same wamid again: %v", err)
	}
	if got := get(m.ID); got.Status != store.StatusDelivered || !got.SentAt.Equal(t0) {
		t.Fatalf("after a repeated send record: %+v, want delivered, sent at %v", got, t0)
	}
	// Another wamid for the message is a conflict, and changes nothing.
	if err := s.RecordSend(c, m.ID, "wamid.OTHER", t0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a second wamid for one message: %v, want ErrConflict", err)
	}
	if got := get(m.ID); got.ChannelMessageID != "wamid.S1" {
		t.Fatalf("after a conflicting send record: wamid %q, want wamid.S1", got.ChannelMessageID)
	}
	// A wamid another message has is a conflict too (the unique index).
	m2 := outbox(store.StatusQueued)
	if err := s.RecordSend(c, m2.ID, "wamid.S1", t0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a wamid of another message: %v, want ErrConflict", err)
	}
	if got := get(m2.ID); got.ChannelMessageID != "" || got.Status != store.StatusQueued || !got.SentAt.IsZero() {
		t.Fatalf("after recording a taken wamid: %+v, want unchanged", got)
	}
	if err := s.RecordSend(c, m2.ID, "wamid.S2", t0); err != nil {
		t.Fatalf("recording a free wamid after a conflict: %v", err)
	}
	if err := s.RecordSend(c, outbox(store.StatusQueued).ID, "", t0); err == nil {
		t.Fatal("recording an empty wamid: want an error")
	}

	// Reconciliation: the delivered webhook, tagged with the outbox id, came
	// before the sender recorded the wamid. The webhook's handler records it
	// and applies the status; the sender's record comes last and changes
	// nothing.
	m3 := outbox(store.StatusQueued)
	if _, err := s.UpdateMessageStatus(c, "wamid.S3", store.StatusDelivered, 0, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("status of a wamid not yet recorded: %v, want ErrNotFound", err)
	}
	if err := s.RecordSend(c, m3.ID, "wamid.S3", t0.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if changed, err := s.UpdateMessageStatus(c, "wamid.S3", store.StatusDelivered, 0, ""); err != nil || !changed {
		t.Fatalf("delivered status after reconciling: changed %v, %v", changed, err)
	}
	if err := s.RecordSend(c, m3.ID, "wamid.S3", t0.Add(time.Second)); err != nil {
		t.Fatalf("the sender's late send record: %v", err)
	}
	if got := get(m3.ID); got.Status != store.StatusDelivered || !got.SentAt.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("reconciled message = %+v, want delivered, sent at the first record", got)
	}

	// A message whose status is at or beyond sent keeps it, and still gets
	// its wamid; one below sent moves to sent.
	for i, tc := range []struct{ status, want string }{
		{"", store.StatusSent},
		{store.StatusQueued, store.StatusSent},
		{store.StatusSent, store.StatusSent},
		{store.StatusDelivered, store.StatusDelivered},
		{store.StatusRead, store.StatusRead},
		{store.StatusFailed, store.StatusFailed},
	} {
		name := "from " + tc.status
		if tc.status == "" {
			name = "from no status"
		}
		t.Run(name, func(t *testing.T) {
			m := outbox(tc.status)
			wamid := fmt.Sprintf("wamid.FROM%d", i)
			if err := s.RecordSend(c, m.ID, wamid, t0); err != nil {
				t.Fatal(err)
			}
			if got := get(m.ID); got.ChannelMessageID != wamid || got.Status != tc.want || !got.SentAt.Equal(t0) {
				t.Fatalf("message in %q after RecordSend = %+v, want %s, %q, sent at %v", tc.status, got, wamid, tc.want, t0)
			}
		})
	}

	// Failing a message records the channel's error; failed is terminal and
	// keeps the first error, also for a message already delivered.
	f := outbox(store.StatusQueued)
	if err := s.FailOutbound(c, f.ID, 131026, "Message undeliverable"); err != nil {
		t.Fatal(err)
	}
	if err := s.FailOutbound(c, f.ID, 131047, "Re-engagement message"); err != nil {
		t.Fatalf("failing a failed message again: %v", err)
	}
	if got := get(f.ID); got.Status != store.StatusFailed || got.ErrorCode != 131026 || got.ErrorText != "Message undeliverable" {
		t.Fatalf("failed message = %+v, want failed with the first error", got)
	}
	// A wamid recorded late lands on the failed message, which stays failed.
	if err := s.RecordSend(c, f.ID, "wamid.F", t0); err != nil {
		t.Fatal(err)
	}
	if got := get(f.ID); got.ChannelMessageID != "wamid.F" || got.Status != store.StatusFailed || got.ErrorCode != 131026 {
		t.Fatalf("failed message after RecordSend = %+v, want wamid.F, failed, its error kept", got)
	}
	if err := s.FailOutbound(c, m.ID, 131000, "Something went wrong"); err != nil {
		t.Fatal(err)
	}
	if changed, err := s.UpdateMessageStatus(c, "wamid.S1", store.StatusRead, 0, ""); err != nil || changed {
		t.Fatalf("read status for a failed message: changed %v, %v; want unchanged", changed, err)
	}
	if got := get(m.ID); got.Status != store.StatusFailed || got.ErrorCode != 131000 {
		t.Fatalf("delivered message after FailOutbound and a read status = %+v, want failed with code 131000", got)
	}

	// Inbound and missing ids are not outbound messages.
	in := must(s.InsertMessage(c, inbound(conv.ID, "wamid.IN", "merhaba", t0)))(t)
	noID := must(s.InsertMessage(c, store.Message{ConversationID: conv.ID, Direction: store.Inbound,
		Type: "text", Status: store.StatusReceived}))(t)
	for _, id := range []int64{in.ID, noID.ID, 99999} {
		for _, wamid := range []string{"wamid.NEW", "wamid.IN"} {
			if err := s.RecordSend(c, id, wamid, t0); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("RecordSend(%d, %s): %v, want ErrNotFound", id, wamid, err)
			}
		}
		if err := s.FailOutbound(c, id, 131026, "x"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("FailOutbound(%d): %v, want ErrNotFound", id, err)
		}
	}
	for _, m := range []store.Message{in, noID} {
		if got := get(m.ID); got.ChannelMessageID != m.ChannelMessageID || got.Status != store.StatusReceived ||
			got.ErrorCode != 0 || !got.SentAt.Equal(m.SentAt) {
			t.Errorf("inbound message after RecordSend and FailOutbound = %+v, want unchanged", got)
		}
	}

	// Senders racing to record a message's wamid: one wins, the others
	// conflict; the same wamid recorded at once succeeds for all.
	race := outbox(store.StatusQueued)
	const racers = 8
	var wg sync.WaitGroup
	errs := make([]error, 2*racers)
	for i := range racers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			errs[i] = s.RecordSend(c, race.ID, fmt.Sprintf("wamid.RACE%d", i), t0)
		}()
		go func() {
			defer wg.Done()
			errs[racers+i] = s.RecordSend(c, m2.ID, "wamid.S2", t0)
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs[:racers] {
		switch {
		case err == nil && winner < 0:
			winner = i
		case err == nil:
			t.Errorf("racing senders %d and %d both recorded their wamid", winner, i)
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("racing sender %d: %v, want nil or ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no racing sender recorded its wamid")
	}
	if got := get(race.ID); got.ChannelMessageID != fmt.Sprintf("wamid.RACE%d", winner) {
		t.Errorf("raced message has %q, want the winner's wamid.RACE%d", got.ChannelMessageID, winner)
	}
	for i, err := range errs[racers:] {
		if err != nil {
			t.Errorf("repeating a recorded wamid, racer %d: %v", i, err)
		}
	}
}

var errRollback = errors.New("rollback please")

func testTransactions(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	conv := newConversation(t, s, "905550000004")

	err := s.InTx(c, func(tx store.Queries) error {
		if _, err := tx.InsertMessage(c, inbound(conv.ID, "wamid.TX", "x", time.Now())); err != nil {
			return err
		}
		if _, err := tx.Enqueue(c, jobs.EnqueueParams{Kind: "turn", Key: "conv"}); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx returned %v, want the callback's error", err)
	}
	if msgs := must(s.ListMessages(c, conv.ID))(t); len(msgs) != 0 {
		t.Fatalf("rolled-back message is visible: %d messages", len(msgs))
	}
	if js := must(s.Claim(c, jobs.ClaimParams{Worker: "w", Kinds: []string{"turn"}, Limit: 10, Lease: time.Minute}))(t); len(js) != 0 {
		t.Fatalf("rolled-back job is claimable: %d jobs", len(js))
	}

	// The same work committed is all there.
	err = s.InTx(c, func(tx store.Queries) error {
		if _, err := tx.InsertMessage(c, inbound(conv.ID, "wamid.TX", "x", time.Now())); err != nil {
			return err
		}
		_, err := tx.Enqueue(c, jobs.EnqueueParams{Kind: "turn", Key: "conv"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if msgs := must(s.ListMessages(c, conv.ID))(t); len(msgs) != 1 {
		t.Fatalf("committed message: %d messages, want 1", len(msgs))
	}
	// A duplicate inside a transaction leaves the transaction usable.
	err = s.InTx(c, func(tx store.Queries) error {
		if _, err := tx.InsertMessage(c, inbound(conv.ID, "wamid.TX", "again", time.Now())); !errors.Is(err, store.ErrDuplicate) {
			return fmt.Errorf("duplicate in tx: %v", err)
		}
		_, err := tx.InsertMessage(c, inbound(conv.ID, "wamid.TX2", "next", time.Now()))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if msgs := must(s.ListMessages(c, conv.ID))(t); len(msgs) != 2 {
		t.Fatalf("after a duplicate and an insert in one tx: %d messages, want 2", len(msgs))
	}
}

func testTurns(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	conv := newConversation(t, s, "905550000005")
	trace := json.RawMessage(`{"candidates":[{"intent":"order_status","p":0.91}],"stages_ms":{"understand":1.2}}`)
	in := store.Turn{
		ConversationID: conv.ID, InboundIDs: []int64{3, 4}, OutboundIDs: []int64{5},
		Intent: "order_status", Confidence: 0.91, Decision: "tool", Reason: "confident intent with a tool",
		Trace: trace, LatencyMS: 3.5,
	}
	created := must(s.InsertTurn(c, in))(t)
	if created.ID == 0 || created.CreatedAt.IsZero() {
		t.Fatalf("created turn = %+v", created)
	}
	must(s.InsertTurn(c, store.Turn{ConversationID: conv.ID, Intent: "thanks", Confidence: 0.5, Decision: "answer"}))(t)
	got := must(s.ListTurns(c, conv.ID))(t)
	if len(got) != 2 {
		t.Fatalf("ListTurns = %d, want 2", len(got))
	}
	g := got[0]
	if g.Intent != in.Intent || g.Confidence != in.Confidence || g.Decision != in.Decision || g.Reason != in.Reason ||
		fmt.Sprint(g.InboundIDs) != "[3 4]" || fmt.Sprint(g.OutboundIDs) != "[5]" || !jsonEqual(g.Trace, trace) || g.LatencyMS != 3.5 {
		t.Fatalf("turn read back = %+v", g)
	}
	if got[1].Intent != "thanks" {
		t.Fatalf("turns not in order: %+v", got)
	}
}

func ids(ms []store.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}

func testAcceptInbound(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	params := func(wamid, name string, at time.Time, turn bool) store.InboundParams {
		p := store.InboundParams{
			Contact:       store.ContactUpsert{WaID: "905551112233", Name: name, Seen: at},
			PhoneNumberID: "1001",
			Message:       inbound(0, wamid, "merhaba "+wamid, at),
		}
		if turn {
			p.TurnKind = "turn"
		}
		return p
	}
	turnJobs := func() []jobs.Job {
		js := must(s.Claim(c, jobs.ClaimParams{Worker: "peek", Kinds: []string{"turn"}, Limit: 100, Lease: time.Minute}))(t)
		for _, j := range js { // put them back: only counting
			if err := s.Retry(c, "peek", j.ID, time.Now().Add(-time.Second), ""); err != nil {
				t.Fatal(err)
			}
		}
		return js
	}

	first := must(s.AcceptInbound(c, params("wamid.I1", "Ayşe", t0, true)))(t)
	if first.ID == 0 || first.ConversationID == 0 {
		t.Fatalf("first message = %+v", first)
	}
	conv := must(s.GetConversation(c, first.ConversationID))(t)
	contact := must(s.GetContact(c, conv.ContactID))(t)
	if contact.Name != "Ayşe" || !contact.LastInboundAt.Equal(t0) || conv.PhoneNumberID != "1001" {
		t.Fatalf("contact %+v, conversation %+v", contact, conv)
	}
	js := turnJobs()
	if len(js) != 1 || js[0].Key != store.TurnKey(conv.ID) || !jsonEqual(js[0].Payload, json.RawMessage(fmt.Sprintf(`{"conversation_id":%d}`, conv.ID))) {
		t.Fatalf("turn jobs after the first message = %+v", js)
	}

	// A known contact in an open conversation (the common case).
	second := must(s.AcceptInbound(c, params("wamid.I2", "Ayşe Y.", t0.Add(time.Minute), true)))(t)
	if second.ConversationID != conv.ID || second.ID <= first.ID || second.Body != "merhaba wamid.I2" || second.CreatedAt.IsZero() {
		t.Fatalf("second message = %+v, want the same conversation", second)
	}
	contact = must(s.GetContact(c, conv.ContactID))(t)
	if contact.Name != "Ayşe Y." || !contact.LastInboundAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("contact after the second message = %+v", contact)
	}
	if got := must(s.GetMessage(c, second.ID))(t); got.ChannelMessageID != "wamid.I2" || got.Type != "text" || !got.SentAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("stored second message = %+v", got)
	}
	// Both jobs share the key: only the first is claimable, the second waits.
	if js := turnJobs(); len(js) != 1 {
		t.Fatalf("claimable turn jobs = %d, want 1 (one per conversation at a time)", len(js))
	}

	// Meta's retry of the same webhook: nothing new, no job.
	if _, err := s.AcceptInbound(c, params("wamid.I2", "Ayşe Y.", t0.Add(time.Minute), true)); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("redelivered message: %v, want ErrDuplicate", err)
	}
	// No turn asked: the message is stored, no job.
	must(s.AcceptInbound(c, params("wamid.I3", "", t0.Add(2*time.Minute), false)))(t)
	if msgs := must(s.ListMessages(c, conv.ID))(t); len(msgs) != 3 {
		t.Fatalf("messages = %d, want 3", len(msgs))
	}
	if pending := must(s.PendingInbound(c, conv.ID))(t); len(pending) != 3 {
		t.Fatalf("pending = %d, want 3", len(pending))
	}
	// Finish the jobs, then count: two turn jobs in all (I1, I2), none for I3.
	total := 0
	for {
		js := must(s.Claim(c, jobs.ClaimParams{Worker: "w", Kinds: []string{"turn"}, Limit: 10, Lease: time.Minute}))(t)
		if len(js) == 0 {
			break
		}
		for _, j := range js {
			total++
			if err := s.Complete(c, "w", j.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if total != 2 {
		t.Fatalf("turn jobs = %d, want 2", total)
	}

	// A closed conversation: the next message opens a new one.
	if err := s.CloseConversation(c, conv.ID); err != nil {
		t.Fatal(err)
	}
	next := must(s.AcceptInbound(c, params("wamid.I4", "", t0.Add(3*time.Minute), true)))(t)
	if next.ConversationID == conv.ID {
		t.Fatal("a message after the conversation closed went into the closed one")
	}
	// Inside a rolled-back transaction nothing stays.
	err := s.InTx(c, func(tx store.Queries) error {
		if _, err := tx.AcceptInbound(c, params("wamid.I5", "", t0.Add(4*time.Minute), true)); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v", err)
	}
	if msgs := must(s.ListMessages(c, next.ConversationID))(t); len(msgs) != 1 {
		t.Fatalf("after a rollback the new conversation has %d messages, want 1", len(msgs))
	}
	// A contact known only by its user id takes the general path.
	u := must(s.AcceptInbound(c, store.InboundParams{Contact: store.ContactUpsert{UserID: "TR.42"}, PhoneNumberID: "1001",
		Message: inbound(0, "wamid.U1", "selam", t0), TurnKind: "turn"}))(t)
	if u.ID == 0 || u.ConversationID == conv.ID || u.ConversationID == next.ConversationID {
		t.Fatalf("user-id-only message = %+v", u)
	}
}
