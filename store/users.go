package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The roles of the people using yanit. Every API route and console page
// names the roles it lets through; admin passes every check.
const (
	RoleAdmin   = "admin"   // everything, including users and configuration
	RoleAgent   = "agent"   // the inbox of their teams
	RoleContent = "content" // the knowledge base
	RoleQA      = "qa"      // evaluation suites and the conversations' traces
)

// Roles lists every role, for validation and help texts.
var Roles = []string{RoleAdmin, RoleAgent, RoleContent, RoleQA}

// User is a person who signs in to the console or holds API tokens.
type User struct {
	ID int64
	// Login is the name typed at sign-in: lower case, unique.
	Login string
	Name  string
	Role  string
	// Teams are the inbox teams of an agent.
	Teams []string
	// PasswordHash is the encoded password hash (argon2id); empty means
	// the user cannot sign in with a password (API tokens only).
	PasswordHash string
	// Disabled users can neither sign in nor use their tokens.
	Disabled  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate reports what makes u unfit to be stored: a login that is empty,
// not lower case, or holds other than letters, digits and ".-_@"; an
// unknown role; an empty team name.
func (u User) Validate() error {
	switch {
	case u.Login == "":
		return errors.New("the login is empty")
	case u.Login != strings.ToLower(u.Login):
		return fmt.Errorf("login %q: must be lower case", u.Login)
	case strings.IndexFunc(u.Login, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_@", r))
	}) >= 0:
		return fmt.Errorf("login %q: only letters a-z, digits and . - _ @ are allowed", u.Login)
	case len(u.Login) > 100:
		return fmt.Errorf("login %q: longer than 100 characters", u.Login)
	case !slices.Contains(Roles, u.Role):
		return fmt.Errorf("user %q: role %q, want one of %s", u.Login, u.Role, strings.Join(Roles, ", "))
	case slices.Contains(u.Teams, ""):
		return fmt.Errorf("user %q: a team name is empty", u.Login)
	}
	return nil
}

// APIToken is a bearer token of a user, for integrations. Only the SHA-256
// of the token is stored: the token itself is shown once, when made.
type APIToken struct {
	ID     int64
	UserID int64
	// Name says what the token is for ("crm sync").
	Name       string
	Hash       []byte // SHA-256 of the token
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until first used
	RevokedAt  time.Time // zero while valid
}

// APITokenUseGranularity is how stale an API token's last use may be
// before UseAPIToken records a new one.
const APITokenUseGranularity = time.Minute

// Session is a signed-in console session. The cookie holds the session's
// secret; only its SHA-256 (Hash) is stored.
type Session struct {
	Hash   []byte
	UserID int64
	// CSRF is the token the console's pages send back in a header with
	// every change they ask for.
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Users keeps the people who use yanit, their API tokens and their
// console sessions.
type Users interface {
	// CreateUser stores a new user (ID, CreatedAt and UpdatedAt are set by
	// the store); ErrConflict when the login is taken. u must pass Validate.
	CreateUser(ctx context.Context, u User) (User, error)
	// GetUser and GetUserByLogin return a user; ErrNotFound when none.
	GetUser(ctx context.Context, id int64) (User, error)
	GetUserByLogin(ctx context.Context, login string) (User, error)
	// ListUsers returns every user, by login.
	ListUsers(ctx context.Context) ([]User, error)
	// UpdateUser replaces the name, role, teams, password hash and the
	// disabled flag of the user u.ID; ErrNotFound when none. u is the whole
	// user, as GetUser returned it with the changes made, and must pass
	// Validate; its login is not changed.
	UpdateUser(ctx context.Context, u User) (User, error)

	// CreateAPIToken stores a token of a user (ID and CreatedAt are set);
	// ErrNotFound when the user does not exist.
	CreateAPIToken(ctx context.Context, t APIToken) (APIToken, error)
	// ListAPITokens returns a user's tokens, revoked ones included, oldest
	// first.
	ListAPITokens(ctx context.Context, userID int64) ([]APIToken, error)
	// RevokeAPIToken revokes a token from at on; ErrNotFound when it does
	// not exist or is revoked already.
	RevokeAPIToken(ctx context.Context, id int64, at time.Time) error
	// UseAPIToken finds the valid (not revoked) token with the hash and
	// returns it with its user (who may be disabled: the caller checks);
	// ErrNotFound when there is none. It records at as the token's last
	// use when the recorded one is older than APITokenUseGranularity, so
	// that a busy integration does not write on every request.
	UseAPIToken(ctx context.Context, hash []byte, at time.Time) (APIToken, User, error)

	// CreateSession stores a session; ErrNotFound when the user does not
	// exist.
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns the session with the hash, unexpired at now, and
	// its user (who may be disabled: the caller checks); ErrNotFound when
	// there is none or it expired.
	GetSession(ctx context.Context, hash []byte, now time.Time) (Session, User, error)
	// DeleteSession ends a session; ending one that does not exist is not
	// an error (sign-out is idempotent).
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteUserSessions ends every session of a user (after a password
	// change or when the user is disabled), reporting how many.
	DeleteUserSessions(ctx context.Context, userID int64) (int64, error)
	// DeleteExpiredSessions removes the sessions expired at now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
}
