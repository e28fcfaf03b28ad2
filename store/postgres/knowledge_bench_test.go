package postgres_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/llm/local"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres"
	"github.com/yanit/yanit/store/postgres/pgtest"
)

// The knowledge search at 100,000 chunks, the size the closing note
// promises: vector search p95 under 30 ms with recall@10 of at least 0.95
// against an exact search.
const (
	benchChunks       = 100_000
	benchChunksPerDoc = 10
	benchSentences    = 4 // per chunk
	benchCollection   = "bench"
	benchRecallK      = 10
	benchWorkers      = 4 // ReplaceDocument calls at once
)

// BenchmarkKnowledge100k builds a collection of 100,000 chunks of 4
// sentences each, Turkish and English, drawn from XQuAD, CLINC150 and
// xSID (shared/datasets), embedded by the local embedder and stored
// through ReplaceDocument, 10 chunks a document. The sub-benchmarks
// search it with 300 distinct questions (XQuAD's in both languages,
// CLINC150's test set): SearchVector, SearchText and Stored.Search (both,
// fused). An op is a pass over the questions; each sub-benchmark reports
// the p50, p95 and p99 of one search's latency after a pass to warm the
// caches, and SearchVector its recall@10 against an exact scan.
//
// The chunks are stored without their HNSW index, which EnsureCollection
// then creates over them in one build, as after an operator dropped it:
// about a minute, where storing them into the index one document at a
// time takes about six on two cores. The collection is built once per
// run, in a schema of its own dropped at the end; run the benchmark
// alone, with
//
//	go test -run XXX -bench 100k -benchtime 1x ./store/postgres/
func BenchmarkKnowledge100k(b *testing.B) {
	corpus := loadBenchCorpus(b)
	ctx := b.Context()
	s := openBenchStore(ctx, b)
	embedder := local.NewEmbedder(local.DefaultEmbeddingDim)
	stored, indexed := buildBenchCollection(ctx, b, s, embedder, corpus)
	b.Logf("stored %d chunks of %d dimensions in %v, indexed them in %v", benchChunks, embedder.Dim(),
		stored.Round(time.Second), indexed.Round(time.Second))

	vectors, err := embedder.Embed(ctx, corpus.queries)
	if err != nil {
		b.Fatal(err)
	}
	filter := store.ChunkFilter{Collection: benchCollection, Limit: benchRecallK}

	b.Run("SearchVector", func(b *testing.B) {
		if plan := explainBenchVector(ctx, b, s, vectors[0], filter, false); !strings.Contains(plan, "Index Scan using knowledge_chunks_hnsw_") {
			b.Fatalf("the vector search does not use the HNSW index:\n%s", plan)
		}
		if plan := explainBenchVector(ctx, b, s, vectors[0], filter, true); strings.Contains(plan, "hnsw") {
			b.Fatalf("the exact search uses the HNSW index:\n%s", plan)
		}
		recall := vectorRecall(ctx, b, s, vectors, filter)
		measureSearches(b, len(vectors), func(i int) (int, error) {
			hits, err := s.SearchVector(ctx, vectors[i], filter)
			return len(hits), err
		})
		b.ReportMetric(recall, "recall@10")
		b.ReportMetric(stored.Seconds(), "store-s")
		b.ReportMetric(indexed.Seconds(), "index-s")
	})
	b.Run("SearchText", func(b *testing.B) {
		measureSearches(b, len(corpus.queries), func(i int) (int, error) {
			hits, err := s.SearchText(ctx, corpus.queries[i], filter)
			return len(hits), err
		})
	})
	b.Run("Search", func(b *testing.B) {
		index := knowledge.NewStored(s, embedder, embedder.Model(), embedder.Dim(), knowledge.EmbedOptions{})
		measureSearches(b, len(corpus.queries), func(i int) (int, error) {
			hits, err := index.Search(ctx, knowledge.Query{Text: corpus.queries[i], Collection: benchCollection})
			return len(hits), err
		})
	})
}

