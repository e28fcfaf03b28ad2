package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/yanit/yanit/campaign"
	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
)

func newCampaignCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "campaign",
		Short: "Send an approved template to a segment: create, schedule, start, pause, resume, cancel, stats",
		Long: "campaign sends one approved template (whatsapp.templates) to the contacts of a segment, once\n" +
			"each, now or at a scheduled time. Marketing templates go only to contacts whose marketing\n" +
			"consent is granted (campaigns.marketing_requires), utility ones to those who did not opt out\n" +
			"(campaigns.utility_requires); the others are skipped and counted.\n\n" +
			"These commands change the campaign in the store the config selects; a running `yanit serve`\n" +
			"(or `yanit dev`) on that store does the sending, paced to whatsapp.rate_per_second and\n" +
			"campaigns.daily_unique_limit. Every change is in the audit log, with the actor cli.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newCampaignCreateCmd(g), newCampaignScheduleCmd(g), newCampaignStartCmd(g),
		newCampaignMoveCmd(g, "pause", "Pause a running campaign; resume goes on where it stopped", (*campaign.Service).Pause),
		newCampaignMoveCmd(g, "resume", "Resume a paused campaign", (*campaign.Service).Resume),
		newCampaignMoveCmd(g, "cancel", "Cancel a campaign for good; its pending recipients get nothing", (*campaign.Service).Cancel),
		newCampaignStatsCmd(g), newCampaignListCmd(g))
	return cmd
}

// withCampaigns runs fn with the campaign service of the config.
func withCampaigns(ctx context.Context, g *globals, fn func(svc *campaign.Service) error) error {
	return withConfigStore(ctx, g, func(cfg config.Config, st store.Store) error {
		svc, err := newCampaigns(cfg, st, nil, nil)
		if err != nil {
			return err
		}
		return fn(svc)
	})
}

