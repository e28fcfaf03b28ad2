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
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/configs"
	"github.com/yanit/yanit/tools"
	"github.com/yanit/yanit/tools/demo"
)

// toolbox holds the tools every assistant of the process calls, and the
// demo backend when the demo assistant runs.
type toolbox struct {
	registry *tools.Registry
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
	box := &toolbox{registry: tools.NewRegistry(), http: map[string]*tools.HTTPTool{}, close: func() {}}
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
