package eval

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

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

// FromJSONL makes a suite like FromCSV from a JSON Lines file: one object
// per line with the utterance as "text" (or "utterance") and its label as
// "intent" (or "label"). Blank lines are skipped; an error names the line.
func FromJSONL(path string, o ImportOptions) (*Suite, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var examples []local.Example
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var row struct {
			Text, Utterance, Intent, Label string
		}
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		ex := local.Example{Text: cmp.Or(row.Text, row.Utterance), Intent: cmp.Or(row.Intent, row.Label)}
		if strings.TrimSpace(ex.Text) == "" || ex.Intent == "" {
			return nil, fmt.Errorf(`%s:%d: want {"text": "…", "intent": "…"}`, path, n)
		}
		examples = append(examples, ex)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(examples) == 0 {
		return nil, fmt.Errorf("%s: no utterances", path)
	}
	return fromExamples(path, examples, o)
}

// WriteYAML writes the suite in the format LoadSuite reads, so that an
// imported suite can be kept, edited and run like a written one.
func WriteYAML(w io.Writer, s *Suite) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("writing suite %s: %w", s.Name, err)
	}
	return enc.Close()
}
