package simulator_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/channel/whatsapp/simulator"
	"github.com/yanit/yanit/channel/whatsapp/wire"
)

// A user's conversation with the bot, driven from Go: every webhook arrives
// signed and parses, taps and picks carry the right payload and context,
// and the bot's mark-read and typing reach the user.
func TestConversation(t *testing.T) {
	t.Parallel()
	e := setup(t, simulator.Options{}, true)
	ctx := testContext(t)
	u := e.sim.User("Ayşe Yılmaz", "+90 555 111 22 33")
	if u.Phone() != "905551112233" {
		t.Fatalf("phone %q, want the digits", u.Phone())
	}

	hello, err := u.SendText(ctx, "Merhaba, siparişim nerede?")
	if err != nil {
		t.Fatal(err)
	}
	if !hello.Delivered || hello.Error != "" {
		t.Errorf("SendText returned %+v, want delivered", hello)
	}
	in := e.bot.inboundByID(t, hello.ID)
	if in.Type != whatsapp.TypeText || in.Text != "Merhaba, siparişim nerede?" || in.WaID != "905551112233" ||
		in.ProfileName != "Ayşe Yılmaz" || in.PhoneNumberID != testPhoneID || in.DisplayPhone != testDisplay ||
		in.WABAID != simulator.DefaultWABAID || !strings.HasPrefix(in.WAMID, "wamid.") {
		t.Errorf("bot got %+v", in)
	}
	if d := time.Since(in.Timestamp); d < 0 || d > time.Minute {
		t.Errorf("timestamp %v is not now", in.Timestamp)
	}

	buttons, err := u.NextReply(ctx, hello)
	if err != nil {
		t.Fatal(err)
	}
	b, ok := buttons.Outbound.Content.(*whatsapp.Buttons)
	if !ok || len(b.Buttons) != 2 || buttons.Text() != "Hello *Ayşe Yılmaz*! How can I help?" {
		t.Fatalf("first reply %+v, want the greeting with two buttons", buttons)
	}
	// The bot marked the text read and showed typing before it replied; the
	// reply dismissed the typing indicator.
	if got := transcriptByID(u, hello.ID); !got.Read {
		t.Error("the user's message is not marked read")
	}
	if u.Typing() {
		t.Error("typing still shown after the reply")
	}

	tap, err := u.TapButton(ctx, "My orders")
	if err != nil {
		t.Fatal(err)
	}
	in = e.bot.inboundByID(t, tap.ID)
	if in.Type != whatsapp.TypeInteractive || in.Subtype != "button_reply" || in.ReplyID != "orders" || in.Text != "My orders" {
		t.Errorf("tap arrived as %+v", in)
	}
	if in.Context == nil || in.Context.ID != buttons.ID || in.Context.From != testDisplay {
		t.Errorf("tap context %+v, want {from %s, id %s}", in.Context, testDisplay, buttons.ID)
	}
	if got := transcriptByID(u, buttons.ID); got.Answer != "orders" {
		t.Errorf("buttons message answer %q, want orders", got.Answer)
	}
	if _, err := u.TapButton(ctx, "Talk to a person"); !errors.Is(err, simulator.ErrAnswered) {
		t.Errorf("second tap on the same buttons: %v, want ErrAnswered", err)
	}

	list, err := u.NextReply(ctx, tap)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := list.Outbound.Content.(*whatsapp.List); !ok {
		t.Fatalf("second reply is %s, want a list", list.Type())
	}
	pick, err := u.PickRow(ctx, "Order #1002")
	if err != nil {
		t.Fatal(err)
	}
	in = e.bot.inboundByID(t, pick.ID)
	if in.Subtype != "list_reply" || in.ReplyID != "o-1002" || in.Text != "Order #1002" ||
		in.Context == nil || in.Context.ID != list.ID {
		t.Errorf("row pick arrived as %+v", in)
	}
	var raw wire.Message
	if err := json.Unmarshal(in.Raw, &raw); err != nil {
		t.Fatal(err)
	}
	if r := raw.Interactive.ListReply; r == nil || r.Description != "1 item, preparing" {
		t.Errorf("list_reply %+v, want the row's description", r)
	}

	final, err := u.NextReply(ctx, pick)
	if err != nil {
		t.Fatal(err)
	}
	if want := "*Order #1002* is on its way.\n_Arrives tomorrow._"; final.Text() != want {
		t.Errorf("final reply %q, want %q", final.Text(), want)
	}
	if _, err := u.PickRow(ctx, "Order #1234"); !errors.Is(err, simulator.ErrNoSuchChoice) {
		t.Errorf("picking a row no list has: %v, want ErrNoSuchChoice", err)
	}

	// Both directions, in order, with the tap replying to the buttons.
	var kinds []string
	for _, m := range u.Transcript() {
		kinds = append(kinds, string(m.Direction)+":"+m.Type())
	}
	want := "user:text business:interactive user:interactive business:interactive user:interactive business:text"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("transcript %s\nwant       %s", got, want)
	}
}

