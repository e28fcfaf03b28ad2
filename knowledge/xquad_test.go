package knowledge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/llm/local"
)

// datasetsDir returns the shared datasets folder: $YANIT_DATASETS, else
// shared/datasets beside the repository, else /work/shared/datasets.
// Without one holding rel the test skips, except in CI, where it fails:
// there nothing may skip.
func datasetsDir(t testing.TB, rel string) string {
	t.Helper()
	dirs := []string{filepath.Join("..", "..", "shared", "datasets"), "/work/shared/datasets"}
	if env := os.Getenv("YANIT_DATASETS"); env != "" {
		dirs = []string{env}
	}
	var err error
	for _, dir := range dirs {
		if _, err = os.Stat(filepath.Join(dir, rel)); err == nil {
			return dir
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("dataset %s missing in CI: %v (set YANIT_DATASETS to the shared datasets folder)", rel, err)
	}
	t.Skipf("dataset %s not found (%v); it lives in shared/datasets beside the repository", rel, err)
	return ""
}

// xquadFile is the part of a SQuAD v1.1 file the retrieval test reads.
type xquadFile struct {
	Data []struct {
		Paragraphs []struct {
			Context string `json:"context"`
			QAs     []struct {
				ID       string `json:"id"`
				Question string `json:"question"`
			} `json:"qas"`
		} `json:"paragraphs"`
	} `json:"data"`
}

// xquadQuestion is a question and the ID of the document holding its
// answer.
type xquadQuestion struct {
	text, doc string
}

// loadXQuAD indexes the paragraphs of xquad.<lang>.json in m, each distinct
// paragraph one document of one chunk in the collection "xquad-<lang>", and
// returns the questions in the order of the file.
func loadXQuAD(t testing.TB, m *knowledge.Memory, lang string) []xquadQuestion {
	t.Helper()
	rel := filepath.Join("xquad_tr_en", "xquad."+lang+".json")
	data, err := os.ReadFile(filepath.Join(datasetsDir(t, rel), rel))
	if err != nil {
		t.Fatal(err)
	}
	var f xquadFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("reading %s: %v", rel, err)
	}
	ids := make(map[string]string) // paragraph text → document ID
	var questions []xquadQuestion
	for _, article := range f.Data {
		for _, p := range article.Paragraphs {
			// The Turkish file's first paragraph starts with a byte order mark.
			text := strings.TrimPrefix(p.Context, "\uFEFF")
			id, ok := ids[text]
			if !ok {
				id = fmt.Sprintf("%s/%03d", lang, len(ids)+1)
				ids[text] = id
				doc := knowledge.Document{ID: id, Collection: "xquad-" + lang, Language: lang, Source: "xquad." + lang + ".json"}
				if _, err := m.Add(context.Background(), doc, []knowledge.Chunk{{Text: text}}); err != nil {
					t.Fatal(err)
				}
			}
			for _, qa := range p.QAs {
				questions = append(questions, xquadQuestion{text: qa.Question, doc: id})
			}
		}
	}
	if len(ids) != 240 || len(questions) != 1190 {
		t.Fatalf("%s: %d paragraphs and %d questions, want 240 and 1,190", rel, len(ids), len(questions))
	}
	return questions
}

// retrieval counts where n queries found their gold document.
type retrieval struct {
	n, hit1, hit5 int
	rr            float64 // sum of reciprocal ranks within the top 10
}

// add counts a query whose gold document came at the 1-based rank, or
// not in the hits when rank is 0.
func (r *retrieval) add(rank int) {
	r.n++
	if rank == 1 {
		r.hit1++
	}
	if rank >= 1 && rank <= 5 {
		r.hit5++
	}
	if rank >= 1 {
		r.rr += 1 / float64(rank)
	}
}

func (r retrieval) hitAt1() float64 { return float64(r.hit1) / float64(r.n) }
func (r retrieval) hitAt5() float64 { return float64(r.hit5) / float64(r.n) }
func (r retrieval) mrr() float64    { return r.rr / float64(r.n) }

// xquadModes are the rankings compared, in the order of the report.
var xquadModes = []knowledge.SearchMode{knowledge.VectorOnly, knowledge.TextOnly, knowledge.Fused}

// TestXQuADRetrieval measures retrieval on XQuAD (Wikipedia paragraphs and
// questions about them, in Turkish and in English; CC BY-SA 4.0): each
// question searches its language's 240 paragraphs for the one that answers
// it, by vector only, text only and fused, with the local embedder, and the
// test logs hit@1, hit@5 and MRR over the top 10. The first half of the
// questions, in the order of the file, is kept for tuning the scoring; the
// second half, held out, is the one asserted.
//
// Issue 5 asks that the fused search put the paragraph in the top five more
// often than either ranking alone. It does for the vector ranking, and the
// test asserts that. It does not for BM25, which this test does not assert:
// the questions share most of their words with their paragraph, BM25 alone
// finds it in the top five for 97-99% of them, and the hashing vectors
// (79-88%) rarely know better. Equal-weight fusion costs 3-5 points of
// hit@5 against BM25 here; the best fusion chosen on the tuning half (RRF
// with k = 10 and the vector ranking weighted 0.1) only ties BM25 on the
// held-out half, and it loses questions of the shop corpus that the vectors
// answer ("siparişim nerede"), so the fusion stays as it is.
//
// Under -race the test searches every fifth question of each half.
func TestXQuADRetrieval(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"tr", "en"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			m := knowledge.NewMemory(local.NewEmbedder(512))
			questions := loadXQuAD(t, m, lang)
			step := 1
			if raceEnabled {
				step = 5
			}
			halves := [2][]xquadQuestion{questions[:len(questions)/2], questions[len(questions)/2:]}
			var results [2][]retrieval // [half][mode]
			for h, half := range halves {
				results[h] = make([]retrieval, len(xquadModes))
				for i := 0; i < len(half); i += step {
					q := half[i]
					for k, mode := range xquadModes {
						hits := search(t, m, knowledge.Query{Text: q.text, Collection: "xquad-" + lang, Limit: 10, Mode: mode})
						rank := 0
						for r, hit := range hits {
							if hit.DocumentID == q.doc {
								rank = r + 1
								break
							}
						}
						results[h][k].add(rank)
					}
				}
			}
			var b strings.Builder
			fmt.Fprintf(&b, "XQuAD %s, 240 paragraphs:\n  %-8s %-7s %5s %6s %6s %6s\n", lang, "half", "mode", "n", "hit@1", "hit@5", "MRR")
			for h, name := range []string{"tune", "held-out"} {
				for k, mode := range xquadModes {
					r := results[h][k]
					fmt.Fprintf(&b, "  %-8s %-7s %5d %6.3f %6.3f %6.3f\n", name, mode, r.n, r.hitAt1(), r.hitAt5(), r.mrr())
				}
			}
			t.Log(b.String())
			held := results[1]
			vector, fused := held[0], held[len(xquadModes)-1]
			if fused.hitAt5() <= vector.hitAt5() {
				t.Errorf("held-out hit@5: fused %.3f, not above vector only %.3f", fused.hitAt5(), vector.hitAt5())
			}
		})
	}
}
