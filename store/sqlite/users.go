package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/yanit/yanit/store"
)

var (
	sqlCreateUser            = query("CreateUser")
	sqlGetUser               = query("GetUser")
	sqlGetUserByLogin        = query("GetUserByLogin")
	sqlListUsers             = query("ListUsers")
	sqlUpdateUser            = query("UpdateUser")
	sqlCreateAPIToken        = query("CreateAPIToken")
	sqlListAPITokens         = query("ListAPITokens")
	sqlRevokeAPIToken        = query("RevokeAPIToken")
	sqlGetValidAPIToken      = query("GetValidAPIToken")
	sqlTouchAPIToken         = query("TouchAPIToken")
	sqlCreateSession         = query("CreateSession")
	sqlGetSession            = query("GetSession")
	sqlDeleteSession         = query("DeleteSession")
	sqlDeleteUserSessions    = query("DeleteUserSessions")
	sqlDeleteExpiredSessions = query("DeleteExpiredSessions")
)

// textsColumn scans a JSON array of strings.
type textsColumn struct{ xs *[]string }

func (c textsColumn) Scan(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("a JSON array column holds %T", v)
	}
	*c.xs = nil
	return json.Unmarshal([]byte(s), c.xs)
}

// The destinations of a user's, a token's and a session's columns, in the
// order the queries select them; joined rows scan into both.
func userDest(u *store.User) []any {
	return []any{&u.ID, &u.Login, &u.Name, &u.Role, textsColumn{&u.Teams}, &u.PasswordHash, &u.Disabled,
		timeColumn{&u.CreatedAt}, timeColumn{&u.UpdatedAt}}
}

func tokenDest(t *store.APIToken) []any {
	return []any{&t.ID, &t.UserID, &t.Name, &t.Hash, timeColumn{&t.CreatedAt}, timeColumn{&t.LastUsedAt}, timeColumn{&t.RevokedAt}}
}

func sessionDest(s *store.Session) []any {
	return []any{&s.Hash, &s.UserID, &s.CSRF, timeColumn{&s.CreatedAt}, timeColumn{&s.ExpiresAt}}
}

func scanUser(r scanner) (store.User, error) {
	var u store.User
	err := r.Scan(userDest(&u)...)
	return u, err
}

func scanAPIToken(r scanner) (store.APIToken, error) {
	var t store.APIToken
	err := r.Scan(tokenDest(&t)...)
	return t, err
}

func userArgs(u store.User) []any {
	return []any{sql.Named("name", u.Name), sql.Named("role", u.Role), sql.Named("teams", jsonArray(u.Teams)),
		sql.Named("password_hash", u.PasswordHash), sql.Named("disabled", u.Disabled), sql.Named("now", unixMicro(now()))}
}

// CreateUser stores a new user; ErrConflict when the login is taken.
func (q queries) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	err := u.Validate()
	if err == nil {
		u, err = scanUser(q.db.QueryRowContext(ctx, sqlCreateUser, append(userArgs(u), sql.Named("login", u.Login))...))
	}
	if err != nil {
		return store.User{}, fmt.Errorf("creating user %q: %w", u.Login, interpretError(err))
	}
	return u, nil
}

// GetUser returns the user id; ErrNotFound when none.
func (q queries) GetUser(ctx context.Context, id int64) (store.User, error) {
	u, err := scanUser(q.db.QueryRowContext(ctx, sqlGetUser, sql.Named("id", id)))
	if err != nil {
		return store.User{}, fmt.Errorf("getting user %d: %w", id, interpretError(err))
	}
	return u, nil
}

// GetUserByLogin returns the user signing in as login; ErrNotFound when
// none.
func (q queries) GetUserByLogin(ctx context.Context, login string) (store.User, error) {
	u, err := scanUser(q.db.QueryRowContext(ctx, sqlGetUserByLogin, sql.Named("login", login)))
	if err != nil {
		return store.User{}, fmt.Errorf("getting user %q: %w", login, interpretError(err))
	}
	return u, nil
}

// ListUsers returns every user, by login.
func (q queries) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := q.db.QueryContext(ctx, sqlListUsers)
	us, err := collect(rows, err, scanUser)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", interpretError(err))
	}
	return us, nil
}

// UpdateUser replaces what may change of the user u.ID.
func (q queries) UpdateUser(ctx context.Context, u store.User) (store.User, error) {
	err := u.Validate()
	if err == nil {
		u, err = scanUser(q.db.QueryRowContext(ctx, sqlUpdateUser, append(userArgs(u), sql.Named("id", u.ID))...))
	}
	if err != nil {
		return store.User{}, fmt.Errorf("updating user %d: %w", u.ID, interpretError(err))
	}
	return u, nil
}