func transcriptByID(u *simulator.User, id string) simulator.Message {
	for _, m := range u.Transcript() {
		if m.ID == id {
			return m
		}
	}
	return simulator.Message{}
}

// Statuses of a business message arrive signed, in order sent → delivered
// → read, with the send's biz_opaque_callback_data, the recipient and a
// string timestamp; templates also carry pricing.
func TestStatusWebhooks(t *testing.T) {
	t.Parallel()
	e := setup(t, simulator.Options{}, false)
	ctx := testContext(t)
	u := e.sim.User("Can", "905320000001")
	if _, err := u.SendText(ctx, "selam"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		content whatsapp.Content
		pricing bool
	}{
		{"text", &whatsapp.Text{Body: "Merhaba Can"}, false},
		{"template", &whatsapp.Template{Name: "order_update", Language: "tr", Components: []whatsapp.Component{
			{Type: whatsapp.ComponentBody, Parameters: []whatsapp.Parameter{whatsapp.TextParam("#1001")}},
		}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := e.bot.client.Send(ctx, testPhoneID, whatsapp.Outbound{To: u.Phone(), BizOpaque: "yanit:42-" + tt.name, Content: tt.content})
			if err != nil {
				t.Fatal(err)
			}
			sts := e.bot.statusesOf(t, id, 3)
			var order []string
			for _, s := range sts {
				order = append(order, s.Status)
				if s.BizOpaque != "yanit:42-"+tt.name || s.RecipientID != u.Phone() || s.PhoneNumberID != testPhoneID {
					t.Errorf("%s status %+v", s.Status, s)
				}
				if (s.Pricing != nil) != tt.pricing {
					t.Errorf("%s status pricing %+v, want present: %v", s.Status, s.Pricing, tt.pricing)
				}
				var item map[string]any
				if err := json.Unmarshal(s.Raw, &item); err != nil {
					t.Fatal(err)
				}
				if _, ok := item["timestamp"].(string); !ok {
					t.Errorf("timestamp %#v is not a string", item["timestamp"])
				}
			}
			if got := strings.Join(order, ","); got != "sent,delivered,read" {
				t.Errorf("statuses %s, want sent,delivered,read", got)
			}
			m, err := u.WaitFor(ctx, func(m simulator.Message) bool { return m.ID == id && m.Status == whatsapp.StatusRead })
			if err != nil {
				t.Fatal(err)
			}
			if m.Outbound.BizOpaque != "yanit:42-"+tt.name {
				t.Errorf("transcript lost biz opaque: %+v", m.Outbound)
			}
		})
	}
}

