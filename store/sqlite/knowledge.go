package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/yanit/yanit/store"
)

// The knowledge index on SQLite: embeddings are BLOBs of little-endian
// float32 values, and SearchVector computes exact cosine similarity in Go
// over every chunk that passes the filters (a search reads each candidate's
// embedding once, then the text of the best). That suits the embedded
// default, knowledge bases of some thousands of chunks; the PostgreSQL
// store keeps larger ones behind an HNSW index. SearchText runs on the FTS5
// table knowledge_fts (see migrations/00004_knowledge.sql).

var (
	sqlInsertCollection   = query("InsertCollection")
	sqlGetCollection      = query("GetCollection")
	sqlListCollections    = query("ListCollections")
	sqlGetDocument        = query("GetDocument")
	sqlListDocuments      = query("ListDocuments")
	sqlUpsertDocument     = query("UpsertDocument")
	sqlDeleteChunks       = query("DeleteChunks")
	sqlInsertChunk        = query("InsertChunk")
	sqlDeleteDocument     = query("DeleteDocument")
	sqlVectorCandidates   = query("VectorCandidates")
	sqlChunkHits          = query("ChunkHits")
	sqlSearchText         = query("SearchText")
	sqlSetCollectionModel = query("SetCollectionModel")
	sqlListChunks         = query("ListChunks")
)

const (
	// float32Bytes is the size of one value of an embedding BLOB.
	float32Bytes = 4
	// maxSearchTerms is the number of words of a SearchText query that
	// are matched; the rest are dropped.
	maxSearchTerms = 64
)

// errCollectionNotFound is the error of an operation naming a collection
// that does not exist.
var errCollectionNotFound = fmt.Errorf("the collection: %w", store.ErrNotFound)

func scanCollection(r scanner) (store.KnowledgeCollection, error) {
	var c store.KnowledgeCollection
	err := r.Scan(&c.Name, &c.Model, &c.Dimensions, timeColumn{&c.CreatedAt})
	return c, err
}

func scanDocument(r scanner) (store.KnowledgeDocument, error) {
	var d store.KnowledgeDocument
	var tags string
	err := r.Scan(&d.Collection, &d.ID, &d.Title, &d.Source, &d.Language, &tags, &d.Version, &d.Hash,
		&d.Chunks, timeColumn{&d.CreatedAt}, timeColumn{&d.UpdatedAt})
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal([]byte(tags), &d.Tags); err != nil {
		return d, fmt.Errorf("reading the tags of document %q: %w", d.ID, err)
	}
	if len(d.Tags) == 0 {
		d.Tags = nil
	}
	return d, nil
}

// hitColumns are the destinations of the columns every hit query selects
// first, before its score or id.
func hitColumns(h *store.ChunkHit) []any {
	return []any{&h.Collection, &h.DocumentID, &h.Title, &h.Source, &h.Language, &h.Section, &h.Text, &h.Ordinal}
}

func scanHit(r scanner) (store.ChunkHit, error) {
	var h store.ChunkHit
	err := r.Scan(append(hitColumns(&h), &h.Score)...)
	return h, err
}

// filterArgs are a search filter's query arguments.
func filterArgs(f store.ChunkFilter) []any {
	return []any{
		sql.Named("collection", f.Collection),
		sql.Named("language", f.Language),
		sql.Named("tags", jsonArray(f.Tags)),
	}
}

// reading runs fn in one read transaction, so that its queries see one
// snapshot of the file: a new, read-only one when q is on the pool (BEGIN
// DEFERRED, which takes no write lock and waits for no writer, in WAL
// mode), or the enclosing transaction.
func (q queries) reading(ctx context.Context, fn func(q queries) error) error {
	db, ok := q.db.(*sql.DB)
	if !ok {
		return fn(q)
	}
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("beginning a read transaction: %w", err)
	}
	defer tx.Rollback() // it wrote nothing: rolling back ends it
	return fn(queries{db: tx})
}

// collection returns the collection called name; errCollectionNotFound
// when there is none.
func (q queries) collection(ctx context.Context, name string) (store.KnowledgeCollection, error) {
	c, err := scanCollection(q.db.QueryRowContext(ctx, sqlGetCollection, sql.Named("name", name)))
	if errors.Is(err, sql.ErrNoRows) {
		return c, errCollectionNotFound
	}
	return c, interpretError(err)
}