// CreateAPIToken stores a token of a user.
func (q queries) CreateAPIToken(ctx context.Context, t store.APIToken) (store.APIToken, error) {
	got, err := scanAPIToken(q.db.QueryRowContext(ctx, sqlCreateAPIToken, sql.Named("user_id", t.UserID),
		sql.Named("name", t.Name), sql.Named("hash", t.Hash), sql.Named("now", unixMicro(now()))))
	if err != nil {
		return store.APIToken{}, fmt.Errorf("creating a token of user %d: %w", t.UserID, interpretError(err))
	}
	return got, nil
}

// ListAPITokens returns a user's tokens, oldest first.
func (q queries) ListAPITokens(ctx context.Context, userID int64) ([]store.APIToken, error) {
	rows, err := q.db.QueryContext(ctx, sqlListAPITokens, sql.Named("user_id", userID))
	ts, err := collect(rows, err, scanAPIToken)
	if err != nil {
		return nil, fmt.Errorf("listing the tokens of user %d: %w", userID, interpretError(err))
	}
	return ts, nil
}

// RevokeAPIToken revokes a valid token.
func (q queries) RevokeAPIToken(ctx context.Context, id int64, at time.Time) error {
	n, err := rowsAffected(q.db.ExecContext(ctx, sqlRevokeAPIToken, sql.Named("id", id), sql.Named("at", unixMicro(at))))
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("revoking token %d: %w", id, interpretError(err))
	}
	return nil
}

// UseAPIToken finds a valid token by its hash and, when the last use
// recorded is stale, records this one.
func (q queries) UseAPIToken(ctx context.Context, hash []byte, at time.Time) (store.APIToken, store.User, error) {
	var t store.APIToken
	var u store.User
	err := q.db.QueryRowContext(ctx, sqlGetValidAPIToken, sql.Named("hash", hash)).Scan(append(tokenDest(&t), userDest(&u)...)...)
	if err == nil && (t.LastUsedAt.IsZero() || at.Sub(t.LastUsedAt) >= store.APITokenUseGranularity) {
		if _, err = q.db.ExecContext(ctx, sqlTouchAPIToken, sql.Named("id", t.ID), sql.Named("at", unixMicro(at))); err == nil {
			t.LastUsedAt = at
		}
	}
	if err != nil {
		return store.APIToken{}, store.User{}, fmt.Errorf("finding an API token: %w", interpretError(err))
	}
	return t, u, nil
}

// CreateSession stores a session.
func (q queries) CreateSession(ctx context.Context, s store.Session) error {
	_, err := q.db.ExecContext(ctx, sqlCreateSession, sql.Named("hash", s.Hash), sql.Named("user_id", s.UserID),
		sql.Named("csrf", s.CSRF), sql.Named("created_at", unixMicro(s.CreatedAt)), sql.Named("expires_at", unixMicro(s.ExpiresAt)))
	if err != nil {
		return fmt.Errorf("creating a session of user %d: %w", s.UserID, interpretError(err))
	}
	return nil
}

// GetSession returns an unexpired session and its user.
func (q queries) GetSession(ctx context.Context, hash []byte, at time.Time) (store.Session, store.User, error) {
	var s store.Session
	var u store.User
	err := q.db.QueryRowContext(ctx, sqlGetSession, sql.Named("hash", hash), sql.Named("now", unixMicro(at))).
		Scan(append(sessionDest(&s), userDest(&u)...)...)
	if err != nil {
		return store.Session{}, store.User{}, fmt.Errorf("finding a session: %w", interpretError(err))
	}
	return s, u, nil
}

// DeleteSession ends a session, if it exists.
func (q queries) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := q.db.ExecContext(ctx, sqlDeleteSession, sql.Named("hash", hash)); err != nil {
		return fmt.Errorf("deleting a session: %w", interpretError(err))
	}
	return nil
}

// DeleteUserSessions ends every session of a user.
func (q queries) DeleteUserSessions(ctx context.Context, userID int64) (int64, error) {
	n, err := rowsAffected(q.db.ExecContext(ctx, sqlDeleteUserSessions, sql.Named("user_id", userID)))
	if err != nil {
		return 0, fmt.Errorf("deleting the sessions of user %d: %w", userID, interpretError(err))
	}
	return n, nil
}

// DeleteExpiredSessions removes the sessions expired at now.
func (q queries) DeleteExpiredSessions(ctx context.Context, at time.Time) (int64, error) {
	n, err := rowsAffected(q.db.ExecContext(ctx, sqlDeleteExpiredSessions, sql.Named("now", unixMicro(at))))
	if err != nil {
		return 0, fmt.Errorf("deleting expired sessions: %w", interpretError(err))
	}
	return n, nil
}
