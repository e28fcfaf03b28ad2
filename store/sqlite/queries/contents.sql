-- Message contents, in bulk.

-- name: MessageContents :many
SELECT id, body, payload
FROM messages
WHERE id > @after_id
ORDER BY id
LIMIT @lim;

-- name: SetMessageContent :execrows
UPDATE messages
SET body = @body, payload = @payload, updated_at = @now
WHERE id = @id;