// Every request the Cloud API would refuse gets Meta's error shape, status
// and code, naming the field.
func TestGraphAPIErrors(t *testing.T) {
	t.Parallel()
	e := setup(t, simulator.Options{}, false)
	path := "/sim/graph/v24.0/" + testPhoneID + "/messages"
	button := func(id, title string) string {
		return `{"type":"reply","reply":{"id":"` + id + `","title":"` + title + `"}}`
	}
	interactive := func(body string, buttons ...string) string {
		return `{"messaging_product":"whatsapp","to":"905551112233","type":"interactive","interactive":{"type":"button","body":{"text":"` +
			body + `"},"action":{"buttons":[` + strings.Join(buttons, ",") + `]}}}`
	}
	tests := []struct {
		name        string
		token, path string
		body        string
		status      int
		code        int
		details     string // contained in error_data.details
	}{
		{"missing token", "", path, `{"messaging_product":"whatsapp"}`, 401, 190, ""},
		{"wrong token", "nope", path, `{"messaging_product":"whatsapp"}`, 401, 190, ""},
		{"other phone number id", testToken, "/sim/graph/v24.0/999/messages", `{}`, 400, 100, ""},
		{"bad version", testToken, "/sim/graph/latest/" + testPhoneID + "/messages", `{}`, 400, 2500, ""},
		{"unknown endpoint", testToken, "/sim/graph/v24.0/" + testPhoneID + "/media", `{}`, 400, 2500, ""},
		{"not json", testToken, path, `hello`, 400, 100, "not a JSON object"},
		{"no messaging_product", testToken, path, `{"to":"905551112233","type":"text","text":{"body":"x"}}`, 400, 100, "messaging_product"},
		{"unknown type", testToken, path, `{"messaging_product":"whatsapp","to":"905551112233","type":"carousel"}`, 400, 100, "carousel"},
		{"four buttons", testToken, path, interactive("Pick", button("a", "A"), button("b", "B"), button("c", "C"), button("d", "D")),
			400, 131009, "interactive.action.buttons: too many (got 4, limit 3)"},
		{"21-character title", testToken, path, interactive("Pick", button("a", strings.Repeat("x", 21))),
			400, 131009, "interactive.action.buttons[0].reply.title: too long (got 21, limit 20)"},
		{"no body", testToken, path, interactive("", button("a", "A")), 400, 100, "interactive.body.text: required"},
		{"bad recipient", testToken, path, `{"messaging_product":"whatsapp","to":"abc","type":"text","text":{"body":"x"}}`, 400, 131009, "to:"},
		{"mark read of an unknown message", testToken, path, `{"messaging_product":"whatsapp","status":"read","message_id":"wamid.nope"}`, 400, 100, "message_id"},
		{"mark delivered", testToken, path, `{"messaging_product":"whatsapp","status":"delivered","message_id":"wamid.nope"}`, 400, 131009, "status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, ge := graphCall(t, e.srv, tt.token, tt.path, tt.body)
			if status != tt.status || ge == nil || *ge.Code != tt.code {
				t.Fatalf("http %d, error %+v; want http %d, code %d", status, ge, tt.status, tt.code)
			}
			if ge.Message == "" || ge.FBTraceID == "" || (ge.Type != "OAuthException" && ge.Type != "GraphMethodException") {
				t.Errorf("error lacks Meta's members: %+v", ge)
			}
			if tt.details != "" && (ge.ErrorData == nil || !strings.Contains(ge.ErrorData.Details, tt.details)) {
				t.Errorf("details %+v, want them to contain %q", ge.ErrorData, tt.details)
			}
		})
	}
}

// Free-form messages need a user message in the last 24 hours (131047);
// templates do not.
func TestCustomerServiceWindow(t *testing.T) {
	t.Parallel()
	clk := newClock()
	e := setup(t, simulator.Options{Now: clk.Now}, false)
	ctx := testContext(t)
	const phone = "447700900123"
	text := whatsapp.Outbound{To: phone, Content: &whatsapp.Text{Body: "Hi"}}
	template := whatsapp.Outbound{To: phone, Content: &whatsapp.Template{Name: "welcome_back", Language: "en_US"}}
	send := func(msg whatsapp.Outbound) error {
		t.Helper()
		_, err := e.bot.client.Send(ctx, testPhoneID, msg)
		return err
	}
	wantCode := func(err error, code int) {
		t.Helper()
		var apiErr *whatsapp.APIError
		if !errors.As(err, &apiErr) || apiErr.Code != code || apiErr.HTTPStatus != http.StatusBadRequest {
			t.Fatalf("got %v, want API error %d", err, code)
		}
	}

	err := send(text)
	wantCode(err, 131047)
	if d := whatsapp.Classify(err); d.Action != whatsapp.ActionNeedTemplate {
		t.Errorf("Classify(131047) = %v, want need_template", d.Action)
	}
	if err := send(template); err != nil {
		t.Fatalf("template to a new number: %v", err)
	}
	u := e.sim.User("Emma", phone)
	if got := u.Transcript(); len(got) != 1 || got[0].Type() != "template" {
		t.Fatalf("the template did not reach the user: %+v", got)
	}
	if _, err := u.TapButton(ctx, "yes"); !errors.Is(err, simulator.ErrNoSuchChoice) {
		t.Errorf("tapping a quick reply the template lacks: %v", err)
	}

	if _, err := u.SendText(ctx, "hello"); err != nil {
		t.Fatal(err)
	}
	if err := send(text); err != nil {
		t.Fatalf("inside the window: %v", err)
	}
	clk.Add(24 * time.Hour)
	if err := send(text); err != nil {
		t.Fatalf("exactly 24 h later: %v", err)
	}
	clk.Add(time.Second)
	wantCode(send(text), 131047)
	if err := send(template); err != nil {
		t.Fatalf("template outside the window: %v", err)
	}
}

