package simulator

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Prefix is the path under which Routes serves everything.
const Prefix = "/sim"

// Defaults applied by New.
const (
	// DefaultRatePerSecond is Meta's default throughput of a business number.
	// It is what `yanit dev` should pass; Options.RatePerSecond 0 means
	// unlimited.
	DefaultRatePerSecond = 80
	// DefaultStatusDelay separates sent, delivered and read.
	DefaultStatusDelay = 300 * time.Millisecond
	// DefaultDisplayPhone is the business number users see.
	DefaultDisplayPhone = "15550001234"
	// DefaultWABAID is the WhatsApp Business Account id of every entry.
	DefaultWABAID = "100000000000001"
	// DefaultStatusLinger is how long the first status of a batch waits for
	// others when Options.StatusBatch > 1.
	DefaultStatusLinger = 20 * time.Millisecond
	// webhookTimeout bounds one webhook POST when HTTPClient is nil.
	webhookTimeout = 10 * time.Second
)

// Errors returned by the Go API.
var (
	// ErrClosed means the Simulator was closed.
	ErrClosed = errors.New("simulator: closed")
	// ErrInvalidPhone means a user's number is not 1-15 E.164 digits.
	ErrInvalidPhone = errors.New("simulator: phone number must be 1-15 digits (E.164 without +)")
	// ErrNoSuchChoice means no message of the business offers the button,
	// row or quick reply asked for.
	ErrNoSuchChoice = errors.New("simulator: no such button or row")
	// ErrAnswered means the reply buttons of that message were already
	// tapped: like WhatsApp, they work once.
	ErrAnswered = errors.New("simulator: buttons already tapped")
)

// ReadPolicy says when a simulated user reads the business's messages.
type ReadPolicy int

// Read policies.
const (
	// ReadOnDisplay (the default): a message is read when a page showing the
	// user's chat has displayed it; when no page shows that chat at delivery,
	// it is read right after delivery.
	ReadOnDisplay ReadPolicy = iota
	// ReadOnlyOnDisplay never reads on its own: only a page, or a test
	// calling User.ReadAll, reads. For tests that check delivered-not-read.
	ReadOnlyOnDisplay
)

// Options configure a Simulator. AppSecret, AccessToken, PhoneNumberID and
// WebhookURL are required.
type Options struct {
	// AppSecret signs every webhook (X-Hub-Signature-256).
	AppSecret string
	// AccessToken is the bearer token the fake Graph API accepts.
	AccessToken string
	// PhoneNumberID is the business number's id in Graph API paths and in
	// webhook metadata.
	PhoneNumberID string
	// DisplayPhone is the business number as E.164 digits
	// (DefaultDisplayPhone when empty); taps name it in context.from.
	DisplayPhone string
	// WABAID is the business account id of webhook entries (DefaultWABAID
	// when empty).
	WABAID string
	// WebhookURL is where webhooks are POSTed: yanit's webhook endpoint.
	WebhookURL string
	// RatePerSecond is the number's throughput (token bucket, burst of one
	// second); beyond it sends fail with 130429. 0 means unlimited, for load
	// tests; yanit dev passes DefaultRatePerSecond.
	RatePerSecond float64
	// StatusDelay separates acceptance, sent, delivered and read
	// (DefaultStatusDelay when 0).
	StatusDelay time.Duration
	// StatusBatch is the most statuses one status webhook carries. Statuses
	// that come due within StatusLinger of each other are posted together in
	// one webhook (one change whose value has many statuses), up to
	// StatusBatch of them, as Meta does under load; batches are posted in
	// parallel, so a user's statuses may then arrive out of order. 0 or 1:
	// each status is a webhook of its own (the default).
	StatusBatch int
	// StatusLinger is how long the first status of a batch waits for others
	// (DefaultStatusLinger when 0); it matters only when StatusBatch > 1.
	StatusLinger time.Duration
	// Read says when users read the business's messages.
	Read ReadPolicy
	// Logger receives delivery failures and rejected requests (discarded
	// when nil). It never receives a secret, a phone number or message text.
	Logger *slog.Logger
	// HTTPClient posts the webhooks (a client with a 10 s timeout when nil).
	HTTPClient *http.Client
	// Now is the clock of timestamps, the 24-hour window and the rate limit
	// (time.Now when nil).
	Now func() time.Time
}

