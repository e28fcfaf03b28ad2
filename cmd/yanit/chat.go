package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/yanit/yanit/assistant"
	"github.com/yanit/yanit/channel"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/store"
)

func newChatCmd(g *globals) *cobra.Command {
	var debug bool
	var name, phone string
	cmd := &cobra.Command{
		Use:   "chat",
		Short: "Chat with the configured assistant in the terminal, on the embedded store",
		Long: "chat talks to the configured assistant as a WhatsApp user would, through the same\n" +
			"pipeline and outbox as yanit serve, with the terminal standing in for WhatsApp.\n" +
			"Type a message; type the number of a button or list row to tap it; /quit ends.\n" +
			"--debug shows the intent, confidence, decision and stage timings of every turn.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadDevConfig(g)
			if err != nil {
				return err
			}
			cfg.Log.Level = "warn"
			if debug {
				cfg.Log.Level = "info"
			}
			return chat(cmd.Context(), cfg, chatOptions{in: cmd.InOrStdin(), out: g.stdout, errOut: g.stderr, debug: debug, name: name, phone: phone})
		},
	}
	cmd.Flags().BoolVar(&debug, "debug", false, "show intent, confidence, decision and timings per turn")
	cmd.Flags().StringVar(&name, "name", "Terminal", "the user's profile name")
	cmd.Flags().StringVar(&phone, "phone", "905550000001", "the user's WhatsApp number (digits)")
	return cmd
}

type chatOptions struct {
	in          io.Reader
	out, errOut io.Writer
	debug       bool
	name, phone string
}

