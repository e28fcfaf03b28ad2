-- Tags of a chunk's own. A chunk may carry tags besides its document's (a
-- FAQ sheet's row has its own), and a search filtered by tags must find
-- only the chunks that have them all, their own or their document's.
--
-- own_tags keeps the chunk's own tags as given (ListChunks reads them
-- back); tags, the column the searches filter on (see 00004), now holds
-- the document's tags with the chunk's own, so the filters stay on the
-- chunks' own columns, applied to the rows the HNSW index scan returns.
-- The chunks stored before had no tags of their own: tags is already
-- their document's.

-- +goose Up

ALTER TABLE knowledge_chunks ADD COLUMN own_tags text[] NOT NULL DEFAULT '{}';
