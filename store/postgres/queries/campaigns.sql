-- Campaigns and their recipients. Every query returning a campaign selects
-- the columns scanCampaign reads, in its order.

-- name: InsertCampaign :one
INSERT INTO campaigns (name, phone_number_id, template, language, category, params, segment,
                       status, scheduled_at, time_zone, created_by)
VALUES (@name, @phone_number_id, @template, @language, @category, @params, @segment,
        @status, @scheduled_at, @time_zone, @created_by)
RETURNING id, name, phone_number_id, template, language, category, params, segment, filter, status,
          scheduled_at, time_zone, created_by, materialized, cursor_id, started_at, finished_at,
          created_at, updated_at;

-- name: GetCampaign :one
SELECT id, name, phone_number_id, template, language, category, params, segment, filter, status,
       scheduled_at, time_zone, created_by, materialized, cursor_id, started_at, finished_at,
       created_at, updated_at
FROM campaigns
WHERE name = @name;

-- name: GetCampaignByID :one
SELECT id, name, phone_number_id, template, language, category, params, segment, filter, status,
       scheduled_at, time_zone, created_by, materialized, cursor_id, started_at, finished_at,
       created_at, updated_at
FROM campaigns
WHERE id = @id;

-- name: ListCampaigns :many
SELECT id, name, phone_number_id, template, language, category, params, segment, filter, status,
       scheduled_at, time_zone, created_by, materialized, cursor_id, started_at, finished_at,
       created_at, updated_at
FROM campaigns
ORDER BY created_at DESC, id DESC;

-- name: DeleteCampaign :one
-- Deletes the campaign when it never ran; reports its status either way
-- (no row: there is no such campaign).
WITH c AS (SELECT status FROM campaigns WHERE id = @id FOR UPDATE),
     d AS (DELETE FROM campaigns WHERE id = @id AND status IN ('draft', 'scheduled') RETURNING id)
SELECT c.status, EXISTS (SELECT 1 FROM d) FROM c;

-- name: MoveCampaign :one
-- The first move to running takes the segment's snapshot and the start
-- time; done and cancelled the finish time; scheduled its time and zone.
UPDATE campaigns
SET status       = @to,
    updated_at   = @at,
    filter       = CASE WHEN @to = 'running' AND started_at IS NULL THEN @filter::jsonb ELSE filter END,
    started_at   = CASE WHEN @to = 'running' AND started_at IS NULL THEN @at ELSE started_at END,
    finished_at  = CASE WHEN @to IN ('done', 'cancelled') THEN @at ELSE finished_at END,
    scheduled_at = CASE WHEN @to = 'scheduled' THEN @scheduled_at ELSE scheduled_at END,
    time_zone    = CASE WHEN @to = 'scheduled' THEN @time_zone ELSE time_zone END
WHERE id = @id AND status = @from
RETURNING id, name, phone_number_id, template, language, category, params, segment, filter, status,
          scheduled_at, time_zone, created_by, materialized, cursor_id, started_at, finished_at,
          created_at, updated_at;

-- name: CampaignStatus :one
SELECT status FROM campaigns WHERE id = @id;

-- name: DueCampaigns :many
SELECT id, name, phone_number_id, template, language, category, params, segment, filter, status,
       scheduled_at, time_zone, created_by, materialized, cursor_id, started_at, finished_at,
       created_at, updated_at
FROM campaigns
WHERE status = 'scheduled' AND scheduled_at <= @now
ORDER BY scheduled_at, id;

-- name: InsertRecipients :execrows
-- The recipients at each index of the arrays; a contact the campaign has
-- already is left as it is.
INSERT INTO campaign_recipients (campaign_id, contact_id, status, skip_reason, queued_at)
SELECT @id, r.contact_id, r.status, r.skip_reason,
       CASE WHEN r.status = 'skipped' THEN @now::timestamptz END
FROM unnest(@contact_ids::bigint[], @statuses::text[], @skip_reasons::text[]) AS r (contact_id, status, skip_reason)
ON CONFLICT (campaign_id, contact_id) DO NOTHING;

-- name: SetCampaignCursor :execrows
UPDATE campaigns
SET cursor_id = greatest(cursor_id, @cursor), materialized = materialized OR @done, updated_at = @now
WHERE id = @id;

