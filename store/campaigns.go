package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Campaign statuses. A campaign is made a draft, may be scheduled, runs,
// may pause and resume, and ends done (every recipient was queued or
// skipped) or cancelled. See CampaignMoves for the legal moves.
const (
	CampaignDraft     = "draft"
	CampaignScheduled = "scheduled"
	CampaignRunning   = "running"
	CampaignPaused    = "paused"
	CampaignCancelled = "cancelled"
	CampaignDone      = "done"
)

// CampaignStatuses lists every campaign status.
var CampaignStatuses = []string{CampaignDraft, CampaignScheduled, CampaignRunning, CampaignPaused, CampaignCancelled, CampaignDone}

// CampaignMoves are the legal status changes: from a status (the key) to
// any of the listed ones. Done and cancelled are final.
var CampaignMoves = map[string][]string{
	CampaignDraft:     {CampaignScheduled, CampaignRunning, CampaignCancelled},
	CampaignScheduled: {CampaignScheduled, CampaignRunning, CampaignCancelled},
	CampaignRunning:   {CampaignPaused, CampaignCancelled, CampaignDone},
	CampaignPaused:    {CampaignRunning, CampaignCancelled},
}

// CanMoveCampaign reports whether a campaign may go from status from to
// status to.
func CanMoveCampaign(from, to string) bool {
	return slices.Contains(CampaignMoves[from], to)
}

// Recipient statuses. A recipient is pending until the sender queues its
// message in the outbox (queued, with the message's id) or the dispatcher
// or the sender leaves it out (skipped, with a reason). What happened to
// the message after it was queued is the message's status.
const (
	RecipientPending = "pending"
	RecipientQueued  = "queued"
	RecipientSkipped = "skipped"
)

// Skip reasons: why a recipient gets no message.
const (
	// SkipOptedOut: the contact stopped marketing messages.
	SkipOptedOut = "opted_out"
	// SkipNoConsent: a marketing template, and the contact's current
	// marketing consent is not a granted one.
	SkipNoConsent = "no_consent"
	// SkipInvalidParams: a parameter has no value for the contact (no
	// field and no default) or one WhatsApp refuses.
	SkipInvalidParams = "invalid_params"
	// SkipNoAddress: the contact has neither a wa_id nor a user_id to
	// send to.
	SkipNoAddress = "no_address"
)

// SkipReasons lists every skip reason.
var SkipReasons = []string{SkipOptedOut, SkipNoConsent, SkipInvalidParams, SkipNoAddress}

// Sources of a campaign parameter's value (CampaignParam.Source).
const (
	ParamName     = "name"     // the contact's name
	ParamPhone    = "phone"    // the contact's wa_id, "+" and its digits
	ParamLanguage = "language" // the contact's locale
	ParamAttr     = "attr"     // the contact's attribute CampaignParam.Attribute
	ParamText     = "text"     // CampaignParam.Default, the same for everyone
)

// ParamSources lists every CampaignParam.Source.
var ParamSources = []string{ParamName, ParamPhone, ParamLanguage, ParamAttr, ParamText}

// CampaignParam fills one placeholder of the template ({{1}} is the first
// of Campaign.Params) from a field of each contact, or Default when the
// contact has no value for it.
type CampaignParam struct {
	Source    string `json:"source"`              // one of ParamSources
	Attribute string `json:"attribute,omitempty"` // the attribute's name, for ParamAttr only
	Default   string `json:"default,omitempty"`   // the value when the contact has none; the value of ParamText
}

// Value is p's value for contact c: its field, else Default (which may
// be empty).
func (p CampaignParam) Value(c Contact) string {
	var v string
	switch p.Source {
	case ParamName:
		v = c.Name
	case ParamPhone:
		if c.WaID != "" {
			v = "+" + c.WaID
		}
	case ParamLanguage:
		v = c.Locale
	case ParamAttr:
		v = c.Attributes[p.Attribute]
	}
	if strings.TrimSpace(v) == "" {
		return p.Default
	}
	return v
}

// String writes p as the command line takes it: name, attr:city,
// attr:city:İstanbul, text:Merhaba.
func (p CampaignParam) String() string {
	s := p.Source
	if p.Source == ParamAttr {
		s += ":" + p.Attribute
	}
	if p.Default != "" {
		s += ":" + p.Default
	}
	return s
}