// A template's quick reply comes back as a button {payload, text} with
// context, and opens the window.
func TestTemplateQuickReply(t *testing.T) {
	t.Parallel()
	e := setup(t, simulator.Options{}, true)
	ctx := testContext(t)
	u := e.sim.User("Deniz", "905059998877")
	_, err := e.bot.client.Send(ctx, testPhoneID, whatsapp.Outbound{To: u.Phone(), Content: &whatsapp.Template{
		Name: "appointment_reminder", Language: "tr",
		Components: []whatsapp.Component{
			{Type: whatsapp.ComponentBody, Parameters: []whatsapp.Parameter{whatsapp.TextParam("yarın 10:00")}},
			{Type: whatsapp.ComponentButton, SubType: "quick_reply", Index: 0, Parameters: []whatsapp.Parameter{whatsapp.PayloadParam("confirm")}},
			{Type: whatsapp.ComponentButton, SubType: "quick_reply", Index: 1, Parameters: []whatsapp.Parameter{whatsapp.PayloadParam("cancel")}},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := u.WaitFor(ctx, simulator.Message.FromBusiness)
	if err != nil {
		t.Fatal(err)
	}
	tap, err := u.TapButton(ctx, "cancel")
	if err != nil {
		t.Fatal(err)
	}
	in := e.bot.inboundByID(t, tap.ID)
	if in.Type != whatsapp.TypeButton || in.ReplyID != "cancel" || in.Text != "cancel" || in.Context == nil || in.Context.ID != tmpl.ID {
		t.Errorf("quick reply arrived as %+v", in)
	}
	reply, err := u.NextReply(ctx, tap)
	if err != nil {
		t.Fatal(err)
	}
	if reply.Text() != "Noted: cancel" {
		t.Errorf("reply %q: the window did not open", reply.Text())
	}
}

// Sends beyond the number's throughput fail with 130429 until the bucket
// refills; 0 means unlimited.
func TestThroughput(t *testing.T) {
	t.Parallel()
	t.Run("limited", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		e := setup(t, simulator.Options{RatePerSecond: 2, Now: clk.Now}, false)
		ctx := testContext(t)
		u := e.sim.User("Ali", "905551110000")
		if _, err := u.SendText(ctx, "hi"); err != nil {
			t.Fatal(err)
		}
		msg := whatsapp.Outbound{To: u.Phone(), Content: &whatsapp.Text{Body: "answer"}}
		for i := range 2 {
			if _, err := e.bot.client.Send(ctx, testPhoneID, msg); err != nil {
				t.Fatalf("send %d within the burst: %v", i, err)
			}
		}
		_, err := e.bot.client.Send(ctx, testPhoneID, msg)
		var apiErr *whatsapp.APIError
		if !errors.As(err, &apiErr) || apiErr.Code != 130429 {
			t.Fatalf("third send: %v, want 130429", err)
		}
		if d := whatsapp.Classify(err); d.Action != whatsapp.ActionBackOff || d.Scope != whatsapp.ScopeNumber {
			t.Errorf("Classify(130429) = %+v, want back off the number", d)
		}
		clk.Add(500 * time.Millisecond)
		if _, err := e.bot.client.Send(ctx, testPhoneID, msg); err != nil {
			t.Fatalf("after half a second at 2/s: %v", err)
		}
	})
	t.Run("unlimited", func(t *testing.T) {
		t.Parallel()
		e := setup(t, simulator.Options{RatePerSecond: 0, Now: newClock().Now}, false)
		ctx := testContext(t)
		u := e.sim.User("Ali", "905551110000")
		if _, err := u.SendText(ctx, "hi"); err != nil {
			t.Fatal(err)
		}
		for i := range 300 {
			if _, err := e.bot.client.Send(ctx, testPhoneID, whatsapp.Outbound{To: u.Phone(), Content: &whatsapp.Text{Body: "n" + strconv.Itoa(i)}}); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
		}
	})
}

// A webhook that yanit refuses is retried with the same signed body; one
// never accepted is reported to the caller and shown on the message.
func TestWebhookRetries(t *testing.T) {
	t.Parallel()
	e := setup(t, simulator.Options{}, false)
	simulator.SetRetry(e.sim, 3, 10*time.Millisecond)
	ctx := testContext(t)
	u := e.sim.User("Efe", "905000000001")

	e.bot.reject.Store(2)
	m, err := u.SendText(ctx, "third time lucky")
	if err != nil {
		t.Fatalf("after two refusals: %v", err)
	}
	e.bot.mu.Lock()
	attempts := e.bot.attempts
	e.bot.mu.Unlock()
	if attempts != 3 || !m.Delivered {
		t.Errorf("%d attempts, delivered %v; want 3, true", attempts, m.Delivered)
	}

	e.bot.reject.Store(3)
	m, err = u.SendText(ctx, "never")
	var de *simulator.DeliveryError
	if !errors.As(err, &de) || de.Attempts != 3 || de.StatusCode != http.StatusInternalServerError {
		t.Fatalf("got %v, want a DeliveryError after 3 attempts", err)
	}
	if m.Delivered || m.Error == "" {
		t.Errorf("message %+v, want it marked undelivered", m)
	}
}

// Webhooks escape non-ASCII text as Meta does; the signature covers those
// exact bytes.
func TestWebhookEncoding(t *testing.T) {
	t.Parallel()
	e := setup(t, simulator.Options{}, false)
	ctx := testContext(t)
	u := e.sim.User("Şule Öztürk", "905551234567")
	m, err := u.SendText(ctx, "Çok teşekkürler 🙏 <3")
	if err != nil {
		t.Fatal(err)
	}
	in := e.bot.inboundByID(t, m.ID)
	if in.Text != "Çok teşekkürler 🙏 <3" || in.ProfileName != "Şule Öztürk" {
		t.Errorf("decoded %q from %q", in.Text, in.ProfileName)
	}
	e.bot.mu.Lock()
	body := string(e.bot.bodies[len(e.bot.bodies)-1])
	e.bot.mu.Unlock()
	for _, want := range []string{`\u00c7ok te\u015fekk\u00fcrler \ud83d\ude4f <3`, `"timestamp":"`, `"object":"whatsapp_business_account"`} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %s:\n%s", want, body)
		}
	}
	for _, r := range body {
		if r > 0x7f {
			t.Fatalf("body has a raw non-ASCII character %q", r)
		}
	}
}

// The page's JSON API and event stream: pick a user, send, tap, report
// what was displayed; a watched chat is read only when displayed.
func TestPageAPI(t *testing.T) {
	t.Parallel()
	e := setup(t, simulator.Options{}, true)
	ctx := testContext(t)

	var info struct{ Phone, Name string }
	if code := apiCall(t, e.srv, "POST", "/sim/api/users", map[string]string{"name": "Zeynep", "phone": "+90 532 000 00 02"}, &info); code != 200 {
		t.Fatalf("creating a user: http %d", code)
	}
	if info.Phone != "905320000002" || info.Name != "Zeynep" {
		t.Errorf("created %+v", info)
	}
	for _, bad := range []map[string]string{{"name": "X", "phone": "12ab"}, {"name": "", "phone": "905320000003"}} {
		if code := apiCall(t, e.srv, "POST", "/sim/api/users", bad, nil); code != 400 {
			t.Errorf("creating %v: http %d, want 400", bad, code)
		}
	}

	events := openEvents(t, ctx, e.srv, info.Phone)
	events.next(t, "users")
	events.next(t, "reset")
	events.next(t, "typing")

	base := "/sim/api/users/" + info.Phone + "/messages"
	var sent simulator.Message
	if code := apiCall(t, e.srv, "POST", base, map[string]string{"type": "text", "text": "hi\nthere"}, &sent); code != http.StatusAccepted {
		t.Fatalf("sending text: http %d", code)
	}
	if sent.Inbound == nil || sent.Inbound.Text.Body != "hi\nthere" {
		t.Fatalf("answer %+v", sent)
	}
	u := e.sim.User("", info.Phone)
	buttons, err := u.NextReply(ctx, sent)
	if err != nil {
		t.Fatal(err)
	}
	// The stream carries the reply in the request's own JSON.
	var ev struct {
		ID      string           `json:"id"`
		Request wire.SendRequest `json:"request"`
	}
	events.until(t, "message", func(data []byte) bool {
		return json.Unmarshal(data, &ev) == nil && ev.ID == buttons.ID && ev.Request.Interactive != nil
	})
	if got := ev.Request.Interactive.Action.Buttons[0].Reply.Title; got != "My orders" {
		t.Errorf("event carries button %q", got)
	}

	// With this page watching, the reply is delivered but not read until
	// the page reports it displayed.
	if _, err := u.WaitFor(ctx, func(m simulator.Message) bool { return m.ID == buttons.ID && m.Status == whatsapp.StatusDelivered }); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // ten status delays: a wrongly automatic read would be there
	if got := transcriptByID(u, buttons.ID).Status; got != whatsapp.StatusDelivered {
		t.Fatalf("status %s before the page displayed it, want delivered", got)
	}
	if code := apiCall(t, e.srv, "POST", "/sim/api/users/"+info.Phone+"/seen", map[string][]string{"ids": {buttons.ID}}, nil); code != http.StatusNoContent {
		t.Fatalf("seen: http %d", code)
	}
	if sts := e.bot.statusesOf(t, buttons.ID, 3); sts[2].Status != whatsapp.StatusRead {
		t.Errorf("third status %s, want read", sts[2].Status)
	}

	tap := map[string]string{"type": "button_reply", "context_id": buttons.ID, "id": "human"}
	var tapped simulator.Message
	if code := apiCall(t, e.srv, "POST", base, tap, &tapped); code != http.StatusAccepted {
		t.Fatalf("tap: http %d", code)
	}
	if in := e.bot.inboundByID(t, tapped.ID); in.ReplyID != "human" || in.Context == nil || in.Context.ID != buttons.ID {
		t.Errorf("tap arrived as %+v", in)
	}
	// The bot answers the tap; the test ends only after that answer, which
	// the simulator closing would otherwise cut off.
	if reply, err := u.NextReply(ctx, tapped); err != nil {
		t.Fatal(err)
	} else if reply.Outbound == nil || !strings.Contains(whatsapp.Summary(reply.Outbound.Content), "person") {
		t.Errorf("answer to the tap: %+v", reply)
	}
	if code := apiCall(t, e.srv, "POST", base, tap, nil); code != http.StatusConflict {
		t.Errorf("second tap: http %d, want 409", code)
	}
	if code := apiCall(t, e.srv, "POST", base, map[string]string{"type": "list_reply", "context_id": buttons.ID, "id": "o-1"}, nil); code != http.StatusNotFound {
		t.Errorf("row of a buttons message: http %d, want 404", code)
	}
	if code := apiCall(t, e.srv, "POST", base, map[string]string{"type": "sticker"}, nil); code != http.StatusBadRequest {
		t.Errorf("unknown action: http %d, want 400", code)
	}

	var transcript []simulator.Message
	if code := apiCall(t, e.srv, "GET", base, nil, &transcript); code != 200 || len(transcript) < 3 {
		t.Fatalf("transcript: http %d, %d messages", code, len(transcript))
	}
	if code := apiCall(t, e.srv, "GET", "/sim/api/users/441234/messages", nil, nil); code != http.StatusNotFound {
		t.Errorf("unknown user: http %d, want 404", code)
	}
}

// events reads a Server-Sent Events stream.
type events struct {
	ch chan sse
}

type sse struct {
	name string
	data []byte
}

func openEvents(t *testing.T, ctx context.Context, srv *httptest.Server, phone string) *events {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/sim/api/events?phone="+phone, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: http %d, %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ev := &events{ch: make(chan sse, 1024)}
	go func() {
		defer resp.Body.Close()
		defer close(ev.ch)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		var cur sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if cur.name != "" {
					ev.ch <- cur
				}
				cur = sse{}
			case strings.HasPrefix(line, "event: "):
				cur.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				cur.data = []byte(strings.TrimPrefix(line, "data: "))
			}
		}
	}()
	return ev
}

