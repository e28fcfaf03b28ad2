package knowledge_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/llm/local"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres/pgtest"
	"github.com/yanit/yanit/store/sqlite"
)

// storedIndexes opens the stored index on each store.
var storedIndexes = map[string]func(t *testing.T) store.Store{
	"sqlite": func(t *testing.T) store.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return st
	},
	"postgres": func(t *testing.T) store.Store { return pgtest.NewStore(t) },
}

// The stored index answers like the in-memory one, on both stores: the
// same corpus, the same questions, the same first hits.
func TestStoredIndex(t *testing.T) {
	for name, open := range storedIndexes {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			e := local.NewEmbedder(512)
			idx := knowledge.NewStored(st, e, e.Model(), e.Dim(), knowledge.EmbedOptions{})
			kb := os.DirFS("testdata/kb")
			n, err := knowledge.LoadDir(ctx, idx, kb, "shop")
			if err != nil || n != 6 {
				t.Fatalf("loaded %d documents (%v), want 6", n, err)
			}
			if n, err := knowledge.LoadDir(ctx, idx, kb, "shop"); err != nil || n != 0 {
				t.Fatalf("reloading the unchanged folder added %d (%v), want 0", n, err)
			}
			for _, c := range []struct{ query, doc string }{
				{"mağaza kaçta açılıyor", "tr/magaza-saatleri"},
				{"how do I return an item", "en/returns"},
				{"iade nasıl yapılır", "tr/iade"},
				{"kargo ücreti ne kadar", "tr/teslimat"},
				{"I lost my card", "en/loyalty-card"},
			} {
				hits, err := idx.Search(ctx, knowledge.Query{Text: c.query, Collection: "shop"})
				if err != nil {
					t.Fatal(err)
				}
				if len(hits) == 0 || hits[0].DocumentID != c.doc {
					t.Errorf("%q: first hit %v, want %s:\n%s", c.query, first(hits), c.doc, describe(hits))
					continue
				}
				h := hits[0]
				if h.Citation != h.ChunkID || !strings.HasPrefix(h.Citation, c.doc+"#") || h.Title == "" || h.Scores.Fused <= 0 || h.Scores.Vector <= 0 {
					t.Errorf("%q: hit fields %+v", c.query, h)
				}
			}
			// Filters: language and tags narrow the chunks searched.
			hits, err := idx.Search(ctx, knowledge.Query{Text: "return refund iade", Collection: "shop", Language: "en"})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hits {
				if h.Language != "en" {
					t.Errorf("language filter let %s (%s) through", h.Citation, h.Language)
				}
			}
			// Another embedding model for the same collection must reindex.
			other := knowledge.NewStored(st, local.NewEmbedder(256), "other-model", 256, knowledge.EmbedOptions{})
			doc, sections, _ := knowledge.Parse("x.md", []byte("# X\n\nBir paragraf."))
			doc.Collection = "shop"
			chunks, _ := knowledge.Split(sections, 256, 0)
			if _, err := other.Add(ctx, doc, chunks); !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "reindex") {
				t.Errorf("another model: %v, want a conflict saying to reindex", err)
			}
			// Delete removes the document from both rankings.
			if err := idx.Delete(ctx, "shop", "en/returns"); err != nil {
				t.Fatal(err)
			}
			hits, _ = idx.Search(ctx, knowledge.Query{Text: "how do I return an item", Collection: "shop"})
			for _, h := range hits {
				if h.DocumentID == "en/returns" {
					t.Errorf("a deleted document was found: %s", h.Citation)
				}
			}
		})
	}
}

func first(hits []knowledge.Hit) string {
	if len(hits) == 0 {
		return "none"
	}
	return hits[0].Citation
}
