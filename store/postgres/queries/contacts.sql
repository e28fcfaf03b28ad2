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
INSERT INTO contacts (wa_id, user_id, name, locale, last_inbound_at, tags, attributes)
VALUES (@wa_id, @user_id, @name, @locale, @seen,
        coalesce(@tags::text[], '{}'), coalesce(@attributes::jsonb, '{}'))
RETURNING id, wa_id, user_id, name, locale, last_inbound_at, marketing_opt_out, marketing_pref_at,
          tags, attributes, created_at, updated_at;

-- name: UpdateContact :one
-- An empty value never erases a known one; last_inbound_at only moves
-- forward (greatest ignores NULLs); a NULL @tags or @attributes leaves
-- them, any other value replaces them.
UPDATE contacts
SET wa_id           = coalesce(nullif(@wa_id::text, ''), wa_id),
    user_id         = coalesce(nullif(@user_id::text, ''), user_id),
    name            = coalesce(nullif(@name::text, ''), name),
    locale          = coalesce(nullif(@locale::text, ''), locale),
    last_inbound_at = greatest(last_inbound_at, @seen::timestamptz),
    tags            = coalesce(@tags::text[], tags),
    attributes      = coalesce(@attributes::jsonb, attributes),
    updated_at      = now()
WHERE id = @id
RETURNING id, wa_id, user_id, name, locale, last_inbound_at, marketing_opt_out, marketing_pref_at,
          tags, attributes, created_at, updated_at;

-- name: SetMarketingPreference :execrows
-- Only a preference newer than the recorded one applies; at an equal time,
-- the one recorded first stays. A NULL @at is now.
UPDATE contacts
SET marketing_opt_out = @opt_out,
    marketing_pref_at = coalesce(@at::timestamptz, now()),
    updated_at        = now()
WHERE id = @id
  AND (marketing_pref_at IS NULL OR marketing_pref_at < coalesce(@at::timestamptz, now()));

-- name: ContactExists :one
SELECT EXISTS (SELECT 1 FROM contacts WHERE id = @id);

-- name: TouchContactByWaID :one
-- The common upsert, in one statement: the contact exists under its wa_id
-- and the user id, if given, is already its own, so nothing can conflict.
-- No row: the caller takes the general path. Tags and attributes as in
-- UpdateContact.
UPDATE contacts
SET name            = coalesce(nullif(@name::text, ''), name),
    locale          = coalesce(nullif(@locale::text, ''), locale),
    last_inbound_at = greatest(last_inbound_at, @seen::timestamptz),
    tags            = coalesce(@tags::text[], tags),
    attributes      = coalesce(@attributes::jsonb, attributes),
    updated_at      = now()
WHERE wa_id = @wa_id AND wa_id <> '' AND (@user_id::text = '' OR user_id = @user_id::text)
RETURNING id, wa_id, user_id, name, locale, last_inbound_at, marketing_opt_out, marketing_pref_at,
          tags, attributes, created_at, updated_at;

-- name: ContactsByWaID :many
SELECT id, wa_id, user_id, name, locale, last_inbound_at, marketing_opt_out, marketing_pref_at,
       tags, attributes, created_at, updated_at
FROM contacts
WHERE wa_id = ANY (@wa_ids::text[]) AND wa_id <> '';

-- name: UpdateContactsByWaID :many
-- The contacts of @wa_ids that exist, each updated as UpdateContact does
-- with the values at its index in the other arrays; @tags holds JSON
-- arrays and @attributes JSON objects, NULL to leave them. The wa_ids are
-- distinct (store.CheckContactBatch).
UPDATE contacts AS c
SET name            = coalesce(nullif(u.name, ''), c.name),
    locale          = coalesce(nullif(u.locale, ''), c.locale),
    last_inbound_at = greatest(c.last_inbound_at, u.seen),
    tags            = CASE WHEN u.tags IS NULL THEN c.tags
                           ELSE ARRAY(SELECT t.tag FROM jsonb_array_elements_text(u.tags::jsonb) WITH ORDINALITY
                                          AS t (tag, n) ORDER BY t.n) END,
    attributes      = coalesce(u.attributes::jsonb, c.attributes),
    updated_at      = now()
FROM unnest(@wa_ids::text[], @names::text[], @locales::text[], @seen::timestamptz[], @tags::text[], @attributes::text[])
     AS u (wa_id, name, locale, seen, tags, attributes)
WHERE c.wa_id = u.wa_id AND c.wa_id <> ''
RETURNING c.id, c.wa_id, c.user_id, c.name, c.locale, c.last_inbound_at, c.marketing_opt_out, c.marketing_pref_at,
          c.tags, c.attributes, c.created_at, c.updated_at;

-- name: InsertContactsByWaID :many
-- The contacts of @wa_ids, inserted as InsertContact does, but for those
-- another transaction inserted first: they are skipped, not an error.
INSERT INTO contacts (wa_id, name, locale, last_inbound_at, tags, attributes)
SELECT u.wa_id, u.name, u.locale, u.seen,
       ARRAY(SELECT t.tag FROM jsonb_array_elements_text(u.tags::jsonb) WITH ORDINALITY AS t (tag, n) ORDER BY t.n),
       coalesce(u.attributes::jsonb, '{}')
FROM unnest(@wa_ids::text[], @names::text[], @locales::text[], @seen::timestamptz[], @tags::text[], @attributes::text[])
     AS u (wa_id, name, locale, seen, tags, attributes)
ON CONFLICT (wa_id) WHERE wa_id <> '' DO NOTHING
RETURNING id, wa_id, user_id, name, locale, last_inbound_at, marketing_opt_out, marketing_pref_at,
          tags, attributes, created_at, updated_at;
