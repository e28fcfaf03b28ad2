-- Consent records, the audit log, and the erasure and expiry of a
-- contact's personal data. Every query returning a consent selects the
-- columns scanConsent reads, in its order; likewise scanAuditEntry.
--
-- EraseContact runs EraseContactJobs to EraseContact in their order here,
-- children before parents, in a transaction that holds the write lock, so
-- that nothing is added to the contact's records meanwhile.
--
-- The Expire statements clear the content of records older than @before
-- in the conversations on @phone_number_ids (a JSON array; every number
-- when empty), and count only the records they change, so that running
-- them again counts nothing.

-- name: InsertConsent :one
INSERT INTO consents (contact_id, purpose, granted, source, policy_version, at, created_at)
VALUES (@contact_id, @purpose, @granted, @source, @policy_version, @at, @now)
RETURNING id, contact_id, purpose, granted, source, policy_version, at, created_at;

-- name: CurrentConsents :many
-- The newest record of each purpose: at, then id, decides.
SELECT id, contact_id, purpose, granted, source, policy_version, at, created_at
FROM consents AS c
WHERE contact_id = @contact_id
  AND id = (SELECT n.id FROM consents AS n
            WHERE n.contact_id = c.contact_id AND n.purpose = c.purpose
            ORDER BY n.at DESC, n.id DESC
            LIMIT 1)
ORDER BY purpose;

-- name: ListConsents :many
SELECT id, contact_id, purpose, granted, source, policy_version, at, created_at
FROM consents
WHERE contact_id = @contact_id
ORDER BY at, id;

-- name: AppendAudit :one
INSERT INTO audit_log (actor, actor_id, action, target, address, detail, at)
VALUES (@actor, @actor_id, @action, @target, @address, @detail, @at)
RETURNING id, actor, actor_id, action, target, address, detail, at;

-- name: ListAudit :many
-- An empty filter value matches all; @action is an exact action, @prefix
-- the start of one ("consent."); a NULL @since is no lower bound.
SELECT id, actor, actor_id, action, target, address, detail, at
FROM audit_log
WHERE (@actor = '' OR actor = @actor)
  AND (@action = '' OR action = @action)
  AND (@prefix = '' OR substr(action, 1, length(@prefix)) = @prefix)
  AND (@target = '' OR target = @target)
  AND (@since IS NULL OR at >= @since)
  AND (@before = 0 OR id < @before)
ORDER BY id DESC
LIMIT @lim;

-- name: EraseContactJobs :execrows
-- Jobs about the contact's records, in any state, found by their key or by
-- their payload, so that neither alone must hold: a turn job (key
-- store.TurnKey, "conv:<id>"; payload store.TurnPayload,
-- {"conversation_id"}), a send job (key channel.SendKey, "out:<id>";
-- payload channel.SendPayload, {"message_id"}), a ticket's notice job (key
-- "ticket:<id>"; payload {"ticket_id"}), and any other job whose payload
-- names one of these records.
WITH convs AS (
    SELECT id FROM conversations WHERE contact_id = @contact_id
), msgs AS (
    SELECT id FROM messages WHERE conversation_id IN (SELECT id FROM convs)
), tks AS (
    SELECT id FROM tickets WHERE contact_id = @contact_id OR conversation_id IN (SELECT id FROM convs)
)
DELETE FROM jobs
WHERE key IN (SELECT 'conv:' || id FROM convs
              UNION ALL SELECT 'out:' || id FROM convs
              UNION ALL SELECT 'ticket:' || id FROM tks)
   OR json_extract(payload, '$.conversation_id') IN (SELECT id FROM convs)
   OR json_extract(payload, '$.message_id') IN (SELECT id FROM msgs)
   OR json_extract(payload, '$.ticket_id') IN (SELECT id FROM tks);

