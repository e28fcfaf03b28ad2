-- Tool sets: documents of HTTP tool declarations that integrators register
-- through the admin API, one per name, each kept as the YAML was sent (the
-- body is text, not parsed here). Every instance loads them at start.
-- created_at is when the name was first put; updated_at when its body was
-- last replaced.

-- +goose Up

CREATE TABLE tool_sets (
    name       TEXT    NOT NULL PRIMARY KEY CHECK (name <> ''),
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