// next returns the next event, which must be called name.
func (e *events) next(t *testing.T, name string) []byte {
	t.Helper()
	select {
	case ev, ok := <-e.ch:
		if !ok || ev.name != name {
			t.Fatalf("next event %q (open %v), want %q", ev.name, ok, name)
		}
		return ev.data
	case <-time.After(10 * time.Second):
		t.Fatalf("no %q event", name)
	}
	return nil
}

// until skips events until one called name satisfies match.
func (e *events) until(t *testing.T, name string, match func([]byte) bool) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-e.ch:
			if !ok {
				t.Fatalf("stream ended before the %q event", name)
			}
			if ev.name == name && match(ev.data) {
				return
			}
		case <-timeout:
			t.Fatalf("no matching %q event", name)
		}
	}
}

// The mount documented for yanit works: gin routes every /sim path to the
// simulator, including the event stream.
func TestMountOnGin(t *testing.T) {
	t.Parallel()
	gin.SetMode(gin.TestMode)
	b := newBot(false)
	botSrv := httptest.NewServer(b)
	t.Cleanup(botSrv.Close)
	sim, err := simulator.New(simulator.Options{
		AppSecret: testSecret, AccessToken: testToken, PhoneNumberID: testPhoneID,
		WebhookURL: botSrv.URL, StatusDelay: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	h := sim.Routes()
	r.Any("/sim", gin.WrapH(h))
	r.Any("/sim/*path", gin.WrapH(h))
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = sim.Close() })

	for path, want := range map[string]string{
		"/sim":                "/sim/static/sim.js",
		"/sim/":               "/sim/static/sim.js",
		"/sim/static/sim.js":  "EventSource",
		"/sim/static/sim.css": "--teal",
		"/sim/api/users":      "[]",
	} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: http %d, body without %q", path, resp.StatusCode, want)
		}
	}

	ctx := testContext(t)
	ev := openEvents(t, ctx, srv, "905550000000")
	ev.next(t, "users")
	ev.next(t, "reset")

	u := sim.User("Gin", "905550000000")
	if _, err := u.SendText(ctx, "hi"); err != nil {
		t.Fatal(err)
	}
	client := &whatsapp.Client{BaseURL: simulator.GraphURL(srv.URL), Token: testToken, HTTPClient: srv.Client()}
	id, err := client.Send(ctx, testPhoneID, whatsapp.Outbound{To: u.Phone(), Content: &whatsapp.Text{Body: "through gin"}})
	if err != nil {
		t.Fatal(err)
	}
	ev.until(t, "message", func(data []byte) bool { return strings.Contains(string(data), id) })
}