// measureSearches runs search(i) for every question i once to warm the
// caches, then once more per op, timing each search, and reports the
// latency's p50, p95 and p99 in milliseconds: an op is a pass over the n
// questions. A search finding nothing fails the benchmark: it would
// measure an empty index.
func measureSearches(b *testing.B, n int, search func(i int) (int, error)) {
	b.Helper()
	for i := range n {
		if hits, err := search(i); err != nil || hits == 0 {
			b.Fatalf("question %d: %d hits, %v", i, hits, err)
		}
	}
	var latencies []time.Duration
	for b.Loop() {
		for i := range n {
			start := time.Now()
			_, err := search(i)
			latencies = append(latencies, time.Since(start))
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	slices.Sort(latencies)
	at := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.95), "p95-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(float64(n), "searches/op")
}

// vectorRecall returns the mean recall@10 of SearchVector against the
// exact nearest chunks: the share of the exact ten that the search found,
// counting as found any hit scoring at least the exact tenth (chunks of
// equal text tie).
func vectorRecall(ctx context.Context, b *testing.B, s *postgres.Store, vectors [][]float32, f store.ChunkFilter) float64 {
	b.Helper()
	start := time.Now()
	var sum float64
	for i, v := range vectors {
		exact := exactScores(ctx, b, s, v, f)
		hits, err := s.SearchVector(ctx, v, f)
		if err != nil {
			b.Fatal(err)
		}
		if len(exact) == 0 {
			b.Fatalf("question %d: the exact search found nothing", i)
		}
		least := exact[len(exact)-1] - 1e-6
		found := 0
		for _, h := range hits {
			if h.Score >= least {
				found++
			}
		}
		sum += float64(min(found, len(exact))) / float64(len(exact))
	}
	b.Logf("recall@%d against exact scans of %d questions, in %v", benchRecallK, len(vectors), time.Since(start).Round(time.Second))
	return sum / float64(len(vectors))
}

// exactScores returns the scores of the nearest chunks to v by an exact
// scan: SearchVector's own statement, in a transaction that disables
// index scans, so that the nearest list is a sequential scan and a sort.
func exactScores(ctx context.Context, b *testing.B, s *postgres.Store, v []float32, f store.ChunkFilter) []float64 {
	b.Helper()
	stmt, a := postgres.VectorQuery(v, f, f.Limit)
	var scores []float64
	err := pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL enable_indexscan = off"); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, stmt, a)
		if err != nil {
			return err
		}
		var score float64
		_, err = pgx.ForEachRow(rows, []any{nil, nil, nil, nil, nil, nil, nil, nil, &score}, func() error {
			scores = append(scores, score)
			return nil
		})
		return err
	})
	if err != nil {
		b.Fatalf("exact search: %v", err)
	}
	return scores
}

// explainBenchVector returns the plan of SearchVector's statement for v
// and f; with exact, in a transaction that disables index scans, as
// exactScores runs it.
func explainBenchVector(ctx context.Context, b *testing.B, s *postgres.Store, v []float32, f store.ChunkFilter, exact bool) string {
	b.Helper()
	stmt, a := postgres.VectorQuery(v, f, f.Limit)
	var lines []string
	err := pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
		if exact {
			if _, err := tx.Exec(ctx, "SET LOCAL enable_indexscan = off"); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, "EXPLAIN "+stmt, a)
		if err != nil {
			return err
		}
		lines, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		b.Fatalf("explaining the vector search: %v", err)
	}
	return strings.Join(lines, "\n")
}

