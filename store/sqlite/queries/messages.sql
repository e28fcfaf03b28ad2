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
