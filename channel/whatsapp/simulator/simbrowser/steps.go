package simbrowser

import (
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// Selectors of the page's parts, by data-testid.
const (
	composer  = `[data-testid="composer"]`
	listSheet = `[data-testid="list-sheet"]`
	userRows  = `[data-testid="message"][data-direction="user"]`
)

// Bubble is a message shown in the chat.
type Bubble struct {
	// ID is the message's wamid, the data-id of its row.
	ID string `json:"id"`
	// Text is what the bubble shows, one part a line: header, body (or a
	// user's answer), footer, media, template name and parameters.
	Text string `json:"text"`
}

// Sel is the CSS selector of b's row; its ticks and buttons are inside.
func (b Bubble) Sel() string {
	return `[data-testid="message"][data-id=` + cssString(b.ID) + `]`
}

// Ticks is the CSS selector of b's ticks, whose data-status is the
// business message's status (accepted, sent, delivered, read, failed) or
// the user message's (pending, delivered, read, failed).
func (b Bubble) Ticks() string { return b.Sel() + ` [data-testid="ticks"]` }

// Load opens the page at url (the simulator's /sim) and waits for the form
// that picks a user.
func (p *Page) Load(url string) {
	p.t.Helper()
	p.Do("opening "+url, chromedp.Navigate(url), Visible(`[data-testid="user-form"]`))
}

// StartChat picks the name and the number and opens their chat; it returns
// the number as the simulator keeps it (E.164 digits).
func (p *Page) StartChat(name, number string) string {
	p.t.Helper()
	p.Do("picking "+name+" and "+number,
		chromedp.Clear(chromedp.CSS(`[data-testid="name-input"]`)),
		Keys(`[data-testid="name-input"]`, name),
		chromedp.Clear(chromedp.CSS(`[data-testid="phone-input"]`)),
		Keys(`[data-testid="phone-input"]`, number),
		Click(`[data-testid="start-chat"]`),
		Visible(composer),
	)
	return run(p, "seeing the chat of "+number+" in the list", poll[string](activeUserJS))
}

// SendText types text in the composer, sends it and returns its bubble once
// shown.
func (p *Page) SendText(text string) Bubble {
	p.t.Helper()
	n := p.Count(userRows)
	p.Do(fmt.Sprintf("sending %q", text), Keys(composer, text), Click(`[data-testid="send-button"]`))
	return p.User(n+1, "")
}

// Business waits until the chat shows an n-th business message (from 1)
// whose text contains contains, and returns it.
func (p *Page) Business(n int, contains string) Bubble {
	p.t.Helper()
	return p.nth("business", n, contains)
}

// User waits until the chat shows an n-th user message (from 1) whose text
// contains contains, and returns it.
func (p *Page) User(n int, contains string) Bubble {
	p.t.Helper()
	return p.nth("user", n, contains)
}

func (p *Page) nth(direction string, n int, contains string) Bubble {
	p.t.Helper()
	step := fmt.Sprintf("waiting for %s message %d containing %q", direction, n, contains)
	return run(p, step, poll[Bubble](nthMessageJS, direction, n, contains))
}

// Buttons returns the titles of b's reply buttons.
func (p *Page) Buttons(b Bubble) []string {
	p.t.Helper()
	return run(p, "reading the buttons of "+b.ID, chromedp.Evaluate[[]string](fmt.Sprintf(
		`[...document.querySelectorAll(%s)].map((e) => e.textContent.trim())`,
		jsString(b.Sel()+` [data-testid="reply-button"]`))))
}

// TapButton taps the reply button (or a template's quick reply) titled
// title on the newest message that has one, as a person does once they saw
// that message read. It returns the user's answer once shown.
func (p *Page) TapButton(title string) Bubble {
	p.t.Helper()
	c := run(p, fmt.Sprintf("finding the button %q", title), poll[button](findButtonJS, title))
	if c.Disabled {
		p.t.Fatalf("tapping %q: its message was answered already", title)
	}
	msg := Bubble{ID: c.Message}
	n := p.Count(userRows)
	// A tick label changing under the pointer may move the buttons by a
	// line: tap once the message is read, as its reader would.
	p.Do(fmt.Sprintf("tapping %q", title),
		p.settled(msg),
		Click(msg.Sel()+` [data-testid=`+cssString(c.TestID)+`][data-id=`+cssString(c.ID)+`]`),
	)
	return p.User(n+1, title)
}

// button is a reply button or quick reply found on the page.
type button struct {
	Message  string `json:"message"` // the wamid of its message
	ID       string `json:"id"`      // its reply id or payload
	TestID   string `json:"testid"`
	Disabled bool   `json:"disabled"`
}

// OpenList opens the sheet of the newest list message, once read, and
// returns that message.
func (p *Page) OpenList() Bubble {
	p.t.Helper()
	msg := run(p, "finding a list message", poll[Bubble](findListJS))
	p.Do("opening the list of "+msg.ID,
		p.settled(msg),
		Click(msg.Sel()+` [data-testid="list-button"]`),
		Visible(listSheet),
	)
	return msg
}

// Rows returns the titles of the rows in the open list sheet.
func (p *Page) Rows() []string {
	p.t.Helper()
	return run(p, "reading the list rows", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('[data-testid="list-sheet"] [data-testid="list-row"]')].map((r) => r.innerText.trim().split("\n")[0].trim())`))
}

// PickRow picks the row titled title in the open list sheet and returns the
// user's answer once shown.
func (p *Page) PickRow(title string) Bubble {
	p.t.Helper()
	id := run(p, fmt.Sprintf("finding the row %q", title), poll[string](findRowJS, title))
	n := p.Count(userRows)
	p.Do(fmt.Sprintf("picking %q", title),
		Click(listSheet+` [data-testid="list-row"][data-id=`+cssString(id)+`]`),
		Gone(listSheet),
	)
	return p.User(n+1, title)
}

// Status returns the status b's ticks show now.
func (p *Page) Status(b Bubble) string {
	p.t.Helper()
	return run(p, "reading the ticks of "+b.ID, chromedp.Evaluate[string](fmt.Sprintf(
		`(document.querySelector(%s) || {dataset: {}}).dataset.status || ""`, jsString(b.Ticks()))))
}

// WaitStatus waits until b's ticks show status.
func (p *Page) WaitStatus(b Bubble, status string) {
	p.t.Helper()
	p.Do(fmt.Sprintf("waiting for %s to be %s", b.ID, status), Visible(b.Ticks()+`[data-status=`+cssString(status)+`]`))
}

// settled waits until msg is read, its ticks' last change.
func (p *Page) settled(msg Bubble) chromedp.Action[chromedp.Void] {
	return Visible(msg.Ticks() + `[data-status="read"]`)
}

// poll waits, within StepTimeout, for the JavaScript function fn called
// with args to return a truthy value, decoded into T.
func poll[T any](fn string, args ...any) chromedp.Action[T] {
	return chromedp.PollFunction[T](fn,
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(StepTimeout),
		chromedp.WithPollingArgs(args...),
	)
}

// cssString quotes s as a CSS string.
func cssString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\a `).Replace(s) + `"`
}

