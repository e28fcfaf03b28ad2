package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/yanit/yanit/store"
)

// The knowledge index on PostgreSQL (see migrations/00004_knowledge.sql).
//
// Vector search. Embeddings live in one vector column whatever their
// dimension, and every dimension in use has its own partial HNSW index on
// an expression with that dimension, created by EnsureCollection (and
// SetCollectionModel):
//
//	CREATE INDEX knowledge_chunks_hnsw_256 ON knowledge_chunks
//	USING hnsw ((embedding::vector(256)) vector_cosine_ops) WHERE dims = 256
//
// SearchVector's statement is written for the query vector's dimension,
// ordering by the same expression under the same predicate, with its
// filters on the chunks' own columns (a chunk copies its document's
// language and tags, and adds its own tags to them), so the planner can
// walk that index; it still weighs it against the alternatives, and on a
// small table, or for a small collection through its b-tree, rightly
// prefers an exact scan.
// Embeddings of 2,001 to 4,000 dimensions, too long
// for an HNSW index on vector, are indexed as halfvec (half precision: the
// order may differ slightly from exact, the scores returned are exact);
// longer ones have no index and are searched exactly. Each search runs in
// a transaction that sets hnsw.ef_search to max(efSearch, limit) and, on
// pgvector 0.8+, hnsw.iterative_scan = relaxed_order, so that filters
// rejecting the nearest chunks do not leave a search short of its limit.
//
// Full text: see SearchText.

// efSearch is the smallest HNSW candidate list of a search (hnsw.ef_search;
// pgvector's default is 40): more finds the true nearest more often and
// costs more. A search for more hits than this widens it to its limit.
const efSearch = 200

// maxTextCandidates bounds the chunks a text search ranks (see SearchText
// in queries/knowledge.sql).
const maxTextCandidates = 2000

// maxHNSWEfSearch is the largest hnsw.ef_search pgvector accepts.
const maxHNSWEfSearch = 1000

// The longest embeddings an HNSW index holds, as vector and as halfvec.
const (
	maxHNSWVector  = 2000
	maxHNSWHalfvec = 4000
)

// SQLSTATE a CREATE INDEX IF NOT EXISTS racing another one may fail with.
const codeDuplicateTable = "42P07"

var (
	sqlInsertCollection   = query("InsertCollection")
	sqlGetCollection      = query("GetCollection")
	sqlListCollections    = query("ListCollections")
	sqlVectorIndexExists  = query("VectorIndexExists")
	sqlGetDocument        = query("GetDocument")
	sqlListDocuments      = query("ListDocuments")
	sqlUpsertDocument     = query("UpsertDocument")
	sqlDeleteChunks       = query("DeleteChunks")
	sqlInsertChunks       = query("InsertChunks")
	sqlDeleteDocument     = query("DeleteDocument")
	sqlBeginVectorSearch  = query("BeginVectorSearch")
	sqlSearchText         = query("SearchText")
	sqlLockCollection     = query("LockCollection")
	sqlSetCollectionModel = query("SetCollectionModel")
	sqlListChunks         = query("ListChunks")

	// Templates: see vectorSQL.
	sqlCreateVectorIndex = query("CreateVectorIndex")
	sqlSearchVector      = query("SearchVector")
)

// errCollectionNotFound is the error of an operation naming a collection
// that does not exist.
var errCollectionNotFound = fmt.Errorf("the collection: %w", store.ErrNotFound)

// vectorType is the type the HNSW index of embeddings of dims dimensions
// casts them to: vector, or halfvec past vector's limit for HNSW.
func vectorType(dims int) string {
	if dims > maxHNSWVector && dims <= maxHNSWHalfvec {
		return "halfvec"
	}
	return "vector"
}

// vectorIndexName is the name of the HNSW index of embeddings of dims
// dimensions.
func vectorIndexName(dims int) string { return "knowledge_chunks_hnsw_" + strconv.Itoa(dims) }