// EnsureCollection creates the collection c or returns the stored one; see
// store.Knowledge.
func (q queries) EnsureCollection(ctx context.Context, c store.KnowledgeCollection) (store.KnowledgeCollection, error) {
	var got store.KnowledgeCollection
	err := c.Validate()
	if err == nil {
		err = q.atomically(ctx, func(q queries) error {
			_, err := q.db.ExecContext(ctx, sqlInsertCollection, sql.Named("name", c.Name), sql.Named("model", c.Model),
				sql.Named("dimensions", c.Dimensions), sql.Named("now", unixMicro(now())))
			if err != nil {
				return interpretError(err)
			}
			if got, err = q.collection(ctx, c.Name); err != nil {
				return err
			}
			return got.Check(c)
		})
	}
	if err != nil {
		return store.KnowledgeCollection{}, fmt.Errorf("ensuring knowledge collection %q: %w", c.Name, err)
	}
	return got, nil
}

// ListCollections returns every collection, by name.
func (q queries) ListCollections(ctx context.Context) ([]store.KnowledgeCollection, error) {
	rows, err := q.db.QueryContext(ctx, sqlListCollections)
	cs, err := collect(rows, err, scanCollection)
	if err != nil {
		return nil, fmt.Errorf("listing knowledge collections: %w", interpretError(err))
	}
	return cs, nil
}

// ReplaceDocument stores a document's version with its chunks, all or
// nothing, unless the stored version has the same Hash; see
// store.Knowledge. It runs in one transaction, which holds the write lock
// from its start, so the hash it compares stays true until it commits.
func (q queries) ReplaceDocument(ctx context.Context, d store.KnowledgeDocument, chunks []store.KnowledgeChunk) (bool, error) {
	changed := false
	err := q.atomically(ctx, func(q queries) error {
		c, err := q.collection(ctx, d.Collection)
		if err != nil {
			return err
		}
		if err := c.CheckDocument(d, chunks); err != nil {
			return err
		}
		old, err := scanDocument(q.db.QueryRowContext(ctx, sqlGetDocument,
			sql.Named("collection", d.Collection), sql.Named("id", d.ID)))
		switch {
		case err == nil && old.Hash == d.Hash:
			return nil
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return interpretError(err)
		}
		changed = true
		return q.writeDocument(ctx, d, chunks)
	})
	if err != nil {
		return false, fmt.Errorf("replacing document %q of collection %q: %w", d.ID, d.Collection, err)
	}
	return changed, nil
}

// writeDocument stores d, replacing the old version's chunks by chunks.
func (q queries) writeDocument(ctx context.Context, d store.KnowledgeDocument, chunks []store.KnowledgeChunk) error {
	_, err := q.db.ExecContext(ctx, sqlUpsertDocument,
		sql.Named("collection", d.Collection), sql.Named("id", d.ID), sql.Named("title", d.Title),
		sql.Named("source", d.Source), sql.Named("language", d.Language), sql.Named("tags", jsonArray(d.Tags)),
		sql.Named("version", d.Version), sql.Named("hash", d.Hash), sql.Named("chunks", len(chunks)),
		sql.Named("now", unixMicro(now())))
	if err != nil {
		return fmt.Errorf("storing the document: %w", interpretError(err))
	}
	_, err = q.db.ExecContext(ctx, sqlDeleteChunks, sql.Named("collection", d.Collection), sql.Named("document_id", d.ID))
	if err != nil {
		return fmt.Errorf("deleting the old chunks: %w", interpretError(err))
	}
	for _, ch := range chunks {
		_, err := q.db.ExecContext(ctx, sqlInsertChunk,
			sql.Named("collection", d.Collection), sql.Named("document_id", d.ID), sql.Named("ordinal", ch.Ordinal),
			sql.Named("section", ch.Section), sql.Named("text", ch.Text), sql.Named("tokens", ch.Tokens),
			sql.Named("embedding", embeddingBlob(ch.Embedding)), sql.Named("own_tags", jsonArray(ch.Tags)))
		if err != nil {
			return fmt.Errorf("storing chunk %d: %w", ch.Ordinal, interpretError(err))
		}
	}
	return nil
}

