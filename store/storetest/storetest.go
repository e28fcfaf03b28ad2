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
	t.Run("Transactions", func(t *testing.T) { testTransactions(t, h) })
	t.Run("Turns", func(t *testing.T) { testTurns(t, h) })
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
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func testMigrations(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	cur, latest, err := s.MigrationStatus(c)
	if err != nil {
		t.Fatal(err)
	}
	if latest < 1 || cur != latest {
		t.Fatalf("after migrating from empty: current %d, latest %d; want equal and ≥ 1", cur, latest)
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
