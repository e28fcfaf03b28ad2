package assistant_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/tools"
	"github.com/yanit/yanit/tools/demo"
)

func TestDemoUnderstandsBothLanguages(t *testing.T) {
	e := demoEngine(t)
	cases := []struct {
		text, intent, decision, lang, contains string
	}{
		{"Merhaba", "greeting", assistant.DecisionAnswer, "tr", "Yanıt"},
		{"hi there", "greeting", assistant.DecisionAnswer, "en", "assistant"},
		{"çok teşekkürler", "thanks", assistant.DecisionAnswer, "tr", ""},
		{"SP-2026-0001 numaralı siparişim nerede?", "order_status", assistant.DecisionTool, "tr", "Kargoya verildi"},
		{"where is my order SP-2026-0001", "order_status", assistant.DecisionTool, "en", "Shipped"},
		{"kart puanım ne kadar", "card_balance", assistant.DecisionTool, "tr", "1234"},
		{"mağaza kaçta açılıyor", "store_hours", assistant.DecisionAnswer, "tr", "Kaynak: Mağazalarımız"},
		{"what are your opening hours", "store_hours", assistant.DecisionAnswer, "en", "Source: Our stores"},
		{"how much is shipping", "delivery_info", assistant.DecisionAnswer, "en", "500 TL"},
		{"ürünü iade etmek istiyorum kaç gün içinde", "returns_policy", assistant.DecisionAnswer, "tr", "30 gün"},
	}
	for _, c := range cases {
		rep := newChat(t, e).say(c.text)
		var tr assistant.Trace
		if err := json.Unmarshal(rep.Trace, &tr); err != nil {
			t.Fatal(err)
		}
		if rep.Intent != c.intent || rep.Decision != c.decision || tr.Language != c.lang || !strings.Contains(text(rep), c.contains) {
			t.Errorf("%q: intent %s (%.2f) %s [%s]: %q; want %s %s [%s] containing %q",
				c.text, rep.Intent, rep.Confidence, rep.Decision, tr.Language, text(rep), c.intent, c.decision, c.lang, c.contains)
		}
	}
}

func TestSlotFillingAcrossTurns(t *testing.T) {
	c := newChat(t, demoEngine(t))
	if rep := c.say("siparişim nerede"); rep.Decision != assistant.DecisionAsk || !strings.Contains(text(rep), "Sipariş numaranızı") {
		t.Fatalf("no order number: %s %q, want the question for it", rep.Decision, text(rep))
	}
	if c.state().Task == nil || c.state().Task.Awaiting != "order_id" {
		t.Fatalf("state %+v, want a task awaiting order_id", c.state())
	}
	rep := c.say("SP-2026-0002")
	if rep.Decision != assistant.DecisionTool || !strings.Contains(text(rep), "Hazırlanıyor") {
		t.Fatalf("the answer to the question: %s %q, want the order's status", rep.Decision, text(rep))
	}
	var tr assistant.Trace
	json.Unmarshal(rep.Trace, &tr)
	if len(tr.Tools) != 1 || tr.Tools[0].Name != "order_status" || tr.Tools[0].Status != "ok" || tr.Slots["order_id"] != "SP-2026-0002" {
		t.Errorf("trace %+v, want one ok order_status call with the slot", tr)
	}
	// A follow-up about another order keeps the intent and asks again.
	if rep := c.say("ve diğer siparişim?"); rep.Intent != "order_status" || rep.Decision != assistant.DecisionAsk {
		t.Errorf("follow-up: %s %s %q, want order_status asking for the number", rep.Intent, rep.Decision, text(rep))
	}
	if rep := c.say("SP-2026-0003"); !strings.Contains(text(rep), "Teslim edildi") {
		t.Errorf("second order: %q", text(rep))
	}
	// A bare order number after an order question carries on too.
	if rep := c.say("SP-2026-0004"); rep.Intent != "order_status" || rep.Decision != assistant.DecisionTool {
		t.Errorf("bare number after the order intent: %s %s %q", rep.Intent, rep.Decision, text(rep))
	}
}

func TestAskingTwiceWithoutAnAnswerHandsOff(t *testing.T) {
	c := newChat(t, demoEngine(t))
	c.say("siparişim nerede")
	if rep := c.say("bilmiyorum ki"); rep.Decision != assistant.DecisionAsk {
		t.Fatalf("first unanswered question: %s, want ask again", rep.Decision)
	}
	rep := c.say("hatırlamıyorum")
	if rep.Decision != assistant.DecisionHandoff || rep.Handoff.Reason != assistant.ReasonSlotUnanswered {
		t.Fatalf("second unanswered question: %s %+v, want a handoff for the slot", rep.Decision, rep.Handoff)
	}
}

