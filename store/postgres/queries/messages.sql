-- Messages. Every query returning a message selects the columns that
-- scanMessage reads, in its order.

-- name: InsertMessage :one
-- Returns no row when the channel message id is already stored. ON CONFLICT
-- DO NOTHING, unlike a unique violation, leaves an enclosing transaction
-- usable.
INSERT INTO messages (conversation_id, direction, channel_message_id, type, body, payload, status,
                      error_code, error_text, sent_at, processed_at)
VALUES (@conversation_id, @direction, @channel_message_id, @type, @body, @payload, @status,
        @error_code, @error_text, @sent_at, @processed_at)
ON CONFLICT (channel_message_id) WHERE channel_message_id <> '' DO NOTHING
RETURNING id, conversation_id, direction, channel_message_id, type, body, payload, status,
          error_code, error_text, sent_at, processed_at, created_at, updated_at;

-- name: GetMessage :one
SELECT id, conversation_id, direction, channel_message_id, type, body, payload, status,
       error_code, error_text, sent_at, processed_at, created_at, updated_at
FROM messages
WHERE id = @id;

-- name: ListMessages :many
SELECT id, conversation_id, direction, channel_message_id, type, body, payload, status,
       error_code, error_text, sent_at, processed_at, created_at, updated_at
FROM messages
WHERE conversation_id = @conversation_id
ORDER BY id;

-- name: PendingInbound :many
SELECT id, conversation_id, direction, channel_message_id, type, body, payload, status,
       error_code, error_text, sent_at, processed_at, created_at, updated_at
FROM messages
WHERE conversation_id = @conversation_id AND direction = 'in' AND processed_at IS NULL
ORDER BY id;

-- name: MarkProcessed :exec
-- A message keeps the time it was first processed.
UPDATE messages
SET processed_at = coalesce(@processed_at::timestamptz, now()), updated_at = now()
WHERE id = ANY (@ids::bigint[]) AND processed_at IS NULL;

-- name: UpdateMessageStatus :execrows
-- Applies @status only over a status of lower rank. The ranks come from
-- store.StatusRank as two parallel arrays; a status missing from them ranks
-- 0. An error code or text, when given, is recorded.
UPDATE messages AS m
SET status     = @status,
    error_code = CASE WHEN @error_code::integer <> 0 THEN @error_code::integer ELSE m.error_code END,
    error_text = coalesce(nullif(@error_text::text, ''), m.error_text),
    updated_at = now()
WHERE m.channel_message_id = @channel_message_id AND m.channel_message_id <> ''
  AND coalesce((SELECT r.rank
                FROM unnest(@ranked_statuses::text[], @ranks::integer[]) AS r (status, rank)
                WHERE r.status = m.status), 0) < @rank::integer;

-- name: ChannelMessageExists :one
SELECT EXISTS (
    SELECT 1 FROM messages
    WHERE channel_message_id = @channel_message_id AND channel_message_id <> '');

-- name: RecordSend :execrows
-- Records the channel id of an outbound message that has none, and moves its
-- status to sent over a status of lower rank (ranks as in
-- UpdateMessageStatus): a message a status webhook reached first keeps its
-- status. A NULL @sent_at is now. A channel id that another message has
-- fails on the unique index.
UPDATE messages AS m
SET channel_message_id = @channel_message_id,
    sent_at            = coalesce(@sent_at::timestamptz, now()),
    status             = CASE
                             WHEN coalesce((SELECT r.rank
                                            FROM unnest(@ranked_statuses::text[], @ranks::integer[])
                                                 AS r (status, rank)
                                            WHERE r.status = m.status), 0) < @rank::integer
                             THEN 'sent'
                             ELSE m.status
                         END,
    updated_at         = now()
WHERE m.id = @id AND m.direction = 'out' AND m.channel_message_id = '';

-- name: FailOutbound :execrows
-- A failed message keeps its first error.
UPDATE messages
SET status = 'failed', error_code = @error_code, error_text = @error_text, updated_at = now()
WHERE id = @id AND direction = 'out' AND status <> 'failed';

-- name: OutboundChannelMessageID :one
-- No row when no outbound message has the id.
SELECT channel_message_id FROM messages
WHERE id = @id AND direction = 'out';

-- name: AcceptInbound :one
-- The common webhook write in one statement, so one round trip: a message
-- from a known contact (by wa_id, its user id already its own) to an open
-- conversation. The contact's window moves forward, the message is inserted
-- unless its wamid is stored, and the turn job is enqueued after the key's
-- advisory lock (see EnqueueKeyedJob). contact_id or conversation_id NULL:
-- not the common case, nothing but the contact touched; the caller takes the
-- general path. message_id NULL with both set: a duplicate.
WITH contact AS (
    UPDATE contacts
    SET name            = coalesce(nullif(@name::text, ''), name),
        locale          = coalesce(nullif(@locale::text, ''), locale),
        last_inbound_at = greatest(last_inbound_at, @seen::timestamptz),
        updated_at      = now()
    WHERE wa_id = @wa_id AND wa_id <> '' AND (@user_id::text = '' OR user_id = @user_id::text)
    RETURNING id
), conv AS (
    SELECT c.id
    FROM conversations AS c JOIN contact ON c.contact_id = contact.id
    WHERE c.phone_number_id = @phone_number_id AND c.status = 'open'
), msg AS (
    INSERT INTO messages (conversation_id, direction, channel_message_id, type, body, payload, status, sent_at)
    SELECT conv.id, 'in', @channel_message_id::text, @type::text, @body::text, @payload::jsonb, @status::text,
           @sent_at::timestamptz
    FROM conv
    ON CONFLICT (channel_message_id) WHERE channel_message_id <> '' DO NOTHING
    RETURNING id, conversation_id, created_at
), key_lock AS MATERIALIZED (
    SELECT pg_advisory_xact_lock(@lock_space::integer, hashtext('conv:' || msg.conversation_id)), msg.conversation_id
    FROM msg
    WHERE @turn_kind::text <> ''
), job AS (
    INSERT INTO jobs (kind, key, payload, max_attempts, run_at)
    SELECT @turn_kind::text, 'conv:' || key_lock.conversation_id,
           jsonb_build_object('conversation_id', key_lock.conversation_id), @max_attempts::integer, now()
    FROM key_lock
    RETURNING id
)
SELECT (SELECT id FROM contact), (SELECT id FROM conv), msg.id, msg.created_at, (SELECT id FROM job)
FROM (SELECT 1) AS one LEFT JOIN msg ON true;
