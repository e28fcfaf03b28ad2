package assistant

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/llm"
	"github.com/yanit/yanit/llm/local"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/tools"
)

// Decisions recorded on a turn.
const (
	DecisionAnswer      = "answer"      // a reply from the intent, an auto-reply or knowledge
	DecisionTool        = "tool"        // a tool was called and its result answered
	DecisionAsk         = "ask"         // a slot of a tool intent was asked for
	DecisionConfirm     = "confirm"     // a state-changing tool awaits a yes
	DecisionClarify     = "clarify"     // unsure: the top candidates were offered
	DecisionHandoff     = "handoff"     // a person takes over
	DecisionFallback    = "fallback"    // not understood, or nothing supports an answer
	DecisionGate        = "gate"        // a gate (consent, policy) answered
	DecisionUnsupported = "unsupported" // a message the assistant cannot read
	DecisionSilent      = "silent"      // a human owns the conversation: the bot stays quiet
)

// Button ids of a confirmation.
const (
	ConfirmYes = "confirm_yes"
	ConfirmNo  = "confirm_no"
)

// Gate is an integrator's own check on a turn (business hours, a blocked
// contact, a policy of theirs); yanit itself configures none. Consent is
// built in and comes first (consent.go: the opt-out and opt-in words, the
// definition's notice or strict consent), then a message the assistant
// cannot read gets its reply without reaching the gates. The gates run
// next, in the order of Deps.Gates, before anything else reads the
// message (buttons, person requests, auto-replies, understanding). A
// non-nil reply ends the turn: its messages and consent records follow
// any the consent step queued (a notice and its record), its Decision is
// DecisionGate when it sets none, and the rest of it replaces the turn's
// reply (its State and Trace are the engine's). An error fails the turn.
type Gate interface {
	Gate(ctx context.Context, in Input, lang string) (*Reply, error)
}

// Deps are the engine's collaborators; each may be nil when the
// definition does not need it.
type Deps struct {
	Tools     *tools.Registry
	Knowledge knowledge.Searcher
	// Chat is the language model of understanding.provider llm; it also
	// writes grounded answers and handoff summaries when set.
	Chat llm.Chatter
	// Gates are the integrator's own checks, run in order after the
	// built-in consent step and before understanding (see Gate).
	Gates []Gate
	// Detectors find the personal data kept from the model and the
	// traces; nil means privacy.Builtin("TR").
	Detectors []privacy.Detector
	Now       func() time.Time
	Logger    *slog.Logger
}

// Engine is the assistant of one Definition: it understands a turn,
// decides, acts through tools and knowledge, and answers, handing off to a
// person when its confidence drops. It implements Responder and is safe
// for concurrent use: everything a conversation needs between turns is in
// its State.
type Engine struct {
	def        *Definition
	deps       Deps
	classifier *local.Classifier
	slots      *local.SlotExtractor
	intents    map[string]*Intent
	person     map[string][]string // language → folded phrases
	templates  sync.Map            // message text → *template.Template
}

// NewEngine builds the engine of def: it trains the intent classifier on
// the intents' examples (deterministic for a seed) and checks that every
// tool, the knowledge base and the model the definition names are there.
func NewEngine(def *Definition, deps Deps) (*Engine, error) {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Detectors == nil {
		deps.Detectors = defaultDetectors
	}
	e := &Engine{def: def, deps: deps, intents: map[string]*Intent{}, person: map[string][]string{}}
	patterns := map[string][]local.Pattern{}
	for _, p := range def.Patterns {
		scopes := p.Intents
		if len(scopes) == 0 {
			scopes = []string{""}
		}
		for _, in := range scopes {
			patterns[in] = append(patterns[in], local.Pattern{Name: p.Name, Regex: p.Regex})
		}
	}
	var err error
	if e.slots, err = local.NewSlotExtractor(patterns); err != nil {
		return nil, fmt.Errorf("assistant %q: %w", def.Name, err)
	}
	var examples []local.Example
	for i := range def.Intents {
		in := &def.Intents[i]
		e.intents[in.Name] = in
		if err := e.checkDeps(in); err != nil {
			return nil, fmt.Errorf("assistant %q: intents[%s]: %w", def.Name, in.Name, err)
		}
		for _, l := range def.Languages {
			for _, ex := range in.Examples[l] {
				examples = append(examples, local.Example{Text: ex, Intent: in.Name})
			}
		}
	}
	for _, l := range def.Languages {
		for _, ex := range def.OutOfScope[l] {
			examples = append(examples, local.Example{Text: ex, Intent: outOfScopeClass})
		}
	}
	for l, phrases := range def.PersonPhrases {
		for _, p := range phrases {
			e.person[l] = append(e.person[l], local.Fold(p))
		}
	}
	switch def.Understanding.Provider {
	case ProviderLLM:
		if deps.Chat == nil {
			return nil, fmt.Errorf("assistant %q: understanding.provider llm needs a model: set llm.provider openai", def.Name)
		}
		fallthrough
	case ProviderLocal:
		e.classifier, err = train(examples, local.TrainOptions{Seed: def.Understanding.Seed, Threshold: def.Understanding.Threshold})
		if err != nil {
			return nil, fmt.Errorf("assistant %q: training the intent classifier: %w", def.Name, err)
		}
	}
	return e, nil
}

