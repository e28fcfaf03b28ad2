package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/channel/whatsapp/simulator"
	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/store"
)

// campaignConfig is a config file with the templates the campaign tests
// send; the rest is yanit dev's.
const campaignConfig = `whatsapp:
  templates:
    - name: bahar_indirimi
      language: tr
      category: marketing
      body: "Merhaba {{1}}, {{2}} mağazamızda bahar indirimi başladı!"
    - name: siparis_hazir
      language: tr
      category: utility
      body: "Siparişiniz hazır."
`

// A shop's customers: Ayşe and Zeynep gave marketing consent, Mehmet
// refused it, Can said nothing; Zeynep has no city.
const campaignContactsCSV = "phone,name,consent,city\n" +
	"0532 123 45 67,Ayşe,evet,İzmir\n" +
	"0533 765 43 21,Mehmet,hayır,Ankara\n" +
	"0544 111 22 33,Can,,Bursa\n" +
	"0555 222 33 44,Zeynep,yes,\n"

func TestCampaignCommands(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	t.Setenv("YANIT_DATA_DIR", dir)
	cfgFile := filepath.Join(dir, "yanit.yaml")
	csvFile := filepath.Join(dir, "musteriler.csv")
	for f, body := range map[string]string{cfgFile: campaignConfig, csvFile: campaignContactsCSV} {
		if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("YANIT_CONFIG", cfgFile)
	ok := func(args ...string) string {
		t.Helper()
		code, out, errOut := runStdin(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
		}
		return out
	}
	fails := func(args ...string) string {
		t.Helper()
		code, out, errOut := runStdin(t, "", args...)
		if code != 1 {
			t.Fatalf("%v: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
		}
		return errOut
	}
	wantIn := func(what, text string, wants ...string) {
		t.Helper()
		for _, w := range wants {
			if !strings.Contains(text, w) {
				t.Errorf("%s: %q does not say %q", what, text, w)
			}
		}
	}

	ok("contacts", "import", csvFile)
	ok("segments", "put", "herkes")
	wantIn("no campaigns", ok("campaign", "list"), "no campaigns")

	create := []string{"campaign", "create", "bahar", "--template", "bahar_indirimi", "--language", "tr", "--segment", "herkes"}
	for _, tc := range []struct {
		args []string
		says []string
	}{
		{[]string{"--param", "1=name"}, []string{"params", "{{1}} to {{2}}", "got 1"}},
		{[]string{"--param", "1=name", "--param", "3=attr:city"}, []string{"{{3}}", "not {{2}}"}},
		{[]string{"--param", "1=name", "--param", "1=phone"}, []string{"{{1}} is given twice"}},
		{[]string{"--param", "1=soyad", "--param", "2=attr:city"}, []string{`"soyad"`, "attr:NAME"}},
		{[]string{"--param", "name", "--param", "2=attr:city"}, []string{"N=SOURCE"}},
		{[]string{"--param", "1=name", "--param", "2=attr:city", "--number", "999"}, []string{`number "999"`}},
	} {
		wantIn(fmt.Sprint(tc.args), fails(append(create, tc.args...)...), tc.says...)
	}
	wantIn("unknown template", fails("campaign", "create", "x", "--template", "yok", "--language", "tr", "--segment", "herkes"),
		`template "yok"`, "bahar_indirimi (tr)")
	wantIn("unknown segment", fails("campaign", "create", "x", "--template", "siparis_hazir", "--language", "tr", "--segment", "vip"),
		`segment "vip"`)
	wantIn("no template flag", fails("campaign", "create", "x", "--language", "tr", "--segment", "herkes"), `"template" not set`)

	out := ok(append(create, "--param", "1=name:Müşterimiz", "--param", "2=attr:city:İstanbul")...)
	wantIn("create", out, `campaign "bahar" created (draft): marketing template bahar_indirimi (tr) to segment "herkes"`)
	wantIn("create again", fails(append(create, "--param", "1=name", "--param", "2=attr:city")...), `campaign name "bahar"`, "exists")

	// Schedule: a bad zone or time is refused; the list shows the time on
	// the zone's clock.
	wantIn("bad zone", fails("campaign", "schedule", "bahar", "--at", "2030-12-01 10:00", "--tz", "Europe/Nowhere"), `"Europe/Nowhere"`)
	wantIn("bad time", fails("campaign", "schedule", "bahar", "--at", "1 Aralık 10:00"), "YYYY-MM-DD HH:MM")
	wantIn("past", fails("campaign", "schedule", "bahar", "--at", "2020-01-01 10:00"), "in the past")
	wantIn("schedule", ok("campaign", "schedule", "bahar", "--at", "2030-12-01 10:00", "--tz", "Europe/Istanbul"),
		"scheduled for 2030-12-01 10:00 (Europe/Istanbul, 2030-12-01 07:00 UTC)")
	wantIn("list", ok("campaign", "list"), "bahar", "scheduled", "bahar_indirimi (tr)", "2030-12-01 10:00 Europe/Istanbul")

	// The state machine from the command line.
	wantIn("resume a scheduled one", fails("campaign", "resume", "bahar"), `campaign "bahar" is scheduled and cannot become running`)
	wantIn("pause a scheduled one", fails("campaign", "pause", "bahar"), "is scheduled and cannot become paused")
	wantIn("start", ok("campaign", "start", "bahar"), `campaign "bahar" started`)
	wantIn("pause", ok("campaign", "pause", "bahar"), `campaign "bahar" is paused`)
	wantIn("resume", ok("campaign", "resume", "bahar"), `campaign "bahar" is running`)
	wantIn("cancel", ok("campaign", "cancel", "bahar"), `campaign "bahar" is cancelled`)
	wantIn("resume a cancelled one", fails("campaign", "resume", "bahar"), "is cancelled and cannot become running")
	wantIn("missing", fails("campaign", "stats", "yok"), `no campaign is called "yok"`)

	var view campaignView
	if err := json.Unmarshal([]byte(ok("campaign", "stats", "bahar", "--json")), &view); err != nil {
		t.Fatal(err)
	}
	if view.Status != store.CampaignCancelled || view.Params[0] != "name:Müşterimiz" || view.Params[1] != "attr:city:İstanbul" ||
		view.TimeZone != "Europe/Istanbul" || view.StartedAt == nil || view.FinishedAt == nil {
		t.Fatalf("stats --json = %+v", view)
	}

	// A running yanit sends a second campaign while start --wait shows
	// its progress; the stats count the skipped and the sent.
	a, stop := startDevWith(t, "", demoRouter(t), func(c *config.Config) {
		c.DataDir = dir
		c.WhatsApp.Templates = []config.Template{{Name: "bahar_indirimi", Language: "tr", Category: "marketing",
			Body: "Merhaba {{1}}, {{2}} mağazamızda bahar indirimi başladı!"}}
	})
	defer stop()
	ok("campaign", "create", "bahar2", "--template", "bahar_indirimi", "--language", "tr", "--segment", "herkes",
		"--param", "1=name", "--param", "2=attr:city:İstanbul")
	out = ok("campaign", "start", "bahar2", "--wait", "--every", "20ms")
	wantIn("start --wait", out, `campaign "bahar2" started`, "bahar2 (done)", "recipients           4", "skipped              2 (no_consent 1, opted_out 1)",
		"queued               2", "sent                 2")
	for waID, want := range map[string]string{"905321234567": "bahar_indirimi(Ayşe|İzmir)", "905552223344": "bahar_indirimi(Zeynep|İstanbul)"} {
		msgs := businessMessages(a.sim.User("", waID))
		if len(msgs) != 1 {
			t.Errorf("%s received %d messages, want one %s", waID, len(msgs), want)
		} else if got := templateOf(msgs[0]); got != want {
			t.Errorf("%s received %s, want %s", waID, got, want)
		}
	}
	for _, waID := range []string{"905337654321", "905441112233"} {
		if msgs := businessMessages(a.sim.User("", waID)); len(msgs) != 0 {
			t.Errorf("%s (no consent) received %d messages", waID, len(msgs))
		}
	}
	// Delivered and read arrive by status webhook, soon after.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err := json.Unmarshal([]byte(ok("campaign", "stats", "bahar2", "--json")), &view); err != nil {
			t.Fatal(err)
		}
		if view.Stats.Read == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats 20 s after the sends: %+v, want both read", view.Stats)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if view.Stats.Delivered != 2 || view.Stats.Failed != 0 || view.Stats.Pending != 0 {
		t.Fatalf("final stats = %+v", view.Stats)
	}
}

// templateOf writes a template message the simulator received as
// name(param|param).
func templateOf(m simulator.Message) string {
	tm, ok := m.Outbound.Content.(*whatsapp.Template)
	if !ok {
		return "not a template"
	}
	var params []string
	for _, c := range tm.Components {
		for _, p := range c.Parameters {
			params = append(params, p.Text)
		}
	}
	return tm.Name + "(" + strings.Join(params, "|") + ")"
}
