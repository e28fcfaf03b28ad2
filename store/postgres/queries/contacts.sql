-- Contacts. Every query returning a contact selects the columns that
-- scanContact reads, in its order.

-- name: GetContact :one
SELECT id, wa_id, user_id, name, locale, last_inbound_at, marketing_opt_out, marketing_pref_at,
       created_at, updated_at
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
INSERT INTO contacts (wa_id, user_id, name, locale, last_inbound_at)
VALUES (@wa_id, @user_id, @name, @locale, @seen)
RETURNING id, wa_id, user_id, name, locale, last_inbound_at, marketing_opt_out, marketing_pref_at,
          created_at, updated_at;

-- name: UpdateContact :one
-- An empty value never erases a known one; last_inbound_at only moves
-- forward (greatest ignores NULLs).
UPDATE contacts
SET wa_id           = coalesce(nullif(@wa_id::text, ''), wa_id),
    user_id         = coalesce(nullif(@user_id::text, ''), user_id),
    name            = coalesce(nullif(@name::text, ''), name),
    locale          = coalesce(nullif(@locale::text, ''), locale),
    last_inbound_at = greatest(last_inbound_at, @seen::timestamptz),
    updated_at      = now()
WHERE id = @id
RETURNING id, wa_id, user_id, name, locale, last_inbound_at, marketing_opt_out, marketing_pref_at,
          created_at, updated_at;

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
-- No row: the caller takes the general path.
UPDATE contacts
SET name            = coalesce(nullif(@name::text, ''), name),
    locale          = coalesce(nullif(@locale::text, ''), locale),
    last_inbound_at = greatest(last_inbound_at, @seen::timestamptz),
    updated_at      = now()
WHERE wa_id = @wa_id AND wa_id <> '' AND (@user_id::text = '' OR user_id = @user_id::text)
RETURNING id, wa_id, user_id, name, locale, last_inbound_at, marketing_opt_out, marketing_pref_at,
          created_at, updated_at;
