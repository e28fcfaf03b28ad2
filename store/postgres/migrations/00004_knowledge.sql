-- The knowledge index: collections, the documents of each, and the chunks
-- of each document with their embeddings, searched by cosine similarity
-- (pgvector, HNSW) and by full text (tsvector, GIN).
--
-- Embeddings of several dimensions in one table. A collection is embedded
-- with one model, so all its chunks have one dimension, but collections
-- differ (the local model's 256, a hosted model's 1536, …). The embedding
-- column is a vector without a fixed dimension, and dims keeps each
-- chunk's. An HNSW index needs a fixed dimension: EnsureCollection creates
-- one partial expression index per dimension in use, named
-- knowledge_chunks_hnsw_<dims>, on embedding::vector(<dims>) WHERE dims =
-- <dims> (halfvec(<dims>) from 2,001 to 4,000 dimensions, beyond
-- vector's 2,000 for HNSW; above 4,000 there is none and searches are
-- exact). SearchVector casts and filters the same way, so the planner can
-- use the index of its dimension (see knowledge.go). This migration
-- creates none: there is no collection yet.
--
-- A chunk repeats its document's language and tags, the filters of a
-- search, so that a vector search filters the rows of the index scan
-- itself: a join to the documents inside the ordered scan lets the planner
-- prefer a join in the documents' order, then a sort, to the HNSW index.
-- They cannot drift apart: a document's chunks are written with it, every
-- time it changes (ReplaceDocument).
--
-- Full text: each chunk's tsvector is computed at insert, in the
-- text-search configuration of its document's language (turkish, english,
-- or simple for any other), from the document's title (weight A), the
-- chunk's section (B) and its text (D). ts_config keeps the
-- configuration's name, as text rather than regconfig, which pg_upgrade
-- refuses in user tables; a search builds its query in each
-- configuration and matches the chunks of that configuration with it.
--
-- Names and ids compare in byte order (COLLATE "C"), whatever the
-- database's collation, like the SQLite store's.

-- +goose Up

CREATE TABLE knowledge_collections (
    name       text        COLLATE "C" PRIMARY KEY CHECK (name <> ''),
    model      text        NOT NULL CHECK (model <> ''),
    dimensions integer     NOT NULL CHECK (dimensions BETWEEN 1 AND 16000),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE knowledge_documents (
    collection text        COLLATE "C" NOT NULL REFERENCES knowledge_collections (name) ON DELETE CASCADE,
    id         text        COLLATE "C" NOT NULL CHECK (id <> ''),
    title      text        NOT NULL,
    source     text        NOT NULL,
    language   text        NOT NULL,
    tags       text[]      NOT NULL DEFAULT '{}',
    version    text        NOT NULL,
    hash       text        NOT NULL CHECK (hash <> ''),
    chunks     integer     NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collection, id)
);

CREATE TABLE knowledge_chunks (
    id          bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    collection  text    COLLATE "C" NOT NULL,
    document_id text    COLLATE "C" NOT NULL,
    ordinal     integer NOT NULL CHECK (ordinal > 0),
    section     text    NOT NULL,
    text        text    NOT NULL,
    tokens      integer NOT NULL,
    language    text    NOT NULL,
    tags        text[]  NOT NULL,
    embedding   vector  NOT NULL,
    dims        integer NOT NULL GENERATED ALWAYS AS (vector_dims(embedding)) STORED,
    ts_config   text    NOT NULL,
    tsv         tsvector NOT NULL,
    FOREIGN KEY (collection, document_id) REFERENCES knowledge_documents (collection, id) ON DELETE CASCADE,
    UNIQUE (collection, document_id, ordinal)
);

CREATE INDEX knowledge_chunks_tsv ON knowledge_chunks USING gin (tsv);
