package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/channel"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/channel/whatsapp/simulator"
	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/inbox"
	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres"
	"github.com/yanit/yanit/store/sealed"
	"github.com/yanit/yanit/store/sqlite"
	"github.com/yanit/yanit/web"
)

// newLogger returns the process's logger: no line it writes holds the
// personal data the privacy config's detectors find.
func newLogger(w io.Writer, c config.Log, p config.Privacy) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated by config.Load
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if c.Format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(privacy.LogHandler(h, detectors(p)))
}

// detectors are the built-in detectors of personal data, reading phone
// numbers in the configured region, and the configured patterns.
func detectors(p config.Privacy) []privacy.Detector {
	region := p.Region
	if region == "" {
		region = config.Default().Privacy.Region
	}
	ds := privacy.Builtin(region)
	for _, pat := range p.Patterns {
		d, err := privacy.Pattern(pat.Kind, pat.Regex)
		if err != nil {
			panic(err) // config.Validate compiled every pattern
		}
		ds = append(ds, d)
	}
	return ds
}

// storeLocation says which store the config selects, for logs and banners.
func storeLocation(cfg config.Config) string {
	if cfg.Database.URL != "" {
		return "postgres " + config.MaskURL(cfg.Database.URL)
	}
	return "sqlite " + sqlitePath(cfg)
}

func sqlitePath(cfg config.Config) string { return filepath.Join(cfg.DataDir, "yanit.db") }

// openStore opens the store the config selects: PostgreSQL when a database
// URL is set, else the embedded SQLite file in the data directory.
func openStore(ctx context.Context, cfg config.Config) (store.Store, error) {
	if cfg.Database.URL != "" {
		return postgres.Open(ctx, cfg.Database.URL)
	}
	return sqlite.Open(ctx, sqlitePath(cfg))
}

// connect opens and migrates the store, retrying with backoff until it
// succeeds or ctx ends. Each failure is logged and passed to notReady.
func connect(ctx context.Context, cfg config.Config, log *slog.Logger, notReady func(string)) (store.Store, error) {
	delay := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		st, err := openAndMigrate(ctx, cfg)
		if err == nil {
			return st, nil
		}
		reason := fmt.Sprintf("database: %v (attempt %d, next in %s)", err, attempt, delay)
		notReady(reason)
		log.Error("database not ready, retrying", slog.String("store", storeLocation(cfg)),
			slog.Int("attempt", attempt), slog.Duration("retry_in", delay), slog.String("error", err.Error()))
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connecting to %s: %w (last error: %v)", storeLocation(cfg), ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(delay*2, 30*time.Second)
	}
}

func openAndMigrate(ctx context.Context, cfg config.Config) (store.Store, error) {
	octx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := openStore(octx, cfg)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(octx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrating: %w", err)
	}
	if cfg.Privacy.EncryptionKeys == "" {
		return st, nil
	}
	keys, err := privacy.ParseKeyring(cfg.Privacy.EncryptionKeys)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("privacy.encryption_keys (YANIT_PRIVACY_ENCRYPTION_KEYS): %w", err)
	}
	return sealed.Wrap(st, keys), nil
}

// retentionPolicies are the retention rules of the router's assistants:
// each assistant's days over the numbers it answers.
func retentionPolicies(router assistant.Router) []privacy.RetentionPolicy {
	byAssistant := map[*assistant.Definition]*privacy.RetentionPolicy{}
	var out []*privacy.RetentionPolicy
	for _, number := range slices.Sorted(maps.Keys(router)) {
		e, ok := router[number].(*assistant.Engine)
		if !ok || e.Definition().Privacy.RetentionDays <= 0 {
			continue
		}
		def := e.Definition()
		p := byAssistant[def]
		if p == nil {
			p = &privacy.RetentionPolicy{Assistant: def.Name, Days: def.Privacy.RetentionDays}
			byAssistant[def] = p
			out = append(out, p)
		}
		p.PhoneNumberIDs = append(p.PhoneNumberIDs, number)
	}
	policies := make([]privacy.RetentionPolicy, len(out))
	for i, p := range out {
		policies[i] = *p
	}
	return policies
}

// rawStore is the store under the encryption of message bodies, for what
// needs the database itself (PostgreSQL's LISTEN/NOTIFY).
func rawStore(st store.Store) store.Store {
	if w, ok := st.(interface{ Unwrap() store.Store }); ok {
		return w.Unwrap()
	}
	return st
}

