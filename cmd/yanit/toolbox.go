package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/configs"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/tools"
	"github.com/yanit/yanit/tools/demo"
	"github.com/yanit/yanit/web"
)

// toolbox holds the tools every assistant of the process calls, and the
// demo backend when the demo assistant runs.
type toolbox struct {
	log      *slog.Logger
	registry *tools.Registry
	// mu guards sets, http and backends once the API can change them.
	mu   sync.Mutex
	sets map[string][]string // API tool set → its tool names
	st   store.Store
	// http are the HTTP tools, by name, for tools list and tools test.
	http     map[string]*tools.HTTPTool
	backends []*tools.Backend
	// demoURL is the in-process demo backend's address, when it runs.
	demoURL string
	close   func()
}

// usesDemo reports whether an assistant of the config is the demo
// retailer (no definition file), whose tools call the demo backend.
func usesDemo(cfg config.Config) bool {
	if len(cfg.Assistants) == 0 {
		return true
	}
	for _, a := range cfg.Assistants {
		if a.File == "" {
			return true
		}
	}
	return false
}

// newToolbox loads the tools: the demo's HTTP tools against a demo backend
// it starts on a loopback port (signed with a key made for this run), and
// the HTTP tools of tools.file. Metrics go to prom.
func newToolbox(cfg config.Config, log *slog.Logger, prom prometheus.Registerer) (*toolbox, error) {
	box := &toolbox{log: log, registry: tools.NewRegistry(), http: map[string]*tools.HTTPTool{}, sets: map[string][]string{}, close: func() {}}
	var all []tools.Tool
	if usesDemo(cfg) {
		url, key, stop, err := startDemoBackend(log)
		if err != nil {
			return nil, err
		}
		box.demoURL, box.close = url, stop
		env := func(name string) (string, bool) {
			switch name {
			case "YANIT_DEMO_BACKEND_URL":
				return url, true
			case "YANIT_DEMO_BACKEND_SECRET":
				return key, true
			}
			return os.LookupEnv(name)
		}
		ts, err := tools.LoadHTTPTools(configs.DemoTools, env, tools.HTTPOptions{Logger: log})
		if err != nil {
			stop()
			return nil, fmt.Errorf("the demo's tools: %w", err)
		}
		all = append(all, ts...)
	}
	if cfg.Tools.File != "" {
		data, err := os.ReadFile(cfg.Tools.File)
		if err == nil {
			var ts []tools.Tool
			ts, err = tools.LoadHTTPTools(data, os.LookupEnv, tools.HTTPOptions{Logger: log})
			all = append(all, ts...)
		}
		if err != nil {
			box.close()
			return nil, fmt.Errorf("tools.file %s: %w", cfg.Tools.File, err)
		}
	}
	for _, t := range all {
		if err := box.registry.Register(t); err != nil {
			box.close()
			return nil, err
		}
		if h, ok := t.(*tools.HTTPTool); ok {
			box.http[t.Spec().Name] = h
		}
	}
	box.backends = tools.Backends(all)
	box.registry.Observe(tools.NewMetrics(prom, box.backends).Observe)
	return box, nil
}

// startDemoBackend serves the demo retailer's backend on a loopback port
// with a signing key of its own.
func startDemoBackend(log *slog.Logger) (url, key string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", nil, fmt.Errorf("starting the demo backend: %w", err)
	}
	key = randomKey()
	srv := &http.Server{
		Handler:           demo.NewBackend(demo.New(time.Now), []byte(key), demo.BackendOptions{Logger: log}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("demo backend stopped", slog.String("error", err.Error()))
		}
	}()
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), key, stop, nil
}

func randomKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// setName is what an API tool set may be called.
var setName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)

// loadSets registers the tool sets stored through the admin API. A set
// that no longer loads here (an environment variable missing on this
// instance) is logged and left out: the other tools still work.
func (b *toolbox) loadSets(ctx context.Context, st store.Store) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.st = st
	sets, err := st.ListToolSets(ctx)
	if err != nil {
		return fmt.Errorf("loading the tool sets: %w", err)
	}
	for _, set := range sets {
		if _, err := b.applyLocked(set.Name, set.Body); err != nil {
			b.log.Error("a stored tool set does not load; its tools are left out", slog.String("set", set.Name), slog.String("error", err.Error()))
		}
	}
	return nil
}

