package assistant_test

import (
	"strings"
	"testing"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/configs"
)

// minimal is a live-support-only assistant: auto-replies, no understanding.
const minimal = `
name: desk
languages: [tr, en]
understanding: {provider: none}
messages:
  fallback: {tr: "Bir temsilci birazdan yazacak.", en: "An agent will write shortly."}
  handoff: {tr: "Temsilciye aktarıyorum.", en: "Passing you to an agent."}
  unsupported: {tr: "Lütfen yazın.", en: "Please type."}
person_phrases: {tr: [temsilci], en: [agent]}
auto_replies:
  - name: hours
    keywords: [saat, hours]
    reply: {tr: "Her gün 10:00-22:00.", en: "Every day 10:00-22:00."}
`

func TestLiveSupportOnlyAssistant(t *testing.T) {
	def, err := assistant.LoadDefinition([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	e, err := assistant.NewEngine(def, assistant.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	c := newChat(t, e)
	if rep := c.say("kaçta açıksınız, saat kaç?"); rep.Intent != "hours" || !strings.Contains(text(rep), "10:00-22:00") {
		t.Errorf("keyword: %s %q", rep.Intent, text(rep))
	}
	if rep := c.say("what are your opening hours"); !strings.Contains(text(rep), "Every day") {
		t.Errorf("keyword in English: %q", text(rep))
	}
	if rep := c.say("iade yapabilir miyim"); rep.Decision != assistant.DecisionFallback || !strings.Contains(text(rep), "temsilci") {
		t.Errorf("no rule: %s %q, want the fallback", rep.Decision, text(rep))
	}
	// A forged confirmation tap finds no confirmation and sends nothing empty.
	if rep := c.tap(assistant.ConfirmYes, "Evet"); len(rep.Messages) != 0 && strings.TrimSpace(text(rep)) == "" {
		t.Errorf("an empty message would be sent: %+v", rep.Messages)
	}
	if rep := c.say("temsilci lütfen"); rep.Decision != assistant.DecisionHandoff {
		t.Errorf("person phrase: %s", rep.Decision)
	}
}

func TestLoadDefinitionNamesTheProblem(t *testing.T) {
	cases := map[string]struct{ from, to, want string }{
		"unknown key":         {"name: desk", "name: desk\ncolour: blue", "colour"},
		"unknown message key": {`fallback: {tr:`, `fallback: {tr: {text: "a", colour: b}, x:`, "colour"},
		"bad language":        {"languages: [tr, en]", "languages: [tr, de]", `"de" is not supported`},
		"missing text":        {`unsupported: {tr: "Lütfen yazın.", en: "Please type."}`, `unsupported: {tr: "Lütfen yazın."}`, "messages.unsupported.en"},
		"bad provider":        {"provider: none", "provider: gpt", "understanding.provider"},
		"rule without match":  {"    keywords: [saat, hours]\n", "", "auto_replies[hours]: needs keywords or ids"},
		"long button": {`reply: {tr: "Her gün 10:00-22:00.", en: "Every day 10:00-22:00."}`,
			`reply: {tr: {text: "x", buttons: [{id: a, title: "Bu başlık yirmi karakterden uzun"}]}, en: "y"}`, "auto_replies[hours].reply.tr"},
		"bad template":        {`fallback: {tr: "Bir temsilci birazdan yazacak."`, `fallback: {tr: "{{.x"`, "messages.fallback.tr"},
		"local needs clarify": {"provider: none", "provider: local", "messages.clarify.tr"},
	}
	for name, c := range cases {
		y := strings.Replace(minimal, c.from, c.to, 1)
		if y == minimal {
			t.Fatalf("%s: the case does not change the definition", name)
		}
		if _, err := assistant.LoadDefinition([]byte(y)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error mentioning %q", name, err, c.want)
		}
	}
}

func TestDemoDefinitionLoads(t *testing.T) {
	def, err := assistant.LoadDefinition(configs.DemoAssistant)
	if err != nil {
		t.Fatal(err)
	}
	// The issue asks for at least 20 examples per intent per language.
	total := 0
	for _, in := range def.Intents {
		for _, l := range def.Languages {
			n := len(in.Examples[l])
			total += n
			if n < 20 {
				t.Errorf("%s has %d %s examples, want at least 20", in.Name, n, l)
			}
		}
	}
	t.Logf("%d intents, %d examples, %d out-of-scope examples", len(def.Intents), total, len(def.OutOfScope["tr"])+len(def.OutOfScope["en"]))
}
