-- The outbox in batches (store.Outbox): lists of ids go in as JSON arrays,
-- read with json_each. Statements returning conversations, messages or
-- contacts select the columns their scan functions read, in their order.

-- name: OpenConversationsOf :many
-- @contact_ids is a JSON array of contact ids.
SELECT id, contact_id, phone_number_id, status, mode, state, created_at, updated_at, closed_at
FROM conversations
WHERE contact_id IN (SELECT value FROM json_each(@contact_ids)) AND phone_number_id = @phone_number_id
  AND status = 'open';

-- name: MissingContacts :many
-- The ids of the JSON array @contact_ids that name no contact, in its order.
SELECT w.value
FROM json_each(@contact_ids) AS w
WHERE NOT EXISTS (SELECT 1 FROM contacts AS c WHERE c.id = w.value)
ORDER BY w.key;

-- name: InsertOpenConversations :many
-- An open conversation for each contact of the JSON array @contact_ids,
-- which have none (the caller holds the write lock since it looked).
INSERT INTO conversations (contact_id, phone_number_id, status, mode, state, created_at, updated_at)
SELECT value, @phone_number_id, 'open', 'bot', '{}', @now, @now
FROM json_each(@contact_ids)
ORDER BY value
RETURNING id, contact_id, phone_number_id, status, mode, state, created_at, updated_at, closed_at;

-- name: InsertOutbound :many
-- Queued outbound messages: @batch is a JSON array of [conversation_id,
-- type, body, payload], the payload as a string of JSON, inserted in the
-- order of the array, so that their ids ascend in that order.
INSERT INTO messages (conversation_id, direction, type, body, payload, status, created_at, updated_at)
SELECT value ->> '$[0]', 'out', value ->> '$[1]', value ->> '$[2]', value ->> '$[3]', 'queued', @now, @now
FROM json_each(@batch)
ORDER BY key
RETURNING id, conversation_id, direction, channel_message_id, type, body, payload, status,
          error_code, error_text, sent_at, processed_at, created_at, updated_at;

-- name: OutboxEntries :many
-- The outbound messages of the JSON array @ids, each with its
-- conversation's number and its contact.
SELECT m.id, m.conversation_id, m.direction, m.channel_message_id, m.type, m.body, m.payload, m.status,
       m.error_code, m.error_text, m.sent_at, m.processed_at, m.created_at, m.updated_at,
       v.phone_number_id,
       c.id, c.wa_id, c.user_id, c.name, c.locale, c.last_inbound_at, c.marketing_opt_out, c.marketing_pref_at,
       c.tags, c.attributes, c.created_at, c.updated_at
FROM messages AS m
JOIN conversations AS v ON v.id = m.conversation_id
JOIN contacts AS c ON c.id = v.contact_id
WHERE m.id IN (SELECT value FROM json_each(@ids)) AND m.direction = 'out'
ORDER BY m.id;
