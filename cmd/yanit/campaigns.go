package main

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/yanit/yanit/campaign"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/store"
)

// scheduleCheckEvery is how often each instance looks for scheduled
// campaigns that are due (their start jobs are the punctual path).
const scheduleCheckEvery = 30 * time.Second

// newCampaigns builds the campaign service of the configuration: its
// approved templates, business numbers, consent rules and pace. wake is
// the job runner's Notify (nil on the command line: a running yanit serve
// picks the jobs up at its next poll).
func newCampaigns(cfg config.Config, st store.Store, log *slog.Logger, wake func()) (*campaign.Service, error) {
	templates, err := approvedTemplates(cfg.WhatsApp.Templates)
	if err != nil {
		return nil, err
	}
	c := cfg.Campaigns
	return campaign.NewService(st, campaign.Options{
		Templates: templates, PhoneNumberID: cfg.WhatsApp.PhoneNumberID, Numbers: businessNumbers(cfg),
		MarketingRequires: c.MarketingRequires, UtilityRequires: c.UtilityRequires, DailyUniqueLimit: c.DailyUniqueLimit,
		BatchSize: c.BatchSize, Backlog: c.Backlog, RatePerSecond: cfg.WhatsApp.RatePerSecond,
		Wake: wake, Logger: log,
	})
}

// businessNumbers are the numbers this deployment sends from: the
// configured one and every assistant's.
func businessNumbers(cfg config.Config) []string {
	var out []string
	if cfg.WhatsApp.PhoneNumberID != "" {
		out = append(out, cfg.WhatsApp.PhoneNumberID)
	}
	for _, a := range cfg.Assistants {
		for _, n := range a.PhoneNumberIDs {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// wireCampaigns registers the campaign jobs with the runner and starts the
// check for due scheduled campaigns, which ends with ctx.
func wireCampaigns(ctx context.Context, cfg config.Config, log *slog.Logger, st store.Store, runner *jobs.Runner) (*campaign.Service, error) {
	svc, err := newCampaigns(cfg, st, log, runner.Notify)
	if err != nil {
		return nil, err
	}
	if err := runner.Handle(campaign.KindRun, svc.Run); err != nil {
		return nil, err
	}
	if err := runner.Handle(campaign.KindStart, svc.StartScheduled); err != nil {
		return nil, err
	}
	go svc.RunScheduler(ctx, scheduleCheckEvery)
	return svc, nil
}

// graphHTTPClient is the Graph API client's HTTP client: it keeps an idle
// connection for each send the job runner may run at once (a wave of a
// send batch per job). Go's default
// keeps two per host, so a campaign's concurrent sends would open and
// close a TCP (and TLS) connection for most messages.
func graphHTTPClient(concurrency int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = max(concurrency, 2)
	t.MaxIdleConns = max(t.MaxIdleConns, t.MaxIdleConnsPerHost)
	return &http.Client{Timeout: whatsapp.DefaultTimeout, Transport: t}
}
