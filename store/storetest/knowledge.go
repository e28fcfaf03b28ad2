package storetest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/yanit/yanit/store"
)

// The knowledge index's conformance: what both stores guarantee. Matching
// word forms (stemming on PostgreSQL, diacritics on SQLite) is tested by
// each store's own tests.

// dims is the dimension of the suite's embeddings: small enough to write
// vectors by hand.
const dims = 8

// axis returns the unit vector along axis i of dims dimensions.
func axis(i int) []float32 {
	v := make([]float32, dims)
	v[i] = 1
	return v
}

// vec returns a vector of dims dimensions starting with xs.
func vec(xs ...float32) []float32 {
	v := make([]float32, dims)
	copy(v, xs)
	return v
}

// kdoc is a document of the suite: collection/id, in a language, with tags.
func kdoc(collection, id, hash, language string, tags ...string) store.KnowledgeDocument {
	return store.KnowledgeDocument{
		Collection: collection, ID: id, Title: "Title of " + id, Source: "docs/" + id,
		Language: language, Tags: tags, Version: "v-" + hash, Hash: hash,
	}
}

// kchunk is a chunk of the suite.
func kchunk(ordinal int, text string, embedding []float32) store.KnowledgeChunk {
	return store.KnowledgeChunk{Ordinal: ordinal, Section: "Section " + fmt.Sprint(ordinal), Text: text,
		Tokens: len(strings.Fields(text)), Embedding: embedding}
}

// ensure creates a collection of the suite's model.
func ensure(t *testing.T, s store.Queries, name string, dimensions int) store.KnowledgeCollection {
	t.Helper()
	return must(s.EnsureCollection(ctx(t), store.KnowledgeCollection{Name: name, Model: "hash-v1", Dimensions: dimensions}))(t)
}

// replace stores a document, failing the test unless the store reports
// changed as want.
func replace(t *testing.T, s store.Queries, want bool, d store.KnowledgeDocument, chunks ...store.KnowledgeChunk) {
	t.Helper()
	changed, err := s.ReplaceDocument(ctx(t), d, chunks)
	if err != nil {
		t.Fatalf("replacing %s/%s: %v", d.Collection, d.ID, err)
	}
	if changed != want {
		t.Fatalf("replacing %s/%s (hash %s): changed = %v, want %v", d.Collection, d.ID, d.Hash, changed, want)
	}
}

// hitKeys shows hits as collection/document#ordinal.
func hitKeys(hits []store.ChunkHit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = fmt.Sprintf("%s/%s#%d", h.Collection, h.DocumentID, h.Ordinal)
	}
	return out
}

// hitTexts returns the texts of hits.
func hitTexts(hits []store.ChunkHit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Text
	}
	return out
}

// hitDocs returns the distinct collection/document of hits, sorted.
func hitDocs(hits []store.ChunkHit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Collection+"/"+h.DocumentID)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// sameCollection reports whether a and b are the same, CreatedAt included.
func sameCollection(a, b store.KnowledgeCollection) bool {
	return a.Name == b.Name && a.Model == b.Model && a.Dimensions == b.Dimensions && a.CreatedAt.Equal(b.CreatedAt)
}

func testKnowledge(t *testing.T, h Harness) {
	t.Run("Collections", func(t *testing.T) { testKnowledgeCollections(t, h) })
	t.Run("Documents", func(t *testing.T) { testKnowledgeDocuments(t, h) })
	t.Run("Replace", func(t *testing.T) { testKnowledgeReplace(t, h) })
	t.Run("VectorOrder", func(t *testing.T) { testKnowledgeVectorOrder(t, h) })
	t.Run("Filters", func(t *testing.T) { testKnowledgeFilters(t, h) })
	t.Run("Text", func(t *testing.T) { testKnowledgeText(t, h) })
	t.Run("Transactions", func(t *testing.T) { testKnowledgeTransactions(t, h) })
	t.Run("ConcurrentReplace", func(t *testing.T) { testKnowledgeConcurrentReplace(t, h) })
	t.Run("ChunkTags", func(t *testing.T) { testKnowledgeChunkTags(t, h) })
	t.Run("ListChunks", func(t *testing.T) { testKnowledgeListChunks(t, h) })
	t.Run("SetCollectionModel", func(t *testing.T) { testKnowledgeSetCollectionModel(t, h) })
}

func testKnowledgeCollections(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	if got := must(s.ListCollections(c))(t); len(got) != 0 {
		t.Fatalf("collections of a new store = %+v, want none", got)
	}

	faq := ensure(t, s, "faq", dims)
	if faq.Name != "faq" || faq.Model != "hash-v1" || faq.Dimensions != dims || faq.CreatedAt.IsZero() {
		t.Fatalf("created collection = %+v", faq)
	}
	// The same again returns the stored collection.
	again := ensure(t, s, "faq", dims)
	if !sameCollection(again, faq) {
		t.Fatalf("ensuring the collection again = %+v, want the stored %+v", again, faq)
	}

	// Another model or dimension is a conflict that says what to do.
	for _, want := range []store.KnowledgeCollection{
		{Name: "faq", Model: "hash-v1", Dimensions: 16},
		{Name: "faq", Model: "text-embedding-3-small", Dimensions: dims},
	} {
		_, err := s.EnsureCollection(c, want)
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("ensuring %+v over %+v: %v, want ErrConflict", want, faq, err)
		}
		for _, part := range []string{"hash-v1", fmt.Sprintf("%d dims", dims), "yanit knowledge reindex"} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("conflict error %q does not say %q", err, part)
			}
		}
	}

	// Collections that cannot be created.
	for _, bad := range []store.KnowledgeCollection{
		{Model: "hash-v1", Dimensions: dims},
		{Name: "nomodel", Dimensions: dims},
		{Name: "nodims", Model: "hash-v1"},
		{Name: "negative", Model: "hash-v1", Dimensions: -1},
		{Name: "huge", Model: "hash-v1", Dimensions: store.MaxDimensions + 1},
	} {
		if got, err := s.EnsureCollection(c, bad); err == nil || errors.Is(err, store.ErrConflict) {
			t.Errorf("ensuring %+v: %+v, %v; want a validation error", bad, got, err)
		}
	}

	// Collections of other dimensions live side by side; a rolled-back
	// one is gone.
	docs := ensure(t, s, "docs", 4)
	large := ensure(t, s, "large", 3000)
	err := s.InTx(c, func(tx store.Queries) error {
		ensure(t, tx, "draft", 5)
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v, want the callback's error", err)
	}
	got := must(s.ListCollections(c))(t)
	if want := []store.KnowledgeCollection{docs, faq, large}; !slices.EqualFunc(got, want, sameCollection) {
		t.Fatalf("ListCollections = %+v, want %+v, by name", got, want)
	}
}

