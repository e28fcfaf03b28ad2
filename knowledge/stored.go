package knowledge

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/yanit/yanit/store"
)

// Index is a knowledge index documents are added to: Memory or Stored.
type Index interface {
	Searcher
	Add(ctx context.Context, doc Document, chunks []Chunk) (Change, error)
}

var (
	_ Index = (*Memory)(nil)
	_ Index = (*Stored)(nil)
)

// Stored is the knowledge index kept in the store: PostgreSQL with pgvector
// (HNSW) and full-text search in the document's language, or the embedded
// SQLite (exact cosine, FTS5). A search asks the store for both rankings
// and fuses them by reciprocal rank, as Memory does. Every collection
// records the embedding model and dimension it was indexed with; adding
// with another is an error that says to reindex.
type Stored struct {
	st    store.Store
	embed Embedder
	model string
	dims  int
	opts  EmbedOptions
}

// NewStored returns the index of st, embedding with e, whose vectors are
// of model and dims.
func NewStored(st store.Store, e Embedder, model string, dims int, o EmbedOptions) *Stored {
	return &Stored{st: st, embed: e, model: model, dims: dims, opts: o}
}

// Add stores a document's version with its chunks' embeddings, all or
// nothing. An unchanged version (same content, metadata and model) is not
// embedded again.
func (s *Stored) Add(ctx context.Context, doc Document, chunks []Chunk) (Change, error) {
	if doc.ID == "" || doc.Collection == "" {
		return Unchanged, errors.New("adding a document: the ID and the collection are required")
	}
	if len(chunks) == 0 {
		return Unchanged, fmt.Errorf("adding %s: no chunks", doc.ID)
	}
	if _, err := s.st.EnsureCollection(ctx, store.KnowledgeCollection{Name: doc.Collection, Model: s.model, Dimensions: s.dims}); err != nil {
		return Unchanged, err
	}
	sum := fingerprint(doc, chunks)
	hash := hex.EncodeToString(sum[:]) + ":" + s.model
	old, err := s.st.GetDocument(ctx, doc.Collection, doc.ID)
	switch {
	case err == nil && old.Hash == hash:
		return Unchanged, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return Unchanged, err
	}
	texts := make([]string, len(chunks))
	for i, c := range chunks {
		if strings.TrimSpace(c.Text) == "" {
			return Unchanged, fmt.Errorf("adding %s: chunk %d has no text", doc.ID, i+1)
		}
		texts[i] = contextText(doc, c)
	}
	vecs, err := EmbedAll(ctx, s.embed, texts, s.opts)
	if err != nil {
		return Unchanged, fmt.Errorf("adding %s: %w", doc.ID, err)
	}
	kd := store.KnowledgeDocument{Collection: doc.Collection, ID: doc.ID, Title: doc.Title, Source: doc.Source,
		Language: doc.Language, Tags: doc.Tags, Version: doc.Version, Hash: hash}
	kc := make([]store.KnowledgeChunk, len(chunks))
	for i, c := range chunks {
		kc[i] = store.KnowledgeChunk{Ordinal: i + 1, Section: c.Section, Text: c.Text, Tokens: c.Tokens, Embedding: vecs[i], Tags: c.Tags}
	}
	changed, err := s.st.ReplaceDocument(ctx, kd, kc)
	switch {
	case err != nil:
		return Unchanged, fmt.Errorf("adding %s: %w", doc.ID, err)
	case !changed:
		return Unchanged, nil
	case old.ID == "":
		return Added, nil
	}
	return Replaced, nil
}

// Model names the embedding model the index embeds with.
func (s *Stored) Model() string { return s.model }

// Reindex embeds the collection again with the index's model (see the
// function Reindex), or every collection, one after the other, when
// collection is "". It reports the documents and chunks embedded.
func (s *Stored) Reindex(ctx context.Context, collection string) (documents, chunks int, err error) {
	names := []string{collection}
	if collection == "" {
		cs, err := s.st.ListCollections(ctx)
		if err != nil {
			return 0, 0, err
		}
		names = names[:0]
		for _, c := range cs {
			names = append(names, c.Name)
		}
	}
	for _, name := range names {
		res, err := Reindex(ctx, s.st, s.embed, s.model, s.dims, name, s.opts)
		if err != nil {
			return documents, chunks, err
		}
		documents, chunks = documents+res.Documents, chunks+res.Chunks
	}
	return documents, chunks, nil
}

// Delete removes a document and its chunks; store.ErrNotFound when the
// collection holds none of that ID.
func (s *Stored) Delete(ctx context.Context, collection, id string) error {
	return s.st.DeleteDocument(ctx, collection, id)
}

// Search finds the chunks answering q, best first: the store's vector and
// text rankings (each asked for several times the hits wanted) fused by
// reciprocal rank, or one of them alone (q.Mode).
func (s *Stored) Search(ctx context.Context, q Query) ([]Hit, error) {
	if strings.TrimSpace(q.Text) == "" {
		return nil, ErrEmptyQuery
	}
	limit := q.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 0 {
		return nil, fmt.Errorf("knowledge: negative limit %d", limit)
	}
	f := store.ChunkFilter{Collection: q.Collection, Language: q.Language, Tags: q.Tags, Limit: max(4*limit, 20)}
	type fused struct {
		hit   Hit
		score float64
	}
	byID := map[string]*fused{}
	add := func(hits []store.ChunkHit, vector bool) {
		for rank, h := range hits {
			id := h.DocumentID + "#" + strconv.Itoa(h.Ordinal)
			key := h.Collection + "/" + id
			f, ok := byID[key]
			if !ok {
				f = &fused{hit: Hit{ChunkID: id, DocumentID: h.DocumentID, Title: h.Title, Section: h.Section,
					Source: h.Source, Language: h.Language, Text: h.Text, Citation: id}}
				byID[key] = f
			}
			if vector {
				f.hit.Scores.Vector = h.Score
			} else {
				f.hit.Scores.Text = h.Score
			}
			f.score += rrf(rank + 1)
		}
	}
	if q.Mode != TextOnly {
		vecs, err := s.embed.Embed(ctx, []string{q.Text})
		if err != nil {
			return nil, fmt.Errorf("knowledge: embedding the query: %w", err)
		}
		hits, err := s.st.SearchVector(ctx, vecs[0], f)
		if err != nil {
			return nil, err
		}
		add(hits, true)
	}
	if q.Mode != VectorOnly {
		hits, err := s.st.SearchText(ctx, q.Text, f)
		if err != nil {
			return nil, err
		}
		add(hits, false)
	}
	out := make([]*fused, 0, len(byID))
	for _, f := range byID {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *fused) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		if c := cmp.Compare(b.hit.Scores.Vector, a.hit.Scores.Vector); c != 0 {
			return c
		}
		return cmp.Compare(a.hit.ChunkID, b.hit.ChunkID)
	})
	hits := make([]Hit, 0, min(limit, len(out)))
	for _, f := range out[:min(limit, len(out))] {
		f.hit.Scores.Fused = f.score
		hits = append(hits, f.hit)
	}
	return hits, nil
}