-- name: MarketingConsents :many
-- The newest marketing record (by at, then id) of each contact of @ids.
SELECT DISTINCT ON (contact_id) contact_id, granted
FROM consents
WHERE contact_id = ANY (@ids::bigint[]) AND purpose = 'marketing'
ORDER BY contact_id, at DESC, id DESC;

-- name: PendingRecipients :many
SELECT r.campaign_id, r.contact_id, r.created_at,
       c.id, c.wa_id, c.user_id, c.name, c.locale, c.last_inbound_at, c.marketing_opt_out, c.marketing_pref_at,
       c.tags, c.attributes, c.created_at, c.updated_at
FROM campaign_recipients r
JOIN contacts c ON c.id = r.contact_id
WHERE r.campaign_id = @id AND r.status = 'pending' AND r.contact_id > @after_id
ORDER BY r.contact_id
LIMIT @limit;

-- name: MarkRecipientQueued :one
-- Reports the recipient's status before; no row when it is missing.
WITH r AS (SELECT status FROM campaign_recipients WHERE campaign_id = @id AND contact_id = @contact_id FOR UPDATE),
     u AS (UPDATE campaign_recipients
           SET status = 'queued', message_id = @message_id, queued_at = @at
           WHERE campaign_id = @id AND contact_id = @contact_id AND status = 'pending'
           RETURNING 1)
SELECT r.status, EXISTS (SELECT 1 FROM u) FROM r;

-- name: MarkRecipientsQueued :one
-- MarkRecipientQueued for the recipients @contact_ids, each with the
-- message at its index, all or none: the first recipient (in the order
-- given) that is missing or not pending, locked as MarkRecipientQueued
-- locks one, keeps every recipient as it is. Reports that recipient's
-- contact and status ('' when missing), or 0 and '' when it queued them
-- all.
WITH want AS (
    SELECT *
    FROM unnest(@contact_ids::bigint[], @message_ids::bigint[]) WITH ORDINALITY AS w (contact_id, message_id, n)
), r AS (
    SELECT contact_id, status
    FROM campaign_recipients
    WHERE campaign_id = @id AND contact_id = ANY (@contact_ids::bigint[])
      AND contact_id BETWEEN (SELECT min(x) FROM unnest(@contact_ids::bigint[]) AS x)
                         AND (SELECT max(x) FROM unnest(@contact_ids::bigint[]) AS x)
    ORDER BY contact_id
    FOR UPDATE
), bad AS (
    SELECT want.contact_id, coalesce(r.status, '') AS status
    FROM want LEFT JOIN r ON r.contact_id = want.contact_id
    WHERE r.status IS DISTINCT FROM 'pending'
    ORDER BY want.n
    LIMIT 1
), u AS (
    UPDATE campaign_recipients AS c
    SET status = 'queued', message_id = want.message_id, queued_at = @at
    FROM want
    -- The range bounds the index scan to the batch (the sender's batches
    -- are runs of contact ids); without it the planner walks every
    -- pending recipient of the campaign (seconds at 100,000 recipients).
    WHERE c.campaign_id = @id
      AND c.contact_id BETWEEN (SELECT min(contact_id) FROM want) AND (SELECT max(contact_id) FROM want)
      AND c.contact_id = want.contact_id AND c.status = 'pending'
      AND NOT EXISTS (SELECT 1 FROM bad)
    RETURNING 1
)
SELECT coalesce((SELECT contact_id FROM bad), 0), coalesce((SELECT status FROM bad), '');

-- name: SkipRecipient :one
WITH r AS (SELECT status FROM campaign_recipients WHERE campaign_id = @id AND contact_id = @contact_id FOR UPDATE),
     u AS (UPDATE campaign_recipients
           SET status = 'skipped', skip_reason = @reason, queued_at = @at
           WHERE campaign_id = @id AND contact_id = @contact_id AND status = 'pending'
           RETURNING 1)
SELECT r.status, EXISTS (SELECT 1 FROM u) FROM r;

-- name: ListCampaignRecipients :many
-- With each recipient's wa_id, so that a page of them is one query.
SELECT r.campaign_id, r.contact_id, r.status, r.skip_reason, coalesce(r.message_id, 0),
       coalesce(m.status, ''), coalesce(m.error_code, 0), r.queued_at, r.created_at, coalesce(c.wa_id, '')