// app is one running yanit process: HTTP server, store and job runner.
type app struct {
	cfg    config.Config
	log    *slog.Logger
	server *web.Server
	ready  chan struct{} // closed when the store is attached (tests wait on it)
	addr   net.Addr
	store  store.Store // set before ready closes
	// sim is the WhatsApp simulator mounted at /sim, or nil.
	sim *simulator.Simulator
}

// serveOptions are what yanit dev adds to a plain serve.
type serveOptions struct {
	// simulator mounts the WhatsApp simulator at /sim and points the Graph
	// API client at it (unless whatsapp.graph_url was changed).
	simulator bool
	started   func(*app)
	// router, when set, answers instead of the assistants built from the
	// config (tests share one trained router).
	router assistant.Router
	// onStore, when set, runs once the store is up, before the server
	// uses it (yanit dev makes its first user there).
	onStore func(ctx context.Context, st store.Store) error
}

// serve runs yanit until ctx ends, then shuts down in order: HTTP server
// (in-flight requests finish), job runner (soft stop), store.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, opts serveOptions) error {
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s (http.addr): %w", cfg.HTTP.Addr, err)
	}
	registry := prometheus.NewRegistry()
	box, err := newToolbox(cfg, log, registry)
	if err != nil {
		ln.Close()
		return err
	}
	defer box.close()
	base := "http://" + ln.Addr().String()
	mounts := map[string]http.Handler{}
	var sim *simulator.Simulator
	if opts.simulator && cfg.WhatsApp.GraphURL == config.Default().WhatsApp.GraphURL {
		sim, err = simulator.New(simulator.Options{
			AppSecret: cfg.WhatsApp.AppSecret, AccessToken: cfg.WhatsApp.AccessToken,
			PhoneNumberID: cfg.WhatsApp.PhoneNumberID, WebhookURL: base + "/webhooks/whatsapp",
			RatePerSecond: simulator.DefaultRatePerSecond, Logger: log,
		})
		if err != nil {
			ln.Close()
			return fmt.Errorf("starting the simulator: %w", err)
		}
		defer sim.Close()
		mounts[simulator.Prefix] = sim.Routes()
		cfg.WhatsApp.GraphURL = simulator.GraphURL(base)
	}
	server, err := web.NewServer(web.Options{
		Logger: log, Registry: registry, Version: version, MaxBodyBytes: cfg.HTTP.MaxBodyBytes,
		WhatsApp: web.WhatsApp{AppSecret: cfg.WhatsApp.AppSecret, VerifyToken: cfg.WhatsApp.VerifyToken},
		Mounts:   mounts, MaxUploadBytes: cfg.HTTP.MaxUploadBytes, TrustedProxies: cfg.HTTP.TrustedProxies,
		Detectors: detectors(cfg.Privacy),
	})
	if err != nil {
		ln.Close()
		return err
	}
	a := &app{cfg: cfg, log: log, server: server, ready: make(chan struct{}), addr: ln.Addr(), sim: sim}
	httpServer := &http.Server{
		Handler:           server.Routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	httpDone := make(chan error, 1)
	go func() { httpDone <- httpServer.Serve(ln) }()
	log.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("store", storeLocation(cfg)))
	if os.Getenv("YANIT_API_ADMIN_TOKEN") != "" {
		log.Warn("YANIT_API_ADMIN_TOKEN is no longer read: the API takes the tokens of users (yanit users add, yanit users token)")
	}
	if opts.started != nil {
		opts.started(a)
	}

	// The store comes up in the background so that /healthz and /readyz
	// answer (with the reason) while the database is unreachable.
	type result struct {
		st     store.Store
		runner *jobs.Runner
		bus    inbox.Bus
		err    error
	}
	up := make(chan result, 1)
	go func() {
		st, err := connect(ctx, cfg, log, server.SetNotReady)
		if err != nil {
			up <- result{err: err}
			return
		}
		host, _ := os.Hostname()
		runner, err := jobs.NewRunner(st, jobs.Config{
			Worker:       fmt.Sprintf("%s:%d", host, os.Getpid()),
			Concurrency:  cfg.Jobs.Concurrency,
			PollInterval: cfg.Jobs.PollInterval,
			Lease:        cfg.Jobs.Lease,
			Logger:       log,
		})
		if err != nil {
			st.Close()
			up <- result{err: err}
			return
		}
		// The assistants come up with the store: their tools include the
		// tool sets integrators declared through the admin API.
		router := opts.router
		if opts.onStore != nil {
			err = opts.onStore(ctx, st)
		}
		if err == nil {
			err = box.loadSets(ctx, st)
		}
		if err == nil && router == nil {
			router, err = assistants(ctx, cfg, log, box.registry, st)
		}
		var bus inbox.Bus
		if err == nil {
			bus, err = wireChannel(ctx, cfg, log, st, server, runner, router, box)
		}
		if err != nil {
			st.Close()
			up <- result{err: err}
			return
		}
		runner.Start()
		go privacy.Retainer{Store: st, Policies: retentionPolicies(router), Log: log}.Run(ctx, cfg.Privacy.RetentionEvery)
		cur, _, _ := st.MigrationStatus(ctx)
		log.Info("store ready", slog.String("store", storeLocation(cfg)), slog.Int64("schema_version", cur))
		a.store = st
		close(a.ready)
		up <- result{st: st, runner: runner, bus: bus}
	}()

	var res result
	received := false
	select {
	case err := <-httpDone:
		return fmt.Errorf("serving http: %w", err)
	case <-ctx.Done():
	case res = <-up:
		received = true
		if res.err == nil {
			select {
			case err := <-httpDone:
				return fmt.Errorf("serving http: %w", err)
			case <-ctx.Done():
			}
		}
	}
	// The store came up but the assistants could not start (a bad
	// definition, a missing tool): stop with the reason. An error after
	// ctx ended is only the shutdown interrupting the start.
	fatal := received && res.err != nil && ctx.Err() == nil
	if fatal {
		log.Error("cannot start", slog.String("error", res.err.Error()))
	}
	log.Info("shutting down", slog.Duration("timeout", cfg.HTTP.ShutdownTimeout))
	sctx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	shutdownErr := httpServer.Shutdown(sctx)
	if fatal {
		return errors.Join(res.err, shutdownErr)
	}
	if !received {
		res = <-up // ctx is done, so connect has returned
	}
	if res.bus != nil {
		res.bus.Close()
	}
	if res.runner != nil {
		if err := res.runner.Stop(sctx); err != nil {
			log.Warn("jobs did not finish in time; they resume after their lease", slog.String("error", err.Error()))
		}
	}
	if res.st != nil {
		if err := res.st.Close(); err != nil {
			shutdownErr = errors.Join(shutdownErr, err)
		}
	}
	log.Info("stopped")
	return shutdownErr
}

