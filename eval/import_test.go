package eval_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/eval"
)

func TestFromCSV(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "shop-intents.csv")
	csv := "utterance,intent\n" +
		"good morning,greeting\n" +
		"has my order shipped yet,order_status\n" +
		"what time do you close,store_hours\n" +
		"write me a poem about the sea,none\n"
	if err := os.WriteFile(p, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := eval.FromCSV(p, eval.ImportOptions{OutOfScope: "none", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "shop-intents" || s.Language != "en" || len(s.Cases) != 4 {
		t.Fatalf("suite %q (%s) of %d cases", s.Name, s.Language, len(s.Cases))
	}
	in := s.Cases[1].Turns[0]
	if s.Cases[1].Name != "order_status 2: has my order shipped yet" || in.Text != "has my order shipped yet" || *in.Expect.Intent != "order_status" {
		t.Errorf("in-scope case %q: %+v", s.Cases[1].Name, in)
	}
	oos := s.Cases[3].Turns[0].Expect
	if *oos.Intent != "" || strings.Join(oos.Decision, ",") != "fallback,handoff" {
		t.Errorf("out-of-scope case expects intent %q, decision %v; want none and fallback or handoff", *oos.Intent, oos.Decision)
	}

	// The imported suite runs like a written one.
	r, err := eval.Run(context.Background(), s, shopOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.Support[eval.MetricIntentAccuracy] != 4 || r.Support[eval.MetricECE] != 3 {
		t.Errorf("intent accuracy over %d turns, ECE over %d; want 4 and 3", r.Support[eval.MetricIntentAccuracy], r.Support[eval.MetricECE])
	}
	for _, c := range r.Failed() {
		t.Errorf("case %q failed: %v", c.Name, c.Turns[0].Failures)
	}

	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("utterance,intent\nonly one column\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := eval.FromCSV(bad, eval.ImportOptions{}); err == nil || !strings.Contains(err.Error(), "row 2") {
		t.Errorf("bad csv: %v", err)
	}
}

func TestFromCLINC150(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "data_small.json")
	data := `{"train": [["hi", "greeting"]],
		"test": [["how do i get my balance", "balance"], ["what is my credit limit", "credit_limit"]],
		"oos_test": [["how tall is everest", "oos"]]}`
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := eval.FromCLINC150(p, nil, eval.ImportOptions{Assistant: "banking.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "data_small" || s.Assistant != "banking.yaml" || len(s.Cases) != 3 {
		t.Fatalf("suite %q on %q with %d cases, want test and oos_test: 3", s.Name, s.Assistant, len(s.Cases))
	}
	if *s.Cases[0].Turns[0].Expect.Intent != "balance" || *s.Cases[2].Turns[0].Expect.Intent != "" ||
		!strings.Contains(strings.Join(s.Cases[2].Turns[0].Expect.Decision, " "), assistant.DecisionFallback) {
		t.Errorf("cases: %+v", s.Cases)
	}
	if _, err := eval.FromCLINC150(p, []string{"validation"}, eval.ImportOptions{}); err == nil || !strings.Contains(err.Error(), `no split "validation"`) {
		t.Errorf("unknown split: %v", err)
	}
}

func TestFromJSONL(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "intents.jsonl")
	data := `{"text": "good morning", "intent": "greeting"}

{"utterance": "has my order shipped yet", "label": "order_status"}
{"text": "write me a poem", "intent": "oos"}
`
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := eval.FromJSONL(p, eval.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Cases) != 3 || *s.Cases[1].Turns[0].Expect.Intent != "order_status" || *s.Cases[2].Turns[0].Expect.Intent != "" {
		t.Errorf("suite %+v", s.Cases)
	}
	for body, want := range map[string]string{
		`{"text": "hi"}` + "\n":                          "intents.jsonl:1",
		`{"text": "hi", "intent": "greeting"}` + "\nx\n": "intents.jsonl:2",
		"\n\n": "no utterances",
	} {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := eval.FromJSONL(p, eval.ImportOptions{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("FromJSONL(%q) = %v, want an error naming %s", body, err, want)
		}
	}
}

// An imported suite written as YAML reads back the same.
func TestWriteYAMLRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "intents.jsonl")
	if err := os.WriteFile(p, []byte(`{"text": "günaydın", "intent": "greeting"}`+"\n"+`{"text": "bir şiir yaz", "intent": "oos"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := eval.FromJSONL(p, eval.ImportOptions{Language: "tr"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := eval.WriteYAML(&b, s); err != nil {
		t.Fatal(err)
	}
	back, err := eval.ParseSuite([]byte(b.String()))
	if err != nil {
		t.Fatalf("the written suite does not parse: %v\n%s", err, b.String())
	}
	if back.Name != s.Name || back.Language != "tr" || len(back.Cases) != 2 || back.Cases[0].Turns[0].Text != "günaydın" ||
		*back.Cases[1].Turns[0].Expect.Intent != "" || strings.Join(back.Cases[1].Turns[0].Expect.Decision, ",") != "fallback,handoff" {
		t.Errorf("read back %+v\nfrom\n%s", back, b.String())
	}
}