FROM campaign_recipients r
LEFT JOIN messages m ON m.id = r.message_id
LEFT JOIN contacts c ON c.id = r.contact_id
WHERE r.campaign_id = @id AND r.contact_id > @after_id
ORDER BY r.contact_id
LIMIT @limit;

-- name: CampaignTally :many
-- The campaign's recipients counted by their status and skip reason and
-- their message's status and error code: one pass over the recipients, a
-- handful of groups (store.CampaignStats.Tally adds them up).
SELECT r.status, r.skip_reason, coalesce(m.status, ''), coalesce(m.error_code, 0), count(*)
FROM campaign_recipients r
LEFT JOIN messages m ON m.id = r.message_id
WHERE r.campaign_id = @id
GROUP BY 1, 2, 3, 4;

-- name: CampaignTallies :many
-- CampaignTally for every campaign at once.
SELECT r.campaign_id, r.status, r.skip_reason, coalesce(m.status, ''), coalesce(m.error_code, 0), count(*)
FROM campaign_recipients r
LEFT JOIN messages m ON m.id = r.message_id
GROUP BY 1, 2, 3, 4, 5;

-- name: CampaignReplied :one
-- The recipients whose conversation has an inbound message (not a
-- user_preferences record) sent after their message was accepted and
-- within 24 hours of it. A WHERE EXISTS, so that the planner may make it a
-- semi-join instead of a probe per recipient.
SELECT count(*)
FROM campaign_recipients r
JOIN messages m ON m.id = r.message_id
WHERE r.campaign_id = @id AND m.sent_at IS NOT NULL
  AND EXISTS (SELECT 1 FROM messages i
              WHERE i.conversation_id = m.conversation_id AND i.direction = 'in' AND i.type <> 'preference'
                AND i.sent_at > m.sent_at AND i.sent_at <= m.sent_at + interval '24 hours');

-- name: CampaignOptedOutAfter :one
-- The recipients opted out of marketing since a time after their message
-- was accepted: few contacts are opted out, so this starts from them.
SELECT count(*)
FROM campaign_recipients r
JOIN contacts c ON c.id = r.contact_id
JOIN messages m ON m.id = r.message_id
WHERE r.campaign_id = @id AND c.marketing_opt_out AND c.marketing_pref_at > m.sent_at;

-- name: CampaignDuplicates :one
SELECT count(*)
FROM duplicate_sends d
JOIN campaign_recipients r ON r.message_id = d.message_id
WHERE r.campaign_id = @id;

-- name: CampaignReach :one
-- The contacts queued since @since whose customer-service window was not
-- open at the queue time: no inbound message in the 24 hours up to it. A
-- contact who wrote after the queue time counts (its window then is
-- unknown). The recipients come from campaign_recipients_reach and their
-- contacts by primary key; past a few percent of all contacts reached in
-- the day, the planner hashes a parallel scan of contacts instead, which
-- costs about as much.
SELECT count(DISTINCT r.contact_id)
FROM campaign_recipients r
JOIN contacts c ON c.id = r.contact_id
WHERE r.status = 'queued' AND r.queued_at >= @since
  AND (c.last_inbound_at IS NULL OR c.last_inbound_at > r.queued_at
       OR c.last_inbound_at <= r.queued_at - interval '24 hours');

-- name: CampaignOfReply :one
-- The campaign of the newest campaign message WhatsApp accepted in the
-- conversation within the window before @at.
SELECT c.id, c.name, c.phone_number_id, c.template, c.language, c.category, c.params, c.segment, c.filter,
       c.status, c.scheduled_at, c.time_zone, c.created_by, c.materialized, c.cursor_id, c.started_at,
       c.finished_at, c.created_at, c.updated_at
FROM messages m
JOIN campaign_recipients r ON r.message_id = m.id
JOIN campaigns c ON c.id = r.campaign_id
WHERE m.conversation_id = @conversation_id AND m.direction = 'out'
  AND m.sent_at <= @at AND m.sent_at > @at::timestamptz - interval '24 hours'
ORDER BY m.sent_at DESC, m.id DESC
LIMIT 1;

-- name: RecordDuplicateSend :exec
INSERT INTO duplicate_sends (channel_message_id, message_id)
VALUES (@channel_message_id, @message_id)
ON CONFLICT (channel_message_id) DO NOTHING;

-- name: UnfinishedJobs :one
SELECT count(*)
FROM jobs
WHERE state IN ('available', 'running') AND kind = @kind;