// openBenchStore opens a migrated store in a new schema whose sessions
// may use 1 GB to build an index: the HNSW index of 100,000 chunks of 512
// dimensions takes 260 MB, and a build past maintenance_work_mem (64 MB
// by default) goes on on disk, many times slower.
func openBenchStore(ctx context.Context, b *testing.B) *postgres.Store {
	b.Helper()
	dsn := pgtest.NewSchemaDSN(b)
	if strings.Contains(dsn, "://") {
		dsn += "&options=-c%20maintenance_work_mem%3D1GB"
	} else {
		dsn += " options='-c maintenance_work_mem=1GB'"
	}
	s, err := openMigrated(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s.(*postgres.Store)
}

// buildBenchCollection stores benchChunks chunks in benchCollection,
// benchWorkers documents at a time, with the collection's HNSW index
// dropped, then has EnsureCollection create it again, and analyzes the
// tables. It returns the time storing took, and indexing. Document d is
// in Turkish when d is even, in English when odd; its chunks are
// benchSentences sentences of its language drawn by a generator seeded
// with d, so every run stores the same texts.
func buildBenchCollection(ctx context.Context, b *testing.B, s *postgres.Store, e *local.Embedder, c benchCorpus) (stored, indexed time.Duration) {
	b.Helper()
	collection := store.KnowledgeCollection{Name: benchCollection, Model: e.Model(), Dimensions: e.Dim()}
	if _, err := s.EnsureCollection(ctx, collection); err != nil {
		b.Fatal(err)
	}
	index := pgx.Identifier{fmt.Sprintf("knowledge_chunks_hnsw_%d", e.Dim())}.Sanitize()
	if _, err := s.Pool().Exec(ctx, "DROP INDEX "+index); err != nil {
		b.Fatal(err)
	}

	start := time.Now()
	docs := make(chan int)
	errs := make(chan error, benchWorkers)
	var wg sync.WaitGroup
	for range benchWorkers {
		wg.Go(func() {
			for d := range docs {
				if err := storeBenchDocument(ctx, s, e, c, d); err != nil {
					errs <- err
					return
				}
			}
		})
	}
feed:
	for d := range benchChunks / benchChunksPerDoc {
		select {
		case docs <- d:
		case err := <-errs:
			b.Error(err)
			break feed
		}
	}
	close(docs)
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Error(err)
	}
	if b.Failed() {
		b.FailNow()
	}
	stored = time.Since(start)

	start = time.Now()
	if _, err := s.EnsureCollection(ctx, collection); err != nil {
		b.Fatal(err)
	}
	indexed = time.Since(start)
	if _, err := s.Pool().Exec(ctx, "ANALYZE knowledge_chunks, knowledge_documents"); err != nil {
		b.Fatal(err)
	}
	return stored, indexed
}

// storeBenchDocument stores document d of the bench collection.
func storeBenchDocument(ctx context.Context, s *postgres.Store, e *local.Embedder, c benchCorpus, d int) error {
	rng := rand.New(rand.NewPCG(uint64(d), 100_000))
	doc := store.KnowledgeDocument{Collection: benchCollection, ID: fmt.Sprintf("doc-%05d", d), Language: "tr", Hash: "h"}
	pool := c.turkish
	if d%2 == 1 {
		doc.Language, pool = "en", c.english
	}
	doc.Title = fmt.Sprintf("%s %d", doc.Language, d)
	texts := make([]string, benchChunksPerDoc)
	for i := range texts {
		sentences := make([]string, benchSentences)
		for j := range sentences {
			sentences[j] = pool[rng.IntN(len(pool))]
		}
		texts[i] = strings.Join(sentences, " ")
	}
	vectors, err := e.Embed(ctx, texts)
	if err != nil {
		return err
	}
	chunks := make([]store.KnowledgeChunk, len(texts))
	for i, text := range texts {
		chunks[i] = store.KnowledgeChunk{Ordinal: i + 1, Text: text, Tokens: len(strings.Fields(text)), Embedding: vectors[i]}
	}
	_, err = s.ReplaceDocument(ctx, doc, chunks)
	return err
}

// benchCorpus holds the sentences chunks are made of, and the questions
// searched with.
type benchCorpus struct {
	turkish, english []string
	queries          []string
}

