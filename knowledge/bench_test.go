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

// benchCorpus is the benchmarks' knowledge: docs documents of sections
// chunks of words words each, drawn from the words of the test corpus,
// half Turkish, half English.
func benchCorpus(b *testing.B, seed uint64, docs, sections, words int) []benchDoc {
	b.Helper()
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
	rng := rand.New(rand.NewPCG(seed, seed+1))
	out := make([]benchDoc, docs)
	for d := range out {
		chunks := make([]knowledge.Chunk, sections)
		for s := range chunks {
			text := make([]string, words)
			for i := range text {
				text[i] = vocab[rng.IntN(len(vocab))]
			}
			chunks[s] = knowledge.Chunk{Section: fmt.Sprintf("Belge %d > Bölüm %d", d, s), Text: strings.Join(text, " ")}
		}
		doc := knowledge.Document{ID: fmt.Sprintf("doc%03d", d), Collection: "bench", Language: []string{"tr", "en"}[d%2]}
		out[d] = benchDoc{doc, chunks}
	}
	return out
}

type benchDoc struct {
	doc    knowledge.Document
	chunks []knowledge.Chunk
}

// BenchmarkSearch measures one hybrid search (query embedding, cosine and
// BM25 over every chunk, fusion, sort) over 2,000 chunks of 40 words,
// embedded in 512 dimensions.
func BenchmarkSearch(b *testing.B) {
	const docs, sectionsPerDoc, words = 200, 10, 40
	m := knowledge.NewMemory(local.NewEmbedder(512))
	ctx := context.Background()
	for _, in := range benchCorpus(b, 1, docs, sectionsPerDoc, words) {
		if _, err := m.Add(ctx, in.doc, in.chunks); err != nil {
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

// BenchmarkIngest measures Memory.Add with the offline embedder, in chunks
// indexed per second: 2,000 chunks of 100 words, as 200 documents of 10
// sections, into an empty index of 512 dimensions each round. The issue's
// target is 1,000 chunks/s.
func BenchmarkIngest(b *testing.B) {
	const docs, sectionsPerDoc, words = 200, 10, 100
	inputs := benchCorpus(b, 3, docs, sectionsPerDoc, words)
	e := local.NewEmbedder(512)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		m := knowledge.NewMemory(e)
		for _, in := range inputs {
			if _, err := m.Add(ctx, in.doc, in.chunks); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*docs*sectionsPerDoc)/b.Elapsed().Seconds(), "chunks/s")
}
