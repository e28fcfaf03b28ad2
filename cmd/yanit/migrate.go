package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/yanit/yanit/config"
)

func newMigrateCmd(g *globals) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database migrations (forward only) and report the schema version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(g.configPath, config.Default(), config.Tool)
			if err != nil {
				return err
			}
			log := newLogger(g.stderr, cfg.Log, cfg.Privacy)
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			st, err := connect(ctx, cfg, log, func(string) {})
			if err != nil {
				return err
			}
			defer st.Close()
			cur, latest, err := st.MigrationStatus(ctx)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(g.stdout, "%s: schema at version %d of %d\n", storeLocation(cfg), cur, latest)
			return err
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "give up when the database is not reachable within this time")
	return cmd
}
