package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yanit/yanit/inbox"
	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/llm/local"
	"github.com/yanit/yanit/store"
)

// newTestKnowledge is the stored index of st with the local embedder,
// as yanit dev attaches it.
func newTestKnowledge(st store.Store) *knowledge.Stored {
	e := local.NewEmbedder(local.DefaultEmbeddingDim)
	return knowledge.NewStored(st, e, local.EmbeddingModel, local.DefaultEmbeddingDim, knowledge.EmbedOptions{})
}

// consoleServer serves the routes with st and the stored knowledge index attached,
// and returns the base URL and the server log.
func consoleServer(t *testing.T, st store.Store) (string, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	s, err := NewServer(Options{Registry: prometheus.NewRegistry(),
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	s.SetBackend(Backend{Store: st, Knowledge: newTestKnowledge(st), Inbox: inbox.NewService(st, inbox.NewLocalBus(), inbox.Options{})})
	return httpServer(t, s), logs
}

// addPerson stores a user of the role who signs in with password ("": no
// password); change, if any, edits the user before it is stored.
func addPerson(t *testing.T, st store.Store, login, role, password string, change func(*store.User)) store.User {
	t.Helper()
	u := store.User{Login: login, Name: login, Role: role}
	if password != "" {
		var err error
		if u.PasswordHash, err = HashPassword(password); err != nil {
			t.Fatal(err)
		}
	}
	if change != nil {
		change(&u)
	}
	u, err := st.CreateUser(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// browser is a client with a cookie jar that does not follow redirects,
// so that tests see them.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: base, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// pageResponse is one answer to the browser.
type pageResponse struct {
	code    int
	header  http.Header
	cookies []*http.Cookie // set by this answer
	body    string
}

// do sends a request; header, if any, adds its headers.
func (b *browser) do(method, path string, body io.Reader, header http.Header) pageResponse {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return pageResponse{code: res.StatusCode, header: res.Header, cookies: res.Cookies(), body: string(data)}
}

func (b *browser) get(path string) pageResponse {
	b.t.Helper()
	return b.do(http.MethodGet, path, nil, nil)
}

// postForm posts the form fields; header, if any, adds its headers.
func (b *browser) postForm(path string, form url.Values, header http.Header) pageResponse {
	b.t.Helper()
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	for k, vs := range header {
		h[k] = vs
	}
	return b.do(http.MethodPost, path, strings.NewReader(form.Encode()), h)
}

// signIn posts the sign-in form.
func (b *browser) signIn(login, password, next string, header http.Header) pageResponse {
	b.t.Helper()
	return b.postForm("/console/login", url.Values{"login": {login}, "password": {password}, "next": {next}}, header)
}

// sessionCookie returns the session cookie the browser holds, or nil.
func (b *browser) sessionCookie() *http.Cookie {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == SessionCookie {
			return c
		}
	}
	return nil
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

// csrf reads the session's CSRF token off the knowledge page.
func (b *browser) csrf() string {
	b.t.Helper()
	r := b.get("/console/knowledge")
	m := csrfMeta.FindStringSubmatch(r.body)
	if r.code != http.StatusOK || m == nil {
		b.t.Fatalf("knowledge page: %d, want 200 with the CSRF token in a meta tag:\n%s", r.code, r.body)
	}
	return m[1]
}

// sessionCookieOf returns the session cookie an answer sets, or nil.
func sessionCookieOf(r pageResponse) *http.Cookie {
	for _, c := range r.cookies {
		if c.Name == SessionCookie {
			return c
		}
	}
	return nil
}

// upload is a multipart upload of one Markdown file to the collection
// default.
func upload(t *testing.T, name, text string) (io.Reader, string) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if err := w.WriteField("collection", "default"); err != nil {
		t.Fatal(err)
	}
	f, err := w.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte(text))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &body, w.FormDataContentType()
}

const consolePassword = "kirmizi-elma-42"

// TestConsoleSession walks a content editor through the console: sent to
// sign in, signed in with a cookie only the browser holds, changes refused
// without the session's CSRF token or from another site, signed out with
// the cookie worthless afterwards.
func TestConsoleSession(t *testing.T) {
	for name, open := range apiStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			ctx := context.Background()
			addPerson(t, st, "ayse", store.RoleContent, consolePassword, nil)
			base, logs := consoleServer(t, st)
			b := newBrowser(t, base)

			// Without a session, pages send the browser to sign in, and
			// carry the security headers either way.
			r := b.get("/console/knowledge")
			if r.code != http.StatusSeeOther || r.header.Get("Location") != "/console/login?next=%2Fconsole%2Fknowledge" {
				t.Fatalf("knowledge page without a session: %d, Location %q; want 303 to the sign-in page with next",
					r.code, r.header.Get("Location"))
			}
			login := b.get("/console/login?next=%2Fconsole%2Fknowledge")
			for _, r := range []pageResponse{r, login} {
				if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") ||
					!strings.Contains(csp, "frame-ancestors 'none'") || r.header.Get("X-Frame-Options") != "DENY" {
					t.Errorf("%d answer: CSP %q, X-Frame-Options %q; want a self-only CSP and DENY", r.code, csp, r.header.Get("X-Frame-Options"))
				}
			}
			if login.code != http.StatusOK || !strings.Contains(login.body, `name="next" value="/console/knowledge"`) {
				t.Fatalf("sign-in page: %d, want the form carrying next:\n%s", login.code, login.body)
			}

			// Signing in goes on to next with a cookie scripts cannot read.
			r = b.signIn("Ayse ", consolePassword, "/console/knowledge", nil)
			if r.code != http.StatusSeeOther || r.header.Get("Location") != "/console/knowledge" {
				t.Fatalf("sign-in: %d, Location %q; want 303 to /console/knowledge\n%s", r.code, r.header.Get("Location"), r.body)
			}
			c := sessionCookieOf(r)
			if c == nil || c.Value == "" {
				t.Fatalf("sign-in set no session cookie: %v", r.cookies)
			}
			if e, err := st.ListAudit(ctx, store.AuditFilter{Action: "user.signed_in"}); err != nil || len(e) != 1 || e[0].Actor != "ayse" || e[0].Address == "" {
				t.Errorf("audit after signing in: %+v %v, want ayse's sign-in with her address", e, err)
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || c.Path != "/" {
				t.Errorf("session cookie %s: want HttpOnly, SameSite=Strict, Path=/, not Secure over plain loopback HTTP", c)
			}
			if c.MaxAge <= int((SessionLifetime - time.Minute).Seconds()) {
				t.Errorf("session cookie Max-Age %d, want about %s", c.MaxAge, SessionLifetime)
			}
			// The store holds the secret's hash, never the secret.
			if _, _, err := st.GetSession(ctx, []byte(c.Value), time.Now()); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the store finds a session by the cookie's raw value (err %v): it must hold only its hash", err)
			}
			sess, u, err := st.GetSession(ctx, secretHash(c.Value), time.Now())
			if err != nil || u.Login != "ayse" || bytes.Contains(sess.Hash, []byte(c.Value)) {
				t.Fatalf("session by the cookie's hash: %+v of %q, %v; want ayse's", sess, u.Login, err)
			}
			if strings.Contains(logs.String(), c.Value) || strings.Contains(logs.String(), consolePassword) {
				t.Errorf("the session secret or the password reached the log:\n%s", logs.String())
			}

			// The page and the API answer the cookie.
			token := b.csrf()
			if token != sess.CSRF {
				t.Errorf("page CSRF token %q, want the session's", token)
			}
			if r := b.get("/api/v1/knowledge/collections"); r.code != http.StatusOK {
				t.Errorf("collections with the session: %d %s, want 200", r.code, r.body)
			}

			// Changes need the session's CSRF token, from this site.
			for _, c := range []struct {
				name    string
				header  http.Header
				wantErr string
			}{
				{"no token", nil, "missing CSRF token"},
				{"wrong token", http.Header{CSRFHeader: {token + "x"}}, "wrong CSRF token"},
				{"token of another session", http.Header{CSRFHeader: {randomText(24)}}, "wrong CSRF token"},
				{"other site", http.Header{CSRFHeader: {token}, "Origin": {"https://evil.example"}}, "cross-site request refused"},
				{"null origin", http.Header{CSRFHeader: {token}, "Origin": {"null"}}, "cross-site request refused"},
			} {
				body, ctype := upload(t, "kargo.md", "# Kargo\n\nKargo ücretsizdir.\n")
				h := http.Header{"Content-Type": {ctype}}
				for k, vs := range c.header {
					h[k] = vs
				}
				r := b.do(http.MethodPost, "/api/v1/knowledge/documents", body, h)
				if r.code != http.StatusForbidden || !strings.Contains(r.body, c.wantErr) {
					t.Errorf("upload, %s: %d %s, want 403 saying %q", c.name, r.code, r.body, c.wantErr)
				}
				r = b.do(http.MethodPost, "/api/v1/knowledge/reindex", nil, c.header)
				if r.code != http.StatusForbidden {
					t.Errorf("reindex, %s: %d %s, want 403", c.name, r.code, r.body)
				}
			}
			if docs, err := st.ListDocuments(ctx, ""); err != nil || len(docs) != 0 {
				t.Fatalf("documents after the refused uploads: %v %v, want none", docs, err)
			}
			body, ctype := upload(t, "kargo.md", "# Kargo\n\nKargo ücretsizdir.\n")
			r = b.do(http.MethodPost, "/api/v1/knowledge/documents", body,
				http.Header{"Content-Type": {ctype}, CSRFHeader: {token}, "Origin": {base}})
			if r.code != http.StatusOK || !strings.Contains(r.body, `"change":"added"`) {
				t.Fatalf("upload with the token from this site: %d %s, want 200 with the document added", r.code, r.body)
			}
			if r := b.do(http.MethodPost, "/api/v1/knowledge/reindex", nil, http.Header{CSRFHeader: {token}}); r.code != http.StatusOK ||
				!strings.Contains(r.body, `"documents":1`) {
				t.Errorf("reindex with the token: %d %s, want 200 reindexing the document", r.code, r.body)
			}
			if r := b.get("/console/knowledge"); !strings.Contains(r.body, `data-id="kargo"`) {
				t.Errorf("knowledge page lacks the uploaded document:\n%s", r.body)
			}

			// Signing out needs the token too; then the cookie is cleared
			// and worth nothing, even replayed.
			if r := b.postForm("/console/logout", nil, nil); r.code != http.StatusForbidden {
				t.Errorf("sign-out without the token: %d, want 403", r.code)
			}
			old := b.sessionCookie()
			if old == nil {
				t.Fatal("the browser holds no session cookie")
			}
			r = b.postForm("/console/logout", url.Values{"csrf": {token}}, nil)
			if r.code != http.StatusSeeOther || r.header.Get("Location") != "/console/login" {
				t.Fatalf("sign-out: %d, Location %q; want 303 to /console/login", r.code, r.header.Get("Location"))
			}
			if c := sessionCookieOf(r); c == nil || c.Value != "" || c.MaxAge >= 0 {
				t.Errorf("sign-out cookie %v, want the session cookie cleared", c)
			}
			if b.sessionCookie() != nil {
				t.Errorf("the browser still holds the session cookie after sign-out")
			}
			if _, _, err := st.GetSession(ctx, secretHash(old.Value), time.Now()); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the session is still in the store after sign-out: %v", err)
			}
			replay := http.Header{"Cookie": {old.String()}}
			if r := b.do(http.MethodGet, "/api/v1/knowledge/collections", nil, replay); r.code != http.StatusUnauthorized ||
				!strings.Contains(r.body, "sign in again") {
				t.Errorf("API with the old cookie: %d %s, want 401", r.code, r.body)
			}
			if r := b.do(http.MethodGet, "/console/knowledge?q=1", nil, replay); r.code != http.StatusSeeOther ||
				r.header.Get("Location") != "/console/login?next=%2Fconsole%2Fknowledge%3Fq%3D1" {
				t.Errorf("page with the old cookie: %d, Location %q; want 303 to sign in again", r.code, r.header.Get("Location"))
			}
		})
	}
}

