package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/store"
)

// showConsents writes consent records as "purpose:granted@hh:mm", in
// order, for comparisons.
func showConsents(cs []store.Consent) string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = fmt.Sprintf("%s:%v@%s", c.Purpose, c.Granted, c.At.Format("15:04"))
	}
	return strings.Join(out, " ")
}

func testConsents(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	ct := must(s.UpsertContact(c, store.ContactUpsert{WaID: "905550000061"}))(t)
	record := func(purpose string, granted bool, source string, at time.Time) store.Consent {
		t.Helper()
		return must(s.RecordConsent(c, store.Consent{ContactID: ct.ID, Purpose: purpose, Granted: granted,
			Source: source, PolicyVersion: "2026-05", At: at}))(t)
	}
	current := func(contactID int64) string {
		t.Helper()
		return showConsents(must(s.CurrentConsents(c, contactID))(t))
	}
	optOut := func(contactID int64) (bool, time.Time) {
		t.Helper()
		got := must(s.GetContact(c, contactID))(t)
		return got.MarketingOptOut, got.MarketingPrefAt
	}

	if got := current(ct.ID); got != "" {
		t.Fatalf("current consents of a new contact = %q, want none", got)
	}
	given := record(store.PurposeService, true, store.ConsentByButton, t0)
	if given.ID == 0 || given.ContactID != ct.ID || given.Purpose != store.PurposeService || !given.Granted ||
		given.Source != store.ConsentByButton || given.PolicyVersion != "2026-05" || !given.At.Equal(t0) || given.CreatedAt.IsZero() {
		t.Fatalf("recorded %+v", given)
	}
	if got := current(ct.ID); got != "service:true@10:00" {
		t.Fatalf("after a grant: current %q", got)
	}
	// A refusal after the grant is the contact's choice now.
	record(store.PurposeService, false, store.ConsentByKeyword, t0.Add(time.Hour))
	if got := current(ct.ID); got != "service:false@11:00" {
		t.Fatalf("after a refusal: current %q, want the refusal", got)
	}
	// An older record arriving late (an import) joins the history and
	// changes nothing.
	record(store.PurposeService, true, store.ConsentByImport, t0.Add(-time.Hour))
	if got := current(ct.ID); got != "service:false@11:00" {
		t.Fatalf("after an older grant: current %q, want the refusal still", got)
	}
	if got := showConsents(must(s.ListConsents(c, ct.ID))(t)); got != "service:true@09:00 service:true@10:00 service:false@11:00" {
		t.Fatalf("history = %q, want all three, oldest first", got)
	}

	// Marketing records set the contact's opt-out, newest wins.
	steps := []struct {
		name       string
		granted    bool
		at         time.Time
		wantOptOut bool
		wantAt     time.Time
	}{
		{"grant", true, t0, false, t0},
		{"refusal", false, t0.Add(2 * time.Hour), true, t0.Add(2 * time.Hour)},
		{"older grant arriving late", true, t0.Add(time.Hour), true, t0.Add(2 * time.Hour)},
		{"newer grant", true, t0.Add(3 * time.Hour), false, t0.Add(3 * time.Hour)},
	}
	for _, st := range steps {
		record(store.PurposeMarketing, st.granted, store.ConsentByWebhook, st.at)
		if out, at := optOut(ct.ID); out != st.wantOptOut || !at.Equal(st.wantAt) {
			t.Fatalf("after the %s: opted out %v at %v, want %v at %v", st.name, out, at, st.wantOptOut, st.wantAt)
		}
	}
	if got := current(ct.ID); got != "marketing:true@13:00 service:false@11:00" {
		t.Fatalf("current = %q, want the newest of each purpose", got)
	}

	// Bad records are refused, naming what is wrong, and store nothing.
	stored := len(must(s.ListConsents(c, ct.ID))(t))
	for _, tc := range []struct {
		consent store.Consent
		want    string
	}{
		{store.Consent{ContactID: ct.ID, Purpose: "ads", Source: store.ConsentByAPI, At: t0}, `"ads"`},
		{store.Consent{ContactID: ct.ID, Purpose: store.PurposeMarketing, Source: "sms", At: t0}, `"sms"`},
		{store.Consent{Purpose: store.PurposeMarketing, Source: store.ConsentByAPI, At: t0}, "no contact"},
		{store.Consent{ContactID: ct.ID, Purpose: store.PurposeMarketing, Source: store.ConsentByAPI}, "no time"},
	} {
		_, err := s.RecordConsent(c, tc.consent)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("recording %+v: %v, want an error naming %s", tc.consent, err, tc.want)
		}
	}
	if n := len(must(s.ListConsents(c, ct.ID))(t)); n != stored {
		t.Errorf("refused records changed the history: %d records, want %d", n, stored)
	}
	if out, _ := optOut(ct.ID); out {
		t.Error("a refused marketing record changed the opt-out")
	}
	if _, err := s.RecordConsent(c, store.Consent{ContactID: 987654, Purpose: store.PurposeService,
		Source: store.ConsentByAPI, At: t0}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a consent of a missing contact: %v, want ErrNotFound", err)
	}

	// Inside a transaction: a rolled-back refusal leaves no record and no
	// opt-out; a committed one leaves both. Records are the contact's own.
	other := must(s.UpsertContact(c, store.ContactUpsert{WaID: "905550000062"}))(t)
	refusal := store.Consent{ContactID: other.ID, Purpose: store.PurposeMarketing, Source: store.ConsentByKeyword, At: t0}
	errRollback := errors.New("roll back")
	err := s.InTx(c, func(tx store.Queries) error {
		if _, err := tx.RecordConsent(c, refusal); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("rolled-back transaction: %v", err)
	}
	if out, _ := optOut(other.ID); out || current(other.ID) != "" {
		t.Fatalf("after a rollback: opted out %v, consents %q; want neither", out, current(other.ID))
	}
	err = s.InTx(c, func(tx store.Queries) error {
		_, err := tx.RecordConsent(c, refusal)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := optOut(other.ID); !out || current(other.ID) != "marketing:false@10:00" {
		t.Fatalf("after a commit: opted out %v, consents %q; want the refusal", out, current(other.ID))
	}
	if got := current(ct.ID); got != "marketing:true@13:00 service:false@11:00" {
		t.Fatalf("another contact's refusal changed this one's consents: %q", got)
	}
}

// showAudit writes audit entries as their actions, in order.
func showAudit(es []store.AuditEntry) string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Action
	}
	return strings.Join(out, " ")
}