func testKnowledgeDocuments(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	ensure(t, s, "faq", dims)
	ensure(t, s, "shop", dims)

	a := kdoc("faq", "returns.md", "h1", "en", "iade", "kargo")
	replace(t, s, true, a, kchunk(1, "Returns are accepted for 14 days.", axis(0)), kchunk(2, "Refunds take 3 days.", axis(1)))
	got := must(s.GetDocument(c, "faq", "returns.md"))(t)
	if got.Collection != a.Collection || got.ID != a.ID || got.Title != a.Title || got.Source != a.Source ||
		got.Language != a.Language || !slices.Equal(got.Tags, a.Tags) || got.Version != a.Version ||
		got.Hash != a.Hash || got.Chunks != 2 || got.CreatedAt.IsZero() || !got.UpdatedAt.Equal(got.CreatedAt) {
		t.Fatalf("stored document = %+v, want %+v with 2 chunks and created = updated", got, a)
	}

	// A document without tags reads back without tags.
	replace(t, s, true, kdoc("shop", "b.md", "h1", "tr"), kchunk(1, "Kargo ücretsizdir.", axis(2)))
	replace(t, s, true, kdoc("faq", "a.md", "h1", "tr"), kchunk(1, "Sipariş durumu.", axis(3)))
	if b := must(s.GetDocument(c, "shop", "b.md"))(t); b.Tags != nil || b.Chunks != 1 {
		t.Fatalf("document without tags = %+v", b)
	}

	ids := func(ds []store.KnowledgeDocument) []string {
		out := make([]string, len(ds))
		for i, d := range ds {
			out[i] = d.Collection + "/" + d.ID
		}
		return out
	}
	if all := ids(must(s.ListDocuments(c, ""))(t)); !slices.Equal(all, []string{"faq/a.md", "faq/returns.md", "shop/b.md"}) {
		t.Fatalf("ListDocuments(all) = %v, want by collection then id", all)
	}
	if faq := ids(must(s.ListDocuments(c, "faq"))(t)); !slices.Equal(faq, []string{"faq/a.md", "faq/returns.md"}) {
		t.Fatalf("ListDocuments(faq) = %v", faq)
	}
	if none := must(s.ListDocuments(c, "missing"))(t); len(none) != 0 {
		t.Fatalf("ListDocuments(missing) = %v, want none", ids(none))
	}
	for _, key := range [][2]string{{"faq", "b.md"}, {"missing", "a.md"}, {"faq", ""}} {
		if _, err := s.GetDocument(c, key[0], key[1]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetDocument(%s, %s) = %v, want ErrNotFound", key[0], key[1], err)
		}
	}

	// Deleting a document removes it and its chunks from both searches.
	if err := s.DeleteDocument(c, "faq", "returns.md"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetDocument(c, "faq", "returns.md"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetDocument after delete = %v, want ErrNotFound", err)
	}
	if hits := must(s.SearchText(c, "returns refunds", store.ChunkFilter{}))(t); len(hits) != 0 {
		t.Fatalf("text search after delete = %v, want nothing", hitKeys(hits))
	}
	hits := must(s.SearchVector(c, axis(0), store.ChunkFilter{}))(t)
	if keys := hitKeys(hits); !slices.Equal(hitDocs(hits), []string{"faq/a.md", "shop/b.md"}) {
		t.Fatalf("vector search after delete = %v, want only the chunks of faq/a.md and shop/b.md", keys)
	}
	for _, key := range [][2]string{{"faq", "returns.md"}, {"shop", "a.md"}, {"missing", "b.md"}} {
		if err := s.DeleteDocument(c, key[0], key[1]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteDocument(%s, %s) = %v, want ErrNotFound", key[0], key[1], err)
		}
	}
	// A deleted ID is new again.
	replace(t, s, true, a, kchunk(1, "Returns again.", axis(0)))
}

func testKnowledgeReplace(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	ensure(t, s, "faq", dims)
	ensure(t, s, "small", 4)

	v1 := kdoc("faq", "kargo.md", "h1", "tr", "kargo")
	replace(t, s, true, v1,
		kchunk(1, "eskimetin birinci parça", axis(0)),
		kchunk(2, "eskimetin ikinci parça", axis(1)))
	first := must(s.GetDocument(c, "faq", "kargo.md"))(t)

	// The same hash changes nothing, whatever the chunks say.
	replace(t, s, false, v1, kchunk(1, "yoksayılan metin", axis(2)))
	if hits := must(s.SearchText(c, "yoksayılan", store.ChunkFilter{}))(t); len(hits) != 0 {
		t.Fatalf("text of an unchanged replace is searchable: %v", hitKeys(hits))
	}
	if got := must(s.GetDocument(c, "faq", "kargo.md"))(t); got.Chunks != 2 || !got.UpdatedAt.Equal(first.UpdatedAt) {
		t.Fatalf("document after an unchanged replace = %+v, want %+v", got, first)
	}

	// A new hash replaces the document and all its chunks.
	v2 := kdoc("faq", "kargo.md", "h2", "tr", "kargo", "yeni")
	v2.Title = "Kargo v2"
	replace(t, s, true, v2,
		kchunk(1, "yenimetin birinci parça", axis(2)),
		kchunk(2, "yenimetin ikinci parça", axis(3)),
		kchunk(3, "yenimetin üçüncü parça", axis(4)))
	got := must(s.GetDocument(c, "faq", "kargo.md"))(t)
	if got.Hash != "h2" || got.Title != "Kargo v2" || got.Chunks != 3 || !slices.Equal(got.Tags, v2.Tags) ||
		!got.CreatedAt.Equal(first.CreatedAt) || got.UpdatedAt.Before(first.UpdatedAt) {
		t.Fatalf("replaced document = %+v, want hash h2, 3 chunks, CreatedAt %v kept, UpdatedAt not before %v",
			got, first.CreatedAt, first.UpdatedAt)
	}
	if hits := must(s.SearchText(c, "eskimetin", store.ChunkFilter{}))(t); len(hits) != 0 {
		t.Fatalf("text search finds the old version: %v", hitTexts(hits))
	}
	if hits := must(s.SearchText(c, "yenimetin", store.ChunkFilter{}))(t); len(hits) != 3 {
		t.Fatalf("text search for the new version = %v, want its 3 chunks", hitTexts(hits))
	}
	for _, q := range [][]float32{axis(0), axis(1), axis(2)} {
		hits := must(s.SearchVector(c, q, store.ChunkFilter{}))(t)
		if len(hits) != 3 {
			t.Fatalf("vector search %v = %v, want the 3 chunks of the new version", q, hitTexts(hits))
		}
		for _, h := range hits {
			if !strings.HasPrefix(h.Text, "yenimetin") || h.Title != "Kargo v2" {
				t.Fatalf("vector search %v found %q of %q, want only the new version", q, h.Text, h.Title)
			}
		}
	}

	// Documents the store refuses leave the stored version as it was.
	refused := []struct {
		name   string
		doc    store.KnowledgeDocument
		chunks []store.KnowledgeChunk
		says   []string // what the error must name
	}{
		{"embedding of another dimension", kdoc("faq", "kargo.md", "h3", "tr"),
			[]store.KnowledgeChunk{kchunk(1, "ok", axis(0)), kchunk(2, "short", []float32{1, 0, 0, 0})},
			[]string{"kargo.md", "4 dimensions", "8"}},
		{"no hash", kdoc("faq", "kargo.md", "", "tr"), []store.KnowledgeChunk{kchunk(1, "x", axis(0))}, nil},
		{"no chunks", kdoc("faq", "kargo.md", "h3", "tr"), nil, nil},
		{"two chunks with one ordinal", kdoc("faq", "kargo.md", "h3", "tr"),
			[]store.KnowledgeChunk{kchunk(1, "a", axis(0)), kchunk(1, "b", axis(1))}, nil},
		{"ordinal 0", kdoc("faq", "kargo.md", "h3", "tr"), []store.KnowledgeChunk{kchunk(0, "a", axis(0))}, nil},
		{"empty text", kdoc("faq", "kargo.md", "h3", "tr"), []store.KnowledgeChunk{kchunk(1, " ", axis(0))}, nil},
		{"NaN", kdoc("faq", "kargo.md", "h3", "tr"),
			[]store.KnowledgeChunk{kchunk(1, "a", vec(1, float32(math.NaN())))}, nil},
		{"no ID", kdoc("faq", "", "h3", "tr"), []store.KnowledgeChunk{kchunk(1, "a", axis(0))}, nil},
	}
	for _, r := range refused {
		changed, err := s.ReplaceDocument(c, r.doc, r.chunks)
		if err == nil || changed {
			t.Errorf("%s: changed %v, error %v; want an error", r.name, changed, err)
			continue
		}
		for _, part := range r.says {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("%s: error %q does not say %q", r.name, err, part)
			}
		}
	}
	if after := must(s.GetDocument(c, "faq", "kargo.md"))(t); after.Hash != "h2" || after.Chunks != 3 {
		t.Fatalf("document after refused replaces = %+v, want version h2", after)
	}

	// A collection that does not exist holds nothing.
	_, err := s.ReplaceDocument(c, kdoc("missing", "a.md", "h1", "tr"), []store.KnowledgeChunk{kchunk(1, "a", axis(0))})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("replacing into a missing collection: %v, want ErrNotFound", err)
	}
	// The same document ID in two collections is two documents.
	replace(t, s, true, kdoc("small", "kargo.md", "h1", "tr"), kchunk(1, "küçük", []float32{0, 1, 0, 0}))
	if all := must(s.ListDocuments(c, ""))(t); len(all) != 2 {
		t.Fatalf("documents = %+v, want faq/kargo.md and small/kargo.md", all)
	}
}

