// Package privacy keeps personal data where it belongs: detectors that
// find it in text with validation (not bare patterns), and a redactor that
// replaces it by stable placeholders per conversation, so that a model, a
// log line or a trace never sees the value, while a tool gets it back at
// call time.
package privacy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// The kinds of personal data the built-in detectors find.
const (
	KindTCKN  = "TCKN"  // Turkish national identity number
	KindIBAN  = "IBAN"  // bank account, any country, mod-97 checked
	KindCard  = "CARD"  // payment card, Luhn checked
	KindPhone = "PHONE" // phone number, valid for its region
	KindEmail = "EMAIL"
)

// Match is personal data found in a text: its kind, its place (byte
// offsets) and its value as written.
type Match struct {
	Kind       string
	Start, End int
	Value      string
}

// Detector finds one kind of personal data.
type Detector interface {
	Kind() string
	Find(text string) []Match
}

// candidate finds the spans re matches and keeps those valid accepts.
type candidate struct {
	kind  string
	re    *regexp.Regexp
	valid func(s string) bool
}

func (c candidate) Kind() string { return c.kind }

func (c candidate) Find(text string) []Match {
	var out []Match
	for _, loc := range c.re.FindAllStringIndex(text, -1) {
		v := text[loc[0]:loc[1]]
		if c.valid == nil || c.valid(v) {
			out = append(out, Match{Kind: c.kind, Start: loc[0], End: loc[1], Value: v})
		}
	}
	return out
}

// digits returns the digits of s.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// ValidTCKN reports whether s is a Turkish identity number: 11 digits, the
// first not 0, the tenth ((d1+d3+d5+d7+d9)·7 − (d2+d4+d6+d8)) mod 10, the
// eleventh the sum of the first ten mod 10.
func ValidTCKN(s string) bool {
	if len(s) != 11 || s[0] == '0' || digits(s) != s {
		return false
	}
	d := make([]int, 11)
	for i := range s {
		d[i] = int(s[i] - '0')
	}
	odd := d[0] + d[2] + d[4] + d[6] + d[8]
	even := d[1] + d[3] + d[5] + d[7]
	if ((odd*7-even)%10+10)%10 != d[9] {
		return false
	}
	sum := 0
	for _, v := range d[:10] {
		sum += v
	}
	return sum%10 == d[10]
}

// ibanLengths are the IBAN lengths of the countries a customer of a
// Turkish or European organisation most often gives; others are checked
// by mod-97 and a length of 15 to 34.
var ibanLengths = map[string]int{"TR": 26, "DE": 22, "GB": 22, "FR": 27, "NL": 18, "IT": 27, "ES": 24, "AT": 20, "BE": 16, "CH": 21}

// ValidIBAN reports whether s (spaces allowed) is an IBAN: two letters,
// two check digits, the account, the whole mod 97 equal to 1 (ISO 13616),
// at the country's length.
func ValidIBAN(s string) bool {
	s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	if len(s) < 15 || len(s) > 34 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' || digits(s[2:4]) != s[2:4] {
		return false
	}
	if n, ok := ibanLengths[s[:2]]; ok && len(s) != n {
		return false
	}
	rem := 0
	for _, r := range s[4:] + s[:4] {
		switch {
		case r >= '0' && r <= '9':
			rem = (rem*10 + int(r-'0')) % 97
		case r >= 'A' && r <= 'Z':
			rem = (rem*100 + int(r-'A'+10)) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// ValidCard reports whether s (spaces and dashes allowed) is a payment
// card number: 13 to 19 digits passing the Luhn check.
func ValidCard(s string) bool {
	d := digits(s)
	if len(d) < 13 || len(d) > 19 {
		return false
	}
	sum := 0
	for i := range d {
		v := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			if v *= 2; v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return sum%10 == 0
}

// ValidPhone reports whether s is a valid phone number, read in region
// (ISO 3166, "TR") unless it starts with + or 00.
func ValidPhone(s, region string) bool {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	n, err := phonenumbers.Parse(s, region)
	return err == nil && phonenumbers.IsValidNumber(n)
}

var (
	reTCKN  = regexp.MustCompile(`\b[1-9][0-9]{10}\b`)
	reIBAN  = regexp.MustCompile(`\b[A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,4})?\b`)
	reCard  = regexp.MustCompile(`\b[0-9](?:[ -]?[0-9]){12,18}\b`)
	rePhone = regexp.MustCompile(`(?:\+|\b00|\b0)?[0-9](?:[ ().-]{0,2}[0-9]){9,13}\b`)
	reEmail = regexp.MustCompile(`(?i)\b[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b`)
)

// Builtin returns the built-in detectors, in the order they claim text:
// a number that is both a valid card and a valid phone number is a card.
// Phone numbers without a country code are read in region.
func Builtin(region string) []Detector {
	if region == "" {
		region = "TR"
	}
	return []Detector{
		candidate{kind: KindEmail, re: reEmail},
		candidate{kind: KindIBAN, re: reIBAN, valid: ValidIBAN},
		candidate{kind: KindTCKN, re: reTCKN, valid: ValidTCKN},
		candidate{kind: KindCard, re: reCard, valid: ValidCard},
		candidate{kind: KindPhone, re: rePhone, valid: func(s string) bool { return ValidPhone(s, region) }},
	}
}

// Pattern is a detector of an organisation's own kind of data (a customer
// number, a policy number): a name, upper case, and a regular expression.
func Pattern(kind, expr string) (Detector, error) {
	if kind == "" || strings.ToUpper(kind) != kind || strings.ContainsAny(kind, " []") {
		return nil, fmt.Errorf("pattern %q: the name must be upper case, without spaces or brackets", kind)
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("pattern %s: %w", kind, err)
	}
	return candidate{kind: kind, re: re}, nil
}

// Find returns the personal data of text the detectors find, in order of
// position, without overlaps: where two matches overlap, the one of the
// earlier detector wins, then the longer one.
func Find(text string, detectors []Detector) []Match {
	var all []Match
	rank := map[string]int{}
	for i, d := range detectors {
		rank[d.Kind()] = i
		all = append(all, d.Find(text)...)
	}
	slices.SortStableFunc(all, func(a, b Match) int {
		if r := rank[a.Kind] - rank[b.Kind]; r != 0 {
			return r
		}
		return (b.End - b.Start) - (a.End - a.Start)
	})
	var kept []Match
	for _, m := range all {
		if !slices.ContainsFunc(kept, func(k Match) bool { return m.Start < k.End && k.Start < m.End }) {
			kept = append(kept, m)
		}
	}
	slices.SortFunc(kept, func(a, b Match) int { return a.Start - b.Start })
	return kept
}