// applyLocked loads a set's document and replaces the set's tools in the
// registry, all or nothing. b.mu is held.
func (b *toolbox) applyLocked(name string, body []byte) ([]string, error) {
	ts, err := tools.LoadHTTPTools(body, os.LookupEnv, tools.HTTPOptions{Logger: b.log})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", web.ErrInvalidInput, err)
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("%w: the document declares no tools", web.ErrInvalidInput)
	}
	if err := b.registry.Replace(b.sets[name], ts); err != nil {
		return nil, fmt.Errorf("%w: %v", store.ErrConflict, err)
	}
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Spec().Name
	}
	for _, old := range b.sets[name] {
		delete(b.http, old)
	}
	for _, t := range ts {
		b.http[t.Spec().Name] = t.(*tools.HTTPTool)
	}
	b.sets[name] = names
	b.backends = b.currentBackends()
	return names, nil
}

// currentBackends lists the backends of the registered HTTP tools.
func (b *toolbox) currentBackends() []*tools.Backend {
	var ts []tools.Tool
	for _, h := range b.http {
		ts = append(ts, h)
	}
	return tools.Backends(ts)
}

// PutToolSet validates, applies and stores a set (web.ToolAdmin).
func (b *toolbox) PutToolSet(ctx context.Context, name string, body []byte) ([]string, error) {
	if !setName.MatchString(name) {
		return nil, fmt.Errorf("%w: set name %q must be lower-case letters, digits, - and _", web.ErrInvalidInput, name)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.st == nil {
		return nil, errors.New("the store is not attached yet")
	}
	old := b.sets[name]
	var oldBody []byte
	if old != nil {
		sets, err := b.st.ListToolSets(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range sets {
			if s.Name == name {
				oldBody = s.Body
			}
		}
	}
	names, err := b.applyLocked(name, body)
	if err != nil {
		return nil, err
	}
	if _, err := b.st.PutToolSet(ctx, name, body); err != nil {
		// Not stored: put the previous tools back.
		b.restoreLocked(name, oldBody)
		return nil, err
	}
	return names, nil
}

// restoreLocked puts a set back as it was before a failed change.
func (b *toolbox) restoreLocked(name string, body []byte) {
	if body != nil {
		if _, err := b.applyLocked(name, body); err == nil {
			return
		}
	}
	_ = b.registry.Replace(b.sets[name], nil)
	for _, n := range b.sets[name] {
		delete(b.http, n)
	}
	delete(b.sets, name)
	b.backends = b.currentBackends()
}

// DeleteToolSet removes a set from the store and its tools from the
// registry (web.ToolAdmin).
func (b *toolbox) DeleteToolSet(ctx context.Context, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.st == nil {
		return errors.New("the store is not attached yet")
	}
	if err := b.st.DeleteToolSet(ctx, name); err != nil {
		return err
	}
	b.restoreLocked(name, nil)
	return nil
}

// ListTools describes every registered tool (web.ToolAdmin).
func (b *toolbox) ListTools() []web.ToolInfo {
	b.mu.Lock()
	defer b.mu.Unlock()
	setOf := map[string]string{}
	for set, names := range b.sets {
		for _, n := range names {
			setOf[n] = set
		}
	}
	var out []web.ToolInfo
	for _, s := range b.registry.Specs() {
		info := web.ToolInfo{Name: s.Name, Kind: "go", Set: setOf[s.Name], Description: s.Description,
			Parameters: s.Parameters, Mutates: s.Mutates, Idempotent: s.Idempotent}
		if h, ok := b.http[s.Name]; ok {
			info.Kind, info.Backend, info.Breaker = "http", h.Backend().Name(), string(h.Backend().State())
		}
		out = append(out, info)
	}
	return out
}
