-- The outbox in batches (store.Outbox): each statement takes arrays, one
-- element per item, and does for all the items what the single forms of
-- conversations.sql and messages.sql do for one, keeping their rules.
-- Statements returning conversations, messages or contacts select the
-- columns their scan functions read, in their order.

-- name: OpenConversationsOf :many
SELECT id, contact_id, phone_number_id, status, mode, state, created_at, updated_at, closed_at
FROM conversations
WHERE contact_id = ANY (@contact_ids::bigint[]) AND phone_number_id = @phone_number_id AND status = 'open';

-- name: MissingContacts :many
-- The ids of @contact_ids that name no contact, in the order given.
SELECT w.id
FROM unnest(@contact_ids::bigint[]) WITH ORDINALITY AS w (id, n)
WHERE NOT EXISTS (SELECT 1 FROM contacts AS c WHERE c.id = w.id)
ORDER BY w.n;

-- name: InsertOpenConversations :many
-- Creates an open conversation for each contact of @contact_ids that has
-- none on the number, as InsertOpenConversation does for one: a contact
-- with one returns no row, conversations_one_open deciding between racing
-- opens. The contacts go in ascending order, so that racing batches wait
-- for each other's index entries in one order, never in a cycle.
INSERT INTO conversations (contact_id, phone_number_id, status, mode, state)
SELECT w.id, @phone_number_id::text, 'open', 'bot', '{}'
FROM unnest(@contact_ids::bigint[]) AS w (id)
ORDER BY w.id
ON CONFLICT (contact_id, phone_number_id) WHERE status = 'open' DO NOTHING
RETURNING id, contact_id, phone_number_id, status, mode, state, created_at, updated_at, closed_at;

-- name: InsertOutbound :many
-- Queued outbound messages, one per index of the arrays, inserted in the
-- order of the arrays, so that their ids ascend in that order.
INSERT INTO messages (conversation_id, direction, type, body, payload, status)
SELECT m.conversation_id, 'out', m.type, m.body, m.payload::jsonb, 'queued'
FROM unnest(@conversation_ids::bigint[], @types::text[], @bodies::text[], @payloads::text[])
     WITH ORDINALITY AS m (conversation_id, type, body, payload, n)
ORDER BY m.n
RETURNING id, conversation_id, direction, channel_message_id, type, body, payload, status,
          error_code, error_text, sent_at, processed_at, created_at, updated_at;

-- name: OutboxEntries :many
-- The outbound messages of @ids, each with its conversation's number and
-- its contact.
SELECT m.id, m.conversation_id, m.direction, m.channel_message_id, m.type, m.body, m.payload, m.status,
       m.error_code, m.error_text, m.sent_at, m.processed_at, m.created_at, m.updated_at,
       v.phone_number_id,
       c.id, c.wa_id, c.user_id, c.name, c.locale, c.last_inbound_at, c.marketing_opt_out, c.marketing_pref_at,
       c.tags, c.attributes, c.created_at, c.updated_at
FROM messages AS m
JOIN conversations AS v ON v.id = m.conversation_id
JOIN contacts AS c ON c.id = v.contact_id
WHERE m.id = ANY (@ids::bigint[]) AND m.direction = 'out'
ORDER BY m.id;

-- name: RecordSends :many
-- RecordSend for the messages @ids, each with the channel id and the time
-- at its index (a NULL time is now); the ids, and the channel ids, are
-- distinct. Only an outbound message without a channel id passes, and only
-- with a channel id no message has (so that the statement does not fail on
-- the unique index, but for a race with another writer of it). Returns the
-- ids of the messages recorded.
UPDATE messages AS m
SET channel_message_id = s.channel_message_id,
    sent_at            = coalesce(s.sent_at, now()),
    status             = CASE
                             WHEN coalesce((SELECT r.rank
                                            FROM unnest(@ranked_statuses::text[], @ranks::integer[])
                                                 AS r (status, rank)
                                            WHERE r.status = m.status), 0) < @rank::integer
                             THEN 'sent'
                             ELSE m.status
                         END,
    updated_at         = now()
FROM unnest(@ids::bigint[], @channel_message_ids::text[], @sent_ats::timestamptz[]) AS s (id, channel_message_id, sent_at)
WHERE m.id = s.id AND m.direction = 'out' AND m.channel_message_id = ''
  AND NOT EXISTS (SELECT 1 FROM messages AS o
                  WHERE o.channel_message_id = s.channel_message_id AND o.channel_message_id <> '')
RETURNING m.id;

-- name: SendRecords :many
-- For each send (the message id and the channel id at an index of the
-- arrays) RecordSends did not record: its index (from 1), the channel id
-- its message has (NULL when no outbound message has the id), and whether
-- another message has the send's channel id.
SELECT s.n, m.channel_message_id,
       EXISTS (SELECT 1 FROM messages AS o
               WHERE o.channel_message_id = s.channel_message_id AND o.channel_message_id <> ''
                 AND o.id <> s.id)
FROM unnest(@ids::bigint[], @channel_message_ids::text[]) WITH ORDINALITY AS s (id, channel_message_id, n)
LEFT JOIN messages AS m ON m.id = s.id AND m.direction = 'out';

-- name: UpdateMessageStatuses :many
-- UpdateMessageStatus for the distinct channel ids @channel_message_ids,
-- each with the status (of rank @new_ranks) and the error at its index:
-- applied only over a status of lower rank (ranks as in
-- UpdateMessageStatus), an error code or text recorded when given. Returns
-- each channel id, whether its message took the status, and whether a
-- message has it.
WITH u AS (
    SELECT *
    FROM unnest(@channel_message_ids::text[], @statuses::text[], @new_ranks::integer[],
                @error_codes::integer[], @error_texts::text[])
         AS u (channel_message_id, status, rank, error_code, error_text)
), applied AS (
    UPDATE messages AS m
    SET status     = u.status,
        error_code = CASE WHEN u.error_code <> 0 THEN u.error_code ELSE m.error_code END,
        error_text = coalesce(nullif(u.error_text, ''), m.error_text),
        updated_at = now()
    FROM u
    WHERE m.channel_message_id = u.channel_message_id AND m.channel_message_id <> ''
      AND coalesce((SELECT r.rank
                    FROM unnest(@ranked_statuses::text[], @ranks::integer[]) AS r (status, rank)
                    WHERE r.status = m.status), 0) < u.rank
    RETURNING m.channel_message_id
)
SELECT u.channel_message_id, a.channel_message_id IS NOT NULL,
       EXISTS (SELECT 1 FROM messages AS m
               WHERE m.channel_message_id = u.channel_message_id AND m.channel_message_id <> '')
FROM u
LEFT JOIN applied AS a ON a.channel_message_id = u.channel_message_id;