// embeddingBlob encodes v as little-endian float32 values.
func embeddingBlob(v []float32) []byte {
	b := make([]byte, 0, float32Bytes*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// DeleteDocument removes a document and its chunks; ErrNotFound when the
// collection does not hold it.
func (q queries) DeleteDocument(ctx context.Context, collection, id string) error {
	n, err := rowsAffected(q.db.ExecContext(ctx, sqlDeleteDocument, sql.Named("collection", collection), sql.Named("id", id)))
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("deleting document %q of collection %q: %w", id, collection, interpretError(err))
	}
	return nil
}

// GetDocument returns a document's stored version; ErrNotFound when there
// is none.
func (q queries) GetDocument(ctx context.Context, collection, id string) (store.KnowledgeDocument, error) {
	d, err := scanDocument(q.db.QueryRowContext(ctx, sqlGetDocument, sql.Named("collection", collection), sql.Named("id", id)))
	if err != nil {
		return store.KnowledgeDocument{}, fmt.Errorf("getting document %q of collection %q: %w", id, collection, interpretError(err))
	}
	return d, nil
}

// ListDocuments returns the documents of a collection, or of all when it
// is "", by collection then ID.
func (q queries) ListDocuments(ctx context.Context, collection string) ([]store.KnowledgeDocument, error) {
	rows, err := q.db.QueryContext(ctx, sqlListDocuments, sql.Named("collection", collection))
	ds, err := collect(rows, err, scanDocument)
	if err != nil {
		return nil, fmt.Errorf("listing the documents of collection %q: %w", collection, interpretError(err))
	}
	return ds, nil
}

// SearchVector returns the chunks most similar to v by exact cosine
// similarity; see store.Knowledge. Ties keep (collection, document,
// ordinal) order.
func (q queries) SearchVector(ctx context.Context, v []float32, f store.ChunkFilter) ([]store.ChunkHit, error) {
	hits, err := q.searchVector(ctx, v, f)
	if err != nil {
		return nil, fmt.Errorf("searching knowledge by vector: %w", err)
	}
	return hits, nil
}

// scoredChunk is a candidate of SearchVector.
type scoredChunk struct {
	id    int64
	score float64
}

func (q queries) searchVector(ctx context.Context, v []float32, f store.ChunkFilter) ([]store.ChunkHit, error) {
	if err := store.CheckVector(v); err != nil {
		return nil, err
	}
	limit, err := f.SearchLimit()
	if err != nil {
		return nil, err
	}
	vnorm := norm(v)
	var hits []store.ChunkHit
	err = q.reading(ctx, func(q queries) error {
		if f.Collection != "" {
			c, err := q.collection(ctx, f.Collection)
			if err != nil {
				return err
			}
			if c.Dimensions != len(v) {
				return fmt.Errorf("a vector of %d dimensions cannot search collection %q, which holds %d",
					len(v), c.Name, c.Dimensions)
			}
		}
		if vnorm == 0 {
			return nil
		}
		top, err := q.nearest(ctx, v, vnorm, f, limit)
		if err != nil || len(top) == 0 {
			return err
		}
		hits, err = q.chunkHits(ctx, top)
		return err
	})
	return hits, err
}

// nearest scores every chunk passing f by cosine similarity to v (of norm
// vnorm) and returns the best limit of them, best first.
func (q queries) nearest(ctx context.Context, v []float32, vnorm float64, f store.ChunkFilter, limit int) ([]scoredChunk, error) {
	rows, err := q.db.QueryContext(ctx, sqlVectorCandidates,
		append(filterArgs(f), sql.Named("bytes", float32Bytes*len(v)))...)
	if err != nil {
		return nil, interpretError(err)
	}
	defer rows.Close()
	var cands []scoredChunk
	for rows.Next() {
		var id int64
		var blob sql.RawBytes // valid until Next: decoded in place
		if err := rows.Scan(&id, &blob); err != nil {
			return nil, err
		}
		if score, ok := cosine(v, vnorm, blob); ok {
			cands = append(cands, scoredChunk{id, score})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, interpretError(err)
	}
	// Stable: equal scores keep the rows' (collection, document, ordinal)
	// order.
	slices.SortStableFunc(cands, func(a, b scoredChunk) int { return cmp.Compare(b.score, a.score) })
	return cands[:min(limit, len(cands))], nil
}

// chunkHits reads the chunks of top, in its order, with its scores.
func (q queries) chunkHits(ctx context.Context, top []scoredChunk) ([]store.ChunkHit, error) {
	ids := make([]int64, len(top))
	at := make(map[int64]int, len(top))
	for i, c := range top {
		ids[i] = c.id
		at[c.id] = i
	}
	rows, err := q.db.QueryContext(ctx, sqlChunkHits, sql.Named("ids", jsonArray(ids)))
	if err != nil {
		return nil, interpretError(err)
	}
	defer rows.Close()
	hits := make([]store.ChunkHit, len(top))
	found := 0
	for rows.Next() {
		var h store.ChunkHit
		var id int64
		if err := rows.Scan(append(hitColumns(&h), &id)...); err != nil {
			return nil, err
		}
		i, ok := at[id]
		if !ok {
			return nil, fmt.Errorf("reading the chunks found: chunk %d was not asked for", id)
		}
		h.Score = top[i].score
		hits[i] = h
		found++
	}
	if err := rows.Err(); err != nil {
		return nil, interpretError(err)
	}
	if found != len(top) {
		// The snapshot is the one the scores were computed in: a chunk
		// cannot have gone.
		return nil, fmt.Errorf("reading the chunks found: %d of %d", found, len(top))
	}
	return hits, nil
}

// norm is the Euclidean length of v.
func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// cosine returns the cosine similarity of v (of norm vnorm, not 0) and the
// embedding encoded in blob (len(v) little-endian float32 values), clamped
// to [-1, 1] against rounding; false when the embedding is all zeros.
func cosine(v []float32, vnorm float64, blob []byte) (float64, bool) {
	var dot, sq float64
	for i, x := range v {
		y := float64(math.Float32frombits(binary.LittleEndian.Uint32(blob[float32Bytes*i:])))
		dot += float64(x) * y
		sq += y * y
	}
	if sq == 0 {
		return 0, false
	}
	return max(-1, min(1, dot/(vnorm*math.Sqrt(sq)))), true
}

// SearchText returns the chunks that best match any word of query, by
// FTS5's bm25; see store.Knowledge.
func (q queries) SearchText(ctx context.Context, query string, f store.ChunkFilter) ([]store.ChunkHit, error) {
	hits, err := q.searchText(ctx, query, f)
	if err != nil {
		return nil, fmt.Errorf("searching knowledge by text: %w", err)
	}
	return hits, nil
}

func (q queries) searchText(ctx context.Context, query string, f store.ChunkFilter) ([]store.ChunkHit, error) {
	if strings.TrimSpace(query) == "" {
		return nil, errors.New("the query is empty")
	}
	limit, err := f.SearchLimit()
	if err != nil {
		return nil, err
	}
	match := ftsMatch(query)
	var hits []store.ChunkHit
	err = q.reading(ctx, func(q queries) error {
		if f.Collection != "" {
			if _, err := q.collection(ctx, f.Collection); err != nil {
				return err
			}
		}
		if match == "" {
			return nil
		}
		rows, err := q.db.QueryContext(ctx, sqlSearchText,
			append(filterArgs(f), sql.Named("match", match), sql.Named("limit", limit))...)
		hits, err = collect(rows, err, scanHit)
		return interpretError(err)
	})
	return hits, err
}

// ftsMatch turns a user's text into an FTS5 query matching any of its
// words: each word (a run of letters, digits and marks, which unicode61
// never splits) quoted, so that no user text is FTS5 syntax, and joined by
// OR. Repeated words count once; words past maxSearchTerms are dropped. A
// text without words gives "".
func ftsMatch(text string) string {
	words := strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
	})
	seen := make(map[string]bool, len(words))
	var terms []string
	for _, w := range words {
		w = strings.ToLower(w)
		if seen[w] || len(terms) == maxSearchTerms {
			continue
		}
		seen[w] = true
		terms = append(terms, `"`+strings.ReplaceAll(w, `"`, `""`)+`"`)
	}
	return strings.Join(terms, " OR ")
}

