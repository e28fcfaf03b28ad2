package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/argon2"

	"github.com/yanit/yanit/store"
)

// Who may do what. A request proves who it comes from with an API token
// (Authorization: Bearer, for integrations) or with the console's session
// cookie; every route then names the roles it lets through, and admin
// passes every check. Changes asked with a session cookie must also carry
// the session's CSRF token in the X-CSRF-Token header (or the csrf form
// field) and, when the browser sends one, an Origin of this server.

const (
	// SessionCookie names the console's session cookie.
	SessionCookie = "yanit_session"
	// SessionLifetime is how long a console session lasts after sign-in.
	SessionLifetime = 12 * time.Hour
	// CSRFHeader carries the session's CSRF token on console changes.
	CSRFHeader = "X-CSRF-Token"
	// TokenPrefix starts every API token, so that a leaked one is easy to
	// recognise in logs and by secret scanners.
	TokenPrefix = "yanit_"

	// MinPasswordLength and MaxPasswordLength bound a password.
	MinPasswordLength = 10
	MaxPasswordLength = 256
)

// The argon2id parameters: OWASP's choice of 19 MiB and two passes, about
// 30 ms per hash on this kind of machine. They are part of every encoded
// hash, so raising them later leaves older hashes verifiable.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// HashPassword returns the encoded argon2id hash of password, in the PHC
// string format ($argon2id$v=19$m=…,t=…,p=…$salt$key).
func HashPassword(password string) (string, error) {
	if err := checkPasswordRules(password); err != nil {
		return "", err
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hashing a password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// checkPasswordRules reports what makes a new password unfit.
func checkPasswordRules(password string) error {
	switch n := len([]rune(password)); {
	case n < MinPasswordLength:
		return fmt.Errorf("the password is %d characters long, want at least %d", n, MinPasswordLength)
	case len(password) > MaxPasswordLength:
		return fmt.Errorf("the password is longer than %d bytes", MaxPasswordLength)
	}
	return nil
}

// CheckPassword reports whether password matches the encoded hash. An
// empty or malformed hash matches nothing.
func CheckPassword(encoded, password string) bool {
	var version int
	var memory uint32
	var time uint32
	var threads uint8
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &time, &threads); err != nil ||
		memory < 8 || memory > 1<<22 || time < 1 || time > 100 || threads < 1 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 || len(key) > 128 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, time, memory, threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// decoyHash is checked when a sign-in names an unknown user, so that the
// answer takes as long as for a known one.
var decoyHash = sync.OnceValue(func() string {
	h, err := HashPassword("decoy password, never matches anything")
	if err != nil {
		panic(err)
	}
	return h
})

// NewAPIToken returns a new API token, shown to its owner once, and the
// hash the store keeps.
func NewAPIToken() (token string, hash []byte) {
	token = TokenPrefix + randomText(32)
	return token, secretHash(token)
}

// randomText returns n random bytes, base64url-encoded.
func randomText(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error()) // never fails on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// secretHash is the stored form of a token or a session secret: they are
// random and long, so a plain SHA-256 is enough.
func secretHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// principal is who a request comes from.
type principal struct {
	user    store.User
	session *store.Session // nil for an API token
}

const principalKey = "yanit.principal"

// currentUser returns the user authenticate found.
func currentUser(c *gin.Context) store.User {
	p, _ := c.Get(principalKey)
	return p.(*principal).user
}

// currentSession returns the console session of the request, nil for an
// API token.
func currentSession(c *gin.Context) *store.Session {
	p, _ := c.Get(principalKey)
	return p.(*principal).session
}

// authenticate finds who a request comes from, by its bearer token or its
// session cookie. Without either, API routes answer 401 and pages send the
// browser to the sign-in page.
func (s *Server) authenticate(page bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		st, ok := s.apiStore(c)
		if !ok {
			return
		}
		refuse := func(status int, msg string) {
			if page && status == http.StatusUnauthorized {
				c.Redirect(http.StatusSeeOther, "/console/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
				c.Abort()
				return
			}
			if status == http.StatusUnauthorized {
				c.Header("WWW-Authenticate", `Bearer realm="yanit"`)
			}
			writeError(c, status, msg)
		}
		now := time.Now()
		var p principal
		if h := c.GetHeader("Authorization"); h != "" {
			scheme, token, _ := strings.Cut(h, " ")
			token = strings.TrimSpace(token)
			if !strings.EqualFold(scheme, "Bearer") || token == "" {
				refuse(http.StatusUnauthorized, "the Authorization header must be: Bearer followed by an API token (yanit users token)")
				return
			}
			_, u, err := st.UseAPIToken(c.Request.Context(), secretHash(token), now)
			if errors.Is(err, store.ErrNotFound) {
				s.log.Warn("api request refused: unknown or revoked token", slog.String("route", c.FullPath()), slog.String("remote", c.ClientIP()))
				refuse(http.StatusUnauthorized, "invalid API token: unknown or revoked")
				return
			}
			if err != nil {
				s.writeStoreError(c, "token", err)
				return
			}
			p.user = u
		} else if cookie, err := c.Cookie(SessionCookie); err == nil && cookie != "" {
			sess, u, err := st.GetSession(c.Request.Context(), secretHash(cookie), now)
			if errors.Is(err, store.ErrNotFound) {
				refuse(http.StatusUnauthorized, "the session expired or was ended: sign in again")
				return
			}
			if err != nil {
				s.writeStoreError(c, "session", err)
				return
			}
			if unsafeMethod(c.Request.Method) {
				if err := checkCSRF(c, sess.CSRF); err != nil {
					writeError(c, http.StatusForbidden, err.Error())
					return
				}
			}
			p.user, p.session = u, &sess
		} else {
			refuse(http.StatusUnauthorized, "sign in first: send Authorization: Bearer with an API token, or the console's session cookie")
			return
		}
		if p.user.Disabled {
			refuse(http.StatusForbidden, fmt.Sprintf("user %q is disabled", p.user.Login))
			return
		}
		c.Set(principalKey, &p)
		c.Next()
	}
}

// allow lets through the users with one of roles, and admins.
func allow(roles ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		u := currentUser(c)
		if u.Role == store.RoleAdmin || slices.Contains(roles, u.Role) {
			c.Next()
			return
		}
		writeError(c, http.StatusForbidden, fmt.Sprintf("this needs the role %s; user %q has the role %s",
			strings.Join(append(roles, store.RoleAdmin), " or "), u.Login, u.Role))
	}
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// checkCSRF checks a change asked by a browser: the session's CSRF token
// in the header or the form, and an Origin of this host when sent.
func checkCSRF(c *gin.Context, want string) error {
	if err := checkOrigin(c.Request); err != nil {
		return err
	}
	got := c.GetHeader(CSRFHeader)
	if got == "" && strings.HasPrefix(c.ContentType(), "application/x-www-form-urlencoded") {
		got = c.PostForm("csrf")
	}
	if got == "" {
		return errors.New("missing CSRF token: send the session's token in the " + CSRFHeader + " header")
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errors.New("wrong CSRF token")
	}
	return nil
}

// checkOrigin refuses a request a browser sent from another site.
func checkOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host != r.Host {
		return fmt.Errorf("cross-site request refused: Origin %q is not this server", origin)
	}
	return nil
}

// setSessionCookie sets or, with an empty value, clears the session cookie:
// HTTP-only, same-site strict, and Secure unless the request came over
// plain HTTP to a loopback address (yanit dev on a laptop).
func setSessionCookie(c *gin.Context, value string, expires time.Time) {
	maxAge := int(time.Until(expires).Seconds())
	if value == "" {
		maxAge = -1
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: SessionCookie, Value: value, Path: "/", MaxAge: maxAge, Expires: expires,
		HttpOnly: true, Secure: !plainLoopback(c.Request), SameSite: http.SameSiteStrictMode,
	})
}

