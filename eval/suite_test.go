package eval_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yanit/yanit/eval"
)

func TestParseSuiteErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown top-level key", "name: s\ncasez: []\n",
			[]string{`line 2: unknown key "casez" in the suite`, "known: name, assistant, knowledge, language, cases"}},
		{"unknown case key", "name: s\ncases:\n  - name: c\n    turn: []\n",
			[]string{`line 4: unknown key "turn" in a case`, "name, language, tools, turns"}},
		{"unknown stub key", "name: s\ncases:\n  - name: c\n    tools: {order_status: {fail: true}}\n    turns: [{text: hi}]\n",
			[]string{`unknown key "fail" in a tool stub`, "result, error, field, timeout"}},
		{"stub with two outcomes", "name: s\ncases:\n  - name: c\n    tools: {order_status: {error: invalid, timeout: true}}\n    turns: [{text: hi}]\n",
			[]string{`cases[0] "c".tools.order_status: want exactly one of result, error and timeout`}},
		{"stub error kind", "name: s\ncases:\n  - name: c\n    tools: {order_status: {error: boom}}\n    turns: [{text: hi}]\n",
			[]string{`tools.order_status: error: "boom", want not_found, invalid or unavailable`}},
		{"stub field without invalid", "name: s\ncases:\n  - name: c\n    tools: {order_status: {error: not_found, field: order_id}}\n    turns: [{text: hi}]\n",
			[]string{`field: only with error: invalid`}},
		{"unknown turn key", "name: s\ncases:\n  - name: c\n    turns:\n      - text: hi\n        expct: {}\n",
			[]string{`line 6: unknown key "expct" in a turn`, "text, tap, expect"}},
		{"unknown expect key", "name: s\ncases:\n  - name: c\n    turns:\n      - text: hi\n        expect: {intnet: greeting}\n",
			[]string{`line 6: unknown key "intnet" in expect`, "intent, confidence, slots, decision, handoff_reason, tool, reply, cites, language, kind"}},
		{"unknown reply key", "name: s\ncases:\n  - name: c\n    turns:\n      - text: hi\n        expect:\n          reply: {contain: [x]}\n",
			[]string{`line 7: unknown key "contain" in reply`, "contains, not_contains, matches"}},
		{"unknown tool key", "name: s\ncases:\n  - name: c\n    turns:\n      - text: hi\n        expect:\n          tool: {name: t, arguments: {}}\n",
			[]string{`unknown key "arguments" in tool`, "name, args"}},
		{"unknown confidence key", "name: s\ncases:\n  - name: c\n    turns:\n      - text: hi\n        expect:\n          confidence: {minimum: 0.5}\n",
			[]string{`unknown key "minimum" in confidence`, "min, max"}},
		{"unknown tap key", "name: s\ncases:\n  - name: c\n    turns:\n      - tap: {id: x, label: y}\n",
			[]string{`unknown key "label" in tap`, "id, title"}},
		{"two unknown keys", "name: s\nlang: tr\ncases:\n  - name: c\n    turns: [{text: hi, expect: {decison: answer}}]\n",
			[]string{`line 2: unknown key "lang"`, `line 5: unknown key "decison"`}},
		{"wrong type", "name: s\ncases:\n  - name: c\n    turns: [{text: hi, expect: {confidence: {min: high}}}]\n",
			[]string{"line 4", "high"}},
		{"no name", "cases: [{name: c, turns: [{text: hi}]}]\n", []string{"name is required"}},
		{"no cases", "name: s\n", []string{"cases: at least one is required"}},
		{"case without name", "name: s\ncases: [{turns: [{text: hi}]}]\n", []string{"cases[0].name is required"}},
		{"same case name", "name: s\ncases: [{name: c, turns: [{text: hi}]}, {name: c, turns: [{text: yo}]}]\n",
			[]string{`cases[1] "c": the name is used twice`}},
		{"no turns", "name: s\ncases: [{name: c}]\n", []string{`cases[0] "c".turns: at least one is required`}},
		{"empty turn", "name: s\ncases: [{name: c, turns: [{expect: {decision: answer}}]}]\n", []string{`cases[0] "c".turns[0]: text or tap is required`}},
		{"text and tap", "name: s\ncases: [{name: c, turns: [{text: hi, tap: {id: x}}]}]\n", []string{"turns[0]: text and tap exclude each other"}},
		{"tap without id", "name: s\ncases: [{name: c, turns: [{tap: {title: x}}]}]\n", []string{"turns[0].tap.id is required"}},
		{"unknown decision", "name: s\ncases: [{name: c, turns: [{text: hi}, {text: yo, expect: {decision: [answer, answered]}}]}]\n",
			[]string{`cases[0] "c".turns[1].expect.decision: "answered" is not a decision`, "clarify"}},
		{"unknown kind", "name: s\ncases: [{name: c, turns: [{text: hi, expect: {kind: carousel}}]}]\n", []string{`expect.kind: "carousel"`, "buttons"}},
		{"confidence out of range", "name: s\ncases: [{name: c, turns: [{text: hi, expect: {confidence: {min: 1.5}}}]}]\n", []string{"expect.confidence: 1.5 is outside [0, 1]"}},
		{"confidence upside down", "name: s\ncases: [{name: c, turns: [{text: hi, expect: {confidence: {min: 0.8, max: 0.2}}}]}]\n", []string{"min 0.8 is above max 0.2"}},
		{"bad regexp", "name: s\ncases: [{name: c, turns: [{text: hi, expect: {reply: {matches: \"(\"}}}]}]\n", []string{"expect.reply.matches", "missing closing )"}},
		{"tool without name", "name: s\ncases: [{name: c, turns: [{text: hi, expect: {tool: {args: {a: 1}}}}]}]\n", []string{"expect.tool.name is required"}},
		{"bad language", "name: s\nlanguage: turkish\ncases: [{name: c, turns: [{text: hi}]}]\n", []string{`language: "turkish"`}},
		{"knowledge without assistant", "name: s\nknowledge: docs\ncases: [{name: c, turns: [{text: hi}]}]\n", []string{"knowledge: only with assistant"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := eval.ParseSuite([]byte(c.yaml))
			if err == nil {
				t.Fatal("parsed, want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestParseSuite(t *testing.T) {
	t.Parallel()
	s, err := eval.ParseSuite([]byte(`
name: s
language: en
cases:
  - name: one
    turns:
      - text: hi
        expect:
          intent: ""
          decision: fallback
          cites: [a.en, b.en]
          reply: {contains: x}
      - tap: {id: order_status}
        expect: {intent: order_status, decision: [ask, tool], tool: {name: t, args: {n: 1, s: "x"}}}
      - text: unchecked
        expect: {intent: ~, decision: ~}
`))
	if err != nil {
		t.Fatal(err)
	}
	first, second := s.Cases[0].Turns[0].Expect, s.Cases[0].Turns[1].Expect
	if first.Intent == nil || *first.Intent != "" {
		t.Errorf(`intent: "" = %v, want an expectation of no intent`, first.Intent)
	}
	if strings.Join(first.Decision, ",") != "fallback" || strings.Join(first.Cites, ",") != "a.en,b.en" ||
		strings.Join(first.Reply.Contains, ",") != "x" {
		t.Errorf("a string and a list both read as lists: %q %q %q", first.Decision, first.Cites, first.Reply.Contains)
	}
	if *second.Intent != "order_status" || strings.Join(second.Decision, ",") != "ask,tool" || second.Tool.Args["n"] != 1 {
		t.Errorf("second turn: %+v", second)
	}
	if third := s.Cases[0].Turns[2].Expect; third.Intent != nil || third.Decision != nil {
		t.Errorf("null expectations check nothing: %+v", third)
	}
	if s.Cases[0].Turns[1].Tap.ID != "order_status" {
		t.Errorf("tap: %+v", s.Cases[0].Turns[1].Tap)
	}
}

func TestLoadSuiteResolvesPaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(p, []byte("name: s\nassistant: a.yaml\nknowledge: docs\ncases: [{name: c, turns: [{text: hi}]}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := eval.LoadSuite(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Assistant != filepath.Join(dir, "a.yaml") || s.Knowledge != filepath.Join(dir, "docs") || s.Path != p {
		t.Errorf("assistant %q, knowledge %q, path %q; want them beside the suite", s.Assistant, s.Knowledge, s.Path)
	}
	if _, err := eval.LoadSuite(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(p, []byte("name: s\ncases: [{name: c, turns: [{text: hi, expect: {slot: {}}}]}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := eval.LoadSuite(p); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), `"slot"`) {
		t.Errorf("error %v, want it to name the file and the key", err)
	}
}

// The demo suite shipped in configs/eval parses: it is run by
// cmd/yanit's tests, on the demo assistant.
func TestDemoSuiteParses(t *testing.T) {
	t.Parallel()
	s, err := eval.LoadSuite(filepath.Join("..", "configs", "eval", "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Cases) < 20 {
		t.Errorf("%d cases, want about 25", len(s.Cases))
	}
}