// Validate reports what makes p unfit, naming the field.
func (p CampaignParam) Validate() error {
	switch {
	case !slices.Contains(ParamSources, p.Source):
		return fmt.Errorf("source %q: want one of %s", p.Source, strings.Join(ParamSources, ", "))
	case p.Source == ParamAttr && p.Attribute == "":
		return errors.New("source attr: the attribute's name is empty")
	case p.Source != ParamAttr && p.Attribute != "":
		return fmt.Errorf("source %s: an attribute name (%q) is only for source attr", p.Source, p.Attribute)
	case p.Source == ParamText && strings.TrimSpace(p.Default) == "":
		return errors.New("source text: the text is empty")
	case strings.ContainsRune(p.Attribute, 0) || strings.ContainsRune(p.Default, 0):
		return errors.New("holds a NUL byte")
	}
	return nil
}

// MaxCampaignName is the longest campaign name, in characters.
const MaxCampaignName = 100

// Campaign sends one approved template to the members of a segment, once
// each. The template's name, language and category are checked against
// the configured templates when it is made (campaign.Service.Create);
// the store keeps what it is given.
type Campaign struct {
	ID            int64
	Name          string // unique
	PhoneNumberID string // the business number it sends from
	Template      string
	Language      string
	Category      string // the template's: marketing, utility or authentication
	// Params fill the template's placeholders: Params[0] is {{1}}.
	Params []CampaignParam
	// Segment names the segment the recipients come from. Filter is a
	// copy of its filter taken when the campaign starts (zero before), so
	// that changing the segment later changes nothing, and StartedAt is
	// the time its activity windows count back from.
	Segment string
	Filter  SegmentFilter
	Status  string // one of CampaignStatuses
	// ScheduledAt is when a scheduled campaign starts (UTC); TimeZone is
	// the IANA zone the user gave it in, kept for showing it.
	ScheduledAt time.Time
	TimeZone    string
	CreatedBy   string // the user's login, or "cli"
	// Materialized is set when every member of the segment has a
	// recipient row; Cursor is the last contact ID the dispatcher
	// materialised, where it resumes.
	Materialized bool
	Cursor       int64
	StartedAt    time.Time // zero until it first runs
	FinishedAt   time.Time // when it became done or cancelled
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Validate reports what makes c unfit to be stored, naming the field: a
// name that is empty, has spaces around it, is too long or holds a
// control character; no business number, template, language, category
// or segment; an unknown status; a parameter that fails its Validate; a
// time zone that is not an IANA zone.
func (c Campaign) Validate() error {
	if err := checkName("campaign", c.Name, MaxCampaignName); err != nil {
		return err
	}
	switch {
	case c.PhoneNumberID == "":
		return fmt.Errorf("campaign %q: the business number is empty", c.Name)
	case c.Template == "":
		return fmt.Errorf("campaign %q: the template is empty", c.Name)
	case c.Language == "":
		return fmt.Errorf("campaign %q: the template language is empty", c.Name)
	case c.Category == "":
		return fmt.Errorf("campaign %q: the template category is empty", c.Name)
	case c.Segment == "":
		return fmt.Errorf("campaign %q: the segment is empty", c.Name)
	case c.Status != "" && !slices.Contains(CampaignStatuses, c.Status):
		return fmt.Errorf("campaign %q: status %q, want one of %s", c.Name, c.Status, strings.Join(CampaignStatuses, ", "))
	}
	for i, p := range c.Params {
		if err := p.Validate(); err != nil {
			return fmt.Errorf("campaign %q: parameter {{%d}}: %w", c.Name, i+1, err)
		}
	}
	if c.TimeZone != "" {
		if _, err := time.LoadLocation(c.TimeZone); err != nil {
			return fmt.Errorf("campaign %q: time zone %q: not an IANA time zone", c.Name, c.TimeZone)
		}
	}
	return nil
}

// CampaignRecipient is one contact a campaign is for.
type CampaignRecipient struct {
	CampaignID int64
	ContactID  int64
	Status     string // RecipientPending, RecipientQueued or RecipientSkipped
	SkipReason string // one of SkipReasons when skipped, else ""
	// MessageID is the outbox message queued for it (queued only).
	MessageID int64
	// MessageStatus and ErrorCode are the outbox message's status
	// (queued, sent, delivered, read, failed) and its error code when it
	// failed, read from the message (status webhooks keep it); empty and
	// 0 until the recipient is queued. Only ListCampaignRecipients fills
	// them.
	MessageStatus string
	ErrorCode     int
	QueuedAt      time.Time // when it was queued or skipped
	CreatedAt     time.Time
	// Contact is the recipient's contact as it is now: PendingRecipients
	// fills it, ListCampaignRecipients its ID and WaID.
	Contact Contact
}

// CampaignStats counts a campaign's recipients and what became of their
// messages, derived from the recipients, their outbox messages, the
// conversations' inbound messages and the contacts' opt-outs at the time
// of the query: live while the campaign runs.
type CampaignStats struct {
	Recipients int            `json:"recipients"`
	Pending    int            `json:"pending"`
	Skipped    int            `json:"skipped"`
	SkippedBy  map[string]int `json:"skipped_by"` // by skip reason; never nil
	// Queued counts the recipients whose message went to the outbox,
	// whatever became of it since.
	Queued int `json:"queued"`
	// Sent counts the messages WhatsApp accepted and that did not fail
	// since (sent, delivered or read); Delivered those delivered or read;
	// Read those read. Failed counts the failed ones, FailedBy by error
	// code (never nil).
	Sent      int         `json:"sent"`
	Delivered int         `json:"delivered"`
	Read      int         `json:"read"`
	Failed    int         `json:"failed"`
	FailedBy  map[int]int `json:"failed_by"`
	// Replied counts the recipients who wrote in the message's
	// conversation within 24 hours after it was sent.
	Replied int `json:"replied"`
	// OptedOutAfter counts the recipients whose marketing opt-out was
	// recorded after their message was sent, and who are still opted out.
	OptedOutAfter int `json:"opted_out_after"`
	// Duplicates counts the second sends found: a message WhatsApp
	// accepted twice (a send in flight when yanit crashed, sent again after
	// the restart), seen when the status webhooks of both copies arrived
	// (RecordDuplicateSend).
	Duplicates int `json:"duplicates"`
}

// Tally adds n recipients of status (and skip reason) whose message has
// msgStatus (and error code; "" and 0 without a message) to s, whose
// maps must not be nil: the stores count recipients by these four and add
// the groups up with it.
// NewCampaignStats returns stats with nothing counted, ready for Tally.
func NewCampaignStats() CampaignStats {
	return CampaignStats{SkippedBy: map[string]int{}, FailedBy: map[int]int{}}
}

func (s *CampaignStats) Tally(status, reason, msgStatus string, code, n int) {
	s.Recipients += n
	switch status {
	case RecipientPending:
		s.Pending += n
	case RecipientSkipped:
		s.Skipped += n
		s.SkippedBy[reason] += n
	case RecipientQueued:
		s.Queued += n
	}
	switch msgStatus {
	case StatusRead:
		s.Read += n
		fallthrough
	case StatusDelivered:
		s.Delivered += n
		fallthrough
	case StatusSent:
		s.Sent += n
	case StatusFailed:
		s.Failed += n
		s.FailedBy[code] += n
	}
}

// Bounds of the campaign queries.
const (
	// MaxRecipientBatch is the most recipients AddCampaignRecipients takes
	// and PendingRecipients and ListCampaignRecipients return at once.
	MaxRecipientBatch = 10000
	// ReplyWindow is how long after a campaign message a contact's reply
	// counts as a reply to it, for stats and for CampaignOfReply.
	ReplyWindow = 24 * time.Hour
)

// CheckRecipientLimit reports a recipient batch size out of range.
func CheckRecipientLimit(n int) error {
	if n < 1 || n > MaxRecipientBatch {
		return fmt.Errorf("limit %d: want 1 to %d", n, MaxRecipientBatch)
	}
	return nil
}

// Campaigns keeps campaigns and their recipients. The campaign package
// drives them (validation against the configured templates, the state
// machine's jobs); an API reads and changes them through it.
type Campaigns interface {
	// CreateCampaign stores c (Validate first) as a draft, or as
	// scheduled when ScheduledAt is set; ErrConflict when the name is
	// taken. ID, status times and CreatedAt are set by the store.
	CreateCampaign(ctx context.Context, c Campaign) (Campaign, error)
	// GetCampaign returns the campaign called name; ErrNotFound when none.
	GetCampaign(ctx context.Context, name string) (Campaign, error)
	// GetCampaignByID returns the campaign id; ErrNotFound when none.
	GetCampaignByID(ctx context.Context, id int64) (Campaign, error)
	// ListCampaigns returns every campaign, newest first.
	ListCampaigns(ctx context.Context) ([]Campaign, error)
	// DeleteCampaign removes a draft or scheduled campaign (one that
	// never ran, so it has no recipients); ErrNotFound when there is
	// none, ErrConflict when it ran.
	DeleteCampaign(ctx context.Context, id int64) error

	// MoveCampaign changes the status of campaign id from from to to, at
	// at, in one statement that checks the status is still from (so of
	// two racing moves one wins): ErrConflict when it is not, ErrNotFound
	// when there is no campaign id, an error naming both statuses when
	// CanMoveCampaign refuses (wrapping ErrIllegalMove). Moving to running
	// the first time sets StartedAt and Filter to m.Filter (the segment's
	// snapshot); later runs keep both. Moving to done or cancelled sets
	// FinishedAt; to scheduled sets ScheduledAt and TimeZone from m.
	MoveCampaign(ctx context.Context, id int64, from, to string, at time.Time, m CampaignMove) (Campaign, error)
	// DueCampaigns returns the scheduled campaigns whose ScheduledAt is
	// at or before now, oldest first.
	DueCampaigns(ctx context.Context, now time.Time) ([]Campaign, error)

	// AddCampaignRecipients inserts the recipients rs of campaign id
	// (each pending, or skipped with a reason), skipping those the
	// campaign has already (one row per campaign and contact, so a
	// dispatcher run again adds nobody twice), and sets the campaign's
	// Cursor to cursor and Materialized to done, all in one statement
	// batch. It returns how many it inserted. At most MaxRecipientBatch.
	AddCampaignRecipients(ctx context.Context, id int64, rs []CampaignRecipient, cursor int64, done bool) (int, error)
	// MarketingConsents returns the current marketing consent (the newest
	// record, as CurrentConsents finds it) of those of the contacts ids
	// that have one: granted (true) or refused (false). A contact without
	// a marketing record is not in the map.
	MarketingConsents(ctx context.Context, ids []int64) (map[int64]bool, error)
	// PendingRecipients returns up to limit pending recipients of the
	// campaign whose contact ID is above afterContactID, by contact ID,
	// each with its Contact. The sender passes the last ID of its previous
	// batch, so that the index seeks past the rows it queued instead of
	// reading them again (their old index entries stay until a vacuum).
	PendingRecipients(ctx context.Context, id, afterContactID int64, limit int) ([]CampaignRecipient, error)
	// MarkRecipientQueued records that the pending recipient's message is
	// messageID in the outbox, at at; ErrConflict when the recipient is
	// not pending (queued or skipped already), ErrNotFound when missing.
	MarkRecipientQueued(ctx context.Context, id, contactID, messageID int64, at time.Time) error
	// MarkRecipientsQueued is MarkRecipientQueued for many recipients of
	// the campaign, in one statement: all or none (ErrConflict, naming a
	// contact, when any is not pending; ErrNotFound when any is missing).
	// At most MaxOutboxBatch.
	MarkRecipientsQueued(ctx context.Context, id int64, rs []RecipientMessage, at time.Time) error
	// SkipRecipient records that the pending recipient gets no message,
	// for reason; ErrConflict when it is not pending.
	SkipRecipient(ctx context.Context, id, contactID int64, reason string, at time.Time) error
	// ListCampaignRecipients returns up to limit recipients of the
	// campaign whose contact ID is above afterContactID, by contact ID,
	// with their message's status and error code (paging like
	// ContactsInSegment).
	ListCampaignRecipients(ctx context.Context, id int64, afterContactID int64, limit int) ([]CampaignRecipient, error)

	// CampaignStats counts the campaign's recipients and their messages.
	CampaignStats(ctx context.Context, id int64) (CampaignStats, error)
	// CampaignTallies counts the recipients and messages of every
	// campaign that has recipients, by campaign ID, in one query: the
	// counts of CampaignStats without Replied, OptedOutAfter and
	// Duplicates (a list's summary).
	CampaignTallies(ctx context.Context) (map[int64]CampaignStats, error)
	// RecordDuplicateSend notes that WhatsApp accepted the outbox message
	// messageID a second time, as channelMessageID: the receiver calls it
	// when a status webhook carries the message's outbox tag and a wamid
	// other than the one recorded. Noting a wamid again is a no-op;
	// ErrNotFound when there is no such message.
	RecordDuplicateSend(ctx context.Context, messageID int64, channelMessageID string) error
	// UnfinishedJobs counts the jobs of kind waiting or running: the
	// campaign sender paces itself on the outbox's backlog of send jobs.
	UnfinishedJobs(ctx context.Context, kind string) (int, error)
	// CampaignReach counts the distinct contacts any campaign queued a
	// message for at or after since, outside their customer-service
	// window: what a portfolio's daily limit on unique users counts. A
	// recipient does not count when its contact's last inbound message
	// (Contact.LastInboundAt) is at or before the recipient's queue time
	// and less than 24 hours before it (the window was open). A contact
	// who wrote again after the queue time does count: its last message
	// then says nothing of the window at the queue time, and counting too
	// many only makes the sender wait early. A contact counts once however
	// many campaigns reached it outside its window.
	CampaignReach(ctx context.Context, since time.Time) (int, error)
	// CampaignOfReply returns the campaign whose message the contact of
	// the conversation was sent most recently, when it was sent within
	// ReplyWindow before at (WhatsApp accepted it); ErrNotFound when
	// there is none.
	CampaignOfReply(ctx context.Context, conversationID int64, at time.Time) (Campaign, error)
}

// CampaignMove carries what MoveCampaign sets besides the status.
type CampaignMove struct {
	// ScheduledAt and TimeZone, moving to scheduled.
	ScheduledAt time.Time
	TimeZone    string
	// Filter is the segment's filter, moving to running the first time.
	Filter SegmentFilter
}

// ErrIllegalMove is wrapped by the error of a campaign status change the
// state machine does not allow.
var ErrIllegalMove = errors.New("illegal campaign status change")

// IllegalMove is the error of a move from status from to status to.
func IllegalMove(name, from, to string) error {
	return fmt.Errorf("%w: campaign %q is %s and cannot become %s", ErrIllegalMove, name, from, to)
}

// CheckSkipReason reports a reason that is not one of SkipReasons.
func CheckSkipReason(reason string) error {
	if !slices.Contains(SkipReasons, reason) {
		return fmt.Errorf("skip reason %q: want one of %s", reason, strings.Join(SkipReasons, ", "))
	}
	return nil
}

// CheckRecipientBatch reports the first recipient AddCampaignRecipients
// refuses: more than MaxRecipientBatch of them, no contact, a contact
// twice, a status other than pending or skipped, a skipped one without a
// known reason or a pending one with a reason.
func CheckRecipientBatch(rs []CampaignRecipient) error {
	if len(rs) > MaxRecipientBatch {
		return fmt.Errorf("%d recipients: at most %d at once", len(rs), MaxRecipientBatch)
	}
	seen := make(map[int64]bool, len(rs))
	for i, r := range rs {
		switch {
		case r.ContactID <= 0:
			return fmt.Errorf("recipient %d: no contact", i+1)
		case seen[r.ContactID]:
			return fmt.Errorf("recipient %d: contact %d repeats", i+1, r.ContactID)
		case r.Status == RecipientPending && r.SkipReason != "":
			return fmt.Errorf("recipient %d (contact %d): pending with a skip reason %q", i+1, r.ContactID, r.SkipReason)
		case r.Status == RecipientSkipped:
			if err := CheckSkipReason(r.SkipReason); err != nil {
				return fmt.Errorf("recipient %d (contact %d): %w", i+1, r.ContactID, err)
			}
		case r.Status != RecipientPending:
			return fmt.Errorf("recipient %d (contact %d): status %q, want %s or %s", i+1, r.ContactID, r.Status, RecipientPending, RecipientSkipped)
		}
		seen[r.ContactID] = true
	}
	return nil
}

// CreatedStatus is the status CreateCampaign gives c: scheduled when it
// has a ScheduledAt, else draft.
func CreatedStatus(c Campaign) string {
	if !c.ScheduledAt.IsZero() {
		return CampaignScheduled
	}
	return CampaignDraft
}

// EncodeCampaignParams is params as the stores keep them: a JSON array,
// [] when there are none.
func EncodeCampaignParams(params []CampaignParam) ([]byte, error) {
	if len(params) == 0 {
		return []byte("[]"), nil
	}
	b, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("encoding the parameters: %w", err)
	}
	return b, nil
}

// DecodeCampaignJSON reads the stored parameters and filter of c.
func DecodeCampaignJSON(c *Campaign, params, filter []byte) error {
	if err := json.Unmarshal(params, &c.Params); err != nil {
		return fmt.Errorf("reading the parameters of campaign %q: %w", c.Name, err)
	}
	if len(c.Params) == 0 {
		c.Params = nil
	}
	if err := json.Unmarshal(filter, &c.Filter); err != nil {
		return fmt.Errorf("reading the filter of campaign %q: %w", c.Name, err)
	}
	return nil
}