// shownJS is an expression of a function returning what a message row
// shows (see Bubble.Text): its text as written, before CSS changes its case,
// with line breaks.
const shownJS = `((row) => {
	const text = (e) => [...e.childNodes]
		.map((n) => n.nodeName === "BR" ? "\n" : n.nodeType === Node.TEXT_NODE ? n.data : text(n))
		.join("");
	return [...row.querySelectorAll(
		'[data-testid="message-header"], [data-testid="message-text"], [data-testid="message-footer"], ' +
		'[data-testid="media"], [data-testid="template"], [data-testid="template-params"]'
	)].map((e) => text(e).trim()).join("\n");
})`

// nthMessageJS finds the n-th message of a direction if its text contains
// want. An empty string arrives as undefined (cdproto omits an empty
// runtime.CallArgument value), hence the default.
const nthMessageJS = `(direction, n, want = "") => {
	const rows = document.querySelectorAll('[data-testid="message"][data-direction="' + direction + '"]');
	const row = rows[n - 1];
	if (!row) return null;
	const text = ` + shownJS + `(row);
	return text.includes(want) ? { id: row.dataset.id, text } : null;
}`

// activeUserJS returns the number of the chat open in the page.
const activeUserJS = `() => {
	if (document.querySelector('[data-testid="chat"]').hidden) return null;
	const li = document.querySelector('[data-testid="user-item"].active');
	return li ? li.dataset.phone : null;
}`

// findButtonJS finds the newest reply button or quick reply titled title.
const findButtonJS = `(title) => {
	const all = [...document.querySelectorAll('[data-testid="reply-button"], [data-testid="template-button"]')];
	const b = all.filter((e) => e.textContent.trim() === title).pop();
	if (!b) return null;
	const row = b.closest('[data-testid="message"]');
	return { message: row.dataset.id, id: b.dataset.id, testid: b.dataset.testid, disabled: b.disabled };
}`

// findListJS finds the newest business message with a list button.
const findListJS = `() => {
	const b = [...document.querySelectorAll('[data-testid="message"][data-direction="business"] [data-testid="list-button"]')].pop();
	if (!b) return null;
	const row = b.closest('[data-testid="message"]');
	return { id: row.dataset.id, text: ` + shownJS + `(row) };
}`

// findRowJS finds the row titled title in the open list sheet.
const findRowJS = `(title) => {
	const sheet = document.querySelector('[data-testid="list-sheet"]');
	if (sheet.hidden) return null;
	const row = [...sheet.querySelectorAll('[data-testid="list-row"]')]
		.find((r) => r.innerText.trim().split("\n")[0].trim() === title);
	return row ? row.dataset.id : null;
}`
