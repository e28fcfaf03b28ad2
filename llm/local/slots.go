package local

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Names of the slots the built-in extractors fill.
const (
	SlotOrderID = "order_id" // "#12345" → "12345", "sp-2024-0001" → "SP-2024-0001"
	SlotDate    = "date"     // YYYY-MM-DD
	SlotTime    = "time"     // HH:MM, 24-hour
	SlotAmount  = "amount"   // "1250.50 TRY": a dot decimal and an ISO 4217 code
	SlotPhone   = "phone"    // E.164: "+905321234567"
	SlotEmail   = "email"    // lower-cased
)

// Slot is one value found in a message.
type Slot struct {
	// Name is one of the Slot* constants or the Name of a Pattern.
	Name string
	// Value is the normalised value (see the Slot* constants); for a
	// Pattern, its first capture group if it has one, else the whole match.
	Value string
	// Start and End are byte offsets in the original text, text[Start:End]:
	// the matched value (a Pattern's first capture group if it has one).
	Start, End int
}

// Pattern is a slot defined in configuration by a regular expression (Go
// RE2 syntax), matched against the original text. Start the expression with
// (?i) for case-insensitive matching.
type Pattern struct {
	Name  string
	Regex string
}

// SlotExtractor finds the built-in slots of every message and, for each
// intent, the slots of that intent's configured patterns. It is read-only
// after NewSlotExtractor and safe for concurrent use.
type SlotExtractor struct {
	patterns map[string][]compiledPattern
}

type compiledPattern struct {
	name string
	re   *regexp.Regexp
}

// NewSlotExtractor compiles the per-intent patterns (intent → patterns; the
// intent "" applies to every intent). It fails on an empty name or a regular
// expression that does not compile, naming the intent and the pattern.
func NewSlotExtractor(patterns map[string][]Pattern) (*SlotExtractor, error) {
	e := &SlotExtractor{patterns: make(map[string][]compiledPattern, len(patterns))}
	for intent, ps := range patterns {
		for i, p := range ps {
			if p.Name == "" {
				return nil, fmt.Errorf("compiling slot pattern %d of intent %q: empty name", i, intent)
			}
			re, err := regexp.Compile(p.Regex)
			if err != nil {
				return nil, fmt.Errorf("compiling slot pattern %q of intent %q: %w", p.Name, intent, err)
			}
			e.patterns[intent] = append(e.patterns[intent], compiledPattern{name: p.Name, re: re})
		}
	}
	return e, nil
}

// Extract returns the slots of text for intent: first the intent's
// patterns and the patterns of intent "", then the built-in slots (see
// ExtractSlots). Where matches overlap, the earlier in that order wins.
// Slots come sorted by Start.
func (e *SlotExtractor) Extract(text, locale, intent string, ref time.Time) []Slot {
	var out []Slot
	for _, key := range []string{intent, ""} {
		for _, p := range e.patterns[key] {
			for _, m := range p.re.FindAllStringSubmatchIndex(text, -1) {
				s := Slot{Name: p.name, Value: text[m[0]:m[1]], Start: m[0], End: m[1]}
				if len(m) >= 4 && m[2] >= 0 {
					s = Slot{Name: p.name, Value: text[m[2]:m[3]], Start: m[2], End: m[3]}
				}
				out = addSlot(out, s)
			}
		}
		if intent == "" {
			break
		}
	}
	for _, s := range ExtractSlots(text, locale, ref) {
		out = addSlot(out, s)
	}
	slices.SortFunc(out, func(a, b Slot) int { return a.Start - b.Start })
	return out
}

// ExtractSlots returns the built-in slots of text, sorted by Start: e-mail
// addresses, order numbers, phone numbers, amounts, dates and times, in that
// priority where matches overlap. Turkish and English forms are recognised
// whatever the locale; locale ("tr", "en", "en-US", …) only settles the
// order of ambiguous numeric dates (month first for "en-US", day first
// otherwise). Relative dates, weekdays and dates without a year are resolved
// against ref (in ref's location):
//   - bugün/today, yarın/tomorrow, öbür gün/yarından sonra/the day after
//     tomorrow, dün/yesterday;
//   - a weekday name is its next occurrence, today included; with
//     "gelecek", "haftaya", "önümüzdeki" or "next" it is that day of next
//     week (weeks start on Monday);
//   - a day and month without a year take the year that puts the date
//     nearest to ref.
//
// Times are read literally: "saat 3" is 03:00, "3 pm" 15:00, "saat 3
// buçuk" 03:30; no AM/PM is guessed.
func ExtractSlots(text, locale string, ref time.Time) []Slot {
	f := foldKeep(text)
	var out []Slot
	for _, find := range []func(*folded, string, time.Time) []Slot{
		findEmails, findOrderIDs, findPhones, findAmounts, findDates, findTimes,
	} {
		for _, s := range find(f, locale, ref) {
			out = addSlot(out, s)
		}
	}
	slices.SortFunc(out, func(a, b Slot) int { return a.Start - b.Start })
	return out
}

// addSlot appends s unless it overlaps a slot already in out.
func addSlot(out []Slot, s Slot) []Slot {
	for _, o := range out {
		if s.Start < o.End && o.Start < s.End {
			return out
		}
	}
	return append(out, s)
}

// folded is text lower-cased with diacritics removed (as Fold does) but with
// punctuation and symbols kept, so that regular expressions can be written
// in plain ASCII; off maps each byte of s back to the original text.
type folded struct {
	orig string
	s    string
	off  []int // off[i]: byte offset in orig of the rune that produced s[i]; off[len(s)] = len(orig)
}

