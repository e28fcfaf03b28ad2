package knowledge_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/llm/local"
)

// AddFile names the document after the file, keeps the file's own tags
// with the ones given, lets the caller fix the language, and splits with
// the budget asked, an overlap of 0 included.
func TestAddFile(t *testing.T) {
	ctx := context.Background()
	m := knowledge.NewMemory(local.NewEmbedder(256))
	var b strings.Builder
	b.WriteString("---\ntags: [kargo]\n---\n# Kargo\n\n")
	for i := range 40 {
		b.WriteString("Cümle numarası " + strings.Repeat("x", i%5+1) + " burada biter. ")
	}
	doc, change, err := knowledge.AddFile(ctx, m, `C:\docs\kargo.md`, []byte(b.String()),
		knowledge.FileOptions{Collection: "c", Tags: []string{" yurtdışı ", "kargo"}, Language: "tr", ChunkTokens: 60, OverlapTokens: 0})
	if err != nil || change != knowledge.Added {
		t.Fatalf("AddFile: %v, %v", change, err)
	}
	if doc.ID != "kargo" || doc.Source != `C:\docs\kargo.md` || doc.Language != "tr" || !slices.Equal(doc.Tags, []string{"kargo", "yurtdışı"}) {
		t.Errorf("document %+v", doc)
	}
	hits, err := m.Search(ctx, knowledge.Query{Text: "cümle numarası", Collection: "c", Limit: 20, Mode: knowledge.TextOnly})
	if err != nil || len(hits) < 3 {
		t.Fatalf("%d chunks found (%v), want the text split in several", len(hits), err)
	}
	// No overlap: the chunks' sentences add up to the text's, once each.
	total := 0
	for _, h := range hits {
		total += strings.Count(h.Text, "burada biter.")
	}
	if total != 40 {
		t.Errorf("the chunks hold %d sentences, want the 40 once each (overlap 0)", total)
	}
	if _, _, err := knowledge.AddFile(ctx, m, "notes.exe", []byte("x"), knowledge.FileOptions{Collection: "c"}); err == nil {
		t.Error("an unsupported file was added")
	}
}
