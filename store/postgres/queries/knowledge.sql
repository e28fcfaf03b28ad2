-- The knowledge index. Every query returning a collection selects the
-- columns scanCollection reads, a document those of scanDocument, a hit
-- those of scanHit, in their order.
--
-- The filters of a search: @collection and @language match all when they
-- are ''; @tags are the tags a chunk must all have ('{}' for none), its
-- own or its document's. They filter on the chunks' copies of their
-- document's language and tags (which hold the chunk's own tags too; see
-- migrations/00005_chunk_tags.sql).
--
-- CreateVectorIndex and SearchVector are templates: {{dims}} is an
-- embedding dimension and {{type}} the type its HNSW index casts to,
-- vector or halfvec, both written in by vectorSQL (knowledge.go) since an
-- index's expression and predicate, and the query's that must match them,
-- are fixed text, not parameters.

-- name: InsertCollection :exec
-- A collection of that name stored before stays as it is.
INSERT INTO knowledge_collections (name, model, dimensions)
VALUES (@name, @model, @dimensions)
ON CONFLICT (name) DO NOTHING;

-- name: GetCollection :one
SELECT name, model, dimensions, created_at
FROM knowledge_collections
WHERE name = @name;

-- name: ListCollections :many
SELECT name, model, dimensions, created_at
FROM knowledge_collections
ORDER BY name;

-- name: VectorIndexExists :one
SELECT EXISTS (
    SELECT 1 FROM pg_indexes
    WHERE schemaname = current_schema() AND indexname = @name
);

-- name: CreateVectorIndex :exec
-- The HNSW index of the chunks of {{dims}} dimensions, by cosine distance.
-- Its expression and predicate are SearchVector's.
-- m = 32 and ef_construction = 200, with hnsw.ef_search = 200 at search
-- time, reach recall@10 0.96 against exact search at 100,000 chunks of
-- the local embedder, p95 23 ms; pgvector's defaults (16, 64) reach 0.76
-- (BenchmarkKnowledge100k).
CREATE INDEX IF NOT EXISTS knowledge_chunks_hnsw_{{dims}} ON knowledge_chunks
USING hnsw ((embedding::{{type}}({{dims}})) {{type}}_cosine_ops)
WITH (m = 32, ef_construction = 200)
WHERE dims = {{dims}};

-- name: GetDocument :one
SELECT collection, id, title, source, language, tags, version, hash, chunks, created_at, updated_at
FROM knowledge_documents
WHERE collection = @collection AND id = @id;

-- name: ListDocuments :many
SELECT collection, id, title, source, language, tags, version, hash, chunks, created_at, updated_at
FROM knowledge_documents
WHERE @collection::text = '' OR collection = @collection
ORDER BY collection, id;

-- name: UpsertDocument :one
-- Stores the document unless it is stored with the same hash, in which
-- case it returns no row (and holds the row's lock until the transaction
-- ends, so racing replaces of one document take turns). A document stored
-- before keeps its created_at.
INSERT INTO knowledge_documents (collection, id, title, source, language, tags, version, hash, chunks)
VALUES (@collection, @id, @title, @source, @language, @tags, @version, @hash, @chunks)
ON CONFLICT (collection, id) DO UPDATE
SET title = excluded.title, source = excluded.source, language = excluded.language,
    tags = excluded.tags, version = excluded.version, hash = excluded.hash,
    chunks = excluded.chunks, updated_at = now()
WHERE knowledge_documents.hash <> excluded.hash
RETURNING true;

-- name: DeleteChunks :exec
DELETE FROM knowledge_chunks
WHERE collection = @collection AND document_id = @document_id;

