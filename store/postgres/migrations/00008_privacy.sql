-- Privacy: the consent records of contacts, the audit log, and an index of
-- tickets by contact (a contact's data export and erasure read it).
--
-- A consent record is never changed: the newest of a contact and purpose
-- (by at, then id) is the contact's current choice, the older ones its
-- history. The audit log is append-only: a trigger refuses every UPDATE,
-- DELETE and TRUNCATE of it, so that no statement of the application, by
-- mistake or by design, rewrites what happened. (A role owning the table
-- could still drop the trigger; the log guards against the application,
-- not against the database's administrator.) Erasing a contact leaves the
-- log alone: its entries name records by id only.

-- +goose Up

CREATE TABLE consents (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id     bigint      NOT NULL REFERENCES contacts (id),
    purpose        text        NOT NULL CHECK (purpose IN ('service', 'marketing')),
    granted        boolean     NOT NULL,
    source         text        NOT NULL
                               CHECK (source IN ('button', 'keyword', 'import', 'api', 'webhook', 'notice')),
    policy_version text        NOT NULL DEFAULT '',
    at             timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- The current choice of a contact and purpose is the first row of this
-- index.
CREATE INDEX consents_current ON consents (contact_id, purpose, at DESC, id DESC);

-- A contact's tickets, for their data export and their erasure.
CREATE INDEX tickets_contact ON tickets (contact_id, id);

-- actor_id is 0 when the actor is no user; it references nothing, so that
-- the log outlives whatever it names.
CREATE TABLE audit_log (
    id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor    text        NOT NULL DEFAULT '',
    actor_id bigint      NOT NULL DEFAULT 0,
    action   text        NOT NULL CHECK (action <> ''),
    target   text        NOT NULL DEFAULT '',
    address  text        NOT NULL DEFAULT '',
    detail   jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object'),
    at       timestamptz NOT NULL DEFAULT now()
);

-- Listing walks the primary key backwards (newest first); these serve the
-- filters by target and by action, and by time.
CREATE INDEX audit_log_target ON audit_log (target, id DESC);
CREATE INDEX audit_log_action ON audit_log (action, id DESC);
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is refused', TG_OP
        USING HINT = 'audit entries are never changed or removed';
END;
$$;
-- +goose StatementEnd

-- A statement trigger: it refuses the statement even when no row matches.
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
