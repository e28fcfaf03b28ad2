-- Turns. Every query returning a turn selects the columns that scanTurn
-- reads, in its order.

-- name: InsertTurn :one
INSERT INTO turns (conversation_id, inbound_ids, outbound_ids, intent, confidence, decision, reason,
                   trace, latency_ms)
VALUES (@conversation_id, @inbound_ids, @outbound_ids, @intent, @confidence, @decision, @reason,
        @trace, @latency_ms)
RETURNING id, conversation_id, inbound_ids, outbound_ids, intent, confidence, decision, reason,
          trace, latency_ms, created_at;

-- name: ListTurns :many
SELECT id, conversation_id, inbound_ids, outbound_ids, intent, confidence, decision, reason,
       trace, latency_ms, created_at
FROM turns
WHERE conversation_id = @conversation_id
ORDER BY id;

-- name: ListRecentTurns :many
-- The turn's columns, then the text of its inbound messages.
SELECT t.id, t.conversation_id, t.inbound_ids, t.outbound_ids, t.intent, t.confidence, t.decision, t.reason,
       t.trace, t.latency_ms, t.created_at,
       coalesce((SELECT string_agg(m.body, E'\n' ORDER BY m.id)
                 FROM messages m
                 WHERE m.id = ANY (t.inbound_ids) AND m.body <> ''), '')
FROM turns t
WHERE t.created_at >= @since
  AND (cardinality(@decisions::text[]) = 0 OR t.decision = ANY (@decisions::text[]))
ORDER BY t.id DESC
LIMIT @lim;
