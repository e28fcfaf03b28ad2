-- Contacts. Every query returning a contact selects the columns that
-- scanContact reads, in its order.

-- name: GetContact :one
SELECT id, wa_id, user_id, name, locale, last_inbound_at, marketing_opt_out, marketing_pref_at,
       tags, attributes, created_at, updated_at
FROM contacts
WHERE id = @id;

-- name: ContactIDByWaID :one
SELECT id FROM contacts
WHERE wa_id = @wa_id AND wa_id <> '';

-- name: ContactIDByUserID :one
SELECT id FROM contacts
WHERE user_id = @user_id AND user_id <> '';

-- name: UnattachedContactIDByUserID :one
-- The contact known by the user id alone, which a wa_id may attach to.
SELECT id FROM contacts
WHERE user_id = @user_id AND user_id <> '' AND wa_id = '';

-- name: InsertContact :one
-- A NULL @tags or @attributes (the upsert leaves them) is none.
INSERT INTO contacts (wa_id, user_id, name, locale, last_inbound_at, tags, attributes, created_at, updated_at)
VALUES (@wa_id, @user_id, @name, @locale, @seen, coalesce(@tags, '[]'), coalesce(@attributes, '{}'), @now, @now)
RETURNING id, wa_id, user_id, name, locale, last_inbound_at, marketing_opt_out, marketing_pref_at,
          tags, attributes, created_at, updated_at;

-- name: UpdateContact :one
-- An empty value never erases a known one; last_inbound_at only moves
-- forward; a NULL @tags or @attributes leaves them, any other value
-- replaces them.
UPDATE contacts
SET wa_id           = coalesce(nullif(@wa_id, ''), wa_id),
    user_id         = coalesce(nullif(@user_id, ''), user_id),
    name            = coalesce(nullif(@name, ''), name),
    locale          = coalesce(nullif(@locale, ''), locale),
    last_inbound_at = CASE
                          WHEN @seen IS NULL THEN last_inbound_at
                          WHEN last_inbound_at IS NULL THEN @seen
                          ELSE max(last_inbound_at, @seen)
                      END,
    tags            = coalesce(@tags, tags),
    attributes      = coalesce(@attributes, attributes),
    updated_at      = @now
WHERE id = @id
RETURNING id, wa_id, user_id, name, locale, last_inbound_at, marketing_opt_out, marketing_pref_at,
          tags, attributes, created_at, updated_at;

-- name: SetMarketingPreference :execrows
-- Only a preference newer than the recorded one applies; at an equal time,
-- the one recorded first stays.
UPDATE contacts
SET marketing_opt_out = @opt_out, marketing_pref_at = @at, updated_at = @now
WHERE id = @id AND (marketing_pref_at IS NULL OR marketing_pref_at < @at);

-- name: ContactExists :one
SELECT EXISTS (SELECT 1 FROM contacts WHERE id = @id);

-- name: ContactsByWaID :many
-- @wa_ids is a JSON array of strings.
SELECT id, wa_id, user_id, name, locale, last_inbound_at, marketing_opt_out, marketing_pref_at,
       tags, attributes, created_at, updated_at
FROM contacts
WHERE wa_id IN (SELECT value FROM json_each(@wa_ids)) AND wa_id <> '';

-- name: UpdateContactsByWaID :many
-- The contacts of @batch that exist, each updated as UpdateContact does.
-- @batch is a JSON array of objects {wa_id, name, locale, seen, tags,
-- attributes}: seen in unix µs, tags an array, attributes an object, each
-- of the three left out to leave the contact's. The wa_ids are distinct
-- (store.CheckContactBatch).
UPDATE contacts AS c
SET name            = coalesce(nullif(u.name, ''), c.name),
    locale          = coalesce(nullif(u.locale, ''), c.locale),
    last_inbound_at = CASE
                          WHEN u.seen IS NULL THEN c.last_inbound_at
                          WHEN c.last_inbound_at IS NULL THEN u.seen
                          ELSE max(c.last_inbound_at, u.seen)
                      END,
    tags            = coalesce(u.tags, c.tags),
    attributes      = coalesce(u.attributes, c.attributes),
    updated_at      = @now
FROM (SELECT value ->> '$.wa_id' AS wa_id, value ->> '$.name' AS name, value ->> '$.locale' AS locale,
             value ->> '$.seen' AS seen, value -> '$.tags' AS tags, value -> '$.attributes' AS attributes
      FROM json_each(@batch)) AS u
WHERE c.wa_id = u.wa_id AND c.wa_id <> ''
-- RETURNING names the columns of contacts only, unqualified.
RETURNING id, wa_id, user_id, name, locale, last_inbound_at, marketing_opt_out, marketing_pref_at,
          tags, attributes, created_at, updated_at;

-- name: InsertContactsByWaID :many
-- The contacts of @batch (as in UpdateContactsByWaID), inserted as
-- InsertContact does; a wa_id stored already is skipped. (WHERE true lets
-- SQLite parse ON CONFLICT after a SELECT.)
INSERT INTO contacts (wa_id, name, locale, last_inbound_at, tags, attributes, created_at, updated_at)
SELECT value ->> '$.wa_id', value ->> '$.name', value ->> '$.locale', value ->> '$.seen',
       coalesce(value -> '$.tags', '[]'), coalesce(value -> '$.attributes', '{}'), @now, @now
FROM json_each(@batch)
WHERE true
ON CONFLICT (wa_id) WHERE wa_id <> '' DO NOTHING
RETURNING id, wa_id, user_id, name, locale, last_inbound_at, marketing_opt_out, marketing_pref_at,
          tags, attributes, created_at, updated_at;
