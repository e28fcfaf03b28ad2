package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nyaruka/phonenumbers"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/sealed"
)

func newPrivacyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "privacy",
		Short: "Erase or export a contact's data, apply retention, read the audit log, manage encryption keys",
		Long: "privacy answers data subjects' requests (KVKK article 11, GDPR articles 15 and 17) and\n" +
			"runs the data rules by hand, on the store the config selects. Every erasure and\n" +
			"export is recorded in the append-only audit log, with the actor cli.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newPrivacyEraseCmd(g), newPrivacyExportCmd(g), newPrivacyExpireCmd(g), newPrivacyAuditCmd(g),
		newPrivacyKeygenCmd(g), newPrivacyRotateCmd(g))
	return cmd
}

// findContact reads --contact: a contact id, or a phone number in any
// usual writing (+90 532 123 45 67, 05321234567) read in region.
func findContact(ctx context.Context, st store.Store, ref, region string) (store.Contact, error) {
	if ref == "" {
		return store.Contact{}, errors.New("--contact is required: a contact id or a phone number")
	}
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil && id > 0 && len(ref) < 9 {
		c, err := st.GetContact(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return c, fmt.Errorf("no contact has the id %d", id)
		}
		return c, err
	}
	num, err := phonenumbers.Parse(ref, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return store.Contact{}, fmt.Errorf("--contact %q: neither a contact id nor a valid phone number (read in region %s)", ref, region)
	}
	waID := strings.TrimPrefix(phonenumbers.Format(num, phonenumbers.E164), "+")
	found, err := st.ContactsByWaID(ctx, []string{waID})
	if err != nil {
		return store.Contact{}, err
	}
	if len(found) == 0 {
		return store.Contact{}, fmt.Errorf("no contact has the number +%s", waID)
	}
	return found[0], nil
}

func newPrivacyEraseCmd(g *globals) *cobra.Command {
	var ref string
	cmd := &cobra.Command{
		Use:   "erase --contact ID|PHONE",
		Short: "Erase a contact and everything personal held about them",
		Long: "erase removes the contact, its conversations, messages, turns, tickets with their\n" +
			"history, consent records and pending jobs, in one transaction, and prints what it\n" +
			"removed. The audit log keeps an entry of the erasure (who, when, the counts).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadDevConfig(g)
			if err != nil {
				return err
			}
			return withStore(cmd.Context(), g, func(st store.Store) error {
				c, err := findContact(cmd.Context(), st, ref, cfg.Privacy.Region)
				if err != nil {
					return err
				}
				gone, err := privacy.Erase(cmd.Context(), st, c.ID, privacy.ActorCLI)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "erased contact %d (%s)\n", c.ID, privacy.MaskPhone(c.WaID))
				w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				for _, row := range []struct {
					name string
					n    int
				}{{"conversations", gone.Conversations}, {"messages", gone.Messages}, {"turns", gone.Turns}, {"tickets", gone.Tickets},
					{"ticket events", gone.TicketEvents}, {"consent records", gone.Consents}, {"jobs", gone.Jobs}} {
					fmt.Fprintf(w, "  %s\t%d\n", row.name, row.n)
				}
				return w.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&ref, "contact", "", "the contact: its id or its phone number (required)")
	return cmd
}

func newPrivacyExportCmd(g *globals) *cobra.Command {
	var ref, out string
	cmd := &cobra.Command{
		Use:   "export --contact ID|PHONE [--out FILE]",
		Short: "Export everything held about a contact as JSON (a data access request)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadDevConfig(g)
			if err != nil {
				return err
			}
			return withStore(cmd.Context(), g, func(st store.Store) error {
				c, err := findContact(cmd.Context(), st, ref, cfg.Privacy.Region)
				if err != nil {
					return err
				}
				x, err := privacy.ExportContactData(cmd.Context(), st, c.ID, privacy.ActorCLI)
				if err != nil {
					return err
				}
				b, err := json.MarshalIndent(x, "", "  ")
				if err != nil {
					return err
				}
				b = append(b, '\n')
				if out == "" || out == "-" {
					_, err = g.stdout.Write(b)
					return err
				}
				if err := writePrivate(out, b); err != nil {
					return err
				}
				fmt.Fprintf(g.stderr, "exported contact %d to %s: %d conversations, %d tickets, %d consent records\n",
					c.ID, out, len(x.Conversations), len(x.Tickets), len(x.Consents))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&ref, "contact", "", "the contact: its id or its phone number (required)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the JSON to this file (mode 0600) instead of stdout")
	return cmd
}

// writePrivate writes b to the file at path, readable by its owner only:
// a file that exists already is truncated and its mode narrowed before
// anything is written to it.
func writePrivate(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func newPrivacyExpireCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "expire",
		Short: "Apply the assistants' retention now (serve does it every privacy.retention_every)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadDevConfig(g)
			if err != nil {
				return err
			}
			log := newLogger(g.stderr, cfg.Log, cfg.Privacy)
			return withStore(cmd.Context(), g, func(st store.Store) error {
				box, err := newToolbox(cfg, log, prometheus.NewRegistry())
				if err != nil {
					return err
				}
				router, err := assistants(cmd.Context(), cfg, log, box.registry, st)
				if err != nil {
					return err
				}
				policies := retentionPolicies(router)
				got, err := privacy.Retainer{Store: st, Policies: policies, Log: log}.Expire(cmd.Context())
				if err != nil {
					return err
				}
				for _, p := range policies {
					fmt.Fprintf(g.stdout, "assistant %s keeps %d days on %s\n", p.Assistant, p.Days, strings.Join(p.PhoneNumberIDs, ", "))
				}
				fmt.Fprintf(g.stdout, "cleared %d messages, %d turn traces, %d tickets, %d conversation states\n", got.Messages, got.Turns, got.Tickets, got.Conversations)
				return nil
			})
		},
	}
}

func newPrivacyAuditCmd(g *globals) *cobra.Command {
	var f store.AuditFilter
	var since time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "audit [--action consent.] [--target contact:12] [--actor LOGIN] [--since 24h]",
		Short: "Read the audit log, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if since > 0 {
				f.Since = time.Now().Add(-since)
			}
			return withStore(cmd.Context(), g, func(st store.Store) error {
				entries, err := st.ListAudit(cmd.Context(), f)
				if err != nil {
					return err
				}
				if asJSON {
					enc := json.NewEncoder(g.stdout)
					for _, e := range entries {
						line := struct {
							ID      int64           `json:"id"`
							Actor   string          `json:"actor"`
							ActorID int64           `json:"actor_id,omitempty"`
							Action  string          `json:"action"`
							Target  string          `json:"target"`
							Address string          `json:"address,omitempty"`
							Detail  json.RawMessage `json:"detail,omitempty"`
							At      time.Time       `json:"at"`
						}{e.ID, e.Actor, e.ActorID, e.Action, e.Target, e.Address, e.Detail, e.At.UTC()}
						if err := enc.Encode(line); err != nil {
							return err
						}
					}
					return nil
				}
				w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tAT\tACTOR\tACTION\tTARGET\tFROM\tDETAIL")
				for _, e := range entries {
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.At.UTC().Format(time.RFC3339), e.Actor, e.Action, e.Target, e.Address, e.Detail)
				}
				return w.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&f.Action, "action", "", "an action, or a prefix ending in a dot (consent.)")
	cmd.Flags().StringVar(&f.Target, "target", "", "what was touched: contact:12, ticket:7, …")
	cmd.Flags().StringVar(&f.Actor, "actor", "", "who acted: a login, cli, system, contact:12")
	cmd.Flags().DurationVar(&since, "since", 0, "only entries this recent (24h, 720h)")
	cmd.Flags().IntVar(&f.Limit, "limit", 100, "at most this many entries (1 to 1000)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per line")
	return cmd
}

func newPrivacyKeygenCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "keygen ID",
		Short: "Print a new message-encryption key as ID:KEY, for privacy.encryption_keys",
		Long: "keygen prints a new random AES-256 key with its id, the form privacy.encryption_keys\n" +
			"(YANIT_PRIVACY_ENCRYPTION_KEYS) takes. Put the new key first to seal with it; keep\n" +
			"the old ones after it until `yanit privacy rotate` has re-sealed everything.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec := args[0] + ":" + privacy.GenerateKey()
			if _, err := privacy.ParseKeyring(spec); err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, spec)
			return nil
		},
	}
}

func newPrivacyRotateCmd(g *globals) *cobra.Command {
	var batch int
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Re-seal every message with the first key of privacy.encryption_keys",
		Long: "rotate re-encrypts every stored message body and payload that is plain or sealed\n" +
			"with another key, with the active (first) key, in batches of their own transactions;\n" +
			"run it after every instance runs with the new key first. A second run changes\n" +
			"nothing; then the old key may leave the list.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadDevConfig(g)
			if err != nil {
				return err
			}
			if cfg.Privacy.EncryptionKeys == "" {
				return errors.New("privacy.encryption_keys is empty: set YANIT_PRIVACY_ENCRYPTION_KEYS (yanit privacy keygen)")
			}
			keys, err := privacy.ParseKeyring(cfg.Privacy.EncryptionKeys)
			if err != nil {
				return fmt.Errorf("privacy.encryption_keys: %w", err)
			}
			return withStore(cmd.Context(), g, func(st store.Store) error {
				n, err := sealed.Rotate(cmd.Context(), st, keys, batch, nil)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "re-sealed %d messages with key %s\n", n, keys.Active())
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&batch, "batch", sealed.DefaultBatch, "messages per transaction")
	return cmd
}
