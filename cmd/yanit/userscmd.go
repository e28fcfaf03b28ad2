package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/web"
)

func newUsersCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Add, list, disable and enable users; set passwords; make and revoke API tokens",
		Long: "users manages the people who use the console and the API, in the store the config\n" +
			"selects (the SQLite file in data_dir, or PostgreSQL when YANIT_DATABASE_URL is set).\n\n" +
			"Roles: admin (everything), agent (the inbox of their teams), content (the knowledge\n" +
			"base), qa (evaluation and the conversations' traces).\n\n" +
			"Passwords are read from the terminal without echo, or from the first line of stdin\n" +
			"with --password-stdin; they are stored as argon2id hashes. API tokens are shown once,\n" +
			"when made, and stored as their SHA-256.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newUsersAddCmd(g), newUsersListCmd(g), newUsersSetDisabledCmd(g, true), newUsersSetDisabledCmd(g, false),
		newUsersPasswordCmd(g), newUsersTokenCmd(g), newUsersRevokeCmd(g))
	return cmd
}

// withConfigStore loads the config, opens and migrates its store and runs
// fn with both for one command, closing the store after.
func withConfigStore(ctx context.Context, g *globals, fn func(cfg config.Config, st store.Store) error) error {
	cfg, err := loadDevConfig(g)
	if err != nil {
		return err
	}
	st, err := openAndMigrate(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(cfg, st)
}

// withStore opens and migrates the configured store for one command.
func withStore(ctx context.Context, g *globals, fn func(st store.Store) error) error {
	return withConfigStore(ctx, g, func(_ config.Config, st store.Store) error { return fn(st) })
}

// auditCLI records a change made to a user from the machine's command
// line in the audit log.
func auditCLI(ctx context.Context, st store.Store, action string, u store.User, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	detail["login"] = u.Login
	b, _ := json.Marshal(detail)
	if _, err := st.AppendAudit(ctx, store.AuditEntry{Actor: privacy.ActorCLI.Name, Action: action,
		Target: "user:" + strconv.FormatInt(u.ID, 10), Detail: b}); err != nil {
		return fmt.Errorf("recording %s in the audit log: %w", action, err)
	}
	return nil
}

// readPassword reads a new password: the first line of stdin with
// fromStdin, else twice from the terminal without echo.
func readPassword(cmd *cobra.Command, g *globals, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("reading the password from stdin: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	f, ok := cmd.InOrStdin().(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("no terminal to read the password from: pass it on stdin with --password-stdin")
	}
	var pw [2]string
	for i, prompt := range []string{"Password: ", "Again: "} {
		fmt.Fprint(g.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(g.stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		pw[i] = string(b)
	}
	if pw[0] != pw[1] {
		return "", errors.New("the two passwords differ")
	}
	return pw[0], nil
}

func splitList(s string) []string {
	var out []string
	for x := range strings.SplitSeq(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func newUsersAddCmd(g *globals) *cobra.Command {
	var role, name, teams string
	var passwordStdin, noPassword bool
	cmd := &cobra.Command{
		Use:   "add LOGIN --role ROLE",
		Short: "Add a user",
		Long: "add stores a new user. LOGIN is lower case: letters, digits and . - _ @ (an e-mail\n" +
			"address works). With --no-password the user signs in nowhere and only holds API\n" +
			"tokens (an integration).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u := store.User{Login: args[0], Name: name, Role: role, Teams: splitList(teams)}
			if u.Name == "" {
				u.Name = u.Login
			}
			if err := u.Validate(); err != nil {
				return err
			}
			if !noPassword {
				pw, err := readPassword(cmd, g, passwordStdin)
				if err != nil {
					return err
				}
				if u.PasswordHash, err = web.HashPassword(pw); err != nil {
					return err
				}
			}
			return withStore(cmd.Context(), g, func(st store.Store) error {
				u, err := st.CreateUser(cmd.Context(), u)
				if errors.Is(err, store.ErrConflict) {
					return fmt.Errorf("user %q exists already", args[0])
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "added %s (%s)\n", u.Login, u.Role)
				return auditCLI(cmd.Context(), st, "user.created", u, map[string]any{"role": u.Role, "teams": u.Teams})
			})
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "admin, agent, content or qa (required)")
	cmd.Flags().StringVar(&name, "name", "", "the name shown in the console (default: the login)")
	cmd.Flags().StringVar(&teams, "teams", "", "an agent's teams, comma-separated")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of stdin")
	cmd.Flags().BoolVar(&noPassword, "no-password", false, "no password: the user only holds API tokens")
	_ = cmd.MarkFlagRequired("role")
	return cmd
}

func newUsersListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the users with their role, teams, state and tokens",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), g, func(st store.Store) error {
				users, err := st.ListUsers(cmd.Context())
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "LOGIN\tNAME\tROLE\tTEAMS\tSTATE\tTOKENS")
				for _, u := range users {
					toks, err := st.ListAPITokens(cmd.Context(), u.ID)
					if err != nil {
						return err
					}
					var valid []string
					for _, t := range toks {
						if t.RevokedAt.IsZero() {
							valid = append(valid, fmt.Sprintf("%d:%s", t.ID, t.Name))
						}
					}
					state := "active"
					switch {
					case u.Disabled:
						state = "disabled"
					case u.PasswordHash == "":
						state = "tokens only"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Login, u.Name, u.Role, strings.Join(u.Teams, ","), state, strings.Join(valid, " "))
				}
				return w.Flush()
			})
		},
	}
}

