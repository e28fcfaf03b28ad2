-- Conversations. Every query returning a conversation selects the columns
-- that scanConversation reads, in its order.

-- name: GetConversation :one
SELECT id, contact_id, phone_number_id, status, mode, state, created_at, updated_at, closed_at
FROM conversations
WHERE id = @id;

-- name: GetOpenConversation :one
SELECT id, contact_id, phone_number_id, status, mode, state, created_at, updated_at, closed_at
FROM conversations
WHERE contact_id = @contact_id AND phone_number_id = @phone_number_id AND status = 'open';

-- name: InsertConversation :one
INSERT INTO conversations (contact_id, phone_number_id, status, mode, state, created_at, updated_at)
VALUES (@contact_id, @phone_number_id, 'open', 'bot', '{}', @now, @now)
RETURNING id, contact_id, phone_number_id, status, mode, state, created_at, updated_at, closed_at;

-- name: ListConversations :many
-- Newest first; an empty status matches all.
SELECT id, contact_id, phone_number_id, status, mode, state, created_at, updated_at, closed_at
FROM conversations
WHERE @status = '' OR status = @status
ORDER BY updated_at DESC, id DESC
LIMIT @limit;

-- name: ListContactConversations :many
-- The conversations of one contact, newest first; an empty status matches all.
SELECT id, contact_id, phone_number_id, status, mode, state, created_at, updated_at, closed_at
FROM conversations
WHERE contact_id = @contact_id AND (@status = '' OR status = @status)
ORDER BY updated_at DESC, id DESC
LIMIT @limit;

-- name: SetConversationState :execrows
UPDATE conversations
SET mode = @mode, state = @state, updated_at = @now
WHERE id = @id AND status = 'open';

-- name: CloseConversation :execrows
UPDATE conversations
SET status = 'closed', closed_at = @now, updated_at = @now
WHERE id = @id AND status = 'open';

-- name: ConversationExists :one
SELECT EXISTS (SELECT 1 FROM conversations WHERE id = @id);
