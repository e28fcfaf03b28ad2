package knowledge_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/llm/local"
	"github.com/yanit/yanit/store"
)

// reindexFAQ is a FAQ sheet whose rows have tags of their own.
const reindexFAQ = "question,answer,tags\n" +
	"Can I return an item?,Items can be returned within 30 days.,returns\n" +
	"Where is my invoice?,Invoices are on the orders page.,invoices\n"

// reindexFixture stores the test corpus (testdata/kb) and a FAQ sheet in
// the collection "shop", and one document in "other", all embedded by the
// local embedder in 512 dimensions; it returns the index of that model.
func reindexFixture(t *testing.T, st store.Store) *knowledge.Stored {
	t.Helper()
	ctx := context.Background()
	e := local.NewEmbedder(512)
	idx := knowledge.NewStored(st, e, e.Model(), e.Dim(), knowledge.EmbedOptions{})
	if n, err := knowledge.LoadDir(ctx, idx, os.DirFS("testdata/kb"), "shop"); err != nil || n != 6 {
		t.Fatalf("loaded %d documents (%v), want 6", n, err)
	}
	for _, f := range []struct{ collection, name, data string }{
		{"shop", "faq.csv", reindexFAQ},
		{"other", "note.md", "# Note\n\nA collection the reindex of shop leaves alone."},
	} {
		if _, err := addFile(ctx, idx, f.collection, f.name, f.data); err != nil {
			t.Fatal(err)
		}
	}
	return idx
}

// addFile parses, splits and adds a file to idx in collection.
func addFile(ctx context.Context, idx knowledge.Index, collection, name, data string) (knowledge.Change, error) {
	doc, sections, err := knowledge.Parse(name, []byte(data))
	if err != nil {
		return knowledge.Unchanged, err
	}
	doc.Collection = collection
	chunks, err := knowledge.Split(sections, knowledge.DefaultChunkTokens, knowledge.DefaultOverlapTokens)
	if err != nil {
		return knowledge.Unchanged, err
	}
	return idx.Add(ctx, doc, chunks)
}

// snapshot is what a collection holds, but its chunks' embeddings.
type snapshot struct {
	collections []store.KnowledgeCollection
	docs        []store.KnowledgeDocument
	chunks      map[string][]store.KnowledgeChunk
}