// vectorSQL writes the dimension dims, and the type its index casts to,
// into the template tmpl.
func vectorSQL(tmpl string, dims int) string {
	return strings.NewReplacer("{{dims}}", strconv.Itoa(dims), "{{type}}", vectorType(dims)).Replace(tmpl)
}

func scanCollection(r scanner) (store.KnowledgeCollection, error) {
	var c store.KnowledgeCollection
	err := r.Scan(&c.Name, &c.Model, &c.Dimensions, timeColumn{&c.CreatedAt})
	return c, err
}

func scanDocument(r scanner) (store.KnowledgeDocument, error) {
	var d store.KnowledgeDocument
	err := r.Scan(&d.Collection, &d.ID, &d.Title, &d.Source, &d.Language, &d.Tags, &d.Version, &d.Hash,
		&d.Chunks, timeColumn{&d.CreatedAt}, timeColumn{&d.UpdatedAt})
	if len(d.Tags) == 0 {
		d.Tags = nil
	}
	return d, err
}

func scanHit(r scanner) (store.ChunkHit, error) {
	var h store.ChunkHit
	err := r.Scan(&h.Collection, &h.DocumentID, &h.Title, &h.Source, &h.Language, &h.Section, &h.Text,
		&h.Ordinal, &h.Score)
	return h, err
}

// texts is a text[] as a query argument: an empty array, not NULL, when
// nil.
func texts(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// tsConfig is the text-search configuration of a document's language: its
// primary subtag ("tr", "tr-TR", "en_GB") picks turkish or english; any
// other language, or none, is simple (lower case, no stemming, no stop
// words).
func tsConfig(language string) string {
	primary, _, _ := strings.Cut(strings.ReplaceAll(language, "_", "-"), "-")
	switch strings.ToLower(primary) {
	case "tr":
		return "turkish"
	case "en":
		return "english"
	}
	return "simple"
}

// collection returns the collection called name; errCollectionNotFound
// when there is none.
func (q queries) collection(ctx context.Context, name string) (store.KnowledgeCollection, error) {
	c, err := scanCollection(q.db.QueryRow(ctx, sqlGetCollection, args{"name": name}))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, errCollectionNotFound
	}
	return c, interpretError(err)
}

// EnsureCollection creates the collection c, and the HNSW index of its
// dimension unless it exists, or returns the stored collection; see
// store.Knowledge. Creating the index locks knowledge_chunks against
// writes until the transaction ends, and takes the time to index the
// chunks of that dimension, if any: none, unless an operator dropped the
// index.
func (q queries) EnsureCollection(ctx context.Context, c store.KnowledgeCollection) (store.KnowledgeCollection, error) {
	var got store.KnowledgeCollection
	err := c.Validate()
	if err == nil {
		err = q.atomically(ctx, func(q queries) error {
			_, err := q.db.Exec(ctx, sqlInsertCollection, args{"name": c.Name, "model": c.Model, "dimensions": c.Dimensions})
			if err != nil {
				return interpretError(err)
			}
			if got, err = q.collection(ctx, c.Name); err != nil {
				return err
			}
			if err := got.Check(c); err != nil {
				return err
			}
			return q.ensureVectorIndex(ctx, got.Dimensions)
		})
	}
	if err != nil {
		return store.KnowledgeCollection{}, fmt.Errorf("ensuring knowledge collection %q: %w", c.Name, err)
	}
	return got, nil
}

