package simulator_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/channel/whatsapp/simulator"
)

// chromiumPath is where scripts/setup-chromium.sh installs Chromium.
const chromiumPath = "/usr/bin/chromium"

// page is a headless Chromium tab that collects the page's JS errors.
type page struct {
	t   *testing.T
	ctx context.Context

	mu     sync.Mutex
	errors []string
}

// openBrowser starts headless Chromium with a fresh profile. Without
// Chromium the test is skipped, or fails under CI=true.
func openBrowser(t *testing.T) *page {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium is missing at %s: run scripts/setup-chromium.sh", chromiumPath)
		}
		t.Skipf("Chromium is missing at %s: run scripts/setup-chromium.sh to run the browser test", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	// Registered after TempDir, so the browser is gone before its profile
	// directory is removed.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	p := &page{t: t, ctx: ctx}
	// The first call starts the browser, tied to ctx rather than to a step's
	// timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	console := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range console {
			if err != nil {
				return
			}
			// Source is empty for the page's own console calls and
			// exceptions; network log entries (a refused tap) are expected.
			if m.Source == "" && (m.IsException() || m.Type == chromedp.ConsoleError) {
				p.fail(m.String())
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, e := range p.errors {
			t.Error("page: " + e)
		}
	})
	return p
}

func (p *page) fail(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errors = append(p.errors, msg)
}

// do performs one step of the scenario; on failure it shows the chat.
func (p *page) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		dump, cancelDump := context.WithTimeout(p.ctx, 5*time.Second)
		defer cancelDump()
		html, _ := chromedp.Run(dump, chromedp.OuterHTML(chromedp.CSS(`[data-testid="messages"]`)))
		p.t.Fatalf("%s: %v\nmessages on the page:\n%s", step, err, html)
	}
}

// text waits for the element sel to be visible and returns its text.
func (p *page) text(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		p.t.Fatalf("reading the text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// count returns how many elements match sel.
func (p *page) count(sel string) int {
	p.t.Helper()
	n, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	if err != nil {
		p.t.Fatalf("counting %s: %v", sel, err)
	}
	return n
}

// visible waits until an element matching the CSS selector sel is shown.
func visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

// gone waits until the element sel is hidden.
func gone(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitNotVisible(chromedp.CSS(sel))
}

// click clicks the element sel once it is shown.
func click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)
}

// keys types v into the element sel.
func keys(sel, v string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(sel), v, chromedp.NodeVisible)
}

