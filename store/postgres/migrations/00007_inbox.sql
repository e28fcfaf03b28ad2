-- The human queue: tickets of conversations handed to people, and each
-- ticket's history (claims, transfers, notes, replies, closing, rating).
-- A conversation has at most one open (queued or assigned) ticket.

-- +goose Up

CREATE TABLE tickets (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id bigint      NOT NULL REFERENCES conversations (id),
    contact_id      bigint      NOT NULL REFERENCES contacts (id),
    status          text        NOT NULL DEFAULT 'queued'
                                CHECK (status IN ('queued', 'assigned', 'resolved', 'returned')),
    team            text        NOT NULL DEFAULT '',
    priority        integer     NOT NULL DEFAULT 0,
    reason          text        NOT NULL DEFAULT '',
    pack            jsonb       NOT NULL DEFAULT '{}',
    assignee_id     bigint      REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    assigned_at     timestamptz,
    first_reply_at  timestamptz,
    closed_at       timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    csat            integer     NOT NULL DEFAULT 0 CHECK (csat BETWEEN 0 AND 5),
    CONSTRAINT tickets_assignee CHECK ((status <> 'assigned' OR assignee_id IS NOT NULL) AND (status <> 'queued' OR assignee_id IS NULL))
);

CREATE UNIQUE INDEX tickets_one_open ON tickets (conversation_id) WHERE status IN ('queued', 'assigned');
CREATE INDEX tickets_queue ON tickets (status, team, priority DESC, id);
CREATE INDEX tickets_assignee ON tickets (assignee_id) WHERE assignee_id IS NOT NULL;

CREATE TABLE ticket_events (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id  bigint      NOT NULL REFERENCES tickets (id),
    user_id    bigint      REFERENCES users (id),
    kind       text        NOT NULL CHECK (kind <> ''),
    data       jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);

-- When each agent was last seen on a live inbox stream, by any instance:
-- automatic assignment picks among the agents seen lately.
CREATE TABLE agent_presence (
    user_id bigint      PRIMARY KEY REFERENCES users (id),
    seen_at timestamptz NOT NULL
);
