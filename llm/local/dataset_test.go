package local

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadCLINC150(t *testing.T) {
	t.Parallel()
	p := writeFile(t, "data.json", `{"train": [["how do i cancel", "cancel"], ["hi", "greeting"]], "oos_val": [["sing", "oos"]]}`)
	got, err := LoadCLINC150(p, CLINCTrain)
	if err != nil {
		t.Fatal(err)
	}
	want := []Example{{"how do i cancel", "cancel"}, {"hi", "greeting"}}
	if !slices.Equal(got, want) {
		t.Errorf("train = %v, want %v", got, want)
	}
	if oos, err := LoadCLINC150(p, CLINCOOSVal); err != nil || len(oos) != 1 || oos[0].Intent != OutOfScope {
		t.Errorf("oos_val = %v, %v", oos, err)
	}
	if _, err := LoadCLINC150(p, "dev"); err == nil || !strings.Contains(err.Error(), `no split "dev" (have oos_val, train)`) {
		t.Errorf("missing split: %v", err)
	}
	if _, err := LoadCLINC150(writeFile(t, "bad.json", `[1`), CLINCTrain); err == nil || !strings.Contains(err.Error(), "decoding clinc150") {
		t.Errorf("bad json: %v", err)
	}
	if _, err := LoadCLINC150(filepath.Join(t.TempDir(), "none.json"), CLINCTrain); err == nil {
		t.Error("missing file: want an error")
	}
}

func TestLoadXSID(t *testing.T) {
	t.Parallel()
	p := writeFile(t, "tr.conll", "# id = 1\n# text-en = show all reminders\n# text = tüm hatırlatıcıları göster\n# intent = reminder/show_reminders\n"+
		"1\ttüm\treminder/show_reminders\tB-reference\n2\tgöster\treminder/show_reminders\tO\n\n"+
		"# text = Yarın hava nasıl?\r\n# intent = weather/find\r\n1\tYarın\tweather/find\tB-datetime\r\n")
	got, err := LoadXSID(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []Example{{"tüm hatırlatıcıları göster", "reminder/show_reminders"}, {"Yarın hava nasıl?", "weather/find"}}
	if !slices.Equal(got, want) {
		t.Errorf("LoadXSID = %q, want %q", got, want)
	}
	if _, err := LoadXSID(writeFile(t, "bad.conll", "# text = no intent\n1\tx\ty\tO\n\n")); err == nil || !strings.Contains(err.Error(), "lacks a text or an intent") {
		t.Errorf("missing intent: %v", err)
	}
}

func TestLoadCSV(t *testing.T) {
	t.Parallel()
	p := writeFile(t, "intents.csv", "utterance,intent,note\n\"Siparişim, nerede?\",order_status,x\niptal,cancel_order\n")
	got, err := LoadCSV(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []Example{{"Siparişim, nerede?", "order_status"}, {"iptal", "cancel_order"}}
	if !slices.Equal(got, want) {
		t.Errorf("LoadCSV = %q, want %q", got, want)
	}
	for name, content := range map[string]string{
		"file is empty": "",
		"row 2: want 2": "utterance,intent\nonly\n",
		"row 3: empty":  "utterance,intent\na,b\n,c\n",
		"reading row 2": "utterance,intent\n\"unterminated,b\n",
	} {
		if _, err := LoadCSV(writeFile(t, "bad.csv", content)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("LoadCSV(%q) = %v, want an error containing %q", content, err, name)
		}
	}
}

// TestLoadRealDatasets checks the loaders against the shared datasets'
// documented counts.
func TestLoadRealDatasets(t *testing.T) {
	t.Parallel()
	for split, n := range map[string]int{CLINCTrain: 15000, CLINCVal: 3000, CLINCTest: 4500, CLINCOOSVal: 100, CLINCOOSTest: 1000} {
		if got := len(loadCLINC(t, split)); got != n {
			t.Errorf("clinc150 %s: %d examples, want %d", split, got, n)
		}
	}
	for file, n := range map[string]int{"tr.test.conll": 500, "tr.valid.conll": 300, "en.valid.conll": 300} {
		if got := len(loadXSID(t, file)); got != n {
			t.Errorf("xsid %s: %d examples, want %d", file, got, n)
		}
	}
}
