-- The first schema: contacts, conversations, messages, turns and the job
-- queue.
--
-- Conventions, kept by every later migration:
--   - times are INTEGER unix microseconds UTC; NULL is the zero time;
--   - JSON is TEXT, checked with json_valid;
--   - tables are STRICT, so a value of the wrong type is an error;
--   - ids are AUTOINCREMENT, so an id is never reused, even after a delete;
--   - migrations are forward only: there is no Down section;
--   - every migration runs in a transaction (never "NO TRANSACTION"): when
--     processes migrate at once, the one that loses the race must find its
--     attempt rolled back whole (see Store.Migrate).

-- +goose Up

CREATE TABLE contacts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    wa_id           TEXT    NOT NULL DEFAULT '',
    user_id         TEXT    NOT NULL DEFAULT '',
    name            TEXT    NOT NULL DEFAULT '',
    locale          TEXT    NOT NULL DEFAULT '',
    last_inbound_at INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

-- A contact is known by its wa_id, its user_id, or both; each identifies one
-- contact when it is set.
CREATE UNIQUE INDEX contacts_wa_id ON contacts (wa_id) WHERE wa_id <> '';
CREATE UNIQUE INDEX contacts_user_id ON contacts (user_id) WHERE user_id <> '';

CREATE TABLE conversations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id      INTEGER NOT NULL REFERENCES contacts (id),
    phone_number_id TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    mode            TEXT    NOT NULL DEFAULT 'bot',
    state           TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(state)),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    closed_at       INTEGER
) STRICT;

-- At most one open conversation per contact and business number.
CREATE UNIQUE INDEX conversations_one_open ON conversations (contact_id, phone_number_id)
    WHERE status = 'open';
CREATE INDEX conversations_contact ON conversations (contact_id, updated_at, id);
CREATE INDEX conversations_updated ON conversations (updated_at, id);

CREATE TABLE messages (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id    INTEGER NOT NULL REFERENCES conversations (id),
    direction          TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    channel_message_id TEXT    NOT NULL DEFAULT '',
    type               TEXT    NOT NULL DEFAULT '',
    body               TEXT    NOT NULL DEFAULT '',
    payload            TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
    status             TEXT    NOT NULL DEFAULT '',
    error_code         INTEGER NOT NULL DEFAULT 0,
    error_text         TEXT    NOT NULL DEFAULT '',
    sent_at            INTEGER,
    processed_at       INTEGER,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
) STRICT;

-- A channel message id (wamid) is stored once: a webhook delivered twice
-- inserts one message. Outbound messages have none until the channel accepts
-- them.
CREATE UNIQUE INDEX messages_channel_message_id ON messages (channel_message_id)
    WHERE channel_message_id <> '';
CREATE INDEX messages_conversation ON messages (conversation_id, id);
CREATE INDEX messages_pending_inbound ON messages (conversation_id, id)
    WHERE direction = 'in' AND processed_at IS NULL;

CREATE TABLE turns (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    inbound_ids     TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(inbound_ids)),
    outbound_ids    TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(outbound_ids)),
    intent          TEXT    NOT NULL DEFAULT '',
    confidence      REAL    NOT NULL DEFAULT 0,
    decision        TEXT    NOT NULL DEFAULT '',
    reason          TEXT    NOT NULL DEFAULT '',
    trace           TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(trace)),
    latency_ms      REAL    NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX turns_conversation ON turns (conversation_id, id);

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL CHECK (kind <> ''),
    key          TEXT    NOT NULL DEFAULT '',
    payload      TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
    state        TEXT    NOT NULL DEFAULT 'available'
                         CHECK (state IN ('available', 'running', 'completed', 'discarded')),
    attempt      INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 10,
    run_at       INTEGER NOT NULL,
    locked_by    TEXT    NOT NULL DEFAULT '',
    lease_until  INTEGER,
    last_error   TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER
) STRICT;

-- Claim only reads unfinished jobs, through these two partial indexes, so it
-- stays fast however many finished jobs the table keeps: one walks the due
-- jobs in claim order, the other finds the head of a key.
CREATE INDEX jobs_unfinished_run_at ON jobs (run_at, id)
    WHERE state IN ('available', 'running');
CREATE INDEX jobs_unfinished_key ON jobs (key, id)
    WHERE state IN ('available', 'running');
