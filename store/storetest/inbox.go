package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/yanit/yanit/store"
)

func testTickets(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	conv := newConversation(t, s, "905550000031")
	agent := must(s.CreateUser(c, store.User{Login: "zeynep", Role: store.RoleAgent, Teams: []string{"billing"}}))(t)
	other := must(s.CreateUser(c, store.User{Login: "mert", Role: store.RoleAgent, Teams: []string{"billing"}}))(t)
	pack := json.RawMessage(`{"reason":"person_requested","summary":"Ayşe wants a refund"}`)

	tk, created := must2(s.OpenTicket(c, store.Ticket{ConversationID: conv.ID, ContactID: conv.ContactID, Team: "billing",
		Priority: 1, Reason: "person_requested", Pack: pack}))(t)
	if !created || tk.ID == 0 || tk.Status != store.TicketQueued || tk.AssigneeID != 0 || tk.Team != "billing" ||
		!jsonEqual(tk.Pack, pack) || tk.CreatedAt.IsZero() || !tk.AssignedAt.IsZero() || !tk.Open() {
		t.Fatalf("opened %+v, created %v", tk, created)
	}
	// A second handoff of the same conversation finds the open ticket.
	again, created := must2(s.OpenTicket(c, store.Ticket{ConversationID: conv.ID, ContactID: conv.ContactID, Team: "sales"}))(t)
	if created || again.ID != tk.ID || again.Team != "billing" {
		t.Errorf("second open = %+v (created %v), want the first ticket", again, created)
	}
	if got := must(s.OpenTicketOf(c, conv.ID))(t); got.ID != tk.ID {
		t.Errorf("OpenTicketOf = %+v", got)
	}

	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	claimed := must(s.ClaimTicket(c, tk.ID, agent.ID, at))(t)
	if claimed.Status != store.TicketAssigned || claimed.AssigneeID != agent.ID || !claimed.AssignedAt.Equal(at) {
		t.Errorf("claimed %+v", claimed)
	}
	if _, err := s.ClaimTicket(c, tk.ID, other.ID, at); !errors.Is(err, store.ErrConflict) {
		t.Errorf("claiming an assigned ticket: %v, want ErrConflict", err)
	}
	if _, err := s.ClaimTicket(c, 987654, other.ID, at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("claiming a missing ticket: %v, want ErrNotFound", err)
	}

	// Transfer to a team queues it again; to an agent assigns it.
	moved := must(s.TransferTicket(c, tk.ID, "sales", 0, at.Add(time.Minute)))(t)
	if moved.Status != store.TicketQueued || moved.Team != "sales" || moved.AssigneeID != 0 || !moved.AssignedAt.IsZero() {
		t.Errorf("transferred to a team: %+v", moved)
	}
	moved = must(s.TransferTicket(c, tk.ID, "billing", other.ID, at.Add(2*time.Minute)))(t)
	if moved.Status != store.TicketAssigned || moved.AssigneeID != other.ID {
		t.Errorf("transferred to an agent: %+v", moved)
	}

	must(struct{}{}, s.RecordFirstReply(c, tk.ID, at.Add(3*time.Minute)))(t)
	must(struct{}{}, s.RecordFirstReply(c, tk.ID, at.Add(9*time.Minute)))(t)
	if got := must(s.GetTicket(c, tk.ID))(t); !got.FirstReplyAt.Equal(at.Add(3 * time.Minute)) {
		t.Errorf("first reply at %v, want the first one", got.FirstReplyAt)
	}
	if err := s.SetTicketCSAT(c, tk.ID, 5); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("rating an open ticket: %v, want ErrNotFound", err)
	}

	closed := must(s.CloseTicket(c, tk.ID, store.TicketResolved, at.Add(10*time.Minute)))(t)
	if closed.Status != store.TicketResolved || !closed.ClosedAt.Equal(at.Add(10*time.Minute)) || closed.Open() {
		t.Errorf("closed %+v", closed)
	}
	if _, err := s.CloseTicket(c, tk.ID, store.TicketReturned, at); !errors.Is(err, store.ErrConflict) {
		t.Errorf("closing twice: %v, want ErrConflict", err)
	}
	if _, err := s.CloseTicket(c, tk.ID, "deleted", at); err == nil {
		t.Error("closing with an unknown status succeeded")
	}
	if _, err := s.OpenTicketOf(c, conv.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("open ticket after closing: %v, want ErrNotFound", err)
	}
	if err := s.SetTicketCSAT(c, tk.ID, 6); err == nil {
		t.Error("a rating of 6 was stored")
	}
	must(struct{}{}, s.SetTicketCSAT(c, tk.ID, 4))(t)
	if got := must(s.GetTicket(c, tk.ID))(t); got.CSAT != 4 {
		t.Errorf("csat = %d", got.CSAT)
	}

	// A new handoff after the close opens a new ticket.
	next, created := must2(s.OpenTicket(c, store.Ticket{ConversationID: conv.ID, ContactID: conv.ContactID}))(t)
	if !created || next.ID == tk.ID {
		t.Errorf("after closing, open = %+v (created %v), want a new ticket", next, created)
	}

	// History, oldest first; the system is user 0.
	must(s.AddTicketEvent(c, store.TicketEvent{TicketID: tk.ID, Kind: "created"}))(t)
	must(s.AddTicketEvent(c, store.TicketEvent{TicketID: tk.ID, UserID: agent.ID, Kind: "note", Data: json.RawMessage(`{"text":"VIP müşteri"}`)}))(t)
	evs := must(s.ListTicketEvents(c, tk.ID))(t)
	if len(evs) != 2 || evs[0].Kind != "created" || evs[0].UserID != 0 || evs[1].UserID != agent.ID || !jsonEqual(evs[1].Data, json.RawMessage(`{"text":"VIP müşteri"}`)) {
		t.Errorf("events = %+v", evs)
	}
	if _, err := s.AddTicketEvent(c, store.TicketEvent{TicketID: 987654, Kind: "note"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an event of a missing ticket: %v, want ErrNotFound", err)
	}
}