func testAudit(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	t0 := time.Date(2021, 3, 1, 9, 0, 0, 0, time.UTC)
	detail := json.RawMessage(`{"purpose":"marketing","source":"button"}`)

	given := must(s.AppendAudit(c, store.AuditEntry{Actor: "ayse", ActorID: 7, Action: "consent.given",
		Target: "contact:12", Address: "203.0.113.9", Detail: detail, At: t0}))(t)
	if given.ID == 0 || given.Actor != "ayse" || given.ActorID != 7 || given.Action != "consent.given" || given.Target != "contact:12" ||
		given.Address != "203.0.113.9" || !jsonEqual(given.Detail, detail) || !given.At.Equal(t0) {
		t.Fatalf("appended %+v", given)
	}
	// At defaults to now, Detail to {}.
	erased := must(s.AppendAudit(c, store.AuditEntry{Actor: "cli", Action: "contact.erased", Target: "contact:13"}))(t)
	if erased.At.IsZero() || !jsonEqual(erased.Detail, json.RawMessage(`{}`)) {
		t.Fatalf("appended without a time or detail: %+v", erased)
	}
	refused := must(s.AppendAudit(c, store.AuditEntry{Actor: "system", Action: "consent.refused", Target: "contact:12",
		At: t0.Add(time.Minute)}))(t)
	must(s.AppendAudit(c, store.AuditEntry{Actor: "ayse", ActorID: 7, Action: "consents.exported", Target: "contact:12",
		At: t0.Add(2 * time.Minute)}))(t)

	all := must(s.ListAudit(c, store.AuditFilter{}))(t)
	if got := showAudit(all); got != "consents.exported consent.refused contact.erased consent.given" {
		t.Fatalf("the whole log = %q, want newest first", got)
	}
	if last := all[len(all)-1]; last.ID != given.ID || !jsonEqual(last.Detail, detail) || last.Address != "203.0.113.9" || !last.At.Equal(t0) {
		t.Errorf("read back %+v, want %+v", last, given)
	}
	for _, tc := range []struct {
		name string
		f    store.AuditFilter
		want string
	}{
		{"a prefix", store.AuditFilter{Action: "consent."}, "consent.refused consent.given"},
		{"an exact action", store.AuditFilter{Action: "consent.given"}, "consent.given"},
		{"a word without the dot", store.AuditFilter{Action: "consent"}, ""},
		{"an actor", store.AuditFilter{Actor: "ayse"}, "consents.exported consent.given"},
		{"a target", store.AuditFilter{Target: "contact:12"}, "consents.exported consent.refused consent.given"},
		{"since", store.AuditFilter{Since: t0.Add(time.Minute)}, "consents.exported consent.refused contact.erased"},
		{"the first page", store.AuditFilter{Limit: 2}, "consents.exported consent.refused"},
		{"the next page", store.AuditFilter{Before: refused.ID, Limit: 2}, "contact.erased consent.given"},
		{"all at once", store.AuditFilter{Action: "consent.", Target: "contact:12", Before: refused.ID}, "consent.given"},
	} {
		if got := showAudit(must(s.ListAudit(c, tc.f))(t)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}

	// Bad entries and filters are refused, naming what is wrong.
	for _, tc := range []struct {
		e    store.AuditEntry
		want string
	}{
		{store.AuditEntry{Actor: "ayse", Target: "ticket:7"}, "action"},
		{store.AuditEntry{Action: "ticket.viewed", Detail: json.RawMessage(`["ticket",7]`)}, "detail"},
		{store.AuditEntry{Action: "ticket.viewed", Detail: json.RawMessage(`{"ticket":`)}, "detail"},
	} {
		if _, err := s.AppendAudit(c, tc.e); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("appending %+v: %v, want an error naming the %s", tc.e, err, tc.want)
		}
	}
	for _, limit := range []int{-1, 1001} {
		if _, err := s.ListAudit(c, store.AuditFilter{Limit: limit}); err == nil || !strings.Contains(err.Error(), fmt.Sprint(limit)) {
			t.Errorf("limit %d: %v, want an error naming it", limit, err)
		}
	}
	if n := len(must(s.ListAudit(c, store.AuditFilter{}))(t)); n != 4 {
		t.Errorf("the log holds %d entries after refused ones, want 4", n)
	}
}

