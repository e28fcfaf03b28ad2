-- Consent records, the audit log, and the erasure and expiry of a
-- contact's personal data. Every query returning a consent selects the
-- columns scanConsent reads, in its order; likewise scanAuditEntry.
--
-- EraseContact runs LockContact to EraseContact in their order here: it
-- locks the contact's records, then deletes children before parents.
--
-- The Expire statements clear the content of records older than @before
-- in the conversations on @phone_number_ids (every number when empty), and
-- count only the records they change, so that running them again counts
-- nothing.

-- name: InsertConsent :one
INSERT INTO consents (contact_id, purpose, granted, source, policy_version, at)
VALUES (@contact_id, @purpose, @granted, @source, @policy_version, @at)
RETURNING id, contact_id, purpose, granted, source, policy_version, at, created_at;

-- name: CurrentConsents :many
-- The newest record of each purpose: at, then id, decides.
SELECT DISTINCT ON (purpose) id, contact_id, purpose, granted, source, policy_version, at, created_at
FROM consents
WHERE contact_id = @contact_id
ORDER BY purpose, at DESC, id DESC;

-- name: ListConsents :many
SELECT id, contact_id, purpose, granted, source, policy_version, at, created_at
FROM consents
WHERE contact_id = @contact_id
ORDER BY at, id;

-- name: AppendAudit :one
-- A NULL @at is now.
INSERT INTO audit_log (actor, actor_id, action, target, address, detail, at)
VALUES (@actor, @actor_id, @action, @target, @address, @detail, coalesce(@at::timestamptz, now()))
RETURNING id, actor, actor_id, action, target, address, detail, at;

-- name: ListAudit :many
-- An empty filter value matches all; @action is an exact action, @prefix
-- the start of one ("consent."); a NULL @since is no lower bound.
SELECT id, actor, actor_id, action, target, address, detail, at
FROM audit_log
WHERE (@actor::text = '' OR actor = @actor)
  AND (@action::text = '' OR action = @action)
  AND (@prefix::text = '' OR starts_with(action, @prefix))
  AND (@target::text = '' OR target = @target)
  AND (@since::timestamptz IS NULL OR at >= @since)
  AND (@before::bigint = 0 OR id < @before)
ORDER BY id DESC
LIMIT @lim;

-- name: LockContact :one
-- Locks the contact until the transaction ends: a conversation or ticket
-- added to it meanwhile waits, then fails on its missing contact. No row
-- when the contact is missing.
SELECT id FROM contacts
WHERE id = @contact_id
FOR UPDATE;

-- name: LockContactConversations :exec
-- Likewise for messages and turns added to the contact's conversations.
SELECT id FROM conversations
WHERE contact_id = @contact_id
ORDER BY id
FOR UPDATE;

-- name: LockContactTickets :exec
-- Likewise for events added to the contact's tickets: those naming the
-- contact, and, should one name another, those of its conversations.
SELECT id FROM tickets
WHERE contact_id = @contact_id
   OR conversation_id IN (SELECT id FROM conversations WHERE contact_id = @contact_id)
ORDER BY id
FOR UPDATE;

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
   OR payload -> 'conversation_id' IN (SELECT to_jsonb(id) FROM convs)
   OR payload -> 'message_id' IN (SELECT to_jsonb(id) FROM msgs)
   OR payload -> 'ticket_id' IN (SELECT to_jsonb(id) FROM tks);

-- name: EraseContactTicketEvents :execrows
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
      WHERE cardinality(@phone_number_ids::text[]) = 0 OR phone_number_id = ANY (@phone_number_ids::text[]));

-- name: ExpireConversations :execrows
-- The state of conversations untouched since @before: the vault behind
-- the placeholders, the slots, the handoff's transcript. A conversation
-- with an open ticket is kept whole.
UPDATE conversations
SET state = '{}'
WHERE updated_at < @before
  AND state <> '{}'
  AND (cardinality(@phone_number_ids::text[]) = 0 OR phone_number_id = ANY (@phone_number_ids::text[]))
  AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.conversation_id = conversations.id AND t.status IN ('queued', 'assigned'));

-- name: ExpireTurns :execrows
UPDATE turns
SET trace = '{}'
WHERE created_at < @before
  AND trace <> '{}'
  AND conversation_id IN (
      SELECT id FROM conversations
      WHERE cardinality(@phone_number_ids::text[]) = 0 OR phone_number_id = ANY (@phone_number_ids::text[]));

-- name: ExpireTickets :execrows
-- Closed tickets only, closed before @before, whose pack or an event's
-- data is not cleared yet; ExpireTicketEvents clears the events after.
UPDATE tickets t
SET pack = '{}'
WHERE t.status IN ('resolved', 'returned')
  AND t.closed_at < @before
  AND (t.pack <> '{}' OR EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id AND e.data <> '{}'))
  AND t.conversation_id IN (
      SELECT id FROM conversations
      WHERE cardinality(@phone_number_ids::text[]) = 0 OR phone_number_id = ANY (@phone_number_ids::text[]));

-- name: ExpireTicketEvents :execrows
UPDATE ticket_events
SET data = '{}'
WHERE data <> '{}'
  AND ticket_id IN (
      SELECT t.id FROM tickets t
      WHERE t.status IN ('resolved', 'returned')
        AND t.closed_at < @before
        AND t.conversation_id IN (
            SELECT id FROM conversations
            WHERE cardinality(@phone_number_ids::text[]) = 0 OR phone_number_id = ANY (@phone_number_ids::text[])));