func foldKeep(text string) *folded {
	var b strings.Builder
	off := make([]int, 0, len(text)+1)
	emit := func(s string, at int) {
		b.WriteString(s)
		for range len(s) {
			off = append(off, at)
		}
	}
	for i, r := range text {
		switch {
		case r >= 'A' && r <= 'Z':
			emit(string(r+'a'-'A'), i)
		case r < utf8.RuneSelf:
			emit(string(r), i)
		case unicode.Is(unicode.Mn, r):
			// dropped, as in Fold
		default:
			if f, ok := foldTable[r]; ok {
				emit(f, i)
			} else {
				emit(string(unicode.ToLower(r)), i)
			}
		}
	}
	off = append(off, len(text))
	return &folded{orig: text, s: b.String(), off: off}
}

// span maps the folded byte range [i, j) back to the original text.
func (f *folded) span(i, j int) (int, int) {
	return f.off[i], f.off[j]
}

// slot builds a slot from a folded range.
func (f *folded) slot(name, value string, i, j int) Slot {
	s, e := f.span(i, j)
	return Slot{Name: name, Value: value, Start: s, End: e}
}

// isDigitAt reports whether s[i] exists and is an ASCII digit.
func isDigitAt(s string, i int) bool {
	return i >= 0 && i < len(s) && s[i] >= '0' && s[i] <= '9'
}

// isWordAt reports whether s[i] exists and is an ASCII letter or digit.
func isWordAt(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	c := s[i]
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z'
}

// digits returns the ASCII digits of s.
func digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

var emailRE = regexp.MustCompile(`[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}`)

func findEmails(f *folded, _ string, _ time.Time) []Slot {
	var out []Slot
	for _, m := range emailRE.FindAllStringIndex(f.s, -1) {
		s, e := f.span(m[0], m[1])
		out = append(out, Slot{Name: SlotEmail, Value: strings.ToLower(f.orig[s:e]), Start: s, End: e})
	}
	return out
}

var (
	// "sipariş no 123456", "siparis numaram: 123456", "order number 123456",
	// "order #A12345", "takip no 123456".
	orderKeywordRE = regexp.MustCompile(`\b(?:siparis\w*|order|takip|tracking)(?:\s*(?:no|numara\w*|number|num|nr|id|kodu?|code))?\s*[.:#]?\s*[.:#]?\s*([a-z]*\d[a-z0-9\-]{2,})`)
	// "#12345".
	orderHashRE = regexp.MustCompile(`#([a-z0-9\-]*\d[a-z0-9\-]{2,})`)
	// "SP-2024-0001": a 2–4 letter prefix and digit groups.
	orderCodeRE = regexp.MustCompile(`\b[a-z]{2,4}-\d{2,}(?:-\d+)*\b`)
)

func findOrderIDs(f *folded, _ string, _ time.Time) []Slot {
	var out []Slot
	for _, m := range orderKeywordRE.FindAllStringSubmatchIndex(f.s, -1) {
		s, e := f.span(m[2], m[3])
		out = addSlot(out, Slot{Name: SlotOrderID, Value: strings.ToUpper(f.orig[s:e]), Start: s, End: e})
	}
	for _, m := range orderHashRE.FindAllStringSubmatchIndex(f.s, -1) {
		s, e := f.span(m[2], m[3])
		out = addSlot(out, Slot{Name: SlotOrderID, Value: strings.ToUpper(f.orig[s:e]), Start: s, End: e})
	}
	for _, m := range orderCodeRE.FindAllStringIndex(f.s, -1) {
		s, e := f.span(m[0], m[1])
		out = addSlot(out, Slot{Name: SlotOrderID, Value: strings.ToUpper(f.orig[s:e]), Start: s, End: e})
	}
	return out
}

var (
	// Turkish numbers: an optional +90 / 90 / 0, then a 10-digit number
	// whose area code starts with 2–5, in groups 3-3-2-2 or 3-3-4.
	phoneTRRE = regexp.MustCompile(`(?:\+\s?90|\b90|\b0)?[\s.\-]?\(?[2-5]\d{2}\)?[\s.\-]?\d{3}[\s.\-]?(?:\d{2}[\s.\-]?\d{2}|\d{4})`)
	// Other international numbers: + and 8–15 digits in groups.
	phoneIntlRE = regexp.MustCompile(`\+[1-9][\d\s.\-()]{6,20}\d`)
)

func findPhones(f *folded, _ string, _ time.Time) []Slot {
	var out []Slot
	for _, m := range phoneTRRE.FindAllStringIndex(f.s, -1) {
		i, j := m[0], m[1]
		for i < j && (f.s[i] == ' ' || f.s[i] == '.' || f.s[i] == '-') {
			i++
		}
		if isDigitAt(f.s, i-1) || isDigitAt(f.s, j) || isWordAt(f.s, j) && f.s[j] != 'x' {
			continue // part of a longer number or word
		}
		d := digits(f.s[i:j])
		switch {
		case len(d) == 12 && strings.HasPrefix(d, "90"):
			d = d[2:]
		case len(d) == 11 && d[0] == '0':
			d = d[1:]
		case len(d) == 10 && d[0] == '5':
			// a bare mobile number
		default:
			continue
		}
		out = append(out, f.slot(SlotPhone, "+90"+d, i, j))
	}
	for _, m := range phoneIntlRE.FindAllStringIndex(f.s, -1) {
		if isDigitAt(f.s, m[1]) {
			continue
		}
		d := digits(f.s[m[0]:m[1]])
		if len(d) < 8 || len(d) > 15 {
			continue
		}
		out = addSlot(out, f.slot(SlotPhone, "+"+d, m[0], m[1]))
	}
	return out
}
