package assistant

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Definition is one assistant as configured in YAML: the languages it
// speaks, how it understands and decides, the intents it serves and
// everything it says. configs/demo-assistant.yaml is the documented
// example.
type Definition struct {
	Name string `yaml:"name"`
	// Languages the assistant answers in, the default first ("tr", "en").
	Languages     []string      `yaml:"languages"`
	Understanding Understanding `yaml:"understanding"`
	Policy        Policy        `yaml:"policy"`
	Messages      Messages      `yaml:"messages"`
	// AutoReplies are keyword auto-replies checked before understanding.
	// With understanding.provider "none" they are the whole assistant: the
	// live-support-only setup (agents plus these rules).
	AutoReplies []AutoReply `yaml:"auto_replies"`
	// PersonPhrases are explicit requests for a human, per language; any
	// of them hands off at once, whatever the classifier says.
	PersonPhrases map[string][]string `yaml:"person_phrases"`
	// Patterns are slot extractors by regular expression, next to the
	// built-in ones (order_id, date, time, amount, phone, email).
	Patterns []SlotPattern `yaml:"patterns"`
	Intents  []Intent      `yaml:"intents"`
	// OutOfScope are examples, per language, of messages the assistant
	// does not serve (weather, football, jokes). They train an extra
	// class: a message closest to them is out of scope whatever its
	// confidence, and gets the fallback instead of a wrong answer.
	OutOfScope map[string][]string `yaml:"out_of_scope"`
	// Privacy is the assistant's consent mode, opt-out words and
	// retention (KVKK / GDPR).
	Privacy Privacy `yaml:"privacy"`
}

// Consent modes.
const (
	// ConsentStrict asks first, with the policy and reply buttons; until
	// the user accepts, nothing they write is processed or kept.
	ConsentStrict = "strict"
	// ConsentNotice informs the user once per policy version and goes on.
	ConsentNotice = "notice"
	// ConsentOff neither asks nor informs (internal use).
	ConsentOff = "off"
)

// Privacy configures how the assistant treats people's data.
type Privacy struct {
	Consent ConsentSpec `yaml:"consent"`
	// OptOutWords stop marketing messages, OptInWords resume them, per
	// language; each matches a whole message, case- and
	// diacritic-insensitively, and is confirmed in its language. Unset,
	// they are DefaultOptOutWords and DefaultOptInWords; an empty map
	// turns them off.
	OptOutWords map[string][]string `yaml:"opt_out_words"`
	OptInWords  map[string][]string `yaml:"opt_in_words"`
	// RetentionDays is how long transcripts, traces and media references
	// of the assistant's conversations are kept; 0 keeps them. The
	// retention job clears older ones; counts for analytics stay.
	RetentionDays int `yaml:"retention_days"`
}

// ConsentSpec is the consent mode and the policy it refers to.
type ConsentSpec struct {
	// Mode is strict, notice or off; empty means off.
	Mode string `yaml:"mode"`
	// PolicyVersion names the privacy policy in force; a user who
	// accepted (or was told of) another version is asked (told) again.
	PolicyVersion string `yaml:"policy_version"`
	// PolicyURL is where the policy is published; messages show it as
	// {{.policy_url}}.
	PolicyURL string `yaml:"policy_url"`
}

// The default opt-out and opt-in words: Turkish and English.
var (
	DefaultOptOutWords = map[string][]string{"tr": {"DUR", "İPTAL", "ABONELİKTEN ÇIK"}, "en": {"STOP", "UNSUBSCRIBE"}}
	DefaultOptInWords  = map[string][]string{"tr": {"BAŞLA", "ABONE OL"}, "en": {"START", "SUBSCRIBE"}}
)

// Understanding selects how intents are detected.
type Understanding struct {
	// Provider is "local" (the offline classifier trained at start from
	// the intents' examples), "llm" (the configured model, with confidence
	// from the log probabilities of a constrained label, or from agreement
	// with the local classifier) or "none" (auto-replies only).
	Provider string `yaml:"provider"`
	// Threshold is the calibrated confidence under which the assistant is
	// unsure: it clarifies once, then hands off. 0 means 0.5.
	Threshold float64 `yaml:"threshold"`
	// Seed makes training reproducible; 0 means 1.
	Seed uint64 `yaml:"seed"`
}

// Policy tunes the decisions.
type Policy struct {
	// Clarify, when true (the default), asks once with the top candidates
	// as buttons before handing off an unclear message.
	Clarify *bool `yaml:"clarify"`
	// MaxFallbacks is the number of fallbacks in a row that hand off; 0
	// means 2.
	MaxFallbacks int `yaml:"max_fallbacks"`
	// KnowledgeMinScore is the cosine similarity under which a retrieved
	// passage does not support an answer; 0 means 0.25.
	KnowledgeMinScore float64 `yaml:"knowledge_min_score"`
}