// erasureFixture is a contact with every kind of record erasure removes.
type erasureFixture struct {
	contact       store.Contact
	conversations []int64
	messages      []int64 // inbound and outbound
	tickets       []int64
	sendJob       int64
	want          store.Erasure
}

// newErasureFixture gives the contact waID two conversations (on two
// numbers), inbound messages with their turn jobs, an outbound message
// with its send job, a job naming a message in its payload only, turns, an
// open and a closed ticket with events and a notice job, and two consent
// records.
func newErasureFixture(t *testing.T, s store.Store, waID string) erasureFixture {
	t.Helper()
	c := ctx(t)
	var f erasureFixture
	accept := func(phone, wamid string) store.Message {
		t.Helper()
		return must(s.AcceptInbound(c, store.InboundParams{Contact: store.ContactUpsert{WaID: waID}, PhoneNumberID: phone,
			Message: inbound(0, wamid, "Siparişim nerede? "+wamid, time.Now()), TurnKind: "turn"}))(t)
	}
	in1 := accept("1001", "wamid."+waID+".1")
	in2 := accept("1001", "wamid."+waID+".2")
	in3 := accept("2002", "wamid."+waID+".3")
	conv1, conv2 := in1.ConversationID, in3.ConversationID
	f.conversations = []int64{conv1, conv2}
	f.contact = must(s.GetContact(c, must(s.GetConversation(c, conv1))(t).ContactID))(t)

	// An outbound message and its send job, as channel.Queue writes them.
	out := must(s.InsertMessage(c, store.Message{ConversationID: conv1, Direction: store.Outbound, Type: "text",
		Body: "Kargonuz yolda", Payload: json.RawMessage(`{"type":"text","text":{"body":"Kargonuz yolda"}}`), Status: store.StatusQueued}))(t)
	f.messages = []int64{in1.ID, in2.ID, in3.ID, out.ID}
	f.sendJob = must(s.Enqueue(c, jobs.EnqueueParams{Kind: "send", Key: fmt.Sprintf("out:%d", conv1),
		Payload: json.RawMessage(fmt.Sprintf(`{"message_id":%d}`, out.ID))}))(t).ID
	// A job found by its payload alone.
	must(s.Enqueue(c, jobs.EnqueueParams{Kind: "send", Payload: json.RawMessage(fmt.Sprintf(`{"message_id":%d}`, in2.ID))}))(t)

	for _, conv := range []int64{conv1, conv1, conv2} {
		must(s.InsertTurn(c, store.Turn{ConversationID: conv, Intent: "order_status", Decision: "tool",
			Trace: json.RawMessage(`{"slots":{"order":"A-1"}}`)}))(t)
	}

	open, _ := must2(s.OpenTicket(c, store.Ticket{ConversationID: conv1, ContactID: f.contact.ID, Pack: json.RawMessage(`{"summary":"kargo"}`)}))(t)
	must(s.AddTicketEvent(c, store.TicketEvent{TicketID: open.ID, Kind: "created"}))(t)
	must(s.AddTicketEvent(c, store.TicketEvent{TicketID: open.ID, Kind: "note", Data: json.RawMessage(`{"text":"adres değişti"}`)}))(t)
	// A notice job of the open ticket, as inbox.Notices schedules it.
	must(s.Enqueue(c, jobs.EnqueueParams{Kind: "inbox_notice", Key: fmt.Sprintf("ticket:%d", open.ID),
		Payload: json.RawMessage(fmt.Sprintf(`{"ticket_id":%d}`, open.ID))}))(t)
	closed, _ := must2(s.OpenTicket(c, store.Ticket{ConversationID: conv2, ContactID: f.contact.ID}))(t)
	must(s.CloseTicket(c, closed.ID, store.TicketResolved, time.Now()))(t)
	must(s.AddTicketEvent(c, store.TicketEvent{TicketID: closed.ID, Kind: "resolved"}))(t)
	f.tickets = []int64{open.ID, closed.ID}

	must(s.RecordConsent(c, store.Consent{ContactID: f.contact.ID, Purpose: store.PurposeService, Granted: true,
		Source: store.ConsentByButton, At: time.Now()}))(t)
	must(s.RecordConsent(c, store.Consent{ContactID: f.contact.ID, Purpose: store.PurposeMarketing, Granted: false,
		Source: store.ConsentByKeyword, At: time.Now()}))(t)

	f.want = store.Erasure{Contacts: 1, Conversations: 2, Messages: 4, Turns: 3, Tickets: 2, TicketEvents: 3, Consents: 2,
		Jobs: 6} // three turns, two sends, a notice
	return f
}

