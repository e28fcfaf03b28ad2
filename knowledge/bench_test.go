package knowledge_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/llm/local"
)

// BenchmarkSearch measures one hybrid search (query embedding, cosine and
// BM25 over every chunk, fusion, sort) over 2,000 chunks of 40 words drawn
// from the words of the test corpus, embedded in 512 dimensions.
func BenchmarkSearch(b *testing.B) {
	const docs, sectionsPerDoc, words = 200, 10, 40
	var vocab []string
	for _, dir := range []string{"tr", "en"} {
		files, err := filepath.Glob(filepath.Join("testdata", "kb", dir, "*.md"))
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			vocab = append(vocab, strings.Fields(string(data))...)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	m := knowledge.NewMemory(local.NewEmbedder(512))
	ctx := context.Background()
	for d := range docs {
		chunks := make([]knowledge.Chunk, sectionsPerDoc)
		for s := range chunks {
			text := make([]string, words)
			for i := range text {
				text[i] = vocab[rng.IntN(len(vocab))]
			}
			chunks[s] = knowledge.Chunk{Section: fmt.Sprintf("Belge %d > Bölüm %d", d, s), Text: strings.Join(text, " ")}
		}
		doc := knowledge.Document{ID: fmt.Sprintf("doc%03d", d), Collection: "bench", Language: []string{"tr", "en"}[d%2]}
		if _, err := m.Add(ctx, doc, chunks); err != nil {
			b.Fatal(err)
		}
	}
	queries := []string{"mağaza kaçta açılıyor", "how do I return an item", "kargo ücreti ne kadar", "lost card points"}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		hits, err := m.Search(ctx, knowledge.Query{Text: queries[i%len(queries)], Collection: "bench"})
		if err != nil || len(hits) != knowledge.DefaultLimit {
			b.Fatalf("Search: %d hits, %v", len(hits), err)
		}
		i++
	}
	b.ReportMetric(docs*sectionsPerDoc, "chunks")
}