func takeSnapshot(t *testing.T, st store.Store, collection string) snapshot {
	t.Helper()
	ctx := context.Background()
	cols, err := st.ListCollections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := st.ListDocuments(ctx, collection)
	if err != nil {
		t.Fatal(err)
	}
	s := snapshot{collections: cols, docs: docs, chunks: map[string][]store.KnowledgeChunk{}}
	for _, d := range docs {
		if s.chunks[d.ID], err = st.ListChunks(ctx, collection, d.ID); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// sameChunks reports whether a and b hold the same chunks, but for their
// embeddings.
func sameChunks(a, b []store.KnowledgeChunk) bool {
	return slices.EqualFunc(a, b, func(x, y store.KnowledgeChunk) bool {
		return x.Ordinal == y.Ordinal && x.Section == y.Section && x.Text == y.Text && x.Tokens == y.Tokens &&
			slices.Equal(x.Tags, y.Tags)
	})
}

// searches returns the citations an index finds for a few questions, in
// order, each filtered as a test of the corpus would.
func searches(t *testing.T, idx knowledge.Searcher) [][]string {
	t.Helper()
	var out [][]string
	for _, q := range []knowledge.Query{
		{Text: "mağaza kaçta açılıyor", Collection: "shop"},
		{Text: "when do stores open on sunday", Collection: "shop", Mode: knowledge.VectorOnly},
		{Text: "iade nasıl yapılır", Collection: "shop"},
		{Text: "where is my invoice", Collection: "shop", Tags: []string{"invoices"}},
	} {
		hits, err := idx.Search(context.Background(), q)
		if err != nil {
			t.Fatalf("search %+v: %v", q, err)
		}
		var got []string
		for _, h := range hits {
			got = append(got, h.Citation)
		}
		out = append(out, got)
	}
	return out
}

// TestReindex: a collection embedded in one dimension is embedded again in
// another, on both stores: its documents, chunks and tags stay, searches
// with the new model find what they found, and the unchanged files added
// again with the new model change nothing.
func TestReindex(t *testing.T) {
	for name, open := range storedIndexes {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			old := reindexFixture(t, st)
			before := takeSnapshot(t, st, "shop")
			otherBefore := takeSnapshot(t, st, "other")

			// The local model in fewer dimensions (the model's name stays),
			// then a model of another name.
			for _, target := range []struct {
				model string
				dims  int
			}{
				{local.EmbeddingModel, 256},
				{"local-hash-small", 128},
			} {
				e := local.NewEmbedder(target.dims)
				res, err := knowledge.Reindex(ctx, st, e, target.model, target.dims, "shop", knowledge.EmbedOptions{Batch: 5})
				if err != nil {
					t.Fatalf("reindexing with %s (%d dims): %v", target.model, target.dims, err)
				}
				chunks := 0
				for _, cs := range before.chunks {
					chunks += len(cs)
				}
				if res.Documents != 7 || res.Chunks != chunks || res.Collection.Model != target.model ||
					res.Collection.Dimensions != target.dims || res.Previous.Name != "shop" {
					t.Errorf("result %+v, want 7 documents and %d chunks on %s (%d dims)", res, chunks, target.model, target.dims)
				}

				after := takeSnapshot(t, st, "shop")
				shop := after.collections[slices.IndexFunc(after.collections, func(c store.KnowledgeCollection) bool { return c.Name == "shop" })]
				if shop.Model != target.model || shop.Dimensions != target.dims || !shop.CreatedAt.Equal(before.collections[1].CreatedAt) {
					t.Errorf("collection after the reindex = %+v, want %s, %d dims, created %v",
						shop, target.model, target.dims, before.collections[1].CreatedAt)
				}
				if len(after.docs) != len(before.docs) {
					t.Fatalf("%d documents after the reindex, want %d", len(after.docs), len(before.docs))
				}
				for i, d := range after.docs {
					b := before.docs[i]
					fingerprint, _, _ := strings.Cut(b.Hash, ":")
					if d.ID != b.ID || d.Title != b.Title || d.Source != b.Source || d.Language != b.Language ||
						!slices.Equal(d.Tags, b.Tags) || d.Version != b.Version || d.Chunks != b.Chunks ||
						!d.CreatedAt.Equal(b.CreatedAt) || d.Hash != fingerprint+":"+target.model {
						t.Errorf("document after the reindex = %+v, want %+v with hash %s:%s", d, b, fingerprint, target.model)
					}
					if !sameChunks(after.chunks[d.ID], before.chunks[d.ID]) {
						t.Errorf("chunks of %s after the reindex = %+v, want %+v", d.ID, after.chunks[d.ID], before.chunks[d.ID])
					}
				}
				if got := takeSnapshot(t, st, "other"); got.docs[0].Hash != otherBefore.docs[0].Hash ||
					!got.docs[0].UpdatedAt.Equal(otherBefore.docs[0].UpdatedAt) {
					t.Errorf("the other collection's document changed: %+v, was %+v", got.docs[0], otherBefore.docs[0])
				}

				// Searches with the new model find the same first answers.
				idx := knowledge.NewStored(st, e, target.model, target.dims, knowledge.EmbedOptions{})
				got := searches(t, idx)
				for i, want := range []string{"tr/magaza-saatleri#", "en/store-hours#", "tr/iade#", "faq#2"} {
					if len(got[i]) == 0 || !strings.HasPrefix(got[i][0], want) {
						t.Errorf("search %d with %s (%d dims) = %v, want %s… first", i, target.model, target.dims, got[i], want)
					}
				}
				if len(got[3]) != 1 {
					t.Errorf("search filtered by a FAQ row's tag = %v, want that row alone", got[3])
				}
				// Adding the unchanged files again with the new model
				// embeds nothing.
				if n, err := knowledge.LoadDir(ctx, idx, os.DirFS("testdata/kb"), "shop"); err != nil || n != 0 {
					t.Errorf("reloading the unchanged folder with the new model added %d (%v), want 0", n, err)
				}
				// The old model is refused.
				_, err = addFile(ctx, old, "shop", "x.md", "# X\n\nBir paragraf.")
				if !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "reindex") {
					t.Errorf("adding with the old model after the reindex: %v, want a conflict saying to reindex", err)
				}
				before = after
			}

			if _, err := knowledge.Reindex(ctx, st, local.NewEmbedder(64), "m", 64, "missing", knowledge.EmbedOptions{}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("reindexing a missing collection: %v, want ErrNotFound", err)
			}
		})
	}
}

