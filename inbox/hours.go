package inbox

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // time zones without the system's database (containers)
)

// DefaultTimeZone is the time zone of business hours that name none.
const DefaultTimeZone = "Europe/Istanbul"

// Hours are when a team answers: per weekday one span of the day in the
// team's time zone, minus holidays. The zero value is always open.
type Hours struct {
	loc      *time.Location
	spans    [7]span // by time.Weekday; a zero span is closed that day
	holidays map[string]bool
	always   bool
}

// span is a part of a day, in minutes from midnight: [from, to).
type span struct{ from, to int }

func (s span) closed() bool { return s.to <= s.from }

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseHours reads business hours as the configuration writes them: the
// IANA time zone ("" is DefaultTimeZone), days by their English
// three-letter names ("mon") with a span ("09:00-18:00"), holidays as dates
// ("2026-10-29"). No days at all means always open; a day left out is
// closed. Every error names the zone, day or date that is wrong.
func ParseHours(timeZone string, days map[string]string, holidays []string) (Hours, error) {
	tz := timeZone
	if tz == "" {
		tz = DefaultTimeZone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return Hours{}, fmt.Errorf("time zone %q: %w", tz, err)
	}
	h := Hours{loc: loc, holidays: map[string]bool{}, always: len(days) == 0}
	for name, spec := range days {
		day, ok := dayNames[strings.ToLower(name)]
		if !ok {
			return Hours{}, fmt.Errorf("day %q: want mon, tue, wed, thu, fri, sat or sun", name)
		}
		from, to, ok := strings.Cut(spec, "-")
		f, err1 := minutes(from)
		t, err2 := minutes(to)
		if !ok || err1 != nil || err2 != nil || t <= f {
			return Hours{}, fmt.Errorf("%s: %q, want a span like 09:00-18:00", name, spec)
		}
		h.spans[day] = span{f, t}
	}
	for _, d := range holidays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return Hours{}, fmt.Errorf("holiday %q: want a date like 2026-10-29", d)
		}
		h.holidays[d] = true
	}
	return h, nil
}

// minutes reads "HH:MM" (24:00 is the end of the day).
func minutes(s string) (int, error) {
	var hh, mm int
	if _, err := fmt.Sscanf(strings.TrimSpace(s), "%d:%d", &hh, &mm); err != nil || hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, fmt.Errorf("%q is not a time of day", s)
	}
	return hh*60 + mm, nil
}

// Open reports whether the team answers at t.
func (h Hours) Open(t time.Time) bool {
	if h.loc == nil || h.always {
		return true
	}
	local := t.In(h.loc)
	if h.holidays[local.Format(time.DateOnly)] {
		return false
	}
	s := h.spans[local.Weekday()]
	m := local.Hour()*60 + local.Minute()
	return !s.closed() && m >= s.from && m < s.to
}

// NextOpen returns when the team answers next from t (t itself when
// open), in the team's time zone; ok is false when it never opens within
// a year (no open day, or holidays all year).
func (h Hours) NextOpen(t time.Time) (next time.Time, ok bool) {
	if h.Open(t) {
		return t, true
	}
	local := t.In(h.loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, h.loc)
	for i := 0; i <= 366; i++ {
		d := day.AddDate(0, 0, i)
		s := h.spans[d.Weekday()]
		if s.closed() || h.holidays[d.Format(time.DateOnly)] {
			continue
		}
		start := time.Date(d.Year(), d.Month(), d.Day(), s.from/60, s.from%60, 0, 0, h.loc)
		end := time.Date(d.Year(), d.Month(), d.Day(), s.to/60, s.to%60, 0, 0, h.loc)
		if i == 0 && !local.Before(end) {
			continue // today's hours are over
		}
		if start.Before(local) {
			start = local
		}
		return start, true
	}
	return time.Time{}, false
}

// Location is the time zone of the hours.
func (h Hours) Location() *time.Location {
	if h.loc == nil {
		return time.UTC
	}
	return h.loc
}
