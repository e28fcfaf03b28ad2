package knowledge

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/yanit/yanit/store"
)

// ReindexResult says what Reindex did to a collection.
type ReindexResult struct {
	// Previous is the collection as it was: the model and dimension it
	// was indexed with.
	Previous store.KnowledgeCollection
	// Collection is the collection as it is now, on the new model.
	Collection store.KnowledgeCollection
	// Documents and Chunks count what was embedded again: every document
	// of the collection and every chunk of each.
	Documents, Chunks int
}

// Reindex embeds every chunk of the stored collection again with e, whose
// vectors are of model and dims, and records that the collection is indexed
// with them from now on: what `yanit knowledge reindex` runs after the
// embedding model changed, when adding a document says to (see
// store.KnowledgeCollection.Check).
//
// It reads every document and the text of its chunks, then embeds them all,
// outside any transaction, as Stored.Add would (the heading path before the
// text; batches, workers and retries as o says); every vector is held in
// memory until the end. Then, in one transaction, it sets the collection's
// model and replaces each document by the same version with the new
// embeddings: its metadata, chunk texts, tags and CreatedAt stay, and its
// hash keeps its content's fingerprint with the new model, so that adding
// the unchanged file again with the new model changes nothing. A search
// sees the old index until the transaction commits, then the new one,
// never a mix of two models or dimensions; a failure at any step (the
// embedder's, a cancelled ctx, the store's) changes nothing.
//
// Reindexing with the model and dimension the collection already has
// embeds and stores every chunk again all the same: the vectors of one
// model name can change with the embedder behind it (another server,
// another version), or with yanit's way of building the text it embeds.
//
// A document added, replaced or deleted in the collection while Reindex
// embeds makes it fail with an error wrapping store.ErrConflict, changing
// nothing; run it again. Once it has committed, adding with the old model
// is refused: processes still embedding with it need the new configuration.
func Reindex(ctx context.Context, st store.Store, e Embedder, model string, dims int, collection string, o EmbedOptions) (ReindexResult, error) {
	res, err := reindex(ctx, st, e, model, dims, collection, o)
	if err != nil {
		return ReindexResult{}, fmt.Errorf("reindexing knowledge collection %q: %w", collection, err)
	}
	return res, nil
}

// reindexedVersion is a stored document with its chunks, to store again.
type reindexedVersion struct {
	doc    store.KnowledgeDocument
	chunks []store.KnowledgeChunk
}

func reindex(ctx context.Context, st store.Store, e Embedder, model string, dims int, collection string, o EmbedOptions) (ReindexResult, error) {
	target := store.KnowledgeCollection{Name: collection, Model: model, Dimensions: dims}
	if err := target.Validate(); err != nil {
		return ReindexResult{}, err
	}
	prev, err := storedCollection(ctx, st, collection)
	if err != nil {
		return ReindexResult{}, err
	}
	docs, err := st.ListDocuments(ctx, collection)
	if err != nil {
		return ReindexResult{}, err
	}
	versions := make([]reindexedVersion, len(docs))
	var texts []string
	for i, d := range docs {
		if err := ctx.Err(); err != nil {
			return ReindexResult{}, err
		}
		chunks, err := st.ListChunks(ctx, collection, d.ID)
		if err != nil {
			return ReindexResult{}, err
		}
		doc := storedDocument(d)
		for _, c := range chunks {
			texts = append(texts, contextText(doc, Chunk{Section: c.Section, Text: c.Text, Tokens: c.Tokens, Tags: c.Tags}))
		}
		versions[i] = reindexedVersion{doc: d, chunks: chunks}
	}
	if len(texts) > 0 {
		vecs, err := EmbedAll(ctx, e, texts, o)
		if err != nil {
			return ReindexResult{}, err
		}
		if len(vecs[0]) != dims {
			return ReindexResult{}, fmt.Errorf("the embedder returned vectors of %d dimensions for model %s, not the %d configured",
				len(vecs[0]), model, dims)
		}
		n := 0
		for _, v := range versions {
			for j := range v.chunks {
				v.chunks[j].Embedding = vecs[n]
				n++
			}
		}
	}
	err = st.InTx(ctx, func(tx store.Queries) error {
		if err := tx.SetCollectionModel(ctx, target); err != nil {
			return err
		}
		now, err := tx.ListDocuments(ctx, collection)
		if err != nil {
			return err
		}
		if err := sameVersions(now, docs); err != nil {
			return err
		}
		for _, v := range versions {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := replaceReindexed(ctx, tx, v, model); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return ReindexResult{}, err
	}
	target.CreatedAt = prev.CreatedAt
	return ReindexResult{Previous: prev, Collection: target, Documents: len(docs), Chunks: len(texts)}, nil
}

// storedCollection returns the stored collection called name; an error
// wrapping store.ErrNotFound when there is none.
func storedCollection(ctx context.Context, st store.Knowledge, name string) (store.KnowledgeCollection, error) {
	cols, err := st.ListCollections(ctx)
	if err != nil {
		return store.KnowledgeCollection{}, err
	}
	for _, c := range cols {
		if c.Name == name {
			return c, nil
		}
	}
	return store.KnowledgeCollection{}, fmt.Errorf("no such collection: %w", store.ErrNotFound)
}

// storedDocument is the Document of a stored one, as far as the store
// keeps it: all but its Hash.
func storedDocument(d store.KnowledgeDocument) Document {
	return Document{ID: d.ID, Collection: d.Collection, Title: d.Title, Source: d.Source, Language: d.Language,
		Tags: d.Tags, Version: d.Version}
}

// sameVersions reports, as an error wrapping store.ErrConflict, that the
// documents stored now are not the versions read before (both by ID).
func sameVersions(now, before []store.KnowledgeDocument) error {
	changed := len(now) != len(before)
	for i := 0; !changed && i < len(now); i++ {
		changed = now[i].ID != before[i].ID || now[i].Hash != before[i].Hash
	}
	if changed {
		return fmt.Errorf("%w: documents were added, replaced or deleted while the collection was embedded; run the reindex again",
			store.ErrConflict)
	}
	return nil
}

// reindexedHash is the hash Stored.Add gives a document's version embedded
// with model: the fingerprint the stored hash starts with (before its first
// ":"; models may hold one) and the model.
func reindexedHash(hash, model string) string {
	fingerprint, _, _ := strings.Cut(hash, ":")
	return fingerprint + ":" + model
}

// replaceReindexed stores v again with its new embeddings under the hash of
// model. ReplaceDocument keeps a version whose hash it holds, so when the
// hash stays (the same model name, perhaps with another dimension), a
// version of the first chunk alone, under another hash, is stored first:
// the transaction replaces it at once, and the document keeps its
// CreatedAt, which a delete would lose.
func replaceReindexed(ctx context.Context, tx store.Queries, v reindexedVersion, model string) error {
	d := v.doc
	d.Hash = reindexedHash(v.doc.Hash, model)
	if d.Hash == v.doc.Hash {
		interim := d
		interim.Hash = d.Hash + " (reindexing)"
		if _, err := tx.ReplaceDocument(ctx, interim, v.chunks[:1]); err != nil {
			return err
		}
	}
	changed, err := tx.ReplaceDocument(ctx, d, v.chunks)
	if err == nil && !changed {
		err = errors.New("the store kept the old version")
	}
	if err != nil {
		return fmt.Errorf("storing %s: %w", d.ID, err)
	}
	return nil
}