// TestReindexSameModel: reindexing with the model and dimension the
// collection has embeds every chunk again and stores it, keeping the
// hashes.
func TestReindexSameModel(t *testing.T) {
	for name, open := range storedIndexes {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			old := reindexFixture(t, st)
			before := takeSnapshot(t, st, "shop")
			want := searches(t, old)
			e := &countingEmbedder{Embedder: local.NewEmbedder(512)}
			res, err := knowledge.Reindex(ctx, st, e, local.EmbeddingModel, 512, "shop", knowledge.EmbedOptions{})
			if err != nil {
				t.Fatal(err)
			}
			embedded := 0
			for _, n := range e.calls() {
				embedded += n
			}
			if embedded != res.Chunks || res.Chunks == 0 {
				t.Errorf("embedded %d texts, want every one of the %d chunks", embedded, res.Chunks)
			}
			after := takeSnapshot(t, st, "shop")
			for i, d := range after.docs {
				b := before.docs[i]
				if d.Hash != b.Hash || !d.CreatedAt.Equal(b.CreatedAt) || d.UpdatedAt.Before(b.UpdatedAt) || d.Chunks != b.Chunks {
					t.Errorf("document after the reindex = %+v, want %+v stored again", d, b)
				}
				if !sameChunks(after.chunks[d.ID], before.chunks[d.ID]) {
					t.Errorf("chunks of %s after the reindex = %+v, want %+v", d.ID, after.chunks[d.ID], before.chunks[d.ID])
				}
			}
			if got := searches(t, old); !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("searches after the reindex = %v, want %v", got, want)
			}
		})
	}
}

// TestReindexFailureChangesNothing: whatever fails, the embedder part way,
// the embedder's dimension, or a document changed while it embeds, the
// collection stays fully as it was: its model, its documents, and what a
// search with the old model finds.
func TestReindexFailureChangesNothing(t *testing.T) {
	for name, open := range storedIndexes {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			old := reindexFixture(t, st)
			before := takeSnapshot(t, st, "shop")
			want := searches(t, old)
			small := local.NewEmbedder(256)

			var calls atomic.Int32
			failing := embedFunc(func(ctx context.Context, texts []string) ([][]float32, error) {
				if calls.Add(1) == 3 {
					return nil, errors.New("the embedding server is down")
				}
				return small.Embed(ctx, texts)
			})
			// Stores a new document of the old model, as an ingest running
			// at the same time would.
			var added atomic.Bool
			concurrent := embedFunc(func(ctx context.Context, texts []string) ([][]float32, error) {
				if !added.Swap(true) {
					if _, err := addFile(ctx, old, "shop", "late.md", "# Late\n\nAdded while the reindex embeds."); err != nil {
						return nil, err
					}
				}
				return small.Embed(ctx, texts)
			})
			for _, tc := range []struct {
				name string
				e    knowledge.Embedder
				dims int
				says string
			}{
				{"embedder failing part way", failing, 256, "the embedding server is down"},
				{"embedder of another dimension", small, 384, "256 dimensions"},
				{"document added while embedding", concurrent, 256, "run the reindex again"},
			} {
				_, err := knowledge.Reindex(ctx, st, tc.e, "local-hash-small", tc.dims, "shop",
					knowledge.EmbedOptions{Batch: 4, Workers: 1, Retries: -1})
				if err == nil || !strings.Contains(err.Error(), tc.says) {
					t.Fatalf("%s: %v, want an error saying %q", tc.name, err, tc.says)
				}
				if tc.name == "document added while embedding" {
					if !errors.Is(err, store.ErrConflict) {
						t.Errorf("%s: %v, want ErrConflict", tc.name, err)
					}
					if err := old.Delete(ctx, "shop", "late"); err != nil {
						t.Fatal(err)
					}
				}
				after := takeSnapshot(t, st, "shop")
				if !slices.EqualFunc(after.collections, before.collections, func(a, b store.KnowledgeCollection) bool {
					return a.Name == b.Name && a.Model == b.Model && a.Dimensions == b.Dimensions
				}) {
					t.Errorf("%s: collections = %+v, want %+v", tc.name, after.collections, before.collections)
				}
				if !slices.EqualFunc(after.docs, before.docs, func(a, b store.KnowledgeDocument) bool {
					return a.ID == b.ID && a.Hash == b.Hash && a.UpdatedAt.Equal(b.UpdatedAt)
				}) {
					t.Errorf("%s: documents = %+v, want %+v", tc.name, after.docs, before.docs)
				}
				for id, chunks := range before.chunks {
					if !sameChunks(after.chunks[id], chunks) {
						t.Errorf("%s: chunks of %s = %+v, want %+v", tc.name, id, after.chunks[id], chunks)
					}
				}
				if got := searches(t, old); !slices.EqualFunc(got, want, slices.Equal) {
					t.Errorf("%s: searches with the old model = %v, want %v", tc.name, got, want)
				}
			}
		})
	}
}
