package eval

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/yanit/yanit/assistant"
)

// Suite is one evaluation suite: conversations with what the assistant
// must do at each turn. The package documentation describes its YAML form;
// configs/eval/demo.yaml is the commented example.
type Suite struct {
	Name string `yaml:"name"`
	// Assistant is the definition file evaluated, relative to the suite's
	// file; empty means the demo retailer shipped in the binary.
	Assistant string `yaml:"assistant,omitempty"`
	// Knowledge is the folder of documents the assistant answers from,
	// relative to the suite's file; with an empty Assistant, the demo's.
	Knowledge string `yaml:"knowledge,omitempty"`
	// Language is the language the simulated users' WhatsApp is set to
	// (their contact locale); a case may set its own. The assistant answers
	// in it when a message does not say (a tap, a bare order number).
	Language string `yaml:"language,omitempty"`
	Cases    []Case `yaml:"cases"`

	// Path is the file the suite was read from; empty when parsed from
	// bytes.
	Path string `yaml:"-"`
}

// Case is one conversation, run from its first message by a user the
// assistant has never seen.
type Case struct {
	Name string `yaml:"name"`
	// Language overrides the suite's Language for this case's user.
	Language string `yaml:"language,omitempty"`
	// Tools stub the assistant's tools for this case, by tool name: the
	// backend answers as the stub says instead of as the real one would.
	// Tools not named here call their real backend.
	Tools map[string]Stub `yaml:"tools,omitempty"`
	Turns []Turn          `yaml:"turns"`
}

// Stub is how a stubbed tool answers every call of a case: exactly one of
// a result, an error or a timeout.
type Stub struct {
	// Result is a success: the fields the user and the agent may see.
	Result *StubResult `yaml:"result,omitempty"`
	// Error is a failure of that kind: not_found, invalid or unavailable.
	Error string `yaml:"error,omitempty"`
	// Field names the argument at fault of an invalid error.
	Field string `yaml:"field,omitempty"`
	// Timeout makes the backend never answer: the call times out.
	Timeout bool `yaml:"timeout,omitempty"`
}

// StubResult is a stubbed success.
type StubResult struct {
	User  map[string]any `yaml:"user,omitempty"`
	Agent map[string]any `yaml:"agent,omitempty"`
}

// Turn is one user message and what the assistant must do with it.
type Turn struct {
	// Text is a typed message; exactly one of Text and Tap is set.
	Text string `yaml:"text,omitempty"`
	// Tap taps a reply button or list row an earlier message offered.
	Tap    *Tap   `yaml:"tap,omitempty"`
	Expect Expect `yaml:"expect,omitempty"`
}

// Tap is a tapped reply button or list row. Whether it is a button or a row
// comes from the message that offered it.
type Tap struct {
	ID string `yaml:"id"`
	// Title is what WhatsApp shows as the user's message; empty takes the
	// offered title.
	Title string `yaml:"title,omitempty"`
}

// Expect is what a turn must show; every field left out is not checked.
type Expect struct {
	// Intent is the intent the turn recorded; "" expects none (not
	// understood, out of scope, a request for a person).
	Intent *string `yaml:"intent,omitempty"`
	// Confidence bounds the turn's confidence.
	Confidence *Range `yaml:"confidence,omitempty"`
	// Slots must all be filled with these values; others may be too.
	Slots map[string]string `yaml:"slots,omitempty"`
	// Decision is the decision, or a list of acceptable ones.
	Decision Strings `yaml:"decision,omitempty"`
	// HandoffReason is the reason of the turn's handoff
	// (person_requested, intent_handoff_always, …).
	HandoffReason string `yaml:"handoff_reason,omitempty"`
	// Tool is a call the turn must make.
	Tool *ToolCall `yaml:"tool,omitempty"`
	// Reply checks the text of the turn's messages.
	Reply *ReplyCheck `yaml:"reply,omitempty"`
	// Cites are documents the answer must cite, by document id
	// (hours.tr) or citation (hours.tr#1).
	Cites Strings `yaml:"cites,omitempty"`
	// Language is the language of the answer.
	Language string `yaml:"language,omitempty"`
	// Kind is the kind of the turn's last message: text, buttons, list,
	// template or a media kind.
	Kind string `yaml:"kind,omitempty"`
}

// Range bounds a number; a nil end is open.
type Range struct {
	Min *float64 `yaml:"min,omitempty"`
	Max *float64 `yaml:"max,omitempty"`
}

