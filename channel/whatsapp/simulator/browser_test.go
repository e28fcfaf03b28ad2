package simulator_test

import (
	"strings"
	"testing"
	"time"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/channel/whatsapp/simulator"
	"github.com/yanit/yanit/channel/whatsapp/simulator/simbrowser"
)

// A person in the page chats with the bot: picks a name and number, sends a
// text, taps a reply button, picks a list row, answers a template's quick
// reply, sees typing and ticks.
func TestBrowserChat(t *testing.T) {
	t.Parallel()
	p := simbrowser.Open(t)
	e := setup(t, simulator.Options{StatusDelay: 20 * time.Millisecond}, true)

	p.Load(e.srv.URL + "/sim")
	phone := p.StartChat("Ayşe", "+90 555 111 22 33")
	if phone != "905551112233" {
		t.Errorf("the chat opened for %q, want 905551112233", phone)
	}
	p.Do("see the user in the list", simbrowser.Visible(`[data-testid="user-item"][data-phone="905551112233"]`))
	if got := p.Text(`[data-testid="chat-name"]`); got != "Ayşe" {
		t.Errorf("chat title %q", got)
	}

	// Text → greeting with reply buttons; the bot marked the text read.
	sent := p.SendText("Merhaba *dünya*")
	if got := p.Text(sent.Sel() + ` [data-testid="message-text"] strong`); got != "dünya" {
		t.Errorf("bold word %q in the sent text", got)
	}
	greeting := p.Business(1, "How can I help?")
	if got := p.Buttons(greeting); strings.Join(got, "|") != "My orders|Talk to a person" {
		t.Errorf("greeting buttons %q", got)
	}
	p.WaitStatus(sent, "read")
	if got := p.Text(greeting.Sel() + ` [data-testid="message-text"] strong`); got != "Ayşe" {
		t.Errorf("bold name %q in the greeting", got)
	}
	if got := p.Text(greeting.Sel() + ` [data-testid="message-header"]`); got != "Yanıt Shop" {
		t.Errorf("header %q", got)
	}

	// Tap → list; reply buttons work once.
	p.TapButton("My orders")
	p.Do("see the buttons spent", simbrowser.Visible(greeting.Sel()+` [data-testid="reply-button"][data-id="human"]:disabled`))
	list := p.Business(2, "Which order?")
	if got := p.Text(list.Sel() + ` [data-testid="list-button"]`); !strings.HasSuffix(got, "Orders") {
		t.Errorf("list button %q", got)
	}
	if opened := p.OpenList(); opened.ID != list.ID {
		t.Errorf("opened the list of %s, want %s", opened.ID, list.ID)
	}
	if rows, sections := p.Count(`[data-testid="list-row"]`), p.Count(`[data-testid="list-section"]`); rows != 3 || sections != 2 {
		t.Errorf("sheet shows %d rows in %d sections, want 3 in 2", rows, sections)
	}
	if got := p.Text(`[data-testid="list-row"][data-id="o-1001"]`); !strings.Contains(got, "Order #1001") || !strings.Contains(got, "2 items, shipped") {
		t.Errorf("row text %q, want title and description", got)
	}
	pick := p.PickRow("Order #1001")
	final := p.Business(3, "is on its way")
	p.Do("see the final reply formatted", simbrowser.Visible(final.Sel()+` [data-testid="message-text"] em`))
	if got := p.Text(final.Sel() + ` [data-testid="message-text"] strong`); got != "Order #1001" {
		t.Errorf("final reply bold %q", got)
	}
	// Displayed, so read: the page shows blue ticks and the bot got the
	// read status.
	p.WaitStatus(final, "read")
	if sts := e.bot.statusesOf(t, final.ID, 3); sts[2].Status != whatsapp.StatusRead {
		t.Errorf("statuses of the final reply: %+v", sts)
	}
	if in := e.bot.inboundByID(t, pick.ID); in.Subtype != "list_reply" || in.ReplyID != "o-1001" || in.Context == nil || in.Context.ID != list.ID {
		t.Errorf("row pick arrived as %+v", in)
	}

	// Typing shows until the next reply. Each call of the bot gets its own
	// 10 s: the browser steps before it may take longer on a busy machine.
	if err := e.bot.client.MarkRead(testContext(t), testPhoneID, pick.ID, true); err != nil {
		t.Fatal(err)
	}
	p.Do("see typing", simbrowser.Visible(`[data-testid="typing"]`))
	if got := p.Text(`[data-testid="chat-sub"]`); got != "typing…" {
		t.Errorf("header says %q while typing", got)
	}
	if _, err := e.bot.client.Send(testContext(t), testPhoneID, whatsapp.Outbound{To: phone, Content: &whatsapp.Media{
		Kind: whatsapp.MediaImage, Link: "https://example.com/receipt.png", Caption: "Your _receipt_",
	}}); err != nil {
		t.Fatal(err)
	}
	receipt := p.Business(4, "Your receipt")
	p.Do("the reply ends typing",
		simbrowser.Visible(receipt.Sel()+` [data-testid="media"][data-kind="image"]`),
		simbrowser.Gone(`[data-testid="typing"]`),
	)

	// A template with a quick reply.
	if _, err := e.bot.client.Send(testContext(t), testPhoneID, whatsapp.Outbound{To: phone, Content: &whatsapp.Template{
		Name: "delivery_survey", Language: "tr",
		Components: []whatsapp.Component{
			{Type: whatsapp.ComponentBody, Parameters: []whatsapp.Parameter{whatsapp.NamedTextParam("order", "#1001")}},
			{Type: whatsapp.ComponentButton, SubType: "quick_reply", Parameters: []whatsapp.Parameter{whatsapp.PayloadParam("happy")}},
		},
	}}); err != nil {
		t.Fatal(err)
	}
	survey := p.Business(5, "delivery_survey")
	p.WaitStatus(survey, "read")
	if got := p.Text(survey.Sel() + ` [data-testid="template-params"]`); got != "{{order}} #1001" {
		t.Errorf("template parameters %q", got)
	}
	p.TapButton("happy")
	if noted := p.Business(6, "Noted"); noted.Text != "Noted: happy" {
		t.Errorf("last reply %q", noted.Text)
	}
}
