package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/tools"
	"github.com/yanit/yanit/tools/demo"
)

func newToolsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tools",
		Short: "List the tools assistants can call, and try one against its backend",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newToolsListCmd(g), newToolsTestCmd(g))
	return cmd
}

// loadToolbox loads the tools as yanit dev would: the demo's (its backend
// runs in-process), tools.file's and the sets stored through the admin
// API, logging only warnings.
func loadToolbox(ctx context.Context, g *globals) (*toolbox, error) {
	cfg, err := loadDevConfig(g)
	if err != nil {
		return nil, err
	}
	cfg.Log.Level = "warn"
	box, err := newToolbox(cfg, newLogger(g.stderr, cfg.Log, cfg.Privacy), prometheus.NewRegistry())
	if err != nil {
		return nil, err
	}
	st, err := openAndMigrate(ctx, cfg)
	if err == nil {
		err = box.loadSets(ctx, st)
		stop := box.close
		box.close = func() { st.Close(); stop() }
	}
	if err != nil {
		box.close()
		return nil, err
	}
	return box, nil
}

func newToolsListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "The tools: name, kind, arguments, whether they change state, backend health",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			box, err := loadToolbox(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer box.close()
			health := backendHealth(cmd.Context(), box)
			w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tKIND\tARGUMENTS\tCHANGES STATE\tRETRIED\tBACKEND")
			for _, s := range box.registry.Specs() {
				kind, backend := "go", "-"
				if h, ok := box.http[s.Name]; ok {
					kind, backend = "http", h.Backend().Name()+" ("+health[h.Backend().Name()]+")"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, kind, arguments(s.Parameters), yesNo(s.Mutates), yesNo(s.Idempotent), backend)
			}
			return w.Flush()
		},
	}
}

// backendHealth is each HTTP backend's breaker state and the answer of
// its /healthz.
func backendHealth(ctx context.Context, box *toolbox) map[string]string {
	out := map[string]string{}
	client := &http.Client{Timeout: 3 * time.Second}
	for _, b := range box.backends {
		out[b.Name()] = "breaker " + string(b.State())
	}
	if box.demoURL != "" {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, box.demoURL+"/healthz", nil)
		res, err := client.Do(req)
		switch {
		case err != nil:
			out["demo"] += ", /healthz: " + err.Error()
		default:
			res.Body.Close()
			out["demo"] += ", /healthz " + res.Status
		}
	}
	return out
}

// arguments summarises a JSON Schema's properties: required ones first,
// optional ones with a question mark.
func arguments(schema json.RawMessage) string {
	var s struct {
		Required   []string                   `json:"required"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if json.Unmarshal(schema, &s) != nil {
		return "?"
	}
	var names []string
	for name := range s.Properties {
		if !slices.Contains(s.Required, name) {
			names = append(names, name+"?")
		}
	}
	sort.Strings(names)
	return strings.Join(append(slices.Clone(s.Required), names...), ", ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func newToolsTestCmd(g *globals) *cobra.Command {
	var args string
	cmd := &cobra.Command{
		Use:   "test NAME --args '{...}'",
		Short: "Call one tool with arguments, showing the exact request and the result",
		Long: "test validates the arguments against the tool's schema, prints the HTTP request it sends\n" +
			"(secret header values masked), calls the tool through the registry (timeouts, retries,\n" +
			"breaker) and prints the result's user and agent fields, or the typed error.\n" +
			"It exits 1 when the call fails.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			box, err := loadToolbox(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer box.close()
			name := pos[0]
			if _, ok := box.registry.Get(name); !ok {
				var names []string
				for _, s := range box.registry.Specs() {
					names = append(names, s.Name)
				}
				return fmt.Errorf("no tool %q; the tools are: %s", name, strings.Join(names, ", "))
			}
			if !json.Valid([]byte(args)) {
				return fmt.Errorf("--args: %q is not JSON; give an object like '{\"order_id\":\"SP-2026-0001\"}'", args)
			}
			if h, ok := box.http[name]; ok {
				method, url, headers, body, err := h.DescribeRequest(json.RawMessage(args))
				if err == nil {
					fmt.Fprintf(g.stdout, "request:\n  %s %s\n", method, url)
					keys := make([]string, 0, len(headers))
					for k := range headers {
						keys = append(keys, k)
					}
					sort.Strings(keys)
					for _, k := range keys {
						fmt.Fprintf(g.stdout, "  %s: %s\n", k, strings.Join(headers[k], ", "))
					}
					if len(body) > 0 {
						fmt.Fprintf(g.stdout, "\n  %s\n", body)
					}
				}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			call, err := box.registry.Call(ctx, name, json.RawMessage(args))
			fmt.Fprintf(g.stdout, "\nresult: %d attempt(s), %s\n", call.Attempts, call.Latency.Round(time.Microsecond))
			if err != nil {
				var te *tools.Error
				if errors.As(err, &te) && te.Field != "" {
					return fmt.Errorf("%s (field %s): %w", tools.KindOf(err), te.Field, err)
				}
				return fmt.Errorf("%s: %w", tools.KindOf(err), err)
			}
			out, _ := json.MarshalIndent(call.Result, "  ", "  ")
			fmt.Fprintf(g.stdout, "  %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&args, "args", "{}", "the arguments, a JSON object")
	return cmd
}

func newDemoBackendCmd(g *globals) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "demo-backend",
		Short: "Serve the demo retailer's systems (orders, store cards, appointments) over HTTP",
		Long: "demo-backend serves the fictional retailer's orders, store-card balances and in-store\n" +
			"appointments, the backend of configs/demo-tools.yaml. Every request must carry a valid\n" +
			"X-Yanit-Signature made with the key in YANIT_DEMO_BACKEND_SECRET (at least 16 characters).\n" +
			"yanit dev runs one in-process; this command runs it on its own.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			key := os.Getenv("YANIT_DEMO_BACKEND_SECRET")
			if len(key) < tools.MinSigningSecret {
				return fmt.Errorf("YANIT_DEMO_BACKEND_SECRET must be set to at least %d characters: the key requests are signed with", tools.MinSigningSecret)
			}
			log := newLogger(g.stderr, config.Default().Log, config.Default().Privacy)
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("--addr %s: %w", addr, err)
			}
			srv := &http.Server{
				Handler:           demo.NewBackend(demo.New(time.Now), []byte(key), demo.BackendOptions{Logger: log}),
				ReadHeaderTimeout: 5 * time.Second,
			}
			log.Info("demo backend listening", slog.String("addr", ln.Addr().String()))
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ln) }()
			select {
			case err := <-done:
				return err
			case <-cmd.Context().Done():
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(ctx)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8090", "the address to listen on")
	return cmd
}