// validate applies defaults and names the first bad option.
func (o *Options) validate() error {
	for _, f := range []struct{ name, val string }{
		{"AppSecret", o.AppSecret}, {"AccessToken", o.AccessToken},
		{"PhoneNumberID", o.PhoneNumberID}, {"WebhookURL", o.WebhookURL},
	} {
		if strings.TrimSpace(f.val) == "" {
			return fmt.Errorf("simulator: option %s is required", f.name)
		}
	}
	if !isDigits(o.PhoneNumberID) {
		return errors.New("simulator: option PhoneNumberID must be digits")
	}
	if u, err := url.Parse(o.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("simulator: option WebhookURL must be an absolute http(s) URL")
	}
	if o.DisplayPhone == "" {
		o.DisplayPhone = DefaultDisplayPhone
	}
	if !validPhone(o.DisplayPhone) {
		return errors.New("simulator: option DisplayPhone must be 1-15 digits")
	}
	if o.WABAID == "" {
		o.WABAID = DefaultWABAID
	}
	if o.RatePerSecond < 0 {
		return errors.New("simulator: option RatePerSecond must not be negative")
	}
	if o.StatusDelay < 0 {
		return errors.New("simulator: option StatusDelay must not be negative")
	}
	if o.StatusDelay == 0 {
		o.StatusDelay = DefaultStatusDelay
	}
	if o.StatusBatch < 0 {
		return errors.New("simulator: option StatusBatch must not be negative")
	}
	if o.StatusLinger < 0 {
		return errors.New("simulator: option StatusLinger must not be negative")
	}
	if o.StatusLinger == 0 && o.StatusBatch > 1 {
		o.StatusLinger = DefaultStatusLinger
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: webhookTimeout}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// Simulator is a fake WhatsApp: a Graph API, simulated users and their page.
// Build it with New and stop it with Close.
type Simulator struct {
	opts    Options
	log     *slog.Logger
	bucket  *bucket
	hub     *hub
	handler http.Handler
	// retry is the backoff of webhook deliveries (see deliver).
	retry retryPolicy

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the simulator started

	// Lock order: User.mu before mu, qmu, statuses.mu and hub.mu; mu is
	// never held while taking a User's lock.
	mu      sync.Mutex
	closed  bool
	users   map[string]*User // by phone
	inbound map[string]*User // user-message wamid → its author, for mark-read

	qmu     sync.Mutex
	qclosed bool
	queues  map[string]*queue // per-user webhook queues, by phone

	// statuses batches status webhooks; nil unless Options.StatusBatch > 1.
	statuses *batcher
}

// New checks opts and returns a running Simulator.
func New(opts Options) (*Simulator, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Simulator{
		opts:    opts,
		log:     opts.Logger.With(slog.String("component", "whatsapp-simulator")),
		bucket:  newBucket(opts.RatePerSecond, opts.Now()),
		hub:     newHub(),
		retry:   defaultRetry,
		ctx:     ctx,
		cancel:  cancel,
		users:   map[string]*User{},
		inbound: map[string]*User{},
		queues:  map[string]*queue{},
	}
	if opts.StatusBatch > 1 {
		s.statuses = newBatcher(opts.StatusBatch, opts.StatusLinger)
	}
	s.handler = s.routes()
	return s, nil
}

// Routes returns the handler of every path under /sim: the page and its
// assets, the page's JSON API (/sim/api/...) and the fake Graph API
// (/sim/graph/...). Mount it with the prefix kept in the request path.
func (s *Simulator) Routes() http.Handler { return s.handler }

// GraphURL is the whatsapp.graph_url for a simulator served at base
// ("http://localhost:8080").
func GraphURL(base string) string { return strings.TrimRight(base, "/") + Prefix + "/graph" }

// Close stops the simulator: pending webhooks are dropped, event streams
// end, the Graph API answers 503, and every goroutine it started has returned
// when Close returns. Close is idempotent.
func (s *Simulator) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.qmu.Lock()
	s.qclosed = true
	s.qmu.Unlock()
	s.closeBatcher()
	s.cancel()
	s.hub.close()
	s.wg.Wait()
	return nil
}

// User returns the simulated user with that number, creating it on first
// use. A non-empty name sets the profile name sent with the user's next
// messages. Spaces, dashes and a leading "+" are removed from phone; when
// the rest is not 1-15 digits every action of the returned User fails with
// ErrInvalidPhone.
func (s *Simulator) User(name, phone string) *User {
	phone = normalizePhone(phone)
	if !validPhone(phone) {
		return &User{s: s, phone: phone, err: ErrInvalidPhone}
	}
	u, created := s.user(phone)
	renamed := u.rename(name)
	if created || renamed {
		s.broadcastUsers()
	}
	return u
}

// Users returns every simulated user, ordered by number.
func (s *Simulator) Users() []*User {
	s.mu.Lock()
	us := make([]*User, 0, len(s.users))
	for _, u := range s.users {
		us = append(us, u)
	}
	s.mu.Unlock()
	slices.SortFunc(us, func(a, b *User) int { return strings.Compare(a.phone, b.phone) })
	return us
}

// user returns the user with a valid phone, creating it.
func (s *Simulator) user(phone string) (u *User, created bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[phone]; u != nil {
		return u, false
	}
	u = newUser(s, phone)
	s.users[phone] = u
	return u, true
}

// lookup returns an existing user, or nil.
func (s *Simulator) lookup(phone string) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[phone]
}

// spawn runs f in a goroutine that Close waits for, unless the simulator is
// closed, in which case it reports false and f never runs.
func (s *Simulator) spawn(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// isClosed reports whether Close was called.
func (s *Simulator) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// sleep waits d, or less when the simulator closes; it reports whether the
// full wait happened.
func (s *Simulator) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// now is the simulator's clock.
func (s *Simulator) now() time.Time { return s.opts.Now() }

// newWAMID returns a fresh message id shaped like Meta's: "wamid." and
// base64 text.
func newWAMID() string {
	return "wamid.HBg" + base64.StdEncoding.EncodeToString(randomBytes(24))
}

// newTraceID returns an fbtrace_id-like token.
func newTraceID() string {
	return "A" + base64.RawURLEncoding.EncodeToString(randomBytes(16))[:22]
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	// crypto/rand.Read never fails (it panics on a broken platform).
	_, _ = rand.Read(b)
	return b
}

// normalizePhone strips what people type around E.164 digits.
func normalizePhone(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "+")
	return strings.NewReplacer(" ", "", "-", "", "(", "", ")", "").Replace(s)
}

func validPhone(s string) bool { return len(s) >= 1 && len(s) <= 15 && isDigits(s) }

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
