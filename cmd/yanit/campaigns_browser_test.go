package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/yanit/yanit/campaign"
	"github.com/yanit/yanit/channel/whatsapp/simulator/simbrowser"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/web"
)

// choose picks, in the select sel, the first option whose text starts with
// text, once there is one, as a person picking it does (a change event).
func choose(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.PollFunction[chromedp.Void](`(sel, text) => {
		const s = document.querySelector(sel);
		const o = s && [...s.options].find((o) => o.textContent.startsWith(text));
		if (!o) return false;
		if (s.value !== o.value) {
			s.value = o.value;
			s.dispatchEvent(new Event("change"));
		}
		return true;
	}`, chromedp.WithPollingArgs(sel, text), chromedp.WithPollingInterval(20*time.Millisecond),
		chromedp.WithPollingTimeout(simbrowser.StepTimeout))
}

// textIs waits until the element sel shows exactly text, checking on every
// change of the page.
func textIs(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.PollFunction[chromedp.Void](
		`(sel, text) => { const e = document.querySelector(sel); return !!e && e.textContent.trim() === text; }`,
		chromedp.WithPollingMutation(), chromedp.WithPollingArgs(sel, text), chromedp.WithPollingTimeout(simbrowser.StepTimeout))
}

// The contacts of the campaign test: four customers tagged for the
// campaign who allow marketing, one tagged who refused it (opted out), one
// not tagged.
const campaignContacts = "phone,name,language,tags,consent,city\n" +
	"+90 532 100 00 01,Ayşe Yılmaz,tr,kampanya;vip,yes,İzmir\n" +
	"+90 532 100 00 02,Barış Demir,tr,kampanya,yes,Ankara\n" +
	"0532 100 00 03,Cem Kaya,tr,kampanya,yes,\n" +
	"+905321000004,Deniz Şahin,en,kampanya,yes,Bursa\n" +
	"+90 532 100 00 05,Ece Arslan,tr,kampanya,no,İzmir\n" +
	"+90 532 100 00 06,Fatma Öz,tr,diger,yes,Adana\n"

