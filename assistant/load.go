package assistant

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/llm/local"
)

// Understanding providers.
const (
	ProviderLocal = "local"
	ProviderLLM   = "llm"
	ProviderNone  = "none"
)

// Defaults of a Definition's tunables.
const (
	DefaultThreshold         = 0.5
	DefaultMaxFallbacks      = 2
	DefaultKnowledgeMinScore = 0.25
)

// supportedLanguages are the languages an assistant may answer in.
var supportedLanguages = []string{"tr", "en"}

var intentName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// LoadDefinition reads an assistant definition from YAML, fills the
// defaults and checks it: every reply within WhatsApp's limits, every
// template parsable, every intent trainable. The error names the field of
// the first problem (intents[order_status].reply.en: …).
func LoadDefinition(data []byte) (*Definition, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var d Definition
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("reading the assistant definition: %w", err)
	}
	if err := d.check(); err != nil {
		return nil, fmt.Errorf("assistant %q: %w", d.Name, err)
	}
	return &d, nil
}

func (d *Definition) check() error {
	if d.Name == "" {
		return errors.New("name is required")
	}
	if len(d.Languages) == 0 {
		return errors.New("languages: at least one is required (tr, en)")
	}
	for _, l := range d.Languages {
		if !slices.Contains(supportedLanguages, l) {
			return fmt.Errorf("languages: %q is not supported (tr, en)", l)
		}
	}
	u := &d.Understanding
	switch u.Provider {
	case "":
		u.Provider = ProviderLocal
	case ProviderLocal, ProviderLLM, ProviderNone:
	default:
		return fmt.Errorf("understanding.provider: %q is not local, llm or none", u.Provider)
	}
	if u.Threshold == 0 {
		u.Threshold = DefaultThreshold
	}
	if u.Threshold < 0 || u.Threshold >= 1 {
		return fmt.Errorf("understanding.threshold: %v must be between 0 and 1", u.Threshold)
	}
	if u.Seed == 0 {
		u.Seed = 1
	}
	p := &d.Policy
	if p.Clarify == nil {
		yes := true
		p.Clarify = &yes
	}
	if p.MaxFallbacks == 0 {
		p.MaxFallbacks = DefaultMaxFallbacks
	}
	if p.MaxFallbacks < 0 {
		return errors.New("policy.max_fallbacks: must be positive")
	}
	if p.KnowledgeMinScore == 0 {
		p.KnowledgeMinScore = DefaultKnowledgeMinScore
	}
	if err := d.checkPrivacy(); err != nil {
		return err
	}
	if err := d.checkMessages(); err != nil {
		return err
	}
	for i, r := range d.AutoReplies {
		if r.Name == "" {
			return fmt.Errorf("auto_replies[%d].name is required", i)
		}
		if len(r.Keywords) == 0 && len(r.IDs) == 0 {
			return fmt.Errorf("auto_replies[%s]: needs keywords or ids to match", r.Name)
		}
		if err := d.checkLocalized("auto_replies["+r.Name+"].reply", r.Reply, true); err != nil {
			return err
		}
	}
	patterns := map[string]bool{}
	for i, sp := range d.Patterns {
		if sp.Name == "" {
			return fmt.Errorf("patterns[%d].name is required", i)
		}
		if _, err := regexp.Compile(sp.Regex); err != nil {
			return fmt.Errorf("patterns[%s].regex: %w", sp.Name, err)
		}
		patterns[sp.Name] = true
	}
	if d.Understanding.Provider != ProviderNone && len(d.Intents) < 2 {
		return fmt.Errorf("intents: understanding.provider %s needs at least two intents", d.Understanding.Provider)
	}
	for l := range d.OutOfScope {
		if !slices.Contains(d.Languages, l) {
			return fmt.Errorf("out_of_scope.%s: the assistant does not speak %q", l, l)
		}
	}
	seen := map[string]bool{}
	for i, in := range d.Intents {
		if !intentName.MatchString(in.Name) {
			return fmt.Errorf("intents[%d].name: %q must be lower-case letters, digits and _", i, in.Name)
		}
		if seen[in.Name] {
			return fmt.Errorf("intents[%s]: defined twice", in.Name)
		}
		seen[in.Name] = true
		if err := d.checkIntent(in, patterns); err != nil {
			return fmt.Errorf("intents[%s].%w", in.Name, err)
		}
	}
	for _, r := range d.AutoReplies {
		for _, id := range r.IDs {
			if seen[id] {
				return fmt.Errorf("auto_replies[%s].ids: %q is also an intent; a tapped id chooses the intent", r.Name, id)
			}
		}
	}
	return nil
}