-- name: EraseContactTicketEvents :execrows
-- The contact's tickets: those naming the contact, and, should one name
-- another, those of its conversations.
DELETE FROM ticket_events
WHERE ticket_id IN (
    SELECT id FROM tickets
    WHERE contact_id = @contact_id
       OR conversation_id IN (SELECT id FROM conversations WHERE contact_id = @contact_id));

-- name: EraseContactTickets :execrows
DELETE FROM tickets
WHERE contact_id = @contact_id
   OR conversation_id IN (SELECT id FROM conversations WHERE contact_id = @contact_id);

-- name: EraseContactCampaignRecipients :execrows
-- Before the messages they name.
DELETE FROM campaign_recipients
WHERE contact_id = @contact_id;

-- name: EraseContactDuplicateSends :execrows
-- Before the messages they name.
DELETE FROM duplicate_sends
WHERE message_id IN (
    SELECT m.id FROM messages m
    JOIN conversations c ON c.id = m.conversation_id
    WHERE c.contact_id = @contact_id);

-- name: EraseContactTurns :execrows
DELETE FROM turns
WHERE conversation_id IN (SELECT id FROM conversations WHERE contact_id = @contact_id);

-- name: EraseContactMessages :execrows
DELETE FROM messages
WHERE conversation_id IN (SELECT id FROM conversations WHERE contact_id = @contact_id);

-- name: EraseContactConversations :execrows
DELETE FROM conversations
WHERE contact_id = @contact_id;

-- name: EraseContactConsents :execrows
DELETE FROM consents
WHERE contact_id = @contact_id;

-- name: EraseContact :execrows
DELETE FROM contacts
WHERE id = @contact_id;

-- name: ExpireMessages :execrows
UPDATE messages
SET body = '', payload = '{}'
WHERE created_at < @before
  AND (body <> '' OR payload <> '{}')
  AND conversation_id IN (
      SELECT id FROM conversations
      WHERE @phone_number_ids = '[]' OR phone_number_id IN (SELECT value FROM json_each(@phone_number_ids)));

-- name: ExpireConversations :execrows
-- The state of conversations untouched since @before: the vault behind
-- the placeholders, the slots, the handoff's transcript. A conversation
-- with an open ticket is kept whole.
UPDATE conversations
SET state = '{}'
WHERE updated_at < @before
  AND state <> '{}'
  AND (@phone_number_ids = '[]' OR phone_number_id IN (SELECT value FROM json_each(@phone_number_ids)))
  AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.conversation_id = conversations.id AND t.status IN ('queued', 'assigned'));

-- name: ExpireTurns :execrows
UPDATE turns
SET trace = '{}'
WHERE created_at < @before
  AND trace <> '{}'
  AND conversation_id IN (
      SELECT id FROM conversations
      WHERE @phone_number_ids = '[]' OR phone_number_id IN (SELECT value FROM json_each(@phone_number_ids)));

-- name: ExpireTickets :execrows
-- Closed tickets only, closed before @before, whose pack or an event's
-- data is not cleared yet; ExpireTicketEvents clears the events after.
UPDATE tickets
SET pack = '{}'
WHERE status IN ('resolved', 'returned')
  AND closed_at < @before
  AND (pack <> '{}' OR EXISTS (SELECT 1 FROM ticket_events AS e WHERE e.ticket_id = tickets.id AND e.data <> '{}'))
  AND conversation_id IN (
      SELECT id FROM conversations
      WHERE @phone_number_ids = '[]' OR phone_number_id IN (SELECT value FROM json_each(@phone_number_ids)));

-- name: ExpireTicketEvents :execrows
UPDATE ticket_events
SET data = '{}'
WHERE data <> '{}'
  AND ticket_id IN (
      SELECT t.id FROM tickets AS t
      WHERE t.status IN ('resolved', 'returned')
        AND t.closed_at < @before
        AND t.conversation_id IN (
            SELECT id FROM conversations
            WHERE @phone_number_ids = '[]' OR phone_number_id IN (SELECT value FROM json_each(@phone_number_ids))));
