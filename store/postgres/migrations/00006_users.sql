-- People and access: users with a role, their API tokens and their console
-- sessions. Tokens and session secrets are stored as their SHA-256 only;
-- passwords as an encoded argon2id hash. Logins compare in byte order
-- (COLLATE "C") and are lower case, so that they list in the SQLite
-- store's order.

-- +goose Up

CREATE TABLE users (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login         text        COLLATE "C" NOT NULL UNIQUE CHECK (login <> '' AND login = lower(login)),
    name          text        NOT NULL DEFAULT '',
    role          text        NOT NULL CHECK (role IN ('admin', 'agent', 'content', 'qa')),
    teams         text[]      NOT NULL DEFAULT '{}',
    password_hash text        NOT NULL DEFAULT '',
    disabled      boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id),
    name         text        NOT NULL DEFAULT '',
    hash         bytea       NOT NULL UNIQUE CHECK (length(hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE sessions (
    hash       bytea       PRIMARY KEY CHECK (length(hash) = 32),
    user_id    bigint      NOT NULL REFERENCES users (id),
    csrf       text        NOT NULL CHECK (csrf <> ''),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