// userByLogin finds a user or says there is none.
func userByLogin(ctx context.Context, st store.Store, login string) (store.User, error) {
	u, err := st.GetUserByLogin(ctx, login)
	if errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("no user %q (yanit users list shows them)", login)
	}
	return u, err
}

func newUsersSetDisabledCmd(g *globals, disable bool) *cobra.Command {
	use, short := "enable LOGIN", "Let a disabled user sign in and use their tokens again"
	if disable {
		use, short = "disable LOGIN", "Stop a user at once: their sessions end and their tokens stop working"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd.Context(), g, func(st store.Store) error {
				ctx := cmd.Context()
				u, err := userByLogin(ctx, st, args[0])
				if err != nil {
					return err
				}
				u.Disabled = disable
				if _, err := st.UpdateUser(ctx, u); err != nil {
					return err
				}
				if !disable {
					fmt.Fprintf(g.stdout, "enabled %s\n", u.Login)
					return auditCLI(ctx, st, "user.enabled", u, nil)
				}
				n, err := st.DeleteUserSessions(ctx, u.ID)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "disabled %s (%d session(s) ended)\n", u.Login, n)
				return auditCLI(ctx, st, "user.disabled", u, map[string]any{"sessions_ended": n})
			})
		},
	}
}

func newUsersPasswordCmd(g *globals) *cobra.Command {
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "password LOGIN",
		Short: "Set a user's password; their console sessions end",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readPassword(cmd, g, passwordStdin)
			if err != nil {
				return err
			}
			hash, err := web.HashPassword(pw)
			if err != nil {
				return err
			}
			return withStore(cmd.Context(), g, func(st store.Store) error {
				ctx := cmd.Context()
				u, err := userByLogin(ctx, st, args[0])
				if err != nil {
					return err
				}
				u.PasswordHash = hash
				if _, err := st.UpdateUser(ctx, u); err != nil {
					return err
				}
				if _, err := st.DeleteUserSessions(ctx, u.ID); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "password of %s set\n", u.Login)
				return auditCLI(ctx, st, "user.password_set", u, nil)
			})
		},
	}
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of stdin")
	return cmd
}

func newUsersTokenCmd(g *globals) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "token LOGIN --name NAME",
		Short: "Make an API token of a user and print it, once",
		Long: "token makes a bearer token for the API with the user's role and prints it on stdout:\n" +
			"it is shown this once and only its SHA-256 is stored. Send it as\n" +
			"Authorization: Bearer TOKEN.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(name) == "" {
				return errors.New("--name: say what the token is for (\"crm sync\")")
			}
			return withStore(cmd.Context(), g, func(st store.Store) error {
				ctx := cmd.Context()
				u, err := userByLogin(ctx, st, args[0])
				if err != nil {
					return err
				}
				token, hash := web.NewAPIToken()
				t, err := st.CreateAPIToken(ctx, store.APIToken{UserID: u.ID, Name: name, Hash: hash})
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stderr, "token %d of %s (%s), shown once:\n", t.ID, u.Login, u.Role)
				fmt.Fprintln(g.stdout, token)
				return auditCLI(ctx, st, "user.token_created", u, map[string]any{"token_id": t.ID, "name": t.Name})
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "what the token is for (required)")
	return cmd
}

func newUsersRevokeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke LOGIN TOKEN_ID",
		Short: "Revoke an API token of a user (yanit users list shows the ids)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil {
				return fmt.Errorf("token id %q: want a number", args[1])
			}
			return withStore(cmd.Context(), g, func(st store.Store) error {
				ctx := cmd.Context()
				u, err := userByLogin(ctx, st, args[0])
				if err != nil {
					return err
				}
				toks, err := st.ListAPITokens(ctx, u.ID)
				if err != nil {
					return err
				}
				for _, t := range toks {
					if t.ID != id {
						continue
					}
					if !t.RevokedAt.IsZero() {
						return fmt.Errorf("token %d of %s was revoked already", id, u.Login)
					}
					if err := st.RevokeAPIToken(ctx, id, time.Now()); err != nil {
						return err
					}
					fmt.Fprintf(g.stdout, "revoked token %d (%s) of %s\n", id, t.Name, u.Login)
					return auditCLI(ctx, st, "user.token_revoked", u, map[string]any{"token_id": id, "name": t.Name})
				}
				return fmt.Errorf("%s has no token %d", u.Login, id)
			})
		},
	}
}