// ensureVectorIndex creates the HNSW index of the embeddings of dims
// dimensions unless it exists. Embeddings longer than an HNSW index holds
// get none.
func (q queries) ensureVectorIndex(ctx context.Context, dims int) error {
	if dims > maxHNSWHalfvec {
		return nil
	}
	var exists bool
	if err := q.db.QueryRow(ctx, sqlVectorIndexExists, args{"name": vectorIndexName(dims)}).Scan(&exists); err != nil {
		return fmt.Errorf("looking for the vector index: %w", err)
	}
	if exists {
		return nil
	}
	// In a savepoint: another transaction creating the same index at the
	// same moment makes this one fail on the index's name, which is fine,
	// and must not abort the enclosing transaction.
	err := q.atomically(ctx, func(q queries) error {
		_, err := q.db.Exec(ctx, vectorSQL(sqlCreateVectorIndex, dims))
		return err
	})
	switch pgCode(err) {
	case codeUniqueViolation, codeDuplicateTable:
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating the vector index of %d dimensions: %w", dims, err)
	}
	return nil
}

// ListCollections returns every collection, by name.
func (q queries) ListCollections(ctx context.Context) ([]store.KnowledgeCollection, error) {
	rows, err := q.db.Query(ctx, sqlListCollections)
	cs, err := collect(rows, err, scanCollection)
	if err != nil {
		return nil, fmt.Errorf("listing knowledge collections: %w", interpretError(err))
	}
	return cs, nil
}

