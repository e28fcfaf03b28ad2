-- Contacts for campaigns: tags and attributes on every contact, and the
-- saved segments that select contacts by them.
--
-- tags is a text[] like users.teams; attributes a jsonb object of strings
-- (an import's extra columns). A segment's filter is data (jsonb): the
-- queries of store/postgres/queries/segments.sql read its fields as
-- arguments. The indexes serve those queries over many contacts: GIN on
-- tags (all of: @>, any of: &&) and GIN jsonb_path_ops on attributes (@>
-- of the wanted pairs). Creating them locks contacts against writes while
-- they build, as any index in a migration's transaction does.
--
-- last_inbound_at (the activity windows) has no index on purpose: every
-- inbound message moves it, and an index on it would make each of those
-- updates write every index of the row instead of a HOT update. Activity
-- windows are rarely selective; the other filters narrow the scan.
--
-- The contact's language is its existing locale column.

-- +goose Up

ALTER TABLE contacts
    ADD COLUMN tags       text[] NOT NULL DEFAULT '{}',
    ADD COLUMN attributes jsonb  NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object');

CREATE INDEX contacts_tags ON contacts USING gin (tags);
CREATE INDEX contacts_attributes ON contacts USING gin (attributes jsonb_path_ops);

-- Names compare in byte order (COLLATE "C"), so that they list in the
-- SQLite store's order.
CREATE TABLE segments (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        COLLATE "C" NOT NULL UNIQUE CHECK (name <> ''),
    description text        NOT NULL DEFAULT '',
    filter      jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(filter) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