func plainLoopback(r *http.Request) bool {
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return false
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// signInLimiter slows down password guessing: after maxFailures failed
// sign-ins for one login, or maxFailures*4 from one address, within
// window, further attempts are refused until the window has passed. An
// attempt counts as a failure from its start until it succeeds, so that
// guesses sent in parallel cannot outrun the count.
type signInLimiter struct {
	mu       sync.Mutex
	failures map[string][]time.Time
	sweepAt  int // sweep every key when the map grows past this
}

const (
	signInMaxFailures = 5
	signInWindow      = 15 * time.Minute
	signInMinSweep    = 1024
)

func (l *signInLimiter) keys(login, ip string) map[string]int {
	return map[string]int{"login:" + login: signInMaxFailures, "ip:" + ip: 4 * signInMaxFailures}
}

// attempt starts a sign-in of login from ip at now: it reports how long
// sign-ins stay refused, or, when they are not, counts the attempt as a
// failure until succeed or undo takes it back.
func (l *signInLimiter) attempt(login, ip string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failures == nil {
		l.failures = map[string][]time.Time{}
	}
	l.sweep(now)
	var wait time.Duration
	for k, limit := range l.keys(login, ip) {
		fs := l.recent(k, now)
		if len(fs) >= limit {
			wait = max(wait, fs[0].Add(signInWindow).Sub(now))
		}
	}
	if wait > 0 {
		return wait
	}
	for k := range l.keys(login, ip) {
		l.failures[k] = append(l.failures[k], now)
	}
	return 0
}

// succeed forgets the failures of login after a right password, and the
// attempt at as a failure of ip.
func (l *signInLimiter) succeed(login, ip string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, "login:"+login)
	l.remove("ip:"+ip, at)
}

// undo takes back the attempt at, which ended for another reason than a
// wrong password (the store failed).
func (l *signInLimiter) undo(login, ip string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k := range l.keys(login, ip) {
		l.remove(k, at)
	}
}

// remove drops one failure of k at at (l.mu held).
func (l *signInLimiter) remove(k string, at time.Time) {
	fs := l.failures[k]
	if i := slices.IndexFunc(fs, at.Equal); i >= 0 {
		fs = slices.Delete(fs, i, i+1)
	}
	if len(fs) == 0 {
		delete(l.failures, k)
		return
	}
	l.failures[k] = fs
}

// sweep drops every key without recent failures once the map has grown,
// so that logins and addresses seen once do not pile up (l.mu held).
func (l *signInLimiter) sweep(now time.Time) {
	if len(l.failures) < max(l.sweepAt, signInMinSweep) {
		return
	}
	for k := range l.failures {
		l.recent(k, now)
	}
	l.sweepAt = 2 * len(l.failures)
}

// recent drops the failures of k older than the window (l.mu held).
func (l *signInLimiter) recent(k string, now time.Time) []time.Time {
	fs := l.failures[k]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= signInWindow {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(l.failures, k)
		return nil
	}
	l.failures[k] = fs
	return fs
}