// loadBenchCorpus reads the sentences: XQuAD's paragraphs cut into
// sentences and xSID's utterances in each language, and CLINC150's
// training and validation utterances in English; and the questions: 100
// of XQuAD's in each language and 100 of CLINC150's test set. It fails,
// rather than skips, without the datasets: $YANIT_DATASETS, or
// shared/datasets beside the repository.
func loadBenchCorpus(b *testing.B) benchCorpus {
	b.Helper()
	dir := benchDatasetsDir(b)
	var c benchCorpus
	for _, lang := range []string{"tr", "en"} {
		sentences, questions := readXQuAD(b, filepath.Join(dir, "xquad_tr_en", "xquad."+lang+".json"))
		sentences = append(sentences, readXSID(b, filepath.Join(dir, "xsid_tr", lang+".valid.conll"))...)
		sentences = append(sentences, readXSID(b, filepath.Join(dir, "xsid_tr", lang+".test.conll"))...)
		if lang == "tr" {
			c.turkish = sentences
		} else {
			c.english = sentences
		}
		c.queries = append(c.queries, evenly(questions, 100)...)
	}
	data, err := os.ReadFile(filepath.Join(dir, "clinc150", "data_full.json"))
	if err != nil {
		b.Fatal(err)
	}
	var clinc map[string][][2]string // split → [text, intent]
	if err := json.Unmarshal(data, &clinc); err != nil {
		b.Fatalf("reading CLINC150: %v", err)
	}
	for _, split := range []string{"train", "val", "oos_train", "oos_val"} {
		for _, ex := range clinc[split] {
			c.english = append(c.english, ex[0])
		}
	}
	var tests []string
	for _, ex := range clinc["test"] {
		tests = append(tests, ex[0])
	}
	c.queries = append(c.queries, evenly(tests, 100)...)
	b.Logf("corpus: %d Turkish and %d English sentences, %d questions", len(c.turkish), len(c.english), len(c.queries))
	return c
}

// evenly returns n of xs, evenly spaced.
func evenly(xs []string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = xs[i*len(xs)/n]
	}
	return out
}

// readXQuAD returns the sentences of the paragraphs of a SQuAD v1.1 file,
// each paragraph once, and its questions.
func readXQuAD(b *testing.B, path string) (sentences, questions []string) {
	b.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var f struct {
		Data []struct {
			Paragraphs []struct {
				Context string `json:"context"`
				QAs     []struct {
					Question string `json:"question"`
				} `json:"qas"`
			} `json:"paragraphs"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		b.Fatalf("reading %s: %v", path, err)
	}
	seen := map[string]bool{}
	for _, article := range f.Data {
		for _, p := range article.Paragraphs {
			text := strings.TrimPrefix(p.Context, "\uFEFF")
			if !seen[text] {
				seen[text] = true
				for _, s := range strings.SplitAfter(text, ". ") {
					if s = strings.TrimSpace(s); s != "" {
						sentences = append(sentences, s)
					}
				}
			}
			for _, qa := range p.QAs {
				questions = append(questions, qa.Question)
			}
		}
	}
	return sentences, questions
}

// readXSID returns the utterances of an xSID CoNLL file ("# text = …").
func readXSID(b *testing.B, path string) []string {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if text, ok := strings.CutPrefix(sc.Text(), "# text = "); ok {
			out = append(out, text)
		}
	}
	if err := sc.Err(); err != nil {
		b.Fatalf("reading %s: %v", path, err)
	}
	return out
}

// benchDatasetsDir returns the shared datasets folder: $YANIT_DATASETS,
// else shared/datasets beside the repository, else /work/shared/datasets.
func benchDatasetsDir(b *testing.B) string {
	b.Helper()
	dirs := []string{filepath.Join("..", "..", "..", "shared", "datasets"), "/work/shared/datasets"}
	if env := os.Getenv("YANIT_DATASETS"); env != "" {
		dirs = []string{env}
	}
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "xquad_tr_en")); err == nil {
			return dir
		}
	}
	b.Fatalf("the datasets are in none of %v: set YANIT_DATASETS to the shared datasets folder", dirs)
	return ""
}
