package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// SegmentConsentMarketing is the SegmentFilter.Consent that keeps the
// contacts who may receive marketing messages.
const SegmentConsentMarketing = "marketing"

// Bounds of the segment queries and filters.
const (
	// MaxSegmentSample is the most contacts SampleSegment returns at once.
	MaxSegmentSample = 100
	// MaxSegmentPage is the most contacts ContactsInSegment returns at once.
	MaxSegmentPage = 10000
	// MaxSegmentDays is the longest activity window a filter may name, in
	// days (about a hundred years).
	MaxSegmentDays = 36500
	// MaxSegmentName is the longest segment name, in characters.
	MaxSegmentName = 100
)

// Segment is a saved filter over the contacts, by a unique name: who a
// campaign is sent to. Its members are found when it is used (see
// Segments), so a contact imported or tagged later joins it.
type Segment struct {
	ID          int64
	Name        string
	Description string
	Filter      SegmentFilter
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// SegmentFilter selects contacts. A contact is a member when it passes every
// field that is set; the zero filter selects every contact. It is stored as
// JSON with the names of its tags.
type SegmentFilter struct {
	// Tags are tags a member has, all of them.
	Tags []string `json:"tags,omitempty"`
	// AnyTags are tags a member has at least one of.
	AnyTags []string `json:"any_tags,omitempty"`
	// Attributes are attribute values a member has, each exactly (the
	// name and the value compare byte for byte).
	Attributes map[string]string `json:"attributes,omitempty"`
	// Consent is "" (any contact) or SegmentConsentMarketing: the
	// contacts who may receive marketing messages, that is whose
	// MarketingOptOut is false (they never stopped marketing messages,
	// or resumed them since).
	Consent string `json:"consent,omitempty"`
	// ActiveWithinDays, when more than 0, keeps the contacts who wrote
	// within that many days (24-hour periods) before the query's time:
	// LastInboundAt at or after it. A contact who never wrote is not
	// active.
	ActiveWithinDays int `json:"active_within_days,omitempty"`
	// InactiveForDays, when more than 0, keeps the contacts who did not
	// write for that many days before the query's time: LastInboundAt
	// before it, or never. With ActiveWithinDays, both hold: the contacts
	// last active between the two, so ActiveWithinDays must be the
	// larger.
	InactiveForDays int `json:"inactive_for_days,omitempty"`
	// Locale is a language tag ("tr", "en-GB") that a member's Locale is
	// or starts with: "tr" matches "tr", "tr-TR" and "tr_TR". Case and
	// '_' or '-' do not matter.
	Locale string `json:"locale,omitempty"`
}

// languageTag is what SegmentFilter.Locale and a contact's language may
// hold: a language, then subtags (region, script), split by '-' or '_'.
var languageTag = regexp.MustCompile(`^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$`)

// ValidLanguageTag reports whether s is a language tag a segment filter
// can match, such as "tr", "en-GB" or "tr_TR".
func ValidLanguageTag(s string) bool { return languageTag.MatchString(s) }

// Validate reports the first field of f that no contact can pass, naming
// it: an empty tag or one holding a NUL byte, an empty attribute name, an
// unknown consent, a negative or too long activity window, windows that
// exclude each other, a locale that is not a language tag.
func (f SegmentFilter) Validate() error {
	if err := checkTags("tags", f.Tags); err != nil {
		return err
	}
	if err := checkTags("any_tags", f.AnyTags); err != nil {
		return err
	}
	if err := checkAttributes(f.Attributes); err != nil {
		return err
	}
	if f.Consent != "" && f.Consent != SegmentConsentMarketing {
		return fmt.Errorf("consent %q: want %q or none", f.Consent, SegmentConsentMarketing)
	}
	for _, w := range []struct {
		name string
		days int
	}{{"active_within_days", f.ActiveWithinDays}, {"inactive_for_days", f.InactiveForDays}} {
		if w.days < 0 || w.days > MaxSegmentDays {
			return fmt.Errorf("%s %d: want 0 (no window) to %d", w.name, w.days, MaxSegmentDays)
		}
	}
	if f.ActiveWithinDays > 0 && f.InactiveForDays > 0 && f.ActiveWithinDays <= f.InactiveForDays {
		return fmt.Errorf("active_within_days %d and inactive_for_days %d: no contact is both, "+
			"active_within_days must be the larger", f.ActiveWithinDays, f.InactiveForDays)
	}
	if f.Locale != "" && !ValidLanguageTag(f.Locale) {
		return fmt.Errorf("locale %q: want a language tag such as tr or en-GB", f.Locale)
	}
	return nil
}

// Normalized returns f as the stores query and keep it: tag lists sorted
// without repeats, nil when empty; attributes nil when empty; the locale
// lower case with '-'.
func (f SegmentFilter) Normalized() SegmentFilter {
	f.Tags = TagSet(f.Tags)
	f.AnyTags = TagSet(f.AnyTags)
	if len(f.Attributes) == 0 {
		f.Attributes = nil
	}
	f.Locale = strings.ToLower(strings.ReplaceAll(f.Locale, "_", "-"))
	return f
}

// ActivityBounds returns the times the activity windows of f set at now
// (the current time when zero): members wrote at or after activeSince, and
// not at or after inactiveBefore. Each is zero when its window is not set.
func (f SegmentFilter) ActivityBounds(now time.Time) (activeSince, inactiveBefore time.Time) {
	if now.IsZero() {
		now = time.Now()
	}
	const day = 24 * time.Hour
	if f.ActiveWithinDays > 0 {
		activeSince = now.Add(-time.Duration(f.ActiveWithinDays) * day).UTC()
	}
	if f.InactiveForDays > 0 {
		inactiveBefore = now.Add(-time.Duration(f.InactiveForDays) * day).UTC()
	}
	return activeSince, inactiveBefore
}

// IsZero reports whether f selects every contact.
func (f SegmentFilter) IsZero() bool {
	return len(f.Tags) == 0 && len(f.AnyTags) == 0 && len(f.Attributes) == 0 && f.Consent == "" &&
		f.ActiveWithinDays == 0 && f.InactiveForDays == 0 && f.Locale == ""
}

// Validate reports what makes s unfit to be stored: a name that is empty,
// longer than MaxSegmentName characters, has spaces around it or holds a
// control character; a filter that fails SegmentFilter.Validate.
func (s Segment) Validate() error {
	if err := checkName("segment", s.Name, MaxSegmentName); err != nil {
		return err
	}
	if strings.ContainsRune(s.Description, 0) {
		return fmt.Errorf("segment %q: the description holds a NUL byte", s.Name)
	}
	if err := s.Filter.Validate(); err != nil {
		return fmt.Errorf("segment %q: %w", s.Name, err)
	}
	return nil
}

// CheckSampleLimit reports a SampleSegment limit out of range.
func CheckSampleLimit(limit int) error {
	if limit < 1 || limit > MaxSegmentSample {
		return fmt.Errorf("limit %d: want 1 to %d", limit, MaxSegmentSample)
	}
	return nil
}

// CheckPageLimit reports a ContactsInSegment limit out of range.
func CheckPageLimit(limit int) error {
	if limit < 1 || limit > MaxSegmentPage {
		return fmt.Errorf("limit %d: want 1 to %d", limit, MaxSegmentPage)
	}
	return nil
}

// Validate reports what makes c unfit to be stored: neither a WaID nor a
// UserID to identify the contact, an empty tag, an empty attribute name, or
// a NUL byte in a tag, an attribute's name or its value (PostgreSQL's text
// refuses it, so neither store keeps it).
func (c ContactUpsert) Validate() error {
	if c.WaID == "" && c.UserID == "" {
		return errors.New("neither a wa_id nor a user_id identifies the contact")
	}
	if err := checkTags("tags", c.Tags); err != nil {
		return err
	}
	return checkAttributes(c.Attributes)
}

func checkTags(field string, tags []string) error {
	for _, t := range tags {
		switch {
		case t == "":
			return fmt.Errorf("%s: a tag is empty", field)
		case strings.ContainsRune(t, 0):
			return fmt.Errorf("%s: tag %q holds a NUL byte", field, t)
		}
	}
	return nil
}

func checkAttributes(attrs map[string]string) error {
	for k, v := range attrs {
		switch {
		case k == "":
			return errors.New("attributes: a name is empty")
		case strings.ContainsRune(k, 0):
			return fmt.Errorf("attributes: name %q holds a NUL byte", k)
		case strings.ContainsRune(v, 0):
			return fmt.Errorf("attributes: the value of %q holds a NUL byte", k)
		}
	}
	return nil
}

// checkName reports what makes name unfit as the name of a kind of record
// (a segment, a campaign): empty, spaces around it, not UTF-8, longer than
// most characters, or a control character.
func checkName(kind, name string, most int) error {
	switch {
	case name == "":
		return fmt.Errorf("%s name: empty", kind)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("%s name %q: has spaces around it", kind, name)
	case !utf8.ValidString(name):
		return fmt.Errorf("%s name %q: not UTF-8", kind, name)
	case utf8.RuneCountInString(name) > most:
		return fmt.Errorf("%s name %q: longer than %d characters", kind, name, most)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fmt.Errorf("%s name %q: holds a control character", kind, name)
	}
	return nil
}

// TagSet returns tags sorted without repeats, or nil when there are none:
// the form contacts and segment filters keep them in.
func TagSet(tags []string) []string {
	if len(tags) == 0 {
		return nil
	}
	out := slices.Clone(tags)
	slices.Sort(out)
	return slices.Compact(out)
}

// Segments keeps the saved segments and answers the queries over contacts
// that segments and campaigns make. Every query takes a filter and the
// time its activity windows count back from (now; the current time when
// zero), and refuses a filter that fails Validate with its error, which
// names the field. The filter's values reach the database as query
// arguments only.
type Segments interface {
	// PutSegment stores s (Validate first) under its name, replacing the
	// description and filter of a segment of that name, which keeps its ID
	// and CreatedAt. The filter is stored Normalized.
	PutSegment(ctx context.Context, s Segment) (Segment, error)
	// GetSegment returns the segment called name; ErrNotFound when none.
	GetSegment(ctx context.Context, name string) (Segment, error)
	// ListSegments returns every segment, by name in byte order.
	ListSegments(ctx context.Context) ([]Segment, error)
	// DeleteSegment removes the segment called name; ErrNotFound when
	// none.
	DeleteSegment(ctx context.Context, name string) error

	// CountSegment returns how many contacts pass f at now.
	CountSegment(ctx context.Context, f SegmentFilter, now time.Time) (int, error)
	// SampleSegment returns up to limit contacts passing f at now, chosen
	// at random (each call may differ); limit is 1 to MaxSegmentSample.
	SampleSegment(ctx context.Context, f SegmentFilter, now time.Time, limit int) ([]Contact, error)
	// ContactsInSegment returns up to limit contacts passing f at now
	// whose IDs are above afterID, by ID: paging with afterID set to the
	// last ID of the page before (0 at first) walks every member once;
	// limit is 1 to MaxSegmentPage. A contact changed while paging is
	// seen as it is when its page is read.
	ContactsInSegment(ctx context.Context, f SegmentFilter, now time.Time, afterID int64, limit int) ([]Contact, error)

	ContactBatches
}

// ContactBatches are the contact operations an import makes on a batch of
// rows at once: one or two queries a batch where the store can, rather than
// one or more a row.
type ContactBatches interface {
	// ContactsByWaID returns the contacts with these wa_ids, in no
	// particular order; an unknown or empty wa_id finds nothing.
	ContactsByWaID(ctx context.Context, waIDs []string) ([]Contact, error)
	// UpsertContactsByWaID applies each upsert of us as UpsertContact
	// does, all or none, and returns the contacts in the order of us. us
	// must pass CheckContactBatch: each upsert is valid, has a WaID of its
	// own in us and no UserID.
	UpsertContactsByWaID(ctx context.Context, us []ContactUpsert) ([]Contact, error)
}

// CheckContactBatch reports the first upsert of us that UpsertContactsByWaID
// refuses: one that fails Validate, has no WaID, has a UserID, or repeats
// the WaID of an earlier one.
func CheckContactBatch(us []ContactUpsert) error {
	seen := make(map[string]int, len(us))
	for i, u := range us {
		switch {
		case u.WaID == "":
			return fmt.Errorf("upsert %d: no wa_id", i+1)
		case u.UserID != "":
			return fmt.Errorf("upsert %d, wa_id %s: a user_id is set; a batch is keyed on wa_ids alone", i+1, u.WaID)
		}
		if j, dup := seen[u.WaID]; dup {
			return fmt.Errorf("upsert %d: wa_id %s repeats upsert %d", i+1, u.WaID, j+1)
		}
		seen[u.WaID] = i
		if err := u.Validate(); err != nil {
			return fmt.Errorf("upsert %d, wa_id %s: %w", i+1, u.WaID, err)
		}
	}
	return nil
}
