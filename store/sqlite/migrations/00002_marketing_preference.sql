-- A contact's marketing preference: whether the contact stopped marketing
-- messages, and when the preference was last set, so that a preference
-- arriving late (webhooks come out of order) never overrides a newer one.
-- Existing contacts have never set one: opted in, no time.

-- +goose Up

ALTER TABLE contacts ADD COLUMN marketing_opt_out INTEGER NOT NULL DEFAULT 0
    CHECK (marketing_opt_out IN (0, 1));
ALTER TABLE contacts ADD COLUMN marketing_pref_at INTEGER;
