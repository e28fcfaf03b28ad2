package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/yanit/yanit/channel"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/inbox"
	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
)

// Job kinds of campaigns. Register Service.Run and Service.StartScheduled
// for them with the job runner.
const (
	// KindRun finds a running campaign's recipients and queues their
	// messages; its key (RunKey) runs one at a time per campaign, on any
	// instance.
	KindRun = "campaign_run"
	// KindStart starts a scheduled campaign when it is due.
	KindStart = "campaign_start"
)

// RunKey is the job key of a campaign's runs.
func RunKey(id int64) string { return "campaign:" + strconv.FormatInt(id, 10) }

// jobAttempts bounds the retries of a campaign's jobs: a database that is
// down for hours must not leave a running campaign without its job
// (retries back off to ten minutes).
const jobAttempts = 200

// reachRecount is how many batches the sender queues on its own tally of
// the day's reach before it counts it in the store again.
const reachRecount = 20

// dispatchPage is how many members of the segment one dispatcher step
// reads and inserts.
const dispatchPage = 2000

// jobPayload names the campaign of a job; At is the scheduled time a start
// job was made for (a job for a time since changed does nothing).
type jobPayload struct {
	CampaignID int64     `json:"campaign_id"`
	At         time.Time `json:"at,omitzero"`
}

// startPayload is the payload of the start job of a campaign scheduled at.
func startPayload(id int64, at time.Time) json.RawMessage {
	b, _ := json.Marshal(jobPayload{CampaignID: id, At: at})
	return b
}

func payload(id int64) json.RawMessage {
	b, _ := json.Marshal(jobPayload{CampaignID: id})
	return b
}

func runJob(id int64, at time.Time) jobs.EnqueueParams {
	return jobs.EnqueueParams{Kind: KindRun, Key: RunKey(id), Payload: payload(id), RunAt: at, MaxAttempts: jobAttempts}
}

func readPayload(j jobs.Job) (jobPayload, error) {
	var p jobPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.CampaignID == 0 {
		return p, jobs.Cancel(fmt.Errorf("%s job %d names no campaign: %s", j.Kind, j.ID, j.Payload))
	}
	return p, nil
}

// StartScheduled is the handler of KindStart jobs: it starts the campaign
// when it is still scheduled for the time the job was made for. Of
// instances racing to start it, one moves it to running; the others find
// it running and do nothing.
func (s *Service) StartScheduled(ctx context.Context, j jobs.Job) error {
	p, err := readPayload(j)
	if err != nil {
		return err
	}
	c, err := s.store.GetCampaignByID(ctx, p.CampaignID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted before it was due
	}
	if err != nil {
		return err
	}
	if c.Status != store.CampaignScheduled || !c.ScheduledAt.Equal(p.At) {
		return nil // started, cancelled or scheduled again since
	}
	return s.startDue(ctx, c)
}

