package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres/pgtest"
	"github.com/yanit/yanit/web"
)

// sseEvent is one Server-Sent Event.
type sseEvent struct {
	name string
	data string
	at   time.Time
}

// subscribe opens the inbox's event stream with token and returns its
// events as they arrive; it waits for the stream's ready event.
func subscribe(t testing.TB, a *app, token string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.addr.String()+"/api/v1/inbox/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	ch := make(chan sseEvent, 256)
	go func() {
		defer res.Body.Close()
		defer close(ch)
		sc := bufio.NewScanner(res.Body)
		var cur sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "" && cur.name != "":
				cur.at = time.Now()
				ch <- cur
				cur = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				cur.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				cur.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	if ev := nextEvent(t, ch, "ready"); !strings.Contains(ev.data, `"user"`) {
		t.Fatalf("ready event %s", ev.data)
	}
	return ch
}

// nextEvent waits for the next event called name, skipping others.
func nextEvent(t testing.TB, ch <-chan sseEvent, name string) sseEvent {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("the event stream ended before a %s event", name)
			}
			if ev.name == name {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event within 20 s", name)
		}
	}
}

// agent makes an agent of teams with an API token.
func agent(t testing.TB, a *app, login string, teams ...string) string {
	t.Helper()
	ctx := context.Background()
	u, err := a.store.CreateUser(ctx, store.User{Login: login, Name: login, Role: store.RoleAgent, Teams: teams})
	if err != nil {
		t.Fatal(err)
	}
	token, hash := web.NewAPIToken()
	if _, err := a.store.CreateAPIToken(ctx, store.APIToken{UserID: u.ID, Name: "test", Hash: hash}); err != nil {
		t.Fatal(err)
	}
	return token
}

// inboxCall sends an inbox API request with token and decodes the answer.
func inboxCall(t *testing.T, a *app, token, method, path, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+a.addr.String()+"/api/v1/inbox"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %d, not JSON: %v", method, path, res.StatusCode, err)
		}
	}
	return res.StatusCode
}

