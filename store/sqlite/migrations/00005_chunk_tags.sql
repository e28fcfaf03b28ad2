-- Tags of a chunk's own. A chunk may carry tags besides its document's (a
-- FAQ sheet's row has its own), and a search filtered by tags must find
-- only the chunks that have them all, their own or their document's.
--
-- own_tags is a JSON array of the chunk's own tags, as given, like the
-- document's tags; the searches' filters read both (queries/knowledge.sql).
-- The chunks stored before have none.

-- +goose Up

ALTER TABLE knowledge_chunks ADD COLUMN own_tags TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(own_tags) AND json_type(own_tags) = 'array');
