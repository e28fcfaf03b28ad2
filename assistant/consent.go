package assistant

import (
	"encoding/json"
	"slices"

	"github.com/yanit/yanit/channel"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/llm/local"
	"github.com/yanit/yanit/store"
)

// The ids of the consent question's buttons.
const (
	ConsentYes = "consent_yes"
	ConsentNo  = "consent_no"
)

// consented returns the contact's current record of purpose; ok is false
// when there is none.
func consented(in Input, purpose string) (store.Consent, bool) {
	i := slices.IndexFunc(in.Consents, func(c store.Consent) bool { return c.Purpose == purpose })
	if i < 0 {
		return store.Consent{}, false
	}
	return in.Consents[i], true
}

// consent runs the privacy gates before anything reads the user's words:
// the opt-out and opt-in words, then the consent mode. It reports done
// when the turn ends with its reply; otherwise the turn goes on (after a
// notice, with the notice queued first).
func (e *Engine) consent(t *turn) (done bool, err error) {
	p := e.def.Privacy
	service, hasService := consented(t.in, store.PurposeService)
	current := hasService && service.Granted && service.PolicyVersion == p.Consent.PolicyVersion
	strictNo := p.Consent.Mode == ConsentStrict && !current

	optOut, lang, ok := e.optWord(t)
	if ok {
		t.lang = lang // confirmed in the language of the word
	}
	preference := t.in.Pending[len(t.in.Pending)-1].Type == channel.TypePreference
	if preference {
		// Meta's user_preferences webhook recorded the change already;
		// the turn only confirms it.
		var p struct {
			Preference string `json:"preference"`
		}
		_ = json.Unmarshal(t.in.Pending[len(t.in.Pending)-1].Payload, &p) // the receiver wrote it
		optOut, ok = p.Preference == whatsapp.PreferenceStop, true
	}
	if ok {
		loc := e.def.Messages.OptedIn
		if optOut {
			loc = e.def.Messages.OptedOut
		}
		if !preference {
			t.reply.Consents = append(t.reply.Consents, e.record(t, store.PurposeMarketing, !optOut, store.ConsentByKeyword))
		}
		t.reply.Decision, t.reply.Intent, t.reply.Confidence = DecisionGate, "opt_in", 1
		t.reply.Reason = "the user opted in to marketing messages"
		if optOut {
			t.reply.Intent, t.reply.Reason = "opt_out", "the user opted out of marketing messages"
		}
		t.reply.Withhold = strictNo
		return true, e.say(t, loc, e.optData(t.lang))
	}

	switch p.Consent.Mode {
	case ConsentNotice:
		if hasService && service.PolicyVersion == p.Consent.PolicyVersion {
			return false, nil
		}
		t.reply.Consents = append(t.reply.Consents, e.record(t, store.PurposeService, true, store.ConsentByNotice))
		return false, e.say(t, e.def.Messages.Notice, e.policyData())
	case ConsentStrict:
		if current {
			return false, nil
		}
		t.reply.Decision, t.reply.Intent, t.reply.Confidence = DecisionGate, "consent", 1
		yes, no := t.replyID == ConsentYes, t.replyID == ConsentNo
		source := store.ConsentByButton
		if t.replyID == "" {
			yes, no = e.yesNo(local.Fold(t.text))
			source = store.ConsentByKeyword
		}
		switch {
		case yes:
			t.reply.Consents = append(t.reply.Consents, e.record(t, store.PurposeService, true, source))
			t.reply.Reason = "the user gave consent (policy " + p.Consent.PolicyVersion + ")"
			return true, e.say(t, e.def.Messages.ConsentGiven, e.policyData())
		case no:
			t.reply.Consents = append(t.reply.Consents, e.record(t, store.PurposeService, false, source))
			t.reply.Reason, t.reply.Withhold = "the user refused consent (policy "+p.Consent.PolicyVersion+")", true
			return true, e.say(t, e.def.Messages.ConsentRefused, e.policyData())
		}
		t.reply.Reason, t.reply.Withhold = "no consent yet: asked for it", true
		return true, e.askConsent(t)
	}
	return false, nil
}

// askConsent queues the consent question with its two buttons.
func (e *Engine) askConsent(t *turn) error {
	m := e.pick(e.def.Messages.ConsentAsk, t.lang)
	text, err := e.render(m.Text, e.policyData())
	if err != nil {
		return err
	}
	t.reply.Messages = append(t.reply.Messages, whatsapp.Outbound{Content: &whatsapp.Buttons{Body: text, Buttons: []whatsapp.Button{
		{ID: ConsentYes, Title: e.pick(e.def.Messages.ConsentAccept, t.lang).Text},
		{ID: ConsentNo, Title: e.pick(e.def.Messages.ConsentRefuse, t.lang).Text},
	}}})
	return nil
}

// pick returns the message of loc in lang, else in the default language.
func (e *Engine) pick(loc Localized, lang string) Message {
	if m, ok := loc[lang]; ok {
		return m
	}
	return loc[e.def.Languages[0]]
}

// optWord reports whether the whole message is an opt-out (optOut true) or
// opt-in word, and the language of the word.
func (e *Engine) optWord(t *turn) (optOut bool, lang string, ok bool) {
	if t.replyID != "" || t.text == "" {
		return false, "", false
	}
	folded := local.Fold(t.text)
	same := func(w string) bool { return local.Fold(w) == folded }
	for _, l := range e.def.Languages {
		if slices.ContainsFunc(e.def.Privacy.OptOutWords[l], same) {
			return true, l, true
		}
		if slices.ContainsFunc(e.def.Privacy.OptInWords[l], same) {
			return false, l, true
		}
	}
	return false, "", false
}

func (e *Engine) record(t *turn, purpose string, granted bool, source string) store.Consent {
	return store.Consent{ContactID: t.in.Contact.ID, Purpose: purpose, Granted: granted, Source: source,
		PolicyVersion: e.def.Privacy.Consent.PolicyVersion, At: e.deps.Now()}
}

func (e *Engine) policyData() map[string]any {
	c := e.def.Privacy.Consent
	return map[string]any{"policy_url": c.PolicyURL, "policy_version": c.PolicyVersion}
}

func (e *Engine) optData(lang string) map[string]any {
	first := func(ws []string) string {
		if len(ws) == 0 {
			return ""
		}
		return ws[0]
	}
	p := e.def.Privacy
	return map[string]any{"opt_in_word": first(p.OptInWords[lang]), "opt_out_word": first(p.OptOutWords[lang])}
}