// Messages are the assistant's own words, per language.
type Messages struct {
	// Fallback answers what the assistant did not understand.
	Fallback Localized `yaml:"fallback"`
	// Clarify introduces the top candidates offered as buttons or a list.
	Clarify Localized `yaml:"clarify"`
	// Handoff tells the user a person will take over.
	Handoff Localized `yaml:"handoff"`
	// ToolError apologises for a system that failed, before handing off.
	ToolError Localized `yaml:"tool_error"`
	// NoAnswer says the knowledge base holds no answer and offers a person.
	NoAnswer Localized `yaml:"no_answer"`
	// Confirm asks before a tool that changes something; {{.action}} is the
	// intent's title. Yes and No are the button titles.
	Confirm Localized `yaml:"confirm"`
	Yes     Localized `yaml:"yes"`
	No      Localized `yaml:"no"`
	// Cancelled answers a No to a confirmation.
	Cancelled Localized `yaml:"cancelled"`
	// Unsupported answers messages the assistant cannot read (media,
	// locations, stickers, unknown types).
	Unsupported Localized `yaml:"unsupported"`
	// Source labels the citations under an answer from knowledge.
	Source Localized `yaml:"source"`
	// ConsentAsk asks for consent in strict mode ({{.policy_url}},
	// {{.policy_version}}); ConsentAccept and ConsentRefuse are its
	// buttons' titles. ConsentGiven and ConsentRefused answer the choice.
	ConsentAsk     Localized `yaml:"consent_ask"`
	ConsentAccept  Localized `yaml:"consent_accept"`
	ConsentRefuse  Localized `yaml:"consent_refuse"`
	ConsentGiven   Localized `yaml:"consent_given"`
	ConsentRefused Localized `yaml:"consent_refused"`
	// Notice informs the user of the policy once, in notice mode.
	Notice Localized `yaml:"notice"`
	// OptedOut and OptedIn confirm an opt-out or opt-in word.
	OptedOut Localized `yaml:"opted_out"`
	OptedIn  Localized `yaml:"opted_in"`
	// Sensitive points the user of a sensitive intent to the secure
	// channel: such requests are never served over WhatsApp.
	Sensitive Localized `yaml:"sensitive"`
}

// Localized is one message in each language, keyed "tr", "en", …
type Localized map[string]Message

// AutoReply is one keyword auto-reply.
type AutoReply struct {
	Name string `yaml:"name"`
	// Keywords match when every word of one of them begins a word of the
	// text, compared case- and diacritic-insensitively.
	Keywords []string `yaml:"keywords"`
	// IDs match the id of a tapped reply button or list row.
	IDs   []string  `yaml:"ids"`
	Reply Localized `yaml:"reply"`
	// Handoff, when true, hands the conversation to a person after the
	// reply.
	Handoff bool `yaml:"handoff"`
}

// SlotPattern extracts a slot by a regular expression (RE2; its first
// capture group when it has one). Intents limits it to those intents.
type SlotPattern struct {
	Name    string   `yaml:"name"`
	Regex   string   `yaml:"regex"`
	Intents []string `yaml:"intents"`
}

// Intent is one thing a user may want.
type Intent struct {
	Name string `yaml:"name"`
	// Title names the intent on a clarifying button (at most 20
	// characters) and in a confirmation, per language.
	Title map[string]string `yaml:"title"`
	// Examples are utterances per language that train the classifier.
	Examples map[string][]string `yaml:"examples"`
	// Reply answers the intent; with a Tool, it is a text/template over
	// the slots and the tool result's user fields ({{.status}}).
	Reply Localized `yaml:"reply"`
	// Tool is the registered tool the intent calls once its slots are
	// filled; only this tool may be called for the intent.
	Tool  string     `yaml:"tool"`
	Slots []SlotSpec `yaml:"slots"`
	// NotFound answers a tool that found nothing (a template like Reply).
	NotFound Localized `yaml:"not_found"`
	// Knowledge, when set, answers from the knowledge base.
	Knowledge *KnowledgeSpec `yaml:"knowledge"`
	// Handoff "always" hands every such message to a person.
	Handoff string `yaml:"handoff"`
	// Team is the suggested team for a handoff from this intent.
	Team string `yaml:"team"`
	// Sensitive intents are never served over WhatsApp (privacy issue).
	Sensitive bool `yaml:"sensitive"`
}

// SlotSpec is one argument of an intent's tool, filled from the user's
// messages across turns.
type SlotSpec struct {
	Name string `yaml:"name"`
	// Entity is the extractor that fills it: a built-in slot (order_id,
	// date, time, amount, phone, email) or a pattern's name; empty means
	// Name.
	Entity   string `yaml:"entity"`
	Required bool   `yaml:"required"`
	// Ask is the question that asks the user for it.
	Ask Localized `yaml:"ask"`
}

// KnowledgeSpec narrows the knowledge search of an intent.
type KnowledgeSpec struct {
	Collection string   `yaml:"collection"`
	Tags       []string `yaml:"tags"`
}

// UnmarshalYAML reads a Message from a mapping or, as a shorthand, from a
// plain string (its text).
func (m *Message) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		m.Text = n.Value
		return nil
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k != "text" && k != "buttons" && k != "list" {
				return fmt.Errorf("line %d: field %s not found in a message (text, buttons, list)", n.Content[i].Line, k)
			}
		}
	}
	type plain Message
	return n.Decode((*plain)(m))
}
