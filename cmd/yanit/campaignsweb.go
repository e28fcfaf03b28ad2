package main

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/yanit/yanit/campaign"
	"github.com/yanit/yanit/inbox"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/web"
)

// campaignAdmin is the campaign service as the web API takes it: the API's
// spec becomes the service's, and an error the caller can fix
// (campaign.ErrInvalid) becomes one the API answers with 400.
type campaignAdmin struct{ svc *campaign.Service }

var _ web.CampaignAdmin = campaignAdmin{}

// webCampaigns is the campaign service wireCampaigns built, as the web
// API's Backend.Campaigns takes it.
func webCampaigns(svc *campaign.Service, err error) (web.CampaignAdmin, error) {
	if err != nil {
		return nil, err
	}
	return campaignAdmin{svc}, nil
}

// Templates returns the approved templates a campaign may send.
func (a campaignAdmin) Templates() []inbox.Template { return a.svc.Templates() }

// Create makes a campaign: a draft, or scheduled when the spec has a time.
func (a campaignAdmin) Create(ctx context.Context, by privacy.Actor, sp web.CampaignSpec) (store.Campaign, error) {
	c, err := a.svc.Create(ctx, by, campaign.Spec{Name: sp.Name, Template: sp.Template, Language: sp.Language,
		Params: sp.Params, Segment: sp.Segment, PhoneNumberID: sp.PhoneNumberID, ScheduledAt: sp.ScheduledAt, TimeZone: sp.TimeZone})
	return c, fixable(err)
}

// Schedule makes the campaign start at at.
func (a campaignAdmin) Schedule(ctx context.Context, by privacy.Actor, name string, at time.Time, tz string) (store.Campaign, error) {
	c, err := a.svc.Schedule(ctx, by, name, at, tz)
	return c, fixable(err)
}

// Start starts the campaign now.
func (a campaignAdmin) Start(ctx context.Context, by privacy.Actor, name string) (store.Campaign, error) {
	c, err := a.svc.Start(ctx, by, name)
	return c, fixable(err)
}

// Pause pauses the running campaign.
func (a campaignAdmin) Pause(ctx context.Context, by privacy.Actor, name string) (store.Campaign, error) {
	c, err := a.svc.Pause(ctx, by, name)
	return c, fixable(err)
}

// Resume runs the paused campaign again.
func (a campaignAdmin) Resume(ctx context.Context, by privacy.Actor, name string) (store.Campaign, error) {
	c, err := a.svc.Resume(ctx, by, name)
	return c, fixable(err)
}

// Cancel ends the campaign for good.
func (a campaignAdmin) Cancel(ctx context.Context, by privacy.Actor, name string) (store.Campaign, error) {
	c, err := a.svc.Cancel(ctx, by, name)
	return c, fixable(err)
}

// Delete removes the campaign that never ran.
func (a campaignAdmin) Delete(ctx context.Context, by privacy.Actor, name string) error {
	return fixable(a.svc.Delete(ctx, by, name))
}

// invalidInput is a campaign.ErrInvalid error as the API shows it: its
// message without the sentinel's words, and web.ErrInvalidInput among
// what it wraps.
type invalidInput struct{ err error }

func (e invalidInput) Error() string {
	return strings.Replace(e.err.Error(), campaign.ErrInvalid.Error()+": ", "", 1)
}

func (e invalidInput) Unwrap() []error { return []error{web.ErrInvalidInput, e.err} }

// fixable marks err as the caller's to fix when the service says so.
func fixable(err error) error {
	if errors.Is(err, campaign.ErrInvalid) {
		return invalidInput{err}
	}
	return err
}
