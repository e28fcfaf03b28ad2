-- The knowledge index. Every query returning a collection selects the
-- columns scanCollection reads, a document those of scanDocument, a hit
-- those of scanHit, in their order.
--
-- The filters of a search: @collection and @language match all when they
-- are ''; @tags is a JSON array of the tags a chunk must all have ('[]'
-- for none), each its own (own_tags) or its document's.

-- name: InsertCollection :exec
-- A collection of that name stored before stays as it is.
INSERT INTO knowledge_collections (name, model, dimensions, created_at)
VALUES (@name, @model, @dimensions, @now)
ON CONFLICT (name) DO NOTHING;

-- name: GetCollection :one
SELECT name, model, dimensions, created_at
FROM knowledge_collections
WHERE name = @name;

-- name: ListCollections :many
SELECT name, model, dimensions, created_at
FROM knowledge_collections
ORDER BY name;

-- name: GetDocument :one
SELECT collection, id, title, source, language, tags, version, hash, chunks, created_at, updated_at
FROM knowledge_documents
WHERE collection = @collection AND id = @id;

-- name: ListDocuments :many
SELECT collection, id, title, source, language, tags, version, hash, chunks, created_at, updated_at
FROM knowledge_documents
WHERE @collection = '' OR collection = @collection
ORDER BY collection, id;

-- name: UpsertDocument :exec
-- A document stored before keeps its created_at; the rest is replaced.
INSERT INTO knowledge_documents
    (collection, id, title, source, language, tags, version, hash, chunks, created_at, updated_at)
VALUES
    (@collection, @id, @title, @source, @language, @tags, @version, @hash, @chunks, @now, @now)
ON CONFLICT (collection, id) DO UPDATE
SET title = excluded.title, source = excluded.source, language = excluded.language,
    tags = excluded.tags, version = excluded.version, hash = excluded.hash,
    chunks = excluded.chunks, updated_at = excluded.updated_at;

-- name: DeleteChunks :exec
-- The trigger knowledge_chunks_fts_delete removes their words from
-- knowledge_fts.
DELETE FROM knowledge_chunks
WHERE collection = @collection AND document_id = @document_id;

-- name: InsertChunk :exec
-- The trigger knowledge_chunks_fts_insert indexes its words, with its
-- document's title: insert the document first.
INSERT INTO knowledge_chunks (collection, document_id, ordinal, section, text, tokens, embedding, own_tags)
VALUES (@collection, @document_id, @ordinal, @section, @text, @tokens, @embedding, @own_tags);

-- name: DeleteDocument :execrows
-- Its chunks go with it (ON DELETE CASCADE), and their words with them.
DELETE FROM knowledge_documents
WHERE collection = @collection AND id = @id;

-- name: VectorCandidates :many
-- The id and embedding of every chunk passing the filters whose embedding
-- is @bytes long, in (collection, document, ordinal) order, which breaks
-- ties between equal scores.
SELECT c.id, c.embedding
FROM knowledge_chunks c
JOIN knowledge_documents d ON d.collection = c.collection AND d.id = c.document_id
WHERE length(c.embedding) = @bytes
  AND (@collection = '' OR c.collection = @collection)
  AND (@language = '' OR d.language = @language)
  AND NOT EXISTS (
      SELECT 1 FROM json_each(@tags) AS wanted
      WHERE wanted.value NOT IN (SELECT value FROM json_each(d.tags))
        AND wanted.value NOT IN (SELECT value FROM json_each(c.own_tags))
  )
ORDER BY c.collection, c.document_id, c.ordinal;

-- name: ChunkHits :many
-- The chunks whose ids are in the JSON array @ids: a hit's columns but its
-- score, which is the caller's, then the chunk's id.
SELECT c.collection, c.document_id, d.title, d.source, d.language, c.section, c.text, c.ordinal, c.id
FROM knowledge_chunks c
JOIN knowledge_documents d ON d.collection = c.collection AND d.id = c.document_id
WHERE c.id IN (SELECT value FROM json_each(@ids));

-- name: SearchText :many
-- @match is an FTS5 query: the caller's words, each quoted, joined by OR.
-- bm25() is lower for a better match; the score is its negation, so that
-- higher is better.
SELECT c.collection, c.document_id, d.title, d.source, d.language, c.section, c.text, c.ordinal,
       -bm25(knowledge_fts) AS score
FROM knowledge_fts
JOIN knowledge_chunks c ON c.id = knowledge_fts.rowid
JOIN knowledge_documents d ON d.collection = c.collection AND d.id = c.document_id
WHERE knowledge_fts MATCH @match
  AND (@collection = '' OR c.collection = @collection)
  AND (@language = '' OR d.language = @language)
  AND NOT EXISTS (
      SELECT 1 FROM json_each(@tags) AS wanted
      WHERE wanted.value NOT IN (SELECT value FROM json_each(d.tags))
        AND wanted.value NOT IN (SELECT value FROM json_each(c.own_tags))
  )
ORDER BY score DESC, c.collection, c.document_id, c.ordinal
LIMIT @limit;

-- name: SetCollectionModel :execrows
UPDATE knowledge_collections
SET model = @model, dimensions = @dimensions
WHERE name = @name;

-- name: ListChunks :many
SELECT ordinal, section, text, tokens, own_tags
FROM knowledge_chunks
WHERE collection = @collection AND document_id = @document_id
ORDER BY ordinal;
