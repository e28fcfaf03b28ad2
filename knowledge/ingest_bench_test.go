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

// BenchmarkIngest measures Memory.Add with the offline embedder, in chunks
// indexed per second: 2,000 chunks of 100 words drawn from the words of the
// test corpus, as 200 documents of 10 sections, into an empty index of 512
// dimensions each round. The target is 1,000 chunks/s.
func BenchmarkIngest(b *testing.B) {
	const docs, sectionsPerDoc, words = 200, 10, 100
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
	rng := rand.New(rand.NewPCG(3, 4))
	type input struct {
		doc    knowledge.Document
		chunks []knowledge.Chunk
	}
	inputs := make([]input, docs)
	for d := range inputs {
		chunks := make([]knowledge.Chunk, sectionsPerDoc)
		for s := range chunks {
			text := make([]string, words)
			for i := range text {
				text[i] = vocab[rng.IntN(len(vocab))]
			}
			chunks[s] = knowledge.Chunk{Section: fmt.Sprintf("Belge %d > Bölüm %d", d, s), Text: strings.Join(text, " ")}
		}
		doc := knowledge.Document{ID: fmt.Sprintf("doc%03d", d), Collection: "bench", Language: []string{"tr", "en"}[d%2]}
		inputs[d] = input{doc, chunks}
	}
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
