package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/yanit/yanit/channel/whatsapp/simulator"
	"github.com/yanit/yanit/channel/whatsapp/simulator/simbrowser"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres"
	"github.com/yanit/yanit/store/postgres/pgtest"
	"github.com/yanit/yanit/web"
)

// shows waits until an element of sel contains text, checking on every
// change of the page, so that it returns as soon as the text is there.
func shows(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.PollFunction[chromedp.Void](
		`(sel, text) => [...document.querySelectorAll(sel)].some((e) => e.textContent.includes(text))`,
		chromedp.WithPollingMutation(), chromedp.WithPollingArgs(sel, text), chromedp.WithPollingTimeout(simbrowser.StepTimeout))
}

// holds waits until the JavaScript predicate fn returns true.
func holds(fn string) chromedp.Action[chromedp.Void] {
	return chromedp.PollFunction[chromedp.Void](fn,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(simbrowser.StepTimeout))
}

// TestBrowserAgentConsole is an agent's loop in the console: signed in,
// the agent sees a customer's request for a person arrive in the queue
// without reloading, reads the context the assistant hands over, claims
// the ticket, sees the customer's next message arrive, replies (the
// customer gets it on WhatsApp), moves it to their team, notes and
// resolves; the bot then answers the customer again.
func TestBrowserAgentConsole(t *testing.T) {
	a := startDev(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	hash, err := web.HashPassword("temsilci-parola-2026")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.CreateUser(ctx, store.User{Login: "ayse", Name: "Ayşe Yılmaz", Role: store.RoleAgent,
		Teams: []string{"bireysel"}, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}

	p := simbrowser.Open(t)
	base := "http://" + a.addr.String()
	p.Do("opening the console, which asks to sign in",
		chromedp.Navigate(base+"/console/"),
		simbrowser.Visible(`input[name="login"]`))
	p.Do("signing in: an agent lands on the inbox, connected live",
		simbrowser.Keys(`input[name="login"]`, "ayse"),
		simbrowser.Keys(`input[name="password"]`, "temsilci-parola-2026"),
		simbrowser.Click(`button[type="submit"]`),
		simbrowser.Visible(`#inbox`),
		simbrowser.Visible(`#live[data-state="live"]`),
		simbrowser.Visible(`#queued .empty`),
		simbrowser.Visible(`#no-ticket`),
		// Marks this page: a reload would lose the mark.
		chromedp.Evaluate[chromedp.Void](`document.body.dataset.stayed = "yes"`))
	if nav := p.Text(`.bar nav`); nav != "Inbox" {
		t.Errorf("an agent's navigation shows %q, want only the inbox", nav)
	}

	user := a.sim.User("Zeynep Kaya", "+90 532 777 88 99")
	// She stopped marketing messages first: the agent sees it.
	stop, err := user.SendText(ctx, "DUR")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := user.NextReply(ctx, stop); err != nil {
		t.Fatal(err)
	}
	asked, err := user.SendText(ctx, "temsilciyle görüşmek istiyorum")
	if err != nil {
		t.Fatal(err)
	}
	p.Do("the ticket appears in the queue, live", shows(`#queued .tickets`, "asked for a person"))
	t.Logf("handoff → visible in the console: %d ms", time.Since(asked.Time).Milliseconds())
	if n := p.Count(`body[data-stayed="yes"]`); n != 1 {
		t.Fatal("the page reloaded to show the ticket, want it to appear live")
	}
	if _, err := user.NextReply(ctx, asked); err != nil {
		t.Fatal(err)
	}

	p.Do("opening the ticket",
		simbrowser.Click(`#queued .tickets a`),
		simbrowser.Visible(`#ticket-view`),
		shows(`#pack-reason`, "person_requested"),
		shows(`#transcript .msg.in`, "temsilciyle görüşmek istiyorum"),
		simbrowser.Visible(`#claim`))
	if title := p.Text(`#ticket-title`); !strings.HasPrefix(title, "Zeynep Kaya · #") {
		t.Errorf("ticket title %q, want the customer's name", title)
	}
	if summary := p.Text(`#pack-summary`); summary == "" || summary == "No summary." || !strings.Contains(summary, "person_requested") {
		t.Errorf("context pack summary %q, want one naming the handoff", summary)
	}
	if marketing := p.Text(`#contact-marketing`); marketing != "opted out: send no marketing" {
		t.Errorf("marketing state %q, want the opt-out she sent", marketing)
	}
	if consent := p.Text(`#contact-consent`); !strings.HasPrefix(consent, "marketing: refused") || !strings.Contains(consent, "keyword") {
		t.Errorf("consent state %q, want her marketing refusal by keyword", consent)
	}
	if state := p.Text(`#reply-state`); !strings.Contains(state, "Claim the ticket") {
		t.Errorf("before claiming, the reply box says %q, want to claim first", state)
	}

	p.Do("claiming it",
		simbrowser.Click(`#claim`),
		simbrowser.Visible(`#reply-form textarea`),
		shows(`#mine .tickets`, "Zeynep Kaya"),
		simbrowser.Visible(`#queued .empty`),
		simbrowser.Visible(`#resolve`))

	waiting, err := user.SendText(ctx, "siparişim gelmedi")
	if err != nil {
		t.Fatal(err)
	}
	p.Do("the customer's message appears in the transcript, live", shows(`#transcript .msg.in`, "siparişim gelmedi"))
	t.Logf("customer message → visible in the open ticket: %d ms", time.Since(waiting.Time).Milliseconds())

	const answer = "Merhaba Zeynep Hanım, siparişinize hemen bakıyorum."
	p.Do("replying",
		simbrowser.Keys(`#reply-form textarea`, answer),
		simbrowser.Click(`#reply-form button`),
		shows(`#transcript .msg.out.agent`, answer),
		shows(`#events`, "Reply by you"))
	got, err := user.NextReply(ctx, waiting)
	if err != nil {
		t.Fatal(err)
	}
	if got.Text() != answer {
		t.Errorf("the customer got %q, want the agent's reply", got.Text())
	}

	p.Do("moving it to the agent's team, keeping it",
		simbrowser.Click(`#transfer summary`),
		simbrowser.Keys(`#transfer-form input[name="team"]`, "bireysel"),
		simbrowser.Keys(`#transfer-form input[name="assignee"]`, "ayse"),
		simbrowser.Click(`#transfer-form button`),
		shows(`#ticket-meta`, "bireysel · assigned to you"),
		shows(`#events`, "Transferred by you from default team to bireysel, to ayse"),
		simbrowser.Visible(`#reply-form textarea`))

	p.Do("adding a note",
		simbrowser.Keys(`#note-form textarea`, "Kargo firmasına soruldu"),
		simbrowser.Click(`#note-form button`),
		shows(`#events li.note`, "Kargo firmasına soruldu"))

	p.Do("on a tablet the columns stack",
		chromedp.EmulateViewport(768, 1024),
		holds(`() => {
			const q = document.querySelector(".queue").getBoundingClientRect();
			const c = document.querySelector(".conversation").getBoundingClientRect();
			const x = document.querySelector(".context").getBoundingClientRect();
			return q.bottom <= c.top && c.bottom <= x.top && c.width > 600;
		}`),
		chromedp.EmulateViewport(1280, 900),
		holds(`() => {
			const q = document.querySelector(".queue").getBoundingClientRect();
			const c = document.querySelector(".conversation").getBoundingClientRect();
			const x = document.querySelector(".context").getBoundingClientRect();
			return q.right <= c.left && c.right <= x.left;
		}`))

	p.Do("resolving",
		simbrowser.Click(`#resolve`),
		shows(`#ticket-meta`, "resolved"),
		shows(`#reply-state`, "the bot answers the customer again"),
		simbrowser.Visible(`#mine .empty`))

	// Resolving asks the customer to rate the conversation; they write
	// to the bot instead.
	if _, err := user.WaitFor(ctx, func(m simulator.Message) bool {
		return m.FromBusiness() && strings.Contains(m.Text(), "değerlendirir misiniz")
	}); err != nil {
		t.Fatalf("no rating question after resolving: %v", err)
	}
	hello, err := user.SendText(ctx, "merhaba")
	if err != nil {
		t.Fatal(err)
	}
	if greet, err := user.NextReply(ctx, hello); err != nil || !strings.Contains(greet.Text(), "Ben Yanıt") {
		t.Errorf("after resolving, the customer got %q (%v), want the bot's greeting", greet.Text(), err)
	}
}

// TestBrowserTemplateOutsideTheWindow: a customer wrote more than 24 hours
// ago, so the console offers the approved templates instead of the reply
// box; the agent fills the placeholder and the customer gets the template.
func TestBrowserTemplateOutsideTheWindow(t *testing.T) {
	a := startDev(t, pgtest.NewSchemaDSN(t)) // PostgreSQL: the test moves the customer's last message back in time
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	hash, err := web.HashPassword("temsilci-parola-2026")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.CreateUser(ctx, store.User{Login: "ayse", Name: "Ayşe Yılmaz", Role: store.RoleAgent, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	token := agent(t, a, "api-agent")
	user := a.sim.User("Deniz Kaya", "+90 532 444 55 66")
	asked, err := user.SendText(ctx, "temsilciyle görüşmek istiyorum")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := user.NextReply(ctx, asked); err != nil {
		t.Fatal(err)
	}
	var list struct{ Tickets []struct{ ID int64 } }
	if code := inboxCall(t, a, token, "GET", "/tickets", "", &list); code != 200 || len(list.Tickets) != 1 {
		t.Fatalf("queue: %d %+v", code, list)
	}
	id := strconv.FormatInt(list.Tickets[0].ID, 10)
	pg := rawStore(a.store).(*postgres.Store)
	if _, err := pg.Pool().Exec(ctx, `UPDATE contacts SET last_inbound_at = now() - interval '25 hours'`); err != nil {
		t.Fatal(err)
	}

	p := simbrowser.Open(t)
	base := "http://" + a.addr.String()
	p.Do("signing in",
		chromedp.Navigate(base+"/console/login?next=%2Fconsole%2Finbox%23ticket-"+id),
		simbrowser.Keys(`input[name="login"]`, "ayse"),
		simbrowser.Keys(`input[name="password"]`, "temsilci-parola-2026"),
		simbrowser.Click(`button[type="submit"]`),
		simbrowser.Visible(`#claim`))
	p.Do("claiming: the window is closed, so templates replace the reply box",
		simbrowser.Click(`#claim`),
		shows(`#reply-state`, "24-hour window is closed"),
		simbrowser.Visible(`#template-form`),
		shows(`#template-form select`, "support_follow_up (tr, utility)"),
		holds(`() => document.querySelector("#reply-form textarea").disabled`))
	p.Do("filling the placeholder and sending",
		simbrowser.Keys(`#template-params input[name="p1"]`, "Deniz Hanım"),
		shows(`#template-preview`, "Merhaba Deniz Hanım, destek talebinizle"),
		simbrowser.Click(`#template-form button[type="submit"]`),
		shows(`#action-status`, "Template support_follow_up sent"))
	got, err := user.WaitFor(ctx, func(m simulator.Message) bool {
		return m.FromBusiness() && strings.Contains(m.Text(), "support_follow_up")
	})
	if err != nil {
		t.Fatalf("the customer got no template: %v", err)
	}
	if !strings.Contains(got.Text(), "Deniz Hanım") {
		t.Errorf("the template reached the customer as %q, want its parameter", got.Text())
	}
}
