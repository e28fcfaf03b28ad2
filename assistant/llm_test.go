package assistant_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/configs"
	"github.com/yanit/yanit/llm"
	"github.com/yanit/yanit/llm/openai"
	"github.com/yanit/yanit/llm/openai/openaitest"
)

// The engine's three kinds of model request, told apart by their system
// prompt (prompts/templates/classify.tmpl and answer.tmpl, llmSummary).
const (
	classifyPrompt = "You route customer-service messages"
	answerPrompt   = "Answer the customer's question using only the numbered passages"
	summaryPrompt  = "Summarise this customer-service conversation"
	slotsPrompt    = "You fill in the arguments of the function"
)

var (
	llmOnce sync.Once
	llmBase *assistant.Engine
	llmErr  error
)

// noModel stands in for the model while the shared llm engine trains;
// every test replaces it with a client of its own fake server.
type noModel struct{}

func (noModel) Chat(context.Context, llm.ChatRequest) (llm.ChatResponse, error) {
	return llm.ChatResponse{}, errors.New("llm_test: the shared engine's model is replaced with With")
}

// llmEngine is the demo assistant with understanding.provider llm, its
// tools and knowledge, talking to f through a real openai.Client. The
// classifier is trained once per test binary.
func llmEngine(t testing.TB, f *openaitest.Server) *assistant.Engine {
	t.Helper()
	_, mem := demoParts(t)
	llmOnce.Do(func() {
		def, err := assistant.LoadDefinition(configs.DemoAssistant)
		if err != nil {
			llmErr = err
			return
		}
		def.Understanding.Provider = assistant.ProviderLLM
		llmBase, llmErr = assistant.NewEngine(def, assistant.Deps{Tools: toolsOf(t), Knowledge: mem, Chat: noModel{}, Now: clock})
	})
	if llmErr != nil {
		t.Fatalf("the llm demo engine: %v", llmErr)
	}
	client, err := openai.New(config.LLM{
		Provider: "openai", BaseURL: f.URL(), APIKey: "k", APIType: "openai", ChatModel: "gpt-test",
		Timeout: 2 * time.Second, MaxRetries: 1,
	}, openai.WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	e, err := llmBase.With(assistant.Deps{Tools: toolsOf(t), Knowledge: mem, Chat: client, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// model scripts the fake model for each kind of request; a request the
// test did not script fails it.
type model struct {
	// labels answer the classification of a customer's message.
	labels  map[string]openaitest.Reply
	answer  *openaitest.Reply
	summary *openaitest.Reply
	// slots answers the slot-filling request of a message; unscripted,
	// the model calls no function and the user is asked.
	slots map[string]openaitest.Reply
}

// fakeModel starts a fake OpenAI server playing m, failing every request
// with fault when it is set.
func fakeModel(t *testing.T, m model, fault openaitest.Fault) *openaitest.Server {
	t.Helper()
	return openaitest.New(t, openaitest.Config{Key: "k", Fault: fault, Reply: func(req openaitest.ChatRequest) openaitest.Reply {
		switch kind, user := kindOf(req), lastUser(req); {
		case kind == "classify":
			if r, ok := m.labels[user]; ok {
				return r
			}
			t.Errorf("the model was asked to classify %q, which the test did not script", user)
		case kind == "answer" && m.answer != nil:
			return *m.answer
		case kind == "summary" && m.summary != nil:
			return *m.summary
		case kind == "slots":
			return m.slots[user]
		default:
			t.Errorf("unexpected %s request to the model: %.80q", kind, req.System())
		}
		return openaitest.Reply{Content: "none"}
	}})
}

// label is the model's answer naming intent, with the log probability of
// each token; without them the fake sends its own word tokens, which make
// a one-word label certain (log probability 0).
func label(intent string, tokens ...openaitest.Logprob) openaitest.Reply {
	return openaitest.Reply{Content: intent, Logprobs: tokens}
}

func kindOf(req openaitest.ChatRequest) string {
	switch s := req.System(); {
	case strings.HasPrefix(s, classifyPrompt):
		return "classify"
	case strings.Contains(s, answerPrompt):
		return "answer"
	case strings.HasPrefix(s, summaryPrompt):
		return "summary"
	case strings.HasPrefix(s, slotsPrompt):
		return "slots"
	}
	return "unknown"
}

// lastUser is the content of the request's last user message.
func lastUser(req openaitest.ChatRequest) string {
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if m := req.Messages[i]; m.Role == "user" && m.Content != nil {
			return *m.Content
		}
	}
	return ""
}

// sent decodes the chat requests f received, by kind.
func sent(t *testing.T, f *openaitest.Server) map[string][]openaitest.ChatRequest {
	t.Helper()
	out := map[string][]openaitest.ChatRequest{}
	for _, r := range f.Requests() {
		var req openaitest.ChatRequest
		if err := json.Unmarshal(r.Body, &req); err != nil {
			t.Fatalf("decoding a request to %s: %v", r.Path, err)
		}
		out[kindOf(req)] = append(out[kindOf(req)], req)
	}
	return out
}

func traceOf(t *testing.T, rep assistant.Reply) assistant.Trace {
	t.Helper()
	var tr assistant.Trace
	if err := json.Unmarshal(rep.Trace, &tr); err != nil {
		t.Fatalf("decoding the trace: %v", err)
	}
	return tr
}

func TestLLMLabelWinsWithLogprobConfidence(t *testing.T) {
	t.Parallel()
	const msg = "kart puanım ne kadar"
	if local := newChat(t, demoEngine(t)).say(msg); local.Intent != "card_balance" {
		t.Fatalf("the local classifier reads %q as %s; the test needs it to say card_balance", msg, local.Intent)
	}
	f := fakeModel(t, model{labels: map[string]openaitest.Reply{msg: {
		Content:  "order_status",
		Logprobs: []openaitest.Logprob{{Token: "order", Logprob: -0.05}, {Token: "_status", Logprob: -0.01}},
		Usage:    openaitest.Usage{PromptTokens: 412, CompletionTokens: 2},
	}}, slots: map[string]openaitest.Reply{msg: {Content: "", Usage: openaitest.Usage{PromptTokens: 60, CompletionTokens: 5}}}}, nil)
	rep := newChat(t, llmEngine(t, f)).say(msg)

	// The model's label wins: the assistant asks for the order number
	// instead of showing the card balance.
	want := math.Exp(-0.05 - 0.01) // ≈ 0.942
	if rep.Intent != "order_status" || math.Abs(rep.Confidence-want) > 1e-9 || rep.Decision != assistant.DecisionAsk {
		t.Fatalf("%q: %s %.4f %s, want order_status %.4f asking for the number", msg, rep.Intent, rep.Confidence, rep.Decision, want)
	}
	if !strings.Contains(text(rep), "Sipariş numaranızı") {
		t.Errorf("reply %q, want the question for the order number", text(rep))
	}
	tr := traceOf(t, rep)
	// The classification, then the slot-filling request (no number to
	// find), add up.
	wantUsage := llm.Usage{PromptTokens: 472, CompletionTokens: 7, TotalTokens: 479}
	if tr.Source != "llm" || tr.Model != "gpt-test-2025-01-01" || tr.Usage != wantUsage {
		t.Errorf("trace source %q, model %q, usage %+v; want llm, gpt-test-2025-01-01, %+v", tr.Source, tr.Model, tr.Usage, wantUsage)
	}
	if len(tr.Candidates) == 0 || tr.Candidates[0].Intent != "order_status" || tr.Candidates[0].Confidence != rep.Confidence {
		t.Errorf("trace candidates %+v, want the model's label first", tr.Candidates)
	}

	reqs := sent(t, f)["classify"]
	if len(reqs) != 1 {
		t.Fatalf("sent %d classification requests, want 1", len(reqs))
	}
	req := reqs[0]
	if req.Logprobs == nil || !*req.Logprobs || req.Temperature == nil || *req.Temperature != 0 || lastUser(req) != msg {
		t.Errorf("classification request: logprobs %v, temperature %v, user %q; want logprobs at temperature 0 for the message",
			req.Logprobs, req.Temperature, lastUser(req))
	}
	for _, l := range []string{"- order_status:", "- card_balance:", "- none:"} {
		if !strings.Contains(req.System(), l) {
			t.Errorf("the prompt does not offer the label %q:\n%s", l, req.System())
		}
	}
}

func TestLLMConfidenceCountsOnlyTheLabelTokens(t *testing.T) {
	t.Parallel()
	// The prompt asks for the bare label; a model that quotes it anyway
	// is no less sure of the label for being unsure of the quotes.
	const msg = "kart puanım ne kadar"
	f := fakeModel(t, model{labels: map[string]openaitest.Reply{msg: label(`"order_status".`,
		openaitest.Logprob{Token: `"`, Logprob: -0.9},
		openaitest.Logprob{Token: "order", Logprob: -0.05},
		openaitest.Logprob{Token: "_status", Logprob: -0.01},
		openaitest.Logprob{Token: `".`, Logprob: -0.9},
	)}}, nil)
	rep := newChat(t, llmEngine(t, f)).say(msg)
	want := math.Exp(-0.05 - 0.01)
	if rep.Intent != "order_status" || math.Abs(rep.Confidence-want) > 1e-9 || rep.Decision != assistant.DecisionAsk {
		t.Errorf("%q: %q %.4f %s, want order_status %.4f asking for the number", msg, rep.Intent, rep.Confidence, rep.Decision, want)
	}
}

func TestLLMLowLogprobsClarify(t *testing.T) {
	t.Parallel()
	const msg = "siparişim nerede"
	f := fakeModel(t, model{labels: map[string]openaitest.Reply{
		msg: label("order_status", openaitest.Logprob{Token: "order", Logprob: -1.2}, openaitest.Logprob{Token: "_status", Logprob: -0.3}),
	}}, nil)
	c := newChat(t, llmEngine(t, f))
	rep := c.say(msg)
	want := math.Exp(-1.5) // ≈ 0.22, under the threshold 0.5
	if rep.Decision != assistant.DecisionClarify || math.Abs(rep.Confidence-want) > 1e-9 {
		t.Fatalf("%q: %s %.4f %q, want a clarifying question at %.4f", msg, rep.Decision, rep.Confidence, text(rep), want)
	}
	if !slices.Contains(buttons(rep), "order_status") {
		t.Errorf("clarify offers %v, want order_status among them", buttons(rep))
	}
	if st := c.state(); st.Task != nil || len(st.Tools) != 0 {
		t.Errorf("state %+v, want no task and no tool call while unsure", st)
	}
}

func TestLLMWithoutLogprobsUsesLocalProbability(t *testing.T) {
	t.Parallel()
	const msg = "kart puanım ne kadar"
	local := newChat(t, demoEngine(t)).say(msg)
	if local.Intent != "card_balance" {
		t.Fatalf("the local classifier reads %q as %s; the test needs it to say card_balance", msg, local.Intent)
	}
	f := fakeModel(t, model{labels: map[string]openaitest.Reply{msg: {Content: "card_balance", NoLogprobs: true}}}, nil)
	rep := newChat(t, llmEngine(t, f)).say(msg)
	// Both engines train the same classifier from the same examples and
	// seed: the confidence is the local probability of the model's label.
	if rep.Intent != "card_balance" || math.Abs(rep.Confidence-local.Confidence) > 1e-9 || rep.Decision != local.Decision {
		t.Errorf("%q: %s %.6f %s, want card_balance %.6f %s as the local classifier", msg, rep.Intent, rep.Confidence, rep.Decision, local.Confidence, local.Decision)
	}
	if rep.Confidence <= 0 || rep.Confidence > 1 {
		t.Errorf("confidence %v is not a probability", rep.Confidence)
	}
	if text(rep) != text(local) {
		t.Errorf("reply %q, want the local engine's %q", text(rep), text(local))
	}
	if tr := traceOf(t, rep); tr.Source != "llm+local" {
		t.Errorf("trace source %q, want llm+local", tr.Source)
	}
}

func TestLLMNoneOrGarbageIsOutOfScope(t *testing.T) {
	t.Parallel()
	// The local classifier is sure this is card_balance: only the model's
	// answer makes it out of scope.
	const msg = "kart puanım ne kadar"
	for _, answer := range []string{"none", "weather", "card_balance because the customer asks about points", "card-balance", ""} {
		t.Run(fmt.Sprintf("%q", answer), func(t *testing.T) {
			t.Parallel()
			f := fakeModel(t, model{labels: map[string]openaitest.Reply{msg: label(answer)}}, nil)
			c := newChat(t, llmEngine(t, f))
			rep := c.say(msg)
			if rep.Decision != assistant.DecisionFallback && rep.Decision != assistant.DecisionClarify {
				t.Errorf("%s %q, want a fallback or a clarifying question", rep.Decision, text(rep))
			}
			if tr := traceOf(t, rep); len(tr.Tools) != 0 || len(c.state().Tools) != 0 {
				t.Errorf("tools called %+v, want none", tr.Tools)
			}
			if strings.Contains(text(rep), "Yanıt Kart puanınız") {
				t.Errorf("reply %q shows the card balance", text(rep))
			}
		})
	}
}

func TestLLMDownFallsBackToLocal(t *testing.T) {
	t.Parallel()
	down := func(w http.ResponseWriter, _ *http.Request, _ int) bool {
		openaitest.ErrorResponse{Status: http.StatusInternalServerError, Type: "server_error",
			Message: "The server had an error while processing your request."}.Write(w)
		return true
	}
	f := fakeModel(t, model{}, down)
	e := llmEngine(t, f)
	for _, msg := range []string{"kart puanım ne kadar", "mağaza kaçta açılıyor", "temsilci"} {
		before := len(f.Requests())
		rep := newChat(t, e).say(msg)
		local := newChat(t, demoEngine(t)).say(msg)
		if rep.Intent != local.Intent || rep.Decision != local.Decision || text(rep) != text(local) {
			t.Errorf("%q with the model down: %s %s %q; want the local engine's %s %s %q",
				msg, rep.Intent, rep.Decision, text(rep), local.Intent, local.Decision, text(local))
		}
		if tr := traceOf(t, rep); tr.Source != "local_after_llm_error" {
			t.Errorf("%q: trace source %q, want local_after_llm_error", msg, tr.Source)
		}
		if (rep.Handoff == nil) != (local.Handoff == nil) || rep.Handoff != nil && rep.Handoff.Summary != local.Handoff.Summary {
			t.Errorf("%q: handoff %+v, want the local engine's extractive summary", msg, rep.Handoff)
		}
		if len(f.Requests()) == before {
			t.Errorf("%q: the model was never asked", msg)
		}
	}
}

func TestLLMGroundedAnswerCitesThePassages(t *testing.T) {
	t.Parallel()
	const msg = "mağaza kaçta açılıyor"
	labels := map[string]openaitest.Reply{msg: label("store_hours")}
	ask := func(t *testing.T, answer string) (assistant.Reply, *openaitest.Server) {
		t.Helper()
		f := fakeModel(t, model{labels: labels, answer: &openaitest.Reply{Content: answer}}, nil)
		return newChat(t, llmEngine(t, f)).say(msg), f
	}

	for _, n := range []int{1, 2} {
		t.Run(fmt.Sprintf("cites [%d]", n), func(t *testing.T) {
			t.Parallel()
			answer := fmt.Sprintf("Mağazalarımız her gün 10:00'da açılır [%d].", n)
			rep, f := ask(t, answer)
			reqs := sent(t, f)["answer"]
			if len(reqs) != 1 {
				t.Fatalf("sent %d answer requests, want 1", len(reqs))
			}
			prompt := reqs[0].System()
			if lastUser(reqs[0]) != msg || !strings.Contains(prompt, "[1] ") || !strings.Contains(prompt, "[2] ") {
				t.Fatalf("the answer request does not carry the question and numbered passages:\n%s", prompt)
			}
			tr := traceOf(t, rep)
			if rep.Decision != assistant.DecisionAnswer || len(tr.Sources) != 1 {
				t.Fatalf("%s with sources %+v, want an answer citing one passage", rep.Decision, tr.Sources)
			}
			// The cited source is passage n of the prompt, and the user
			// sees the model's words, then that source.
			src := tr.Sources[0]
			if !strings.Contains(prompt, fmt.Sprintf("[%d] %s > %s\n", n, src.Title, src.Section)) {
				t.Errorf("source %s > %s is not passage [%d] of the prompt:\n%s", src.Title, src.Section, n, prompt)
			}
			parts := strings.Split(src.Section, " > ")
			got := text(rep)
			if !strings.HasPrefix(got, fmt.Sprintf("%s\n\nKaynak: [%d] %s", answer, n, src.Title)) || !strings.Contains(got, parts[len(parts)-1]) {
				t.Errorf("reply %q, want %q then the source line naming [%d] %s › %s", got, answer, n, src.Title, parts[len(parts)-1])
			}
		})
	}

	// The model finds no answer in the passages: the user is offered a
	// person, never the model's marker or a source.
	for _, answer := range []string{"NO_ANSWER", "NO_ANSWER.", ""} {
		t.Run(fmt.Sprintf("%q", answer), func(t *testing.T) {
			t.Parallel()
			rep, _ := ask(t, answer)
			if rep.Decision != assistant.DecisionFallback || !slices.Contains(buttons(rep), "human_agent") {
				t.Errorf("%s %q %v, want the no-answer fallback offering a person", rep.Decision, text(rep), buttons(rep))
			}
			if got := text(rep); strings.Contains(got, "NO_ANSWER") || strings.Contains(got, "Kaynak") {
				t.Errorf("reply %q shows the model's marker or a source", got)
			}
		})
	}
}

func TestLLMHandoffSummary(t *testing.T) {
	t.Parallel()
	const summary = "Ayşe greeted the assistant and asked for a person; nothing was done yet."
	f := fakeModel(t, model{
		labels: map[string]openaitest.Reply{
			"merhaba":  label("greeting"),
			"temsilci": {Content: "human_agent", Usage: openaitest.Usage{PromptTokens: 300, CompletionTokens: 3}},
		},
		summary: &openaitest.Reply{Content: summary, Usage: openaitest.Usage{PromptTokens: 80, CompletionTokens: 14}},
	}, nil)
	c := newChat(t, llmEngine(t, f))
	c.say("merhaba")
	rep := c.say("temsilci")
	if rep.Decision != assistant.DecisionHandoff || rep.Handoff == nil {
		t.Fatalf("temsilci: %s %s, want a handoff", rep.Intent, rep.Decision)
	}
	if rep.Handoff.Summary != summary {
		t.Errorf("summary %q, want the model's %q", rep.Handoff.Summary, summary)
	}
	reqs := sent(t, f)["summary"]
	if len(reqs) != 1 {
		t.Fatalf("sent %d summary requests, want 1", len(reqs))
	}
	if conv := lastUser(reqs[0]); !strings.Contains(conv, "customer: merhaba\n") || !strings.Contains(conv, "customer: temsilci\n") || !strings.Contains(conv, "assistant: Merhaba!") {
		t.Errorf("the summary request carries %q, want the whole conversation", conv)
	}
	// The trace counts the tokens of both calls of the turn.
	if tr := traceOf(t, rep); tr.Usage != (llm.Usage{PromptTokens: 380, CompletionTokens: 17, TotalTokens: 397}) {
		t.Errorf("trace usage %+v, want the classification's and the summary's", tr.Usage)
	}
}

func TestLLMRequestsNeverCarryThePhoneNumber(t *testing.T) {
	t.Parallel()
	f := fakeModel(t, model{
		labels: map[string]openaitest.Reply{
			"kart puanım ne kadar":  label("card_balance"),
			"mağaza kaçta açılıyor": label("store_hours"),
			"temsilci":              label("human_agent"),
		},
		answer:  &openaitest.Reply{Content: "Her gün 10:00'da açılır [1]."},
		summary: &openaitest.Reply{Content: "The customer checked their points and store hours, then asked for a person."},
	}, nil)
	c := newChat(t, llmEngine(t, f))
	wa := c.contact.WaID
	rep := c.say("kart puanım ne kadar")
	// The number is in play: the card tool looked the customer up by it,
	// and the stored trace shows its placeholder, not the number.
	if tr := traceOf(t, rep); len(tr.Tools) != 1 || tr.Tools[0].Status != "ok" || strings.Contains(string(tr.Tools[0].Args), wa) ||
		!strings.Contains(string(tr.Tools[0].Args), "[PHONE_1]") {
		t.Fatalf("card balance tools %+v, want a call by the contact's number, traced as [PHONE_1]", tr.Tools)
	}
	c.say("mağaza kaçta açılıyor")
	if rep := c.say("temsilci"); rep.Handoff == nil || rep.Handoff.Contact.WaID != wa {
		t.Fatalf("temsilci: %s, want a handoff whose pack names the contact", rep.Decision)
	}
	kinds := sent(t, f)
	for _, k := range []string{"classify", "answer", "summary"} {
		if len(kinds[k]) == 0 {
			t.Errorf("no %s request was sent: the check below would prove nothing for it", k)
		}
	}
	for i, r := range f.Requests() {
		if strings.Contains(string(r.Body), wa) || strings.Contains(r.Path, wa) || strings.Contains(r.Query.Encode(), wa) {
			t.Errorf("request %d to %s carries the contact's number %s", i+1, r.Path, wa)
		}
	}
}

func TestLLMFillsSlotsByFunctionCalling(t *testing.T) {
	t.Parallel()
	// The extractors cannot read an order number written with spaces; the
	// model can, through the tool's function definition.
	const msg = "siparişim nerede, numarası sp 2026 0001"
	f := fakeModel(t, model{
		labels: map[string]openaitest.Reply{msg: label("order_status")},
		slots: map[string]openaitest.Reply{msg: {ToolCalls: []openaitest.ToolCall{{
			ID: "call_1", Type: "function", Function: openaitest.FunctionCall{Name: "order_status", Arguments: `{"order_id":"SP-2026-0001"}`},
		}}}},
	}, nil)
	rep := newChat(t, llmEngine(t, f)).say(msg)
	if rep.Decision != assistant.DecisionTool || !strings.Contains(text(rep), "Kargoya verildi") {
		t.Fatalf("%q: %s %q, want the order status from the model's arguments", msg, rep.Decision, text(rep))
	}
	reqs := sent(t, f)["slots"]
	if len(reqs) != 1 || len(reqs[0].Tools) != 1 || reqs[0].Tools[0].Function.Name != "order_status" {
		t.Fatalf("slot requests %+v, want one offering the order_status function", reqs)
	}
	if !strings.Contains(string(reqs[0].Tools[0].Function.Parameters), "order_id") {
		t.Errorf("the function's parameters %s are not the tool's schema", reqs[0].Tools[0].Function.Parameters)
	}

	// A value the tool's schema refuses never reaches the tool: the user
	// is asked for the number instead.
	const bad = "siparişim nerede, numarası on iki"
	f = fakeModel(t, model{
		labels: map[string]openaitest.Reply{bad: label("order_status")},
		slots: map[string]openaitest.Reply{bad: {ToolCalls: []openaitest.ToolCall{{
			ID: "call_2", Type: "function", Function: openaitest.FunctionCall{Name: "order_status", Arguments: `{"order_id":"12"}`},
		}}}},
	}, nil)
	rep = newChat(t, llmEngine(t, f)).say(bad)
	if rep.Decision != assistant.DecisionAsk || !strings.Contains(text(rep), "Sipariş numaranızı") {
		t.Fatalf("%q: %s %q, want the question for the order number", bad, rep.Decision, text(rep))
	}
}

// Personal data the user writes never reaches the model or the stored
// trace: the model reads placeholders, the user reads their own data back,
// and a tool still gets what it needs.
func TestLLMNeverSeesPersonalData(t *testing.T) {
	t.Parallel()
	const (
		tckn  = "10000000146"
		email = "ayse.yilmaz@example.com"
		card  = "4111 1111 1111 1111"
		iban  = "TR33 0006 1005 1978 6457 8413 26"
	)
	first := "SP-2026-0001 numaralı siparişim nerede? TC kimlik no " + tckn + ", e-posta " + email
	second := "kartım " + card + " ve IBAN " + iban + " için iade ne zaman yatar"
	f := fakeModel(t, model{
		labels: map[string]openaitest.Reply{
			// Scripted by what the model must receive: an unredacted
			// message would find no script and fail the test.
			"SP-2026-0001 numaralı siparişim nerede? TC kimlik no [TCKN_1], e-posta [EMAIL_1]": label("order_status"),
			"kartım [CARD_1] ve IBAN [IBAN_1] için iade ne zaman yatar":                        label("returns_policy"),
		},
		answer: &openaitest.Reply{Content: "İade, [CARD_1] numaralı kartınıza 14 gün içinde yansır [1]."},
	}, nil)
	c := newChat(t, llmEngine(t, f))
	rep := c.say(first)
	tr := traceOf(t, rep)
	if len(tr.Tools) != 1 || tr.Tools[0].Status != "ok" || !strings.Contains(string(tr.Tools[0].Args), "SP-2026-0001") {
		t.Fatalf("order status tools %+v, want the order looked up by its number", tr.Tools)
	}
	rep2 := c.say(second)
	if got := text(rep2); !strings.Contains(got, "4111 1111 1111 1111 numaralı kartınıza") {
		t.Errorf("the answer reads %q, want the user's own card number back in it", got)
	}
	for _, r := range f.Requests() {
		for _, v := range []string{tckn, email, "4111", "TR33", "1978 6457"} {
			if strings.Contains(string(r.Body), v) {
				t.Errorf("a request to the model carries %q: %s", v, r.Body)
			}
		}
	}
	for _, rep := range []assistant.Reply{rep, rep2} {
		for _, v := range []string{tckn, email, card, iban} {
			if strings.Contains(string(rep.Trace), v) {
				t.Errorf("the stored trace carries %q: %s", v, rep.Trace)
			}
		}
	}
	if len(f.Requests()) < 3 {
		t.Errorf("%d requests to the model, want the classifications and the answer", len(f.Requests()))
	}
}
