-- Contacts for campaigns: tags and attributes on every contact, and the
-- saved segments that select contacts by them.
--
-- tags is a JSON array of strings like users.teams; attributes a JSON
-- object of strings (an import's extra columns). A segment's filter is
-- data (a JSON object): the queries of store/sqlite/queries/segments.sql
-- read its fields as arguments. Tags and attributes are matched with
-- json_each, row by row, so a segment query reads every contact. No index
-- on last_inbound_at: every inbound message moves it.
--
-- The contact's language is its existing locale column.

-- +goose Up

ALTER TABLE contacts ADD COLUMN tags TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(tags) AND json_type(tags) = 'array');
ALTER TABLE contacts ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}'
    CHECK (json_valid(attributes) AND json_type(attributes) = 'object');

CREATE TABLE segments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL UNIQUE CHECK (name <> ''),
    description TEXT    NOT NULL DEFAULT '',
    filter      TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(filter) AND json_type(filter) = 'object'),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