// Close ends everything: the Graph API answers 503, users' actions fail,
// and it may be called again.
func TestClose(t *testing.T) {
	t.Parallel()
	e := setup(t, simulator.Options{}, false)
	ctx := testContext(t)
	u := e.sim.User("Eda", "905551119999")
	if _, err := u.SendText(ctx, "hi"); err != nil {
		t.Fatal(err)
	}
	ev := openEvents(t, ctx, e.srv, u.Phone())
	if err := e.sim.Close(); err != nil {
		t.Fatal(err)
	}
	for range ev.ch { // the stream ends
	}
	if _, err := u.SendText(ctx, "anyone?"); !errors.Is(err, simulator.ErrClosed) {
		t.Errorf("SendText after Close: %v", err)
	}
	if _, err := u.WaitFor(ctx, func(simulator.Message) bool { return false }); !errors.Is(err, simulator.ErrClosed) {
		t.Errorf("WaitFor after Close: %v", err)
	}
	status, ge := graphCall(t, e.srv, testToken, "/sim/graph/v24.0/"+testPhoneID+"/messages", `{}`)
	if status != http.StatusServiceUnavailable || *ge.Code != 2 {
		t.Errorf("Graph API after Close: http %d, %+v", status, ge)
	}
	if err := e.sim.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestNewChecksOptions(t *testing.T) {
	t.Parallel()
	valid := simulator.Options{AppSecret: "s", AccessToken: "t", PhoneNumberID: "1", WebhookURL: "http://localhost:8080/webhooks/whatsapp"}
	tests := []struct {
		name   string
		modify func(*simulator.Options)
		want   string
	}{
		{"no secret", func(o *simulator.Options) { o.AppSecret = "" }, "AppSecret"},
		{"no token", func(o *simulator.Options) { o.AccessToken = "" }, "AccessToken"},
		{"no webhook", func(o *simulator.Options) { o.WebhookURL = "" }, "WebhookURL"},
		{"relative webhook", func(o *simulator.Options) { o.WebhookURL = "/webhooks" }, "WebhookURL"},
		{"phone id", func(o *simulator.Options) { o.PhoneNumberID = "abc" }, "PhoneNumberID"},
		{"display phone", func(o *simulator.Options) { o.DisplayPhone = "+1 555" }, "DisplayPhone"},
		{"negative rate", func(o *simulator.Options) { o.RatePerSecond = -1 }, "RatePerSecond"},
		{"negative status batch", func(o *simulator.Options) { o.StatusBatch = -1 }, "StatusBatch"},
		{"negative status linger", func(o *simulator.Options) { o.StatusBatch, o.StatusLinger = 10, -time.Millisecond }, "StatusLinger"},
	}
	for _, tt := range tests {
		opts := valid
		tt.modify(&opts)
		if _, err := simulator.New(opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error naming %s", tt.name, err, tt.want)
		}
	}
	sim, err := simulator.New(valid)
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	if _, err := sim.User("x", "12ab").SendText(t.Context(), "hi"); !errors.Is(err, simulator.ErrInvalidPhone) {
		t.Errorf("user with a bad number: %v", err)
	}
}

// With ReadOnlyOnDisplay nothing is read until the user reads: ReadAll
// reports every delivered message read.
func TestReadOnlyOnDisplay(t *testing.T) {
	t.Parallel()
	e := setup(t, simulator.Options{Read: simulator.ReadOnlyOnDisplay}, false)
	ctx := testContext(t)
	u := e.sim.User("Mert", "905551117777")
	if _, err := u.SendText(ctx, "hi"); err != nil {
		t.Fatal(err)
	}
	id, err := e.bot.client.Send(ctx, testPhoneID, whatsapp.Outbound{To: u.Phone(), Content: &whatsapp.Text{Body: "unread"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.WaitFor(ctx, func(m simulator.Message) bool { return m.ID == id && m.Status == whatsapp.StatusDelivered }); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // ten status delays: a wrongly automatic read would be there
	if got := transcriptByID(u, id).Status; got != whatsapp.StatusDelivered {
		t.Fatalf("status %s before the user read, want delivered", got)
	}
	u.ReadAll()
	if sts := e.bot.statusesOf(t, id, 3); sts[2].Status != whatsapp.StatusRead {
		t.Errorf("statuses %+v, want read last", sts)
	}
}

// Typing shows for 25 s at most without a reply.
func TestTypingExpires(t *testing.T) {
	t.Parallel()
	clk := newClock()
	e := setup(t, simulator.Options{Now: clk.Now}, false)
	ctx := testContext(t)
	u := e.sim.User("Nil", "905551118888")
	m, err := u.SendText(ctx, "hi")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.bot.client.MarkRead(ctx, testPhoneID, m.ID, true); err != nil {
		t.Fatal(err)
	}
	if !u.Typing() || !transcriptByID(u, m.ID).Read {
		t.Fatalf("after mark-read with typing: typing %v, read %v", u.Typing(), transcriptByID(u, m.ID).Read)
	}
	clk.Add(26 * time.Second)
	if u.Typing() {
		t.Error("typing still shown after 26 s")
	}
}

// Send delivers any webhook message shape, filling in id, sender and time.
func TestSendAnyMessage(t *testing.T) {
	t.Parallel()
	e := setup(t, simulator.Options{}, false)
	ctx := testContext(t)
	u := e.sim.User("Ece", "905551116666")
	m, err := u.Send(ctx, wire.Message{Type: whatsapp.TypeImage, Image: &wire.Media{
		ID: "1479537139650973", MimeType: "image/jpeg", SHA256: "abc", Caption: "kırık ürün",
	}})
	if err != nil {
		t.Fatal(err)
	}
	in := e.bot.inboundByID(t, m.ID)
	if in.Type != whatsapp.TypeImage || in.Media == nil || in.Media.ID != "1479537139650973" || in.Text != "kırık ürün" || in.WaID != u.Phone() {
		t.Errorf("image arrived as %+v", in)
	}
	if m.Text() != "kırık ürün" || m.Type() != "image" {
		t.Errorf("transcript message %q of type %s", m.Text(), m.Type())
	}
	if _, err := u.Send(ctx, wire.Message{}); err == nil {
		t.Error("a message without a type was sent")
	}
}