// wireChannel builds the WhatsApp path on the store: the webhook receiver,
// the turn pipeline with each number's assistant, the outbox sender and the
// inbox, and registers their jobs with the runner. It returns the inbox's
// event bus, to close at shutdown: PostgreSQL's LISTEN/NOTIFY, so that
// agents on every instance see every event, or in-process on SQLite.
func wireChannel(ctx context.Context, cfg config.Config, log *slog.Logger, st store.Store, server *web.Server, runner *jobs.Runner, router assistant.Router, box *toolbox) (inbox.Bus, error) {
	var bus inbox.Bus = inbox.NewLocalBus()
	if pg, ok := rawStore(st).(*postgres.Store); ok {
		pgBus, err := inbox.NewPGBus(ctx, pg.Pool(), log)
		if err != nil {
			return nil, err
		}
		bus = pgBus
	}
	rules, err := noticeRules(cfg.Inbox)
	if err != nil {
		bus.Close()
		return nil, err
	}
	templates, err := approvedTemplates(cfg.WhatsApp.Templates)
	if err != nil {
		bus.Close()
		return nil, err
	}
	notices := inbox.NewNotices(st, rules, bus, inbox.Options{Logger: log, Wake: runner.Notify})
	if err := runner.Handle(inbox.KindNotice, notices.Handle); err != nil {
		bus.Close()
		return nil, err
	}
	graph := &whatsapp.Client{BaseURL: cfg.WhatsApp.GraphURL, Version: cfg.WhatsApp.APIVersion, Token: cfg.WhatsApp.AccessToken,
		HTTPClient: graphHTTPClient(cfg.Jobs.Concurrency * channel.SendWave)}
	limiter := channel.NewLimiter(cfg.WhatsApp.RatePerSecond, 10, 6*time.Second)
	var routing []inbox.Rule
	for _, r := range cfg.Inbox.Routing {
		routing = append(routing, inbox.Rule{Reason: r.Reason, Intent: r.Intent, Team: r.Team, Priority: r.Priority})
	}
	receiver, err := wireTurns(st, graph, router, runner, log, server.ChannelMetrics(), limiter, bus,
		assistant.PipelineOptions{TicketOpened: notices.Schedule, Routing: routing, ReopenWithin: cfg.Inbox.ReopenWithin})
	var campaigns web.CampaignAdmin
	if err == nil {
		campaigns, err = webCampaigns(wireCampaigns(ctx, cfg, log, st, runner)) // campaign jobs and the schedule check
	}
	if err == nil {
		var p models
		if p, err = newProvider(cfg.LLM, log); err == nil {
			server.SetBackend(web.Backend{Store: st, Receiver: receiver, Tools: box, Campaigns: campaigns,
				Knowledge: knowledge.NewStored(st, p.embed, p.model, p.dims, knowledge.EmbedOptions{}),
				Inbox:     inbox.NewService(st, bus, inbox.Options{Logger: log, Wake: runner.Notify, CSAT: cfg.Inbox.CSAT, Templates: templates})})
		}
	}
	if err != nil {
		bus.Close()
		return nil, err
	}
	return bus, nil
}

