package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/yanit/yanit/inbox"
	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
)

// ErrInvalid is wrapped by the errors of a campaign that cannot be made as
// asked: an unknown template, parameters that do not fill it, a segment
// that does not exist, a time in the past. The message names the field.
var ErrInvalid = errors.New("invalid campaign")

// Who receives a category of template (Options.MarketingRequires and
// Options.UtilityRequires).
const (
	// RequireConsent: the contact's current marketing consent is granted.
	RequireConsent = "consent"
	// RequireNotOptedOut: the contact did not stop marketing messages.
	RequireNotOptedOut = "not_opted_out"
	// RequireAny: every member of the segment.
	RequireAny = "any"
)

// Template categories, as Meta names them.
const (
	CategoryMarketing      = "marketing"
	CategoryUtility        = "utility"
	CategoryAuthentication = "authentication"
)

// Defaults of Options.
const (
	DefaultSendBatch = 500
	// DefaultLimitWait is how long recipients held back by the daily
	// unique-user limit wait before the sender looks again.
	DefaultLimitWait = time.Minute
	// DefaultBacklogSeconds sizes the outbox backlog when Options.Backlog
	// is 0: this many seconds of sends at Options.RatePerSecond.
	DefaultBacklogSeconds = 2
)

// Options configure a Service.
type Options struct {
	// Templates are the approved templates a campaign may send.
	Templates []inbox.Template
	// PhoneNumberID is the business number a campaign sends from when its
	// Spec names none; Numbers, when set, are the numbers it may name.
	PhoneNumberID string
	Numbers       []string
	// MarketingRequires is RequireConsent (the default) or
	// RequireNotOptedOut; UtilityRequires (utility and authentication
	// templates) RequireNotOptedOut (the default) or RequireAny.
	MarketingRequires string
	UtilityRequires   string
	// DailyUniqueLimit is the portfolio's unique users a day reached
	// outside their service window (0: unlimited); past it, recipients
	// whose window is closed wait LimitWait and are tried again.
	DailyUniqueLimit int
	LimitWait        time.Duration
	// BatchSize is the recipients one transaction queues (DefaultSendBatch
	// when 0, at most store.MaxOutboxBatch).
	BatchSize int
	// Backlog is the most bulk messages the outbox may hold (counted in
	// send batch jobs of channel.SendBatchSize) before a campaign waits to
	// queue more; 0 is DefaultBacklogSeconds of RatePerSecond.
	Backlog       int
	RatePerSecond float64
	// Wake is called after messages or jobs were queued (the job
	// runner's Notify).
	Wake   func()
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Service makes campaigns and moves them through their states; its Run
// and StartScheduled are the handlers of the KindRun and KindStart jobs.
// It is safe for concurrent use: it holds no state but its options, and
// every change is a compare-and-set on the campaign's status.
type Service struct {
	store store.Store
	opt   Options
	log   *slog.Logger
	now   func() time.Time
	wake  func()
}

// NewService returns a Service over st; an error names the option that is
// wrong.
func NewService(st store.Store, o Options) (*Service, error) {
	if o.MarketingRequires == "" {
		o.MarketingRequires = RequireConsent
	}
	if o.UtilityRequires == "" {
		o.UtilityRequires = RequireNotOptedOut
	}
	switch {
	case o.MarketingRequires != RequireConsent && o.MarketingRequires != RequireNotOptedOut:
		return nil, fmt.Errorf("campaigns.marketing_requires %q: want %s or %s", o.MarketingRequires, RequireConsent, RequireNotOptedOut)
	case o.UtilityRequires != RequireAny && o.UtilityRequires != RequireNotOptedOut:
		return nil, fmt.Errorf("campaigns.utility_requires %q: want %s or %s", o.UtilityRequires, RequireAny, RequireNotOptedOut)
	case o.DailyUniqueLimit < 0:
		return nil, fmt.Errorf("campaigns.daily_unique_limit %d: want 0 (unlimited) or more", o.DailyUniqueLimit)
	case o.BatchSize < 0 || o.BatchSize > store.MaxOutboxBatch:
		return nil, fmt.Errorf("campaigns.batch_size %d: want 1 to %d", o.BatchSize, store.MaxOutboxBatch)
	case o.Backlog < 0:
		return nil, fmt.Errorf("campaigns.backlog %d: want 0 or more", o.Backlog)
	}
	if o.BatchSize == 0 {
		o.BatchSize = DefaultSendBatch
	}
	if o.LimitWait <= 0 {
		o.LimitWait = DefaultLimitWait
	}
	if o.Backlog == 0 && o.RatePerSecond > 0 {
		o.Backlog = max(o.BatchSize, int(o.RatePerSecond*DefaultBacklogSeconds))
	}
	s := &Service{store: st, opt: o, log: o.Logger, now: o.Now, wake: o.Wake}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.wake == nil {
		s.wake = func() {}
	}
	return s, nil
}

// Spec is what a new campaign sends, to whom, from which number.
type Spec struct {
	Name string
	// Template and Language name an approved template.
	Template string
	Language string
	// Params fill its placeholders: Params[0] is {{1}}.
	Params  []store.CampaignParam
	Segment string
	// PhoneNumberID is the business number; Options.PhoneNumberID when
	// empty.
	PhoneNumberID string
	// ScheduledAt, when set, makes the campaign scheduled to start then
	// (in TimeZone, an IANA zone), as Schedule would, in the transaction
	// that creates it; a draft otherwise.
	ScheduledAt time.Time
	TimeZone    string
}

// Templates returns the approved templates a campaign may send.
func (s *Service) Templates() []inbox.Template { return s.opt.Templates }

// Template returns the approved template name in language; an error
// wrapping ErrInvalid lists the approved ones otherwise.
func (s *Service) Template(name, language string) (inbox.Template, error) {
	i := slices.IndexFunc(s.opt.Templates, func(t inbox.Template) bool { return t.Name == name && t.Language == language })
	if i >= 0 {
		return s.opt.Templates[i], nil
	}
	var approved []string
	for _, t := range s.opt.Templates {
		approved = append(approved, t.Name+" ("+t.Language+")")
	}
	list := "none is configured (whatsapp.templates)"
	if len(approved) > 0 {
		list = "approved: " + strings.Join(approved, ", ")
	}
	return inbox.Template{}, fmt.Errorf("%w: template %q in language %q is not an approved template; %s", ErrInvalid, name, language, list)
}

// Create makes a draft campaign from sp, after checking that the template
// is approved in that language, that the parameters fill every
// placeholder, each valid, that the segment exists and that the number is
// one of Options.Numbers (when set). An error wrapping ErrInvalid names the
// field; store.ErrConflict means the name is taken. The creation is in the
// audit log, by by.
func (s *Service) Create(ctx context.Context, by privacy.Actor, sp Spec) (store.Campaign, error) {
	c, err := s.check(ctx, sp)
	if err != nil {
		return store.Campaign{}, err
	}
	c.CreatedBy = by.Name
	if !sp.ScheduledAt.IsZero() {
		if err := s.checkSchedule(sp.ScheduledAt, sp.TimeZone); err != nil {
			return store.Campaign{}, err
		}
		c.ScheduledAt, c.TimeZone = sp.ScheduledAt.UTC(), sp.TimeZone
	}
	err = s.store.InTx(ctx, func(tx store.Queries) error {
		c, err = tx.CreateCampaign(ctx, c)
		if err != nil {
			return err
		}
		if err := audit(ctx, tx, by, "campaign.created", c, map[string]any{"template": c.Template,
			"language": c.Language, "segment": c.Segment}); err != nil {
			return err
		}
		if c.ScheduledAt.IsZero() {
			return nil
		}
		if err := enqueueStart(ctx, tx, c); err != nil {
			return err
		}
		return audit(ctx, tx, by, "campaign.scheduled", c, map[string]any{"from": store.CampaignDraft,
			"to": store.CampaignScheduled, "at": c.ScheduledAt, "time_zone": c.TimeZone})
	})
	if errors.Is(err, store.ErrConflict) {
		return store.Campaign{}, fmt.Errorf("campaign name %q: %w: a campaign of that name exists", sp.Name, store.ErrConflict)
	}
	if err != nil {
		return store.Campaign{}, fmt.Errorf("creating campaign %q: %w", sp.Name, err)
	}
	return c, nil
}

// check validates sp and returns the campaign it makes.
func (s *Service) check(ctx context.Context, sp Spec) (store.Campaign, error) {
	number := sp.PhoneNumberID
	if number == "" {
		number = s.opt.PhoneNumberID
	}
	c := store.Campaign{Name: sp.Name, PhoneNumberID: number, Template: sp.Template, Language: sp.Language,
		Params: sp.Params, Segment: sp.Segment}
	switch {
	case sp.Template == "":
		return c, fmt.Errorf("%w: template: empty", ErrInvalid)
	case sp.Language == "":
		return c, fmt.Errorf("%w: language: empty (the template's language, such as tr)", ErrInvalid)
	case sp.Segment == "":
		return c, fmt.Errorf("%w: segment: empty", ErrInvalid)
	case number == "":
		return c, fmt.Errorf("%w: number: empty, and no whatsapp.phone_number_id is configured", ErrInvalid)
	case len(s.opt.Numbers) > 0 && !slices.Contains(s.opt.Numbers, number):
		return c, fmt.Errorf("%w: number %q: not a business number of this deployment (%s)", ErrInvalid, number,
			strings.Join(s.opt.Numbers, ", "))
	}
	tmpl, err := s.Template(sp.Template, sp.Language)
	if err != nil {
		return c, err
	}
	c.Category = tmpl.Category
	if len(sp.Params) != tmpl.Params {
		return c, fmt.Errorf("%w: params: template %q has %s, got %d parameter(s)", ErrInvalid, tmpl.Name,
			placeholders(tmpl.Params), len(sp.Params))
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if _, err := s.store.GetSegment(ctx, sp.Segment); errors.Is(err, store.ErrNotFound) {
		return c, fmt.Errorf("%w: segment %q: no segment of that name (yanit segments list)", ErrInvalid, sp.Segment)
	} else if err != nil {
		return c, err
	}
	return c, nil
}

// placeholders says how many placeholders a template has, in words.
func placeholders(n int) string {
	switch n {
	case 0:
		return "no placeholders"
	case 1:
		return "1 placeholder ({{1}})"
	}
	return fmt.Sprintf("%d placeholders ({{1}} to {{%d}})", n, n)
}

// Get returns the campaign called name; an error wrapping
// store.ErrNotFound names it when there is none.
func (s *Service) Get(ctx context.Context, name string) (store.Campaign, error) {
	return s.get(ctx, name)
}

func (s *Service) get(ctx context.Context, name string) (store.Campaign, error) {
	c, err := s.store.GetCampaign(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return c, fmt.Errorf("no campaign is called %q: %w", name, store.ErrNotFound)
	}
	return c, err
}

// Stats returns the campaign's live counts.
func (s *Service) Stats(ctx context.Context, name string) (store.Campaign, store.CampaignStats, error) {
	c, err := s.get(ctx, name)
	if err != nil {
		return c, store.CampaignStats{}, err
	}
	st, err := s.store.CampaignStats(ctx, c.ID)
	return c, st, err
}

// Schedule makes a draft or scheduled campaign start at at, a time in the
// future, given in the IANA time zone tz (kept to show it). A job starts
// it when it is due, on whichever instance claims the job; StartDue is
// the safety net.
func (s *Service) Schedule(ctx context.Context, by privacy.Actor, name string, at time.Time, tz string) (store.Campaign, error) {
	if err := s.checkSchedule(at, tz); err != nil {
		return store.Campaign{}, err
	}
	return s.move(ctx, by, name, store.CampaignScheduled, "campaign.scheduled",
		store.CampaignMove{ScheduledAt: at.UTC(), TimeZone: tz},
		func(tx store.Queries, c store.Campaign) error { return enqueueStart(ctx, tx, c) })
}

// checkSchedule refuses a time zone that is not an IANA zone and a time
// not in the future.
func (s *Service) checkSchedule(at time.Time, tz string) error {
	if _, err := time.LoadLocation(tz); err != nil || tz == "" {
		return fmt.Errorf("%w: time zone %q: want an IANA time zone such as Europe/Istanbul", ErrInvalid, tz)
	}
	if !at.After(s.now()) {
		return fmt.Errorf("%w: scheduled time %s: in the past", ErrInvalid, at.Format(time.RFC3339))
	}
	return nil
}

// enqueueStart queues the job that starts the scheduled campaign c at its
// time.
func enqueueStart(ctx context.Context, tx store.Queries, c store.Campaign) error {
	_, err := tx.Enqueue(ctx, jobs.EnqueueParams{Kind: KindStart, Payload: startPayload(c.ID, c.ScheduledAt),
		RunAt: c.ScheduledAt, MaxAttempts: jobAttempts})
	return err
}

// Start starts a draft or scheduled campaign now: it takes a copy of the
// segment's filter and queues the job that finds the recipients and sends.
func (s *Service) Start(ctx context.Context, by privacy.Actor, name string) (store.Campaign, error) {
	c, err := s.get(ctx, name)
	if err != nil {
		return c, err
	}
	return s.start(ctx, by, c)
}

// start moves c to running with its segment's filter and queues its run.
func (s *Service) start(ctx context.Context, by privacy.Actor, c store.Campaign) (store.Campaign, error) {
	if c.Status == store.CampaignPaused {
		return c, fmt.Errorf("%w: campaign %q is paused, not draft or scheduled: resume it instead", store.ErrIllegalMove, c.Name)
	}
	if !store.CanMoveCampaign(c.Status, store.CampaignRunning) {
		return c, store.IllegalMove(c.Name, c.Status, store.CampaignRunning)
	}
	seg, err := s.store.GetSegment(ctx, c.Segment)
	if errors.Is(err, store.ErrNotFound) {
		return c, fmt.Errorf("%w: segment %q of campaign %q no longer exists", ErrInvalid, c.Segment, c.Name)
	}
	if err != nil {
		return c, err
	}
	return s.moveFrom(ctx, by, c, store.CampaignRunning, "campaign.started", store.CampaignMove{Filter: seg.Filter}, enqueueRun(ctx))
}

// Pause stops a running campaign after the batch being queued; Resume
// goes on where it stopped.
func (s *Service) Pause(ctx context.Context, by privacy.Actor, name string) (store.Campaign, error) {
	return s.move(ctx, by, name, store.CampaignPaused, "campaign.paused", store.CampaignMove{}, nil)
}

// Resume runs a paused campaign again from the recipients still pending.
func (s *Service) Resume(ctx context.Context, by privacy.Actor, name string) (store.Campaign, error) {
	c, err := s.get(ctx, name)
	if err != nil {
		return c, err
	}
	if c.Status != store.CampaignPaused {
		return c, store.IllegalMove(c.Name, c.Status, store.CampaignRunning)
	}
	return s.moveFrom(ctx, by, c, store.CampaignRunning, "campaign.resumed", store.CampaignMove{}, enqueueRun(ctx))
}

// Cancel ends a campaign for good; its pending recipients stay pending
// and get nothing. Messages already in the outbox still go.
func (s *Service) Cancel(ctx context.Context, by privacy.Actor, name string) (store.Campaign, error) {
	return s.move(ctx, by, name, store.CampaignCancelled, "campaign.cancelled", store.CampaignMove{}, nil)
}

// Delete removes a campaign that never ran (draft or scheduled).
func (s *Service) Delete(ctx context.Context, by privacy.Actor, name string) error {
	c, err := s.get(ctx, name)
	if err == nil {
		err = s.store.InTx(ctx, func(tx store.Queries) error {
			if err := tx.DeleteCampaign(ctx, c.ID); err != nil {
				return err
			}
			return audit(ctx, tx, by, "campaign.deleted", c, nil)
		})
	}
	if err != nil {
		return fmt.Errorf("deleting campaign %q: %w", name, err)
	}
	return nil
}

// enqueueRun queues the job that runs a campaign, in the move's
// transaction.
func enqueueRun(ctx context.Context) func(tx store.Queries, c store.Campaign) error {
	return func(tx store.Queries, c store.Campaign) error {
		_, err := tx.Enqueue(ctx, runJob(c.ID, time.Time{}))
		return err
	}
}

// move reads the campaign called name and moves it to status to.
func (s *Service) move(ctx context.Context, by privacy.Actor, name, to, action string, m store.CampaignMove,
	then func(tx store.Queries, c store.Campaign) error) (store.Campaign, error) {
	c, err := s.get(ctx, name)
	if err != nil {
		return c, err
	}
	return s.moveFrom(ctx, by, c, to, action, m, then)
}

// moveFrom moves c from the status it was read with to status to, runs
// then in the same transaction, and audits the move as action. A move the
// state machine refuses names both statuses; a campaign whose status
// changed since it was read is refused the same way, from its new status.
func (s *Service) moveFrom(ctx context.Context, by privacy.Actor, c store.Campaign, to, action string, m store.CampaignMove,
	then func(tx store.Queries, c store.Campaign) error) (store.Campaign, error) {
	if !store.CanMoveCampaign(c.Status, to) {
		return c, store.IllegalMove(c.Name, c.Status, to)
	}
	var out store.Campaign
	err := s.store.InTx(ctx, func(tx store.Queries) error {
		var err error
		if out, err = tx.MoveCampaign(ctx, c.ID, c.Status, to, s.now(), m); err != nil {
			return err
		}
		if then != nil {
			if err := then(tx, out); err != nil {
				return err
			}
		}
		detail := map[string]any{"from": c.Status, "to": to}
		if to == store.CampaignScheduled {
			detail["at"], detail["time_zone"] = m.ScheduledAt, m.TimeZone
		}
		return audit(ctx, tx, by, action, out, detail)
	})
	if errors.Is(err, store.ErrConflict) {
		// Another move won the race: refuse from the status it left.
		if now, gerr := s.store.GetCampaignByID(ctx, c.ID); gerr == nil && now.Status != c.Status {
			return now, store.IllegalMove(c.Name, now.Status, to)
		}
	}
	if err != nil {
		return c, fmt.Errorf("campaign %q: %w", c.Name, err)
	}
	if then != nil {
		s.wake()
	}
	s.log.Info("campaign "+to, slog.String("campaign", c.Name), slog.String("by", by.Name))
	return out, nil
}

// audit appends a campaign action to the audit log.
func audit(ctx context.Context, tx store.Queries, by privacy.Actor, action string, c store.Campaign, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	detail["name"] = c.Name
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	if by.Name == "" {
		by = privacy.ActorSystem
	}
	_, err = tx.AppendAudit(ctx, store.AuditEntry{Actor: by.Name, ActorID: by.UserID, Address: by.Address,
		Action: action, Target: "campaign:" + strconv.FormatInt(c.ID, 10), Detail: b})
	return err
}
