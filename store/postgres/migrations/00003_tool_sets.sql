-- Tool sets: documents of HTTP tool declarations that integrators register
-- through the admin API, one per name, each kept as the YAML was sent (the
-- body is text, not parsed here). Every instance loads them at start.
-- created_at is when the name was first put; updated_at when its body was
-- last replaced. Names compare in byte order (COLLATE "C"), whatever the
-- database's collation, so that they list in the SQLite store's order.

-- +goose Up

CREATE TABLE tool_sets (
    name       text        COLLATE "C" PRIMARY KEY CHECK (name <> ''),
    body       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
