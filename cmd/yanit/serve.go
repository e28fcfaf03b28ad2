package main

import (
	"github.com/spf13/cobra"

	"github.com/yanit/yanit/config"
)

func newServeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run yanit in production: HTTP server and background jobs",
		Long: "Run yanit: the HTTP server (webhooks, APIs, /healthz, /readyz, /metrics) and the job runner.\n" +
			"The store is PostgreSQL when database.url (YANIT_DATABASE_URL) is set, else the embedded\n" +
			"SQLite file in data_dir (YANIT_DATA_DIR). Stops gracefully on SIGTERM.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(g.configPath, config.Default(), config.Serve)
			if err != nil {
				return err
			}
			return serve(cmd.Context(), cfg, newLogger(g.stderr, cfg.Log, cfg.Privacy), serveOptions{})
		},
	}
}
