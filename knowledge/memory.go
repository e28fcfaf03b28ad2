package knowledge

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/yanit/yanit/llm"
)

// Embedder turns texts into vectors, one per text, in order. The offline
// local.Embedder satisfies it; FromLLM adapts a model endpoint's.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// FromLLM adapts a model endpoint's embeddings (llm.Embedder) to an
// Embedder.
func FromLLM(e llm.Embedder) Embedder { return llmEmbedder{e} }

type llmEmbedder struct{ e llm.Embedder }

func (a llmEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	r, err := a.e.Embed(ctx, texts)
	return r.Vectors, err
}

// embedBatch is the number of chunk texts Add sends to the Embedder at once.
const embedBatch = 64

// ErrEmptyQuery is returned by Search for a query without text.
var ErrEmptyQuery = errors.New("knowledge: empty query")

// Change says what Add did.
type Change int

// The outcomes of Add.
const (
	// Unchanged: the index already held this exact version; nothing was
	// embedded.
	Unchanged Change = iota
	// Added: the document was new.
	Added
	// Replaced: the document's previous version is gone, the new one
	// searchable.
	Replaced
)

// String returns "unchanged", "added" or "replaced".
func (c Change) String() string {
	switch c {
	case Unchanged:
		return "unchanged"
	case Added:
		return "added"
	case Replaced:
		return "replaced"
	default:
		return "Change(" + strconv.Itoa(int(c)) + ")"
	}
}

// Memory is an in-memory knowledge index: exact cosine similarity over every
// chunk that passes a query's filters, BM25 over the same chunks, fused by
// reciprocal rank. It suits a knowledge base of a few thousand chunks (a
// search over 2,000 chunks of 512 dimensions takes about a millisecond of
// one core) and tests; the stores will keep larger ones.
//
// Memory is safe for concurrent use. Search holds a read lock while it
// scores; Add embeds without holding any lock and then swaps the document's
// chunks in under the write lock, so a search sees either the old version
// of a document or the new one, whole, never both or a part.
type Memory struct {
	embed Embedder

	mu sync.RWMutex
	// docs are the documents sorted by ID, so that a search meets chunks
	// in (document ID, ordinal) order, the order that breaks ties.
	docs []*indexedDoc
	dim  int // vector length, fixed by the first Add
}

var _ Searcher = (*Memory)(nil)

// indexedDoc is one document version in a Memory. It is never modified
// once stored: a new version replaces the pointer.
type indexedDoc struct {
	doc         Document
	fingerprint [sha256.Size]byte
	chunks      []indexedChunk
	// postings lists, for each term (see indexTerms), the chunks that
	// hold it and how often.
	postings map[string][]posting
}

// posting is a term's frequency in one chunk of a document.
type posting struct {
	chunk int32 // index in indexedDoc.chunks
	tf    int32
}

// indexedChunk is a chunk with its unit vector.
type indexedChunk struct {
	id      string // "<document ID>#<ordinal>", also the citation
	ordinal int
	section string
	text    string
	vec     []float32 // unit length, or zero
	length  int       // number of words indexed (stopwords aside), for BM25
	tags    []string  // its own, besides its document's (see tags.go)
}

// NewMemory returns an empty index that embeds with e.
func NewMemory(e Embedder) *Memory {
	return &Memory{embed: e}
}

// find returns the position of the document id in m.docs, or where it
// would go, and whether it is there. The caller holds the lock.
func (m *Memory) find(id string) (int, bool) {
	return slices.BinarySearchFunc(m.docs, id, func(d *indexedDoc, id string) int {
		return strings.Compare(d.doc.ID, id)
	})
}

