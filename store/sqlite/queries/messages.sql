-- Messages. Every query returning a message selects the columns that
-- scanMessage reads, in its order.

-- name: InsertMessage :one
-- A channel message id already stored inserts nothing and returns no row,
-- without failing the statement, so an enclosing transaction goes on.
INSERT INTO messages (conversation_id, direction, channel_message_id, type, body, payload, status,
                      error_code, error_text, sent_at, processed_at, created_at, updated_at)
VALUES (@conversation_id, @direction, @channel_message_id, @type, @body, @payload, @status,
        @error_code, @error_text, @sent_at, @processed_at, @now, @now)
ON CONFLICT DO NOTHING
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
-- @ids is a JSON array of message ids. A message keeps the time it was first
-- processed.
UPDATE messages
SET processed_at = @at, updated_at = @now
WHERE id IN (SELECT value FROM json_each(@ids)) AND processed_at IS NULL;

-- name: UpdateMessageStatus :execrows
-- @not_lower is a JSON array of the statuses ranking at or above the new one:
-- a message in one of them keeps it.
UPDATE messages
SET status = @status, error_code = @error_code, error_text = @error_text, updated_at = @now
WHERE channel_message_id = @channel_message_id AND channel_message_id <> ''
  AND status NOT IN (SELECT value FROM json_each(@not_lower));

-- name: ChannelMessageExists :one
SELECT EXISTS (
    SELECT 1 FROM messages
    WHERE channel_message_id = @channel_message_id AND channel_message_id <> ''
);

-- name: RecordSend :execrows
-- Records the channel id of an outbound message that has none. @not_lower is
-- a JSON array of the statuses ranking at or above sent: a message in one of
-- them (a status webhook came first) keeps it. A channel id that another
-- message has fails on the unique index.
UPDATE messages
SET channel_message_id = @channel_message_id,
    sent_at            = @sent_at,
    status             = CASE
                             WHEN status IN (SELECT value FROM json_each(@not_lower)) THEN status
                             ELSE 'sent'
                         END,
    updated_at         = @now
WHERE id = @id AND direction = 'out' AND channel_message_id = '';

-- name: FailOutbound :execrows
-- A failed message keeps its first error.
UPDATE messages
SET status = 'failed', error_code = @error_code, error_text = @error_text, updated_at = @now
WHERE id = @id AND direction = 'out' AND status <> 'failed';

-- name: OutboundChannelMessageID :one
-- No row when no outbound message has the id.
SELECT channel_message_id FROM messages
WHERE id = @id AND direction = 'out';
