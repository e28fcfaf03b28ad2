package knowledge_test

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/yanit/yanit/knowledge"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

func TestEstimateTokens(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		text string
		want int
	}{
		{"", 0},
		{"merhaba", 2},                        // 1.3 → 2
		{"siparişim nerede", 3},               // 2.6 → 3
		{"one two three four five six", 8},    // 7.8 → 8
		{"a b c d e f g h i j", 13},           // 13
		{"  spaced\n\tout   words  ", 4},      // 3.9 → 4
		{strings.Repeat("kelime ", 100), 130}, // 130
	} {
		if got := knowledge.EstimateTokens(tt.text); got != tt.want {
			t.Errorf("EstimateTokens(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

// paragraphs are three blocks of known sentences, 6 to 9 words each.
var paragraphs = [][]string{
	{
		"Mağazalarımız hafta içi sabah onda açılır.",
		"Cumartesi günleri de aynı saatte açığız.",
		"Kasalar kapanıştan on beş dakika önce kapanır.",
		"Pazar günleri mağazalar bir saat geç açılır.",
	},
	{
		"Resmi tatillerde saatler değişmez ama yılbaşında kapalıyız.",
		"Bayramların ilk günü öğleden sonra açılırız.",
		"Arife günleri akşam beşte kapanırız.",
	},
	{
		"Alışveriş merkezlerindeki mağazalar merkezin saatlerine uyar.",
		"Bu mağazaların saatlerini uygulamada görebilirsiniz.",
		"Saatler değişirse size SMS ile haber veririz.",
		"Sorularınız için müşteri hizmetlerimize yazabilirsiniz.",
	},
}

func section(path string, paras [][]string) knowledge.Section {
	s := knowledge.Section{Path: path}
	for _, p := range paras {
		s.Blocks = append(s.Blocks, strings.Join(p, " "))
	}
	return s
}

// sentenceIndexes reads a chunk's text as a run of the given sentences and
// returns their indexes; it fails the test if the text holds anything else
// (a cut sentence, a stray word).
func sentenceIndexes(t *testing.T, text string, all []string) []int {
	t.Helper()
	var out []int
	rest := text
	for rest != "" {
		i := slices.IndexFunc(all, func(s string) bool { return strings.HasPrefix(rest, s) })
		if i < 0 {
			t.Fatalf("chunk %q: %q does not start with a whole sentence", text, rest)
		}
		out = append(out, i)
		rest = strings.TrimLeft(rest[len(all[i]):], " \n")
	}
	return out
}

func TestSplitSentencesOverlapAndBudget(t *testing.T) {
	t.Parallel()
	all := slices.Concat(paragraphs...)
	sec := section("Saatler", paragraphs)
	for _, tt := range []struct{ budget, overlap int }{
		{40, 12}, {40, 0}, {25, 12}, {60, 20}, {14, 13},
	} {
		t.Run(fmt.Sprintf("budget %d overlap %d", tt.budget, tt.overlap), func(t *testing.T) {
			t.Parallel()
			chunks, err := knowledge.Split([]knowledge.Section{sec}, tt.budget, tt.overlap)
			if err != nil {
				t.Fatal(err)
			}
			if len(chunks) < 2 {
				t.Fatalf("%d chunks, want several for a section of %d tokens", len(chunks), knowledge.EstimateTokens(strings.Join(all, " ")))
			}
			prevLast := -1
			for n, c := range chunks {
				if c.Tokens > tt.budget || c.Tokens != knowledge.EstimateTokens(c.Text) {
					t.Errorf("chunk %d: %d tokens (estimate %d), budget %d", n+1, c.Tokens, knowledge.EstimateTokens(c.Text), tt.budget)
				}
				if c.Section != "Saatler" {
					t.Errorf("chunk %d: section %q", n+1, c.Section)
				}
				idx := sentenceIndexes(t, c.Text, all)
				for i := 1; i < len(idx); i++ {
					if idx[i] != idx[i-1]+1 {
						t.Fatalf("chunk %d holds sentences %v, not a run", n+1, idx)
					}
				}
				first := idx[0]
				switch {
				case n == 0 && first != 0:
					t.Errorf("first chunk starts at sentence %d", first)
				case n > 0 && first > prevLast+1:
					t.Errorf("chunk %d starts at sentence %d, after a gap (previous ended at %d)", n+1, first, prevLast)
				case n > 0 && tt.overlap == 0 && first != prevLast+1:
					t.Errorf("chunk %d repeats sentences %d..%d with no overlap asked", n+1, first, prevLast)
				case n > 0 && first <= prevLast:
					repeated := strings.Join(all[first:prevLast+1], " ")
					if got := knowledge.EstimateTokens(repeated); got > tt.overlap {
						t.Errorf("chunk %d repeats %d tokens, overlap is %d", n+1, got, tt.overlap)
					}
				}
				prevLast = idx[len(idx)-1]
			}
			if prevLast != len(all)-1 {
				t.Errorf("chunks end at sentence %d of %d", prevLast, len(all)-1)
			}
		})
	}
}

// TestSplitOverlapPresent checks that with room for it, each chunk after the
// first repeats the previous chunk's last sentence.
func TestSplitOverlapPresent(t *testing.T) {
	t.Parallel()
	all := slices.Concat(paragraphs...)
	chunks, err := knowledge.Split([]knowledge.Section{section("Saatler", paragraphs)}, 40, 12)
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n < len(chunks); n++ {
		prev := sentenceIndexes(t, chunks[n-1].Text, all)
		cur := sentenceIndexes(t, chunks[n].Text, all)
		if cur[0] != prev[len(prev)-1] {
			t.Errorf("chunk %d starts with sentence %d, want the previous chunk's last (%d)", n+1, cur[0], prev[len(prev)-1])
		}
	}
}

func TestSplitBlocksWhole(t *testing.T) {
	t.Parallel()
	sec := section("Saatler", paragraphs)
	// 80 tokens hold the first two paragraphs (60 words = 78 tokens) but not
	// the third with them.
	chunks, err := knowledge.Split([]knowledge.Section{sec}, 80, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{sec.Blocks[0] + "\n\n" + sec.Blocks[1], sec.Blocks[2]}
	var got []string
	for _, c := range chunks {
		got = append(got, c.Text)
	}
	if !slices.Equal(got, want) {
		t.Errorf("chunks %q, want %q", got, want)
	}
}

func TestSplitShortSectionIsOneChunk(t *testing.T) {
	t.Parallel()
	sec := section("Kısa", paragraphs[:2])
	chunks, err := knowledge.Split([]knowledge.Section{sec}, knowledge.DefaultChunkTokens, knowledge.DefaultOverlapTokens)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 1 || chunks[0].Text != strings.Join(sec.Blocks, "\n\n") || chunks[0].Section != "Kısa" {
		t.Errorf("chunks %+v, want one with both paragraphs", chunks)
	}
}

func TestSplitNeverStraddlesSections(t *testing.T) {
	t.Parallel()
	doc := `# Saatler

## Hafta içi

Alfa bir. Alfa iki uzun bir cümle. Alfa üç. Alfa dört daha da uzun bir cümle olur.

## Hafta sonu

Beta bir. Beta iki.

### Pazar

Gama bir uzun cümle. Gama iki. Gama üç kısa. Gama dört.
`
	_, sections, err := knowledge.ParseMarkdown("saatler.md", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := knowledge.Split(sections, 10, 4)
	if err != nil {
		t.Fatal(err)
	}
	marker := map[string]string{
		"Saatler > Hafta içi":          "Alfa",
		"Saatler > Hafta sonu":         "Beta",
		"Saatler > Hafta sonu > Pazar": "Gama",
	}
	seen := map[string]int{}
	for _, c := range chunks {
		want, ok := marker[c.Section]
		if !ok {
			t.Fatalf("chunk with section %q, want one of the heading paths", c.Section)
		}
		seen[c.Section]++
		for _, m := range []string{"Alfa", "Beta", "Gama"} {
			if m != want && strings.Contains(c.Text, m) {
				t.Errorf("chunk of %q holds %s text: %q", c.Section, m, c.Text)
			}
		}
	}
	if len(seen) != 3 || seen["Saatler > Hafta içi"] < 2 {
		t.Errorf("chunks per section %v: want all three, the first split", seen)
	}
}

func TestSplitLongSentence(t *testing.T) {
	t.Parallel()
	words := make([]string, 100)
	for i := range words {
		words[i] = fmt.Sprintf("w%d", i)
	}
	long := strings.Join(words, " ")
	chunks, err := knowledge.Split([]knowledge.Section{{Blocks: []string{long + ". Short one here."}}}, 20, 8)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range chunks {
		if c.Tokens > 20 {
			t.Errorf("chunk %q: %d tokens, budget 20", c.Text, c.Tokens)
		}
		got = append(got, strings.Fields(c.Text)...)
	}
	// Every word once, in order: a cut sentence gives no overlap.
	if want := append(words[:99:99], "w99.", "Short", "one", "here."); !slices.Equal(got, want) {
		t.Errorf("words of the chunks\n %q\nwant\n %q", got, want)
	}
}

func TestSplitArguments(t *testing.T) {
	t.Parallel()
	sections := []knowledge.Section{{Blocks: []string{"text"}}}
	for _, tt := range []struct{ budget, overlap int }{{1, 0}, {0, 0}, {10, 10}, {10, -1}} {
		if _, err := knowledge.Split(sections, tt.budget, tt.overlap); err == nil {
			t.Errorf("Split(budget %d, overlap %d): no error", tt.budget, tt.overlap)
		}
	}
}

// TestSplitGolden parses and splits the test corpus with the defaults and
// compares the chunks with testdata/golden; -update rewrites them.
func TestSplitGolden(t *testing.T) {
	t.Parallel()
	root := filepath.Join("testdata", "kb")
	err := fs.WalkDir(os.DirFS(root), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			return err
		}
		doc, sections, err := knowledge.Parse(p, data)
		if err != nil {
			return err
		}
		chunks, err := knowledge.Split(sections, knowledge.DefaultChunkTokens, knowledge.DefaultOverlapTokens)
		if err != nil {
			return err
		}
		var b strings.Builder
		fmt.Fprintf(&b, "id=%s title=%q language=%s tags=%v version=%q\n", doc.ID, doc.Title, doc.Language, doc.Tags, doc.Version)
		for i, c := range chunks {
			fmt.Fprintf(&b, "\n--- #%d [%s] %d tokens\n%s\n", i+1, c.Section, c.Tokens, c.Text)
		}
		golden := filepath.Join("testdata", "golden", strings.ReplaceAll(doc.ID, "/", "_")+".txt")
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				return err
			}
			return os.WriteFile(golden, []byte(b.String()), 0o644)
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			return fmt.Errorf("%w (run go test -run Golden -update)", err)
		}
		if b.String() != string(want) {
			t.Errorf("%s: chunks differ from %s (run go test -run Golden -update and review the diff):\n%s", p, golden, b.String())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
