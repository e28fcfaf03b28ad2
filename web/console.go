package web

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanit/yanit/store"
)

// The console: server-rendered pages for the people running the assistant,
// each behind a sign-in and a role, with a small script that calls the API
// with the session cookie and its CSRF token.

//go:embed console/*.html
var pageFiles embed.FS

//go:embed console/static
var staticFiles embed.FS

var pages = template.Must(template.ParseFS(pageFiles, "console/*.html"))

// page is what every console template reads.
type page struct {
	Title string
	Page  string // the nav entry to mark
	User  *store.User
	CSRF  string
}

func (s *Server) consoleRoutes(r gin.IRouter) {
	con := r.Group("/console", consoleHeaders())
	static, _ := fs.Sub(staticFiles, "console/static")
	con.StaticFS("/static", http.FS(static))
	con.GET("/login", s.loginPage)
	con.POST("/login", s.login)
	con.POST("/logout", s.authenticate(true), s.logout)
	signedIn := con.Group("", s.authenticate(true))
	signedIn.GET("/", consoleHome)
	signedIn.GET("/knowledge", allow(store.RoleContent), s.knowledgePage)
	signedIn.GET("/inbox", allow(store.RoleAgent), s.inboxPage)
	signedIn.GET("/campaigns", allow(), s.campaignsPage)
}

// consoleHeaders keep the pages from being framed, sniffed or made to run
// scripts from elsewhere.
func consoleHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		c.Next()
	}
}

func (s *Server) render(c *gin.Context, status int, name string, data any) {
	c.Status(status)
	c.Header("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(c.Writer, name, data); err != nil {
		s.log.Error("console: rendering "+name, slog.String("error", err.Error()))
	}
}

type loginData struct {
	page
	Next, Login, Error string
}

// safeNext keeps a sign-in's redirect on the console: a path under
// /console/ that stays there once a browser resolves its dot segments
// ("/console/../api", "/console/%2e%2e/api" leave it).
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || !strings.HasPrefix(next, "/console/") || strings.Contains(next, "\\") ||
		!strings.HasPrefix(path.Clean(u.Path)+"/", "/console/") {
		return "/console/"
	}
	return next
}

func (s *Server) loginPage(c *gin.Context) {
	s.render(c, http.StatusOK, "login.html", loginData{page: page{Title: "Sign in"}, Next: safeNext(c.Query("next"))})
}

// login answers POST /console/login: a right login and password start a
// session (the cookie) and go on to next; anything else shows the form
// again with one message that does not tell which of the two was wrong.
func (s *Server) login(c *gin.Context) {
	st, ok := s.apiStore(c)
	if !ok {
		return
	}
	login := strings.ToLower(strings.TrimSpace(c.PostForm("login")))
	data := loginData{page: page{Title: "Sign in"}, Next: safeNext(c.PostForm("next")), Login: login}
	if err := checkOrigin(c.Request); err != nil {
		writeError(c, http.StatusForbidden, err.Error())
		return
	}
	now, ip := time.Now(), c.ClientIP()
	if wait := s.signIns.attempt(login, ip, now); wait > 0 {
		data.Error = fmt.Sprintf("Too many failed sign-ins: try again in %d minutes.", int(wait.Minutes())+1)
		s.render(c, http.StatusTooManyRequests, "login.html", data)
		return
	}
	u, err := st.GetUserByLogin(c.Request.Context(), login)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.signIns.undo(login, ip, now)
		s.writeStoreError(c, "user", err)
		return
	}
	hash := u.PasswordHash
	if hash == "" {
		hash = decoyHash() // as slow as a real check: the timing tells nothing
	}
	if !CheckPassword(hash, c.PostForm("password")) || u.PasswordHash == "" || u.Disabled {
		// The attempt stays counted as a failure.
		s.log.Warn("console: sign-in refused", slog.String("login", login), slog.String("remote", ip))
		data.Error = "Wrong login or password."
		s.render(c, http.StatusUnauthorized, "login.html", data)
		return
	}
	s.signIns.succeed(login, ip, now)
	secret := randomText(32)
	sess := store.Session{Hash: secretHash(secret), UserID: u.ID, CSRF: randomText(24), CreatedAt: now, ExpiresAt: now.Add(SessionLifetime)}
	if _, err := st.DeleteExpiredSessions(c.Request.Context(), now); err != nil {
		s.log.Warn("console: removing expired sessions", slog.String("error", err.Error()))
	}
	if err := st.CreateSession(c.Request.Context(), sess); err != nil {
		s.writeStoreError(c, "session", err)
		return
	}
	s.log.Info("console: signed in", slog.String("user", u.Login), slog.String("remote", ip))
	if _, err := st.AppendAudit(c.Request.Context(), store.AuditEntry{Actor: u.Login, ActorID: u.ID, Address: ip,
		Action: "user.signed_in", Target: "user:" + strconv.FormatInt(u.ID, 10)}); err != nil {
		s.log.Error("audit: recording a sign-in", slog.String("error", err.Error()))
	}
	setSessionCookie(c, secret, sess.ExpiresAt)
	c.Redirect(http.StatusSeeOther, data.Next)
}

// logout answers POST /console/logout: the session ends here and in the
// store.
func (s *Server) logout(c *gin.Context) {
	st, ok := s.apiStore(c)
	if !ok {
		return
	}
	if sess := currentSession(c); sess != nil {
		if err := st.DeleteSession(c.Request.Context(), sess.Hash); err != nil {
			s.writeStoreError(c, "session", err)
			return
		}
	}
	setSessionCookie(c, "", time.Time{})
	c.Redirect(http.StatusSeeOther, "/console/login")
}

// pageFor fills what every page of a signed-in user shows.
func pageFor(c *gin.Context, title, name string) page {
	u := currentUser(c)
	p := page{Title: title, Page: name, User: &u}
	if sess := currentSession(c); sess != nil {
		p.CSRF = sess.CSRF
	}
	return p
}

type knowledgeData struct {
	page
	Collections       []store.KnowledgeCollection
	Documents         []documentRow
	DefaultCollection string
	NeedsReindex      bool
}

type documentRow struct {
	store.KnowledgeDocument
	Status, StatusClass string
}

// knowledgePage shows the content team's page: upload, the documents with
// their state, a search to try, and the questions that went unanswered.
func (s *Server) knowledgePage(c *gin.Context) {
	admin, ok := s.apiKnowledge(c)
	if !ok {
		return
	}
	st, _ := s.apiStore(c)
	ctx := c.Request.Context()
	cols, err := st.ListCollections(ctx)
	if err != nil {
		s.writeStoreError(c, "collections", err)
		return
	}
	docs, err := st.ListDocuments(ctx, "")
	if err != nil {
		s.writeStoreError(c, "documents", err)
		return
	}
	data := knowledgeData{page: pageFor(c, "Knowledge", "knowledge"), Collections: cols, DefaultCollection: "default"}
	if len(cols) > 0 {
		data.DefaultCollection = cols[0].Name
	}
	model := map[string]string{}
	for _, col := range cols {
		model[col.Name] = col.Model
	}
	for _, d := range docs {
		row := documentRow{KnowledgeDocument: d, Status: "indexed", StatusClass: "fresh"}
		if m := model[d.Collection]; m != admin.Model() {
			row.Status, row.StatusClass = fmt.Sprintf("indexed with %s: reindex for %s", m, admin.Model()), "stale"
			data.NeedsReindex = true
		}
		data.Documents = append(data.Documents, row)
	}
	s.render(c, http.StatusOK, "knowledge.html", data)
}
