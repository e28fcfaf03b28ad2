-- Privacy: the consent records of contacts, the audit log, and an index of
-- tickets by contact (a contact's data export and erasure read it).
--
-- A consent record is never changed: the newest of a contact and purpose
-- (by at, then id) is the contact's current choice, the older ones its
-- history. The audit log is append-only: triggers refuse every UPDATE and
-- DELETE of it, so that no statement of the application rewrites what
-- happened. Erasing a contact leaves the log alone: its entries name
-- records by id only.

-- +goose Up

CREATE TABLE consents (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id     INTEGER NOT NULL REFERENCES contacts (id),
    purpose        TEXT    NOT NULL CHECK (purpose IN ('service', 'marketing')),
    granted        INTEGER NOT NULL CHECK (granted IN (0, 1)),
    source         TEXT    NOT NULL
                           CHECK (source IN ('button', 'keyword', 'import', 'api', 'webhook', 'notice')),
    policy_version TEXT    NOT NULL DEFAULT '',
    at             INTEGER NOT NULL,
    created_at     INTEGER NOT NULL
) STRICT;

-- The current choice of a contact and purpose is the first row of this
-- index.
CREATE INDEX consents_current ON consents (contact_id, purpose, at DESC, id DESC);

-- A contact's tickets, for their data export and their erasure.
CREATE INDEX tickets_contact ON tickets (contact_id, id);

-- actor_id is 0 when the actor is no user; it references nothing, so that
-- the log outlives whatever it names.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    actor    TEXT    NOT NULL DEFAULT '',
    actor_id INTEGER NOT NULL DEFAULT 0,
    action   TEXT    NOT NULL CHECK (action <> ''),
    target   TEXT    NOT NULL DEFAULT '',
    address  TEXT    NOT NULL DEFAULT '',
    detail   TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(detail) AND json_type(detail) = 'object'),
    at       INTEGER NOT NULL
) STRICT;

-- Listing walks the primary key backwards (newest first); these serve the
-- filters by target and by action, and by time.
CREATE INDEX audit_log_target ON audit_log (target, id DESC);
CREATE INDEX audit_log_action ON audit_log (action, id DESC);
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE is refused');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE is refused');
END;
-- +goose StatementEnd
