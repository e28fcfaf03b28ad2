-- The knowledge index: collections, the documents of each, and the chunks
-- of each document with their embeddings, searched by exact cosine
-- similarity in Go (knowledge.go) and by full text through FTS5.
--
-- A collection is embedded with one model: every embedding of its chunks
-- has its dimensions. Embeddings are BLOBs of little-endian float32 values,
-- 4 bytes per dimension.
--
-- Names and ids compare in byte order (BINARY, SQLite's default), like the
-- PostgreSQL store's COLLATE "C". A document's tags are a JSON array of
-- strings.
--
-- knowledge_fts indexes the title of a chunk's document, its section and
-- its text. It is contentless (the words are in knowledge_chunks and
-- knowledge_documents; FTS5 keeps only its index, which is all bm25()
-- needs) with contentless_delete, so rows can be deleted by rowid, the
-- chunk's id. Triggers keep it in step with knowledge_chunks in the same
-- transaction, whoever deletes a chunk (ReplaceDocument, or the cascade of
-- a deleted document). The unicode61 tokenizer folds case and, with
-- remove_diacritics 2, diacritics: "siparis" finds "sipariş". Chunks are
-- never updated, only deleted and inserted, and a document's title changes
-- only with a new version, whose chunks are inserted after it.

-- +goose Up

CREATE TABLE knowledge_collections (
    name       TEXT    NOT NULL PRIMARY KEY CHECK (name <> ''),
    model      TEXT    NOT NULL CHECK (model <> ''),
    dimensions INTEGER NOT NULL CHECK (dimensions > 0),
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE knowledge_documents (
    collection TEXT    NOT NULL REFERENCES knowledge_collections (name) ON DELETE CASCADE,
    id         TEXT    NOT NULL CHECK (id <> ''),
    title      TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    language   TEXT    NOT NULL,
    tags       TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(tags) AND json_type(tags) = 'array'),
    version    TEXT    NOT NULL,
    hash       TEXT    NOT NULL CHECK (hash <> ''),
    chunks     INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (collection, id)
) STRICT;

CREATE TABLE knowledge_chunks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    collection  TEXT    NOT NULL,
    document_id TEXT    NOT NULL,
    ordinal     INTEGER NOT NULL CHECK (ordinal > 0),
    section     TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    tokens      INTEGER NOT NULL,
    embedding   BLOB    NOT NULL,
    FOREIGN KEY (collection, document_id) REFERENCES knowledge_documents (collection, id) ON DELETE CASCADE,
    UNIQUE (collection, document_id, ordinal)
) STRICT;

CREATE VIRTUAL TABLE knowledge_fts USING fts5 (
    title, section, text,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- +goose StatementBegin
CREATE TRIGGER knowledge_chunks_fts_insert AFTER INSERT ON knowledge_chunks
BEGIN
    INSERT INTO knowledge_fts (rowid, title, section, text)
    VALUES (
        new.id,
        (SELECT title FROM knowledge_documents WHERE collection = new.collection AND id = new.document_id),
        new.section,
        new.text
    );
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER knowledge_chunks_fts_delete AFTER DELETE ON knowledge_chunks
BEGIN
    DELETE FROM knowledge_fts WHERE rowid = old.id;
END;
-- +goose StatementEnd
