package postgres_test

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres"
	"github.com/yanit/yanit/store/postgres/pgtest"
)

// TestKnowledgeTextStems: the full-text search matches word forms in the
// document's language, which SQLite's cannot: a Turkish query finds the
// stem of its words in Turkish documents, an English query in English ones.
func TestKnowledgeTextStems(t *testing.T) {
	s := pgtest.NewStore(t)
	ctx := testContext(t)
	if _, err := s.EnsureCollection(ctx, store.KnowledgeCollection{Name: "faq", Model: "m", Dimensions: 2}); err != nil {
		t.Fatal(err)
	}
	docs := []struct{ id, language, text string }{
		{"tr", "tr", "Sipariş durumu hesabınızda görünür."},
		{"tr-TR", "tr-TR", "Kargolar iki günde ulaşır."},
		{"en", "en", "Returns are free within 14 days."},
		{"de", "de", "Bestellungen werden versendet."},
	}
	for _, d := range docs {
		_, err := s.ReplaceDocument(ctx, store.KnowledgeDocument{Collection: "faq", ID: d.id, Language: d.language, Hash: "h"},
			[]store.KnowledgeChunk{{Ordinal: 1, Text: d.text, Embedding: []float32{1, 0}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		query string
		want  []string // document ids
	}{
		{"siparişlerim nerede", []string{"tr"}},   // turkish: siparişlerim → sipariş; nerede is a stop word
		{"kargom gelmedi", []string{"tr-TR"}},     // tr-TR is Turkish too: kargom, kargolar → kargo
		{"returned items", []string{"en"}},        // english: returned, returns → return
		{"bestellung", nil},                       // any other language is simple: no stemming
		{"bestellungen", []string{"de"}},          // … but words match as written, in any case
		{"the and of", nil},                       // English stop words only
		{"SİPARİŞ", []string{"tr"}},               // Turkish capitals fold
		{"siparis", nil},                          // diacritics count (SQLite folds them)
		{"görünür returns", []string{"en", "tr"}}, // any word, in each document's language
	} {
		hits, err := s.SearchText(ctx, tc.query, store.ChunkFilter{})
		if err != nil {
			t.Fatalf("search for %q: %v", tc.query, err)
		}
		var got []string
		for _, h := range hits {
			got = append(got, h.DocumentID)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("search for %q = %v, want %v", tc.query, got, tc.want)
		}
	}
	// The language filter builds the query in that language only.
	hits, err := s.SearchText(ctx, "siparişlerim", store.ChunkFilter{Language: "tr"})
	if err != nil || len(hits) != 1 || hits[0].DocumentID != "tr" {
		t.Fatalf("search for siparişlerim in tr = %+v, %v; want the tr document", hits, err)
	}
}

// vectorIndexes returns the definitions of the HNSW indexes of the store's
// schema, by name.
func vectorIndexes(t *testing.T, s *postgres.Store) map[string]string {
	t.Helper()
	rows, err := s.Pool().Query(testContext(t), `SELECT indexname, indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND indexname LIKE 'knowledge_chunks_hnsw_%'`)
	if err != nil {
		t.Fatal(err)
	}
	defs := map[string]string{}
	var name, def string
	_, err = pgx.ForEachRow(rows, []any{&name, &def}, func() error {
		defs[name] = def
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return defs
}

func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// TestKnowledgeVectorIndexes: EnsureCollection creates one HNSW index per
// dimension, on vector up to 2,000 dimensions, on halfvec up to 4,000, and
// none beyond, where searches are exact.
func TestKnowledgeVectorIndexes(t *testing.T) {
	s := pgtest.NewStore(t)
	ctx := testContext(t)
	for _, c := range []store.KnowledgeCollection{
		{Name: "a", Model: "m", Dimensions: 8},
		{Name: "b", Model: "other", Dimensions: 8}, // shares a's index
		{Name: "large", Model: "m", Dimensions: 3000},
		{Name: "huge", Model: "m", Dimensions: 5000},
	} {
		if _, err := s.EnsureCollection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	defs := vectorIndexes(t, s)
	want := map[string][]string{
		"knowledge_chunks_hnsw_8":    {"USING hnsw", "((embedding)::vector(8)) vector_cosine_ops", "WHERE (dims = 8)"},
		"knowledge_chunks_hnsw_3000": {"USING hnsw", "((embedding)::halfvec(3000)) halfvec_cosine_ops", "WHERE (dims = 3000)"},
	}
	if len(defs) != len(want) {
		t.Fatalf("vector indexes = %v, want %d: of 8 and 3000 dimensions", defs, len(want))
	}
	for name, parts := range want {
		for _, part := range parts {
			if !strings.Contains(defs[name], part) {
				t.Errorf("index %s = %q, want %q in it", name, defs[name], part)
			}
		}
	}

	// Embeddings of every size are searched, with exact scores.
	for _, dims := range []int{3000, 5000} {
		col := map[int]string{3000: "large", 5000: "huge"}[dims]
		near, far := make([]float32, dims), make([]float32, dims)
		near[0], near[1], far[1] = 1, 1, 1
		_, err := s.ReplaceDocument(ctx, store.KnowledgeDocument{Collection: col, ID: "d", Hash: "h"},
			[]store.KnowledgeChunk{{Ordinal: 1, Text: "far", Embedding: far}, {Ordinal: 2, Text: "near", Embedding: near}})
		if err != nil {
			t.Fatal(err)
		}
		q := make([]float32, dims)
		q[0] = 1
		hits, err := s.SearchVector(ctx, q, store.ChunkFilter{Collection: col})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 2 || hits[0].Text != "near" || math.Abs(hits[0].Score-1/math.Sqrt2) > 1e-6 || hits[1].Score != 0 {
			t.Errorf("search of %d dimensions = %+v, want near (%.6f) then far (0)", dims, hits, 1/math.Sqrt2)
		}
	}

	// A collection rolled back takes its new index with it.
	err := s.InTx(ctx, func(tx store.Queries) error {
		if _, err := tx.EnsureCollection(ctx, store.KnowledgeCollection{Name: "draft", Model: "m", Dimensions: 16}); err != nil {
			return err
		}
		return errRollback
	})
	if err != errRollback {
		t.Fatal(err)
	}
	if defs := vectorIndexes(t, s); len(defs) != len(want) {
		t.Fatalf("vector indexes after a rolled-back collection = %v", defs)
	}
}

var errRollback = fmt.Errorf("rollback")

// openWithoutSeqScans opens a migrated store whose sessions never choose a
// sequential scan when another path exists: on a table of a few hundred
// rows the planner would rightly prefer reading it all, and the tests that
// show the HNSW index at work need it chosen.
func openWithoutSeqScans(t *testing.T) *postgres.Store {
	t.Helper()
	dsn := pgtest.NewSchemaDSN(t)
	if strings.Contains(dsn, "://") {
		dsn += "&options=-c%20enable_seqscan%3Doff"
	} else {
		dsn += " options='-c enable_seqscan=off'"
	}
	s, err := openMigrated(testContext(t), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.(*postgres.Store)
}

// seedVectors stores 30 documents of 10 chunks of pseudo-random 8-dimension
// embeddings in collection c; the chunks of document 7 alone are tagged
// "rare". It returns every chunk's embedding by text.
func seedVectors(t *testing.T, s store.Store, c string) map[string][]float32 {
	t.Helper()
	ctx := testContext(t)
	if _, err := s.EnsureCollection(ctx, store.KnowledgeCollection{Name: c, Model: "m", Dimensions: 8}); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	all := map[string][]float32{}
	for d := range 30 {
		var chunks []store.KnowledgeChunk
		for i := 1; i <= 10; i++ {
			v := make([]float32, 8)
			for j := range v {
				v[j] = float32(r.NormFloat64())
			}
			text := fmt.Sprintf("chunk %d.%d", d, i)
			all[text] = v
			chunks = append(chunks, store.KnowledgeChunk{Ordinal: i, Text: text, Embedding: v})
		}
		doc := store.KnowledgeDocument{Collection: c, ID: fmt.Sprintf("doc-%02d", d), Hash: "h", Language: "en"}
		if d == 7 {
			doc.Tags = []string{"rare"}
		}
		if _, err := s.ReplaceDocument(ctx, doc, chunks); err != nil {
			t.Fatal(err)
		}
	}
	return all
}

// explainVectorSearch returns the plan of SearchVector's statement for v
// and f, in a session of s.
func explainVectorSearch(t *testing.T, s *postgres.Store, v []float32, f store.ChunkFilter) string {
	t.Helper()
	ctx := testContext(t)
	stmt, a := postgres.VectorQuery(v, f, 10)
	rows, err := s.Pool().Query(ctx, "EXPLAIN "+stmt, a)
	if err != nil {
		t.Fatal(err)
	}
	lines := must(pgx.CollectRows(rows, pgx.RowTo[string]))(t)
	return strings.Join(lines, "\n")
}

// TestKnowledgeVectorSearchUsesHNSW: the vector search's statement can use
// the HNSW index of its dimension, with or without filters on the chunks
// (a collection filter may rightly prefer the collection's b-tree).
func TestKnowledgeVectorSearchUsesHNSW(t *testing.T) {
	s := openWithoutSeqScans(t)
	seedVectors(t, s, "faq")
	if _, err := s.Pool().Exec(testContext(t), "ANALYZE knowledge_chunks"); err != nil {
		t.Fatal(err)
	}
	q := []float32{1, 0, 0, 0, 0, 0, 0, 0}
	for _, f := range []store.ChunkFilter{{}, {Tags: []string{"rare"}}, {Language: "en"}} {
		plan := explainVectorSearch(t, s, q, f)
		if !strings.Contains(plan, "Index Scan using knowledge_chunks_hnsw_8 on knowledge_chunks") {
			t.Errorf("plan of a vector search with %+v does not use the HNSW index:\n%s", f, plan)
		}
	}
}

// TestKnowledgeVectorSearchThroughHNSW: searching through the index finds
// what an exact search finds, and a filter that rejects most of the
// nearest chunks still fills the limit (iterative scans, pgvector 0.8).
func TestKnowledgeVectorSearchThroughHNSW(t *testing.T) {
	s := openWithoutSeqScans(t)
	ctx := testContext(t)
	all := seedVectors(t, s, "faq")
	if _, err := s.Pool().Exec(ctx, "ANALYZE knowledge_chunks"); err != nil {
		t.Fatal(err)
	}
	var version string
	if err := s.Pool().QueryRow(ctx, "SELECT extversion FROM pg_extension WHERE extname = 'vector'").Scan(&version); err != nil {
		t.Fatal(err)
	}

	q := []float32{0.3, -1, 0.5, 2, 0, 0.1, -0.7, 1}
	exact := func(keep func(text string) bool) []string {
		type scored struct {
			text  string
			score float64
		}
		var ss []scored
		for text, v := range all {
			if keep(text) {
				ss = append(ss, scored{text, cosine(q, v)})
			}
		}
		slices.SortFunc(ss, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
		var out []string
		for _, s := range ss[:min(10, len(ss))] {
			out = append(out, s.text)
		}
		return out
	}

	for _, tc := range []struct {
		name string
		f    store.ChunkFilter
		keep func(text string) bool
	}{
		{"no filter", store.ChunkFilter{}, func(string) bool { return true }},
		// 10 of 300 chunks pass: far fewer than ef_search candidates.
		{"rare tag", store.ChunkFilter{Tags: []string{"rare"}}, func(text string) bool { return strings.HasPrefix(text, "chunk 7.") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if plan := explainVectorSearch(t, s, q, tc.f); !strings.Contains(plan, "knowledge_chunks_hnsw_8") {
				t.Fatalf("the search does not use the HNSW index:\n%s", plan)
			}
			hits, err := s.SearchVector(ctx, q, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			want := exact(tc.keep)
			if tc.name == "rare tag" && !strings.HasPrefix(version, "0.7.") && len(hits) != len(want) {
				t.Fatalf("pgvector %s found %d of the %d chunks passing the filter: the iterative scan stopped short",
					version, len(hits), len(want))
			}
			var got []string
			for i, h := range hits {
				got = append(got, h.Text)
				if i > 0 && h.Score > hits[i-1].Score {
					t.Errorf("hit %d scores %v, more than hit %d's %v", i, h.Score, i-1, hits[i-1].Score)
				}
				if d := math.Abs(h.Score - cosine(q, all[h.Text])); d > 1e-5 {
					t.Errorf("hit %q scores %v, its cosine is %v", h.Text, h.Score, cosine(q, all[h.Text]))
				}
			}
			// HNSW is approximate: allow one of the exact ten to be missed.
			found := 0
			for _, text := range want {
				if slices.Contains(got, text) {
					found++
				}
			}
			if found < len(want)-1 {
				t.Errorf("found %v; the exact nearest are %v", got, want)
			}
		})
	}
}

// cosine is the cosine similarity of a and b.
func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

// TestKnowledgeSearchesInTransactions: a vector search inside InTx sets
// its HNSW parameters for that transaction only, and leaves it usable.
func TestKnowledgeSearchesInTransactions(t *testing.T) {
	// One connection, so that the session checked is the one that searched.
	dsn := pgtest.NewSchemaDSN(t)
	if strings.Contains(dsn, "://") {
		dsn += "&pool_max_conns=1"
	} else {
		dsn += " pool_max_conns=1"
	}
	st, err := openMigrated(testContext(t), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := st.(*postgres.Store)
	ctx := testContext(t)
	seedVectors(t, s, "faq")
	ef := func() string {
		t.Helper()
		var v string
		if err := s.Pool().QueryRow(ctx, "SELECT coalesce(current_setting('hnsw.ef_search', true), '')").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	err = s.InTx(ctx, func(tx store.Queries) error {
		hits, err := tx.SearchVector(ctx, []float32{1, 0, 0, 0, 0, 0, 0, 0}, store.ChunkFilter{Limit: 3})
		if err != nil {
			return err
		}
		if len(hits) != 3 {
			t.Errorf("search inside a transaction = %d hits, want 3", len(hits))
		}
		_, err = tx.UpsertContact(ctx, store.ContactUpsert{WaID: "905550000300"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SearchVector(ctx, []float32{1, 0, 0, 0, 0, 0, 0, 0}, store.ChunkFilter{}); err != nil {
		t.Fatal(err)
	}
	// The parameters were the transactions' own: the session has pgvector's
	// default again.
	if got := ef(); got == "100" {
		t.Fatalf("hnsw.ef_search = %s after the searches' transactions", got)
	}
}

// TestKnowledgeSetCollectionModel: changing a collection's model creates
// the HNSW index of its new dimension, and a replace with the old model
// racing a reindex waits for it, then sees the new dimension and is
// refused, so the collection never holds embeddings of two dimensions.
func TestKnowledgeSetCollectionModel(t *testing.T) {
	s := pgtest.NewStore(t)
	ctx := testContext(t)
	if _, err := s.EnsureCollection(ctx, store.KnowledgeCollection{Name: "faq", Model: "m", Dimensions: 8}); err != nil {
		t.Fatal(err)
	}
	vector := func(dims int) []float32 {
		v := make([]float32, dims)
		v[0] = 1
		return v
	}
	doc := func(id, hash string) store.KnowledgeDocument {
		return store.KnowledgeDocument{Collection: "faq", ID: id, Hash: hash}
	}
	if _, err := s.ReplaceDocument(ctx, doc("a", "h:m"), []store.KnowledgeChunk{{Ordinal: 1, Text: "a", Embedding: vector(8)}}); err != nil {
		t.Fatal(err)
	}

	inTx, release := make(chan struct{}), make(chan struct{})
	reindexed := make(chan error, 1)
	go func() {
		reindexed <- s.InTx(ctx, func(tx store.Queries) error {
			if err := tx.SetCollectionModel(ctx, store.KnowledgeCollection{Name: "faq", Model: "m2", Dimensions: 16}); err != nil {
				return err
			}
			if _, err := tx.ReplaceDocument(ctx, doc("a", "h:m2"), []store.KnowledgeChunk{{Ordinal: 1, Text: "a", Embedding: vector(16)}}); err != nil {
				return err
			}
			close(inTx)
			<-release
			return nil
		})
	}()
	select {
	case <-inTx:
	case err := <-reindexed:
		t.Fatalf("reindex: %v", err)
	}
	replaced := make(chan error, 1)
	go func() {
		_, err := s.ReplaceDocument(ctx, doc("b", "h:m"), []store.KnowledgeChunk{{Ordinal: 1, Text: "b", Embedding: vector(8)}})
		replaced <- err
	}()
	// The replace waits for the reindex's transaction: for its lock on the
	// collection (or, were that missing, on the table the new index is
	// built on).
	for waiting := false; !waiting; {
		select {
		case err := <-replaced:
			t.Fatalf("a replace with the old model ended (%v) while a reindex was changing the collection's model", err)
		case <-ctx.Done():
			t.Fatal("the replace never waited for the reindex")
		case <-time.After(10 * time.Millisecond):
		}
		err := s.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND query LIKE '%knowledge_%')`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	if err := <-reindexed; err != nil {
		t.Fatalf("reindex: %v", err)
	}
	if err := <-replaced; err == nil || !strings.Contains(err.Error(), "8 dimensions") {
		t.Fatalf("replace with the old model after the reindex: %v, want a refusal naming its 8 dimensions", err)
	}

	if defs := vectorIndexes(t, s); defs["knowledge_chunks_hnsw_16"] == "" {
		t.Errorf("vector indexes after the model change = %v, want one of 16 dimensions", defs)
	}
	hits, err := s.SearchVector(ctx, vector(16), store.ChunkFilter{Collection: "faq"})
	if err != nil || len(hits) != 1 || hits[0].DocumentID != "a" {
		t.Fatalf("search of 16 dimensions = %+v, %v; want document a", hits, err)
	}
}
