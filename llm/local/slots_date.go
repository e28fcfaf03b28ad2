package local

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Month names and abbreviations (folded) → month number.
var months = map[string]time.Month{
	"ocak": 1, "subat": 2, "mart": 3, "nisan": 4, "mayis": 5, "haziran": 6,
	"temmuz": 7, "agustos": 8, "eylul": 9, "ekim": 10, "kasim": 11, "aralik": 12,
	"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6,
	"july": 7, "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8,
	"sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}

// Weekday names (folded) → weekday.
var weekdays = map[string]time.Weekday{
	"pazartesi": time.Monday, "sali": time.Tuesday, "carsamba": time.Wednesday,
	"persembe": time.Thursday, "cuma": time.Friday, "cumartesi": time.Saturday, "pazar": time.Sunday,
	"monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday, "sunday": time.Sunday,
}

// Relative day words (folded) → days from today. Longer phrases come first
// in relativeRE so that "yarindan sonra" wins over "yarin".
var relativeDays = map[string]int{
	"obur gun": 2, "oburgun": 2, "yarindan sonra": 2, "day after tomorrow": 2,
	"bugun": 0, "today": 0, "yarin": 1, "tomorrow": 1, "dun": -1, "yesterday": -1,
}

// trSuffix is an optional Turkish case or relative suffix after a date word
// ("yarına", "cumaya", "kasımda", "aralık'ta"): a closed list, so that
// "dünya" is not yesterday, "pazarlama" not Sunday and "market" not March.
const trSuffix = `(?:'?(?:ya|ye|yi|a|e|i|ki|ku|nin|in|un|na|ne|nda|nde|ndan|nden|da|de|ta|te|dan|den|tan|ten|leri|lari))?`

// relSuffix is the narrower list after "bugün", "yarın", "dün" ("yarına",
// "dünkü", "bugünden"), without the "ya" of "dünya".
const relSuffix = `(?:'?(?:a|e|ki|ku|da|de|dan|den|ndan|nden))?`

var (
	relativeRE = regexp.MustCompile(`\b(?:the )?(obur ?gun|yarindan sonra|day after tomorrow|bugun|today|yarin|tomorrow|dun|yesterday)` + relSuffix + `\b`)
	weekdayRE  = regexp.MustCompile(`\b(?:(gelecek|haftaya|onumuzdeki|next|this) )?(pazartesi|sali|carsamba|persembe|cumartesi|cuma|pazar|monday|tuesday|wednesday|thursday|friday|saturday|sunday)` + trSuffix + `\b`)
	isoDateRE  = regexp.MustCompile(`\b(\d{4})-(\d{1,2})-(\d{1,2})\b`)
	numDateRE  = regexp.MustCompile(`\b(\d{1,2})[./](\d{1,2})[./](\d{4}|\d{2})\b`)
	monthNames = `(ocak|subat|mart|nisan|mayis|haziran|temmuz|agustos|eylul|ekim|kasim|aralik|january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)`
	// "25 Kasım", "25 kasım 2026", "25th of November", "25. Kasım'da".
	dayMonthRE = regexp.MustCompile(`\b(\d{1,2})(?:\.|st|nd|rd|th)?(?: of)? ` + monthNames + trSuffix + `\b(?:,? (\d{4})\b)?`)
	// "Nov 25", "November 25th, 2026".
	monthDayRE = regexp.MustCompile(`\b` + monthNames + `\.? (\d{1,2})(?:st|nd|rd|th)?\b(?:,? (\d{4})\b)?`)
)

func findDates(f *folded, locale string, ref time.Time) []Slot {
	today := time.Date(ref.Year(), ref.Month(), ref.Day(), 0, 0, 0, 0, ref.Location())
	var out []Slot
	add := func(d time.Time, i, j int) {
		out = addSlot(out, f.slot(SlotDate, d.Format(time.DateOnly), i, j))
	}
	for _, m := range isoDateRE.FindAllStringSubmatchIndex(f.s, -1) {
		y, mo, d := atoi(f.s[m[2]:m[3]]), atoi(f.s[m[4]:m[5]]), atoi(f.s[m[6]:m[7]])
		if t, ok := makeDate(y, mo, d, ref.Location()); ok {
			add(t, m[0], m[1])
		}
	}
	monthFirst := strings.EqualFold(locale, "en-us") || strings.EqualFold(locale, "en_us")
	for _, m := range numDateRE.FindAllStringSubmatchIndex(f.s, -1) {
		a, b, y := atoi(f.s[m[2]:m[3]]), atoi(f.s[m[4]:m[5]]), atoi(f.s[m[6]:m[7]])
		if m[7]-m[6] == 2 {
			y += 2000
		}
		d, mo := a, b
		if monthFirst && a <= 12 || b > 12 {
			d, mo = b, a
		}
		if t, ok := makeDate(y, mo, d, ref.Location()); ok {
			add(t, m[0], m[1])
		}
	}
	for _, m := range dayMonthRE.FindAllStringSubmatchIndex(f.s, -1) {
		d, mo := atoi(f.s[m[2]:m[3]]), int(months[f.s[m[4]:m[5]]])
		if t, ok := resolveDayMonth(d, mo, m[6], m[7], f.s, today); ok {
			add(t, m[0], m[1])
		}
	}
	for _, m := range monthDayRE.FindAllStringSubmatchIndex(f.s, -1) {
		mo, d := int(months[f.s[m[2]:m[3]]]), atoi(f.s[m[4]:m[5]])
		if t, ok := resolveDayMonth(d, mo, m[6], m[7], f.s, today); ok {
			add(t, m[0], m[1])
		}
	}
	for _, m := range relativeRE.FindAllStringSubmatchIndex(f.s, -1) {
		word := strings.ReplaceAll(f.s[m[2]:m[3]], "oburgun", "obur gun")
		add(today.AddDate(0, 0, relativeDays[word]), m[0], m[1])
	}
	for _, m := range weekdayRE.FindAllStringSubmatchIndex(f.s, -1) {
		wd := weekdays[f.s[m[4]:m[5]]]
		ahead := (int(wd) - int(today.Weekday()) + 7) % 7
		if m[2] >= 0 && f.s[m[2]:m[3]] != "this" {
			// That day of next week (weeks start on Monday).
			ahead = 7 - isoWeekday(today.Weekday()) + isoWeekday(wd)
		}
		add(today.AddDate(0, 0, ahead), m[0], m[1])
	}
	return out
}

// isoWeekday numbers Monday 1 to Sunday 7.
func isoWeekday(d time.Weekday) int {
	if d == time.Sunday {
		return 7
	}
	return int(d)
}

// resolveDayMonth builds the date of a day and month, with the year in
// s[yi:yj] if yi >= 0, else the year that puts it nearest to today.
func resolveDayMonth(d, mo, yi, yj int, s string, today time.Time) (time.Time, bool) {
	if yi >= 0 {
		return makeDate(atoi(s[yi:yj]), mo, d, today.Location())
	}
	var best time.Time
	found := false
	for _, y := range []int{today.Year() - 1, today.Year(), today.Year() + 1} {
		t, ok := makeDate(y, mo, d, today.Location())
		if !ok {
			continue
		}
		if !found || absDays(t.Sub(today)) < absDays(best.Sub(today)) {
			best, found = t, true
		}
	}
	return best, found
}

func absDays(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// makeDate returns the date if y-mo-d exists (no 31 February).
func makeDate(y, mo, d int, loc *time.Location) (time.Time, bool) {
	if mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1900 || y > 2200 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, loc)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

// atoi parses a short run of ASCII digits (the regular expressions
// guarantee the form).
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

var (
	// "14:30", "9:05 pm", "saat 14.30".
	clockRE = regexp.MustCompile(`\b([01]?\d|2[0-3]):([0-5]\d)(?:\s?(am|pm|a\.m\.|p\.m\.)|\b)`)
	// "saat 3", "saat 15", "saat 3 buçuk", "saat 14.30", "saat 3'te".
	saatRE = regexp.MustCompile(`\bsaat\s+([01]?\d|2[0-3])(?:[.:]([0-5]\d))?(?:'[a-z]+)?\b(\s+bucuk)?`)
	// "3 pm", "11am".
	ampmRE = regexp.MustCompile(`\b(1[0-2]|0?[1-9])\s?(am|pm|a\.m\.|p\.m\.)`)
)

func findTimes(f *folded, _ string, _ time.Time) []Slot {
	var out []Slot
	add := func(h, m int, ampm string, i, j int) {
		switch {
		case strings.HasPrefix(ampm, "p") && h < 12:
			h += 12
		case strings.HasPrefix(ampm, "a") && h == 12:
			h = 0
		}
		out = addSlot(out, f.slot(SlotTime, fmt.Sprintf("%02d:%02d", h, m), i, j))
	}
	group := func(m []int, k int) string {
		if m[2*k] < 0 {
			return ""
		}
		return f.s[m[2*k]:m[2*k+1]]
	}
	for _, m := range saatRE.FindAllStringSubmatchIndex(f.s, -1) {
		min := 0
		if g := group(m, 2); g != "" {
			min = atoi(g)
		} else if group(m, 3) != "" {
			min = 30
		}
		add(atoi(group(m, 1)), min, "", m[0], m[1])
	}
	for _, m := range clockRE.FindAllStringSubmatchIndex(f.s, -1) {
		if isDigitAt(f.s, m[0]-1) {
			continue
		}
		add(atoi(group(m, 1)), atoi(group(m, 2)), group(m, 3), m[0], m[1])
	}
	for _, m := range ampmRE.FindAllStringSubmatchIndex(f.s, -1) {
		add(atoi(group(m, 1)), 0, group(m, 2), m[0], m[1])
	}
	return out
}
