package knowledge_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/llm/local"
)

// countingEmbedder records the size of every batch it embeds.
type countingEmbedder struct {
	knowledge.Embedder
	mu      sync.Mutex
	batches []int
}

func (c *countingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	c.mu.Lock()
	c.batches = append(c.batches, len(texts))
	c.mu.Unlock()
	return c.Embedder.Embed(ctx, texts)
}

func (c *countingEmbedder) calls() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.batches)
}

// embedFunc adapts a function to knowledge.Embedder.
type embedFunc func(ctx context.Context, texts []string) ([][]float32, error)

func (f embedFunc) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return f(ctx, texts)
}

// shop returns a Memory holding the test corpus (testdata/kb) in the
// collection "shop", embedded by the offline embedder.
func shop(t testing.TB) *knowledge.Memory {
	t.Helper()
	m := knowledge.NewMemory(local.NewEmbedder(512))
	added, err := knowledge.LoadDir(context.Background(), m, os.DirFS("testdata/kb"), "shop")
	if err != nil {
		t.Fatal(err)
	}
	if added != 6 {
		t.Fatalf("loaded %d documents, want 6", added)
	}
	return m
}

// addText parses markdown and adds it to m as document id.
func addText(t testing.TB, m *knowledge.Memory, id, collection, markdown string) knowledge.Change {
	t.Helper()
	doc, sections, err := knowledge.ParseMarkdown(id+".md", []byte(markdown))
	if err != nil {
		t.Fatal(err)
	}
	doc.Collection = collection
	chunks, err := knowledge.Split(sections, knowledge.DefaultChunkTokens, knowledge.DefaultOverlapTokens)
	if err != nil {
		t.Fatal(err)
	}
	change, err := m.Add(context.Background(), doc, chunks)
	if err != nil {
		t.Fatal(err)
	}
	return change
}

func search(t testing.TB, m *knowledge.Memory, q knowledge.Query) []knowledge.Hit {
	t.Helper()
	hits, err := m.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	return hits
}

func TestSearchFindsTheAnswer(t *testing.T) {
	t.Parallel()
	m := shop(t)
	for _, tt := range []struct {
		query, doc, section string // section "" accepts any of the document
	}{
		{"mağaza kaçta açılıyor", "tr/magaza-saatleri", ""},
		{"pazar günü mağaza kaçta açılıyor", "tr/magaza-saatleri", "Mağaza Saatleri > Pazar ve resmi tatiller"},
		{"cumartesi kaçta kapanıyorsunuz", "tr/magaza-saatleri", "Mağaza Saatleri > Hafta içi ve cumartesi"},
		{"how do I return an item", "en/returns", "Returns and Exchanges > How to return an item"},
		{"iade nasıl yapılır", "tr/iade", "İade ve Değişim > İade nasıl yapılır"},
		{"param ne zaman iade edilir", "tr/iade", "İade ve Değişim > Para iadesi"},
		{"kargo ücreti ne kadar", "tr/teslimat", "Teslimat ve Kargo > Kargo ücreti"},
		{"siparişim nerede", "tr/teslimat", "Teslimat ve Kargo > Kargo takibi"},
		{"when do stores open on sunday", "en/store-hours", "Store Hours > Sundays and public holidays"},
		{"do you refund to my card", "en/returns", "Returns and Exchanges > Refunds"},
		{"I lost my card", "en/loyalty-card", "Defne Card > Lost card"},
		{"how many points do I earn", "en/loyalty-card", ""}, // a tie between earning and spending
	} {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			hits := search(t, m, knowledge.Query{Text: tt.query})
			if len(hits) != knowledge.DefaultLimit {
				t.Fatalf("%d hits, want DefaultLimit %d", len(hits), knowledge.DefaultLimit)
			}
			top := hits[0]
			if top.DocumentID != tt.doc || (tt.section != "" && top.Section != tt.section) {
				t.Errorf("first hit %s [%s], want %s [%s]; hits:\n%s", top.Citation, top.Section, tt.doc, tt.section, describe(hits))
			}
			if top.Scores.Text <= 0 {
				t.Errorf("first hit has no text score: %+v", top.Scores)
			}
		})
	}
}