func testErasure(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	gone := newErasureFixture(t, s, "905550000071")
	kept := newErasureFixture(t, s, "905550000072")
	a, b := gone.contact.ID, kept.contact.ID
	must(s.AppendAudit(c, store.AuditEntry{Actor: "ayse", Action: "contact.exported", Target: fmt.Sprintf("contact:%d", a)}))(t)

	ticketIDs := func(contactID int64) []int64 {
		var out []int64
		for _, tk := range must(s.ListTickets(c, store.TicketFilter{ContactID: contactID}))(t) {
			out = append(out, tk.ID)
		}
		slices.Sort(out)
		return out
	}
	if got := ticketIDs(a); !slices.Equal(got, gone.tickets) {
		t.Fatalf("tickets of contact %d = %v, want %v", a, got, gone.tickets)
	}

	got := must(s.EraseContact(c, a))(t)
	if got != gone.want {
		t.Fatalf("erasure = %+v, want %+v", got, gone.want)
	}

	// Nothing of the contact is left.
	notFound := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after erasure: %v, want ErrNotFound", what, err)
		}
	}
	_, err := s.GetContact(c, a)
	notFound("the contact", err)
	for _, id := range gone.conversations {
		_, err := s.GetConversation(c, id)
		notFound(fmt.Sprintf("conversation %d", id), err)
		if ts := must(s.ListTurns(c, id))(t); len(ts) != 0 {
			t.Errorf("conversation %d keeps %d turns", id, len(ts))
		}
	}
	for _, id := range gone.messages {
		_, err := s.GetMessage(c, id)
		notFound(fmt.Sprintf("message %d", id), err)
	}
	for _, id := range gone.tickets {
		_, err := s.GetTicket(c, id)
		notFound(fmt.Sprintf("ticket %d", id), err)
		if es := must(s.ListTicketEvents(c, id))(t); len(es) != 0 {
			t.Errorf("ticket %d keeps %d events", id, len(es))
		}
	}
	if got := ticketIDs(a); len(got) != 0 {
		t.Errorf("tickets of the erased contact: %v", got)
	}
	if cs := must(s.ListConsents(c, a))(t); len(cs) != 0 {
		t.Errorf("consents of the erased contact: %s", showConsents(cs))
	}
	_, err = s.GetJob(c, gone.sendJob)
	notFound("the send job", err)

	// The other contact keeps everything; of the queued jobs, only theirs
	// are left to run.
	must(s.GetContact(c, b))(t)
	if got := ticketIDs(b); !slices.Equal(got, kept.tickets) {
		t.Errorf("tickets of the other contact = %v, want %v", got, kept.tickets)
	}
	for _, id := range kept.messages {
		must(s.GetMessage(c, id))(t)
	}
	if n := len(must(s.ListTurns(c, kept.conversations[0]))(t)); n != 2 {
		t.Errorf("the other contact's first conversation has %d turns, want 2", n)
	}
	if n := len(must(s.ListTicketEvents(c, kept.tickets[0]))(t)); n != 2 {
		t.Errorf("the other contact's open ticket has %d events, want 2", n)
	}
	if cs := must(s.ListConsents(c, b))(t); len(cs) != 2 {
		t.Errorf("the other contact's consents = %q, want two", showConsents(cs))
	}
	claimed := must(s.Claim(c, jobs.ClaimParams{Worker: "check", Kinds: []string{"turn", "send", "inbox_notice"},
		Limit: 100, Lease: time.Minute}))(t)
	var keys []string
	for _, j := range claimed {
		keys = append(keys, j.Key)
	}
	slices.Sort(keys)
	wantKeys := []string{"", store.TurnKey(kept.conversations[0]), store.TurnKey(kept.conversations[1]),
		fmt.Sprintf("out:%d", kept.conversations[0]), fmt.Sprintf("ticket:%d", kept.tickets[0])}
	slices.Sort(wantKeys)
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("claimable jobs after the erasure have keys %v, want only the other contact's %v", keys, wantKeys)
	}

	// The audit log keeps its entries.
	if es := must(s.ListAudit(c, store.AuditFilter{Target: fmt.Sprintf("contact:%d", a)}))(t); len(es) != 1 {
		t.Errorf("audit entries of the erased contact = %d, want 1", len(es))
	}

	// Erasing again, or a contact that never was, finds nothing.
	for _, id := range []int64{a, 987654} {
		if _, err := s.EraseContact(c, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("erasing contact %d: %v, want ErrNotFound", id, err)
		}
	}
	// The number writing again starts afresh.
	again := must(s.AcceptInbound(c, store.InboundParams{Contact: store.ContactUpsert{WaID: "905550000071"}, PhoneNumberID: "1001",
		Message: inbound(0, "wamid.again", "merhaba", time.Now())}))(t)
	if conv := must(s.GetConversation(c, again.ConversationID))(t); conv.ContactID == a || slices.Contains(gone.conversations, conv.ID) {
		t.Errorf("a message after the erasure went to contact %d, conversation %d", conv.ContactID, conv.ID)
	}
}

