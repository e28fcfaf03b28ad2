-- Campaigns: one approved template sent to the members of a segment, once
-- each, and their recipients. The same tables as PostgreSQL's (see
-- store/postgres/migrations/00010_campaigns.sql): params and filter are
-- JSON text, times unix microseconds.
--
-- UNIQUE (campaign_id, contact_id) (the primary key) makes a dispatcher
-- run again add nobody twice; a pending row is queued in the transaction
-- that writes its outbox message. The message's status, error code and
-- times stay on the message, and the stats join them.

-- +goose Up

CREATE TABLE campaigns (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT    NOT NULL UNIQUE CHECK (name <> ''),
    phone_number_id TEXT    NOT NULL CHECK (phone_number_id <> ''),
    template        TEXT    NOT NULL CHECK (template <> ''),
    language        TEXT    NOT NULL CHECK (language <> ''),
    category        TEXT    NOT NULL CHECK (category <> ''),
    params          TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(params) AND json_type(params) = 'array'),
    segment         TEXT    NOT NULL CHECK (segment <> ''),
    filter          TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(filter) AND json_type(filter) = 'object'),
    status          TEXT    NOT NULL DEFAULT 'draft'
                            CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'cancelled', 'done')),
    scheduled_at    INTEGER,
    time_zone       TEXT    NOT NULL DEFAULT '',
    created_by      TEXT    NOT NULL DEFAULT '',
    materialized    INTEGER NOT NULL DEFAULT 0 CHECK (materialized IN (0, 1)),
    cursor_id       INTEGER NOT NULL DEFAULT 0,
    started_at      INTEGER,
    finished_at     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX campaigns_due ON campaigns (scheduled_at) WHERE status = 'scheduled';

CREATE TABLE campaign_recipients (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    contact_id  INTEGER NOT NULL REFERENCES contacts (id),
    status      TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'queued', 'skipped')),
    skip_reason TEXT    NOT NULL DEFAULT '',
    message_id  INTEGER REFERENCES messages (id),
    queued_at   INTEGER,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, contact_id),
    CONSTRAINT campaign_recipients_skipped CHECK ((status = 'skipped') = (skip_reason <> '')),
    CONSTRAINT campaign_recipients_queued CHECK ((status = 'queued') = (message_id IS NOT NULL))
) STRICT, WITHOUT ROWID;

CREATE INDEX campaign_recipients_pending ON campaign_recipients (campaign_id, contact_id)
    WHERE status = 'pending';
CREATE UNIQUE INDEX campaign_recipients_message ON campaign_recipients (message_id);
CREATE INDEX campaign_recipients_contact ON campaign_recipients (contact_id);
CREATE INDEX campaign_recipients_reach ON campaign_recipients (queued_at, contact_id)
    WHERE status = 'queued';

-- A second copy of an outbox message WhatsApp accepted, found by its
-- status webhooks (see PostgreSQL's migration).
CREATE TABLE duplicate_sends (
    channel_message_id TEXT    PRIMARY KEY,
    message_id         INTEGER NOT NULL REFERENCES messages (id),
    created_at         INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX duplicate_sends_message ON duplicate_sends (message_id);
