package local

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// OutOfScope is the intent label of an example that belongs to no configured
// intent (CLINC150's "oos"). Train rejects it; the evaluation helpers treat
// test examples carrying it as ones the classifier should reject.
const OutOfScope = "oos"

// Example is one labelled utterance.
type Example struct {
	Text   string
	Intent string
}

// CLINC150 split names, as keys of the data_*.json files.
const (
	// CLINCTrain is the in-scope training split (15,000 in data_full.json).
	CLINCTrain = "train"
	// CLINCVal is the in-scope validation split (3,000).
	CLINCVal = "val"
	// CLINCTest is the in-scope test split (4,500).
	CLINCTest = "test"
	// CLINCOOSTrain is the out-of-scope training split (100).
	CLINCOOSTrain = "oos_train"
	// CLINCOOSVal is the out-of-scope validation split (100).
	CLINCOOSVal = "oos_val"
	// CLINCOOSTest is the out-of-scope test split (1,000).
	CLINCOOSTest = "oos_test"
)

// LoadCLINC150 reads one split of a CLINC150 (oos-eval) file such as
// data_full.json: a JSON object whose keys are splits and whose values are
// lists of [text, intent] pairs. Out-of-scope splits carry OutOfScope.
func LoadCLINC150(path, split string) ([]Example, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading clinc150: %w", err)
	}
	var file map[string][][2]string
	if err := json.Unmarshal(raw, &file); err != nil {
		return nil, fmt.Errorf("decoding clinc150 %s: %w", path, err)
	}
	pairs, ok := file[split]
	if !ok {
		keys := make([]string, 0, len(file))
		for k := range file {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return nil, fmt.Errorf("loading clinc150 %s: no split %q (have %s)", path, split, strings.Join(keys, ", "))
	}
	out := make([]Example, len(pairs))
	for i, p := range pairs {
		out[i] = Example{Text: p[0], Intent: p[1]}
	}
	return out, nil
}

// LoadXSID reads an xSID CoNLL file: utterances separated by blank lines,
// each with "# text = …" and "# intent = …" header lines followed by token
// lines, which are ignored. An utterance missing either header is an error.
func LoadXSID(path string) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loading xsid: %w", err)
	}
	defer f.Close()
	var (
		out     []Example
		cur     Example
		started bool
		line    int
	)
	flush := func() error {
		if !started {
			return nil
		}
		if cur.Text == "" || cur.Intent == "" {
			return fmt.Errorf("loading xsid %s: utterance ending at line %d lacks a text or an intent", path, line)
		}
		out = append(out, cur)
		cur, started = Example{}, false
		return nil
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line++
		s := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.TrimSpace(s) == "":
			if err := flush(); err != nil {
				return nil, err
			}
		case strings.HasPrefix(s, "# text = "):
			cur.Text, started = strings.TrimPrefix(s, "# text = "), true
		case strings.HasPrefix(s, "# intent = "):
			cur.Intent, started = strings.TrimPrefix(s, "# intent = "), true
		default:
			started = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading xsid %s: %w", path, err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// LoadCSV reads labelled utterances from a CSV file with a header row: the
// utterance in the first column, the intent in the second; further columns
// are ignored. Rows with an empty utterance or intent are errors.
func LoadCSV(path string) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loading csv: %w", err)
	}
	defer f.Close()
	out, err := readCSV(f)
	if err != nil {
		return nil, fmt.Errorf("loading csv %s: %w", path, err)
	}
	return out, nil
}

func readCSV(r io.Reader) ([]Example, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	if _, err := cr.Read(); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("reading header: file is empty")
		}
		return nil, fmt.Errorf("reading header: %w", err)
	}
	var out []Example
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading row %d: %w", len(out)+2, err)
		}
		if len(rec) < 2 {
			return nil, fmt.Errorf("reading row %d: want 2 columns (utterance, intent), got %d", len(out)+2, len(rec))
		}
		text, intent := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if text == "" || intent == "" {
			return nil, fmt.Errorf("reading row %d: empty utterance or intent", len(out)+2)
		}
		out = append(out, Example{Text: text, Intent: intent})
	}
}