// A user asks for a person: the ticket appears live for the agents with the
// context pack; of two agents claiming it one wins; the user's messages
// reach the agent while the bot stays silent; the agent's reply reaches
// WhatsApp; resolving gives the conversation back to the bot.
func TestInboxHandoffToAnAgent(t *testing.T) {
	for name, dsn := range map[string]func(t *testing.T) string{
		"sqlite":   func(*testing.T) string { return "" },
		"postgres": func(t *testing.T) string { return pgtest.NewSchemaDSN(t) },
	} {
		t.Run(name, func(t *testing.T) {
			a := startDev(t, dsn(t))
			ayse, mehmet := agent(t, a, "ayse", "bireysel"), agent(t, a, "mehmet", "bireysel")
			other := agent(t, a, "can", "kurumsal") // sees only their team and the default one
			events := subscribe(t, a, ayse)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()

			user := a.sim.User("Zeynep Kaya", "+90 532 777 88 99")
			asked, err := user.SendText(ctx, "temsilciyle görüşmek istiyorum")
			if err != nil {
				t.Fatal(err)
			}
			created := nextEvent(t, events, "ticket_created")
			t.Logf("handoff to the event on the agent's stream: %v after the user's message", created.at.Sub(asked.Time).Round(time.Millisecond))
			var ev struct {
				TicketID       int64 `json:"ticket_id"`
				ConversationID int64 `json:"conversation_id"`
			}
			json.Unmarshal([]byte(created.data), &ev)
			if _, err := user.NextReply(ctx, asked); err != nil {
				t.Fatal(err)
			}

			var list struct {
				Tickets []struct {
					ID             int64
					Status, Reason string
					Waiting        float64 `json:"waiting_seconds"`
				}
			}
			if code := inboxCall(t, a, mehmet, http.MethodGet, "/tickets", "", &list); code != http.StatusOK || len(list.Tickets) != 1 ||
				list.Tickets[0].ID != ev.TicketID || list.Tickets[0].Status != store.TicketQueued || list.Tickets[0].Reason != "person_requested" {
				t.Fatalf("queue: %d %+v", code, list)
			}
			var got struct {
				Ticket struct {
					Pack struct {
						Reason, Summary string
						Transcript      []struct{ Text string }
					}
				}
				Messages   []struct{ Direction, Body string }
				Events     []struct{ Kind string }
				WindowOpen bool `json:"window_open"`
			}
			path := "/tickets/" + strconv.FormatInt(ev.TicketID, 10)
			if code := inboxCall(t, a, ayse, http.MethodGet, path, "", &got); code != http.StatusOK || got.Ticket.Pack.Reason != "person_requested" ||
				got.Ticket.Pack.Summary == "" || len(got.Messages) < 2 || got.Messages[0].Body != "temsilciyle görüşmek istiyorum" ||
				len(got.Events) != 1 || got.Events[0].Kind != "ticket_created" || !got.WindowOpen {
				t.Fatalf("ticket: %d %+v", code, got)
			}

			// Two agents claim at once: one wins, the other hears why.
			codes := make([]int, 2)
			var wg sync.WaitGroup
			for i, tok := range []string{ayse, mehmet} {
				wg.Go(func() { codes[i] = inboxCall(t, a, tok, http.MethodPost, path+"/claim", "", nil) })
			}
			wg.Wait()
			if !(codes[0] == 200 && codes[1] == 409) && !(codes[0] == 409 && codes[1] == 200) {
				t.Fatalf("two claims at once: %v, want one 200 and one 409", codes)
			}
			owner, loser := ayse, mehmet
			if codes[1] == 200 {
				owner, loser = mehmet, ayse
			}
			nextEvent(t, events, "ticket_assigned")

			// The user writes: the agent sees it live, the bot stays silent.
			waiting, err := user.SendText(ctx, "hâlâ bekliyorum")
			if err != nil {
				t.Fatal(err)
			}
			if msg := nextEvent(t, events, "message"); !strings.Contains(msg.data, "hâlâ bekliyorum") {
				t.Errorf("message event %s", msg.data)
			}

			var e struct{ Error string }
			if code := inboxCall(t, a, loser, http.MethodPost, path+"/reply", `{"text":"ben de buradayım"}`, &e); code != http.StatusForbidden || !strings.Contains(e.Error, "claim it first") {
				t.Errorf("a reply from the agent who lost the claim: %d %q, want 403", code, e.Error)
			}
			if code := inboxCall(t, a, owner, http.MethodPost, path+"/reply", `{"text":"  "}`, &e); code != http.StatusBadRequest {
				t.Errorf("an empty reply: %d %q, want 400", code, e.Error)
			}
			// The ticket came to the default team, which every agent sees;
			// moved to the owner's team, the others' agents lose sight of it.
			if code := inboxCall(t, a, other, http.MethodGet, path, "", nil); code != http.StatusOK {
				t.Errorf("an agent of another team reading a default-team ticket: %d, want 200", code)
			}
			ownerLogin := map[string]string{ayse: "ayse", mehmet: "mehmet"}[owner]
			if code := inboxCall(t, a, owner, http.MethodPost, path+"/transfer", `{"team":"bireysel","assignee":"`+ownerLogin+`"}`, &e); code != http.StatusOK {
				t.Fatalf("transfer to the owner's team: %d %q", code, e.Error)
			}
			if code := inboxCall(t, a, owner, http.MethodPost, path+"/transfer", `{"team":"kurumsal","assignee":"`+ownerLogin+`"}`, &e); code != http.StatusBadRequest || !strings.Contains(e.Error, "not in team") {
				t.Errorf("transfer to an agent outside the team: %d %q, want 400", code, e.Error)
			}
			if code := inboxCall(t, a, other, http.MethodGet, path, "", nil); code != http.StatusNotFound {
				t.Errorf("an agent of another team reading the ticket: %d, want 404", code)
			}
			if code := inboxCall(t, a, other, http.MethodGet, "/tickets?status=assigned", "", &list); code != http.StatusOK || len(list.Tickets) != 0 {
				t.Errorf("another team's queue: %d %+v, want empty", code, list.Tickets)
			}
			if code := inboxCall(t, a, owner, http.MethodPost, path+"/reply", `{"text":"Merhaba Zeynep Hanım, ben temsilciniz. Nasıl yardımcı olabilirim?"}`, nil); code != http.StatusOK {
				t.Fatalf("reply: %d", code)
			}
			reply, err := user.NextReply(ctx, waiting)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(reply.Text(), "ben temsilciniz") {
				t.Fatalf("the user got %q after the agent's reply, want it (the bot must stay silent)", reply.Text())
			}
			if code := inboxCall(t, a, owner, http.MethodPost, path+"/notes", `{"text":"İade talebi, kart ile ödeme"}`, nil); code != http.StatusOK {
				t.Errorf("note: %d", code)
			}

			if code := inboxCall(t, a, owner, http.MethodPost, path+"/resolve", "", nil); code != http.StatusOK {
				t.Fatalf("resolve: %d", code)
			}
			if code := inboxCall(t, a, owner, http.MethodPost, path+"/resolve", "", &e); code != http.StatusConflict {
				t.Errorf("resolving twice: %d %q, want 409", code, e.Error)
			}
			conv, err := a.store.GetConversation(ctx, ev.ConversationID)
			if err != nil || conv.Mode != store.ModeBot {
				t.Errorf("after resolving, the conversation is %+v (%v), want bot mode", conv, err)
			}
			var history struct {
				Ticket struct {
					Status       string
					FirstReplyAt time.Time `json:"first_reply_at"`
					FirstReply   float64   `json:"first_reply_seconds"`
					Resolve      float64   `json:"resolve_seconds"`
				}
				Events []struct{ Kind string }
			}
			inboxCall(t, a, owner, http.MethodGet, path, "", &history)
			var kinds []string
			for _, k := range history.Events {
				kinds = append(kinds, k.Kind)
			}
			if history.Ticket.Status != store.TicketResolved || history.Ticket.FirstReplyAt.IsZero() ||
				history.Ticket.FirstReply <= 0 || history.Ticket.Resolve < history.Ticket.FirstReply ||
				strings.Join(kinds, ",") != "ticket_created,ticket_assigned,ticket_transferred,reply,note,ticket_resolved" {
				t.Errorf("after resolving: %+v, history %v", history.Ticket, kinds)
			}

			// The user is asked to rate the conversation, and does.
			question, err := user.NextReply(ctx, reply)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(question.Text(), "değerlendirir misiniz") {
				t.Fatalf("after resolving the user got %q, want the rating question", question.Text())
			}
			tap, err := user.TapButton(ctx, "😊 İyi")
			if err != nil {
				t.Fatal(err)
			}
			if thanks, err := user.NextReply(ctx, tap); err != nil || !strings.Contains(thanks.Text(), "teşekkür") {
				t.Errorf("after rating the user got %q (%v), want thanks", thanks.Text(), err)
			}
			var rated struct{ Ticket struct{ CSAT int } }
			if inboxCall(t, a, owner, http.MethodGet, path, "", &rated); rated.Ticket.CSAT != 5 {
				t.Errorf("the ticket's rating is %d, want 5", rated.Ticket.CSAT)
			}

			// The bot answers the user again.
			hello, err := user.SendText(ctx, "merhaba")
			if err != nil {
				t.Fatal(err)
			}
			if greet, err := user.NextReply(ctx, hello); err != nil || !strings.Contains(greet.Text(), "Ben Yanıt") {
				t.Errorf("after resolving, the user got %q (%v), want the bot's greeting", greet.Text(), err)
			}
		})
	}
}