-- name: InsertChunks :exec
-- The chunks of a document, one array element each, with the document's
-- language, their tags (@tags: each a JSON array, the document's tags with
-- the chunk's own) and own tags (@own_tags: each a JSON array, as given),
-- and their tsvector in the configuration @ts_config: the document's
-- title weighs A, the section B, the text D.
INSERT INTO knowledge_chunks
    (collection, document_id, ordinal, section, text, tokens, language, tags, own_tags, embedding, ts_config, tsv)
SELECT @collection::text, @document_id::text, c.ordinal, c.section, c.text, c.tokens, @language::text,
       ARRAY(SELECT t.tag FROM jsonb_array_elements_text(c.tags::jsonb) WITH ORDINALITY AS t (tag, n) ORDER BY t.n),
       ARRAY(SELECT t.tag FROM jsonb_array_elements_text(c.own_tags::jsonb) WITH ORDINALITY AS t (tag, n) ORDER BY t.n),
       c.embedding, @ts_config::text,
       setweight(to_tsvector(@ts_config::text::regconfig, @title::text), 'A')
       || setweight(to_tsvector(@ts_config::text::regconfig, c.section), 'B')
       || to_tsvector(@ts_config::text::regconfig, c.text)
FROM unnest(@ordinals::integer[], @sections::text[], @texts::text[], @tokens::integer[], @tags::text[],
            @own_tags::text[], @embeddings::vector[])
    AS c (ordinal, section, text, tokens, tags, own_tags, embedding);

-- name: DeleteDocument :execrows
-- Its chunks go with it (ON DELETE CASCADE).
DELETE FROM knowledge_documents
WHERE collection = @collection AND id = @id;

-- name: BeginVectorSearch :one
-- Sets the HNSW search parameters of the transaction (SET LOCAL):
-- ef_search, the size of the candidate list, and, on pgvector 0.8+, an
-- iterative scan that goes on past ef_search candidates while the filters
-- leave fewer than the LIMIT (relaxed_order: SearchVector sorts the
-- results again). Returns the dimension of the collection @collection;
-- NULL when there is none.
SELECT set_config('hnsw.ef_search', @ef_search::text, true),
       CASE WHEN string_to_array(v.extversion, '.')::integer[] >= '{0,8}'
            THEN set_config('hnsw.iterative_scan', 'relaxed_order', true)
       END,
       (SELECT dimensions FROM knowledge_collections WHERE name = @collection)
FROM pg_extension v
WHERE v.extname = 'vector';

-- name: SearchVector :many
-- The nearest chunks of {{dims}} dimensions by cosine distance, through
-- the index knowledge_chunks_hnsw_{{dims}}: the ORDER BY expression and
-- the dims predicate are the index's, and the filters are on the chunks'
-- own columns, applied to the rows the index scan returns. Chunks whose embedding is all zeros
-- have no direction (pgvector leaves them out of the index); they are
-- left out of exact scans too. The MATERIALIZED nearest list is sorted
-- again, by exact similarity, since an iterative scan in relaxed order,
-- or a halfvec index, may return it slightly out of order.
WITH nearest AS MATERIALIZED (
    SELECT c.id, c.embedding::{{type}}({{dims}}) <=> @vector::vector::{{type}}({{dims}}) AS distance
    FROM knowledge_chunks c
    WHERE c.dims = {{dims}}
      AND (@collection::text = '' OR c.collection = @collection)
      AND (@language::text = '' OR c.language = @language)
      AND c.tags @> @tags::text[]
      AND vector_norm(c.embedding) > 0
    ORDER BY distance
    LIMIT @limit
)
SELECT c.collection, c.document_id, d.title, d.source, d.language, c.section, c.text, c.ordinal,
       1 - (c.embedding <=> @vector::vector) AS score
FROM nearest n
JOIN knowledge_chunks c ON c.id = n.id
JOIN knowledge_documents d ON d.collection = c.collection AND d.id = c.document_id
ORDER BY score DESC, c.collection, c.document_id, c.ordinal;

-- name: SearchText :many
-- @configs are the text-search configurations to search in; the query is
-- built in each and matches the chunks indexed in it. plainto_tsquery
-- normalizes the words of @query (stems, drops stop words) and joins
-- them with & (AND): a chunk holding all of them matches. With @any, its
-- text with & turned into | (OR), read back as a tsquery (the type's
-- input, which normalizes nothing again), matches a chunk holding any of
-- them. ts_rank_cd ranks the chunks holding more of them, closer together,
-- higher. A query with no word left matches nothing.
WITH wanted AS (
    SELECT config,
           CASE WHEN @any::boolean
                THEN replace(plainto_tsquery(config::regconfig, @query::text)::text, ' & ', ' | ')::tsquery
                ELSE plainto_tsquery(config::regconfig, @query::text)
           END AS tsq
    FROM unnest(@configs::text[]) AS config
),
-- At most @candidates matching chunks are ranked, the first the index
-- gives: a word common in a large index matches a good part of it, and
-- ranking every match is what takes the time.
matched AS MATERIALIZED (
    SELECT c.collection, c.document_id, c.section, c.text, c.ordinal, ts_rank_cd(c.tsv, w.tsq)::float8 AS score
    FROM wanted w
    JOIN knowledge_chunks c ON c.ts_config = w.config AND c.tsv @@ w.tsq
    WHERE (@collection::text = '' OR c.collection = @collection)
      AND (@language::text = '' OR c.language = @language)
      AND c.tags @> @tags::text[]
    LIMIT @candidates
)
SELECT m.collection, m.document_id, d.title, d.source, d.language, m.section, m.text, m.ordinal, m.score
FROM matched m
JOIN knowledge_documents d ON d.collection = m.collection AND d.id = m.document_id
ORDER BY m.score DESC, m.collection, m.document_id, m.ordinal
LIMIT @limit;

-- name: LockCollection :one
-- The collection, locked against changes (SetCollectionModel) until the
-- transaction ends: ReplaceDocument reads it so, and a reindex changing
-- its model waits for the replaces under way, or they for it, then see its
-- new model.
SELECT name, model, dimensions, created_at
FROM knowledge_collections
WHERE name = @name
FOR SHARE;

-- name: SetCollectionModel :execrows
UPDATE knowledge_collections
SET model = @model, dimensions = @dimensions
WHERE name = @name;

-- name: ListChunks :many
SELECT ordinal, section, text, tokens, own_tags
FROM knowledge_chunks
WHERE collection = @collection AND document_id = @document_id
ORDER BY ordinal;
