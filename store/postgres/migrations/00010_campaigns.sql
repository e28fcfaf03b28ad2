-- Campaigns: one approved template sent to the members of a segment, once
-- each, and their recipients.
--
-- A campaign keeps its template by name, language and category (checked
-- against the configuration when it is made), its parameters as a JSON
-- array (store.CampaignParam: {{1}} first), the segment by name and, from
-- its start, a copy of the segment's filter. cursor_id is the last contact id
-- the dispatcher materialised; materialized is set when it saw them all.
--
-- A recipient row is one contact of one campaign: UNIQUE (campaign_id,
-- contact_id) is what makes a dispatcher run again add nobody twice, and
-- what the sender's once-per-recipient rule stands on (a pending row is
-- queued in the transaction that writes its outbox message). message_id
-- names that outbox message; its status, error code and times stay on the
-- message, where status webhooks keep them, and the stats join them.

-- +goose Up

CREATE TABLE campaigns (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text        COLLATE "C" NOT NULL UNIQUE CHECK (name <> ''),
    phone_number_id text        NOT NULL CHECK (phone_number_id <> ''),
    template        text        NOT NULL CHECK (template <> ''),
    language        text        NOT NULL CHECK (language <> ''),
    category        text        NOT NULL CHECK (category <> ''),
    params          jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(params) = 'array'),
    segment         text        NOT NULL CHECK (segment <> ''),
    filter          jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(filter) = 'object'),
    status          text        NOT NULL DEFAULT 'draft'
                                CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'cancelled', 'done')),
    scheduled_at    timestamptz,
    time_zone       text        NOT NULL DEFAULT '',
    created_by      text        NOT NULL DEFAULT '',
    materialized    boolean     NOT NULL DEFAULT false,
    cursor_id       bigint      NOT NULL DEFAULT 0,
    started_at      timestamptz,
    finished_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- The scheduler's look for due campaigns.
CREATE INDEX campaigns_due ON campaigns (scheduled_at) WHERE status = 'scheduled';

CREATE TABLE campaign_recipients (
    campaign_id bigint      NOT NULL REFERENCES campaigns (id),
    contact_id  bigint      NOT NULL REFERENCES contacts (id),
    status      text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'queued', 'skipped')),
    skip_reason text        NOT NULL DEFAULT '',
    message_id  bigint      REFERENCES messages (id),
    queued_at   timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, contact_id),
    CONSTRAINT campaign_recipients_skipped CHECK ((status = 'skipped') = (skip_reason <> '')),
    CONSTRAINT campaign_recipients_queued CHECK ((status = 'queued') = (message_id IS NOT NULL))
);

-- The sender's next batch: the pending recipients of a campaign by contact.
CREATE INDEX campaign_recipients_pending ON campaign_recipients (campaign_id, contact_id)
    WHERE status = 'pending';
-- A reply's campaign, from the outbox message; a contact's rows, for its
-- erasure; the recipients reached lately, for the daily unique-user limit.
CREATE UNIQUE INDEX campaign_recipients_message ON campaign_recipients (message_id);
CREATE INDEX campaign_recipients_contact ON campaign_recipients (contact_id);
CREATE INDEX campaign_recipients_reach ON campaign_recipients (queued_at, contact_id)
    WHERE status = 'queued';

-- A second copy of an outbox message WhatsApp accepted (a send in flight at
-- a crash, sent again after the restart), found by the status webhooks of
-- the copy: they carry the message's outbox tag and another wamid.
CREATE TABLE duplicate_sends (
    channel_message_id text        PRIMARY KEY,
    message_id         bigint      NOT NULL REFERENCES messages (id),
    created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX duplicate_sends_message ON duplicate_sends (message_id);
