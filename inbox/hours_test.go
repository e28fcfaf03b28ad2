package inbox

import (
	"strings"
	"testing"
	"time"
)

func TestHours(t *testing.T) {
	h, err := ParseHours("", map[string]string{"mon": "09:00-18:00", "tue": "09:00-18:00", "sat": "10:00-14:00"}, []string{"2026-12-01"})
	if err != nil {
		t.Fatal(err)
	}
	ist, _ := time.LoadLocation("Europe/Istanbul")
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, ist)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		now, next string // "" next: open now
	}{
		{"2026-11-30 10:00", ""},                 // Monday morning
		{"2026-11-30 08:59", "2026-11-30 09:00"}, // before opening
		{"2026-11-30 18:00", "2026-12-05 10:00"}, // Monday closing; Tuesday is a holiday; Saturday
		{"2026-12-01 12:00", "2026-12-05 10:00"}, // the holiday itself
		{"2026-12-05 13:59", ""},
		{"2026-12-05 14:00", "2026-12-07 09:00"}, // Saturday afternoon → Monday
	} {
		now := at(c.now)
		next, ok := h.NextOpen(now)
		want := now
		if c.next != "" {
			want = at(c.next)
		}
		if !ok || !next.Equal(want) || h.Open(now) != (c.next == "") {
			t.Errorf("at %s: open %v, next %v; want next %v", c.now, h.Open(now), next, want)
		}
	}
	// The hours are Istanbul's whatever the clock's zone: 06:30 UTC is
	// 09:30 there.
	if !h.Open(time.Date(2026, 11, 30, 6, 30, 0, 0, time.UTC)) {
		t.Error("06:30 UTC on a Monday is 09:30 in Istanbul: open")
	}

	always, err := ParseHours("", nil, nil)
	if err != nil || !always.Open(at("2026-12-01 03:00")) {
		t.Errorf("no days: always open, got %v", err)
	}
	never, _ := ParseHours("", map[string]string{"mon": "09:00-18:00"}, nil)
	if _, ok := never.NextOpen(at("2026-11-30 19:00")); !ok {
		t.Error("next Monday is within a year")
	}

	for _, bad := range []struct {
		tz       string
		days     map[string]string
		holidays []string
		want     string
	}{
		{"Mars/Olympus", nil, nil, "Mars/Olympus"},
		{"", map[string]string{"pzt": "09:00-18:00"}, nil, `"pzt"`},
		{"", map[string]string{"mon": "18:00-09:00"}, nil, "mon"},
		{"", map[string]string{"mon": "9-18"}, nil, "mon"},
		{"", map[string]string{"mon": "09:00-25:00"}, nil, "mon"},
		{"", nil, []string{"29.10.2026"}, "29.10.2026"},
	} {
		if _, err := ParseHours(bad.tz, bad.days, bad.holidays); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ParseHours(%q, %v, %v) = %v, want an error naming %s", bad.tz, bad.days, bad.holidays, err, bad.want)
		}
	}
}

func TestRoute(t *testing.T) {
	rules := []Rule{
		{Reason: "tool_failed", Team: "teknik", Priority: 1},
		{Intent: "complaint", Team: "musteri_iliskileri", Priority: 3},
		{Reason: "person_requested", Intent: "order_status", Priority: 2}, // keeps the team
	}
	for _, c := range []struct {
		reason, intent, team string
		wantTeam             string
		wantPrio             int
	}{
		{"tool_failed", "order_status", "", "teknik", 1},
		{"person_requested", "complaint", "", "musteri_iliskileri", 3},
		{"person_requested", "order_status", "kargo", "kargo", 2},
		{"fallbacks_in_a_row", "", "kargo", "kargo", 0},
	} {
		if team, prio := Route(rules, c.reason, c.intent, c.team); team != c.wantTeam || prio != c.wantPrio {
			t.Errorf("Route(%s, %s, %s) = %s, %d; want %s, %d", c.reason, c.intent, c.team, team, prio, c.wantTeam, c.wantPrio)
		}
	}
}
