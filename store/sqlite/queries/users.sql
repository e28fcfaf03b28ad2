-- Users, API tokens and sessions. Every query returning a user selects the
-- columns scanUser reads, in its order; likewise scanAPIToken and
-- scanSession.

-- name: CreateUser :one
INSERT INTO users (login, name, role, teams, password_hash, disabled, created_at, updated_at)
VALUES (@login, @name, @role, @teams, @password_hash, @disabled, @now, @now)
RETURNING id, login, name, role, teams, password_hash, disabled, created_at, updated_at;

-- name: GetUser :one
SELECT id, login, name, role, teams, password_hash, disabled, created_at, updated_at
FROM users
WHERE id = @id;

-- name: GetUserByLogin :one
SELECT id, login, name, role, teams, password_hash, disabled, created_at, updated_at
FROM users
WHERE login = @login;

-- name: ListUsers :many
SELECT id, login, name, role, teams, password_hash, disabled, created_at, updated_at
FROM users
ORDER BY login;

-- name: UpdateUser :one
UPDATE users
SET name = @name, role = @role, teams = @teams, password_hash = @password_hash,
    disabled = @disabled, updated_at = @now
WHERE id = @id
RETURNING id, login, name, role, teams, password_hash, disabled, created_at, updated_at;

-- name: CreateAPIToken :one
INSERT INTO api_tokens (user_id, name, hash, created_at)
VALUES (@user_id, @name, @hash, @now)
RETURNING id, user_id, name, hash, created_at, last_used_at, revoked_at;

-- name: ListAPITokens :many
SELECT id, user_id, name, hash, created_at, last_used_at, revoked_at
FROM api_tokens
WHERE user_id = @user_id
ORDER BY id;

-- name: RevokeAPIToken :execrows
UPDATE api_tokens
SET revoked_at = @at
WHERE id = @id AND revoked_at IS NULL;

-- name: GetValidAPIToken :one
-- The token's columns, then its user's.
SELECT t.id, t.user_id, t.name, t.hash, t.created_at, t.last_used_at, t.revoked_at,
       u.id, u.login, u.name, u.role, u.teams, u.password_hash, u.disabled, u.created_at, u.updated_at
FROM api_tokens t
JOIN users u ON u.id = t.user_id
WHERE t.hash = @hash AND t.revoked_at IS NULL;

-- name: TouchAPIToken :exec
UPDATE api_tokens
SET last_used_at = @at
WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @at);

-- name: CreateSession :exec
INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at)
VALUES (@hash, @user_id, @csrf, @created_at, @expires_at);

-- name: GetSession :one
-- The session's columns, then its user's.
SELECT s.hash, s.user_id, s.csrf, s.created_at, s.expires_at,
       u.id, u.login, u.name, u.role, u.teams, u.password_hash, u.disabled, u.created_at, u.updated_at
FROM sessions s
JOIN users u ON u.id = s.user_id
WHERE s.hash = @hash AND s.expires_at > @now;

-- name: DeleteSession :exec
DELETE FROM sessions
WHERE hash = @hash;

-- name: DeleteUserSessions :execrows
DELETE FROM sessions
WHERE user_id = @user_id;

-- name: DeleteExpiredSessions :execrows
DELETE FROM sessions
WHERE expires_at <= @now;
