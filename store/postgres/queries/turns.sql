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