// A user waiting in the queue hears, at the configured cadence, their
// place in it; outside business hours, when a person will answer.
func TestInboxNoticesToTheWaitingUser(t *testing.T) {
	for _, c := range []struct {
		name string
		tune func(*config.Config)
		want string
	}{
		{"wait", func(c *config.Config) { c.Inbox.WaitNoticeEvery = time.Second }, "1. sıradasınız"},
		{"outside hours", func(c *config.Config) {
			c.Inbox.Hours.Days = map[string]string{"sun": "00:00-00:01"} // closed all but a minute a week
		}, "çalışma saatleri dışında"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, stop := startDevWith(t, "", demoRouter(t), c.tune)
			t.Cleanup(func() { stop() })
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			user := a.sim.User("Deniz", "+90 533 000 11 22")
			asked, err := user.SendText(ctx, "temsilci")
			if err != nil {
				t.Fatal(err)
			}
			handoff, err := user.NextReply(ctx, asked)
			if err != nil {
				t.Fatal(err)
			}
			notice, err := user.NextReply(ctx, handoff)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(notice.Text(), c.want) {
				t.Errorf("the notice says %q, want %q in it", notice.Text(), c.want)
			}
			t.Logf("notice %v after the handoff message", notice.Time.Sub(handoff.Time).Round(time.Millisecond))
		})
	}
}