// StartDue starts every scheduled campaign that is due. The jobs of
// Schedule start them on time; this is the safety net a periodic check
// runs (see RunScheduler).
func (s *Service) StartDue(ctx context.Context) error {
	due, err := s.store.DueCampaigns(ctx, s.now())
	if err != nil {
		return err
	}
	for _, c := range due {
		if err := s.startDue(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// startDue starts a due campaign; a campaign another instance started
// first is no error.
func (s *Service) startDue(ctx context.Context, c store.Campaign) error {
	_, err := s.start(ctx, privacy.ActorSystem, c)
	switch {
	case errors.Is(err, store.ErrIllegalMove):
		return nil
	case errors.Is(err, ErrInvalid):
		// The segment was deleted: nothing to send to, ever.
		s.log.Error("a scheduled campaign cannot start", slog.String("campaign", c.Name), slog.String("error", err.Error()))
		_, err = s.moveFrom(ctx, privacy.ActorSystem, c, store.CampaignCancelled, "campaign.cancelled", store.CampaignMove{}, nil)
		if errors.Is(err, store.ErrIllegalMove) {
			return nil
		}
	}
	return err
}

// RunScheduler calls StartDue every interval until ctx ends.
func (s *Service) RunScheduler(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.StartDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("starting due campaigns", slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Run is the handler of KindRun jobs: while the campaign runs, it finds
// the segment's members (the dispatcher: pages of contacts into recipient
// rows, consent applied) and then queues their messages batch by batch
// (the sender), until no recipient is pending; then the campaign is done.
// A pause or a cancel stops it between two batches.
//
// Every step is one transaction that records how far it got, so a job
// stopped anywhere (a crash, a lost lease) and run again goes on where the
// last commit left it: a recipient row is inserted once (its key is the
// campaign and the contact), and a pending recipient becomes queued in the
// transaction that writes its message to the outbox, so each recipient's
// message is queued exactly once. Sending it is the Sender's job.
func (s *Service) Run(ctx context.Context, j jobs.Job) error {
	p, err := readPayload(j)
	if err != nil {
		return err
	}
	c, err := s.store.GetCampaignByID(ctx, p.CampaignID)
	if errors.Is(err, store.ErrNotFound) {
		return jobs.Cancel(err)
	}
	if err != nil {
		return err
	}
	if c.Status != store.CampaignRunning {
		return nil // paused or cancelled: a resume queues a new run
	}
	if !c.Materialized {
		if c, err = s.dispatch(ctx, c); err != nil {
			return fmt.Errorf("finding the recipients of campaign %q: %w", c.Name, err)
		}
		if c.Status != store.CampaignRunning {
			return nil
		}
	}
	if err := s.send(ctx, c); err != nil {
		return fmt.Errorf("queueing the messages of campaign %q: %w", c.Name, err)
	}
	return nil
}

// dispatch adds the segment's members to the campaign's recipients, page
// by page from the campaign's cursor, until it has seen them all; it stops
// early when the campaign stops running and returns it as it is.
func (s *Service) dispatch(ctx context.Context, c store.Campaign) (store.Campaign, error) {
	for !c.Materialized {
		if err := ctx.Err(); err != nil {
			return c, err
		}
		members, err := s.store.ContactsInSegment(ctx, c.Filter, c.StartedAt, c.Cursor, dispatchPage)
		if err != nil {
			return c, err
		}
		rs, err := s.classify(ctx, c, members)
		if err != nil {
			return c, err
		}
		cursor, done := c.Cursor, len(members) < dispatchPage
		if len(members) > 0 {
			cursor = members[len(members)-1].ID
		}
		if _, err := s.store.AddCampaignRecipients(ctx, c.ID, rs, cursor, done); err != nil {
			return c, err
		}
		if c, err = s.store.GetCampaignByID(ctx, c.ID); err != nil {
			return c, err
		}
		if c.Status != store.CampaignRunning {
			return c, nil
		}
	}
	return c, nil
}

// rule is who may receive the campaign's category of template.
func (s *Service) rule(c store.Campaign) string {
	if c.Category == CategoryMarketing {
		return s.opt.MarketingRequires
	}
	return s.opt.UtilityRequires
}

// classify makes the recipient rows of members: pending, or skipped with
// the reason the consent rule gives.
func (s *Service) classify(ctx context.Context, c store.Campaign, members []store.Contact) ([]store.CampaignRecipient, error) {
	rule := s.rule(c)
	var consents map[int64]bool
	if rule == RequireConsent && len(members) > 0 {
		ids := make([]int64, len(members))
		for i, m := range members {
			ids[i] = m.ID
		}
		var err error
		if consents, err = s.store.MarketingConsents(ctx, ids); err != nil {
			return nil, err
		}
	}
	rs := make([]store.CampaignRecipient, len(members))
	for i, m := range members {
		rs[i] = store.CampaignRecipient{ContactID: m.ID, Status: store.RecipientPending}
		if reason := skipReason(rule, m, consents); reason != "" {
			rs[i].Status, rs[i].SkipReason = store.RecipientSkipped, reason
		}
	}
	return rs, nil
}

// skipReason is why contact m gets nothing under rule, or "". consents
// are the current marketing consents by contact (RequireConsent only).
func skipReason(rule string, m store.Contact, consents map[int64]bool) string {
	if m.WaID == "" && m.UserID == "" {
		return store.SkipNoAddress
	}
	switch rule {
	case RequireAny:
		return ""
	case RequireNotOptedOut:
		if m.MarketingOptOut {
			return store.SkipOptedOut
		}
		return ""
	}
	granted, recorded := consents[m.ID]
	switch {
	case m.MarketingOptOut || (recorded && !granted):
		return store.SkipOptedOut
	case !granted:
		return store.SkipNoConsent
	}
	return ""
}

// send queues the messages of the pending recipients, one transaction a
// batch, paced by the outbox backlog and the daily unique-user limit, and
// moves the campaign to done when none is left.
func (s *Service) send(ctx context.Context, c store.Campaign) error {
	tmpl, err := s.Template(c.Template, c.Language)
	if err != nil {
		// The configuration lost the template since the campaign was made:
		// retried (with backoff) until an operator puts it back or pauses.
		s.log.Error("campaign template is no longer approved", slog.String("campaign", c.Name), slog.String("error", err.Error()))
		return err
	}
	// after is the last contact this run read: every batch settles all of
	// its recipients, so the pending ones are past it, but for those the
	// daily limit held, which the look from the start finds again.
	var after int64
	// reached is the day's reach as last counted plus what this run
	// queued since (-1: not counted yet); sinceCount the batches since.
	reached, sinceCount := -1, 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		cur, err := s.store.GetCampaignByID(ctx, c.ID)
		if err != nil {
			return err
		}
		if cur.Status != store.CampaignRunning {
			return nil
		}
		n := s.opt.BatchSize
		// room is how many more contacts outside their service window
		// the daily limit lets this batch reach; -1: no limit. The batch
		// reads BatchSize recipients all the same: those whose window is
		// open do not count (store.CampaignReach), so they are queued
		// whatever the room, and the others past it wait (queueBatch).
		room := -1
		if s.opt.DailyUniqueLimit > 0 {
			// The store's count reads the whole day's recipients: it is
			// taken every reachRecount batches (other campaigns reach
			// people too), and in between this run adds what it queued.
			if reached < 0 || sinceCount >= reachRecount {
				if reached, err = s.store.CampaignReach(ctx, s.now().Add(-24*time.Hour)); err != nil {
					return err
				}
				sinceCount = 0
			}
			room = s.opt.DailyUniqueLimit - reached
			if room <= 0 {
				// The recipients wait for the next run, not skipped.
				if _, err := s.store.Enqueue(ctx, runJob(c.ID, s.now().Add(s.opt.LimitWait))); err != nil {
					return err
				}
				s.log.Info("daily unique-user limit reached: the campaign waits", slog.String("campaign", c.Name),
					slog.Int("limit", s.opt.DailyUniqueLimit), slog.Duration("retry_in", s.opt.LimitWait))
				return nil
			}
		}
		if s.opt.Backlog > 0 {
			// The outbox holds bulk messages in send batch jobs: the
			// backlog counts whole jobs, at least one.
			batches, err := s.store.UnfinishedJobs(ctx, channel.KindSendBatch)
			if err != nil {
				return err
			}
			room := (s.backlogJobs() - batches) * channel.SendBatchSize
			if room <= 0 {
				if err := s.waitForOutbox(ctx, channel.SendBatchSize); err != nil {
					return err
				}
				continue
			}
			n = min(n, room)
		}
		rs, err := s.store.PendingRecipients(ctx, c.ID, after, max(n, 1))
		if err != nil {
			return err
		}
		if len(rs) == 0 {
			if after > 0 {
				after = 0 // look once more from the start before calling it done
				continue
			}
			return s.finish(ctx, cur)
		}
		after = rs[len(rs)-1].ContactID
		queued, reaching, err := s.queueBatch(ctx, cur, tmpl, rs, room)
		if err != nil {
			return err
		}
		if reached >= 0 {
			reached += reaching
			sinceCount++
		}
		if queued > 0 {
			s.wake()
		}
	}
}

// backlogJobs is the most send batch jobs a campaign lets the outbox hold:
// Options.Backlog messages, rounded up to whole jobs.
func (s *Service) backlogJobs() int {
	return (s.opt.Backlog + channel.SendBatchSize - 1) / channel.SendBatchSize
}

// waitForOutbox sleeps about as long as the sender needs to send need
// messages at the configured rate (between 20 ms and one second).
func (s *Service) waitForOutbox(ctx context.Context, need int) error {
	d := 100 * time.Millisecond
	if s.opt.RatePerSecond > 0 {
		d = time.Duration(float64(need) / s.opt.RatePerSecond * float64(time.Second))
	}
	t := time.NewTimer(min(max(d, 20*time.Millisecond), time.Second))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// finish moves a campaign with no pending recipient left to done; one
// paused or cancelled meanwhile stays so.
func (s *Service) finish(ctx context.Context, c store.Campaign) error {
	if !c.Materialized {
		return nil // cannot happen: dispatch runs first
	}
	_, err := s.moveFrom(ctx, privacy.ActorSystem, c, store.CampaignDone, "campaign.done", store.CampaignMove{}, nil)
	if errors.Is(err, store.ErrIllegalMove) {
		return nil
	}
	return err
}

// queueBatch queues, in one transaction, the message of each recipient of
// rs in the contact's open conversation on the campaign's number, and marks
// the recipients queued with their messages' ids; a recipient who opted out
// since the dispatcher saw them, or whose parameters WhatsApp would refuse,
// is skipped instead. With room >= 0 (the daily unique-user limit), only
// room recipients whose service window is closed are queued: the others
// stay pending, for a later run. The batch takes a few statements whatever
// its size (channel.QueueBulk, store.Outbox). It returns how many it
// queued, and how many of those were outside their service window (what
// the daily limit counts).
func (s *Service) queueBatch(ctx context.Context, c store.Campaign, tmpl inbox.Template, rs []store.CampaignRecipient, room int) (queued, reaching int, err error) {
	rule := s.rule(c)
	// now is the recipients' queue time, which store.CampaignReach judges
	// their windows at.
	now := s.now()
	var bulk []channel.Bulk
	var ids []int64
	skips := map[int64]string{}
	for _, r := range rs {
		out, reason := s.message(rule, c, tmpl, r.Contact)
		if reason != "" {
			skips[r.ContactID] = reason
			continue
		}
		if !windowOpen(r.Contact, now) {
			if room == 0 {
				continue // waits for room
			}
			if room > 0 {
				room--
			}
			reaching++
		}
		bulk = append(bulk, channel.Bulk{Contact: r.Contact, Message: out})
		ids = append(ids, r.ContactID)
	}
	err = s.store.InTx(ctx, func(tx store.Queries) error {
		for contactID, reason := range skips {
			if err := tx.SkipRecipient(ctx, c.ID, contactID, reason, now); err != nil {
				return err
			}
		}
		if len(bulk) == 0 {
			return nil
		}
		convs, err := tx.OpenConversations(ctx, c.PhoneNumberID, ids)
		if err != nil {
			return err
		}
		for i := range bulk {
			bulk[i].Conversation = convs[bulk[i].Contact.ID]
		}
		msgs, err := channel.QueueBulk(ctx, tx, bulk)
		if err != nil {
			return err
		}
		marks := make([]store.RecipientMessage, len(msgs))
		for i, m := range msgs {
			marks[i] = store.RecipientMessage{ContactID: bulk[i].Contact.ID, MessageID: m.ID}
		}
		return tx.MarkRecipientsQueued(ctx, c.ID, marks, now)
	})
	if err != nil {
		return 0, 0, err
	}
	return len(bulk), reaching, nil
}

// windowOpen reports whether ct's customer-service window is open at now
// as store.CampaignReach judges it: a message at or before now and less
// than 24 hours before it. Meta does not count a contact reached within it
// against the daily unique-user limit.
func windowOpen(ct store.Contact, now time.Time) bool {
	return channel.InWindow(ct, now) && !ct.LastInboundAt.After(now)
}

// message is the template message of contact ct, or the reason ct gets
// none: an opt-out since the dispatcher saw them (unless the rule is
// RequireAny), or parameters WhatsApp would refuse.
func (s *Service) message(rule string, c store.Campaign, tmpl inbox.Template, ct store.Contact) (whatsapp.Outbound, string) {
	if reason := skipReason(rule, ct, map[int64]bool{ct.ID: true}); reason != "" {
		return whatsapp.Outbound{}, reason
	}
	content, err := tmpl.Content(Params(c, ct))
	if err != nil {
		return whatsapp.Outbound{}, store.SkipInvalidParams
	}
	out := whatsapp.Outbound{To: ct.WaID, Content: content}
	if ct.WaID == "" {
		out.Recipient = ct.UserID
	}
	if err := out.Validate(); err != nil {
		return whatsapp.Outbound{}, store.SkipInvalidParams
	}
	return out, ""
}

// Params are the values of c's placeholders for contact ct, in order.
func Params(c store.Campaign, ct store.Contact) []string {
	out := make([]string, len(c.Params))
	for i, p := range c.Params {
		out[i] = p.Value(ct)
	}
	return out
}
