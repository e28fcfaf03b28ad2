package postgres

import (
	"context"
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

// The destinations of a user's, a token's and a session's columns, in the
// order the queries select them; joined rows scan into both.
func userDest(u *store.User) []any {
	return []any{&u.ID, &u.Login, &u.Name, &u.Role, &u.Teams, &u.PasswordHash, &u.Disabled,
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

func userArgs(u store.User) args {
	return args{"name": u.Name, "role": u.Role, "teams": texts(u.Teams), "password_hash": u.PasswordHash, "disabled": u.Disabled}
}

// CreateUser stores a new user; ErrConflict when the login is taken.
func (q queries) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	err := u.Validate()
	if err == nil {
		a := userArgs(u)
		a["login"] = u.Login
		u, err = scanUser(q.db.QueryRow(ctx, sqlCreateUser, a))
	}
	if err != nil {
		return store.User{}, fmt.Errorf("creating user %q: %w", u.Login, interpretError(err))
	}
	return u, nil
}

// GetUser returns the user id; ErrNotFound when none.
func (q queries) GetUser(ctx context.Context, id int64) (store.User, error) {
	u, err := scanUser(q.db.QueryRow(ctx, sqlGetUser, args{"id": id}))
	if err != nil {
		return store.User{}, fmt.Errorf("getting user %d: %w", id, interpretError(err))
	}
	return u, nil
}

// GetUserByLogin returns the user signing in as login; ErrNotFound when
// none.
func (q queries) GetUserByLogin(ctx context.Context, login string) (store.User, error) {
	u, err := scanUser(q.db.QueryRow(ctx, sqlGetUserByLogin, args{"login": login}))
	if err != nil {
		return store.User{}, fmt.Errorf("getting user %q: %w", login, interpretError(err))
	}
	return u, nil
}

// ListUsers returns every user, by login.
func (q queries) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := q.db.Query(ctx, sqlListUsers)
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
		a := userArgs(u)
		a["id"] = u.ID
		u, err = scanUser(q.db.QueryRow(ctx, sqlUpdateUser, a))
	}
	if err != nil {
		return store.User{}, fmt.Errorf("updating user %d: %w", u.ID, interpretError(err))
	}
	return u, nil
}

// CreateAPIToken stores a token of a user.
func (q queries) CreateAPIToken(ctx context.Context, t store.APIToken) (store.APIToken, error) {
	got, err := scanAPIToken(q.db.QueryRow(ctx, sqlCreateAPIToken, args{"user_id": t.UserID, "name": t.Name, "hash": t.Hash}))
	if err != nil {
		return store.APIToken{}, fmt.Errorf("creating a token of user %d: %w", t.UserID, interpretError(err))
	}
	return got, nil
}

// ListAPITokens returns a user's tokens, oldest first.
func (q queries) ListAPITokens(ctx context.Context, userID int64) ([]store.APIToken, error) {
	rows, err := q.db.Query(ctx, sqlListAPITokens, args{"user_id": userID})
	ts, err := collect(rows, err, scanAPIToken)
	if err != nil {
		return nil, fmt.Errorf("listing the tokens of user %d: %w", userID, interpretError(err))
	}
	return ts, nil
}

// RevokeAPIToken revokes a valid token.
func (q queries) RevokeAPIToken(ctx context.Context, id int64, at time.Time) error {
	tag, err := q.db.Exec(ctx, sqlRevokeAPIToken, args{"id": id, "at": at})
	if err == nil && tag.RowsAffected() == 0 {
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
	err := q.db.QueryRow(ctx, sqlGetValidAPIToken, args{"hash": hash}).Scan(append(tokenDest(&t), userDest(&u)...)...)
	if err == nil && (t.LastUsedAt.IsZero() || at.Sub(t.LastUsedAt) >= store.APITokenUseGranularity) {
		if _, err = q.db.Exec(ctx, sqlTouchAPIToken, args{"id": t.ID, "at": at}); err == nil {
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
	_, err := q.db.Exec(ctx, sqlCreateSession, args{"hash": s.Hash, "user_id": s.UserID, "csrf": s.CSRF,
		"created_at": s.CreatedAt, "expires_at": s.ExpiresAt})
	if err != nil {
		return fmt.Errorf("creating a session of user %d: %w", s.UserID, interpretError(err))
	}
	return nil
}

// GetSession returns an unexpired session and its user.
func (q queries) GetSession(ctx context.Context, hash []byte, now time.Time) (store.Session, store.User, error) {
	var s store.Session
	var u store.User
	if err := q.db.QueryRow(ctx, sqlGetSession, args{"hash": hash, "now": now}).Scan(append(sessionDest(&s), userDest(&u)...)...); err != nil {
		return store.Session{}, store.User{}, fmt.Errorf("finding a session: %w", interpretError(err))
	}
	return s, u, nil
}

// DeleteSession ends a session, if it exists.
func (q queries) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := q.db.Exec(ctx, sqlDeleteSession, args{"hash": hash}); err != nil {
		return fmt.Errorf("deleting a session: %w", interpretError(err))
	}
	return nil
}

// DeleteUserSessions ends every session of a user.
func (q queries) DeleteUserSessions(ctx context.Context, userID int64) (int64, error) {
	tag, err := q.db.Exec(ctx, sqlDeleteUserSessions, args{"user_id": userID})
	if err != nil {
		return 0, fmt.Errorf("deleting the sessions of user %d: %w", userID, interpretError(err))
	}
	return tag.RowsAffected(), nil
}

// DeleteExpiredSessions removes the sessions expired at now.
func (q queries) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	tag, err := q.db.Exec(ctx, sqlDeleteExpiredSessions, args{"now": now})
	if err != nil {
		return 0, fmt.Errorf("deleting expired sessions: %w", interpretError(err))
	}
	return tag.RowsAffected(), nil
}