func describe(hits []knowledge.Hit) string {
	var b strings.Builder
	for _, h := range hits {
		fmt.Fprintf(&b, "  %-22s %-45s vector %.3f text %.2f fused %.4f\n", h.Citation, h.Section, h.Scores.Vector, h.Scores.Text, h.Scores.Fused)
	}
	return b.String()
}

func TestSearchHitFields(t *testing.T) {
	t.Parallel()
	m := shop(t)
	hits := search(t, m, knowledge.Query{Text: "iade nasıl yapılır", Limit: 20})
	if len(hits) != 20 {
		t.Fatalf("%d hits, want 20 of the corpus's chunks", len(hits))
	}
	top := hits[0]
	want := knowledge.Hit{
		ChunkID:    "tr/iade#2",
		DocumentID: "tr/iade",
		Title:      "İade ve Değişim",
		Section:    "İade ve Değişim > İade nasıl yapılır",
		Source:     "tr/iade.md",
		Language:   "tr",
		Citation:   "tr/iade#2",
		Scores:     top.Scores,
		Text:       top.Text,
	}
	if top != want {
		t.Errorf("first hit\n %+v\nwant\n %+v", top, want)
	}
	if !strings.HasPrefix(top.Text, "1. Hesabım > Siparişlerim") {
		t.Errorf("first hit text %q, want the steps of the section", top.Text)
	}
	// RRF of two first ranks: 2/61.
	if top.Scores.Fused != 2.0/61 || top.Scores.Vector <= 0 || top.Scores.Vector > 1 {
		t.Errorf("first hit scores %+v, want fused 2/61 and a cosine in (0, 1]", top.Scores)
	}
	var textless int
	for i, h := range hits {
		if i > 0 && h.Scores.Fused > hits[i-1].Scores.Fused {
			t.Errorf("hit %d fused %.5f above hit %d's %.5f", i+1, h.Scores.Fused, i, hits[i-1].Scores.Fused)
		}
		if h.Scores.Text == 0 {
			textless++
			// Only the vector rank counts: at most 1/61.
			if h.Scores.Fused > 1.0/61 {
				t.Errorf("hit %s has no text score but fused %.5f", h.Citation, h.Scores.Fused)
			}
		}
	}
	if textless == 0 {
		t.Error("every hit shares a term with the query; want the English chunks without a text score")
	}
}

func TestSearchFilters(t *testing.T) {
	t.Parallel()
	m := shop(t)
	// The same question answered in another collection.
	addText(t, m, "other/hours", "other", "# Mağaza Saatleri\n\nBaşka bir markanın mağazaları her gün 09:00'da açılır.")

	docsOf := func(q knowledge.Query) map[string]bool {
		t.Helper()
		q.Limit = 100
		out := map[string]bool{}
		for _, h := range search(t, m, q) {
			out[h.DocumentID] = true
		}
		return out
	}
	keys := func(set map[string]bool) []string {
		return slices.Sorted(func(yield func(string) bool) {
			for k := range set {
				if !yield(k) {
					return
				}
			}
		})
	}
	all := []string{"en/loyalty-card", "en/returns", "en/store-hours", "other/hours", "tr/iade", "tr/magaza-saatleri", "tr/teslimat"}
	for _, tt := range []struct {
		name string
		q    knowledge.Query
		want []string
	}{
		{"no filter", knowledge.Query{}, all},
		{"collection shop", knowledge.Query{Collection: "shop"}, slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s == "other/hours" })},
		{"collection other", knowledge.Query{Collection: "other"}, []string{"other/hours"}},
		{"collection unknown", knowledge.Query{Collection: "nope"}, nil},
		{"language en", knowledge.Query{Language: "en"}, []string{"en/loyalty-card", "en/returns", "en/store-hours"}},
		{"language tr in shop", knowledge.Query{Language: "tr", Collection: "shop"}, []string{"tr/iade", "tr/magaza-saatleri", "tr/teslimat"}},
		{"tag orders", knowledge.Query{Tags: []string{"orders"}}, []string{"en/returns", "tr/iade", "tr/teslimat"}},
		{"tags orders and returns", knowledge.Query{Tags: []string{"orders", "returns"}}, []string{"en/returns", "tr/iade"}},
		{"tags orders and returns in tr", knowledge.Query{Tags: []string{"returns", "orders"}, Language: "tr"}, []string{"tr/iade"}},
		{"tag stores", knowledge.Query{Tags: []string{"stores"}}, []string{"en/store-hours", "tr/magaza-saatleri"}},
		{"unknown tag", knowledge.Query{Tags: []string{"orders", "nope"}}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.Text = "mağaza kaçta açılıyor"
			if got := keys(docsOf(q)); !slices.Equal(got, tt.want) {
				t.Errorf("documents found %v, want %v", got, tt.want)
			}
		})
	}
	// Without a filter the other brand's answer competes; in "shop" it
	// cannot.
	hits := search(t, m, knowledge.Query{Text: "mağaza kaçta açılıyor", Collection: "shop"})
	for _, h := range hits {
		if h.DocumentID == "other/hours" {
			t.Errorf("collection shop returned %s", h.Citation)
		}
	}
}

