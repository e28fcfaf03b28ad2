-- Campaigns and their recipients, as store/postgres/queries/campaigns.sql
-- has them. Every query returning a campaign selects the columns
-- scanCampaign reads, in its order. Times are unix microseconds.

-- name: InsertCampaign :one
INSERT INTO campaigns (name, phone_number_id, template, language, category, params, segment,
                       status, scheduled_at, time_zone, created_by, created_at, updated_at)
VALUES (@name, @phone_number_id, @template, @language, @category, @params, @segment,
        @status, @scheduled_at, @time_zone, @created_by, @now, @now)
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

-- name: DeleteCampaign :execrows
DELETE FROM campaigns
WHERE id = @id AND status IN ('draft', 'scheduled');

-- name: CampaignStatus :one
SELECT status FROM campaigns WHERE id = @id;

-- name: MoveCampaign :one
-- The first move to running takes the segment's snapshot and the start
-- time; done and cancelled the finish time; scheduled its time and zone.
UPDATE campaigns
SET status       = @to,
    updated_at   = @at,
    filter       = CASE WHEN @to = 'running' AND started_at IS NULL THEN @filter ELSE filter END,
    started_at   = CASE WHEN @to = 'running' AND started_at IS NULL THEN @at ELSE started_at END,
    finished_at  = CASE WHEN @to IN ('done', 'cancelled') THEN @at ELSE finished_at END,
    scheduled_at = CASE WHEN @to = 'scheduled' THEN @scheduled_at ELSE scheduled_at END,
    time_zone    = CASE WHEN @to = 'scheduled' THEN @time_zone ELSE time_zone END
WHERE id = @id AND status = @from
RETURNING id, name, phone_number_id, template, language, category, params, segment, filter, status,
          scheduled_at, time_zone, created_by, materialized, cursor_id, started_at, finished_at,
          created_at, updated_at;

-- name: DueCampaigns :many
SELECT id, name, phone_number_id, template, language, category, params, segment, filter, status,
       scheduled_at, time_zone, created_by, materialized, cursor_id, started_at, finished_at,
       created_at, updated_at
FROM campaigns
WHERE status = 'scheduled' AND scheduled_at <= @now
ORDER BY scheduled_at, id;

-- name: InsertRecipients :execrows
-- @batch is a JSON array of [contact_id, status, skip_reason]; a contact
-- the campaign has already is left as it is. (WHERE true lets SQLite parse
-- ON CONFLICT after a SELECT.)
INSERT INTO campaign_recipients (campaign_id, contact_id, status, skip_reason, queued_at, created_at)
SELECT @id, value ->> '$[0]', value ->> '$[1]', value ->> '$[2]',
       CASE WHEN value ->> '$[1]' = 'skipped' THEN @now END, @now
FROM json_each(@batch)
WHERE true
ON CONFLICT (campaign_id, contact_id) DO NOTHING;

-- name: SetCampaignCursor :execrows
UPDATE campaigns
SET cursor_id = max(cursor_id, @cursor), materialized = materialized OR @done, updated_at = @now
WHERE id = @id;

-- name: MarketingConsents :many
-- The newest marketing record (by at, then id) of each contact of @ids (a
-- JSON array) that has one.
SELECT j.value, g.granted
FROM json_each(@ids) AS j
JOIN consents g ON g.id = (SELECT id FROM consents
                           WHERE contact_id = j.value AND purpose = 'marketing'
                           ORDER BY at DESC, id DESC
                           LIMIT 1);

-- name: PendingRecipients :many
SELECT r.campaign_id, r.contact_id, r.created_at,
       c.id, c.wa_id, c.user_id, c.name, c.locale, c.last_inbound_at, c.marketing_opt_out, c.marketing_pref_at,
       c.tags, c.attributes, c.created_at, c.updated_at
FROM campaign_recipients r
JOIN contacts c ON c.id = r.contact_id
WHERE r.campaign_id = @id AND r.status = 'pending' AND r.contact_id > @after_id
ORDER BY r.contact_id
LIMIT @limit;

-- name: MarkRecipientQueued :execrows
UPDATE campaign_recipients
SET status = 'queued', message_id = @message_id, queued_at = @at
WHERE campaign_id = @id AND contact_id = @contact_id AND status = 'pending';

-- name: RecipientStatuses :many
-- The status of each recipient of the campaign whose contact is in the
-- JSON array @contact_ids.
SELECT contact_id, status
FROM campaign_recipients
WHERE campaign_id = @id AND contact_id IN (SELECT value FROM json_each(@contact_ids));

-- name: MarkRecipientsQueued :execrows
-- @batch is a JSON array of [contact_id, message_id].
UPDATE campaign_recipients
SET status = 'queued', message_id = b.value ->> '$[1]', queued_at = @at
FROM json_each(@batch) AS b
WHERE campaign_id = @id AND contact_id = b.value ->> '$[0]' AND status = 'pending';

-- name: SkipRecipient :execrows
UPDATE campaign_recipients
SET status = 'skipped', skip_reason = @reason, queued_at = @at
WHERE campaign_id = @id AND contact_id = @contact_id AND status = 'pending';

-- name: RecipientStatus :one
SELECT status FROM campaign_recipients WHERE campaign_id = @id AND contact_id = @contact_id;

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
                AND i.sent_at > m.sent_at AND i.sent_at <= m.sent_at + 86400000000);

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
-- unknown).
SELECT count(DISTINCT r.contact_id)
FROM campaign_recipients r
JOIN contacts c ON c.id = r.contact_id
WHERE r.status = 'queued' AND r.queued_at >= @since
  AND (c.last_inbound_at IS NULL OR c.last_inbound_at > r.queued_at
       OR c.last_inbound_at <= r.queued_at - 86400000000);

-- name: CampaignOfReply :one
SELECT c.id, c.name, c.phone_number_id, c.template, c.language, c.category, c.params, c.segment, c.filter,
       c.status, c.scheduled_at, c.time_zone, c.created_by, c.materialized, c.cursor_id, c.started_at,
       c.finished_at, c.created_at, c.updated_at
FROM messages m
JOIN campaign_recipients r ON r.message_id = m.id
JOIN campaigns c ON c.id = r.campaign_id
WHERE m.conversation_id = @conversation_id AND m.direction = 'out'
  AND m.sent_at <= @at AND m.sent_at > @at - 86400000000
ORDER BY m.sent_at DESC, m.id DESC
LIMIT 1;

-- name: RecordDuplicateSend :exec
INSERT INTO duplicate_sends (channel_message_id, message_id, created_at)
VALUES (@channel_message_id, @message_id, @now)
ON CONFLICT (channel_message_id) DO NOTHING;

-- name: UnfinishedJobs :one
SELECT count(*)
FROM jobs
WHERE state IN ('available', 'running') AND kind = @kind;