func newCampaignCreateCmd(g *globals) *cobra.Command {
	var template, language, segment, number string
	var params []string
	cmd := &cobra.Command{
		Use:   "create NAME --template T --language L --segment S [--param N=SOURCE]... [--number ID]",
		Short: "Make a draft campaign",
		Long: "create makes a draft campaign NAME sending the approved template T in language L to the\n" +
			"segment S, from the business number ID (whatsapp.phone_number_id when not given).\n\n" +
			"Each --param N=SOURCE fills the placeholder {{N}} for each contact; every placeholder of\n" +
			"the template must be filled:\n\n" +
			"  name, phone, language   the contact's name, number (+E.164) or language\n" +
			"  attr:NAME               the contact's attribute NAME (an import's column)\n" +
			"  SOURCE:DEFAULT          DEFAULT when the contact has no value: name:Müşterimiz,\n" +
			"                          attr:city:İstanbul\n" +
			"  text:TEXT               the same TEXT for everyone\n\n" +
			"A contact left without a value (no field, no default) is skipped at sending and counted.",
		Example: "  yanit campaign create bahar --template bahar_indirimi --language tr --segment istanbul-vip \\\n" +
			"    --param 1=name:Müşterimiz --param 2=attr:city:İstanbul",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ps, err := campaign.NumberedParams(params)
			if err != nil {
				return err
			}
			return withCampaigns(cmd.Context(), g, func(svc *campaign.Service) error {
				c, err := svc.Create(cmd.Context(), privacy.ActorCLI, campaign.Spec{Name: args[0], Template: template,
					Language: language, Segment: segment, Params: ps, PhoneNumberID: number})
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "campaign %q created (draft): %s template %s (%s) to segment %q from %s\n",
					c.Name, c.Category, c.Template, c.Language, c.Segment, c.PhoneNumberID)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&template, "template", "", "the approved template's name (required)")
	cmd.Flags().StringVar(&language, "language", "", "the template's language, such as tr (required)")
	cmd.Flags().StringVar(&segment, "segment", "", "the segment to send to (required; yanit segments list)")
	cmd.Flags().StringArrayVar(&params, "param", nil, "N=SOURCE: what fills {{N}} (repeat for each placeholder)")
	cmd.Flags().StringVar(&number, "number", "", "the business number's phone_number_id (default whatsapp.phone_number_id)")
	for _, f := range []string{"template", "language", "segment"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

func newCampaignScheduleCmd(g *globals) *cobra.Command {
	var at, tz string
	cmd := &cobra.Command{
		Use:   `schedule NAME --at "YYYY-MM-DD HH:MM" --tz ZONE`,
		Short: "Start a draft campaign at a time in a time zone",
		Long: "schedule makes a draft (or scheduled) campaign start at --at, the wall-clock time in the IANA\n" +
			"time zone --tz. Whichever yanit serve instance is up at that time starts it, once.",
		Example: `  yanit campaign schedule bahar --at "2026-12-01 10:00" --tz Europe/Istanbul`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			when, err := campaign.ParseLocalTime(at, tz)
			if err != nil {
				return err
			}
			return withCampaigns(cmd.Context(), g, func(svc *campaign.Service) error {
				c, err := svc.Schedule(cmd.Context(), privacy.ActorCLI, args[0], when, tz)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "campaign %q scheduled for %s (%s, %s UTC)\n", c.Name, when.Format(campaign.LocalTimeLayout),
					tz, c.ScheduledAt.UTC().Format(campaign.LocalTimeLayout))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&at, "at", "", `the start time on the zone's clock, "YYYY-MM-DD HH:MM" (required)`)
	cmd.Flags().StringVar(&tz, "tz", "Europe/Istanbul", "the IANA time zone of --at")
	_ = cmd.MarkFlagRequired("at")
	return cmd
}

func newCampaignStartCmd(g *globals) *cobra.Command {
	var wait bool
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "start NAME [--wait]",
		Short: "Start a draft or scheduled campaign now",
		Long: "start starts the campaign now: the running yanit serve finds the segment's members and\n" +
			"sends. With --wait it shows the progress (queued, sent, delivered) until every recipient\n" +
			"was queued and every message sent or failed, then the stats; it fails if the campaign is\n" +
			"paused or cancelled meanwhile.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withCampaigns(cmd.Context(), g, func(svc *campaign.Service) error {
				c, err := svc.Start(cmd.Context(), privacy.ActorCLI, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "campaign %q started\n", c.Name)
				if !wait {
					return nil
				}
				return waitForCampaign(cmd.Context(), g, svc, c.Name, every)
			})
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "show the progress until the campaign is sent")
	cmd.Flags().DurationVar(&every, "every", time.Second, "how often --wait reads the progress")
	_ = cmd.Flags().MarkHidden("every")
	return cmd
}

// stallHint is how long --wait sees no progress before it says why that
// may be.
const stallHint = 30 * time.Second

// waitForCampaign shows the campaign's progress until it is sent.
func waitForCampaign(ctx context.Context, g *globals, svc *campaign.Service, name string, every time.Duration) error {
	bar := progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(g.stderr),
		progressbar.OptionSetVisibility(isTerminal(g.stderr)),
		progressbar.OptionSetDescription("finding recipients"),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
	)
	defer bar.Finish()
	progress := func(s store.CampaignStats) [5]int {
		return [5]int{s.Recipients, s.Queued, s.Sent, s.Delivered, s.Failed}
	}
	last, lastChange, hinted := [5]int{}, time.Now(), false
	for {
		c, s, err := svc.Stats(ctx, name)
		if err != nil {
			return err
		}
		if c.Materialized {
			bar.ChangeMax(s.Recipients - s.Skipped)
		}
		_ = bar.Set(s.Sent + s.Failed)
		bar.Describe(fmt.Sprintf("queued %d · sent %d · delivered %d · failed %d", s.Queued, s.Sent, s.Delivered, s.Failed))
		switch {
		case c.Status == store.CampaignDone && s.Sent+s.Failed >= s.Queued:
			_ = bar.Finish()
			printStats(g.stdout, c, s)
			return nil
		case c.Status == store.CampaignPaused || c.Status == store.CampaignCancelled:
			_ = bar.Finish()
			printStats(g.stdout, c, s)
			return fmt.Errorf("campaign %q was %s while sending", name, c.Status)
		}
		if p := progress(s); p != last {
			last, lastChange = p, time.Now()
		} else if !hinted && time.Since(lastChange) > stallHint {
			fmt.Fprintf(g.stderr, "\nno progress for %s: is `yanit serve` (or `yanit dev`) running on this store? It does the sending.\n", stallHint)
			hinted = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

func newCampaignMoveCmd(g *globals, verb, short string, move func(*campaign.Service, context.Context, privacy.Actor, string) (store.Campaign, error)) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " NAME",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withCampaigns(cmd.Context(), g, func(svc *campaign.Service) error {
				c, err := move(svc, cmd.Context(), privacy.ActorCLI, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "campaign %q is %s\n", c.Name, c.Status)
				return nil
			})
		},
	}
}

func newCampaignStatsCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats NAME [--json]",
		Short: "Show a campaign's recipients and what became of their messages",
		Long: "stats counts the campaign's recipients (pending, queued, skipped by reason) and their\n" +
			"messages (sent, delivered, read, failed by error code), the replies within 24 hours of\n" +
			"the send, the opt-outs after it and the second sends found after a crash; live while it\n" +
			"runs.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withCampaigns(cmd.Context(), g, func(svc *campaign.Service) error {
				c, s, err := svc.Stats(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if asJSON {
					enc := json.NewEncoder(g.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(campaignJSON(c, s))
				}
				printStats(g.stdout, c, s)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// campaignView is a campaign as stats --json prints it.
type campaignView struct {
	Name        string              `json:"name"`
	Status      string              `json:"status"`
	Template    string              `json:"template"`
	Language    string              `json:"language"`
	Category    string              `json:"category"`
	Segment     string              `json:"segment"`
	Number      string              `json:"phone_number_id"`
	Params      []string            `json:"params"`
	ScheduledAt *time.Time          `json:"scheduled_at,omitempty"`
	TimeZone    string              `json:"time_zone,omitempty"`
	StartedAt   *time.Time          `json:"started_at,omitempty"`
	FinishedAt  *time.Time          `json:"finished_at,omitempty"`
	Stats       store.CampaignStats `json:"stats"`
}

func campaignJSON(c store.Campaign, s store.CampaignStats) campaignView {
	v := campaignView{Name: c.Name, Status: c.Status, Template: c.Template, Language: c.Language, Category: c.Category,
		Segment: c.Segment, Number: c.PhoneNumberID, Params: []string{}, TimeZone: c.TimeZone, Stats: s}
	for _, p := range c.Params {
		v.Params = append(v.Params, p.String())
	}
	for _, t := range []struct {
		from time.Time
		to   **time.Time
	}{{c.ScheduledAt, &v.ScheduledAt}, {c.StartedAt, &v.StartedAt}, {c.FinishedAt, &v.FinishedAt}} {
		if !t.from.IsZero() {
			at := t.from
			*t.to = &at
		}
	}
	return v
}

func printStats(w io.Writer, c store.Campaign, s store.CampaignStats) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "campaign\t%s (%s)\n", c.Name, c.Status)
	fmt.Fprintf(tw, "template\t%s (%s, %s) to segment %s\n", c.Template, c.Language, c.Category, c.Segment)
	fmt.Fprintf(tw, "recipients\t%d\n", s.Recipients)
	fmt.Fprintf(tw, "pending\t%d\n", s.Pending)
	fmt.Fprintf(tw, "skipped\t%d%s\n", s.Skipped, byKey(s.SkippedBy))
	fmt.Fprintf(tw, "queued\t%d\n", s.Queued)
	fmt.Fprintf(tw, "sent\t%d\n", s.Sent)
	fmt.Fprintf(tw, "delivered\t%d\n", s.Delivered)
	fmt.Fprintf(tw, "read\t%d\n", s.Read)
	codes := map[string]int{}
	for code, n := range s.FailedBy {
		codes[fmt.Sprint(code)] = n
	}
	fmt.Fprintf(tw, "failed\t%d%s\n", s.Failed, byKey(codes))
	fmt.Fprintf(tw, "replied within 24 h\t%d\n", s.Replied)
	fmt.Fprintf(tw, "opted out after\t%d\n", s.OptedOutAfter)
	if s.Duplicates > 0 {
		fmt.Fprintf(tw, "sent twice (crash)\t%d\n", s.Duplicates)
	}
	tw.Flush()
}

// byKey writes counts as " (a 2, b 1)", by key; "" when there are none.
func byKey(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func newCampaignListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the campaigns, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), g, func(st store.Store) error {
				cs, err := st.ListCampaigns(cmd.Context())
				if err != nil {
					return err
				}
				if len(cs) == 0 {
					fmt.Fprintln(g.stdout, "no campaigns (yanit campaign create)")
					return nil
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tSTATUS\tTEMPLATE\tSEGMENT\tWHEN")
				for _, c := range cs {
					when := c.CreatedAt.Format(time.DateTime) + " created"
					switch {
					case !c.FinishedAt.IsZero():
						when = c.FinishedAt.Format(time.DateTime) + " finished"
					case !c.StartedAt.IsZero():
						when = c.StartedAt.Format(time.DateTime) + " started"
					case c.Status == store.CampaignScheduled:
						when = scheduledText(c)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s (%s)\t%s\t%s\n", c.Name, c.Status, c.Template, c.Language, c.Segment, when)
				}
				return tw.Flush()
			})
		},
	}
}

// scheduledText is a scheduled campaign's start on its zone's clock.
func scheduledText(c store.Campaign) string {
	at := c.ScheduledAt
	if loc, err := time.LoadLocation(c.TimeZone); err == nil {
		at = at.In(loc)
	}
	return at.Format(campaign.LocalTimeLayout) + " " + c.TimeZone
}
