package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Consent purposes: what a contact agrees to.
const (
	// PurposeService is the conversation itself: processing what the
	// contact writes to answer them.
	PurposeService = "service"
	// PurposeMarketing is receiving marketing messages (campaigns).
	PurposeMarketing = "marketing"
)

// Purposes lists every consent purpose.
var Purposes = []string{PurposeService, PurposeMarketing}

// How a consent was given or refused.
const (
	ConsentByButton  = "button"  // a reply button of the consent question
	ConsentByKeyword = "keyword" // an opt-out or opt-in word, or a typed yes/no
	ConsentByImport  = "import"  // a contacts import
	ConsentByAPI     = "api"     // the admin API
	ConsentByWebhook = "webhook" // Meta's user_preferences webhook
	ConsentByNotice  = "notice"  // the contact was informed (notice mode)
)

// ConsentSources lists every way a consent is recorded.
var ConsentSources = []string{ConsentByButton, ConsentByKeyword, ConsentByImport, ConsentByAPI, ConsentByWebhook, ConsentByNotice}

// Consent is one record of a contact giving or refusing consent for a
// purpose. Records are never changed: the newest of a contact and purpose
// is the contact's current choice, the older ones its history.
type Consent struct {
	ID        int64
	ContactID int64
	Purpose   string // PurposeService or PurposeMarketing
	Granted   bool
	Source    string // ConsentByButton, …
	// PolicyVersion is the version of the privacy policy the contact was
	// shown; a new version asks again.
	PolicyVersion string
	// At is when the contact gave or refused it (a webhook's timestamp,
	// an import's date); CreatedAt is when it was recorded.
	At        time.Time
	CreatedAt time.Time
}

// Validate reports what makes c unfit to be stored.
func (c Consent) Validate() error {
	switch {
	case c.ContactID == 0:
		return errors.New("consent: no contact")
	case !slices.Contains(Purposes, c.Purpose):
		return fmt.Errorf("consent: purpose %q, want one of %v", c.Purpose, Purposes)
	case !slices.Contains(ConsentSources, c.Source):
		return fmt.Errorf("consent: source %q, want one of %v", c.Source, ConsentSources)
	case c.At.IsZero():
		return errors.New("consent: no time")
	}
	return nil
}

// AuditEntry is one line of the append-only audit log: who did what, to
// what, when and from where.
type AuditEntry struct {
	ID int64
	// Actor names who acted: a user's login, "cli" for the command line
	// of the machine, "system" for yanit itself, "contact:<id>" for an end
	// user (a consent change).
	Actor   string
	ActorID int64 // the user's id; 0 when the actor is no user
	// Action is a dotted verb: consent.given, contact.erased,
	// ticket.viewed, user.created, …
	Action string
	// Target names what the action touched: "contact:12", "ticket:7",
	// "user:3", "collection:faq".
	Target string
	// Address is the client's IP address for actions over HTTP.
	Address string
	// Detail holds what else matters (a JSON object); never message
	// bodies or personal data beyond identifiers.
	Detail json.RawMessage
	At     time.Time
}

// Validate reports what makes e unfit for the log: no action, or a detail
// that is not a JSON object.
func (e AuditEntry) Validate() error {
	switch {
	case e.Action == "":
		return errors.New("the action is empty")
	case len(e.Detail) > 0 && (!json.Valid(e.Detail) || !bytes.HasPrefix(bytes.TrimSpace(e.Detail), []byte("{"))):
		return fmt.Errorf("the detail %.60q is not a JSON object", e.Detail)
	}
	return nil
}

// AuditFilter narrows ListAudit. Zero values match all.
type AuditFilter struct {
	Actor  string
	Action string // an exact action, or a prefix ending in "." ("consent.")
	Target string
	Since  time.Time
	Before int64 // entries with ids under this one (paging, newest first)
	Limit  int   // default 100, at most 1000
}

// CheckLimit returns the number of entries f asks for, or an error naming
// a limit out of range.
func (f AuditFilter) CheckLimit() (int, error) {
	switch {
	case f.Limit == 0:
		return 100, nil
	case f.Limit < 0 || f.Limit > 1000:
		return 0, fmt.Errorf("limit %d: want 1 to 1000", f.Limit)
	}
	return f.Limit, nil
}

// Erasure counts what EraseContact removed.
type Erasure struct {
	Contacts      int `json:"contacts"`
	Conversations int `json:"conversations"`
	Messages      int `json:"messages"`
	Turns         int `json:"turns"`
	Tickets       int `json:"tickets"`
	TicketEvents  int `json:"ticket_events"`
	Consents      int `json:"consents"`
	Jobs          int `json:"jobs"`
	// CampaignRecipients counts the campaign recipient rows of the contact.
	CampaignRecipients int `json:"campaign_recipients"`
}

// RetentionParams selects what Expire clears: the conversations on these
// business numbers (every number when empty), their records older than
// Before.
type RetentionParams struct {
	PhoneNumberIDs []string
	Before         time.Time
}

// Retention counts what Expire cleared.
type Retention struct {
	Messages int `json:"messages"` // bodies and payloads (media references) cleared
	Turns    int `json:"turns"`    // traces cleared
	Tickets  int `json:"tickets"`  // context packs and event details cleared
	// Conversations counts the states cleared (the vault of personal
	// data behind the placeholders, slots, the handoff's transcript).
	Conversations int `json:"conversations"`
}

// Privacy holds consent records, the audit log, and the erasure and
// expiry of a contact's personal data.
type Privacy interface {
	// RecordConsent appends a consent record (Validate first). A
	// marketing record also sets the contact's MarketingOptOut, in the
	// same way as SetMarketingPreference (an older record than the one
	// the contact holds is kept in the history but changes nothing).
	RecordConsent(ctx context.Context, c Consent) (Consent, error)
	// CurrentConsents returns the newest record (by At, then ID) of each
	// purpose the contact has one for.
	CurrentConsents(ctx context.Context, contactID int64) ([]Consent, error)
	// ListConsents returns every record of the contact, oldest first.
	ListConsents(ctx context.Context, contactID int64) ([]Consent, error)

	// AppendAudit adds an entry to the audit log; At defaults to now.
	// Entries are never changed or removed: on PostgreSQL a trigger
	// refuses UPDATE and DELETE on the table.
	AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error)
	// ListAudit returns entries passing f, newest first.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)

	// EraseContact removes the contact and everything personal held
	// about them: conversations, messages, turns, tickets and their
	// events, consent records, campaign recipient rows, and pending jobs
	// of their conversations.
	// ErrNotFound when there is no such contact.
	EraseContact(ctx context.Context, contactID int64) (Erasure, error)
	// Expire clears the personal content of old records while keeping the
	// rows that analytics count: message bodies and payloads, turn traces,
	// ticket packs and the data of ticket events older than p.Before, and
	// the state of conversations untouched since then. Open tickets and
	// their conversations' state are kept. Clearing again finds nothing.
	Expire(ctx context.Context, p RetentionParams) (Retention, error)
}