// With returns an engine of the same definition and trained classifier
// with other collaborators, checked like NewEngine's.
func (e *Engine) With(deps Deps) (*Engine, error) {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Detectors == nil {
		deps.Detectors = defaultDetectors
	}
	c := &Engine{def: e.def, deps: deps, classifier: e.classifier, slots: e.slots, intents: e.intents, person: e.person}
	for _, in := range e.def.Intents {
		if err := c.checkDeps(&in); err != nil {
			return nil, fmt.Errorf("assistant %q: intents[%s]: %w", e.def.Name, in.Name, err)
		}
	}
	if e.def.Understanding.Provider == ProviderLLM && deps.Chat == nil {
		return nil, fmt.Errorf("assistant %q: understanding.provider llm needs a model: set llm.provider openai", e.def.Name)
	}
	return c, nil
}

// checkDeps checks that what an intent calls exists.
func (e *Engine) checkDeps(in *Intent) error {
	if in.Knowledge != nil && e.deps.Knowledge == nil {
		return errors.New("knowledge: answers from the knowledge base, but none is configured")
	}
	if in.Tool == "" {
		return nil
	}
	if e.deps.Tools == nil {
		return fmt.Errorf("tool %q: no tools are registered", in.Tool)
	}
	t, ok := e.deps.Tools.Get(in.Tool)
	if !ok {
		return fmt.Errorf("tool %q is not registered", in.Tool)
	}
	var schema struct {
		Required   []string                   `json:"required"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	_ = json.Unmarshal(t.Spec().Parameters, &schema) // the registry compiled it
	for _, req := range schema.Required {
		if !slices.ContainsFunc(in.Slots, func(s SlotSpec) bool { return s.Name == req }) {
			return fmt.Errorf("tool %q requires %q, which no slot fills", in.Tool, req)
		}
	}
	for _, s := range in.Slots {
		if _, ok := schema.Properties[s.Name]; !ok {
			return fmt.Errorf("slots[%s]: tool %q has no such argument", s.Name, in.Tool)
		}
	}
	return nil
}

// trained keeps the classifiers trained in this process by their
// examples and options: training is deterministic, so assistants sharing a
// definition (several numbers, a reload) train once.
var trained = struct {
	sync.Mutex
	m map[[32]byte]*local.Classifier
}{m: map[[32]byte]*local.Classifier{}}

func train(examples []local.Example, opts local.TrainOptions) (*local.Classifier, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%d %v\n", opts.Seed, opts.Threshold)
	for _, ex := range examples {
		fmt.Fprintf(h, "%q %q\n", ex.Intent, ex.Text)
	}
	var key [32]byte
	h.Sum(key[:0])
	trained.Lock()
	defer trained.Unlock() // one training at a time: each uses every core
	if c, ok := trained.m[key]; ok {
		return c, nil
	}
	c, err := local.Train(examples, opts)
	if err == nil {
		trained.m[key] = c
	}
	return c, err
}

// defaultDetectors find personal data when no configuration names them:
// the built-in kinds, phone numbers without a country code read as
// Turkish.
var defaultDetectors = privacy.Builtin("TR")

// outOfScopeClass is the class the definition's out_of_scope examples
// train; it is never an intent.
const outOfScopeClass = "~out_of_scope"

// Definition returns the definition the engine runs.
func (e *Engine) Definition() *Definition { return e.def }

// Deps returns what the engine works with: With(e.Deps()) with one part
// changed is the same assistant with that part replaced.
func (e *Engine) Deps() Deps { return e.deps }

// turn is the working state of one Respond call.
type turn struct {
	in      Input
	st      State
	text    string // the pending messages' text, joined
	replyID string // the id of a tapped button or row
	lang    string
	reply   Reply
	trace   Trace
	started time.Time
	// chat is the model behind the conversation's vault (privacy.Chatter);
	// nil without a model.
	chat llm.Chatter
}

// Trace is the stage-by-stage record of a turn, stored with it.
type Trace struct {
	Language   string            `json:"language"`
	Source     string            `json:"source,omitempty"` // how the intent was found: local, llm, tap, task, follow_up, keyword
	Intent     string            `json:"intent,omitempty"`
	Confidence float64           `json:"confidence"`
	Candidates []Candidate       `json:"candidates,omitempty"`
	Slots      map[string]string `json:"slots,omitempty"`
	Tools      []ToolRecord      `json:"tools,omitempty"`
	Sources    []Source          `json:"sources,omitempty"`
	// Retrieved are the knowledge search's hits, best first, whether or
	// not the answer used them (evaluation measures the ranking on them).
	Retrieved []Source            `json:"retrieved,omitempty"`
	Model     string              `json:"model,omitempty"`
	Usage     llm.Usage           `json:"usage"`
	StagesMS  map[string]float64  `json:"stages_ms"`
	Handoff   *HandoffTraceRecord `json:"handoff,omitempty"`
	// Campaign is the campaign the user answers (Input.Campaign).
	Campaign string `json:"campaign,omitempty"`
}

// HandoffTraceRecord is the trace's note of a handoff.
type HandoffTraceRecord struct {
	Reason string `json:"reason"`
	Team   string `json:"team,omitempty"`
}

func (t *turn) stage(name string, since time.Time) {
	t.trace.StagesMS[name] += float64(time.Since(since).Microseconds()) / 1000
}

// Respond answers one turn.
func (e *Engine) Respond(ctx context.Context, in Input) (Reply, error) {
	t := &turn{in: in, st: ParseState(in.Conversation.State), started: time.Now()}
	t.trace.StagesMS = map[string]float64{}
	t.trace.Campaign = in.Campaign
	if e.deps.Chat != nil {
		// The model never sees the user's personal data: placeholders
		// stand for it, the conversation's vault keeps the values.
		t.chat = privacy.NewChatter(e.deps.Chat, &t.st.Vault, e.deps.Detectors)
	}
	last := in.Pending[len(in.Pending)-1]
	var texts []string
	for _, m := range in.Pending {
		if readable(m.Type) && strings.TrimSpace(m.Body) != "" {
			texts = append(texts, strings.TrimSpace(m.Body))
		}
	}
	t.text = strings.Join(texts, "\n")
	t.replyID = replyIDOf(last)
	t.lang = e.language(t)
	t.trace.Language = t.lang

	done, err := e.consent(t)
	switch {
	case err != nil || done:
	case !readable(last.Type):
		t.reply.Decision, t.reply.Reason = DecisionUnsupported, "cannot read a "+last.Type+" message"
		err = e.say(t, e.def.Messages.Unsupported, nil)
	default:
		err = e.decide(ctx, t)
	}
	if err != nil {
		return Reply{}, err
	}
	t.st.Language = t.lang
	if t.reply.Intent != "" || t.reply.Decision != DecisionUnsupported {
		t.st.History = appendBounded(t.st.History, IntentRecord{Intent: t.reply.Intent, Confidence: t.reply.Confidence, Decision: t.reply.Decision})
	}
	if t.reply.Handoff != nil {
		e.pack(ctx, t)
	}
	t.trace.Intent, t.trace.Confidence = t.reply.Intent, t.reply.Confidence
	t.stage("total", t.started)
	redactTrace(&t.trace, &t.st.Vault, e.deps.Detectors)
	state, err := json.Marshal(t.st)
	if err != nil {
		// A value that does not encode (a tool's NaN): the conversation
		// keeps the state it had.
		e.deps.Logger.Warn("encoding a conversation's state", slog.Int64("conversation", in.Conversation.ID),
			slog.String("error", privacy.RedactKinds(err.Error(), e.deps.Detectors)))
	}
	t.reply.State = state
	t.reply.Trace = e.encodeTrace(&t.trace, in.Conversation.ID)
	return t.reply, nil
}

// unredactable is the key of the note a trace stores in place of a part
// it could not redact, saying why: it stores neither the raw value nor,
// silently, nothing.
const unredactable = "unredactable"

// redactTrace replaces the personal data in the parts of a trace that hold
// what the user gave or a backend returned (slots, tool arguments, results
// and errors) by the conversation's placeholders: traces go to analytics
// and QA, the values stay with the conversation. Arguments and results are
// redacted as JSON, value by value, numbers included (privacy.RedactJSON):
// a value after an escape ("\n10000000146") is found, and an identity
// number a backend returned unquoted becomes its placeholder, while an
// ordinary number stays the number it was.
func redactTrace(tr *Trace, v *privacy.Vault, detectors []privacy.Detector) {
	// Redact records only what the detectors find: the text of an
	// ordinary number (3, 149.90) comes back unchanged and adds nothing to
	// the vault.
	red := func(s string) string { out, _ := v.Redact(s, detectors); return out }
	if tr.Slots != nil {
		slots := make(map[string]string, len(tr.Slots)) // a copy: the state keeps the values
		for k, s := range tr.Slots {
			slots[k] = red(s)
		}
		tr.Slots = slots
	}
	for i := range tr.Tools {
		rec := &tr.Tools[i]
		rec.Args = privacy.RedactJSON(rec.Args, red)
		rec.Error = red(rec.Error)
		// Copies: the state keeps the values.
		rec.User = redactFields(rec.User, red)
		rec.Agent = redactFields(rec.Agent, red)
	}
}

// redactFields returns a copy of a tool's result fields as a trace stores
// them: encoded, redacted by privacy.RedactJSON, decoded with numbers kept
// as written. Encoding first reaches what a walk of the map would miss: a
// map[string]string, a []string or a struct a Go tool returned, numbers
// at any depth. Fields that do not encode (a NaN) cannot be redacted: a
// note saying so stands in for them.
func redactFields(m map[string]any, red func(string) string) map[string]any {
	if m == nil {
		return nil
	}
	doc, err := json.Marshal(m)
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(privacy.RedactJSON(doc, red)))
		dec.UseNumber()
		var out map[string]any
		if err = dec.Decode(&out); err == nil {
			return out
		}
	}
	return map[string]any{unredactable: "the tool's result does not encode to JSON, so it was not redacted and is not stored: " + red(err.Error())}
}

// encodeTrace returns the trace as the turn stores it. A trace that does
// not encode (a NaN) is stored as a note saying so, with its language and
// intent, rather than silently as an empty one.
func (e *Engine) encodeTrace(tr *Trace, conv int64) json.RawMessage {
	b, err := json.Marshal(tr)
	if err == nil {
		return b
	}
	msg := privacy.RedactKinds(err.Error(), e.deps.Detectors)
	e.deps.Logger.Warn("encoding a turn's trace", slog.Int64("conversation", conv), slog.String("error", msg))
	b, _ = json.Marshal(map[string]string{ // strings always encode
		"language": tr.Language, "intent": tr.Intent,
		unredactable: "the trace does not encode to JSON, so it was not redacted and is not stored: " + msg,
	})
	return b
}

// language picks the language of the answer: the one the message is
// written in when it is clear and spoken, else the conversation's, else
// the assistant's default.
func (e *Engine) language(t *turn) string {
	if t.replyID == "" && t.text != "" {
		if l, conf := local.DetectLanguage(t.text); conf >= 0.5 && slices.Contains(e.def.Languages, l) {
			return l
		}
	}
	if slices.Contains(e.def.Languages, t.st.Language) {
		return t.st.Language
	}
	if l := t.in.Contact.Locale; len(l) >= 2 && slices.Contains(e.def.Languages, l[:2]) {
		return l[:2]
	}
	return e.def.Languages[0]
}

// decide runs the gates and the policy, in order.
func (e *Engine) decide(ctx context.Context, t *turn) error {
	start := time.Now()
	for _, g := range e.deps.Gates {
		r, err := g.Gate(ctx, t.in, t.lang)
		if err != nil {
			return err
		}
		if r != nil {
			t.stage("gates", start)
			// What the consent step put in the reply stays: its messages
			// and consent records come first (a notice, and the record
			// that it was sent: without it, the notice would go out
			// again next turn), and a withheld turn stays withheld.
			prev := t.reply
			t.reply = *r
			t.reply.Messages = append(prev.Messages, r.Messages...)
			t.reply.Consents = append(prev.Consents, r.Consents...)
			t.reply.Withhold = prev.Withhold || r.Withhold
			t.reply.State, t.reply.Trace = prev.State, prev.Trace
			if t.reply.Decision == "" {
				t.reply.Decision = DecisionGate
			}
			return nil
		}
	}
	t.stage("gates", start)

	folded := local.Fold(t.text)
	// 1. A tapped button or row says exactly what the user chose.
	if t.replyID != "" {
		if done, err := e.tapped(ctx, t); done || err != nil {
			return err
		}
	}
	// 2. A confirmation answered in words.
	if task := t.st.Task; task != nil && task.Awaiting == awaitingConfirm {
		if yes, no := e.yesNo(folded); yes || no {
			return e.confirmed(ctx, t, yes)
		}
	}
	// 3. An explicit request for a person, in any language spoken.
	if phrase, ok := e.personPhrase(folded); ok {
		t.trace.Source = "keyword"
		return e.handoff(ctx, t, ReasonPersonRequested, "the user asked for a person: "+phrase, "")
	}
	// 4. Keyword auto-replies.
	for _, r := range e.def.AutoReplies {
		if k, ok := matchesKeywords(r.Keywords, folded); ok {
			return e.autoReply(ctx, t, r, "keyword "+k)
		}
	}
	if e.def.Understanding.Provider == ProviderNone {
		return e.fallback(ctx, t, "no auto-reply matched")
	}
	// 5. The answer to a slot question.
	if task := t.st.Task; task != nil && task.Awaiting != awaitingConfirm {
		if done, err := e.answerSlot(ctx, t); done || err != nil {
			return err
		}
	}
	// 6. Understanding.
	u, err := e.understand(ctx, t)
	if err != nil {
		return err
	}
	return e.act(ctx, t, u)
}

// tapped handles a tapped button or list row; it reports false for an id
// it does not know, which is then read as text.
func (e *Engine) tapped(ctx context.Context, t *turn) (bool, error) {
	id := t.replyID
	switch {
	case id == ConfirmYes || id == ConfirmNo:
		if t.st.Task == nil || t.st.Task.Awaiting != awaitingConfirm {
			return true, e.say(t, e.def.Messages.Cancelled, nil) // a stale button
		}
		return true, e.confirmed(ctx, t, id == ConfirmYes)
	case e.intents[id] != nil:
		t.trace.Source = "tap"
		t.st.Task = nil
		return true, e.act(ctx, t, understanding{Intent: id, Confidence: 1, Source: "tap"})
	}
	for _, r := range e.def.AutoReplies {
		if slices.Contains(r.IDs, id) {
			return true, e.autoReply(ctx, t, r, "tapped "+id)
		}
	}
	return false, nil
}

func (e *Engine) autoReply(ctx context.Context, t *turn, r AutoReply, reason string) error {
	t.trace.Source = "keyword"
	t.reply.Intent, t.reply.Confidence = r.Name, 1
	if err := e.say(t, r.Reply, nil); err != nil {
		return err
	}
	if r.Handoff {
		return e.handoff(ctx, t, ReasonAutoReply, "auto-reply "+r.Name, "")
	}
	t.reply.Decision, t.reply.Reason = DecisionAnswer, reason
	t.st.Fallbacks, t.st.Clarified = 0, false
	return nil
}

func (e *Engine) personPhrase(folded string) (string, bool) {
	for _, l := range e.def.Languages {
		for _, p := range e.person[l] {
			if strings.Contains(" "+folded+" ", " "+p) {
				return p, true
			}
		}
	}
	return "", false
}

var (
	yesWords = []string{"evet", "tamam", "olur", "onayliyorum", "onay", "yes", "ok", "okay", "sure", "confirm", "yep"}
	noWords  = []string{"hayir", "vazgec", "iptal etme", "istemiyorum", "no", "nope", "cancel", "dont"}
)

// yesNo reads a confirmation in words.
func (e *Engine) yesNo(folded string) (yes, no bool) {
	words := strings.Fields(folded)
	if len(words) == 0 || len(words) > 4 {
		return false, false
	}
	_, no = matchesKeywords(noWords, folded)
	if no {
		return false, true
	}
	_, yes = matchesKeywords(yesWords, folded)
	return yes, false
}

// matchesKeywords reports the first keyword whose every word begins a
// word of the folded text.
func matchesKeywords(keywords []string, folded string) (string, bool) {
	padded := " " + folded + " "
	for _, k := range keywords {
		ws := strings.Fields(local.Fold(k))
		if len(ws) == 0 {
			continue
		}
		all := true
		for _, w := range ws {
			if !strings.Contains(padded, " "+w) {
				all = false
				break
			}
		}
		if all {
			return k, true
		}
	}
	return "", false
}

// say appends a configured message in the turn's language, rendered with
// data.
func (e *Engine) say(t *turn, loc Localized, data map[string]any) error {
	m, ok := loc[t.lang]
	if !ok {
		m = loc[e.def.Languages[0]]
	}
	if m.Text == "" {
		return nil // a message the definition does not need (LoadDefinition checked)
	}
	text, err := e.render(m.Text, data)
	if err != nil {
		return err
	}
	m.Text = text
	t.reply.Messages = append(t.reply.Messages, whatsapp.Outbound{Content: m.content()})
	return nil
}

// render executes a message template; templates are parsed once.
func (e *Engine) render(text string, data map[string]any) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	cached, ok := e.templates.Load(text)
	if !ok {
		tpl, err := template.New("").Option("missingkey=zero").Parse(text)
		if err != nil {
			return "", err // LoadDefinition parsed every template: a programming error
		}
		cached, _ = e.templates.LoadOrStore(text, tpl)
	}
	tpl := cached.(*template.Template)
	var b strings.Builder
	if err := tpl.Execute(&b, data); err != nil {
		return "", fmt.Errorf("rendering %q: %w", text, err)
	}
	return strings.ReplaceAll(b.String(), "<no value>", ""), nil
}

// fallback answers what the assistant could not help with, and hands off
// after policy.max_fallbacks of them in a row.
func (e *Engine) fallback(ctx context.Context, t *turn, reason string) error {
	t.st.Fallbacks++
	if t.st.Fallbacks >= e.def.Policy.MaxFallbacks {
		return e.handoff(ctx, t, ReasonFallbacks, fmt.Sprintf("%d fallbacks in a row; last: %s", t.st.Fallbacks, reason), "")
	}
	t.reply.Decision, t.reply.Reason = DecisionFallback, reason
	return e.say(t, e.def.Messages.Fallback, nil)
}

// handoff gives the conversation to a person with the context pack.
func (e *Engine) handoff(_ context.Context, t *turn, reason, detail, team string) error {
	t.reply.Decision, t.reply.Reason = DecisionHandoff, reason+": "+detail
	t.reply.Handoff = &Handoff{Reason: reason, Detail: detail, Team: team}
	t.trace.Handoff = &HandoffTraceRecord{Reason: reason, Team: team}
	return e.say(t, e.def.Messages.Handoff, nil)
}

// pack completes the handoff context pack and resets what the assistant
// was doing: when the conversation comes back, it starts clean.
func (e *Engine) pack(ctx context.Context, t *turn) {
	h := t.reply.Handoff
	h.Language, h.Intent, h.Confidence = t.lang, t.reply.Intent, t.reply.Confidence
	h.History, h.Tools, h.Sources = t.st.History, t.st.Tools, t.st.Sources
	h.Slots = t.st.LastSlots
	if t.st.Task != nil {
		h.Slots = t.st.Task.Slots
	}
	c := t.in.Contact
	h.Contact = ContactProfile{Name: c.Name, WaID: c.WaID, Locale: c.Locale, MarketingOptOut: c.MarketingOptOut, FirstSeen: c.CreatedAt}
	h.At = e.deps.Now().UTC()
	h.Campaign = t.in.Campaign
	var msgs []store.Message
	if t.in.Transcript != nil {
		var err error
		if msgs, err = t.in.Transcript(ctx); err != nil {
			e.deps.Logger.Warn("loading the transcript for a handoff", slog.Int64("conversation", t.in.Conversation.ID), slog.String("error", err.Error()))
		}
	}
	for _, p := range t.in.Pending {
		if !slices.ContainsFunc(msgs, func(m store.Message) bool { return m.ID == p.ID && p.ID != 0 }) {
			msgs = append(msgs, p)
		}
	}
	h.Transcript = transcriptOf(msgs)
	h.Summary = extractiveSummary(h)
	if e.deps.Chat != nil {
		start := time.Now()
		if s, usage, err := llmSummary(ctx, t.chat, h); err == nil && s != "" {
			h.Summary = s
			t.trace.Usage = t.trace.Usage.Add(usage)
		}
		t.stage("summary", start)
	}
	t.st = State{Language: t.st.Language, History: t.st.History, Handoff: h}
}