// The session cookie is Secure everywhere but plain HTTP to a loopback
// host: behind a TLS proxy, and for a non-loopback host.
func TestConsoleSessionCookieSecure(t *testing.T) {
	st := apiStores["sqlite"](t)
	addPerson(t, st, "ayse", store.RoleContent, consolePassword, nil)
	base, _ := consoleServer(t, st)
	for _, c := range []struct {
		name   string
		header http.Header
	}{
		{"TLS proxy", http.Header{"X-Forwarded-Proto": {"https"}}},
		{"public host", http.Header{"Host": {"yanit.example"}}},
	} {
		b := newBrowser(t, base)
		var r pageResponse
		if h := c.header.Get("Host"); h != "" {
			// A Host header is the request's Host field.
			req, err := http.NewRequest(http.MethodPost, base+"/console/login",
				strings.NewReader(url.Values{"login": {"ayse"}, "password": {consolePassword}}.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Host = h
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := b.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			r = pageResponse{code: res.StatusCode, header: res.Header, cookies: res.Cookies()}
		} else {
			r = b.signIn("ayse", consolePassword, "", c.header)
		}
		cookie := sessionCookieOf(r)
		if r.code != http.StatusSeeOther || cookie == nil || !cookie.Secure || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
			t.Errorf("%s: %d, cookie %v; want a Secure, HttpOnly, SameSite=Strict session cookie", c.name, r.code, cookie)
		}
	}
}

// A refused sign-in says the same whatever was wrong, and the password
// never reaches the log.
func TestConsoleSignInRefused(t *testing.T) {
	st := apiStores["sqlite"](t)
	addPerson(t, st, "ayse", store.RoleContent, consolePassword, nil)
	addPerson(t, st, "zeynep", store.RoleContent, consolePassword, func(u *store.User) { u.Disabled = true })
	addPerson(t, st, "entegrasyon", store.RoleContent, "", nil)
	base, logs := consoleServer(t, st)
	var want string
	for _, c := range []struct{ name, login, password string }{
		{"wrong password", "ayse", "yanlis-sifre-123"},
		{"unknown login", "mehmet", consolePassword},
		{"disabled user", "zeynep", consolePassword},
		{"user without password", "entegrasyon", consolePassword},
		{"empty password", "ayse", ""},
	} {
		b := newBrowser(t, base)
		r := b.signIn(c.login, c.password, "/console/knowledge", nil)
		if r.code != http.StatusUnauthorized || !strings.Contains(r.body, "Wrong login or password") || sessionCookieOf(r) != nil {
			t.Errorf("%s: %d, cookies %v; want 401 saying Wrong login or password, and no session\n%s", c.name, r.code, r.cookies, r.body)
		}
		// The page differs by the login it echoes, nothing else.
		page := strings.ReplaceAll(r.body, c.login, "LOGIN")
		if want == "" {
			want = page
		} else if page != want {
			t.Errorf("%s: the page tells this refusal from a wrong password:\n%s\nwant:\n%s", c.name, page, want)
		}
		if b.get("/api/v1/knowledge/collections").code != http.StatusUnauthorized {
			t.Errorf("%s: the API answers after a refused sign-in", c.name)
		}
	}
	l := logs.String()
	if strings.Contains(l, consolePassword) || strings.Contains(l, "yanlis-sifre") {
		t.Errorf("a password reached the log:\n%s", l)
	}
	if strings.Count(l, "sign-in refused") != 5 {
		t.Errorf("want each refused sign-in logged:\n%s", l)
	}
	// Another site cannot sign a browser in.
	r := newBrowser(t, base).signIn("ayse", consolePassword, "", http.Header{"Origin": {"https://evil.example"}})
	if r.code != http.StatusForbidden || sessionCookieOf(r) != nil {
		t.Errorf("sign-in from another site: %d, cookies %v; want 403 and no session", r.code, r.cookies)
	}
}

// After five failures for a login, its sign-ins are refused for the
// window, the right password too; other logins still sign in. Guesses
// sent at once cannot outrun the count.
func TestConsoleSignInLimit(t *testing.T) {
	t.Run("sequential", func(t *testing.T) {
		st := apiStores["sqlite"](t)
		addPerson(t, st, "ayse", store.RoleContent, consolePassword, nil)
		addPerson(t, st, "can", store.RoleContent, consolePassword, nil)
		base, _ := consoleServer(t, st)
		b := newBrowser(t, base)
		for i := range signInMaxFailures {
			if r := b.signIn("ayse", "yanlis-sifre-123", "", nil); r.code != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d, want 401", i+1, r.code)
			}
		}
		r := b.signIn("ayse", consolePassword, "", nil)
		if r.code != http.StatusTooManyRequests || !strings.Contains(r.body, "Too many failed sign-ins: try again in 15 minutes") ||
			sessionCookieOf(r) != nil {
			t.Errorf("the right password after %d failures: %d %v, want 429 saying when to try again, and no session\n%s",
				signInMaxFailures, r.code, r.cookies, r.body)
		}
		if r := b.signIn("AYSE", consolePassword, "", nil); r.code != http.StatusTooManyRequests {
			t.Errorf("the login in capitals after %d failures: %d, want 429", signInMaxFailures, r.code)
		}
		if r := b.signIn("can", consolePassword, "", nil); r.code != http.StatusSeeOther {
			t.Errorf("another login: %d, want 303: the limit is per login", r.code)
		}
	})
	t.Run("parallel", func(t *testing.T) {
		st := apiStores["sqlite"](t)
		addPerson(t, st, "ayse", store.RoleContent, consolePassword, nil)
		base, _ := consoleServer(t, st)
		const n = 2 * signInMaxFailures
		codes := make(chan int, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() { codes <- newBrowser(t, base).signIn("ayse", "yanlis-sifre-123", "", nil).code })
		}
		wg.Wait()
		close(codes)
		count := map[int]int{}
		for c := range codes {
			count[c]++
		}
		if count[http.StatusUnauthorized] != signInMaxFailures || count[http.StatusTooManyRequests] != n-signInMaxFailures {
			t.Errorf("%d guesses at once: %v, want %d refused as wrong and the rest 429", n, count, signInMaxFailures)
		}
	})
	t.Run("per address", func(t *testing.T) {
		st := apiStores["sqlite"](t)
		addPerson(t, st, "ayse", store.RoleContent, consolePassword, nil)
		base, _ := consoleServer(t, st)
		b := newBrowser(t, base)
		for i := range 4 * signInMaxFailures {
			login := "kisi" + strings.Repeat("x", i) // a new login each time
			if r := b.signIn(login, "yanlis-sifre-123", "", nil); r.code != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d, want 401", i+1, r.code)
			}
		}
		if r := b.signIn("ayse", consolePassword, "", nil); r.code != http.StatusTooManyRequests {
			t.Errorf("after %d failures from one address: %d, want 429", 4*signInMaxFailures, r.code)
		}
		// Without trusted proxies a client cannot claim another address.
		spoofed := http.Header{"X-Forwarded-For": {"203.0.113.9"}, "X-Real-Ip": {"203.0.113.9"}}
		if r := b.signIn("ayse", consolePassword, "", spoofed); r.code != http.StatusTooManyRequests {
			t.Errorf("with a forged X-Forwarded-For: %d, want 429", r.code)
		}
	})
}

