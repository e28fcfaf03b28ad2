package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// execute runs the CLI with args and returns the process exit code.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "yanit:", err)
		if strings.HasPrefix(err.Error(), "unknown command") {
			fmt.Fprint(stderr, "\n", root.UsageString())
		}
		return 1
	}
	return 0
}

// globals are the flags every command shares.
type globals struct {
	configPath string
	stdout     io.Writer
	stderr     io.Writer
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "yanit",
		Short: "yanit runs customer-service assistants on WhatsApp",
		Long: "yanit runs customer-service assistants on WhatsApp: the AI assistant, the human agent inbox,\n" +
			"knowledge, tools, consent and broadcasts, in one binary.\n\n" +
			"Configuration comes from --config (YAML), overridden by YANIT_* environment variables\n" +
			"(whatsapp.app_secret ↔ YANIT_WHATSAPP_APP_SECRET); unset keys take their defaults.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&g.configPath, "config", os.Getenv("YANIT_CONFIG"), "YAML config file (env YANIT_CONFIG)")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w\n\n%s", err, cmd.UsageString())
	})
	root.AddCommand(
		newServeCmd(g),
		newDevCmd(g),
		newChatCmd(g),
		newToolsCmd(g),
		newKnowledgeCmd(g),
		newUsersCmd(g),
		newContactsCmd(g),
		newSegmentsCmd(g),
		newCampaignCmd(g),
		newPrivacyCmd(g),
		newDemoBackendCmd(g),
		newMigrateCmd(g),
		newConfigCmd(g),
		newVersionCmd(g),
		newEvalCmd(g),
	)
	return root
}