// A person in the page chats with the bot: picks a name and number, sends a
// text, taps a reply button, picks a list row, answers a template's quick
// reply, sees typing and ticks.
func TestBrowserChat(t *testing.T) {
	t.Parallel()
	p := openBrowser(t)
	e := setup(t, simulator.Options{StatusDelay: 20 * time.Millisecond}, true)
	ctx := testContext(t)
	const phone = "905551112233"

	p.do("open the page", chromedp.Navigate(e.srv.URL+"/sim"), visible(`[data-testid="user-form"]`))
	p.do("pick a name and number",
		keys(`[data-testid="name-input"]`, "Ayşe"),
		keys(`[data-testid="phone-input"]`, "+90 555 111 22 33"),
		click(`[data-testid="start-chat"]`),
		visible(`[data-testid="composer"]`),
		visible(`[data-testid="user-item"][data-phone="`+phone+`"]`),
	)
	if got := p.text(`[data-testid="chat-name"]`); got != "Ayşe" {
		t.Errorf("chat title %q", got)
	}

	// Text → greeting with reply buttons; the bot marked the text read.
	p.do("send a text",
		keys(`[data-testid="composer"]`, "Merhaba *dünya*"),
		click(`[data-testid="send-button"]`),
		visible(`[data-direction="user"] [data-testid="message-text"] strong`),
		visible(`[data-direction="business"] [data-testid="reply-button"][data-id="orders"]`),
		visible(`[data-direction="user"] [data-testid="ticks"][data-status="read"]`),
	)
	greeting := `[data-direction="business"][data-type="interactive"]`
	if got := p.text(greeting + ` [data-testid="message-text"] strong`); got != "Ayşe" {
		t.Errorf("bold name %q in the greeting", got)
	}
	if got := p.text(greeting + ` [data-testid="message-header"]`); got != "Yanıt Shop" {
		t.Errorf("header %q", got)
	}

	// Tap → list; reply buttons work once. Each click waits for its message
	// to be read: a changing tick label may move the buttons by a line.
	p.do("tap a reply button",
		visible(greeting+` [data-testid="ticks"][data-status="read"]`),
		click(`[data-testid="reply-button"][data-id="orders"]`),
		visible(`[data-testid="reply-button"][data-id="human"]:disabled`),
		visible(`[data-testid="list-button"]`),
	)
	if got := p.text(`[data-testid="list-button"]`); !strings.HasSuffix(got, "Orders") {
		t.Errorf("list button %q", got)
	}
	list := `[data-direction="business"][data-type="interactive"]:has([data-testid="list-button"])`
	p.do("open the list",
		visible(list+` [data-testid="ticks"][data-status="read"]`),
		click(`[data-testid="list-button"]`),
		visible(`[data-testid="list-sheet"]`),
	)
	if rows, sections := p.count(`[data-testid="list-row"]`), p.count(`[data-testid="list-section"]`); rows != 3 || sections != 2 {
		t.Errorf("sheet shows %d rows in %d sections, want 3 in 2", rows, sections)
	}
	if got := p.text(`[data-testid="list-row"][data-id="o-1001"]`); !strings.Contains(got, "Order #1001") || !strings.Contains(got, "2 items, shipped") {
		t.Errorf("row text %q, want title and description", got)
	}
	final := `[data-direction="business"][data-type="text"]`
	p.do("pick a row",
		click(`[data-testid="list-row"][data-id="o-1001"]`),
		gone(`[data-testid="list-sheet"]`),
		visible(final+` [data-testid="message-text"] em`),
	)
	if got := p.text(final + ` [data-testid="message-text"] strong`); got != "Order #1001" {
		t.Errorf("final reply bold %q", got)
	}
	// Displayed, so read: the page shows blue ticks and the bot got the
	// read status.
	p.do("see the final reply read", visible(final+` [data-testid="ticks"][data-status="read"]`))
	u := e.sim.User("", phone)
	msgs := u.Transcript()
	last, pick := msgs[len(msgs)-1], msgs[len(msgs)-2]
	if sts := e.bot.statusesOf(t, last.ID, 3); sts[2].Status != whatsapp.StatusRead {
		t.Errorf("statuses of the final reply: %+v", sts)
	}
	if in := e.bot.inboundByID(t, pick.ID); in.Subtype != "list_reply" || in.ReplyID != "o-1001" || in.Context == nil {
		t.Errorf("row pick arrived as %+v", in)
	}

	// Typing shows until the next reply.
	if err := e.bot.client.MarkRead(ctx, testPhoneID, pick.ID, true); err != nil {
		t.Fatal(err)
	}
	p.do("see typing", visible(`[data-testid="typing"]`))
	if got := p.text(`[data-testid="chat-sub"]`); got != "typing…" {
		t.Errorf("header says %q while typing", got)
	}
	if _, err := e.bot.client.Send(ctx, testPhoneID, whatsapp.Outbound{To: phone, Content: &whatsapp.Media{
		Kind: whatsapp.MediaImage, Link: "https://example.com/receipt.png", Caption: "Your _receipt_",
	}}); err != nil {
		t.Fatal(err)
	}
	p.do("the reply ends typing", visible(`[data-testid="media"][data-kind="image"]`), gone(`[data-testid="typing"]`))

	// A template with a quick reply.
	if _, err := e.bot.client.Send(ctx, testPhoneID, whatsapp.Outbound{To: phone, Content: &whatsapp.Template{
		Name: "delivery_survey", Language: "tr",
		Components: []whatsapp.Component{
			{Type: whatsapp.ComponentBody, Parameters: []whatsapp.Parameter{whatsapp.NamedTextParam("order", "#1001")}},
			{Type: whatsapp.ComponentButton, SubType: "quick_reply", Parameters: []whatsapp.Parameter{whatsapp.PayloadParam("happy")}},
		},
	}}); err != nil {
		t.Fatal(err)
	}
	p.do("see the template", visible(`[data-type="template"] [data-testid="ticks"][data-status="read"]`))
	if got := p.text(`[data-testid="template-params"]`); got != "{{order}} #1001" {
		t.Errorf("template parameters %q", got)
	}
	p.do("answer the template", click(`[data-testid="template-button"][data-id="happy"]`))
	noted := `[data-direction="business"][data-type="text"]:last-child [data-testid="message-text"]`
	p.do("see the answer to the quick reply", visible(noted))
	if got := p.text(noted); got != "Noted: happy" {
		t.Errorf("last reply %q", got)
	}
}