func (d *Definition) checkIntent(in Intent, patterns map[string]bool) error {
	for _, l := range d.Languages {
		if t := in.Title[l]; t == "" || len([]rune(t)) > whatsapp.MaxButtonTitleLen {
			return fmt.Errorf("title.%s: required, at most %d characters (it labels a clarifying button)", l, whatsapp.MaxButtonTitleLen)
		}
		if d.Understanding.Provider != ProviderNone && len(in.Examples[l]) < 2 {
			return fmt.Errorf("examples.%s: at least two are needed to learn the intent", l)
		}
	}
	for l := range in.Examples {
		if !slices.Contains(d.Languages, l) {
			return fmt.Errorf("examples.%s: the assistant does not speak %q", l, l)
		}
	}
	actions := 0
	if in.Tool != "" {
		actions++
	}
	if in.Knowledge != nil {
		actions++
	}
	if in.Handoff != "" {
		if in.Handoff != "always" {
			return fmt.Errorf("handoff: %q is not always", in.Handoff)
		}
		actions++
	}
	if actions > 1 {
		return errors.New("tool, knowledge and handoff exclude each other: pick one")
	}
	if actions == 0 && len(in.Reply) == 0 {
		return errors.New("reply: an intent without tool, knowledge or handoff needs a reply")
	}
	if len(in.Slots) > 0 && in.Tool == "" {
		return errors.New("slots: only an intent with a tool has slots")
	}
	for _, s := range in.Slots {
		if s.Name == "" {
			return errors.New("slots: every slot needs a name")
		}
		entity := s.entity()
		if !builtinEntity(entity) && !patterns[entity] {
			return fmt.Errorf("slots[%s].entity: %q is neither built in (%s) nor a pattern", s.Name, entity, strings.Join(builtinEntities, ", "))
		}
		if s.Required && entity != EntityContactPhone {
			if err := d.checkLocalized("slots["+s.Name+"].ask", s.Ask, true); err != nil {
				return err
			}
		}
	}
	if len(in.Reply) > 0 {
		if err := d.checkLocalized("reply", in.Reply, true); err != nil {
			return err
		}
	}
	if len(in.NotFound) > 0 {
		if err := d.checkLocalized("not_found", in.NotFound, true); err != nil {
			return err
		}
	}
	return nil
}

// EntityContactPhone fills a slot with the user's own WhatsApp number.
const EntityContactPhone = "contact_phone"

var builtinEntities = []string{"order_id", "date", "time", "amount", "phone", "email", EntityContactPhone}

func builtinEntity(e string) bool { return slices.Contains(builtinEntities, e) }

func (s SlotSpec) entity() string {
	if s.Entity != "" {
		return s.Entity
	}
	return s.Name
}

func (d *Definition) checkMessages() error {
	m := d.Messages
	var tools, knowledge bool
	for _, in := range d.Intents {
		tools = tools || in.Tool != ""
		knowledge = knowledge || in.Knowledge != nil
	}
	understands := d.Understanding.Provider != ProviderNone
	sensitive := slices.ContainsFunc(d.Intents, func(in Intent) bool { return in.Sensitive })
	mode := d.Privacy.Consent.Mode
	optOut, optIn := hasWords(d.Privacy.OptOutWords), hasWords(d.Privacy.OptInWords)
	// Each message is required when the assistant can say it.
	required := []struct {
		key  string
		loc  Localized
		need bool
	}{
		{"fallback", m.Fallback, true}, {"handoff", m.Handoff, true}, {"unsupported", m.Unsupported, true},
		{"clarify", m.Clarify, understands},
		{"tool_error", m.ToolError, tools || knowledge},
		{"no_answer", m.NoAnswer, knowledge}, {"source", m.Source, knowledge},
		{"confirm", m.Confirm, tools}, {"yes", m.Yes, tools}, {"no", m.No, tools}, {"cancelled", m.Cancelled, tools},
		{"consent_ask", m.ConsentAsk, mode == ConsentStrict}, {"consent_accept", m.ConsentAccept, mode == ConsentStrict},
		{"consent_refuse", m.ConsentRefuse, mode == ConsentStrict}, {"consent_given", m.ConsentGiven, mode == ConsentStrict},
		{"consent_refused", m.ConsentRefused, mode == ConsentStrict}, {"notice", m.Notice, mode == ConsentNotice},
		{"opted_out", m.OptedOut, optOut}, {"opted_in", m.OptedIn, optIn}, {"sensitive", m.Sensitive, sensitive},
	}
	for _, r := range required {
		if err := d.checkLocalized("messages."+r.key, r.loc, r.need); err != nil {
			return err
		}
	}
	for _, l := range d.Languages {
		for key, t := range map[string]string{"yes": m.Yes[l].Text, "no": m.No[l].Text,
			"consent_accept": m.ConsentAccept[l].Text, "consent_refuse": m.ConsentRefuse[l].Text} {
			if len([]rune(t)) > whatsapp.MaxButtonTitleLen {
				return fmt.Errorf("messages.%s.%s: %q is a button title, at most %d characters", key, l, t, whatsapp.MaxButtonTitleLen)
			}
		}
	}
	return nil
}