// A sign-in only ever goes on to a console page.
func TestConsoleSignInNext(t *testing.T) {
	st := apiStores["sqlite"](t)
	addPerson(t, st, "ayse", store.RoleContent, consolePassword, nil)
	base, _ := consoleServer(t, st)
	for _, c := range []struct{ next, want string }{
		{"/console/knowledge", "/console/knowledge"},
		{"/console/knowledge?collection=sss", "/console/knowledge?collection=sss"},
		{"", "/console/"},
		{"//evil.example/x", "/console/"},
		{"https://evil.example", "/console/"},
		{"https://evil.example/console/", "/console/"},
		{"/api/v1/knowledge/documents", "/console/"},
		{"/console/../api/v1/knowledge/documents", "/console/"},
		{"/console/%2e%2e/api/v1/conversations", "/console/"},
		{"/console/..", "/console/"},
		{"/\\evil.example", "/console/"},
		{"/console/\\\\evil.example", "/console/"},
		{"javascript:alert(1)", "/console/"},
		{"/consolex", "/console/"},
	} {
		r := newBrowser(t, base).signIn("ayse", consolePassword, c.next, nil)
		if r.code != http.StatusSeeOther || r.header.Get("Location") != c.want {
			t.Errorf("next %q: %d, Location %q; want 303 to %s", c.next, r.code, r.header.Get("Location"), c.want)
		}
		page := newBrowser(t, base).get("/console/login?next=" + url.QueryEscape(c.next))
		if !strings.Contains(page.body, `name="next" value="`+c.want+`"`) {
			t.Errorf("sign-in page with next %q: the form does not carry %s:\n%s", c.next, c.want, page.body)
		}
	}
}

