package campaign

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/yanit/yanit/store"
)

// ParseParam reads a parameter as the command line writes it:
//
//	name, phone, language       the contact's field
//	attr:NAME                   the contact's attribute NAME
//	FIELD:DEFAULT               the field, or DEFAULT when the contact has none
//	attr:NAME:DEFAULT           likewise for an attribute
//	text:TEXT                   TEXT for everyone
//
// A default may hold ':'. An error names what is wrong.
func ParseParam(s string) (store.CampaignParam, error) {
	source, rest, _ := strings.Cut(s, ":")
	p := store.CampaignParam{Source: source}
	switch source {
	case store.ParamAttr:
		p.Attribute, p.Default, _ = strings.Cut(rest, ":")
	default:
		p.Default = rest
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("parameter %q: %w (want name, phone, language, attr:NAME or text:TEXT, each with :DEFAULT)", s, err)
	}
	return p, nil
}

// ParseNumberedParam reads N=PARAM, the placeholder {{N}} and what fills
// it (ParseParam).
func ParseNumberedParam(s string) (int, store.CampaignParam, error) {
	num, spec, ok := strings.Cut(s, "=")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n < 1 {
		return 0, store.CampaignParam{}, fmt.Errorf("parameter %q: want N=SOURCE, N the placeholder {{N}} from 1, such as 1=name", s)
	}
	p, err := ParseParam(spec)
	return n, p, err
}

// NumberedParams orders N=PARAM parameters by N; every placeholder from 1
// to the highest must be given once.
func NumberedParams(specs []string) ([]store.CampaignParam, error) {
	byN := map[int]store.CampaignParam{}
	for _, s := range specs {
		n, p, err := ParseNumberedParam(s)
		if err != nil {
			return nil, err
		}
		if _, dup := byN[n]; dup {
			return nil, fmt.Errorf("parameter {{%d}} is given twice", n)
		}
		byN[n] = p
	}
	out := make([]store.CampaignParam, len(byN))
	for n, p := range byN {
		if n > len(byN) {
			return nil, fmt.Errorf("parameter {{%d}} is given but not {{%d}}: number them from 1 without gaps", n, missing(byN))
		}
		out[n-1] = p
	}
	return out, nil
}

func missing(byN map[int]store.CampaignParam) int {
	for i := 1; ; i++ {
		if _, ok := byN[i]; !ok {
			return i
		}
	}
}

// LocalTimeLayout is how ParseLocalTime reads a time: a date and a time
// of day on the wall clock of a zone.
const LocalTimeLayout = "2006-01-02 15:04"

// ParseLocalTime reads "2026-12-01 10:00" as the wall-clock time in the
// IANA zone tz. A time the zone skips (a spring-forward gap) moves
// forward, as time.Date does.
func ParseLocalTime(s, tz string) (time.Time, error) {
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" {
		return time.Time{}, fmt.Errorf("%w: time zone %q: want an IANA time zone such as Europe/Istanbul", ErrInvalid, tz)
	}
	t, err := time.ParseInLocation(LocalTimeLayout, strings.TrimSpace(s), loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: time %q: want YYYY-MM-DD HH:MM, such as 2026-12-01 10:00", ErrInvalid, s)
	}
	return t, nil
}