// ToolCall is an expected tool call: its name and a subset of its
// arguments.
type ToolCall struct {
	Name string         `yaml:"name"`
	Args map[string]any `yaml:"args,omitempty"`
}

// ReplyCheck checks the text of a turn's messages: their bodies, button
// titles and list rows, one per line.
type ReplyCheck struct {
	// Contains are substrings the text must contain (case-sensitive).
	Contains Strings `yaml:"contains,omitempty"`
	// NotContains are substrings it must not contain.
	NotContains Strings `yaml:"not_contains,omitempty"`
	// Matches is a regular expression (RE2) the text must match; (?i)
	// makes it case-insensitive.
	Matches string `yaml:"matches,omitempty"`

	re *regexp.Regexp
}

// Strings is a list of strings written as a list or, for one, as a
// plain string.
type Strings []string

// UnmarshalYAML reads a string or a list of strings.
func (s *Strings) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		*s = nil
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		*s = Strings{n.Value}
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return err
	}
	*s = list
	return nil
}

// MarshalYAML writes one string as a plain string.
func (s Strings) MarshalYAML() (any, error) {
	if len(s) == 1 {
		return s[0], nil
	}
	return []string(s), nil
}

// Decisions a suite may expect: the assistant's.
var decisions = []string{
	assistant.DecisionAnswer, assistant.DecisionTool, assistant.DecisionAsk, assistant.DecisionConfirm,
	assistant.DecisionClarify, assistant.DecisionHandoff, assistant.DecisionFallback, assistant.DecisionGate,
	assistant.DecisionUnsupported, assistant.DecisionSilent,
}

// Message kinds a suite may expect.
var kinds = []string{"text", "buttons", "list", "template", "image", "video", "audio", "document", "sticker"}

var language = regexp.MustCompile(`^[a-z]{2}$`)

// LoadSuite reads and checks the suite in path; its assistant and
// knowledge paths are made relative to the working directory.
func LoadSuite(path string) (*Suite, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading suite: %w", err)
	}
	s, err := ParseSuite(data)
	if err != nil {
		return nil, fmt.Errorf("suite %s: %w", path, err)
	}
	s.Path = path
	dir := filepath.Dir(path)
	for _, p := range []*string{&s.Assistant, &s.Knowledge} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	return s, nil
}