func testKnowledgeVectorOrder(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	ensure(t, s, "v", dims)
	ensure(t, s, "other", 4)
	ensure(t, s, "empty", dims)

	// Cosine similarities to axis 0, known by construction; magnitudes do
	// not count.
	replace(t, s, true, kdoc("v", "d1", "h", "en"),
		kchunk(1, "same direction", axis(0)),
		kchunk(2, "45 degrees, long", vec(3, 3)),
		kchunk(3, "no direction", vec()))
	replace(t, s, true, kdoc("v", "d2", "h", "en"),
		kchunk(1, "orthogonal", axis(2)),
		kchunk(2, "opposite", vec(-2)),
		kchunk(3, "63 degrees", vec(1, 2)),
		kchunk(4, "nearly the same", vec(10, 0, 0, 1)))
	replace(t, s, true, kdoc("other", "d3", "h", "en"), kchunk(1, "four dimensions", []float32{1, 0, 0, 0}))

	type want struct {
		text  string
		score float64
	}
	all := []want{
		{"same direction", 1},
		{"nearly the same", 10 / math.Sqrt(101)},
		{"45 degrees, long", 1 / math.Sqrt2},
		{"63 degrees", 1 / math.Sqrt(5)},
		{"orthogonal", 0},
		{"opposite", -1},
	}
	check := func(t *testing.T, name string, hits []store.ChunkHit, wants []want) {
		t.Helper()
		if len(hits) != len(wants) {
			t.Fatalf("%s: %v, want %d hits", name, hitTexts(hits), len(wants))
		}
		for i, w := range wants {
			if hits[i].Text != w.text || math.Abs(hits[i].Score-w.score) > 1e-5 {
				t.Fatalf("%s: hit %d = %q score %v, want %q score %v (all: %v)", name, i, hits[i].Text, hits[i].Score,
					w.text, w.score, hitTexts(hits))
			}
		}
	}
	check(t, "axis 0", must(s.SearchVector(c, axis(0), store.ChunkFilter{Collection: "v"}))(t), all)
	// The query's length does not count either; without a collection,
	// only embeddings of the query's dimension are searched.
	check(t, "axis 0 × 7", must(s.SearchVector(c, vec(7), store.ChunkFilter{}))(t), all)
	check(t, "limit 2", must(s.SearchVector(c, axis(0), store.ChunkFilter{Collection: "v", Limit: 2}))(t), all[:2])
	check(t, "opposite direction", must(s.SearchVector(c, vec(-1), store.ChunkFilter{Limit: 1}))(t),
		[]want{{"opposite", 1}})

	hit := must(s.SearchVector(c, axis(0), store.ChunkFilter{Limit: 1}))(t)[0]
	if hit.Collection != "v" || hit.DocumentID != "d1" || hit.Ordinal != 1 || hit.Title != "Title of d1" ||
		hit.Source != "docs/d1" || hit.Language != "en" || hit.Section != "Section 1" {
		t.Fatalf("hit = %+v, want every field of v/d1#1", hit)
	}
	four := must(s.SearchVector(c, []float32{1, 0, 0, 0}, store.ChunkFilter{}))(t)
	if len(four) != 1 || four[0].Text != "four dimensions" {
		t.Fatalf("search with 4 dimensions = %v, want the one chunk of 4", hitTexts(four))
	}
	if hits := must(s.SearchVector(c, axis(0), store.ChunkFilter{Collection: "empty"}))(t); len(hits) != 0 {
		t.Fatalf("search of an empty collection = %v", hitTexts(hits))
	}
	// A zero vector has no direction: it finds nothing.
	if hits := must(s.SearchVector(c, vec(), store.ChunkFilter{}))(t); len(hits) != 0 {
		t.Fatalf("search with a zero vector = %v, want nothing", hitTexts(hits))
	}

	// Searches the store refuses.
	if _, err := s.SearchVector(c, axis(0), store.ChunkFilter{Collection: "missing"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("search of a missing collection: %v, want ErrNotFound", err)
	}
	for name, bad := range map[string]struct {
		v []float32
		f store.ChunkFilter
	}{
		"another dimension than the collection's": {[]float32{1, 0, 0, 0}, store.ChunkFilter{Collection: "v"}},
		"empty vector":   {nil, store.ChunkFilter{}},
		"infinite value": {vec(float32(math.Inf(1))), store.ChunkFilter{}},
		"negative limit": {axis(0), store.ChunkFilter{Limit: -1}},
	} {
		if hits, err := s.SearchVector(c, bad.v, bad.f); err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %v, %v; want an error", name, hitTexts(hits), err)
		}
	}
}

