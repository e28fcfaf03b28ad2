package assistant_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/configs"
	"github.com/yanit/yanit/store"
)

// privacyEngine is the demo assistant with the consent mode and the
// sensitive intents given, sharing the demo's trained classifier.
func privacyEngine(t *testing.T, mode string, sensitive ...string) *assistant.Engine {
	t.Helper()
	yaml := bytes.Replace(configs.DemoAssistant, []byte("    mode: off\n"), []byte("    mode: "+mode+"\n"), 1)
	def, err := assistant.LoadDefinition(yaml)
	if err != nil {
		t.Fatal(err)
	}
	if def.Privacy.Consent.Mode != mode {
		t.Fatalf("the demo's consent mode did not change to %s", mode)
	}
	for i := range def.Intents {
		for _, s := range sensitive {
			if def.Intents[i].Name == s {
				def.Intents[i].Sensitive = true
			}
		}
	}
	_, mem := demoParts(t)
	e, err := assistant.NewEngine(def, assistant.Deps{Tools: toolsOf(t), Knowledge: mem, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestStrictConsentAsksFirstAndProcessesNothingWithout(t *testing.T) {
	c := newChat(t, privacyEngine(t, assistant.ConsentStrict))

	// The first message is not answered: the user is asked, with the
	// policy link and two buttons, and nothing of the turn is kept.
	rep := c.say("SP-2026-0001 numaralı siparişim nerede? TC 10000000146")
	if !strings.Contains(text(rep), "yanitmarket.example/kvkk") || strings.Join(buttons(rep), ",") != "consent_yes,consent_no" {
		t.Fatalf("first reply %q with buttons %v, want the consent question with the policy and two buttons", text(rep), buttons(rep))
	}
	if !rep.Withhold || rep.Decision != assistant.DecisionGate || len(rep.Consents) != 0 || rep.Handoff != nil {
		t.Fatalf("reply %+v: want a withheld gate turn that records nothing", rep)
	}
	if strings.Contains(string(rep.Trace), "SP-2026-0001") && !rep.Withhold {
		t.Fatal("the order number reached the trace")
	}

	// Refusing stores the refusal, answers politely, keeps nothing else.
	rep = c.tap(assistant.ConsentNo, "Onaylamıyorum")
	if !rep.Withhold || len(rep.Consents) != 1 || rep.Consents[0].Granted || rep.Consents[0].Purpose != store.PurposeService ||
		rep.Consents[0].Source != store.ConsentByButton || rep.Consents[0].PolicyVersion != "2026-01" {
		t.Fatalf("refusal: withhold %v, consents %+v; want one refused service consent by button for policy 2026-01", rep.Withhold, rep.Consents)
	}
	if !strings.Contains(text(rep), "işlemeyeceğiz") {
		t.Errorf("refusal answered %q, want the polite stop", text(rep))
	}

	// Writing again after a refusal asks again; nothing is answered.
	rep = c.say("kargom nerede")
	if !rep.Withhold || len(buttons(rep)) != 2 || rep.Intent == "order_status" {
		t.Fatalf("after a refusal: %q (intent %s), want the question again", text(rep), rep.Intent)
	}

	// A typed yes counts as consent; then the conversation goes on.
	rep = c.say("evet")
	if rep.Withhold || len(rep.Consents) != 1 || !rep.Consents[0].Granted || rep.Consents[0].Source != store.ConsentByKeyword {
		t.Fatalf("typed yes: withhold %v, consents %+v; want a granted consent by keyword", rep.Withhold, rep.Consents)
	}
	rep = c.say("SP-2026-0001 numaralı siparişim nerede")
	if rep.Intent != "order_status" || len(rep.Consents) != 0 || rep.Withhold {
		t.Fatalf("after consent: intent %q, consents %+v; want the order answered and nothing asked", rep.Intent, rep.Consents)
	}
	for _, m := range c.log[:6] {
		if m.Direction == store.Inbound && strings.Contains(m.Body, "10000000146") {
			t.Errorf("the message %q written before consent is kept", m.Body)
		}
	}
}

func TestStrictConsentAsksAgainForANewPolicyVersion(t *testing.T) {
	e := privacyEngine(t, assistant.ConsentStrict)
	c := newChat(t, e)
	c.consents = []store.Consent{{ContactID: 1, Purpose: store.PurposeService, Granted: true, Source: store.ConsentByButton, PolicyVersion: "2025-06"}}
	if rep := c.say("merhaba"); !rep.Withhold || len(buttons(rep)) != 2 {
		t.Fatalf("consent to policy 2025-06 under policy 2026-01: %q, want the question again", text(rep))
	}
	rep := c.tap(assistant.ConsentYes, "Onaylıyorum")
	if len(rep.Consents) != 1 || rep.Consents[0].PolicyVersion != "2026-01" || !strings.Contains(text(rep), "Teşekkürler") {
		t.Fatalf("accepting: %q, consents %+v; want thanks and a consent to 2026-01", text(rep), rep.Consents)
	}
	if rep := c.say("merhaba"); rep.Withhold || len(rep.Consents) != 0 {
		t.Fatalf("after accepting 2026-01: %q, want the greeting answered", text(rep))
	}
}

func TestNoticeModeInformsOncePerPolicyVersion(t *testing.T) {
	c := newChat(t, privacyEngine(t, assistant.ConsentNotice))
	rep := c.say("merhaba")
	if len(rep.Messages) < 2 || !strings.Contains(text(rep), "KVKK") || rep.Intent != "greeting" || rep.Withhold {
		t.Fatalf("first turn: %q (intent %s), want the notice, then the greeting answered", text(rep), rep.Intent)
	}
	if len(rep.Consents) != 1 || rep.Consents[0].Source != store.ConsentByNotice || rep.Consents[0].PolicyVersion != "2026-01" {
		t.Fatalf("consents %+v, want the notice recorded for policy 2026-01", rep.Consents)
	}
	rep = c.say("siparişim nerede")
	if strings.Contains(text(rep), "KVKK") || len(rep.Consents) != 0 {
		t.Fatalf("second turn: %q, want no second notice", text(rep))
	}
}

func TestOptOutAndOptInWords(t *testing.T) {
	for _, tc := range []struct {
		word   string
		optOut bool
		reply  string
	}{
		{"DUR", true, "BAŞLA"}, {"stop", true, "START"}, {"İptal", true, "BAŞLA"}, {"abonelikten çık", true, "BAŞLA"},
		{"UNSUBSCRIBE", true, "START"}, {"başla", false, "DUR"}, {"Subscribe", false, "STOP"},
	} {
		t.Run(tc.word, func(t *testing.T) {
			rep := newChat(t, demoEngine(t)).say(tc.word)
			if len(rep.Consents) != 1 || rep.Consents[0].Purpose != store.PurposeMarketing || rep.Consents[0].Granted == tc.optOut ||
				rep.Consents[0].Source != store.ConsentByKeyword {
				t.Fatalf("%q recorded %+v, want marketing granted=%v by keyword", tc.word, rep.Consents, !tc.optOut)
			}
			if !strings.Contains(text(rep), tc.reply) || rep.Decision != assistant.DecisionGate {
				t.Errorf("%q answered %q (%s), want a confirmation naming %s", tc.word, text(rep), rep.Decision, tc.reply)
			}
		})
	}
	// Only a whole message is a word: a sentence with one is read.
	rep := newChat(t, demoEngine(t)).say("randevumu iptal etmek istiyorum")
	if len(rep.Consents) != 0 || rep.Intent != "cancel_appointment" {
		t.Errorf("a cancellation request recorded %+v (intent %s), want no opt-out and the appointment intent", rep.Consents, rep.Intent)
	}
}

func TestOptOutWordsWorkInStrictModeWithoutConsent(t *testing.T) {
	rep := newChat(t, privacyEngine(t, assistant.ConsentStrict)).say("STOP")
	if len(rep.Consents) != 1 || rep.Consents[0].Purpose != store.PurposeMarketing || rep.Consents[0].Granted || !rep.Withhold {
		t.Fatalf("STOP before consent: consents %+v, withhold %v; want the opt-out recorded and nothing else kept", rep.Consents, rep.Withhold)
	}
}

func TestSensitiveIntentPointsToTheSecureChannel(t *testing.T) {
	c := newChat(t, privacyEngine(t, assistant.ConsentOff, "card_balance"))
	rep := c.say("kart bakiyemi öğrenmek istiyorum")
	if rep.Intent != "card_balance" || rep.Decision != assistant.DecisionGate || !strings.Contains(text(rep), "yanitmarket.example/hesabim") {
		t.Fatalf("sensitive intent: %q (intent %s, %s), want the pointer to the secure channel", text(rep), rep.Intent, rep.Decision)
	}
	if tr := traceOf(t, rep); len(tr.Tools) != 0 {
		t.Errorf("the sensitive intent called %+v over WhatsApp", tr.Tools)
	}
	if c.state().Task != nil {
		t.Errorf("the sensitive intent left a task waiting: %+v", c.state().Task)
	}
}

func TestPrivacyDefinitionErrors(t *testing.T) {
	for _, tc := range []struct{ from, to, want string }{
		{"    mode: off\n", "    mode: maybe\n", `privacy.consent.mode: "maybe" is not strict, notice or off`},
		{"    policy_version: \"2026-01\"\n", "    policy_version: \"\"\n", ""}, // off needs no version
		{"  retention_days: 365\n", "  retention_days: -1\n", "privacy.retention_days: -1"},
	} {
		yaml := bytes.Replace(configs.DemoAssistant, []byte(tc.from), []byte(tc.to), 1)
		_, err := assistant.LoadDefinition(yaml)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%q: %v, want it to load", tc.to, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one naming %q", tc.to, err, tc.want)
		}
	}
	strictNoVersion := bytes.Replace(bytes.Replace(configs.DemoAssistant, []byte("    mode: off\n"), []byte("    mode: strict\n"), 1),
		[]byte("    policy_version: \"2026-01\"\n"), nil, 1)
	if _, err := assistant.LoadDefinition(strictNoVersion); err == nil || !strings.Contains(err.Error(), "privacy.consent.policy_version") {
		t.Errorf("strict without a policy version: %v, want an error naming privacy.consent.policy_version", err)
	}
	noAsk := bytes.Replace(bytes.Replace(configs.DemoAssistant, []byte("    mode: off\n"), []byte("    mode: strict\n"), 1),
		[]byte("  consent_ask:\n"), []byte("  consent_unused:\n"), 1)
	if _, err := assistant.LoadDefinition(noAsk); err == nil {
		t.Error("strict mode without messages.consent_ask loaded")
	}
}

// afterHours is an integrator's gate: outside business hours it answers
// every message itself.
type afterHours struct{}

func (afterHours) Gate(context.Context, assistant.Input, string) (*assistant.Reply, error) {
	return &assistant.Reply{Messages: []whatsapp.Outbound{{Content: &whatsapp.Text{Body: "Mesai saatlerimiz dışındayız."}}},
		Reason: "after hours"}, nil
}

// In notice mode, the notice a gate's turn sends is recorded like any
// other: it goes out once per policy version, gate or not.
func TestNoticeIsRecordedWhenAGateAnswers(t *testing.T) {
	e := privacyEngine(t, assistant.ConsentNotice)
	deps := e.Deps()
	deps.Gates = []assistant.Gate{afterHours{}}
	e, err := e.With(deps)
	if err != nil {
		t.Fatal(err)
	}
	c := newChat(t, e)
	rep := c.say("merhaba")
	if got := text(rep); rep.Decision != assistant.DecisionGate || len(rep.Messages) != 2 || !strings.Contains(got, "KVKK") ||
		!strings.HasSuffix(got, "Mesai saatlerimiz dışındayız.\n") {
		t.Fatalf("first turn: %s %q, want the notice, then the gate's answer", rep.Decision, got)
	}
	if len(rep.Consents) != 1 || rep.Consents[0].Source != store.ConsentByNotice || rep.Consents[0].PolicyVersion != "2026-01" {
		t.Fatalf("consents %+v, want the notice recorded for policy 2026-01", rep.Consents)
	}
	rep = c.say("merhaba")
	if got := text(rep); got != "Mesai saatlerimiz dışındayız.\n" || len(rep.Consents) != 0 {
		t.Fatalf("second turn: %q, consents %+v; want the gate's answer only, no second notice", got, rep.Consents)
	}
}
