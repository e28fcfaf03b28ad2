-- Tool sets. Every query returning a tool set selects the columns that
-- scanToolSet reads, in its order.

-- name: PutToolSet :one
-- A name stored before keeps its created_at; its body and updated_at are
-- replaced.
INSERT INTO tool_sets (name, body, created_at, updated_at)
VALUES (@name, @body, @now, @now)
ON CONFLICT (name) DO UPDATE
SET body = excluded.body, updated_at = excluded.updated_at
RETURNING name, body, created_at, updated_at;

-- name: ListToolSets :many
SELECT name, body, created_at, updated_at
FROM tool_sets
ORDER BY name;

-- name: DeleteToolSet :execrows
DELETE FROM tool_sets
WHERE name = @name;
