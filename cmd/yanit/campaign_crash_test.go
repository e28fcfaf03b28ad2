package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/yanit/yanit/campaign"
	"github.com/yanit/yanit/channel"
	"github.com/yanit/yanit/channel/whatsapp/simulator"
	"github.com/yanit/yanit/inbox"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres"
	"github.com/yanit/yanit/store/postgres/pgtest"
)

// TestCampaignSurvivesKill9 sends a campaign of a few thousand recipients
// from a real yanit process on PostgreSQL to the simulator, kills the
// process (SIGKILL) in the middle of the sending, starts it again on the
// same database, and waits for the campaign to be done. Every recipient
// must have received the campaign, and no more of them twice than the sends
// that can be in flight at once (the job runner's concurrency, each send
// batch job sending a wave of channel.SendWave): the window between
// WhatsApp accepting a message and yanit recording its id.
func TestCampaignSurvivesKill9(t *testing.T) {
	const (
		appSecret   = "campaign-crash-secret"
		token       = "campaign-crash-token"
		phoneID     = "123456789012345"
		recipients  = 3000
		concurrency = 16
	)
	isolate(t)
	dsn := pgtest.NewSchemaDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The audience and the campaign, written by the test as an admin
	// would through the CLI.
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	waIDs := make([]string, recipients)
	for i := 0; i < recipients; i += 1000 {
		var us []store.ContactUpsert
		for j := i; j < min(i+1000, recipients); j++ {
			waIDs[j] = fmt.Sprintf("9053%08d", j)
			us = append(us, store.ContactUpsert{WaID: waIDs[j], Name: "Kişi " + strconv.Itoa(j), Tags: []string{"kampanya"}})
		}
		if _, err := st.UpsertContactsByWaID(ctx, us); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.PutSegment(ctx, store.Segment{Name: "kampanya", Filter: store.SegmentFilter{Tags: []string{"kampanya"}}}); err != nil {
		t.Fatal(err)
	}
	tmpl, err := inbox.NewTemplate("kargo_bilgisi", "tr", "utility", "Merhaba {{1}}, kargonuz yola çıktı.")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := campaign.NewService(st, campaign.Options{Templates: []inbox.Template{tmpl}, PhoneNumberID: phoneID})
	if err != nil {
		t.Fatal(err)
	}
	name := campaign.Spec{Name: "kargo", Template: "kargo_bilgisi", Language: "tr", Segment: "kampanya",
		Params: []store.CampaignParam{{Source: store.ParamName}}}
	if _, err := svc.Create(ctx, privacy.ActorCLI, name); err != nil {
		t.Fatal(err)
	}

	addr := freeAddr(t)
	sim, err := simulator.New(simulator.Options{
		AppSecret: appSecret, AccessToken: token, PhoneNumberID: phoneID,
		WebhookURL: "http://" + addr + "/webhooks/whatsapp", StatusDelay: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	graph := httptest.NewServer(sim.Routes())
	t.Cleanup(func() { sim.Close(); graph.Close() })
	cfgFile := filepath.Join(t.TempDir(), "yanit.yaml")
	if err := os.WriteFile(cfgFile, []byte("whatsapp:\n  templates:\n    - {name: kargo_bilgisi, language: tr, category: utility, "+
		"body: \"Merhaba {{1}}, kargonuz yola çıktı.\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"YANIT_CONFIG=" + cfgFile, "YANIT_HTTP_ADDR=" + addr, "YANIT_DATABASE_URL=" + dsn,
		"YANIT_WHATSAPP_GRAPH_URL=" + simulator.GraphURL(graph.URL), "YANIT_WHATSAPP_PHONE_NUMBER_ID=" + phoneID,
		"YANIT_WHATSAPP_ACCESS_TOKEN=" + token, "YANIT_WHATSAPP_APP_SECRET=" + appSecret, "YANIT_WHATSAPP_VERIFY_TOKEN=v",
		"YANIT_WHATSAPP_RATE_PER_SECOND=400", "YANIT_CAMPAIGNS_UTILITY_REQUIRES=any",
		"YANIT_JOBS_CONCURRENCY=" + strconv.Itoa(concurrency), "YANIT_JOBS_LEASE=2s", "YANIT_JOBS_POLL_INTERVAL=20ms",
	}
	stats := func() (store.Campaign, store.CampaignStats) {
		t.Helper()
		c, s, err := svc.Stats(ctx, "kargo")
		if err != nil {
			t.Fatal(err)
		}
		return c, s
	}

	// First life: start the campaign, kill the process a third of the way.
	first := startCLI(t, env, "serve")
	waitStatus(t, first.baseURL(t)+"/readyz", 200, "ready")
	if _, err := svc.Start(ctx, privacy.ActorCLI, "kargo"); err != nil {
		t.Fatal(err)
	}
	for {
		if _, s := stats(); s.Sent >= recipients/3 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the campaign did not get a third of the way\n%s", first.logs())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.cmd.Wait()
	_, atKill := stats()
	received := 0
	for _, w := range waIDs {
		received += len(businessMessages(sim.User("", w)))
	}
	// In flight at the kill: accepted by WhatsApp, not recorded by yanit.
	inFlight := received - atKill.Sent
	t.Logf("at the kill: %d queued, %d recorded as sent; %d received: %d in flight", atKill.Queued, atKill.Sent, received, inFlight)
	if inFlight < 0 || inFlight > concurrency*channel.SendWave {
		t.Errorf("%d sends in flight at the kill; the sender runs at most %d at once", inFlight, concurrency*channel.SendWave)
	}
	if atKill.Queued == recipients && atKill.Sent == recipients {
		t.Fatal("the campaign was over before the kill: nothing tested")
	}

	// Second life on the same database.
	second := startCLI(t, env, "serve")
	waitStatus(t, second.baseURL(t)+"/readyz", 200, "ready")
	var c store.Campaign
	var s store.CampaignStats
	for {
		c, s = stats()
		if c.Status == store.CampaignDone && s.Sent+s.Failed == recipients {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("not done after the restart: %s %+v\n%s", c.Status, s, second.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Every recipient got it; the only second copies are of sends in
	// flight at the kill whose status webhooks (which name the outbox
	// message) did not come within channel.InterruptedWait of the restart.
	missing, twice := 0, 0
	for _, w := range waIDs {
		n := len(businessMessages(sim.User("", w)))
		switch {
		case n == 0:
			missing++
		case n > 1:
			twice += n - 1
		}
	}
	// The duplicates' status webhooks name the outbox message: yanit
	// counts those it saw.
	time.Sleep(500 * time.Millisecond)
	_, s = stats()
	t.Logf("after the restart: %+v; %d second copies received, %d seen by status webhooks", s, twice, s.Duplicates)
	if missing > 0 {
		t.Errorf("%d recipients never received the campaign", missing)
	}
	if twice > inFlight {
		t.Errorf("%d second copies, more than the %d sends in flight at the kill", twice, inFlight)
	}
	if s.Duplicates > twice {
		t.Errorf("%d duplicates counted, but only %d second copies were received", s.Duplicates, twice)
	}
	if s.Recipients != recipients || s.Queued != recipients || s.Pending != 0 || s.Skipped != 0 || s.Sent != recipients || s.Failed != 0 {
		t.Errorf("stats = %+v, want all %d recipients queued and sent", s, recipients)
	}
	second.cmd.Process.Signal(syscall.SIGTERM)
	second.cmd.Wait()
}
