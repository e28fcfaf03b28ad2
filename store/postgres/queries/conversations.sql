-- Conversations. Every query returning a conversation selects the columns
-- that scanConversation reads, in its order.

-- name: InsertOpenConversation :one
-- Returns no row when the contact already has an open conversation on the
-- number: the partial unique index conversations_one_open is the arbiter,
-- so two racing opens create one conversation.
INSERT INTO conversations (contact_id, phone_number_id, status, mode, state)
VALUES (@contact_id, @phone_number_id, 'open', 'bot', '{}')
ON CONFLICT (contact_id, phone_number_id) WHERE status = 'open' DO NOTHING
RETURNING id, contact_id, phone_number_id, status, mode, state, created_at, updated_at, closed_at;

-- name: GetOpenConversation :one
SELECT id, contact_id, phone_number_id, status, mode, state, created_at, updated_at, closed_at
FROM conversations
WHERE contact_id = @contact_id AND phone_number_id = @phone_number_id AND status = 'open';

-- name: GetConversation :one
SELECT id, contact_id, phone_number_id, status, mode, state, created_at, updated_at, closed_at
FROM conversations
WHERE id = @id;

-- name: ListConversations :many
-- A zero @contact_id or an empty @status matches all. The store runs it
-- unprepared, so that the planner sees the values, folds away the unused
-- filters and picks the matching index.
SELECT id, contact_id, phone_number_id, status, mode, state, created_at, updated_at, closed_at
FROM conversations
WHERE (@contact_id::bigint = 0 OR contact_id = @contact_id::bigint)
  AND (@status::text = '' OR status = @status::text)
ORDER BY updated_at DESC, id DESC
LIMIT @limit;

-- name: SetConversationState :execrows
UPDATE conversations
SET mode = @mode, state = @state, updated_at = now()
WHERE id = @id AND status = 'open';

-- name: CloseConversation :execrows
-- Closing a closed conversation changes nothing and is no error.
UPDATE conversations
SET status     = 'closed',
    closed_at  = coalesce(closed_at, now()),
    updated_at = CASE WHEN status = 'open' THEN now() ELSE updated_at END
WHERE id = @id;