// With automatic assignment, a handoff goes to the least loaded agent of
// the team who has the inbox open; with nobody online it waits.
func TestInboxAutomaticAssignment(t *testing.T) {
	a, stop := startDevWith(t, "", demoRouter(t), func(c *config.Config) { c.Inbox.Assignment = "least_loaded" })
	t.Cleanup(func() { stop() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The demo's "temsilci" goes to its customer_care team.
	busy, free := agent(t, a, "busy", "customer_care"), agent(t, a, "free", "customer_care")
	elsewhere := agent(t, a, "elsewhere", "kurumsal") // online, but of another team

	// Nobody online: the first ticket waits.
	first := a.sim.User("Ece", "+90 533 000 22 01")
	asked, err := first.SendText(ctx, "temsilci")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.NextReply(ctx, asked); err != nil { // the ticket commits with this turn
		t.Fatal(err)
	}
	var list struct {
		Tickets []struct{ ID, AssigneeID int64 }
	}
	if code := inboxCall(t, a, busy, http.MethodGet, "/tickets?status=queued,assigned,resolved,returned", "", &list); code != 200 || len(list.Tickets) != 1 || list.Tickets[0].AssigneeID != 0 {
		t.Fatalf("with nobody online: %d %+v, want the ticket queued", code, list)
	}
	if code := inboxCall(t, a, busy, http.MethodPost, "/tickets/"+strconv.FormatInt(list.Tickets[0].ID, 10)+"/claim", "", nil); code != 200 {
		t.Fatalf("claim: %d", code)
	}

	// Both open the inbox; the next ticket goes to the one holding none.
	subscribe(t, a, busy)
	events := subscribe(t, a, free)
	subscribe(t, a, elsewhere)
	second := a.sim.User("Efe", "+90 533 000 22 02")
	if _, err := second.SendText(ctx, "temsilci"); err != nil {
		t.Fatal(err)
	}
	ev := nextEvent(t, events, "ticket_assigned")
	if !strings.Contains(ev.data, `"assignee":"free"`) || !strings.Contains(ev.data, "least_loaded") {
		t.Errorf("assignment event %s, want to the free agent by least_loaded", ev.data)
	}
}

// Routing rules give handoffs their team and priority; a user who writes
// again soon after the resolution goes back to the same agent, not to the
// bot.
func TestInboxRoutingAndReopening(t *testing.T) {
	a, stop := startDevWith(t, "", demoRouter(t), func(c *config.Config) {
		c.Inbox.Routing = []config.Route{{Reason: "intent_handoff_always", Team: "bireysel", Priority: 2}}
		c.Inbox.ReopenWithin = time.Hour
		c.Inbox.CSAT = false
	})
	t.Cleanup(func() { stop() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ayse := agent(t, a, "ayse", "bireysel")
	events := subscribe(t, a, ayse)
	user := a.sim.User("Cem", "+90 533 000 33 01")
	asked, err := user.SendText(ctx, "temsilci")
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		TicketID int64  `json:"ticket_id"`
		Team     string `json:"team"`
	}
	json.Unmarshal([]byte(nextEvent(t, events, "ticket_created").data), &ev)
	var got struct {
		Ticket struct {
			Team     string
			Priority int
		}
	}
	path := "/tickets/" + strconv.FormatInt(ev.TicketID, 10)
	if code := inboxCall(t, a, ayse, http.MethodGet, path, "", &got); code != 200 || got.Ticket.Team != "bireysel" || got.Ticket.Priority != 2 {
		t.Fatalf("routed ticket: %d %+v, want team bireysel, priority 2", code, got)
	}
	for _, action := range []string{"/claim", "/resolve"} {
		if code := inboxCall(t, a, ayse, http.MethodPost, path+action, "", nil); code != 200 {
			t.Fatalf("%s: %d", action, code)
		}
	}
	if _, err := user.NextReply(ctx, asked); err != nil {
		t.Fatal(err)
	}
	if _, err := user.SendText(ctx, "bir sorum daha vardı"); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, events, "ticket_assigned") // the claim
	if reopened := nextEvent(t, events, "ticket_assigned"); !strings.Contains(reopened.data, `"reopened":true`) {
		t.Errorf("reopening event %s", reopened.data)
	}
	if msg := nextEvent(t, events, "message"); !strings.Contains(msg.data, "bir sorum daha") {
		t.Errorf("the user's message reached the agent as %s", msg.data)
	}
	var list struct {
		Tickets []struct{ ID, AssigneeID int64 }
	}
	if code := inboxCall(t, a, ayse, http.MethodGet, "/tickets?mine=true", "", &list); code != 200 || len(list.Tickets) != 1 || list.Tickets[0].ID == ev.TicketID {
		t.Errorf("ayse's tickets after the reopening: %d %+v, want a new one", code, list)
	}
	// The conversation is with a person again: the bot stays silent.
	conv, _ := a.store.ListConversations(ctx, store.ConversationFilter{})
	if len(conv) != 1 || conv[0].Mode != store.ModeHuman {
		t.Errorf("the conversation is %+v, want back with a person", conv)
	}
}