// Add indexes a document's chunks (from Split, in order), replacing any
// previous version of the document with the same ID. When the document
// (ID, Hash and every other field) and its chunks are the same as the
// version indexed, Add embeds nothing and reports Unchanged.
//
// Chunks are embedded in batches of 64 with the heading path before the
// text, so "Returns > Refunds" counts for a chunk that never repeats those
// words. A failed Add (a cancelled ctx, an Embedder error, vectors of
// another dimension than the index's) leaves the index as it was.
func (m *Memory) Add(ctx context.Context, doc Document, chunks []Chunk) (Change, error) {
	if doc.ID == "" {
		return Unchanged, errors.New("adding document: empty ID")
	}
	if len(chunks) == 0 {
		return Unchanged, fmt.Errorf("adding document %s: no chunks", doc.ID)
	}
	doc.Tags = slices.Clone(doc.Tags)
	fp := fingerprint(doc, chunks)
	m.mu.RLock()
	i, found := m.find(doc.ID)
	unchanged := found && m.docs[i].fingerprint == fp
	m.mu.RUnlock()
	if unchanged {
		return Unchanged, nil
	}

	entry, err := m.index(ctx, doc, chunks)
	if err != nil {
		return Unchanged, fmt.Errorf("adding document %s: %w", doc.ID, err)
	}
	entry.fingerprint = fp

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dim == 0 || len(m.docs) == 0 {
		m.dim = len(entry.chunks[0].vec)
	}
	if d := len(entry.chunks[0].vec); d != m.dim {
		return Unchanged, fmt.Errorf("adding document %s: embeddings of dimension %d, the index holds %d", doc.ID, d, m.dim)
	}
	i, found = m.find(doc.ID)
	switch {
	case found && m.docs[i].fingerprint == fp:
		// An identical Add won the race.
		return Unchanged, nil
	case found:
		m.docs[i] = entry
		return Replaced, nil
	default:
		m.docs = slices.Insert(m.docs, i, entry)
		return Added, nil
	}
}

// index embeds and tokenises chunks into a new indexedDoc.
func (m *Memory) index(ctx context.Context, doc Document, chunks []Chunk) (*indexedDoc, error) {
	entry := &indexedDoc{doc: doc, chunks: make([]indexedChunk, len(chunks)), postings: make(map[string][]posting)}
	texts := make([]string, len(chunks))
	for i, c := range chunks {
		if strings.TrimSpace(c.Text) == "" {
			return nil, fmt.Errorf("chunk %d: empty text", i+1)
		}
		texts[i] = contextText(doc, c)
		terms, n := indexTerms(texts[i])
		for t, tf := range terms {
			entry.postings[t] = append(entry.postings[t], posting{chunk: int32(i), tf: tf})
		}
		entry.chunks[i] = indexedChunk{
			id:      doc.ID + "#" + strconv.Itoa(i+1),
			ordinal: i + 1,
			section: c.Section,
			text:    c.Text,
			length:  n,
			tags:    slices.Clone(c.Tags),
		}
	}
	dim := 0
	for start := 0; start < len(texts); start += embedBatch {
		end := min(start+embedBatch, len(texts))
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("embedding chunks %d-%d: %w", start+1, end, err)
		}
		vecs, err := m.embed.Embed(ctx, texts[start:end])
		if err != nil {
			return nil, fmt.Errorf("embedding chunks %d-%d: %w", start+1, end, err)
		}
		if len(vecs) != end-start {
			return nil, fmt.Errorf("embedding chunks %d-%d: got %d vectors for %d texts", start+1, end, len(vecs), end-start)
		}
		for i, v := range vecs {
			if dim == 0 {
				dim = len(v)
			}
			if len(v) == 0 || len(v) != dim {
				return nil, fmt.Errorf("embedding chunk %d: vector of dimension %d, want %d", start+i+1, len(v), dim)
			}
			entry.chunks[start+i].vec = normalized(v)
		}
	}
	return entry, nil
}

// contextText is what is embedded and matched for a chunk: its heading path
// (led by the document title when the path does not start with it), a blank
// line, and its text.
func contextText(doc Document, c Chunk) string {
	head := c.Section
	switch {
	case head == "":
		head = doc.Title
	case doc.Title != "" && !strings.HasPrefix(head, doc.Title):
		head = doc.Title + " > " + head
	}
	if head == "" {
		return c.Text
	}
	return head + "\n\n" + c.Text
}

// fingerprint identifies a document version: every field and every chunk.
func fingerprint(doc Document, chunks []Chunk) [sha256.Size]byte {
	h := sha256.New()
	write := func(fields ...string) {
		for _, f := range fields {
			writeField(h, f)
		}
	}
	write(doc.ID, doc.Collection, doc.Title, doc.Source, doc.Language, doc.Version, doc.Hash)
	write(strconv.Itoa(len(doc.Tags)))
	write(doc.Tags...)
	for _, c := range chunks {
		write(c.Section, c.Text)
	}
	writeChunkTags(h, chunks)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// writeField writes s length-prefixed, so that fields cannot run together.
func writeField(h hash.Hash, s string) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

// Delete removes a document and reports whether the index held it.
func (m *Memory) Delete(docID string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	i, ok := m.find(docID)
	if ok {
		m.docs = slices.Delete(m.docs, i, i+1)
	}
	return ok
}

// Documents returns the documents indexed, sorted by ID.
func (m *Memory) Documents() []Document {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Document, 0, len(m.docs))
	for _, entry := range m.docs {
		d := entry.doc
		d.Tags = slices.Clone(d.Tags)
		out = append(out, d)
	}
	return out
}

