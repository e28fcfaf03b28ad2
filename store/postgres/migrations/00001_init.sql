-- The first schema: contacts, conversations, messages, turns and the job
-- queue.
--
-- Conventions, kept by every later migration:
--   - times are timestamptz; NULL is the zero time;
--   - JSON is jsonb, NOT NULL, '{}' when the record has none;
--   - ids are bigint identities, never reused;
--   - tables are unqualified, so they land in the first schema of the
--     search_path (the test helper gives every test a schema of its own);
--   - migrations are forward only: there is no Down section.

-- +goose Up

-- pgvector: Open creates it too, before registering its types on every
-- connection; here it makes the schema complete on its own.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE contacts (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wa_id           text        NOT NULL DEFAULT '',
    user_id         text        NOT NULL DEFAULT '',
    name            text        NOT NULL DEFAULT '',
    locale          text        NOT NULL DEFAULT '',
    last_inbound_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contacts_identified CHECK (wa_id <> '' OR user_id <> '')
);

-- A contact is known by its wa_id, its user_id, or both; each identifies one
-- contact when it is set.
CREATE UNIQUE INDEX contacts_wa_id ON contacts (wa_id) WHERE wa_id <> '';
CREATE UNIQUE INDEX contacts_user_id ON contacts (user_id) WHERE user_id <> '';

CREATE TABLE conversations (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id      bigint      NOT NULL REFERENCES contacts (id),
    phone_number_id text        NOT NULL,
    status          text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    mode            text        NOT NULL DEFAULT 'bot',
    state           jsonb       NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    closed_at       timestamptz
);

-- At most one open conversation per contact and business number; it is also
-- the arbiter of OpenConversation's INSERT … ON CONFLICT.
CREATE UNIQUE INDEX conversations_one_open ON conversations (contact_id, phone_number_id)
    WHERE status = 'open';
CREATE INDEX conversations_contact ON conversations (contact_id, updated_at DESC, id DESC);
CREATE INDEX conversations_updated ON conversations (updated_at DESC, id DESC);

CREATE TABLE messages (
    id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id    bigint      NOT NULL REFERENCES conversations (id),
    direction          text        NOT NULL CHECK (direction IN ('in', 'out')),
    channel_message_id text        NOT NULL DEFAULT '',
    type               text        NOT NULL DEFAULT '',
    body               text        NOT NULL DEFAULT '',
    payload            jsonb       NOT NULL DEFAULT '{}',
    status             text        NOT NULL DEFAULT '',
    error_code         integer     NOT NULL DEFAULT 0,
    error_text         text        NOT NULL DEFAULT '',
    sent_at            timestamptz,
    processed_at       timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- A channel message id (wamid) is stored once: a webhook delivered twice
-- inserts one message. Outbound messages have none until the channel accepts
-- them.
CREATE UNIQUE INDEX messages_channel_message_id ON messages (channel_message_id)
    WHERE channel_message_id <> '';
CREATE INDEX messages_conversation ON messages (conversation_id, id);
CREATE INDEX messages_pending_inbound ON messages (conversation_id, id)
    WHERE direction = 'in' AND processed_at IS NULL;

CREATE TABLE turns (
    id              bigint           GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id bigint           NOT NULL REFERENCES conversations (id),
    inbound_ids     bigint[]         NOT NULL DEFAULT '{}',
    outbound_ids    bigint[]         NOT NULL DEFAULT '{}',
    intent          text             NOT NULL DEFAULT '',
    confidence      double precision NOT NULL DEFAULT 0,
    decision        text             NOT NULL DEFAULT '',
    reason          text             NOT NULL DEFAULT '',
    trace           jsonb            NOT NULL DEFAULT '{}',
    latency_ms      double precision NOT NULL DEFAULT 0,
    created_at      timestamptz      NOT NULL DEFAULT now()
);

CREATE INDEX turns_conversation ON turns (conversation_id, id);

CREATE TABLE jobs (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind <> ''),
    key          text        NOT NULL DEFAULT '',
    payload      jsonb       NOT NULL DEFAULT '{}',
    state        text        NOT NULL DEFAULT 'available'
                             CHECK (state IN ('available', 'running', 'completed', 'discarded')),
    attempt      integer     NOT NULL DEFAULT 0,
    max_attempts integer     NOT NULL DEFAULT 10 CHECK (max_attempts > 0),
    run_at       timestamptz NOT NULL DEFAULT now(),
    locked_by    text        NOT NULL DEFAULT '',
    lease_until  timestamptz,
    last_error   text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz -- when it was completed or discarded; for pruning
);

-- Claim only reads unfinished jobs, through these two partial indexes, so it
-- stays fast however many finished jobs the table keeps: one walks the due
-- jobs in claim order, the other finds the head of a key.
CREATE INDEX jobs_unfinished_run_at ON jobs (run_at, id)
    WHERE state IN ('available', 'running');
CREATE INDEX jobs_unfinished_key ON jobs (key, id)
    WHERE state IN ('available', 'running');