func testExpiry(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	trace := json.RawMessage(`{"slots":{"address":"Bağdat Caddesi 12"}}`)
	pack := json.RawMessage(`{"summary":"adres değişikliği"}`)
	note := json.RawMessage(`{"text":"yeni adres Bağdat Caddesi 12"}`)
	outbound := func(convID int64, body string) store.Message {
		t.Helper()
		m := store.Message{ConversationID: convID, Direction: store.Outbound, Type: "text", Body: body, Status: store.StatusSent}
		if body != "" {
			m.Payload = json.RawMessage(fmt.Sprintf(`{"type":"text","text":{"body":%q}}`, body))
		}
		return must(s.InsertMessage(c, m))(t)
	}
	ticket := func(conv store.Conversation) store.Ticket {
		t.Helper()
		tk, _ := must2(s.OpenTicket(c, store.Ticket{ConversationID: conv.ID, ContactID: conv.ContactID, Pack: pack}))(t)
		must(s.AddTicketEvent(c, store.TicketEvent{TicketID: tk.ID, Kind: "note", Data: note}))(t)
		return tk
	}

	// Old records: on number 1001, messages (one with nothing to clear),
	// turns (one without a trace), a ticket to close and an open one; on
	// number 2002, a message and a turn.
	conv := newConversation(t, s, "905550000081")
	openConv := newConversation(t, s, "905550000082")
	far := must(s.UpsertContact(c, store.ContactUpsert{WaID: "905550000083"}))(t)
	farConv := must(s.OpenConversation(c, far.ID, "2002"))(t)
	oldIn := must(s.InsertMessage(c, inbound(conv.ID, "wamid.X1", "Adresim Bağdat Caddesi 12", time.Now())))(t)
	oldOut := outbound(conv.ID, "Adresiniz güncellendi")
	blank := outbound(conv.ID, "")
	oldTurn := must(s.InsertTurn(c, store.Turn{ConversationID: conv.ID, Intent: "change_address", Trace: trace}))(t)
	must(s.InsertTurn(c, store.Turn{ConversationID: conv.ID, Intent: "thanks"}))(t)
	farMsg := must(s.InsertMessage(c, inbound(farConv.ID, "wamid.X2", "Merhaba", time.Now())))(t)
	farTurn := must(s.InsertTurn(c, store.Turn{ConversationID: farConv.ID, Intent: "greeting", Trace: trace}))(t)
	closedTk := ticket(conv)
	openTk := ticket(openConv)
	// Old states holding a vault: the far one is cleared, the one with an
	// open ticket kept.
	vault := json.RawMessage(`{"vault":{"values":{"[TCKN_1]":"10000000146"}}}`)
	for _, id := range []int64{farConv.ID, openConv.ID} {
		if err := s.SetConversationState(c, id, store.ModeBot, vault); err != nil {
			t.Fatal(err)
		}
	}
	farConv = must(s.GetConversation(c, farConv.ID))(t)

	before := time.Time{}
	for _, at := range []time.Time{oldIn.CreatedAt, oldOut.CreatedAt, blank.CreatedAt, oldTurn.CreatedAt, farMsg.CreatedAt, farTurn.CreatedAt, farConv.UpdatedAt} {
		if at.After(before) {
			before = at
		}
	}
	before = before.Add(time.Microsecond)
	must(s.CloseTicket(c, closedTk.ID, store.TicketResolved, before.Add(-time.Minute)))(t)

	// New records, stored after the cut: a message, a turn, and a ticket
	// closed after it.
	time.Sleep(5 * time.Millisecond) // the stores' clocks move past the cut
	newIn := must(s.InsertMessage(c, inbound(conv.ID, "wamid.X3", "Kapı kodu 1234", time.Now())))(t)
	newTurn := must(s.InsertTurn(c, store.Turn{ConversationID: conv.ID, Intent: "door_code", Trace: trace}))(t)
	lateTk := ticket(newConversation(t, s, "905550000084"))
	must(s.CloseTicket(c, lateTk.ID, store.TicketReturned, before.Add(time.Hour)))(t)
	if !newIn.CreatedAt.After(before) || !newTurn.CreatedAt.After(before) {
		t.Fatalf("records stored after the cut %v were stored at %v and %v", before, newIn.CreatedAt, newTurn.CreatedAt)
	}

	p := store.RetentionParams{PhoneNumberIDs: []string{"1001"}, Before: before}
	if got, want := must(s.Expire(c, p))(t), (store.Retention{Messages: 2, Turns: 1, Tickets: 1}); got != want {
		t.Fatalf("expiring on 1001: %+v, want %+v", got, want)
	}

	// Old content is cleared; the rows and what analytics count stay.
	for _, old := range []store.Message{oldIn, oldOut} {
		got := must(s.GetMessage(c, old.ID))(t)
		if got.Body != "" || !jsonEqual(got.Payload, json.RawMessage(`{}`)) || got.Direction != old.Direction ||
			got.Type != old.Type || got.Status != old.Status || got.ChannelMessageID != old.ChannelMessageID {
			t.Errorf("expired message %d = %+v", old.ID, got)
		}
	}
	if n := len(must(s.ListMessages(c, conv.ID))(t)); n != 4 {
		t.Errorf("the conversation has %d messages after expiry, want all 4", n)
	}
	turns := must(s.ListTurns(c, conv.ID))(t)
	if len(turns) != 3 || !jsonEqual(turns[0].Trace, json.RawMessage(`{}`)) || turns[0].Intent != "change_address" ||
		!jsonEqual(turns[2].Trace, trace) {
		t.Errorf("turns after expiry = %+v, want 3, the old trace cleared, the new one kept", turns)
	}
	if got := must(s.GetTicket(c, closedTk.ID))(t); !jsonEqual(got.Pack, json.RawMessage(`{}`)) || got.Status != store.TicketResolved {
		t.Errorf("the closed ticket after expiry = %+v, want its pack cleared", got)
	}
	if es := must(s.ListTicketEvents(c, closedTk.ID))(t); len(es) != 1 || es[0].Kind != "note" || !jsonEqual(es[0].Data, json.RawMessage(`{}`)) {
		t.Errorf("the closed ticket's events after expiry = %+v, want the note kept without its data", es)
	}

	// New records, the open ticket, the ticket closed after the cut, and
	// the other number are untouched.
	if got := must(s.GetMessage(c, newIn.ID))(t); got.Body != newIn.Body || !jsonEqual(got.Payload, newIn.Payload) {
		t.Errorf("a new message was cleared: %+v", got)
	}
	for _, tk := range []store.Ticket{openTk, lateTk} {
		if got := must(s.GetTicket(c, tk.ID))(t); !jsonEqual(got.Pack, pack) {
			t.Errorf("ticket %d (%s) lost its pack: %s", tk.ID, got.Status, got.Pack)
		}
		if es := must(s.ListTicketEvents(c, tk.ID))(t); len(es) != 1 || !jsonEqual(es[0].Data, note) {
			t.Errorf("ticket %d lost its events' data: %+v", tk.ID, es)
		}
	}
	if got := must(s.GetMessage(c, farMsg.ID))(t); got.Body != farMsg.Body {
		t.Errorf("a message on another number was cleared: %+v", got)
	}

	// Clearing again finds nothing; every number then clears the other.
	if got := must(s.Expire(c, p))(t); got != (store.Retention{}) {
		t.Errorf("expiring again: %+v, want nothing", got)
	}
	p.PhoneNumberIDs = nil
	if got, want := must(s.Expire(c, p))(t), (store.Retention{Messages: 1, Turns: 1, Conversations: 1}); got != want {
		t.Errorf("expiring on every number: %+v, want %+v", got, want)
	}
	if got := must(s.GetConversation(c, farConv.ID))(t); !jsonEqual(got.State, json.RawMessage(`{}`)) {
		t.Errorf("the old conversation kept its state %s", got.State)
	}
	if got := must(s.GetConversation(c, openConv.ID))(t); !jsonEqual(got.State, vault) {
		t.Errorf("the conversation with an open ticket lost its state: %s", got.State)
	}
	if got := must(s.GetMessage(c, farMsg.ID))(t); got.Body != "" {
		t.Errorf("the other number's old message kept its body %q", got.Body)
	}
	if got := must(s.Expire(c, p))(t); got != (store.Retention{}) {
		t.Errorf("expiring every number again: %+v, want nothing", got)
	}
	if _, err := s.Expire(c, store.RetentionParams{}); err == nil {
		t.Error("expiring without a time succeeded")
	}
}
