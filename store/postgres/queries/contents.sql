-- Message contents, in bulk.

-- name: MessageContents :many
-- Locks the rows until the transaction ends, so that a rewrite of them
-- does not undo a change made meanwhile (an expiry clearing them).
SELECT id, body, payload
FROM messages
WHERE id > @after_id
ORDER BY id
LIMIT @lim
FOR UPDATE;

-- name: SetMessageContent :execrows
UPDATE messages
SET body = @body, payload = @payload, updated_at = now()
WHERE id = @id;