func TestToolNotFoundTellsTheUser(t *testing.T) {
	rep := newChat(t, demoEngine(t)).say("where is my order SP-2026-9999")
	if rep.Decision != assistant.DecisionTool || !strings.Contains(text(rep), "SP-2026-9999") || rep.Handoff != nil {
		t.Fatalf("unknown order: %s %q, want the not-found answer naming it", rep.Decision, text(rep))
	}
}

func TestStateChangingToolAsksFirst(t *testing.T) {
	e, err := buildDemo(t, assistant.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	c := newChat(t, e)
	rep := c.say("RDV-1003 numaralı randevumu iptal etmek istiyorum")
	if rep.Decision != assistant.DecisionConfirm || !slices.Equal(buttons(rep), []string{assistant.ConfirmYes, assistant.ConfirmNo}) || !strings.Contains(text(rep), "RDV-1003") {
		t.Fatalf("cancel: %s %v %q, want yes/no buttons naming the appointment", rep.Decision, buttons(rep), text(rep))
	}
	// No: nothing changes.
	if rep := c.tap(assistant.ConfirmNo, "Hayır"); rep.Decision != assistant.DecisionAnswer || len(c.state().Tools) != 0 {
		t.Fatalf("declined: %s, tools %v; want no call", rep.Decision, c.state().Tools)
	}
	// Again, and yes in words.
	c.say("RDV-1003 iptal")
	rep = c.say("evet")
	if rep.Decision != assistant.DecisionTool || !strings.Contains(text(rep), "RDV-1003") {
		t.Fatalf("confirmed: %s %q, want the cancellation", rep.Decision, text(rep))
	}
	// A stale confirmation button does nothing.
	if rep := c.tap(assistant.ConfirmYes, "Evet"); len(c.state().Tools) != 1 || rep.Decision == assistant.DecisionTool {
		t.Fatalf("stale yes: %s, tools %d; want no second call", rep.Decision, len(c.state().Tools))
	}
}

func TestBookingFillsDateAndTimeThenConfirms(t *testing.T) {
	e, err := buildDemo(t, assistant.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	c := newChat(t, e)
	if rep := c.say("servis randevusu almak istiyorum"); rep.Decision != assistant.DecisionAsk || c.state().Task.Awaiting != "date" {
		t.Fatalf("booking: %s awaiting %+v, want the date question", rep.Decision, c.state().Task)
	}
	if rep := c.say("yarın"); rep.Decision != assistant.DecisionAsk || c.state().Task.Awaiting != "time" {
		t.Fatalf("after the date: %s %+v, want the time question", rep.Decision, c.state().Task)
	}
	// 14:00 tomorrow is full in the demo data: the tool refuses the time
	// and the assistant asks for another.
	if rep := c.say("14:00"); rep.Decision != assistant.DecisionConfirm || !strings.Contains(text(rep), "2026-03-11") {
		t.Fatalf("after the time: %s %q, want the confirmation with the date", rep.Decision, text(rep))
	}
	if rep := c.tap(assistant.ConfirmYes, "Evet"); rep.Decision != assistant.DecisionAsk || c.state().Task.Awaiting != "time" {
		t.Fatalf("full slot: %s %q, want the time asked again", rep.Decision, text(rep))
	}
	c.say("15:30")
	rep := c.tap(assistant.ConfirmYes, "Evet")
	if rep.Decision != assistant.DecisionTool || !strings.Contains(text(rep), "RDV-1006") {
		t.Fatalf("booked: %s %q, want the new appointment number", rep.Decision, text(rep))
	}
}

func TestUnclearMessageClarifiesOnceThenHandsOff(t *testing.T) {
	c := newChat(t, demoEngine(t))
	rep := c.say("bugün hava çok güzel ama")
	if rep.Decision != assistant.DecisionFallback && rep.Decision != assistant.DecisionClarify {
		t.Fatalf("off-topic: %s %q, want a fallback or a clarifying question", rep.Decision, text(rep))
	}
	rep = c.say("kargo")
	if rep.Decision == assistant.DecisionClarify {
		if len(buttons(rep)) == 0 || len(buttons(rep)) > 3 {
			t.Fatalf("clarify offers %v, want 1-3 intents as buttons", buttons(rep))
		}
	}
	// However it went, two more unclear messages end with a person.
	for i := 0; i < 3 && rep.Decision != assistant.DecisionHandoff; i++ {
		rep = c.say("xqzt vbnm")
	}
	if rep.Decision != assistant.DecisionHandoff || rep.Handoff == nil {
		t.Fatalf("unclear messages never handed off: %s", rep.Decision)
	}
	if r := rep.Handoff.Reason; r != assistant.ReasonUnclear && r != assistant.ReasonFallbacks {
		t.Errorf("handoff reason %q", r)
	}
}

func TestClarifyingButtonChoosesTheIntent(t *testing.T) {
	c := newChat(t, demoEngine(t))
	rep := c.tap("store_hours", "Mağaza saatleri")
	if rep.Intent != "store_hours" || rep.Decision != assistant.DecisionAnswer || rep.Confidence != 1 {
		t.Fatalf("tapped an intent: %s %.2f %s", rep.Intent, rep.Confidence, rep.Decision)
	}
}

func TestFallbacksInARowHandOff(t *testing.T) {
	c := newChat(t, demoEngine(t))
	var rep assistant.Reply
	for _, m := range []string{"hava nasıl", "dolar kaç lira oldu"} {
		rep = c.say(m)
	}
	if rep.Decision != assistant.DecisionHandoff || rep.Handoff.Reason != assistant.ReasonFallbacks {
		t.Fatalf("second fallback: %s %+v, want a handoff after max_fallbacks (2)", rep.Decision, rep.Handoff)
	}
}

func TestPersonRequestHandsOffInEitherLanguage(t *testing.T) {
	for _, m := range []string{"temsilci", "insanla görüşmek istiyorum", "agent please", "Can I talk to a real person?", "MÜŞTERİ TEMSİLCİSİ"} {
		c := newChat(t, demoEngine(t))
		c.say("merhaba")
		rep := c.say(m)
		if rep.Decision != assistant.DecisionHandoff || rep.Handoff == nil {
			t.Errorf("%q: %s %s, want a handoff", m, rep.Intent, rep.Decision)
			continue
		}
		if rep.Handoff.Reason != assistant.ReasonPersonRequested && rep.Handoff.Reason != assistant.ReasonAlways {
			t.Errorf("%q: reason %q", m, rep.Handoff.Reason)
		}
		// Silent from then on: a person owns the conversation.
		if rep := c.say("merhaba?"); rep.Decision != assistant.DecisionSilent {
			t.Errorf("after the handoff: %s, want silent", rep.Decision)
		}
	}
}

func TestComplaintAlwaysGoesToAPerson(t *testing.T) {
	c := newChat(t, demoEngine(t))
	c.say("SP-2026-0001 siparişim nerede")
	rep := c.say("rezalet bir hizmet, ürün kırık geldi, çok sinirliyim")
	if rep.Decision != assistant.DecisionHandoff || rep.Handoff.Reason != assistant.ReasonAlways || rep.Handoff.Team != "customer_care" {
		t.Fatalf("complaint: %s %+v, want handoff always to customer_care", rep.Decision, rep.Handoff)
	}
	h := rep.Handoff
	// The context pack holds everything the bot knew.
	if len(h.Transcript) < 3 || h.Contact.WaID != "905321234567" || len(h.History) < 2 || len(h.Tools) != 1 || h.Summary == "" {
		t.Errorf("context pack: transcript %d, contact %+v, history %d, tools %d, summary %q",
			len(h.Transcript), h.Contact, len(h.History), len(h.Tools), h.Summary)
	}
	if !strings.Contains(h.Summary, "order_status") || !strings.Contains(h.Summary, "kırık") {
		t.Errorf("summary %q, want the intents and the last words", h.Summary)
	}
	// The state after a handoff starts clean: no task, no fallbacks.
	if st := assistant.ParseState(rep.State); st.Task != nil || st.Fallbacks != 0 || st.Handoff == nil {
		t.Errorf("state after handoff %+v", st)
	}
}

func TestUnreadableMessagesGetAPoliteReply(t *testing.T) {
	for _, typ := range []string{"image", "sticker", "location", "unsupported", "hologram"} {
		rep := newChat(t, demoEngine(t)).send(storeMessage(typ))
		if rep.Decision != assistant.DecisionUnsupported || !strings.Contains(text(rep), "yazılı") {
			t.Errorf("%s: %s %q, want the polite text-only reply", typ, rep.Decision, text(rep))
		}
	}
}

func TestMenuKeywordShowsTheList(t *testing.T) {
	rep := newChat(t, demoEngine(t)).say("MENÜ")
	if rep.Intent != "menu" || len(buttons(rep)) != 8 {
		t.Fatalf("menü: %s %v", rep.Intent, buttons(rep))
	}
	rep = newChat(t, demoEngine(t)).say("menu please")
	if !strings.Contains(text(rep), "How can I help") {
		t.Errorf("menu in English: %q", text(rep))
	}
}

func TestKnowledgeWithoutSupportOffersAPerson(t *testing.T) {
	e, err := buildDemo(t, assistant.Deps{Knowledge: emptySearch{}})
	if err != nil {
		t.Fatal(err)
	}
	rep := newChat(t, e).say("mağaza kaçta açılıyor")
	if rep.Decision != assistant.DecisionFallback || !slices.Contains(buttons(rep), "human_agent") {
		t.Fatalf("no passages: %s %q %v, want no answer with a person button", rep.Decision, text(rep), buttons(rep))
	}
}

func TestToolFailureApologisesAndHandsOffWithTheError(t *testing.T) {
	reg := tools.NewRegistry()
	reg.SetRetry(2, time.Millisecond)
	for _, tl := range []tools.Tool{broken{"order_status", `{"type":"object","required":["order_id"],"properties":{"order_id":{"type":"string"}}}`},
		broken{"card_balance", `{"type":"object","properties":{"phone":{"type":"string"}}}`},
		broken{"book_appointment", `{"type":"object","properties":{"date":{"type":"string"},"time":{"type":"string"},"phone":{"type":"string"}}}`},
		broken{"cancel_appointment", `{"type":"object","properties":{"appointment_id":{"type":"string"}}}`}} {
		reg.MustRegister(tl)
	}
	e, err := buildDemo(t, assistant.Deps{Tools: reg})
	if err != nil {
		t.Fatal(err)
	}
	rep := newChat(t, e).say("SP-2026-0001 siparişim nerede")
	if rep.Decision != assistant.DecisionHandoff || rep.Handoff.Reason != assistant.ReasonToolFailed {
		t.Fatalf("broken tool: %s %+v", rep.Decision, rep.Handoff)
	}
	if len(rep.Messages) != 2 || !strings.Contains(text(rep), "ulaşamıyorum") {
		t.Errorf("messages %q, want the apology then the handoff notice", text(rep))
	}
	if tl := rep.Handoff.Tools; len(tl) != 1 || tl[0].Status != "unavailable" || tl[0].Attempts != 3 || !strings.Contains(tl[0].Error, "backend down") {
		t.Errorf("handoff tools %+v, want the failed call with its attempts and error", tl)
	}
}

func TestNewEngineNamesMissingCollaborators(t *testing.T) {
	def, mem := demoParts(t)
	if _, err := assistant.NewEngine(def, assistant.Deps{Knowledge: mem}); err == nil || !strings.Contains(err.Error(), "order_status") {
		t.Errorf("no tools: %v", err)
	}
	if _, err := assistant.NewEngine(def, assistant.Deps{Tools: toolsOf(t)}); err == nil || !strings.Contains(err.Error(), "knowledge") {
		t.Errorf("no knowledge: %v", err)
	}
}

func TestTheEngineIsDeterministicAndSafeForConcurrentUse(t *testing.T) {
	e := demoEngine(t)
	msgs := []string{"merhaba", "siparişim nerede", "how much is shipping", "kart puanım", "hava nasıl"}
	want := make([]assistant.Reply, len(msgs))
	for i, m := range msgs {
		want[i] = newChat(t, e).say(m)
	}
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			for i, m := range msgs {
				got := newChat(t, e).say(m)
				if got.Intent != want[i].Intent || got.Confidence != want[i].Confidence || text(got) != text(want[i]) {
					errs <- errors.New(m + ": a different answer under concurrency")
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// broken is a tool whose backend is down.
type broken struct{ name, schema string }

func (b broken) Spec() tools.Spec {
	return tools.Spec{Name: b.name, Description: map[string]string{"en": "down"}, Parameters: json.RawMessage(b.schema), Idempotent: true}
}

func (b broken) Call(context.Context, json.RawMessage) (tools.Result, error) {
	return tools.Result{}, errors.New("backend down")
}

type emptySearch struct{}

func (emptySearch) Search(context.Context, knowledge.Query) ([]knowledge.Hit, error) { return nil, nil }

func storeMessage(typ string) store.Message { return store.Message{Type: typ, Body: "Merhaba"} }

// toolsOf is a registry with the demo tools.
func toolsOf(t testing.TB) *tools.Registry {
	reg := tools.NewRegistry()
	if err := demo.Register(reg, demo.New(clock)); err != nil {
		t.Fatal(err)
	}
	return reg
}

// consentGate stands in for the privacy issue's consent gate: it answers
// every message of a contact who has not consented, in their language.
type consentGate struct{ calls *int }

func (g consentGate) Gate(_ context.Context, in assistant.Input, lang string) (*assistant.Reply, error) {
	*g.calls++
	if in.Contact.Name == "consented" {
		return nil, nil
	}
	return &assistant.Reply{Messages: nil, Reason: "consent needed (" + lang + ")"}, nil
}

func TestGatesRunFirstAndCanEndTheTurn(t *testing.T) {
	calls := 0
	e, err := buildDemo(t, assistant.Deps{Gates: []assistant.Gate{consentGate{&calls}}})
	if err != nil {
		t.Fatal(err)
	}
	c := newChat(t, e)
	// Even a request for a person stops at the gate.
	rep := c.say("temsilci")
	if rep.Decision != assistant.DecisionGate || rep.Reason != "consent needed (tr)" || rep.Handoff != nil || calls != 1 {
		t.Fatalf("gated: %s %q handoff %v, calls %d; want the gate's answer", rep.Decision, rep.Reason, rep.Handoff, calls)
	}
	c.contact.Name = "consented"
	if rep := c.say("merhaba"); rep.Intent != "greeting" || calls != 2 {
		t.Fatalf("past the gate: %s, calls %d", rep.Intent, calls)
	}
}

// backendFields is the demo's order_status tool with fields added to its
// result, as an integrator's backend might return them.
type backendFields struct {
	tools.Tool
	user map[string]any
}

func (b backendFields) Call(ctx context.Context, args json.RawMessage) (tools.Result, error) {
	res, err := b.Tool.Call(ctx, args)
	if err == nil {
		maps.Copy(res.User, b.user)
	}
	return res, err
}

// orderChat is a chat with the demo whose order_status result carries
// user as well.
func orderChat(t *testing.T, user map[string]any) *chat {
	t.Helper()
	reg := toolsOf(t)
	orders, _ := reg.Get("order_status")
	if err := reg.Replace([]string{"order_status"}, []tools.Tool{backendFields{orders, user}}); err != nil {
		t.Fatal(err)
	}
	e, err := buildDemo(t, assistant.Deps{Tools: reg})
	if err != nil {
		t.Fatal(err)
	}
	return newChat(t, e)
}

func TestTraceRedactsAnIdentityNumberABackendReturnsUnquoted(t *testing.T) {
	t.Parallel()
	const tckn = "10000000146"
	c := orderChat(t, map[string]any{"tckn": json.Number(tckn), "qty": json.Number("3"), "price": json.Number("149.90")})
	rep := c.say("SP-2026-0001 numaralı siparişim nerede?")
	if rep.Decision != assistant.DecisionTool {
		t.Fatalf("%s %q, want the order answered", rep.Decision, text(rep))
	}
	if strings.Contains(string(rep.Trace), tckn) {
		t.Errorf("the stored trace carries the identity number: %s", rep.Trace)
	}
	for _, want := range []string{`"tckn":"[TCKN_1]"`, `"qty":3,`, `"price":149.90,`} {
		if !strings.Contains(string(rep.Trace), want) {
			t.Errorf("the stored trace %s, want %s in it", rep.Trace, want)
		}
	}
	// The vault holds the identity number, and no ordinary number.
	if v := c.state().Vault.Values; len(v) != 1 || v["[TCKN_1]"] != tckn {
		t.Errorf("the conversation's vault holds %v, want only the identity number", v)
	}
}

func TestTraceNotesAResultItCannotRedact(t *testing.T) {
	t.Parallel()
	rep := orderChat(t, map[string]any{"score": math.NaN()}).say("SP-2026-0001 numaralı siparişim nerede?")
	var tr assistant.Trace
	if err := json.Unmarshal(rep.Trace, &tr); err != nil {
		t.Fatalf("stored trace %q: %v; want it kept", rep.Trace, err)
	}
	if tr.Intent != "order_status" || len(tr.Tools) != 1 || len(tr.Tools[0].User) != 1 ||
		!strings.Contains(fmt.Sprint(tr.Tools[0].User["unredactable"]), "not redacted") {
		t.Fatalf("stored trace %s, want the order's turn with a note in place of the tool's result", rep.Trace)
	}
}
