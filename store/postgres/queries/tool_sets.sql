-- Tool sets. Every query returning a tool set selects the columns that
-- scanToolSet reads, in its order.

-- name: PutToolSet :one
-- A name stored before keeps its created_at; its body and updated_at are
-- replaced.
INSERT INTO tool_sets (name, body)
VALUES (@name, @body)
ON CONFLICT (name) DO UPDATE
SET body = excluded.body, updated_at = now()
RETURNING name, body, created_at, updated_at;

-- name: ListToolSets :many
-- By name, in byte order: the column's collation is "C".
SELECT name, body, created_at, updated_at
FROM tool_sets
ORDER BY name;

-- name: DeleteToolSet :execrows
DELETE FROM tool_sets
WHERE name = @name;