func testTicketQueue(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	open := func(wa, team string, prio int) store.Ticket {
		conv := newConversation(t, s, wa)
		tk, _ := must2(s.OpenTicket(c, store.Ticket{ConversationID: conv.ID, ContactID: conv.ContactID, Team: team, Priority: prio}))(t)
		return tk
	}
	a := open("905550000041", "billing", 0)
	b := open("905550000042", "billing", 2)
	d := open("905550000043", "sales", 0)
	e := open("905550000044", "billing", 0)
	agent := must(s.CreateUser(c, store.User{Login: "ayse", Role: store.RoleAgent}))(t)
	must(s.ClaimTicket(c, e.ID, agent.ID, time.Now()))(t)

	ids := func(ts []store.Ticket) string {
		out := ""
		for _, tk := range ts {
			out += fmt.Sprintf("%d ", tk.ID)
		}
		return out
	}
	queued := must(s.ListTickets(c, store.TicketFilter{Statuses: []string{store.TicketQueued}, Teams: []string{"billing"}}))(t)
	if want := fmt.Sprintf("%d %d ", b.ID, a.ID); ids(queued) != want {
		t.Errorf("billing queue = %s, want %s(priority first, then oldest)", ids(queued), want)
	}
	all := must(s.ListTickets(c, store.TicketFilter{}))(t)
	if len(all) != 4 {
		t.Errorf("all tickets = %s", ids(all))
	}
	mine := must(s.ListTickets(c, store.TicketFilter{AssigneeID: agent.ID}))(t)
	if len(mine) != 1 || mine[0].ID != e.ID {
		t.Errorf("assigned to ayse = %s", ids(mine))
	}
	if got := must(s.ListTickets(c, store.TicketFilter{Teams: []string{"sales"}, Limit: 1}))(t); len(got) != 1 || got[0].ID != d.ID {
		t.Errorf("sales = %s", ids(got))
	}
	if got := must(s.ListTickets(c, store.TicketFilter{ConversationID: d.ConversationID}))(t); len(got) != 1 || got[0].ID != d.ID {
		t.Errorf("tickets of d's conversation = %s", ids(got))
	}
	newest := must(s.ListTickets(c, store.TicketFilter{NewestFirst: true, Limit: 2}))(t)
	if want := fmt.Sprintf("%d %d ", e.ID, d.ID); ids(newest) != want {
		t.Errorf("newest two = %s, want %s", ids(newest), want)
	}
	if _, err := s.ListTickets(c, store.TicketFilter{Statuses: []string{"lost"}}); err == nil {
		t.Error("an unknown status was accepted")
	}
}