// ParseSuite reads and checks a suite. Every key it does not know is an
// error naming the key and its line; every other error names the case and
// turn.
func ParseSuite(data []byte) (*Suite, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Suite
	if err := dec.Decode(&s); err != nil {
		return nil, explainYAML(err)
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return &s, nil
}

func (s *Suite) check() error {
	if s.Name == "" {
		return errors.New("name is required")
	}
	if s.Language != "" && !language.MatchString(s.Language) {
		return fmt.Errorf("language: %q is not a two-letter language code (tr, en)", s.Language)
	}
	if s.Knowledge != "" && s.Assistant == "" {
		return errors.New("knowledge: only with assistant; the demo retailer brings its own")
	}
	if len(s.Cases) == 0 {
		return errors.New("cases: at least one is required")
	}
	seen := map[string]bool{}
	for i := range s.Cases {
		c := &s.Cases[i]
		where := fmt.Sprintf("cases[%d]", i)
		if c.Name == "" {
			return fmt.Errorf("%s.name is required", where)
		}
		where = fmt.Sprintf("cases[%d] %q", i, c.Name)
		if seen[c.Name] {
			return fmt.Errorf("%s: the name is used twice", where)
		}
		seen[c.Name] = true
		if c.Language != "" && !language.MatchString(c.Language) {
			return fmt.Errorf("%s.language: %q is not a two-letter language code (tr, en)", where, c.Language)
		}
		if len(c.Turns) == 0 {
			return fmt.Errorf("%s.turns: at least one is required", where)
		}
		for name, st := range c.Tools {
			if err := st.check(); err != nil {
				return fmt.Errorf("%s.tools.%s: %w", where, name, err)
			}
		}
		for j := range c.Turns {
			if err := c.Turns[j].check(); err != nil {
				return fmt.Errorf("%s.turns[%d]%w", where, j, err)
			}
		}
	}
	return nil
}

// check checks a turn; its errors begin with the field, for the caller's
// prefix.
func (t *Turn) check() error {
	switch {
	case t.Text == "" && t.Tap == nil:
		return errors.New(": text or tap is required")
	case t.Text != "" && t.Tap != nil:
		return errors.New(": text and tap exclude each other: a turn is one message")
	case t.Tap != nil && t.Tap.ID == "":
		return errors.New(".tap.id is required")
	}
	e := &t.Expect
	for _, d := range e.Decision {
		if !slices.Contains(decisions, d) {
			return fmt.Errorf(".expect.decision: %q is not a decision (%s)", d, strings.Join(decisions, ", "))
		}
	}
	if e.Kind != "" && !slices.Contains(kinds, e.Kind) {
		return fmt.Errorf(".expect.kind: %q is not a message kind (%s)", e.Kind, strings.Join(kinds, ", "))
	}
	if e.Language != "" && !language.MatchString(e.Language) {
		return fmt.Errorf(".expect.language: %q is not a two-letter language code (tr, en)", e.Language)
	}
	if r := e.Confidence; r != nil {
		for _, v := range []*float64{r.Min, r.Max} {
			if v != nil && (*v < 0 || *v > 1 || math.IsNaN(*v)) {
				return fmt.Errorf(".expect.confidence: %v is outside [0, 1]", *v)
			}
		}
		if r.Min != nil && r.Max != nil && *r.Min > *r.Max {
			return fmt.Errorf(".expect.confidence: min %v is above max %v", *r.Min, *r.Max)
		}
	}
	if e.Tool != nil && e.Tool.Name == "" {
		return errors.New(".expect.tool.name is required")
	}
	if r := e.Reply; r != nil && r.Matches != "" {
		var err error
		if r.re, err = regexp.Compile(r.Matches); err != nil {
			return fmt.Errorf(".expect.reply.matches: %w", err)
		}
	}
	return nil
}

// fieldsOf names the suite's YAML types in errors.
var fieldsOf = map[string]struct {
	what string
	typ  reflect.Type
}{
	"eval.Suite":      {"the suite", reflect.TypeFor[Suite]()},
	"eval.Case":       {"a case", reflect.TypeFor[Case]()},
	"eval.Turn":       {"a turn", reflect.TypeFor[Turn]()},
	"eval.Tap":        {"tap", reflect.TypeFor[Tap]()},
	"eval.Stub":       {"a tool stub", reflect.TypeFor[Stub]()},
	"eval.StubResult": {"a stub's result", reflect.TypeFor[StubResult]()},
	"eval.Expect":     {"expect", reflect.TypeFor[Expect]()},
	"eval.Range":      {"confidence", reflect.TypeFor[Range]()},
	"eval.ToolCall":   {"tool", reflect.TypeFor[ToolCall]()},
	"eval.ReplyCheck": {"reply", reflect.TypeFor[ReplyCheck]()},
}

var unknownField = regexp.MustCompile(`^line (\d+): field (\S+) not found in type (\S+)$`)

// explainYAML rewrites the decoder's errors in the suite's words: an
// unknown key is named with the keys allowed there.
func explainYAML(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("reading the suite: %w", err)
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		msgs[i] = m
		sub := unknownField.FindStringSubmatch(m)
		if sub == nil {
			continue
		}
		f, ok := fieldsOf[sub[3]]
		if !ok {
			continue
		}
		var known []string
		for i := range f.typ.NumField() {
			if tag, _, _ := strings.Cut(f.typ.Field(i).Tag.Get("yaml"), ","); tag != "" && tag != "-" {
				known = append(known, tag)
			}
		}
		msgs[i] = fmt.Sprintf("line %s: unknown key %q in %s (known: %s)", sub[1], sub[2], f.what, strings.Join(known, ", "))
	}
	return errors.New(strings.Join(msgs, "; "))
}

// check reports what makes a stub unfit: not exactly one outcome, an
// unknown error kind, a field without an invalid error.
func (st Stub) check() error {
	n := 0
	for _, set := range []bool{st.Result != nil, st.Error != "", st.Timeout} {
		if set {
			n++
		}
	}
	switch {
	case n != 1:
		return errors.New("want exactly one of result, error and timeout")
	case st.Error != "" && !slices.Contains([]string{"not_found", "invalid", "unavailable"}, st.Error):
		return fmt.Errorf("error: %q, want not_found, invalid or unavailable", st.Error)
	case st.Field != "" && st.Error != "invalid":
		return errors.New("field: only with error: invalid")
	}
	return nil
}
