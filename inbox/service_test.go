package inbox_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/inbox"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/sqlite"
)

// fixture is a store with a conversation handed off to the billing team
// and three people: two agents and an admin.
type fixture struct {
	st                    store.Store
	svc                   *inbox.Service
	bus                   *inbox.LocalBus
	clock                 *time.Time
	ticket                store.Ticket
	billing, sales, admin store.User
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "inbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, bus: inbox.NewLocalBus()}
	t.Cleanup(func() { f.bus.Close() })
	now := time.Now()
	f.clock = &now
	f.svc = inbox.NewService(st, f.bus, inbox.Options{Now: func() time.Time { return *f.clock }})
	contact, err := st.UpsertContact(ctx, store.ContactUpsert{WaID: "905321112233", Name: "Ayşe"})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := st.OpenConversation(ctx, contact.ID, "1001")
	if err != nil {
		t.Fatal(err)
	}
	// The user wrote: the window opens at that message.
	if _, err := st.AcceptInbound(ctx, store.InboundParams{Contact: store.ContactUpsert{WaID: "905321112233", Seen: now}, PhoneNumberID: "1001",
		Message: store.Message{Direction: store.Inbound, ChannelMessageID: "wamid.in1", Type: "text", Body: "iade istiyorum", Status: store.StatusReceived, SentAt: now}}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetConversationState(ctx, conv.ID, store.ModeHuman, nil); err != nil {
		t.Fatal(err)
	}
	f.ticket, _, err = st.OpenTicket(ctx, store.Ticket{ConversationID: conv.ID, ContactID: contact.ID, Team: "billing", Reason: "person_requested"})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []store.User{
		{Login: "zeynep", Role: store.RoleAgent, Teams: []string{"billing"}},
		{Login: "mert", Role: store.RoleAgent, Teams: []string{"sales"}},
		{Login: "root", Role: store.RoleAdmin},
	} {
		made, err := st.CreateUser(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		switch u.Login {
		case "zeynep":
			f.billing = made
		case "mert":
			f.sales = made
		default:
			f.admin = made
		}
	}
	return f
}

// Agents see their teams' tickets only; to the others a ticket does not
// exist. Admins see every ticket.
func TestVisibility(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Ticket(ctx, f.sales, f.ticket.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a sales agent reading a billing ticket: %v, want ErrNotFound", err)
	}
	if _, err := f.svc.Claim(ctx, f.sales, f.ticket.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a sales agent claiming a billing ticket: %v, want ErrNotFound", err)
	}
	for _, c := range []struct {
		u     store.User
		teams []string
		want  int
	}{
		{f.billing, nil, 1}, {f.sales, nil, 0}, {f.admin, nil, 1},
		{f.sales, []string{"billing"}, 0}, // asking for another team's queue gives nothing
		{f.billing, []string{"billing", "sales"}, 1},
	} {
		got, err := f.svc.Visible(ctx, c.u, store.TicketFilter{Teams: c.teams})
		if err != nil || len(got) != c.want {
			t.Errorf("%s asking for %v: %d tickets (%v), want %d", c.u.Login, c.teams, len(got), err, c.want)
		}
	}
}

// A reply needs the ticket claimed by its sender and the user's 24-hour
// window open; otherwise nothing is queued.
func TestReplyRules(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	events, cancel := f.bus.Subscribe(ctx)
	defer cancel()
	if _, err := f.svc.Reply(ctx, f.billing, f.ticket.ID, "Merhaba"); !errors.Is(err, inbox.ErrForbidden) {
		t.Errorf("a reply before claiming: %v, want ErrForbidden", err)
	}
	if _, err := f.svc.Claim(ctx, f.billing, f.ticket.ID); err != nil {
		t.Fatal(err)
	}
	if e := <-events; e.Kind != inbox.KindTicketAssigned || e.TicketID != f.ticket.ID || e.Team != "billing" {
		t.Errorf("event %+v", e)
	}
	if _, err := f.svc.Reply(ctx, f.billing, f.ticket.ID, " \n "); !errors.Is(err, inbox.ErrInvalid) {
		t.Errorf("an empty reply: %v, want ErrInvalid", err)
	}
	if _, err := f.svc.Reply(ctx, f.billing, f.ticket.ID, strings.Repeat("x", 70000)); !errors.Is(err, inbox.ErrInvalid) {
		t.Errorf("a reply over WhatsApp's limits: %v, want ErrInvalid", err)
	}
	m, err := f.svc.Reply(ctx, f.billing, f.ticket.ID, "Merhaba Ayşe Hanım")
	if err != nil || m.Direction != store.Outbound || m.Body != "Merhaba Ayşe Hanım" || m.Status != store.StatusQueued {
		t.Fatalf("reply: %+v, %v", m, err)
	}
	if e := <-events; e.Kind != inbox.KindMessage || !strings.Contains(string(e.Data), "Merhaba Ayşe Hanım") {
		t.Errorf("event %+v", e)
	}

	// 24 hours after the user's last message the window is closed.
	*f.clock = f.clock.Add(inbox.Window + time.Minute)
	before, _ := f.st.ListMessages(ctx, f.ticket.ConversationID)
	if _, err := f.svc.Reply(ctx, f.billing, f.ticket.ID, "Hâlâ orada mısınız?"); !errors.Is(err, inbox.ErrWindowClosed) {
		t.Errorf("a reply outside the window: %v, want ErrWindowClosed", err)
	}
	after, _ := f.st.ListMessages(ctx, f.ticket.ConversationID)
	if len(after) != len(before) {
		t.Errorf("a refused reply queued a message: %d messages, then %d", len(before), len(after))
	}
	got, _ := f.st.GetTicket(ctx, f.ticket.ID)
	if got.FirstReplyAt.IsZero() {
		t.Error("the first reply's time was not recorded")
	}
}

// Notes are bounded; transfers check the agent; closing returns the
// conversation to the bot and is final.
func TestNotesTransfersAndClosing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Note(ctx, f.billing, f.ticket.ID, strings.Repeat("ş", inbox.MaxNote+1)); !errors.Is(err, inbox.ErrInvalid) {
		t.Errorf("a note too long: %v, want ErrInvalid", err)
	}
	if _, err := f.svc.Note(ctx, f.sales, f.ticket.ID, "not mine"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a note on another team's ticket: %v, want ErrNotFound", err)
	}
	if _, err := f.svc.Transfer(ctx, f.billing, f.ticket.ID, "billing", "nobody"); !errors.Is(err, inbox.ErrInvalid) {
		t.Errorf("a transfer to an unknown login: %v, want ErrInvalid", err)
	}
	if _, err := f.svc.Transfer(ctx, f.billing, f.ticket.ID, "billing", "mert"); !errors.Is(err, inbox.ErrInvalid) {
		t.Errorf("a transfer to an agent outside the team: %v, want ErrInvalid", err)
	}
	moved, err := f.svc.Transfer(ctx, f.billing, f.ticket.ID, "sales", "mert")
	if err != nil || moved.Team != "sales" || moved.AssigneeID != f.sales.ID || moved.Status != store.TicketAssigned {
		t.Fatalf("transfer to sales: %+v, %v", moved, err)
	}
	if _, err := f.svc.Resolve(ctx, f.billing, f.ticket.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("resolving a ticket moved to another team: %v, want ErrNotFound", err)
	}
	done, err := f.svc.ReturnToBot(ctx, f.sales, f.ticket.ID)
	if err != nil || done.Status != store.TicketReturned {
		t.Fatalf("return to bot: %+v, %v", done, err)
	}
	conv, _ := f.st.GetConversation(ctx, f.ticket.ConversationID)
	if conv.Mode != store.ModeBot || string(conv.State) != "{}" {
		t.Errorf("after the return the conversation is %s with state %s, want bot mode, fresh state", conv.Mode, conv.State)
	}
	if _, err := f.svc.Resolve(ctx, f.admin, f.ticket.ID); !errors.Is(err, store.ErrConflict) {
		t.Errorf("resolving a returned ticket: %v, want ErrConflict", err)
	}
}

// A rating button's id names its ticket and score; anything else is not
// a rating, and a rating of another conversation's ticket is refused.
func TestCSAT(t *testing.T) {
	for id, want := range map[string]bool{"csat:12:5": true, "csat:12:1": true, "csat:12:6": false, "csat:0:3": false,
		"csat:x:3": false, "csat:12": false, "orders": false, "csat:12:3:4": false} {
		if _, _, ok := inbox.ParseCSAT(id); ok != want {
			t.Errorf("ParseCSAT(%q) ok = %v, want %v", id, ok, want)
		}
	}
	f := newFixture(t)
	ctx := context.Background()
	q := inbox.CSATQuestion(f.ticket)
	b, ok := q.Content.(*whatsapp.Buttons)
	if !ok || len(b.Buttons) != 3 {
		t.Fatalf("question %+v", q)
	}
	for _, btn := range b.Buttons {
		if tk, _, ok := inbox.ParseCSAT(btn.ID); !ok || tk != f.ticket.ID || len([]rune(btn.Title)) > 20 {
			t.Errorf("button %+v", btn)
		}
	}
	if _, err := f.svc.Claim(ctx, f.billing, f.ticket.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Resolve(ctx, f.billing, f.ticket.ID); err != nil {
		t.Fatal(err)
	}
	err := f.st.InTx(ctx, func(tx store.Queries) error {
		_, err := inbox.RecordCSAT(ctx, tx, f.ticket.ConversationID+1, f.ticket.ID, 5)
		return err
	})
	if !errors.Is(err, inbox.ErrInvalid) {
		t.Errorf("rating another conversation's ticket: %v, want ErrInvalid", err)
	}
	err = f.st.InTx(ctx, func(tx store.Queries) error {
		thanks, err := inbox.RecordCSAT(ctx, tx, f.ticket.ConversationID, f.ticket.ID, 3)
		if err == nil && !strings.Contains(thanks, "teşekkür") {
			t.Errorf("thanks %q", thanks)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := f.st.GetTicket(ctx, f.ticket.ID); got.CSAT != 3 {
		t.Errorf("csat = %d", got.CSAT)
	}
}

// Outside the window an agent can still reach the user, with an approved
// template and its parameters; nothing else.
func TestTemplates(t *testing.T) {
	for _, bad := range []struct{ name, lang, cat, body, want string }{
		{"Follow Up", "tr", "utility", "x", "lower-case"},
		{"follow_up", "", "utility", "x", "language"},
		{"follow_up", "tr", "promo", "x", "category"},
		{"follow_up", "tr", "utility", " ", "body"},
		{"follow_up", "tr", "utility", "Merhaba {{2}}", "without gaps"},
	} {
		if _, err := inbox.NewTemplate(bad.name, bad.lang, bad.cat, bad.body); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("NewTemplate(%q, %q, %q, %q) = %v, want an error about %s", bad.name, bad.lang, bad.cat, bad.body, err, bad.want)
		}
	}
	tmpl, err := inbox.NewTemplate("follow_up", "tr", "utility", "Merhaba {{1}}, {{2}} numaralı talebiniz için yazıyoruz. {{1}}, yanıtlayabilirsiniz.")
	if err != nil || tmpl.Params != 2 {
		t.Fatalf("NewTemplate: %+v, %v", tmpl, err)
	}
	if got := tmpl.Render([]string{"Ayşe", "T-42"}); got != "Merhaba Ayşe, T-42 numaralı talebiniz için yazıyoruz. Ayşe, yanıtlayabilirsiniz." {
		t.Errorf("Render = %q", got)
	}

	f := newFixture(t)
	ctx := context.Background()
	f.svc = inbox.NewService(f.st, f.bus, inbox.Options{Now: func() time.Time { return *f.clock }, Templates: []inbox.Template{tmpl}})
	if _, err := f.svc.Claim(ctx, f.billing, f.ticket.ID); err != nil {
		t.Fatal(err)
	}
	*f.clock = f.clock.Add(inbox.Window + time.Hour) // the window is closed
	for _, c := range []struct {
		name, lang string
		params     []string
	}{
		{"follow_up", "en", []string{"Ayşe", "T-42"}}, // not approved in English
		{"welcome", "tr", nil},
		{"follow_up", "tr", []string{"Ayşe"}},
		{"follow_up", "tr", []string{"Ayşe", " "}},
		{"follow_up", "tr", []string{"Ayşe", "two\nlines"}},
	} {
		if _, err := f.svc.SendTemplate(ctx, f.billing, f.ticket.ID, c.name, c.lang, c.params); !errors.Is(err, inbox.ErrInvalid) {
			t.Errorf("SendTemplate(%s, %s, %q): %v, want ErrInvalid", c.name, c.lang, c.params, err)
		}
	}
	if _, err := f.svc.SendTemplate(ctx, f.sales, f.ticket.ID, "follow_up", "tr", []string{"Ayşe", "T-42"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a template from another team's agent: %v, want ErrNotFound", err)
	}
	m, err := f.svc.SendTemplate(ctx, f.billing, f.ticket.ID, "follow_up", "tr", []string{"Ayşe", "T-42"})
	if err != nil || m.Type != "template" {
		t.Fatalf("SendTemplate: %+v, %v", m, err)
	}
	if !strings.Contains(string(m.Payload), "follow_up") || !strings.Contains(string(m.Payload), "T-42") {
		t.Errorf("queued payload %s", m.Payload)
	}
}