// Agents claiming one ticket at once, through two stores on one database
// (two instances): exactly one wins.
func testTicketClaimRace(t *testing.T, h Harness) {
	dsn := h.NewDSN(t)
	s1, s2 := h.open(t, dsn), h.open(t, dsn)
	c := ctx(t)
	var agents []store.User
	for i := range 8 {
		agents = append(agents, must(s1.CreateUser(c, store.User{Login: fmt.Sprintf("agent%d", i), Role: store.RoleAgent}))(t))
	}
	for round := range 5 {
		conv := newConversation(t, s1, fmt.Sprintf("90555000005%d", round))
		tk, _ := must2(s1.OpenTicket(c, store.Ticket{ConversationID: conv.ID, ContactID: conv.ContactID}))(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var winners []int64
		var others []error
		for i, a := range agents {
			st := s1
			if i%2 == 1 {
				st = s2
			}
			wg.Go(func() {
				got, err := st.ClaimTicket(c, tk.ID, a.ID, time.Now())
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					winners = append(winners, got.AssigneeID)
				} else {
					others = append(others, err)
				}
			})
		}
		wg.Wait()
		if len(winners) != 1 {
			t.Fatalf("round %d: %d claims won, want exactly 1 (errors %v)", round, len(winners), others)
		}
		for _, err := range others {
			if !errors.Is(err, store.ErrConflict) {
				t.Errorf("round %d: a losing claim failed with %v, want ErrConflict", round, err)
			}
		}
		if got := must(s2.GetTicket(c, tk.ID))(t); got.AssigneeID != winners[0] {
			t.Errorf("round %d: the ticket is assigned to %d, the winner was %d", round, got.AssigneeID, winners[0])
		}
	}
}

// Automatic assignment reads who is online and how loaded they are.
func testAgentPresence(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	ayse := must(s.CreateUser(c, store.User{Login: "ayse", Role: store.RoleAgent, Teams: []string{"billing"}}))(t)
	mert := must(s.CreateUser(c, store.User{Login: "mert", Role: store.RoleAgent, Teams: []string{"sales"}}))(t)
	gone := must(s.CreateUser(c, store.User{Login: "gone", Role: store.RoleAgent, Teams: []string{"billing"}, Disabled: true}))(t)
	writer := must(s.CreateUser(c, store.User{Login: "writer", Role: store.RoleContent}))(t)
	for _, u := range []store.User{ayse, mert, gone, writer} {
		must(struct{}{}, s.TouchPresence(c, u.ID, now))(t)
	}
	must(struct{}{}, s.TouchPresence(c, ayse.ID, now.Add(-time.Hour)))(t) // older: ignored

	names := func(as []store.AgentLoad) string {
		out := ""
		for _, a := range as {
			out += a.Login + " "
		}
		return out
	}
	if got := must(s.OnlineAgents(c, "billing", now.Add(-time.Minute)))(t); names(got) != "ayse " {
		t.Errorf("billing online = %s, want ayse (not the disabled one)", names(got))
	}
	if got := must(s.OnlineAgents(c, "", now.Add(-time.Minute)))(t); names(got) != "ayse mert " {
		t.Errorf("default team online = %s, want every active agent", names(got))
	}
	if got := must(s.OnlineAgents(c, "billing", now.Add(time.Minute)))(t); len(got) != 0 {
		t.Errorf("seen after now = %s, want none", names(got))
	}

	conv := newConversation(t, s, "905550000061")
	tk, _ := must2(s.OpenTicket(c, store.Ticket{ConversationID: conv.ID, ContactID: conv.ContactID, Team: "billing"}))(t)
	must(s.ClaimTicket(c, tk.ID, ayse.ID, now))(t)
	got := must(s.OnlineAgents(c, "billing", now.Add(-time.Minute)))(t)
	if len(got) != 1 || got[0].Open != 1 || !got[0].LastAssigned.Equal(now) {
		t.Errorf("ayse's load = %+v, want 1 open, assigned at %v", got, now)
	}
}
