package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/yanit/yanit/channel"
	"github.com/yanit/yanit/inbox"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
)

// Server is yanit's HTTP server.
type Server struct {
	log      *slog.Logger
	registry *prometheus.Registry
	version  string
	maxBody  int64

	whatsapp WhatsApp
	mounts   map[string]http.Handler
	backend  atomic.Pointer[Backend]
	notReady atomic.Pointer[string] // why the backend is not attached yet

	maxUpload int64 // body limit of knowledge uploads
	proxies   []string
	signIns   signInLimiter
	detectors []privacy.Detector

	signatureFailures *prometheus.CounterVec
	channelMetrics    *channel.Metrics

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// Options configure a Server.
type Options struct {
	Logger       *slog.Logger
	Registry     *prometheus.Registry // metrics are registered here and served at /metrics
	Version      string
	MaxBodyBytes int64
	WhatsApp     WhatsApp
	// Mounts serve whole path prefixes with other handlers, e.g. the
	// simulator of yanit dev at /sim.
	Mounts map[string]http.Handler
	// MaxUploadBytes bounds a knowledge upload's body (many files); 0
	// means 32 MiB.
	MaxUploadBytes int64
	// TrustedProxies are the proxies whose X-Forwarded-For names the
	// client; empty trusts none.
	TrustedProxies []string
	// Detectors find the personal data hidden from roles that may not
	// see it; nil means privacy.Builtin("TR").
	Detectors []privacy.Detector
}

// WhatsApp holds the secrets the webhook checks.
type WhatsApp struct {
	AppSecret   string // key of X-Hub-Signature-256
	VerifyToken string // hub.verify_token of the subscription handshake
}

// Backend is what the server serves once the store is up.
type Backend struct {
	Store    store.Store
	Receiver *channel.Receiver
	// Tools administers the tool sets of /api/v1/tools; nil answers 503.
	Tools ToolAdmin
	// Knowledge is the index of /api/v1/knowledge; nil answers 503.
	Knowledge KnowledgeAdmin
	// Inbox is the agents' queue of /api/v1/inbox; nil answers 503.
	Inbox *inbox.Service
	// Campaigns makes and moves the broadcasts of /api/v1/campaigns; nil
	// answers 503 to its changes and templates (reads use the store).
	Campaigns CampaignAdmin
}

// NewServer returns a server with no store attached: /readyz answers 503
// until SetStore is called.
func NewServer(o Options) (*Server, error) {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{log: o.Logger, registry: o.Registry, version: o.Version, maxBody: o.MaxBodyBytes, whatsapp: o.WhatsApp, maxUpload: o.MaxUploadBytes, proxies: o.TrustedProxies, mounts: o.Mounts, detectors: o.Detectors}
	if s.detectors == nil {
		s.detectors = privacy.Builtin("TR")
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	if s.maxBody <= 0 {
		s.maxBody = 1 << 20
	}
	if s.maxUpload <= 0 {
		s.maxUpload = 32 << 20
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "yanit_http_requests_total",
		Help: "HTTP requests by method, route and status code.",
	}, []string{"method", "route", "code"})
	s.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "yanit_http_request_duration_seconds",
		Help:    "HTTP request latency by method and route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"method", "route"})
	s.signatureFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "yanit_webhook_signature_failures_total",
		Help: "Webhook POSTs refused for a missing or wrong X-Hub-Signature-256.",
	}, []string{"reason"})
	s.channelMetrics = channel.NewMetrics(s.registry)
	for _, c := range []prometheus.Collector{
		s.requests, s.duration, s.signatureFailures,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := s.registry.Register(c); err != nil {
			return nil, fmt.Errorf("registering metrics: %w", err)
		}
	}
	if err := gin.New().SetTrustedProxies(s.proxies); err != nil {
		return nil, fmt.Errorf("http.trusted_proxies: %w", err)
	}
	s.SetNotReady("database: not connected yet")
	return s, nil
}

// ChannelMetrics are the channel metrics registered with the server's
// registry, for the receiver and the sender.
func (s *Server) ChannelMetrics() *channel.Metrics { return s.channelMetrics }

// SetBackend attaches the store and what uses it once the store is
// reachable and migrated.
func (s *Server) SetBackend(b Backend) { s.backend.Store(&b) }

// SetNotReady records why the backend is not attached, for /readyz.
func (s *Server) SetNotReady(reason string) { s.notReady.Store(&reason) }

// Routes returns the HTTP handler with every route of the server.
func (s *Server) Routes() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	if err := r.SetTrustedProxies(s.proxies); err != nil {
		// NewServer checked them: this cannot fail.
		panic(err)
	}
	r.Use(s.recoverer(), s.observe(), s.limitBody())
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry})))
	r.GET("/webhooks/whatsapp", s.webhookVerify)
	r.POST("/webhooks/whatsapp", s.webhookReceive)
	r.GET("/api/v1/openapi.json", s.openAPI())
	s.apiRoutes(r)
	s.consoleRoutes(r)
	for prefix, h := range s.mounts {
		r.Any(prefix, gin.WrapH(h))
		r.Any(prefix+"/*path", gin.WrapH(h))
	}
	r.NoRoute(func(c *gin.Context) { writeError(c, http.StatusNotFound, "no such route: "+c.Request.URL.Path) })
	return r
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok", "version": s.version})
}

func (s *Server) readyz(c *gin.Context) {
	b := s.backend.Load()
	if b == nil {
		writeError(c, http.StatusServiceUnavailable, *s.notReady.Load())
		return
	}
	st := &b.Store
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := (*st).Ping(ctx); err != nil {
		writeError(c, http.StatusServiceUnavailable, "database: "+err.Error())
		return
	}
	cur, latest, err := (*st).MigrationStatus(ctx)
	if err != nil {
		writeError(c, http.StatusServiceUnavailable, "database: reading migration status: "+err.Error())
		return
	}
	if cur != latest {
		writeError(c, http.StatusServiceUnavailable, fmt.Sprintf("database: schema at version %d, this binary needs %d: run yanit migrate", cur, latest))
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "store": (*st).Dialect(), "schema_version": cur})
}

// observe counts requests and their latency per route pattern (never per
// raw path, so that ids in paths cannot explode the metric's cardinality).
func (s *Server) observe() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		s.requests.WithLabelValues(c.Request.Method, route, strconv.Itoa(c.Writer.Status())).Inc()
		s.duration.WithLabelValues(c.Request.Method, route).Observe(time.Since(start).Seconds())
	}
}

// limitBody bounds every request's body: uploads to the knowledge base by
// MaxUploadBytes, the rest (webhooks, API calls) by MaxBodyBytes.
func (s *Server) limitBody() gin.HandlerFunc {
	return func(c *gin.Context) {
		limit := s.maxBody
		if c.FullPath() == uploadRoute {
			limit = s.maxUpload
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		c.Next()
	}
}

// recoverer turns a handler panic into a 500 and a log line with the cause.
func (s *Server) recoverer() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("handler panicked", slog.String("route", c.FullPath()), slog.Any("panic", p))
				writeError(c, http.StatusInternalServerError, "internal error")
			}
		}()
		c.Next()
	}
}

// writeError writes the one error shape of the API: {"error": message}.
func writeError(c *gin.Context, status int, message string) {
	c.AbortWithStatusJSON(status, gin.H{"error": message})
}
