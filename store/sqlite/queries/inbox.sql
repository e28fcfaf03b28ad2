-- Tickets and their events. Every query returning a ticket selects the
-- columns scanTicket reads, in its order.

-- name: InsertTicket :one
-- Nothing when the conversation has an open ticket (tickets_one_open).
INSERT INTO tickets (conversation_id, contact_id, team, priority, reason, pack, created_at, updated_at)
VALUES (@conversation_id, @contact_id, @team, @priority, @reason, @pack, @now, @now)
ON CONFLICT (conversation_id) WHERE status IN ('queued', 'assigned') DO NOTHING
RETURNING id, conversation_id, contact_id, status, team, priority, reason, pack, assignee_id,
          created_at, assigned_at, first_reply_at, closed_at, updated_at, csat;

-- name: GetTicket :one
SELECT id, conversation_id, contact_id, status, team, priority, reason, pack, assignee_id,
       created_at, assigned_at, first_reply_at, closed_at, updated_at, csat
FROM tickets
WHERE id = @id;

-- name: OpenTicketOf :one
SELECT id, conversation_id, contact_id, status, team, priority, reason, pack, assignee_id,
       created_at, assigned_at, first_reply_at, closed_at, updated_at, csat
FROM tickets
WHERE conversation_id = @conversation_id AND status IN ('queued', 'assigned');

-- name: ListTickets :many
SELECT id, conversation_id, contact_id, status, team, priority, reason, pack, assignee_id,
       created_at, assigned_at, first_reply_at, closed_at, updated_at, csat
FROM tickets
WHERE (@statuses = '[]' OR status IN (SELECT value FROM json_each(@statuses)))
  AND (@teams = '[]' OR team IN (SELECT value FROM json_each(@teams)))
  AND (@assignee_id = 0 OR assignee_id = @assignee_id)
  AND (@conversation_id = 0 OR conversation_id = @conversation_id)
  AND (@contact_id = 0 OR contact_id = @contact_id)
ORDER BY CASE WHEN @newest THEN 0 ELSE priority END DESC,
         CASE WHEN @newest THEN -id ELSE id END
LIMIT @lim;

-- name: ClaimTicket :one
-- Only a queued ticket: writers take the database's lock one at a time,
-- so of racing claims the first wins and the others update nothing.
UPDATE tickets
SET status = 'assigned', assignee_id = @user_id, assigned_at = @at, updated_at = @at
WHERE id = @id AND status = 'queued'
RETURNING id, conversation_id, contact_id, status, team, priority, reason, pack, assignee_id,
          created_at, assigned_at, first_reply_at, closed_at, updated_at, csat;

-- name: TransferTicket :one
UPDATE tickets
SET team = @team,
    status = CASE WHEN @assignee_id = 0 THEN 'queued' ELSE 'assigned' END,
    assignee_id = nullif(@assignee_id, 0),
    assigned_at = CASE WHEN @assignee_id = 0 THEN NULL ELSE @at END,
    updated_at = @at
WHERE id = @id AND status IN ('queued', 'assigned')
RETURNING id, conversation_id, contact_id, status, team, priority, reason, pack, assignee_id,
          created_at, assigned_at, first_reply_at, closed_at, updated_at, csat;

-- name: CloseTicket :one
UPDATE tickets
SET status = @status, closed_at = @at, updated_at = @at
WHERE id = @id AND status IN ('queued', 'assigned')
RETURNING id, conversation_id, contact_id, status, team, priority, reason, pack, assignee_id,
          created_at, assigned_at, first_reply_at, closed_at, updated_at, csat;

-- name: RecordFirstReply :execrows
UPDATE tickets
SET first_reply_at = coalesce(first_reply_at, @at), updated_at = @at
WHERE id = @id;

-- name: SetTicketCSAT :execrows
UPDATE tickets
SET csat = @score, updated_at = @now
WHERE id = @id AND status IN ('resolved', 'returned');

-- name: AddTicketEvent :one
INSERT INTO ticket_events (ticket_id, user_id, kind, data, created_at)
VALUES (@ticket_id, nullif(@user_id, 0), @kind, @data, @now)
RETURNING id, ticket_id, coalesce(user_id, 0), kind, data, created_at;

-- name: ListTicketEvents :many
SELECT id, ticket_id, coalesce(user_id, 0), kind, data, created_at
FROM ticket_events
WHERE ticket_id = @ticket_id
ORDER BY id;

-- name: TouchPresence :exec
INSERT INTO agent_presence (user_id, seen_at)
VALUES (@user_id, @at)
ON CONFLICT (user_id) DO UPDATE
SET seen_at = max(agent_presence.seen_at, excluded.seen_at);

-- name: OnlineAgents :many
-- Active agents (and admins) of the team, or every one for the default
-- team, seen since @since, with their open tickets and last assignment.
SELECT u.id, u.login, u.name, u.role, u.teams, u.password_hash, u.disabled, u.created_at, u.updated_at,
       (SELECT count(*) FROM tickets t WHERE t.assignee_id = u.id AND t.status = 'assigned'),
       (SELECT max(t.assigned_at) FROM tickets t WHERE t.assignee_id = u.id)
FROM agent_presence p
JOIN users u ON u.id = p.user_id
WHERE p.seen_at >= @since AND u.disabled = 0 AND u.role IN ('agent', 'admin')
  AND (@team = '' OR EXISTS (SELECT 1 FROM json_each(u.teams) WHERE value = @team))
ORDER BY u.id;