// matches reports whether a document passes the filters of q; its chunks
// then pass its tags filter when passing says so.
func (d *indexedDoc) matches(q Query) bool {
	if q.Collection != "" && d.doc.Collection != q.Collection {
		return false
	}
	if q.Language != "" && d.doc.Language != q.Language {
		return false
	}
	return d.mayHaveTags(q.Tags)
}

// Search returns the chunks that best answer q, best first: up to q.Limit
// (DefaultLimit when 0) of those passing the filters, ranked by reciprocal
// rank fusion (k = 60) of their cosine similarity to the query's vector and
// of their BM25 score (k1 = 1.2, b = 0.75; document frequencies and lengths
// over the chunks that pass the filters, so one collection's words do not
// weigh on another's). Every chunk has a vector rank; only chunks sharing a
// term with the query have a text rank (and a non-zero Scores.Text).
//
// Terms are the words of local.Fold cut to their first five letters, so
// "siparişim" meets "siparişler" and "returns" meets "returned", and a
// four-letter query word meets the words it starts ("iade" finds "iadesi");
// see indexTerms. Ties are broken by cosine, then by document ID and
// ordinal, so results are deterministic. An empty query is ErrEmptyQuery; a negative limit an error.
//
// A Query whose Mode is VectorOnly or TextOnly is ranked by that one
// ranking (TextOnly returning only the chunks with a text rank), its
// Scores.Fused the reciprocal rank share of that rank; Scores.Vector and
// Scores.Text are set as in a fused search.
func (m *Memory) Search(ctx context.Context, q Query) ([]Hit, error) {
	if strings.TrimSpace(q.Text) == "" {
		return nil, ErrEmptyQuery
	}
	switch q.Mode {
	case Fused, VectorOnly, TextOnly:
	default:
		return nil, fmt.Errorf("searching: unknown mode %v", q.Mode)
	}
	limit := q.Limit
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 0:
		return nil, fmt.Errorf("searching: limit %d is negative", limit)
	}
	vecs, err := m.embed.Embed(ctx, []string{q.Text})
	if err != nil {
		return nil, fmt.Errorf("embedding query: %w", err)
	}
	if len(vecs) != 1 {
		return nil, fmt.Errorf("embedding query: got %d vectors for 1 text", len(vecs))
	}
	qv := normalized(vecs[0])
	qterms := queryTerms(q.Text)

	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.docs) > 0 && len(qv) != m.dim {
		return nil, fmt.Errorf("embedding query: vector of dimension %d, the index holds %d", len(qv), m.dim)
	}
	cands, err := m.candidates(ctx, q, qv, qterms)
	if err != nil {
		return nil, fmt.Errorf("searching: %w", err)
	}
	top := rank(cands, q.Mode, limit)
	hits := make([]Hit, len(top))
	for i, c := range top {
		hits[i] = Hit{
			ChunkID:    c.chunk.id,
			DocumentID: c.doc.doc.ID,
			Title:      c.doc.doc.Title,
			Section:    c.chunk.section,
			Source:     c.doc.doc.Source,
			Language:   c.doc.doc.Language,
			Text:       c.chunk.text,
			Scores:     Scores{Vector: c.cosine, Text: c.bm25, Fused: c.fused},
			Citation:   c.chunk.id,
		}
	}
	return hits, nil
}

// candidate is a chunk that passed the filters, with its scores.
type candidate struct {
	doc                 *indexedDoc
	chunk               *indexedChunk
	cosine, bm25, fused float64
}

