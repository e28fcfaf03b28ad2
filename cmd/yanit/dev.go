package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/configs"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/web"
)

func newDevCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "dev",
		Short: "Run yanit locally with nothing installed: SQLite, demo config, generated secrets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadDevConfig(g)
			if err != nil {
				return err
			}
			generated := fillDevSecrets(&cfg)
			log := newLogger(g.stderr, cfg.Log, cfg.Privacy)
			return serve(cmd.Context(), cfg, log, serveOptions{simulator: true, started: func(a *app) {
				printDevBanner(g.stdout, a, generated)
			}, onStore: func(ctx context.Context, st store.Store) error {
				return ensureDevAdmin(ctx, st, g.stdout)
			}})
		},
	}
}

// loadDevConfig loads the config of the local commands (dev, chat): the
// --config file and YANIT_* over the embedded dev defaults.
func loadDevConfig(g *globals) (config.Config, error) {
	defaults, err := devDefaults()
	if err != nil {
		return config.Config{}, err
	}
	return config.Load(g.configPath, defaults, config.Dev)
}

// devDefaults are the defaults overlaid with the embedded configs/dev.yaml.
func devDefaults() (config.Config, error) {
	cfg := config.Default()
	dec := yaml.NewDecoder(bytes.NewReader(configs.Dev))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("reading the embedded dev config: %w", err)
	}
	return cfg, nil
}

// fillDevSecrets generates every secret the config lacks and returns them by
// key, so that the banner can print them: they are for this dev run only.
func fillDevSecrets(cfg *config.Config) map[string]string {
	out := map[string]string{}
	for _, s := range []struct {
		key string
		val *string
	}{
		{"whatsapp.app_secret", &cfg.WhatsApp.AppSecret},
		{"whatsapp.verify_token", &cfg.WhatsApp.VerifyToken},
		{"whatsapp.access_token", &cfg.WhatsApp.AccessToken},
	} {
		if *s.val == "" {
			*s.val = "dev-" + randomHex(16)
			out[s.key] = *s.val
		}
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

func printDevBanner(w io.Writer, a *app, generated map[string]string) {
	base := "http://" + a.addr.String()
	fmt.Fprintf(w, "\nyanit dev is running (version %s)\n\n", version)
	fmt.Fprintf(w, "  store     %s\n", storeLocation(a.cfg))
	fmt.Fprintf(w, "  health    %s/healthz\n", base)
	fmt.Fprintf(w, "  ready     %s/readyz\n", base)
	fmt.Fprintf(w, "  metrics   %s/metrics\n", base)
	fmt.Fprintf(w, "  webhook   %s/webhooks/whatsapp\n", base)
	if a.sim != nil {
		fmt.Fprintf(w, "  chat      %s/sim   (WhatsApp simulator: chat with the demo assistant)\n", base)
	}
	fmt.Fprintf(w, "  console   %s/console/   (knowledge; sign in as below)\n", base)
	if len(generated) > 0 {
		fmt.Fprintf(w, "\n  dev secrets, generated for this run only (set YANIT_* to fix them):\n")
		for _, k := range []string{"whatsapp.app_secret", "whatsapp.verify_token", "whatsapp.access_token"} {
			if v, ok := generated[k]; ok {
				fmt.Fprintf(w, "    %-22s %s\n", k, v)
			}
		}
	}
	fmt.Fprintf(w, "\n  Ctrl-C stops it.\n\n")
}

// DevAdmin is the login of the user yanit dev makes in an empty store.
const DevAdmin = "admin"

// ensureDevAdmin makes the first user of a store without users, an admin
// with a random password printed once on w, so that the console and the
// API of yanit dev are usable at once. A store with users is left alone.
func ensureDevAdmin(ctx context.Context, st store.Store, w io.Writer) error {
	users, err := st.ListUsers(ctx)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		fmt.Fprintf(w, "  console users exist already (yanit users list; yanit users password %s resets a password)\n\n", users[0].Login)
		return nil
	}
	password := "dev-" + randomHex(12)
	hash, err := web.HashPassword(password)
	if err != nil {
		return err
	}
	if _, err := st.CreateUser(ctx, store.User{Login: DevAdmin, Name: "Dev admin", Role: store.RoleAdmin, PasswordHash: hash}); err != nil {
		return err
	}
	fmt.Fprintf(w, "  console user made for this store, shown once:\n    login     %s\n    password  %s\n\n", DevAdmin, password)
	return nil
}