// ReplaceDocument stores a document's version with its chunks, all or
// nothing, unless the stored version has the same Hash; see
// store.Knowledge. The document's row lock orders racing replaces of one
// document; a search, one statement, sees the version committed when it
// started.
func (q queries) ReplaceDocument(ctx context.Context, d store.KnowledgeDocument, chunks []store.KnowledgeChunk) (bool, error) {
	changed := false
	err := q.atomically(ctx, func(q queries) error {
		c, err := q.lockCollection(ctx, d.Collection)
		if err != nil {
			return err
		}
		if err := c.CheckDocument(d, chunks); err != nil {
			return err
		}
		var stored bool
		err = q.db.QueryRow(ctx, sqlUpsertDocument, args{
			"collection": d.Collection, "id": d.ID, "title": d.Title, "source": d.Source,
			"language": d.Language, "tags": texts(d.Tags), "version": d.Version, "hash": d.Hash,
			"chunks": len(chunks),
		}).Scan(&stored)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // stored before with this hash
		}
		if err != nil {
			return fmt.Errorf("storing the document: %w", interpretError(err))
		}
		changed = true
		if _, err := q.db.Exec(ctx, sqlDeleteChunks, args{"collection": d.Collection, "document_id": d.ID}); err != nil {
			return fmt.Errorf("deleting the old chunks: %w", interpretError(err))
		}
		if err := q.insertChunks(ctx, d, chunks); err != nil {
			return fmt.Errorf("storing the chunks: %w", interpretError(err))
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("replacing document %q of collection %q: %w", d.ID, d.Collection, err)
	}
	return changed, nil
}

// insertChunks stores chunks of d in one statement.
func (q queries) insertChunks(ctx context.Context, d store.KnowledgeDocument, chunks []store.KnowledgeChunk) error {
	n := len(chunks)
	ordinals, tokens := make([]int32, n), make([]int32, n)
	sections, bodies := make([]string, n), make([]string, n)
	tags, ownTags := make([]string, n), make([]string, n)
	embeddings := make([]pgvector.Vector, n)
	for i, ch := range chunks {
		ordinals[i], tokens[i] = int32(ch.Ordinal), int32(ch.Tokens)
		sections[i], bodies[i] = ch.Section, ch.Text
		tags[i], ownTags[i] = jsonTags(chunkTags(d.Tags, ch.Tags)), jsonTags(ch.Tags)
		embeddings[i] = pgvector.NewVector(ch.Embedding)
	}
	_, err := q.db.Exec(ctx, sqlInsertChunks, args{
		"collection": d.Collection, "document_id": d.ID, "title": d.Title, "ts_config": tsConfig(d.Language),
		"language": d.Language, "tags": tags, "own_tags": ownTags,
		"ordinals": ordinals, "sections": sections, "texts": bodies, "tokens": tokens, "embeddings": embeddings,
	})
	return err
}

// DeleteDocument removes a document and its chunks; ErrNotFound when the
// collection does not hold it.
func (q queries) DeleteDocument(ctx context.Context, collection, id string) error {
	tag, err := q.db.Exec(ctx, sqlDeleteDocument, args{"collection": collection, "id": id})
	if err == nil && tag.RowsAffected() == 0 {
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
	d, err := scanDocument(q.db.QueryRow(ctx, sqlGetDocument, args{"collection": collection, "id": id}))
	if err != nil {
		return store.KnowledgeDocument{}, fmt.Errorf("getting document %q of collection %q: %w", id, collection, interpretError(err))
	}
	return d, nil
}

// ListDocuments returns the documents of a collection, or of all when it
// is "", by collection then ID.
func (q queries) ListDocuments(ctx context.Context, collection string) ([]store.KnowledgeDocument, error) {
	rows, err := q.db.Query(ctx, sqlListDocuments, args{"collection": collection})
	ds, err := collect(rows, err, scanDocument)
	if err != nil {
		return nil, fmt.Errorf("listing the documents of collection %q: %w", collection, interpretError(err))
	}
	return ds, nil
}

// inTx runs fn in a transaction: q's, or a new one when q is on the pool.
// Unlike atomically, it adds no savepoint inside a transaction: for reads
// that set transaction-local parameters.
func (q queries) inTx(ctx context.Context, fn func(q queries) error) error {
	if _, ok := q.db.(pgx.Tx); ok {
		return fn(q)
	}
	return q.atomically(ctx, fn)
}

// SearchVector returns the chunks nearest to v by cosine distance, through
// the HNSW index of len(v) dimensions; see store.Knowledge and the top of
// this file.
func (q queries) SearchVector(ctx context.Context, v []float32, f store.ChunkFilter) ([]store.ChunkHit, error) {
	hits, err := q.searchVector(ctx, v, f)
	if err != nil {
		return nil, fmt.Errorf("searching knowledge by vector: %w", err)
	}
	return hits, nil
}

func (q queries) searchVector(ctx context.Context, v []float32, f store.ChunkFilter) ([]store.ChunkHit, error) {
	if err := store.CheckVector(v); err != nil {
		return nil, err
	}
	limit, err := f.SearchLimit()
	if err != nil {
		return nil, err
	}
	var hits []store.ChunkHit
	err = q.inTx(ctx, func(q queries) error {
		var dims *int
		err := q.db.QueryRow(ctx, sqlBeginVectorSearch, args{
			"ef_search": strconv.Itoa(min(max(efSearch, limit), maxHNSWEfSearch)), "collection": f.Collection,
		}).Scan(nil, nil, &dims)
		if err != nil {
			return fmt.Errorf("setting the search up: %w", interpretError(err))
		}
		if f.Collection != "" {
			if dims == nil {
				return errCollectionNotFound
			}
			if *dims != len(v) {
				return fmt.Errorf("a vector of %d dimensions cannot search collection %q, which holds %d",
					len(v), f.Collection, *dims)
			}
		}
		if zero(v) {
			return nil
		}
		stmt, a := vectorQuery(v, f, limit)
		rows, err := q.db.Query(ctx, stmt, a)
		hits, err = collect(rows, err, scanHit)
		return interpretError(err)
	})
	return hits, err
}

// vectorQuery is the statement and the arguments of a vector search.
func vectorQuery(v []float32, f store.ChunkFilter, limit int) (string, args) {
	return vectorSQL(sqlSearchVector, len(v)), args{
		"vector": pgvector.NewVector(v), "collection": f.Collection, "language": f.Language,
		"tags": texts(f.Tags), "limit": limit,
	}
}

// zero reports whether every value of v is 0.
func zero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// SearchText returns the chunks matching any word of query in their
// language's text-search configuration, ranked by ts_rank_cd; see
// store.Knowledge and queries/knowledge.sql. With a language filter the
// query is built in that language's configuration only; without, in each
// configuration and matched against the chunks indexed in it.
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
	if f.Collection != "" {
		if _, err := q.collection(ctx, f.Collection); err != nil {
			return nil, err
		}
	}
	configs := []string{"turkish", "english", "simple"} // every configuration tsConfig gives
	if f.Language != "" {
		configs = []string{tsConfig(f.Language)}
	}
	// Chunks holding every word first: few, and the best. Only when they
	// are too few, chunks holding any word: on a large index a common
	// word matches a good part of it, and ranking all of those is what
	// takes the time.
	var hits []store.ChunkHit
	for _, any := range []bool{false, true} {
		rows, err := q.db.Query(ctx, sqlSearchText, args{
			"query": query, "configs": configs, "collection": f.Collection, "language": f.Language,
			"tags": texts(f.Tags), "limit": limit, "any": any, "candidates": maxTextCandidates,
		})
		if hits, err = collect(rows, err, scanHit); err != nil {
			return nil, interpretError(err)
		}
		if len(hits) >= limit {
			break
		}
	}
	return hits, nil
}

// lockCollection returns the collection called name, locked against
// SetCollectionModel until the transaction ends (see LockCollection in
// queries/knowledge.sql); errCollectionNotFound when there is none.
func (q queries) lockCollection(ctx context.Context, name string) (store.KnowledgeCollection, error) {
	c, err := scanCollection(q.db.QueryRow(ctx, sqlLockCollection, args{"name": name}))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, errCollectionNotFound
	}
	return c, interpretError(err)
}