// candidates scores every chunk that passes the filters of q by cosine and
// BM25. The caller holds the read lock.
func (m *Memory) candidates(ctx context.Context, q Query, qv []float32, qterms []string) ([]candidate, error) {
	var cands []candidate
	nt := len(qterms)
	var tfs []int32 // the frequency of query term j in candidate i at i*nt+j
	df := make([]int, nt)
	totalLen := 0
	for k, d := range m.docs {
		if k%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if !d.matches(q) {
			continue
		}
		at := d.passing(q.Tags) // nil: every chunk passes
		base := len(cands)
		for i := range d.chunks {
			if at != nil && at[i] < 0 {
				continue
			}
			c := &d.chunks[i]
			cands = append(cands, candidate{doc: d, chunk: c, cosine: dot(qv, c.vec)})
			totalLen += c.length
		}
		tfs = append(tfs, make([]int32, (len(cands)-base)*nt)...)
		for j, t := range qterms {
			for _, p := range d.postings[t] {
				i := p.chunk
				if at != nil {
					if i = at[i]; i < 0 {
						continue
					}
				}
				tfs[(base+int(i))*nt+j] = p.tf
				df[j]++
			}
		}
	}
	if len(cands) == 0 || nt == 0 {
		return cands, nil
	}
	n := float64(len(cands))
	avgLen := float64(totalLen) / n
	idf := make([]float64, nt)
	for j := range qterms {
		idf[j] = bm25IDF(n, float64(df[j]))
	}
	for i := range cands {
		length := float64(cands[i].chunk.length)
		var s float64
		for j, tf := range tfs[i*nt : (i+1)*nt] {
			if tf > 0 {
				s += idf[j] * bm25TF(float64(tf), length, avgLen)
			}
		}
		cands[i].bm25 = s
	}
	return cands, nil
}

// scored is a candidate's index with one of its scores.
type scored struct {
	score float64
	i     int32
}

// descending orders by score, highest first, then by index: candidates
// come in (document ID, ordinal) order, so ties break the same way in every
// search.
func descending(a, b scored) int {
	switch {
	case a.score > b.score:
		return -1
	case a.score < b.score:
		return 1
	}
	return cmp.Compare(a.i, b.i)
}

// rank sets the fused score of every candidate (the shares of the rankings
// mode uses) and returns the best limit of them, best first: by fused
// score, then cosine, then document ID and ordinal. A TextOnly ranking
// leaves out the candidates without a text score.
func rank(cands []candidate, mode SearchMode, limit int) []*candidate {
	if mode == TextOnly {
		cands = slices.DeleteFunc(cands, func(c candidate) bool { return c.bm25 <= 0 })
	}
	order := make([]scored, 0, len(cands))
	if mode != TextOnly {
		for i := range cands {
			order = append(order, scored{cands[i].cosine, int32(i)})
		}
		slices.SortFunc(order, descending)
		for r, s := range order {
			cands[s.i].fused = rrf(r + 1)
		}
	}
	if mode != VectorOnly {
		order = order[:0]
		for i := range cands {
			if cands[i].bm25 > 0 {
				order = append(order, scored{cands[i].bm25, int32(i)})
			}
		}
		slices.SortFunc(order, descending)
		for r, s := range order {
			cands[s.i].fused += rrf(r + 1)
		}
	}
	return best(cands, limit)
}

// better orders candidates i and j of cands by fused score, then cosine,
// then position.
func better(cands []candidate, i, j int32) int {
	a, b := &cands[i], &cands[j]
	switch {
	case a.fused > b.fused:
		return -1
	case a.fused < b.fused:
		return 1
	case a.cosine > b.cosine:
		return -1
	case a.cosine < b.cosine:
		return 1
	}
	return cmp.Compare(i, j)
}

// best returns the first limit candidates under better, sorted: a sort of
// all of them for a large limit, else one pass keeping the best so far.
func best(cands []candidate, limit int) []*candidate {
	order := func(i, j int32) int { return better(cands, i, j) }
	var top []int32
	if limit >= len(cands) || limit > 32 {
		top = make([]int32, len(cands))
		for i := range top {
			top[i] = int32(i)
		}
		slices.SortFunc(top, order)
		top = top[:min(limit, len(top))]
	} else {
		top = make([]int32, 0, limit+1)
		for i := range int32(len(cands)) {
			if len(top) == limit && order(i, top[limit-1]) >= 0 {
				continue
			}
			at, _ := slices.BinarySearchFunc(top, i, order)
			top = slices.Insert(top, at, i)
			top = top[:min(len(top), limit)]
		}
	}
	out := make([]*candidate, len(top))
	for k, i := range top {
		out[k] = &cands[i]
	}
	return out
}
