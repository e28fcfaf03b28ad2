package main

import (
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/yanit/yanit/config"
)

func newConfigCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Inspect the configuration", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	var dev bool
	print := &cobra.Command{
		Use:   "print",
		Short: "Print the effective configuration, secrets masked",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			defaults, mode := config.Default(), config.Tool
			if dev {
				var err error
				if defaults, err = devDefaults(); err != nil {
					return err
				}
			}
			cfg, err := config.Load(g.configPath, defaults, mode)
			if err != nil {
				return err
			}
			enc := yaml.NewEncoder(g.stdout)
			enc.SetIndent(2)
			if err := enc.Encode(cfg.Masked()); err != nil {
				return err
			}
			return enc.Close()
		},
	}
	print.Flags().BoolVar(&dev, "dev", false, "start from the defaults of yanit dev")
	cmd.AddCommand(print)
	return cmd
}