// wireTurns registers the turn pipeline and the outbox sender with the
// runner and returns the receiver that feeds them: the one path from an
// inbound message to its replies, whatever graph carries them.
func wireTurns(st store.Store, graph channel.Graph, router assistant.Router, runner *jobs.Runner, log *slog.Logger, metrics *channel.Metrics, limiter *channel.Limiter, events inbox.Bus,
	po assistant.PipelineOptions) (*channel.Receiver, error) {
	receiver := channel.NewReceiver(st, channel.ReceiverOptions{Logger: log, Metrics: metrics, Routed: router.Routes, Wake: runner.Notify})
	sender := channel.NewSender(st, graph, channel.SenderOptions{Limiter: limiter, Logger: log, Metrics: metrics})
	po.Logger, po.Wake, po.Events = log, runner.Notify, events
	pipeline := assistant.NewPipeline(st, graph, router, po)
	if err := runner.Handle(channel.KindTurn, pipeline.Handle); err != nil {
		return nil, err
	}
	if err := runner.Handle(channel.KindSend, sender.Handle); err != nil {
		return nil, err
	}
	if err := runner.Handle(channel.KindSendBatch, sender.HandleBatch); err != nil {
		return nil, err
	}
	return receiver, nil
}

// noticeRules reads the inbox's business hours and notice cadence; an error
// names the key that is wrong.
func noticeRules(c config.Inbox) (inbox.NoticeRules, error) {
	def, err := inbox.ParseHours(c.Hours.TimeZone, c.Hours.Days, c.Hours.Holidays)
	if err != nil {
		return inbox.NoticeRules{}, fmt.Errorf("inbox.hours: %w", err)
	}
	switch c.Assignment {
	case inbox.AssignManual, inbox.AssignRoundRobin, inbox.AssignLeastLoaded:
	default:
		return inbox.NoticeRules{}, fmt.Errorf("inbox.assignment: %q, want manual, round_robin or least_loaded", c.Assignment)
	}
	rules := inbox.NoticeRules{Default: def, Hours: map[string]inbox.Hours{}, WaitEvery: c.WaitNoticeEvery,
		MaxWaitNotices: c.MaxWaitNotices, Assignment: c.Assignment}
	for team, h := range c.Teams {
		tz := h.TimeZone
		if tz == "" {
			tz = c.Hours.TimeZone
		}
		if rules.Hours[team], err = inbox.ParseHours(tz, h.Days, h.Holidays); err != nil {
			return inbox.NoticeRules{}, fmt.Errorf("inbox.teams.%s: %w", team, err)
		}
	}
	return rules, nil
}

// approvedTemplates reads the approved templates of the configuration; an
// error names the entry.
func approvedTemplates(ts []config.Template) ([]inbox.Template, error) {
	var out []inbox.Template
	for i, t := range ts {
		tmpl, err := inbox.NewTemplate(t.Name, t.Language, t.Category, t.Body)
		if err != nil {
			return nil, fmt.Errorf("whatsapp.templates[%d]: %w", i, err)
		}
		out = append(out, tmpl)
	}
	return out, nil
}