// filterFixture stores documents of two collections in two languages with
// tags; every chunk holds the word "kargo" and a vector near axis 0, shop's
// as near as the nearest of faq.
func filterFixture(t *testing.T, s store.Queries) {
	ensure(t, s, "faq", dims)
	ensure(t, s, "shop", dims)
	replace(t, s, true, kdoc("faq", "tr-1", "h", "tr", "iade", "kargo"), kchunk(1, "kargo iade süreci", axis(0)))
	replace(t, s, true, kdoc("faq", "en-1", "h", "en", "iade"), kchunk(1, "kargo returns policy", vec(1, 0.1)))
	replace(t, s, true, kdoc("faq", "tr-2", "h", "tr", "kargo"),
		kchunk(1, "kargo takip numarası", vec(1, 0, 0.2)), kchunk(2, "kargo şubesi", vec(1, 0, 0, 0.3)))
	replace(t, s, true, kdoc("shop", "tr-3", "h", "tr", "kargo", "iade"), kchunk(1, "kargo kampanyası", axis(0)))
}

func testKnowledgeFilters(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	filterFixture(t, s)
	for _, tc := range []struct {
		name string
		f    store.ChunkFilter
		want []string
	}{
		{"none", store.ChunkFilter{}, []string{"faq/en-1", "faq/tr-1", "faq/tr-2", "shop/tr-3"}},
		{"collection", store.ChunkFilter{Collection: "faq"}, []string{"faq/en-1", "faq/tr-1", "faq/tr-2"}},
		{"language", store.ChunkFilter{Language: "tr"}, []string{"faq/tr-1", "faq/tr-2", "shop/tr-3"}},
		{"one tag", store.ChunkFilter{Tags: []string{"iade"}}, []string{"faq/en-1", "faq/tr-1", "shop/tr-3"}},
		{"all tags", store.ChunkFilter{Tags: []string{"iade", "kargo"}}, []string{"faq/tr-1", "shop/tr-3"}},
		{"all of them", store.ChunkFilter{Collection: "faq", Language: "tr", Tags: []string{"kargo"}}, []string{"faq/tr-1", "faq/tr-2"}},
		{"a tag nobody has", store.ChunkFilter{Tags: []string{"iade", "yok"}}, nil},
		{"another language", store.ChunkFilter{Language: "de"}, nil},
		{"a language prefix is not the language", store.ChunkFilter{Language: "t"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := must(s.SearchText(c, "kargo", tc.f))(t)
			if got := hitDocs(text); !slices.Equal(got, tc.want) {
				t.Errorf("text search with %+v: %v, want %v", tc.f, hitKeys(text), tc.want)
			}
			vector := must(s.SearchVector(c, axis(0), tc.f))(t)
			if got := hitDocs(vector); !slices.Equal(got, tc.want) {
				t.Errorf("vector search with %+v: %v, want %v", tc.f, hitKeys(vector), tc.want)
			}
			if tc.want != nil && len(vector) != len(text) {
				t.Errorf("with %+v the searches found %v and %v, want every chunk passing by both", tc.f,
					hitKeys(vector), hitKeys(text))
			}
		})
	}
	// The limit applies after the filters: the nearest chunks of faq are
	// found, though shop's is nearer than faq's second.
	f := store.ChunkFilter{Collection: "faq", Limit: 2}
	if got := hitKeys(must(s.SearchVector(c, axis(0), f))(t)); !slices.Equal(got, []string{"faq/tr-1#1", "faq/en-1#1"}) {
		t.Errorf("vector search with %+v = %v, want faq/tr-1#1, faq/en-1#1", f, got)
	}
	if got := must(s.SearchText(c, "kargo", f))(t); len(got) != 2 || got[0].Collection != "faq" || got[1].Collection != "faq" {
		t.Errorf("text search with %+v = %v, want 2 chunks of faq", f, hitKeys(got))
	}
	if _, err := s.SearchText(c, "kargo", store.ChunkFilter{Collection: "missing"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("text search of a missing collection: %v, want ErrNotFound", err)
	}
}

func testKnowledgeText(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	ensure(t, s, "faq", dims)
	order := kdoc("faq", "order.md", "h", "tr")
	order.Title = "Hesap"
	replace(t, s, true, order,
		store.KnowledgeChunk{Ordinal: 1, Section: "Durum", Text: "sipariş durumu hesabınızda görünür", Embedding: axis(0)},
		store.KnowledgeChunk{Ordinal: 2, Section: "Teslimat", Text: "paketler iki günde ulaşır", Embedding: axis(1)})
	refund := kdoc("faq", "refund.md", "h", "tr")
	refund.Title = "Para"
	replace(t, s, true, refund,
		store.KnowledgeChunk{Ordinal: 1, Section: "Geri ödeme", Text: "iade talebi on dört gün içinde", Embedding: axis(2)},
		store.KnowledgeChunk{Ordinal: 2, Section: "Geri ödeme", Text: "sipariş iade edilirse ücret karta döner", Embedding: axis(3)})
	english := kdoc("faq", "shipping.md", "h", "en")
	english.Title = "Shipping"
	replace(t, s, true, english,
		store.KnowledgeChunk{Ordinal: 1, Section: "Costs", Text: "delivery is free above 500 TL", Embedding: axis(4)})

	search := func(query string, f store.ChunkFilter) []string {
		t.Helper()
		return hitKeys(must(s.SearchText(c, query, f))(t))
	}
	// A Turkish word with its diacritics, as written.
	if got := search("sipariş", store.ChunkFilter{}); !slices.Contains(got, "faq/order.md#1") ||
		!slices.Contains(got, "faq/refund.md#2") || slices.Contains(got, "faq/refund.md#1") {
		t.Errorf("search for sipariş = %v, want order.md#1 and refund.md#2, not refund.md#1", got)
	}
	// Any word of the query matches; a chunk holding more of them ranks
	// first.
	if got := search("sipariş iade", store.ChunkFilter{}); len(got) != 3 || got[0] != "faq/refund.md#2" {
		t.Errorf("search for sipariş iade = %v, want refund.md#2 (both words) first, then order.md#1 and refund.md#1", got)
	}
	// The title and the section count.
	if got := search("shipping", store.ChunkFilter{}); !slices.Equal(got, []string{"faq/shipping.md#1"}) {
		t.Errorf("search for a title word = %v, want shipping.md#1", got)
	}
	if got := search("teslimat", store.ChunkFilter{}); !slices.Equal(got, []string{"faq/order.md#2"}) {
		t.Errorf("search for a section word = %v, want order.md#2", got)
	}
	// Case does not count.
	if got := search("DELIVERY", store.ChunkFilter{}); !slices.Equal(got, []string{"faq/shipping.md#1"}) {
		t.Errorf("search for DELIVERY = %v, want shipping.md#1", got)
	}
	// Scores rank: higher first.
	hits := must(s.SearchText(c, "sipariş iade", store.ChunkFilter{}))(t)
	for i := 1; i < len(hits); i++ {
		if hits[i].Score > hits[i-1].Score || hits[i].Score <= 0 {
			t.Errorf("scores %v: want positive, highest first", hits)
		}
	}
	if len(hits) > 0 && (hits[0].Title != "Para" || hits[0].Section != "Geri ödeme" || hits[0].Source != "docs/refund.md" ||
		hits[0].Language != "tr" || hits[0].Text != "sipariş iade edilirse ücret karta döner") {
		t.Errorf("hit = %+v, want every field of refund.md#2", hits[0])
	}
	// User text that is search syntax somewhere is only words here.
	for _, q := range []string{`"iade" OR (kargo* NEAR`, `iade:*`, `iade & !sipariş`, `title:iade`, `'`, `-iade`} {
		if _, err := s.SearchText(c, q, store.ChunkFilter{}); err != nil {
			t.Errorf("search for %q: %v", q, err)
		}
	}
	if got := search(`"iade" OR (`, store.ChunkFilter{}); !slices.Contains(got, "faq/refund.md#1") {
		t.Errorf(`search for "iade" OR ( = %v, want refund.md#1`, got)
	}
	// A query without words finds nothing; an empty one is an error.
	if got := search("?!", store.ChunkFilter{}); len(got) != 0 {
		t.Errorf("search for ?! = %v, want nothing", got)
	}
	for _, q := range []string{"", "  \n"} {
		if hits, err := s.SearchText(c, q, store.ChunkFilter{}); err == nil {
			t.Errorf("search for %q = %v, want an error", q, hitKeys(hits))
		}
	}
	if hits, err := s.SearchText(c, "iade", store.ChunkFilter{Limit: -1}); err == nil {
		t.Errorf("search with a negative limit = %v, want an error", hitKeys(hits))
	}
	if got := search("sipariş iade", store.ChunkFilter{Limit: 1}); !slices.Equal(got, []string{"faq/refund.md#2"}) {
		t.Errorf("search with limit 1 = %v, want refund.md#2", got)
	}
}

func testKnowledgeTransactions(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	ensure(t, s, "faq", dims)
	replace(t, s, true, kdoc("faq", "a.md", "h1", "tr"), kchunk(1, "eskisürüm metni", axis(0)))

	// Inside InTx, the replace joins the transaction: the transaction's
	// searches see the new version, and a rollback leaves the old one.
	err := s.InTx(c, func(tx store.Queries) error {
		replace(t, tx, true, kdoc("faq", "a.md", "h2", "tr"), kchunk(1, "yenisürüm metni", axis(1)))
		if got := hitTexts(must(tx.SearchText(c, "metni", store.ChunkFilter{}))(t)); !slices.Equal(got, []string{"yenisürüm metni"}) {
			t.Errorf("text search inside the transaction = %v, want the new version", got)
		}
		if got := hitTexts(must(tx.SearchVector(c, axis(1), store.ChunkFilter{Collection: "faq"}))(t)); !slices.Equal(got, []string{"yenisürüm metni"}) {
			t.Errorf("vector search inside the transaction = %v, want the new version", got)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v, want the callback's error", err)
	}
	if d := must(s.GetDocument(c, "faq", "a.md"))(t); d.Hash != "h1" {
		t.Fatalf("document after the rollback = %+v, want version h1", d)
	}
	if got := hitTexts(must(s.SearchText(c, "metni", store.ChunkFilter{}))(t)); !slices.Equal(got, []string{"eskisürüm metni"}) {
		t.Fatalf("text search after the rollback = %v, want the old version", got)
	}
	if got := hitTexts(must(s.SearchVector(c, axis(1), store.ChunkFilter{}))(t)); !slices.Equal(got, []string{"eskisürüm metni"}) {
		t.Fatalf("vector search after the rollback = %v, want the old version", got)
	}

	// Committed, it stays; a replace failing inside a transaction leaves
	// the transaction's earlier writes to the caller.
	err = s.InTx(c, func(tx store.Queries) error {
		replace(t, tx, true, kdoc("faq", "b.md", "h1", "en"), kchunk(1, "committed text", axis(2)))
		_, err := tx.ReplaceDocument(c, kdoc("missing", "c.md", "h1", "en"), []store.KnowledgeChunk{kchunk(1, "x", axis(0))})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("replace into a missing collection inside a transaction: %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetDocument(c, "faq", "b.md"); err != nil {
		t.Fatalf("document of a committed transaction: %v", err)
	}
}

// testKnowledgeConcurrentReplace: searches running while a document is
// replaced again and again see one version of it, whole.
func testKnowledgeConcurrentReplace(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	ensure(t, s, "faq", dims)
	version := func(n int) (store.KnowledgeDocument, []store.KnowledgeChunk) {
		tag := fmt.Sprintf("sürüm%d", n)
		chunks := make([]store.KnowledgeChunk, 3+n%3)
		for i := range chunks {
			chunks[i] = kchunk(i+1, "ortak "+tag, vec(1, float32(i)))
		}
		return kdoc("faq", "a.md", tag, "tr"), chunks
	}
	d, chunks := version(0)
	replace(t, s, true, d, chunks...)

	const versions = 20
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for n := 1; n <= versions; n++ {
			d, chunks := version(n)
			if _, err := s.ReplaceDocument(c, d, chunks); err != nil {
				t.Errorf("replace %d: %v", n, err)
				return
			}
		}
	})
	// whole reports what is wrong with hits: more than one version, or not
	// all the chunks of the one.
	whole := func(hits []store.ChunkHit) string {
		if len(hits) == 0 {
			return "no chunks"
		}
		var n int
		if _, err := fmt.Sscanf(strings.TrimPrefix(hits[0].Text, "ortak sürüm"), "%d", &n); err != nil {
			return fmt.Sprintf("a chunk of no version: %q", hits[0].Text)
		}
		for _, h := range hits {
			if h.Text != hits[0].Text {
				return "two versions"
			}
		}
		if want := 3 + n%3; len(hits) != want {
			return fmt.Sprintf("%d chunks of version %d, which has %d", len(hits), n, want)
		}
		return ""
	}
	for range 2 {
		wg.Go(func() {
			for searches := 0; ; searches++ {
				select {
				case <-done:
					if searches > 0 {
						return
					}
				default:
				}
				text, err := s.SearchText(c, "ortak", store.ChunkFilter{})
				if err != nil {
					t.Errorf("text search: %v", err)
					return
				}
				if bad := whole(text); bad != "" {
					t.Errorf("text search during replaces: %s: %v", bad, hitTexts(text))
					return
				}
				vector, err := s.SearchVector(c, axis(0), store.ChunkFilter{})
				if err != nil {
					t.Errorf("vector search: %v", err)
					return
				}
				if bad := whole(vector); bad != "" {
					t.Errorf("vector search during replaces: %s: %v", bad, hitTexts(vector))
					return
				}
			}
		})
	}
	wg.Wait()
	if d := must(s.GetDocument(c, "faq", "a.md"))(t); d.Hash != fmt.Sprintf("sürüm%d", versions) {
		t.Fatalf("document after the replaces = %+v, want the last version", d)
	}
}

// tagged is a chunk of the suite with tags of its own.
func tagged(ch store.KnowledgeChunk, tags ...string) store.KnowledgeChunk {
	ch.Tags = tags
	return ch
}

// testKnowledgeChunkTags: a chunk's own tags (a FAQ row's) filter it
// alone, added to its document's.
func testKnowledgeChunkTags(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	ensure(t, s, "faq", dims)
	// One FAQ sheet, its rows tagged differently, the document tagged sss;
	// every chunk holds the word "soru" and a vector near axis 0.
	replace(t, s, true, kdoc("faq", "sss", "h1", "tr", "sss"),
		tagged(kchunk(1, "soru kargo ne zaman gelir", axis(0)), "kargo", "teslimat"),
		tagged(kchunk(2, "soru iade kaç gün", vec(1, 0.1)), "iade"),
		kchunk(3, "soru fatura nerede", vec(1, 0, 0.2)),
		tagged(kchunk(4, "soru iade kargosu", vec(1, 0, 0, 0.3)), "iade", "kargo", "sss"))
	replace(t, s, true, kdoc("faq", "kargo.md", "h1", "tr", "kargo"), kchunk(1, "soru kargo firması", vec(1, 0, 0, 0, 0.4)))
	for _, tc := range []struct {
		name string
		tags []string
		want []string
	}{
		{"none", nil, []string{"faq/kargo.md#1", "faq/sss#1", "faq/sss#2", "faq/sss#3", "faq/sss#4"}},
		{"the document's tag", []string{"sss"}, []string{"faq/sss#1", "faq/sss#2", "faq/sss#3", "faq/sss#4"}},
		{"one row's tag", []string{"teslimat"}, []string{"faq/sss#1"}},
		{"rows' and documents' tag", []string{"kargo"}, []string{"faq/kargo.md#1", "faq/sss#1", "faq/sss#4"}},
		{"two rows' tag", []string{"iade"}, []string{"faq/sss#2", "faq/sss#4"}},
		{"a row's tags together", []string{"iade", "kargo"}, []string{"faq/sss#4"}},
		{"the document's and a row's", []string{"sss", "iade"}, []string{"faq/sss#2", "faq/sss#4"}},
		{"tags of two rows, no row has both", []string{"teslimat", "iade"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := store.ChunkFilter{Tags: tc.tags}
			text := hitKeys(must(s.SearchText(c, "soru", f))(t))
			slices.Sort(text)
			if !slices.Equal(text, tc.want) {
				t.Errorf("text search with tags %v = %v, want %v", tc.tags, text, tc.want)
			}
			vector := hitKeys(must(s.SearchVector(c, axis(0), f))(t))
			slices.Sort(vector)
			if !slices.Equal(vector, tc.want) {
				t.Errorf("vector search with tags %v = %v, want %v", tc.tags, vector, tc.want)
			}
		})
	}
	// The document's tags stay its own: the rows' are not added to them.
	if d := must(s.GetDocument(c, "faq", "sss"))(t); !slices.Equal(d.Tags, []string{"sss"}) {
		t.Errorf("document tags = %v, want [sss]", d.Tags)
	}
	// A new version's rows bring their new tags, and take the old ones away.
	replace(t, s, true, kdoc("faq", "sss", "h2", "tr"),
		tagged(kchunk(1, "soru kargo ne zaman gelir", axis(0)), "teslimat"),
		tagged(kchunk(2, "soru iade kaç gün", vec(1, 0.1)), "kargo"))
	for tags, want := range map[string][]string{
		"teslimat": {"faq/sss#1"},
		"kargo":    {"faq/kargo.md#1", "faq/sss#2"},
		"iade":     nil,
		"sss":      nil,
	} {
		f := store.ChunkFilter{Tags: []string{tags}}
		text := hitKeys(must(s.SearchText(c, "soru", f))(t))
		vector := hitKeys(must(s.SearchVector(c, axis(0), f))(t))
		slices.Sort(text)
		slices.Sort(vector)
		if !slices.Equal(text, want) || !slices.Equal(vector, want) {
			t.Errorf("after the new version, tag %s finds %v (text) and %v (vector), want %v", tags, text, vector, want)
		}
	}
}

func testKnowledgeListChunks(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	ensure(t, s, "faq", dims)
	ensure(t, s, "shop", dims)
	// Given out of order: listed by ordinal.
	chunks := []store.KnowledgeChunk{
		tagged(kchunk(3, "üçüncü parça", axis(2)), "iade", "kargo"),
		kchunk(1, "birinci parça", axis(0)),
		tagged(kchunk(2, "ikinci parça, iki kelime daha", axis(1)), "kargo"),
	}
	replace(t, s, true, kdoc("faq", "a.md", "h1", "tr", "sss"), chunks...)
	replace(t, s, true, kdoc("shop", "a.md", "h1", "tr"), kchunk(1, "başka koleksiyon", axis(0)))
	want := []store.KnowledgeChunk{chunks[1], chunks[2], chunks[0]}
	got := must(s.ListChunks(c, "faq", "a.md"))(t)
	if len(got) != len(want) {
		t.Fatalf("ListChunks = %+v, want %d chunks", got, len(want))
	}
	for i, g := range got {
		w := want[i]
		if g.Ordinal != w.Ordinal || g.Section != w.Section || g.Text != w.Text || g.Tokens != w.Tokens ||
			!slices.Equal(g.Tags, w.Tags) || g.Embedding != nil {
			t.Errorf("chunk %d = %+v, want %+v without its embedding", i, g, w)
		}
	}
	if got[0].Tags != nil {
		t.Errorf("a chunk without tags of its own has tags %#v, want nil", got[0].Tags)
	}

	// A replace lists the new version's chunks; inside a transaction, the
	// transaction's.
	err := s.InTx(c, func(tx store.Queries) error {
		replace(t, tx, true, kdoc("faq", "a.md", "h2", "tr"), kchunk(1, "yeni sürüm", axis(3)))
		if got := must(tx.ListChunks(c, "faq", "a.md"))(t); len(got) != 1 || got[0].Text != "yeni sürüm" {
			t.Errorf("ListChunks inside the transaction = %+v, want the new version's one chunk", got)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v, want the callback's error", err)
	}
	if got := must(s.ListChunks(c, "faq", "a.md"))(t); len(got) != 3 {
		t.Fatalf("ListChunks after the rollback = %+v, want the 3 chunks of version h1", got)
	}

	for _, key := range [][2]string{{"faq", "b.md"}, {"missing", "a.md"}, {"faq", ""}} {
		if got, err := s.ListChunks(c, key[0], key[1]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ListChunks(%s, %s) = %+v, %v; want ErrNotFound", key[0], key[1], got, err)
		}
	}
	if err := s.DeleteDocument(c, "faq", "a.md"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ListChunks(c, "faq", "a.md"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ListChunks of a deleted document: %v, want ErrNotFound", err)
	}
}

// testKnowledgeSetCollectionModel: a collection takes another model and
// dimension; in one transaction with the replaces of its documents, a
// search sees the old index or the new one, never a mix.
func testKnowledgeSetCollectionModel(t *testing.T, h Harness) {
	s := h.New(t)
	c := ctx(t)
	const newDims = 4
	faq := ensure(t, s, "faq", dims)
	ensure(t, s, "shop", dims)
	replace(t, s, true, kdoc("faq", "a.md", "h1:hash-v1", "tr"), kchunk(1, "eski gömme", axis(0)), kchunk(2, "ikinci eski", axis(1)))
	replace(t, s, true, kdoc("faq", "b.md", "h1:hash-v1", "tr"), kchunk(1, "üçüncü eski", axis(2)))
	replace(t, s, true, kdoc("shop", "a.md", "h1:hash-v1", "tr"), kchunk(1, "dükkan", axis(0)))
	target := store.KnowledgeCollection{Name: "faq", Model: "small-v2", Dimensions: newDims}
	short := func(i int) []float32 {
		v := make([]float32, newDims)
		v[i] = 1
		return v
	}
	reindex := func(tx store.Queries) error {
		if err := tx.SetCollectionModel(c, target); err != nil {
			return err
		}
		replace(t, tx, true, kdoc("faq", "a.md", "h1:small-v2", "tr"), kchunk(1, "eski gömme", short(0)), kchunk(2, "ikinci eski", short(1)))
		replace(t, tx, true, kdoc("faq", "b.md", "h1:small-v2", "tr"), kchunk(1, "üçüncü eski", short(2)))
		return nil
	}

	// Rolled back, nothing changed: the old model, the old embeddings.
	err := s.InTx(c, func(tx store.Queries) error {
		if err := reindex(tx); err != nil {
			return err
		}
		if got := hitTexts(must(tx.SearchVector(c, short(2), store.ChunkFilter{Collection: "faq"}))(t)); len(got) == 0 || got[0] != "üçüncü eski" {
			t.Errorf("search of %d dimensions inside the transaction = %v, want üçüncü eski first", newDims, got)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v, want the callback's error", err)
	}
	cols := must(s.ListCollections(c))(t)
	if !sameCollection(cols[0], faq) {
		t.Fatalf("collection after the rollback = %+v, want %+v", cols[0], faq)
	}
	if got := hitTexts(must(s.SearchVector(c, axis(2), store.ChunkFilter{Collection: "faq"}))(t)); len(got) != 3 || got[0] != "üçüncü eski" {
		t.Fatalf("search of %d dimensions after the rollback = %v, want the 3 old chunks", dims, got)
	}

	// Committed: the new model, its dimension searched, CreatedAt kept;
	// the other collection is untouched.
	if err := s.InTx(c, reindex); err != nil {
		t.Fatal(err)
	}
	cols = must(s.ListCollections(c))(t)
	want := store.KnowledgeCollection{Name: "faq", Model: "small-v2", Dimensions: newDims, CreatedAt: faq.CreatedAt}
	if !sameCollection(cols[0], want) || cols[1].Model != "hash-v1" || cols[1].Dimensions != dims {
		t.Fatalf("collections after the reindex = %+v, want faq on small-v2 (%d dims) created %v, and shop as it was",
			cols, newDims, faq.CreatedAt)
	}
	if got := hitKeys(must(s.SearchVector(c, short(1), store.ChunkFilter{Collection: "faq"}))(t)); len(got) != 3 || got[0] != "faq/a.md#2" {
		t.Fatalf("search of %d dimensions after the reindex = %v, want the 3 chunks, a.md#2 first", newDims, got)
	}
	if _, err := s.SearchVector(c, axis(0), store.ChunkFilter{Collection: "faq"}); err == nil {
		t.Errorf("a search of faq with %d dimensions after the reindex succeeded, want an error", dims)
	}
	if got := hitKeys(must(s.SearchVector(c, axis(0), store.ChunkFilter{}))(t)); !slices.Equal(got, []string{"shop/a.md#1"}) {
		t.Errorf("search of %d dimensions of all collections = %v, want only shop's chunk", dims, got)
	}
	// EnsureCollection takes the new model, and refuses the old.
	if _, err := s.EnsureCollection(c, target); err != nil {
		t.Errorf("ensuring faq with its new model: %v", err)
	}
	if _, err := s.EnsureCollection(c, store.KnowledgeCollection{Name: "faq", Model: "hash-v1", Dimensions: dims}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("ensuring faq with its old model: %v, want ErrConflict", err)
	}

	// A missing collection, and models that cannot be.
	if err := s.SetCollectionModel(c, store.KnowledgeCollection{Name: "missing", Model: "m", Dimensions: 4}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("setting the model of a missing collection: %v, want ErrNotFound", err)
	}
	for _, bad := range []store.KnowledgeCollection{
		{Name: "faq", Dimensions: 4},
		{Name: "faq", Model: "m"},
		{Name: "faq", Model: "m", Dimensions: store.MaxDimensions + 1},
	} {
		if err := s.SetCollectionModel(c, bad); err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("setting the model %+v: %v, want a validation error", bad, err)
		}
	}
	if got := must(s.ListCollections(c))(t); !sameCollection(got[0], want) {
		t.Errorf("collection after refused changes = %+v, want %+v", got[0], want)
	}
}