// TestBrowserCampaignConsole is an admin's broadcast in the console on
// yanit dev: contacts imported with tags and consent, a segment of them;
// the admin picks an approved template, fills its placeholder, picks the
// segment and sees how many it holds, starts the campaign, and watches the
// counts climb until WhatsApp (the simulator) delivered and read every
// message, drawn as charts; a second campaign is scheduled for tomorrow,
// then cancelled.
func TestBrowserCampaignConsole(t *testing.T) {
	a := startDev(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := campaign.ImportContacts(ctx, a.store, strings.NewReader(campaignContacts), campaign.ImportOptions{})
	if err != nil || res.Failed != 0 || res.Created != 6 {
		t.Fatalf("import: %+v, %v; want 6 contacts made", res, err)
	}
	seg, err := a.store.PutSegment(ctx, store.Segment{Name: "kampanya", Description: "tagged for the autumn campaign",
		Filter: store.SegmentFilter{Tags: []string{"kampanya"}}})
	if err != nil {
		t.Fatal(err)
	}
	members, err := a.store.CountSegment(ctx, seg.Filter, time.Now())
	if err != nil || members != 5 {
		t.Fatalf("the segment holds %d contacts (%v), want 5", members, err)
	}
	hash, err := web.HashPassword("yonetici-parola-2026")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.CreateUser(ctx, store.User{Login: "selin", Name: "Selin Aydın", Role: store.RoleAdmin, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}

	p := simbrowser.Open(t)
	base := "http://" + a.addr.String()
	p.Do("opening the campaigns page, which asks to sign in",
		chromedp.Navigate(base+"/console/campaigns"),
		simbrowser.Visible(`input[name="login"]`))
	p.Do("signing in: back on the campaigns page",
		simbrowser.Keys(`input[name="login"]`, "selin"),
		simbrowser.Keys(`input[name="password"]`, "yonetici-parola-2026"),
		simbrowser.Click(`button[type="submit"]`),
		simbrowser.Visible(`#campaign-form`),
		simbrowser.Visible(`#no-campaigns`))
	if nav := p.Text(`.bar nav`); nav != "Inbox Knowledge Campaigns" {
		t.Errorf("an admin's navigation shows %q, want the campaigns among the pages", nav)
	}

	p.Do("picking the approved template: its body and a row for its placeholder",
		choose(`#template`, "support_follow_up (tr)"),
		simbrowser.Visible(`#template-body`),
		simbrowser.Visible(`#param-rows .param[data-n="1"]`))
	if body := p.Text(`#template-body`); !strings.HasPrefix(body, "Merhaba {{1}} name,") || !strings.Contains(body, "destek talebinizle") {
		t.Errorf("template body %q, want it with {{1}} marked as the name", body)
	}
	if cat := p.Text(`#template-category`); cat != "utility" {
		t.Errorf("template category %q, want utility", cat)
	}
	if n := p.Count(`#param-rows .param`); n != 1 {
		t.Errorf("%d placeholder rows, want 1", n)
	}
	p.Do("saying what fills {{1}}: the name, else a default",
		choose(`#param-rows .param[data-n="1"] select[name="source"]`, "the contact's name"),
		simbrowser.Keys(`#param-rows .param[data-n="1"] input[name="default"]`, "değerli müşterimiz"),
		shows(`#template-body`, `{{1}} name, else “değerli müşterimiz”`))

	p.Do("picking the segment: its count and a sample",
		choose(`#segment`, "kampanya"),
		textIs(`#segment-count`, strconv.Itoa(members)),
		simbrowser.Visible(`#segment-sample tbody tr`))
	if filter := p.Text(`#segment-filter`); filter != "(tags kampanya)" {
		t.Errorf("segment filter shown as %q", filter)
	}
	if sample := p.Text(`#segment-sample tbody`); strings.Contains(sample, "5321000") || !strings.Contains(sample, "•") {
		t.Errorf("the sample shows %q, want the phone numbers masked", sample)
	}

	p.Do("starting it now",
		simbrowser.Keys(`#campaign-form input[name="name"]`, "Destek takibi"),
		textIs(`#create`, "Create and start"),
		simbrowser.Click(`#create`),
		simbrowser.Visible(`#campaign-view`),
		textIs(`#campaign-title`, "Destek takibi"),
		shows(`#campaign-table tbody`, "Destek takibi"))
	start := time.Now()
	p.Do("watching every message delivered, live",
		textIs(`#count-delivered`, "4"),
		textIs(`#count-queued`, "4"),
		textIs(`#count-skipped`, "1"),
		textIs(`#delivery-rate`, "100%"))
	t.Logf("start → every message delivered on the page: %d ms", time.Since(start).Milliseconds())
	p.Do("and read, the counts final",
		textIs(`#count-read`, "4"),
		textIs(`#read-rate`, "100%"),
		textIs(`#campaign-status`, "done"),
		simbrowser.Visible(`#live[data-state="final"]`))
	if got := p.Text(`#skipped-by`); got != "1 · stopped marketing messages" {
		t.Errorf("skipped by %q, want the one who refused marketing", got)
	}
	if n := p.Count(`.campaign-head .actions button:not([hidden])`); n != 0 {
		t.Errorf("%d buttons for a campaign that is done, want none", n)
	}

	// The charts drew the samples the page took over time: a line per
	// series (two samples at least) ending in a dot at the last one.
	if n := p.Count(`#chart-counts[data-samples]:not([data-samples="0"]):not([data-samples="1"])`); n != 1 {
		t.Error("the counts chart drew fewer than two samples, want the page's samples over time")
	}
	for _, series := range []string{"queued", "sent", "delivered", "read", "failed"} {
		if n := p.Count(`#chart-counts polyline.series-` + series); n != 1 {
			t.Errorf("the counts chart has %d lines of %s, want 1", n, series)
		}
		if n := p.Count(`#chart-counts circle.dot.series-` + series); n != 1 {
			t.Errorf("the counts chart has %d dots of %s, want 1", n, series)
		}
	}
	for _, series := range []string{"delivery_rate", "read_rate"} {
		if n := p.Count(`#chart-rates .series-` + series); n == 0 {
			t.Errorf("the rates chart does not draw %s", series)
		}
	}
	if legend := p.Text(`#legend-rates`); legend != "Delivery rate 100%\nRead rate 100%" {
		t.Errorf("rates legend %q", legend)
	}
	if rows := p.Count(`#recipients tbody tr`); rows != 5 {
		t.Errorf("%d recipients listed, want the 5 members", rows)
	}
	if list := p.Text(`#recipients tbody`); strings.Contains(list, "5321000") || !strings.Contains(list, "read") || !strings.Contains(list, "skipped") {
		t.Errorf("recipients %q, want masked numbers, the read messages and the one skipped", list)
	}

	// What the page shows is what the store counts, and each of the four
	// got the template with their name.
	cs, err := a.store.ListCampaigns(ctx)
	if err != nil || len(cs) != 1 {
		t.Fatalf("campaigns in the store: %d (%v), want 1", len(cs), err)
	}
	stats, err := a.store.CampaignStats(ctx, cs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Recipients != 5 || stats.Queued != 4 || stats.Delivered != 4 || stats.Read != 4 || stats.Skipped != 1 || stats.Failed != 0 {
		t.Errorf("the store counts %+v, want 4 delivered and read, 1 skipped", stats)
	}
	if cs[0].CreatedBy != "selin" || cs[0].Template != "support_follow_up" || cs[0].Language != "tr" {
		t.Errorf("campaign %+v, want support_follow_up (tr) made by selin", cs[0])
	}
	got := a.sim.User("", "905321000001").Transcript()
	if len(got) != 1 || !strings.Contains(got[0].Text(), "Ayşe Yılmaz") {
		t.Errorf("Ayşe's WhatsApp shows %+v, want the template with her name", got)
	}

	// A second one, scheduled for tomorrow 10:00 in İstanbul.
	p.Do("scheduling another for tomorrow",
		simbrowser.Click(`input[name="when"][value="schedule"]`),
		simbrowser.Visible(`#schedule-fields`),
		textIs(`#create`, "Create and schedule"),
		simbrowser.Keys(`#campaign-form input[name="name"]`, "Yarın"),
		simbrowser.Click(`#create`),
		textIs(`#campaign-title`, "Yarın"),
		textIs(`#campaign-status`, "scheduled"),
		simbrowser.Visible(`#start`),
		simbrowser.Visible(`#delete`))
	if meta := p.Text(`#campaign-meta`); !strings.Contains(meta, "10:00") || !strings.Contains(meta, "Europe/Istanbul") {
		t.Errorf("scheduled campaign shown as %q, want its start at 10:00 Europe/Istanbul", meta)
	}
	c, err := a.store.GetCampaign(ctx, "Yarın")
	if err != nil {
		t.Fatal(err)
	}
	istanbul, _ := time.LoadLocation("Europe/Istanbul")
	if at := c.ScheduledAt.In(istanbul); c.Status != store.CampaignScheduled || at.Hour() != 10 || at.Minute() != 0 ||
		!at.After(time.Now()) || at.After(time.Now().Add(48*time.Hour)) {
		t.Errorf("scheduled %s at %s, want tomorrow 10:00 in İstanbul", c.Status, at)
	}

	// Cancelled after all: the page asks first (accepted here), then the
	// campaign is final and offers no more moves.
	p.Do("cancelling it",
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		simbrowser.Click(`#cancel`),
		textIs(`#campaign-status`, "cancelled"),
		simbrowser.Gone(`#cancel`),
		simbrowser.Gone(`#start`),
		shows(`#action-status`, "“Yarın” is cancelled."))
	if c, err := a.store.GetCampaign(ctx, "Yarın"); err != nil || c.Status != store.CampaignCancelled || c.FinishedAt.IsZero() {
		t.Errorf("after the cancel the store has %+v, %v; want it cancelled", c, err)
	}
}