// A session has its user's role: an agent reads conversations, not the
// knowledge base.
func TestConsoleSessionRoles(t *testing.T) {
	st := apiStores["sqlite"](t)
	addPerson(t, st, "ayse", store.RoleContent, consolePassword, nil)
	addPerson(t, st, "can", store.RoleAgent, consolePassword, func(u *store.User) { u.Teams = []string{"billing"} })
	base, _ := consoleServer(t, st)
	for _, c := range []struct {
		login string
		codes map[string]int
	}{
		{"can", map[string]int{"/api/v1/conversations": 403, "/api/v1/inbox/tickets": 200, "/api/v1/knowledge/collections": 403,
			"/api/v1/knowledge/documents": 403, "/console/knowledge": 403}},
		{"ayse", map[string]int{"/api/v1/conversations": 403, "/api/v1/knowledge/collections": 200,
			"/api/v1/knowledge/documents": 200, "/console/knowledge": 200}},
	} {
		b := newBrowser(t, base)
		if r := b.signIn(c.login, consolePassword, "", nil); r.code != http.StatusSeeOther {
			t.Fatalf("sign-in of %s: %d", c.login, r.code)
		}
		for path, want := range c.codes {
			r := b.get(path)
			if r.code != want {
				t.Errorf("%s as %s: %d %s, want %d", path, c.login, r.code, r.body, want)
			}
			if want == http.StatusForbidden && !strings.Contains(r.body, "needs the role") {
				t.Errorf("%s as %s: %s, want an error naming the roles", path, c.login, r.body)
			}
		}
	}

	// Disabled while signed in: the session stops working at once.
	ctx := context.Background()
	b := newBrowser(t, base)
	b.signIn("ayse", consolePassword, "", nil)
	u, err := st.GetUserByLogin(ctx, "ayse")
	if err != nil {
		t.Fatal(err)
	}
	u.Disabled = true
	if _, err := st.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if r := b.get("/api/v1/knowledge/collections"); r.code != http.StatusForbidden || !strings.Contains(r.body, "disabled") {
		t.Errorf("session of a disabled user: %d %s, want 403 saying disabled", r.code, r.body)
	}
}

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	const pw = "doğru at pil zımba"
	h, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, pw) {
		t.Errorf("hash %q, want an argon2id PHC string without the password", h)
	}
	if !CheckPassword(h, pw) {
		t.Errorf("CheckPassword(HashPassword(%q)) = false", pw)
	}
	for _, wrong := range []string{"", "doğru at pil zimba", pw + " ", strings.ToUpper(pw)} {
		if CheckPassword(h, wrong) {
			t.Errorf("CheckPassword accepts %q for %q", wrong, pw)
		}
	}
	h2, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if h2 == h || !CheckPassword(h2, pw) {
		t.Errorf("two hashes of one password: %q and %q, want them to differ (salt) and both to verify", h, h2)
	}

	parts := strings.Split(h, "$") // "", argon2id, v=19, m=…, salt, key
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		t.Fatal(err)
	}
	key[0] ^= 1
	for _, c := range []struct{ name, hash string }{
		{"empty", ""},
		{"plain text", pw},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", strings.Replace(h, "$argon2id$", "$argon2i$", 1)},
		{"old version", strings.Replace(h, "$v=19$", "$v=16$", 1)},
		{"no key", strings.Join(parts[:5], "$")},
		{"empty key", strings.Join(parts[:5], "$") + "$"},
		{"changed key", strings.Join(append(parts[:5:5], base64.RawStdEncoding.EncodeToString(key)), "$")},
		{"other salt", strings.Join(parts[:4], "$") + "$" + base64.RawStdEncoding.EncodeToString([]byte("another salt 16b")) + "$" + parts[5]},
		{"bad base64", strings.Join(parts[:4], "$") + "$!!!$" + parts[5]},
		{"zero passes", strings.Replace(h, "t=2", "t=0", 1)},
		{"zero threads", strings.Replace(h, "p=1", "p=0", 1)},
		{"tiny memory", strings.Replace(h, "m=19456", "m=1", 1)},
		{"huge memory", strings.Replace(h, "m=19456", "m=99999999", 1)},
		{"no parameters", strings.Replace(h, "m=19456,t=2,p=1", "x", 1)},
	} {
		if CheckPassword(c.hash, pw) {
			t.Errorf("%s hash %q matches", c.name, c.hash)
		}
	}

	for _, c := range []struct{ password, want string }{
		{"kisa-sifre", ""},                 // 10 characters: the least
		{"şifreğüçöı", ""},                 // 10 characters in more bytes
		{"kisa-sifr", "9 characters long"}, // one too few
		{"", "0 characters long"},
		{"şifreğüçö", "9 characters long"}, // counted in characters, not bytes
		{strings.Repeat("a", 257), "256 bytes"},
	} {
		_, err := HashPassword(c.password)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("HashPassword(%q): %v, want it accepted", c.password, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) ||
			(strings.Contains(c.want, "characters") && !strings.Contains(err.Error(), "at least 10"))):
			t.Errorf("HashPassword(%q): %v, want an error saying %q", c.password, err, c.want)
		}
	}
}