func chat(ctx context.Context, cfg config.Config, o chatOptions) error {
	if strings.Trim(o.phone, "0123456789") != "" || len(o.phone) < 8 || len(o.phone) > whatsapp.MaxPhoneDigits {
		return fmt.Errorf("--phone %q: must be 8 to 15 digits, country code first", o.phone)
	}
	log := newLogger(o.errOut, cfg.Log, cfg.Privacy)
	box, err := newToolbox(cfg, log, prometheus.NewRegistry())
	if err != nil {
		return err
	}
	defer box.close()
	st, err := openAndMigrate(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := box.loadSets(ctx, st); err != nil {
		return err
	}
	router, err := assistants(ctx, cfg, log, box.registry, st)
	if err != nil {
		return err
	}
	runner, err := jobs.NewRunner(st, jobs.Config{Worker: fmt.Sprintf("chat:%d", os.Getpid()), Concurrency: 2, PollInterval: 20 * time.Millisecond, Logger: log})
	if err != nil {
		return err
	}
	term := &terminal{out: o.out}
	// The terminal has no pair rate limit: a burst of 100 in a second.
	receiver, err := wireTurns(st, term, router, runner, log, channel.NewMetrics(nil), channel.NewLimiter(1000, 100, time.Second), nil, assistant.PipelineOptions{})
	if err != nil {
		return err
	}
	runner.Start()
	defer runner.Stop(context.Background())

	contact, err := st.UpsertContact(ctx, store.ContactUpsert{WaID: o.phone, Name: o.name})
	if err != nil {
		return err
	}
	fmt.Fprintf(o.out, "yanit chat: you are %s (+%s) writing to number %s. /quit ends.\n", o.name, o.phone, cfg.WhatsApp.PhoneNumberID)
	lines := bufio.NewScanner(o.in)
	for seq := 1; ; seq++ {
		fmt.Fprint(o.out, "> ")
		if !lines.Scan() {
			fmt.Fprintln(o.out)
			return lines.Err()
		}
		line := strings.TrimSpace(lines.Text())
		if line == "" {
			continue
		}
		if line == "/quit" || line == "/exit" {
			return nil
		}
		msg := whatsapp.Inbound{
			PhoneNumberID: cfg.WhatsApp.PhoneNumberID, WaID: o.phone, ProfileName: o.name,
			WAMID: fmt.Sprintf("wamid.chat.%d.%d", time.Now().UnixNano(), seq), Timestamp: time.Now(),
			Type: whatsapp.TypeText, Text: line, Raw: json.RawMessage(`{}`),
		}
		if c, ok := term.choice(line); ok {
			msg.Type, msg.Subtype, msg.Text, msg.ReplyID = whatsapp.TypeInteractive, c.kind, c.title, c.id
		}
		if _, err := receiver.Accept(ctx, whatsapp.Batch{Messages: []whatsapp.Inbound{msg}}); err != nil {
			return err
		}
		turn, err := waitForTurn(ctx, st, contact.ID, msg.WAMID, term)
		if err != nil {
			return err
		}
		if len(turn.OutboundIDs) == 0 {
			term.clearChoices() // nothing new to tap
		}
		switch {
		case o.debug:
			printTurn(o.out, turn)
		case turn.Decision == assistant.DecisionSilent:
			fmt.Fprintln(o.out, "       (a person owns this conversation now: the assistant stays silent)")
		}
	}
}

// waitForTurn waits until the turn that consumed the inbound message has
// run and every reply it queued went through the terminal.
func waitForTurn(ctx context.Context, st store.Store, contactID int64, wamid string, term *terminal) (store.Turn, error) {
	deadline := time.Now().Add(60 * time.Second)
	var conv int64
	for time.Now().Before(deadline) {
		if conv == 0 {
			convs, err := st.ListConversations(ctx, store.ConversationFilter{ContactID: contactID})
			if err != nil {
				return store.Turn{}, err
			}
			for _, c := range convs {
				msgs, _ := st.ListMessages(ctx, c.ID)
				if slices.ContainsFunc(msgs, func(m store.Message) bool { return m.ChannelMessageID == wamid }) {
					conv = c.ID
				}
			}
		}
		if conv != 0 {
			turns, err := st.ListTurns(ctx, conv)
			if err != nil {
				return store.Turn{}, err
			}
			msgs, _ := st.ListMessages(ctx, conv)
			in := slices.IndexFunc(msgs, func(m store.Message) bool { return m.ChannelMessageID == wamid })
			for _, t := range turns {
				if in >= 0 && slices.Contains(t.InboundIDs, msgs[in].ID) && term.sentAll(t.OutboundIDs, msgs) {
					return t, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return store.Turn{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return store.Turn{}, errors.New("no reply within 60 s; see the log")
}

func printTurn(w io.Writer, t store.Turn) {
	var trace assistant.Trace
	_ = json.Unmarshal(t.Trace, &trace)
	fmt.Fprintf(w, "  · intent %s (%.2f, %s) → %s: %s [%s, %.1f ms]\n",
		orNone(t.Intent), t.Confidence, orNone(trace.Source), t.Decision, t.Reason, orNone(trace.Language), t.LatencyMS)
	for i, c := range trace.Candidates {
		if i == 3 {
			break
		}
		fmt.Fprintf(w, "    candidate %s %.2f\n", c.Intent, c.Confidence)
	}
	for _, tc := range trace.Tools {
		fmt.Fprintf(w, "    tool %s %s (%d attempt(s), %.1f ms)\n", tc.Name, tc.Status, tc.Attempts, tc.LatencyMS)
	}
	for _, s := range trace.Sources {
		fmt.Fprintf(w, "    source %s cosine %.2f\n", s.Citation, s.Vector)
	}
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// terminal is the channel.Graph of yanit chat: it prints what would be
// sent and numbers the choices of buttons and lists, so that typing a
// number taps one.
type terminal struct {
	mu      sync.Mutex
	out     io.Writer
	seq     int
	choices []choice
}

type choice struct{ id, title, kind string }

func (t *terminal) Send(_ context.Context, _ string, msg whatsapp.Outbound) (string, error) {
	if err := msg.Validate(); err != nil {
		return "", err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	t.choices = nil
	switch c := msg.Content.(type) {
	case *whatsapp.Text:
		fmt.Fprintf(t.out, "yanit: %s\n", indent(c.Body))
	case *whatsapp.Buttons:
		fmt.Fprintf(t.out, "yanit: %s\n", indent(c.Body))
		for _, b := range c.Buttons {
			t.choices = append(t.choices, choice{b.ID, b.Title, "button_reply"})
			fmt.Fprintf(t.out, "       [%d] %s\n", len(t.choices), b.Title)
		}
	case *whatsapp.List:
		fmt.Fprintf(t.out, "yanit: %s\n       (%s)\n", indent(c.Body), c.Button)
		for _, s := range c.Sections {
			for _, r := range s.Rows {
				t.choices = append(t.choices, choice{r.ID, r.Title, "list_reply"})
				fmt.Fprintf(t.out, "       [%d] %s", len(t.choices), r.Title)
				if r.Description != "" {
					fmt.Fprintf(t.out, " — %s", r.Description)
				}
				fmt.Fprintln(t.out)
			}
		}
	default:
		fmt.Fprintf(t.out, "yanit: %s\n", whatsapp.Summary(msg.Content))
	}
	return fmt.Sprintf("wamid.chat-out.%d.%d", time.Now().UnixNano(), t.seq), nil
}

func (t *terminal) MarkRead(context.Context, string, string, bool) error { return nil }

func (t *terminal) clearChoices() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.choices = nil
}

// choice returns the button or row the typed number names.
func (t *terminal) choice(line string) (choice, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, err := strconv.Atoi(line)
	if err != nil || n < 1 || n > len(t.choices) {
		return choice{}, false
	}
	return t.choices[n-1], true
}

// sentAll reports whether the outbound messages left the outbox.
func (t *terminal) sentAll(ids []int64, msgs []store.Message) bool {
	for _, id := range ids {
		i := slices.IndexFunc(msgs, func(m store.Message) bool { return m.ID == id })
		if i < 0 || msgs[i].Status == store.StatusQueued {
			return false
		}
	}
	return true
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n       ") }