func TestSearchErrors(t *testing.T) {
	t.Parallel()
	m := knowledge.NewMemory(local.NewEmbedder(64))
	for _, text := range []string{"", "  \n\t"} {
		if _, err := m.Search(context.Background(), knowledge.Query{Text: text}); !errors.Is(err, knowledge.ErrEmptyQuery) {
			t.Errorf("Search(%q) error %v, want ErrEmptyQuery", text, err)
		}
	}
	if _, err := m.Search(context.Background(), knowledge.Query{Text: "iade", Limit: -1}); err == nil {
		t.Error("Search with limit -1: no error")
	}
	hits, err := m.Search(context.Background(), knowledge.Query{Text: "iade"})
	if err != nil || len(hits) != 0 {
		t.Errorf("Search of an empty index = %v, %v; want no hits, no error", hits, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := shop(t).Search(ctx, knowledge.Query{Text: "iade"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Search with a cancelled context: error %v, want context.Canceled", err)
	}
	failing := knowledge.NewMemory(embedFunc(func(context.Context, []string) ([][]float32, error) {
		return nil, errors.New("model down")
	}))
	if _, err := failing.Search(context.Background(), knowledge.Query{Text: "iade"}); err == nil || !strings.Contains(err.Error(), "model down") {
		t.Errorf("Search with a failing embedder: error %v, want the embedder's", err)
	}
}

const policyV1 = `# Kargo Politikası

## Süre

Sürüm bir: siparişler zeytin kasasıyla iki günde gelir.
`

const policyV2 = `# Kargo Politikası

## Süre

Sürüm iki: siparişler aynı gün kargoya verilir.
`

func TestAddUnchangedIsANoOp(t *testing.T) {
	t.Parallel()
	e := &countingEmbedder{Embedder: local.NewEmbedder(128)}
	m := knowledge.NewMemory(e)
	if got := addText(t, m, "kargo", "shop", policyV1); got != knowledge.Added {
		t.Fatalf("first Add: %v, want added", got)
	}
	before := len(e.calls())
	if got := addText(t, m, "kargo", "shop", policyV1); got != knowledge.Unchanged {
		t.Errorf("same document again: %v, want unchanged", got)
	}
	if after := len(e.calls()); after != before {
		t.Errorf("re-adding an unchanged document embedded %d batches, want none", after-before)
	}
	// The same bytes in another collection are a change: the document moves.
	if got := addText(t, m, "kargo", "archive", policyV1); got != knowledge.Replaced {
		t.Errorf("same document in another collection: %v, want replaced", got)
	}
	if hits := search(t, m, knowledge.Query{Text: "zeytin", Collection: "shop"}); len(hits) != 0 {
		t.Errorf("the document is still found in its old collection: %s", describe(hits))
	}
}

func TestAddReplaces(t *testing.T) {
	t.Parallel()
	m := knowledge.NewMemory(local.NewEmbedder(256))
	addText(t, m, "kargo", "shop", policyV1)
	addText(t, m, "iade", "shop", "# İade\n\nÜrünleri 30 gün içinde iade edebilirsiniz.")
	if got := addText(t, m, "kargo", "shop", policyV2); got != knowledge.Replaced {
		t.Fatalf("changed document: %v, want replaced", got)
	}
	for _, q := range []string{"zeytin kasası", "sürüm bir", "kargo iki günde"} {
		for _, h := range search(t, m, knowledge.Query{Text: q, Limit: 50}) {
			if strings.Contains(h.Text, "zeytin") || strings.Contains(h.Text, "Sürüm bir") {
				t.Errorf("query %q found the replaced version: %s %q", q, h.Citation, h.Text)
			}
		}
	}
	hits := search(t, m, knowledge.Query{Text: "aynı gün kargo"})
	if hits[0].Citation != "kargo#1" || !strings.Contains(hits[0].Text, "Sürüm iki") {
		t.Errorf("new version not found first:\n%s", describe(hits))
	}
	if docs := m.Documents(); len(docs) != 2 {
		t.Errorf("%d documents after a replacement, want 2", len(docs))
	}
}

// versioned returns a document whose every chunk says which version it is,
// with a number of chunks that differs between versions.
func versioned(version string, chunks int) (knowledge.Document, []knowledge.Chunk) {
	doc := knowledge.Document{ID: "policy", Collection: "atomic", Title: "Policy", Language: "tr", Hash: version}
	out := make([]knowledge.Chunk, chunks)
	for i := range out {
		out[i] = knowledge.Chunk{
			Section: fmt.Sprintf("Policy > Part %d", i+1),
			Text:    fmt.Sprintf("Politika sürüm %s, bölüm %d: iade kuralları burada.", version, i+1),
		}
	}
	return doc, out
}

// TestReplaceIsAtomic replaces a document over and over while another
// goroutine searches it: every search must see one whole version, never a
// mix of both or a version with chunks missing. Run it with -race.
func TestReplaceIsAtomic(t *testing.T) {
	t.Parallel()
	m := knowledge.NewMemory(local.NewEmbedder(128))
	versions := map[string]int{"A": 3, "B": 7}
	ctx := context.Background()
	docA, chunksA := versioned("A", versions["A"])
	docB, chunksB := versioned("B", versions["B"])
	if _, err := m.Add(ctx, docA, chunksA); err != nil {
		t.Fatal(err)
	}
	// Unrelated chunks that must not be mistaken for the document.
	addText(t, m, "other", "atomic", "# Other\n\nBaşka bir politika, sürüm C.")

	var (
		done     atomic.Bool
		searches atomic.Int64
		wg       sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for !done.Load() || searches.Load() < 50 {
				hits, err := m.Search(ctx, knowledge.Query{Text: "politika sürüm iade", Collection: "atomic", Limit: 100})
				if err != nil {
					t.Error(err)
					return
				}
				searches.Add(1)
				seen := map[string]int{}
				for _, h := range hits {
					if h.DocumentID != "policy" {
						continue
					}
					// "Politika sürüm A, bölüm 1: …"
					seen[strings.TrimSuffix(strings.Fields(h.Text)[2], ",")]++
				}
				if len(seen) != 1 {
					t.Errorf("a search saw versions %v at once", seen)
					return
				}
				for v, n := range seen {
					if n != versions[v] {
						t.Errorf("a search saw %d chunks of version %s, which has %d", n, v, versions[v])
						return
					}
				}
			}
		})
	}
	for i := range 200 {
		doc, chunks := docB, chunksB
		if i%2 == 1 {
			doc, chunks = docA, chunksA
		}
		change, err := m.Add(ctx, doc, chunks)
		if err != nil {
			t.Fatal(err)
		}
		if change != knowledge.Replaced {
			t.Fatalf("replacement %d: %v", i, change)
		}
	}
	done.Store(true)
	wg.Wait()
	t.Logf("%d searches during 200 replacements", searches.Load())
}

func TestDelete(t *testing.T) {
	t.Parallel()
	m := shop(t)
	if !m.Delete("tr/iade") {
		t.Fatal("Delete(tr/iade) = false for a document the index holds")
	}
	if m.Delete("tr/iade") {
		t.Error("second Delete(tr/iade) = true")
	}
	for _, h := range search(t, m, knowledge.Query{Text: "iade nasıl yapılır", Limit: 100}) {
		if h.DocumentID == "tr/iade" {
			t.Errorf("deleted document found: %s", h.Citation)
		}
	}
	for _, d := range m.Documents() {
		if d.ID == "tr/iade" {
			t.Error("Documents lists the deleted document")
		}
	}
	// Loading the folder again brings it back, and only it.
	added, err := knowledge.LoadDir(context.Background(), m, os.DirFS("testdata/kb"), "shop")
	if err != nil || added != 1 {
		t.Errorf("reloading after a delete: %d added, %v; want 1, nil", added, err)
	}
}

func TestAddEmbedsInBatches(t *testing.T) {
	t.Parallel()
	e := &countingEmbedder{Embedder: local.NewEmbedder(64)}
	m := knowledge.NewMemory(e)
	doc := knowledge.Document{ID: "big", Hash: "1"}
	chunks := make([]knowledge.Chunk, 130)
	for i := range chunks {
		chunks[i] = knowledge.Chunk{Text: fmt.Sprintf("parça %d", i)}
	}
	if _, err := m.Add(context.Background(), doc, chunks); err != nil {
		t.Fatal(err)
	}
	if got := e.calls(); !slices.Equal(got, []int{64, 64, 2}) {
		t.Errorf("batches %v, want [64 64 2]", got)
	}
	hits := search(t, m, knowledge.Query{Text: "parça 129", Limit: 1})
	if hits[0].Citation != "big#130" {
		t.Errorf("last chunk cited %s, want big#130", hits[0].Citation)
	}
}

func TestAddFailureKeepsTheOldVersion(t *testing.T) {
	t.Parallel()
	embedder := local.NewEmbedder(64)
	var fail atomic.Bool
	m := knowledge.NewMemory(embedFunc(func(ctx context.Context, texts []string) ([][]float32, error) {
		if fail.Load() && len(texts) > 1 {
			return nil, errors.New("model down")
		}
		return embedder.Embed(ctx, texts)
	}))
	addText(t, m, "kargo", "shop", policyV1)

	fail.Store(true)
	doc, chunks := versioned("B", 3)
	doc.ID = "kargo"
	if _, err := m.Add(context.Background(), doc, chunks); err == nil || !strings.Contains(err.Error(), "model down") {
		t.Errorf("Add with a failing embedder: error %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Add(ctx, doc, chunks); !errors.Is(err, context.Canceled) {
		t.Errorf("Add with a cancelled context: error %v, want context.Canceled", err)
	}
	hits := search(t, m, knowledge.Query{Text: "zeytin"})
	if len(hits) != 1 || !strings.Contains(hits[0].Text, "zeytin") {
		t.Errorf("after failed replacements the old version is gone:\n%s", describe(hits))
	}
}

func TestAddErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := knowledge.NewMemory(local.NewEmbedder(64))
	chunk := []knowledge.Chunk{{Text: "metin"}}
	if _, err := m.Add(ctx, knowledge.Document{}, chunk); err == nil {
		t.Error("Add without an ID: no error")
	}
	if _, err := m.Add(ctx, knowledge.Document{ID: "a"}, nil); err == nil {
		t.Error("Add without chunks: no error")
	}
	if _, err := m.Add(ctx, knowledge.Document{ID: "a"}, []knowledge.Chunk{{Text: " "}}); err == nil {
		t.Error("Add with an empty chunk: no error")
	}
	if _, err := m.Add(ctx, knowledge.Document{ID: "a"}, chunk); err != nil {
		t.Fatal(err)
	}
	other := local.NewEmbedder(32)
	n := 0
	mixed := knowledge.NewMemory(embedFunc(func(ctx context.Context, texts []string) ([][]float32, error) {
		n++
		if n == 1 {
			return local.NewEmbedder(64).Embed(ctx, texts)
		}
		return other.Embed(ctx, texts)
	}))
	if _, err := mixed.Add(ctx, knowledge.Document{ID: "a"}, chunk); err != nil {
		t.Fatal(err)
	}
	if _, err := mixed.Add(ctx, knowledge.Document{ID: "b"}, chunk); err == nil || !strings.Contains(err.Error(), "dimension") {
		t.Errorf("Add of vectors of another dimension: error %v", err)
	}
}