// chunkTags are the tags a search filters a chunk by: its document's, then
// those of its own the document lacks.
func chunkTags(docTags, own []string) []string {
	out := slices.Clone(docTags)
	for _, t := range own {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// jsonTags is tags as a JSON array, "[]" when empty: an element of
// InsertChunks' @tags and @own_tags.
func jsonTags(tags []string) string {
	b, _ := json.Marshal(texts(tags)) // strings always encode
	return string(b)
}

// SetCollectionModel records a collection's new model and dimension, and
// creates the HNSW index of the dimension unless it exists; see
// store.Knowledge. Creating the index locks knowledge_chunks against
// other transactions' writes until the transaction ends.
func (q queries) SetCollectionModel(ctx context.Context, c store.KnowledgeCollection) error {
	err := c.Validate()
	if err == nil {
		err = q.atomically(ctx, func(q queries) error {
			tag, err := q.db.Exec(ctx, sqlSetCollectionModel, args{"name": c.Name, "model": c.Model, "dimensions": c.Dimensions})
			if err != nil {
				return interpretError(err)
			}
			if tag.RowsAffected() == 0 {
				return errCollectionNotFound
			}
			return q.ensureVectorIndex(ctx, c.Dimensions)
		})
	}
	if err != nil {
		return fmt.Errorf("setting the model of knowledge collection %q: %w", c.Name, err)
	}
	return nil
}

// ListChunks returns the chunks of a document by ordinal, without their
// embeddings; ErrNotFound when the collection does not hold it. A stored
// document has at least one chunk.
func (q queries) ListChunks(ctx context.Context, collection, documentID string) ([]store.KnowledgeChunk, error) {
	rows, err := q.db.Query(ctx, sqlListChunks, args{"collection": collection, "document_id": documentID})
	chunks, err := collect(rows, err, func(r scanner) (store.KnowledgeChunk, error) {
		var ch store.KnowledgeChunk
		err := r.Scan(&ch.Ordinal, &ch.Section, &ch.Text, &ch.Tokens, &ch.Tags)
		if len(ch.Tags) == 0 {
			ch.Tags = nil
		}
		return ch, err
	})
	if err == nil && len(chunks) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("listing the chunks of document %q of collection %q: %w", documentID, collection, interpretError(err))
	}
	return chunks, nil
}