// SetCollectionModel records a collection's new model and dimension; see
// store.Knowledge.
func (q queries) SetCollectionModel(ctx context.Context, c store.KnowledgeCollection) error {
	err := c.Validate()
	if err == nil {
		var n int64
		n, err = rowsAffected(q.db.ExecContext(ctx, sqlSetCollectionModel,
			sql.Named("name", c.Name), sql.Named("model", c.Model), sql.Named("dimensions", c.Dimensions)))
		if err == nil && n == 0 {
			err = errCollectionNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("setting the model of knowledge collection %q: %w", c.Name, interpretError(err))
	}
	return nil
}

// ListChunks returns the chunks of a document by ordinal, without their
// embeddings; ErrNotFound when the collection does not hold it. A stored
// document has at least one chunk.
func (q queries) ListChunks(ctx context.Context, collection, documentID string) ([]store.KnowledgeChunk, error) {
	rows, err := q.db.QueryContext(ctx, sqlListChunks, sql.Named("collection", collection), sql.Named("document_id", documentID))
	chunks, err := collect(rows, err, func(r scanner) (store.KnowledgeChunk, error) {
		var ch store.KnowledgeChunk
		var tags string
		if err := r.Scan(&ch.Ordinal, &ch.Section, &ch.Text, &ch.Tokens, &tags); err != nil {
			return ch, err
		}
		if err := json.Unmarshal([]byte(tags), &ch.Tags); err != nil {
			return ch, fmt.Errorf("reading the tags of chunk %d: %w", ch.Ordinal, err)
		}
		if len(ch.Tags) == 0 {
			ch.Tags = nil
		}
		return ch, nil
	})
	if err == nil && len(chunks) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("listing the chunks of document %q of collection %q: %w", documentID, collection, interpretError(err))
	}
	return chunks, nil
}
