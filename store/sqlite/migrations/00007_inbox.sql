-- The human queue: tickets of conversations handed to people, and each
-- ticket's history (claims, transfers, notes, replies, closing, rating).
-- A conversation has at most one open (queued or assigned) ticket.

-- +goose Up

CREATE TABLE tickets (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    contact_id      INTEGER NOT NULL REFERENCES contacts (id),
    status          TEXT    NOT NULL DEFAULT 'queued'
                            CHECK (status IN ('queued', 'assigned', 'resolved', 'returned')),
    team            TEXT    NOT NULL DEFAULT '',
    priority        INTEGER NOT NULL DEFAULT 0,
    reason          TEXT    NOT NULL DEFAULT '',
    pack            TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(pack)),
    assignee_id     INTEGER REFERENCES users (id),
    created_at      INTEGER NOT NULL,
    assigned_at     INTEGER,
    first_reply_at  INTEGER,
    closed_at       INTEGER,
    updated_at      INTEGER NOT NULL,
    csat            INTEGER NOT NULL DEFAULT 0 CHECK (csat BETWEEN 0 AND 5),
    CHECK ((status <> 'assigned' OR assignee_id IS NOT NULL) AND (status <> 'queued' OR assignee_id IS NULL))
) STRICT;

CREATE UNIQUE INDEX tickets_one_open ON tickets (conversation_id) WHERE status IN ('queued', 'assigned');
CREATE INDEX tickets_queue ON tickets (status, team, priority DESC, id);
CREATE INDEX tickets_assignee ON tickets (assignee_id) WHERE assignee_id IS NOT NULL;

CREATE TABLE ticket_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id  INTEGER NOT NULL REFERENCES tickets (id),
    user_id    INTEGER REFERENCES users (id),
    kind       TEXT    NOT NULL CHECK (kind <> ''),
    data       TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);

-- When each agent was last seen on a live inbox stream: automatic
-- assignment picks among the agents seen lately.
CREATE TABLE agent_presence (
    user_id INTEGER NOT NULL PRIMARY KEY REFERENCES users (id),
    seen_at INTEGER NOT NULL
) STRICT;