// checkPrivacy checks the consent mode and fills the default opt-out and
// opt-in words.
func (d *Definition) checkPrivacy() error {
	p := &d.Privacy
	switch p.Consent.Mode {
	case "":
		p.Consent.Mode = ConsentOff
	case ConsentOff:
	case ConsentStrict, ConsentNotice:
		if strings.TrimSpace(p.Consent.PolicyVersion) == "" {
			return fmt.Errorf("privacy.consent.policy_version: required in %s mode (a new version asks again)", p.Consent.Mode)
		}
	default:
		return fmt.Errorf("privacy.consent.mode: %q is not strict, notice or off", p.Consent.Mode)
	}
	if p.RetentionDays < 0 {
		return fmt.Errorf("privacy.retention_days: %d must be 0 (keep) or more", p.RetentionDays)
	}
	if p.OptOutWords == nil {
		p.OptOutWords = spokenWords(d.Languages, DefaultOptOutWords)
	}
	if p.OptInWords == nil {
		p.OptInWords = spokenWords(d.Languages, DefaultOptInWords)
	}
	for key, words := range map[string]map[string][]string{"opt_out_words": p.OptOutWords, "opt_in_words": p.OptInWords} {
		for l := range words {
			if !slices.Contains(d.Languages, l) {
				return fmt.Errorf("privacy.%s.%s: the assistant does not speak %q", key, l, l)
			}
		}
	}
	m := &d.Messages
	if len(m.OptedOut) == 0 {
		m.OptedOut = d.spoken(defaultOptedOut)
	}
	if len(m.OptedIn) == 0 {
		m.OptedIn = d.spoken(defaultOptedIn)
	}
	for _, outs := range p.OptOutWords {
		for _, w := range outs {
			for _, ins := range p.OptInWords {
				if slices.ContainsFunc(ins, func(x string) bool { return local.Fold(x) == local.Fold(w) }) {
					return fmt.Errorf("privacy: %q is both an opt-out and an opt-in word", w)
				}
			}
		}
	}
	return nil
}

// The confirmations of opt-out and opt-in words an assistant does not word
// itself; {{.opt_in_word}} and {{.opt_out_word}} are the first words of each
// list in the language of the confirmation.
var (
	defaultOptedOut = Localized{
		"tr": {Text: "Kampanya ve duyuru mesajlarımızı artık almayacaksınız. ✅ Yeniden almak isterseniz {{.opt_in_word}} yazmanız yeterli."},
		"en": {Text: "You won't receive our marketing messages anymore. ✅ To get them again, just send {{.opt_in_word}}."},
	}
	defaultOptedIn = Localized{
		"tr": {Text: "Kampanya ve duyuru mesajlarımızı yeniden alacaksınız. ✅ Durdurmak için istediğiniz zaman {{.opt_out_word}} yazabilirsiniz."},
		"en": {Text: "You'll receive our marketing messages again. ✅ Send {{.opt_out_word}} at any time to stop them."},
	}
)

func hasWords(words map[string][]string) bool {
	for _, ws := range words {
		if len(ws) > 0 {
			return true
		}
	}
	return false
}

// spokenWords returns the words of the assistant's languages.
func spokenWords(languages []string, words map[string][]string) map[string][]string {
	out := map[string][]string{}
	for _, l := range languages {
		out[l] = words[l]
	}
	return out
}

// spoken returns the messages of loc in the assistant's languages.
func (d *Definition) spoken(loc Localized) Localized {
	out := Localized{}
	for _, l := range d.Languages {
		out[l] = loc[l]
	}
	return out
}

// checkLocalized checks that loc has a message in every language of the
// assistant, that its text is a valid template, and that it fits
// WhatsApp's limits (with the text standing in for rendered values).
func (d *Definition) checkLocalized(key string, loc Localized, required bool) error {
	if len(loc) == 0 && !required {
		return nil
	}
	for l := range loc {
		if !slices.Contains(d.Languages, l) {
			return fmt.Errorf("%s.%s: the assistant does not speak %q", key, l, l)
		}
	}
	for _, l := range d.Languages {
		m, ok := loc[l]
		if !ok || m.Text == "" {
			return fmt.Errorf("%s.%s: a text is required", key, l)
		}
		if _, err := template.New(key).Option("missingkey=zero").Parse(m.Text); err != nil {
			return fmt.Errorf("%s.%s: %w", key, l, err)
		}
		if err := (whatsapp.Outbound{To: "900000000000", Content: m.content()}).Validate(); err != nil {
			return fmt.Errorf("%s.%s: %w", key, l, err)
		}
	}
	return nil
}
