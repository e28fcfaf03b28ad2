-- Segments, and the queries over contacts they make. Every query returning
-- a segment selects the columns that scanSegment reads, in its order; a
-- contact, those of scanContact.
--
-- The three member queries share one WHERE clause; keep them the same.
-- Each filter field is an argument that is NULL when the field is not set,
-- and the queries run with their values bound at planning (see
-- segmentArgs), so the planner drops the fields that are off and uses the
-- GIN indexes on tags and attributes for the ones that are on:
--   @tags        text[]: the tags a member has all of (@>)
--   @any_tags    text[]: the tags a member has one of (&&)
--   @attributes  jsonb:  the attribute values a member has (@>)
--   @marketing   bool:   true keeps the contacts not opted out of marketing
--   @active_since    timestamptz: a member wrote at or after it
--   @inactive_before timestamptz: a member did not write at or after it
--   @locale      text:   lower case with '-'; a member's locale is it or
--                        starts with it and '-'

-- name: PutSegment :one
-- A name stored before keeps its id and created_at.
INSERT INTO segments (name, description, filter)
VALUES (@name, @description, @filter)
ON CONFLICT (name) DO UPDATE
SET description = excluded.description, filter = excluded.filter, updated_at = now()
RETURNING id, name, description, filter, created_at, updated_at;

-- name: GetSegment :one
SELECT id, name, description, filter, created_at, updated_at
FROM segments
WHERE name = @name;

-- name: ListSegments :many
-- By name, in byte order: the column's collation is "C".
SELECT id, name, description, filter, created_at, updated_at
FROM segments
ORDER BY name;

-- name: DeleteSegment :execrows
DELETE FROM segments
WHERE name = @name;

-- name: CountSegment :one
SELECT count(*)
FROM contacts c
WHERE (@tags::text[] IS NULL OR c.tags @> @tags::text[])
  AND (@any_tags::text[] IS NULL OR c.tags && @any_tags::text[])
  AND (@attributes::jsonb IS NULL OR c.attributes @> @attributes::jsonb)
  AND (@marketing::boolean IS NULL OR NOT c.marketing_opt_out)
  AND (@active_since::timestamptz IS NULL OR c.last_inbound_at >= @active_since::timestamptz)
  AND (@inactive_before::timestamptz IS NULL OR c.last_inbound_at IS NULL
       OR c.last_inbound_at < @inactive_before::timestamptz)
  AND (@locale::text IS NULL OR lower(replace(c.locale, '_', '-')) = @locale::text
       OR starts_with(lower(replace(c.locale, '_', '-')), @locale::text || '-'));

-- name: SampleSegment :many
SELECT c.id, c.wa_id, c.user_id, c.name, c.locale, c.last_inbound_at, c.marketing_opt_out, c.marketing_pref_at,
       c.tags, c.attributes, c.created_at, c.updated_at
FROM contacts c
WHERE (@tags::text[] IS NULL OR c.tags @> @tags::text[])
  AND (@any_tags::text[] IS NULL OR c.tags && @any_tags::text[])
  AND (@attributes::jsonb IS NULL OR c.attributes @> @attributes::jsonb)
  AND (@marketing::boolean IS NULL OR NOT c.marketing_opt_out)
  AND (@active_since::timestamptz IS NULL OR c.last_inbound_at >= @active_since::timestamptz)
  AND (@inactive_before::timestamptz IS NULL OR c.last_inbound_at IS NULL
       OR c.last_inbound_at < @inactive_before::timestamptz)
  AND (@locale::text IS NULL OR lower(replace(c.locale, '_', '-')) = @locale::text
       OR starts_with(lower(replace(c.locale, '_', '-')), @locale::text || '-'))
ORDER BY random()
LIMIT @limit;

-- name: ContactsInSegment :many
SELECT c.id, c.wa_id, c.user_id, c.name, c.locale, c.last_inbound_at, c.marketing_opt_out, c.marketing_pref_at,
       c.tags, c.attributes, c.created_at, c.updated_at
FROM contacts c
WHERE (@tags::text[] IS NULL OR c.tags @> @tags::text[])
  AND (@any_tags::text[] IS NULL OR c.tags && @any_tags::text[])
  AND (@attributes::jsonb IS NULL OR c.attributes @> @attributes::jsonb)
  AND (@marketing::boolean IS NULL OR NOT c.marketing_opt_out)
  AND (@active_since::timestamptz IS NULL OR c.last_inbound_at >= @active_since::timestamptz)
  AND (@inactive_before::timestamptz IS NULL OR c.last_inbound_at IS NULL
       OR c.last_inbound_at < @inactive_before::timestamptz)
  AND (@locale::text IS NULL OR lower(replace(c.locale, '_', '-')) = @locale::text
       OR starts_with(lower(replace(c.locale, '_', '-')), @locale::text || '-'))
  AND c.id > @after_id
ORDER BY c.id
LIMIT @limit;
