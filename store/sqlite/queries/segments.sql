-- Segments, and the queries over contacts they make. Every query returning
-- a segment selects the columns that scanSegment reads, in its order; a
-- contact, those of scanContact.
--
-- The three member queries share one WHERE clause; keep them the same.
-- Each filter field is an argument that is NULL when the field is not set:
--   @tags        JSON array: the tags a member has all of
--   @any_tags    JSON array: the tags a member has one of
--   @attributes  JSON object: the attribute values a member has
--   @marketing   1 keeps the contacts not opted out of marketing
--   @active_since    unix µs: a member wrote at or after it
--   @inactive_before unix µs: a member did not write at or after it
--   @locale      lower case with '-'; a member's locale is it or starts
--                with it and '-'

-- name: PutSegment :one
-- A name stored before keeps its id and created_at.
INSERT INTO segments (name, description, filter, created_at, updated_at)
VALUES (@name, @description, @filter, @now, @now)
ON CONFLICT (name) DO UPDATE
SET description = excluded.description, filter = excluded.filter, updated_at = excluded.updated_at
RETURNING id, name, description, filter, created_at, updated_at;

-- name: GetSegment :one
SELECT id, name, description, filter, created_at, updated_at
FROM segments
WHERE name = @name;

-- name: ListSegments :many
SELECT id, name, description, filter, created_at, updated_at
FROM segments
ORDER BY name;

-- name: DeleteSegment :execrows
DELETE FROM segments
WHERE name = @name;

-- name: CountSegment :one
SELECT count(*)
FROM contacts c
WHERE (@tags IS NULL OR NOT EXISTS (
           SELECT 1 FROM json_each(@tags) AS w
           WHERE w.value NOT IN (SELECT t.value FROM json_each(c.tags) AS t)))
  AND (@any_tags IS NULL OR EXISTS (
           SELECT 1 FROM json_each(c.tags) AS t
           WHERE t.value IN (SELECT w.value FROM json_each(@any_tags) AS w)))
  AND (@attributes IS NULL OR NOT EXISTS (
           SELECT 1 FROM json_each(@attributes) AS w
           WHERE NOT EXISTS (SELECT 1 FROM json_each(c.attributes) AS a
                             WHERE a.key = w.key AND a.value = w.value)))
  AND (@marketing IS NULL OR c.marketing_opt_out = 0)
  AND (@active_since IS NULL OR c.last_inbound_at >= @active_since)
  AND (@inactive_before IS NULL OR c.last_inbound_at IS NULL OR c.last_inbound_at < @inactive_before)
  AND (@locale IS NULL OR lower(replace(c.locale, '_', '-')) = @locale
       OR substr(lower(replace(c.locale, '_', '-')), 1, length(@locale) + 1) = @locale || '-');

-- name: SampleSegment :many
SELECT c.id, c.wa_id, c.user_id, c.name, c.locale, c.last_inbound_at, c.marketing_opt_out, c.marketing_pref_at,
       c.tags, c.attributes, c.created_at, c.updated_at
FROM contacts c
WHERE (@tags IS NULL OR NOT EXISTS (
           SELECT 1 FROM json_each(@tags) AS w
           WHERE w.value NOT IN (SELECT t.value FROM json_each(c.tags) AS t)))
  AND (@any_tags IS NULL OR EXISTS (
           SELECT 1 FROM json_each(c.tags) AS t
           WHERE t.value IN (SELECT w.value FROM json_each(@any_tags) AS w)))
  AND (@attributes IS NULL OR NOT EXISTS (
           SELECT 1 FROM json_each(@attributes) AS w
           WHERE NOT EXISTS (SELECT 1 FROM json_each(c.attributes) AS a
                             WHERE a.key = w.key AND a.value = w.value)))
  AND (@marketing IS NULL OR c.marketing_opt_out = 0)
  AND (@active_since IS NULL OR c.last_inbound_at >= @active_since)
  AND (@inactive_before IS NULL OR c.last_inbound_at IS NULL OR c.last_inbound_at < @inactive_before)
  AND (@locale IS NULL OR lower(replace(c.locale, '_', '-')) = @locale
       OR substr(lower(replace(c.locale, '_', '-')), 1, length(@locale) + 1) = @locale || '-')
ORDER BY random()
LIMIT @limit;

-- name: ContactsInSegment :many
SELECT c.id, c.wa_id, c.user_id, c.name, c.locale, c.last_inbound_at, c.marketing_opt_out, c.marketing_pref_at,
       c.tags, c.attributes, c.created_at, c.updated_at
FROM contacts c
WHERE (@tags IS NULL OR NOT EXISTS (
           SELECT 1 FROM json_each(@tags) AS w
           WHERE w.value NOT IN (SELECT t.value FROM json_each(c.tags) AS t)))
  AND (@any_tags IS NULL OR EXISTS (
           SELECT 1 FROM json_each(c.tags) AS t
           WHERE t.value IN (SELECT w.value FROM json_each(@any_tags) AS w)))
  AND (@attributes IS NULL OR NOT EXISTS (
           SELECT 1 FROM json_each(@attributes) AS w
           WHERE NOT EXISTS (SELECT 1 FROM json_each(c.attributes) AS a
                             WHERE a.key = w.key AND a.value = w.value)))
  AND (@marketing IS NULL OR c.marketing_opt_out = 0)
  AND (@active_since IS NULL OR c.last_inbound_at >= @active_since)
  AND (@inactive_before IS NULL OR c.last_inbound_at IS NULL OR c.last_inbound_at < @inactive_before)
  AND (@locale IS NULL OR lower(replace(c.locale, '_', '-')) = @locale
       OR substr(lower(replace(c.locale, '_', '-')), 1, length(@locale) + 1) = @locale || '-')
  AND c.id > @after_id
ORDER BY c.id
LIMIT @limit;
