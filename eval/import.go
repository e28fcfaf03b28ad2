package eval

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/llm/local"
)

// ImportOptions shape the suite made from labelled utterances.
type ImportOptions struct {
	// Name names the suite; empty takes the file's name.
	Name string
	// OutOfScope is the label of utterances no intent serves; empty means
	// "oos", CLINC150's.
	OutOfScope string
	// Language is the suite's Language, the simulated users' locale.
	Language string
	// Assistant and Knowledge are the suite's: the definition whose
	// intents the labels name (empty: the demo retailer).
	Assistant, Knowledge string
}

// FromCSV makes a suite of single-turn cases from a CSV file of
// utterances and intents (a header row, then utterance, intent; the format
// of yanit eval intents): each utterance must be classified as its intent;
// an out-of-scope one must get no intent and the fallback or a handoff.
func FromCSV(path string, o ImportOptions) (*Suite, error) {
	examples, err := local.LoadCSV(path)
	if err != nil {
		return nil, err
	}
	return fromExamples(path, examples, o)
}

// FromCLINC150 makes a suite like FromCSV from splits of a CLINC150 file
// (data_full.json: test and oos_test, say). Its out-of-scope label is
// CLINC150's own.
func FromCLINC150(path string, splits []string, o ImportOptions) (*Suite, error) {
	if len(splits) == 0 {
		splits = []string{local.CLINCTest, local.CLINCOOSTest}
	}
	var all []local.Example
	for _, split := range splits {
		es, err := local.LoadCLINC150(path, split)
		if err != nil {
			return nil, err
		}
		all = append(all, es...)
	}
	o.OutOfScope = local.OutOfScope
	return fromExamples(path, all, o)
}

func fromExamples(path string, examples []local.Example, o ImportOptions) (*Suite, error) {
	if o.OutOfScope == "" {
		o.OutOfScope = local.OutOfScope
	}
	if o.Name == "" {
		o.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	s := &Suite{Name: o.Name, Language: o.Language, Assistant: o.Assistant, Knowledge: o.Knowledge}
	none := ""
	for i, ex := range examples {
		t := Turn{Text: ex.Text}
		if ex.Intent == o.OutOfScope {
			t.Expect.Intent = &none
			t.Expect.Decision = Strings{assistant.DecisionFallback, assistant.DecisionHandoff}
		} else {
			intent := ex.Intent
			t.Expect.Intent = &intent
		}
		s.Cases = append(s.Cases, Case{Name: fmt.Sprintf("%s %d: %s", ex.Intent, i+1, clip(ex.Text, 60)), Turns: []Turn{t}})
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("importing %s: %w", path, err)
	}
	return s, nil
}

// clip shortens s to at most n characters.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
