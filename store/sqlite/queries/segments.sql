-- Segments, and the queries over contacts they make. Every query returning
-- a segment selects the columns that scanSegment reads, in its order; a
-- contact, those of scanContact.
--
-- The three member queries share one WHERE clause; keep them the same.
-- Each filter field is an argument that is NULL when the field is not set:
--   @tags        JSON array, without repeats: the tags a member has all of
--   @any_tags    JSON array: the tags a member has one of
--   @attributes  JSON object: the attribute values a member has
-- Each set is read once (IN of a subquery that names no column of c); a
-- contact passes @tags when it has as many of them as there are, and
-- @attributes when as many of its name-value pairs are among them (NUL
-- joins name and value: neither holds one).
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
WHERE (@tags IS NULL OR json_array_length(@tags) = (
           SELECT count(DISTINCT t.value) FROM json_each(c.tags) AS t
           WHERE t.value IN (SELECT value FROM json_each(@tags))))
  AND (@any_tags IS NULL OR EXISTS (
           SELECT 1 FROM json_each(c.tags) AS t
           WHERE t.value IN (SELECT value FROM json_each(@any_tags))))
  AND (@attributes IS NULL OR (SELECT count(*) FROM json_each(@attributes)) = (
           SELECT count(*) FROM json_each(c.attributes) AS a
           WHERE a.key || char(0) || a.value IN (SELECT key || char(0) || value FROM json_each(@attributes))))
  AND (@marketing IS NULL OR c.marketing_opt_out = 0)
  AND (@active_since IS NULL OR c.last_inbound_at >= @active_since)
  AND (@inactive_before IS NULL OR c.last_inbound_at IS NULL OR c.last_inbound_at < @inactive_before)
  AND (@locale IS NULL OR lower(replace(c.locale, '_', '-')) = @locale
       OR substr(lower(replace(c.locale, '_', '-')), 1, length(@locale) + 1) = @locale || '-');

-- name: SampleSegment :many
SELECT c.id, c.wa_id, c.user_id, c.name, c.locale, c.last_inbound_at, c.marketing_opt_out, c.marketing_pref_at,
       c.tags, c.attributes, c.created_at, c.updated_at
FROM contacts c
WHERE (@tags IS NULL OR json_array_length(@tags) = (
           SELECT count(DISTINCT t.value) FROM json_each(c.tags) AS t
           WHERE t.value IN (SELECT value FROM json_each(@tags))))
  AND (@any_tags IS NULL OR EXISTS (
           SELECT 1 FROM json_each(c.tags) AS t
           WHERE t.value IN (SELECT value FROM json_each(@any_tags))))
  AND (@attributes IS NULL OR (SELECT count(*) FROM json_each(@attributes)) = (
           SELECT count(*) FROM json_each(c.attributes) AS a
           WHERE a.key || char(0) || a.value IN (SELECT key || char(0) || value FROM json_each(@attributes))))
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
WHERE (@tags IS NULL OR json_array_length(@tags) = (
           SELECT count(DISTINCT t.value) FROM json_each(c.tags) AS t
           WHERE t.value IN (SELECT value FROM json_each(@tags))))
  AND (@any_tags IS NULL OR EXISTS (
           SELECT 1 FROM json_each(c.tags) AS t
           WHERE t.value IN (SELECT value FROM json_each(@any_tags))))
  AND (@attributes IS NULL OR (SELECT count(*) FROM json_each(@attributes)) = (
           SELECT count(*) FROM json_each(c.attributes) AS a
           WHERE a.key || char(0) || a.value IN (SELECT key || char(0) || value FROM json_each(@attributes))))
  AND (@marketing IS NULL OR c.marketing_opt_out = 0)
  AND (@active_since IS NULL OR c.last_inbound_at >= @active_since)
  AND (@inactive_before IS NULL OR c.last_inbound_at IS NULL OR c.last_inbound_at < @inactive_before)
  AND (@locale IS NULL OR lower(replace(c.locale, '_', '-')) = @locale
       OR substr(lower(replace(c.locale, '_', '-')), 1, length(@locale) + 1) = @locale || '-')
  AND c.id > @after_id
ORDER BY c.id
LIMIT @limit;
