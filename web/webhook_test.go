package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yanit/yanit/channel"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/store"
)

const (
	appSecret   = "test-app-secret"
	verifyToken = "test-verify-token"
)

func webhookSetup(t *testing.T) (store.Store, string, *Server) {
	t.Helper()
	s, err := NewServer(Options{Registry: prometheus.NewRegistry(), MaxBodyBytes: 64 << 10,
		WhatsApp: WhatsApp{AppSecret: appSecret, VerifyToken: verifyToken}})
	if err != nil {
		t.Fatal(err)
	}
	st := openSQLite(t)
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.SetBackend(Backend{Store: st, Receiver: channel.NewReceiver(st, channel.ReceiverOptions{Metrics: s.ChannelMetrics()})})
	ts := httpServer(t, s)
	return st, ts, s
}

func httpServer(t *testing.T, s *Server) string {
	t.Helper()
	ts := httptest.NewServer(s.Routes())
	t.Cleanup(ts.Close)
	return ts.URL
}

func post(t *testing.T, url string, body []byte, signature string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set(whatsapp.SignatureHeader, signature)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	return res.StatusCode, b.String()
}

func golden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../channel/whatsapp/testdata/webhooks/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWebhookHandshake(t *testing.T) {
	_, ts, _ := webhookSetup(t)
	code, body := get(t, ts+"/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token="+verifyToken+"&hub.challenge=1158201444")
	if code != 200 || body != "1158201444" {
		t.Fatalf("handshake = %d %q, want 200 and the bare challenge", code, body)
	}
	if code, _ := get(t, ts+"/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"); code != 403 {
		t.Fatalf("handshake with a wrong token = %d, want 403", code)
	}
}

func TestWebhookRefusesBadSignatures(t *testing.T) {
	st, ts, _ := webhookSetup(t)
	body := golden(t, "text.json")
	for name, sig := range map[string]string{
		"missing":      "",
		"wrong secret": whatsapp.Sign("another-secret", body),
		"malformed":    "sha256=zz",
		"other body":   whatsapp.Sign(appSecret, append([]byte(" "), body...)),
	} {
		code, resp := post(t, ts+"/webhooks/whatsapp", body, sig)
		if code != http.StatusUnauthorized {
			t.Errorf("%s signature: %d %s, want 401", name, code, resp)
		}
	}
	if convs, _ := st.ListConversations(context.Background(), store.ConversationFilter{}); len(convs) != 0 {
		t.Fatalf("a refused webhook stored %d conversations", len(convs))
	}
	_, metrics := get(t, ts+"/metrics")
	if !strings.Contains(metrics, `yanit_webhook_signature_failures_total{reason="missing"} 1`) ||
		!strings.Contains(metrics, `yanit_webhook_signature_failures_total{reason="invalid"} 3`) {
		t.Fatalf("signature failures not counted:\n%s", grep(metrics, "signature"))
	}
}

func grep(s, word string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestWebhookPersistsOnceAndEnqueuesTurns(t *testing.T) {
	st, ts, _ := webhookSetup(t)
	ctx := context.Background()
	body := golden(t, "batch_mixed.json")
	for i := 0; i < 2; i++ { // Meta retries: the second delivery is a no-op
		code, resp := post(t, ts+"/webhooks/whatsapp", body, whatsapp.Sign(appSecret, body))
		if code != 200 {
			t.Fatalf("delivery %d: %d %s", i, code, resp)
		}
	}
	batch, _, err := whatsapp.Parse(body)
	if err != nil || len(batch.Messages) < 2 {
		t.Fatalf("the batch golden file should carry several messages: %v", err)
	}
	stored := 0
	convs, _ := st.ListConversations(ctx, store.ConversationFilter{})
	for _, c := range convs {
		msgs, _ := st.ListMessages(ctx, c.ID)
		stored += len(msgs)
	}
	if stored != len(batch.Messages) {
		t.Fatalf("stored %d inbound messages after two deliveries, want %d (each once)", stored, len(batch.Messages))
	}
	// Every conversation has a turn job waiting (one per key is claimable).
	js, err := st.Claim(ctx, jobs.ClaimParams{Worker: "t", Kinds: []string{channel.KindTurn}, Limit: 100, Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, j := range js {
		keys[j.Key] = true
	}
	for _, c := range convs {
		if !keys[channel.TurnKey(c.ID)] {
			t.Errorf("conversation %d has no turn job", c.ID)
		}
	}
}

func TestWebhookKeepsGoodItemsBesideABadOne(t *testing.T) {
	st, ts, _ := webhookSetup(t)
	body := golden(t, "batch_one_malformed.json")
	code, resp := post(t, ts+"/webhooks/whatsapp", body, whatsapp.Sign(appSecret, body))
	if code != 200 || !strings.Contains(resp, `"skipped":1`) {
		t.Fatalf("batch with a malformed message = %d %s, want 200 with one skipped", code, resp)
	}
	batch, itemErrs, _ := whatsapp.Parse(body)
	if len(itemErrs) != 1 || len(batch.Messages) == 0 {
		t.Fatalf("golden file: %d good messages, %d bad; want some good and one bad", len(batch.Messages), len(itemErrs))
	}
	n := 0
	convs, _ := st.ListConversations(context.Background(), store.ConversationFilter{})
	for _, c := range convs {
		msgs, _ := st.ListMessages(context.Background(), c.ID)
		n += len(msgs)
	}
	if n != len(batch.Messages) {
		t.Fatalf("stored %d messages, want the %d good ones", n, len(batch.Messages))
	}
}

func TestWebhookBodyLimitAndGarbage(t *testing.T) {
	_, ts, _ := webhookSetup(t)
	big := []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","pad":"%s"}`, strings.Repeat("x", 70<<10)))
	if code, _ := post(t, ts+"/webhooks/whatsapp", big, whatsapp.Sign(appSecret, big)); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized webhook = %d, want 413", code)
	}
	junk := []byte(`{"object":"page","entry":[]}`)
	if code, body := post(t, ts+"/webhooks/whatsapp", junk, whatsapp.Sign(appSecret, junk)); code != http.StatusBadRequest || !strings.Contains(body, "error") {
		t.Fatalf("signed non-WhatsApp body = %d %s, want 400 with the reason", code, body)
	}
}

func TestWebhookRoutesByBusinessNumber(t *testing.T) {
	s, err := NewServer(Options{Registry: prometheus.NewRegistry(), WhatsApp: WhatsApp{AppSecret: appSecret}})
	if err != nil {
		t.Fatal(err)
	}
	st := openSQLite(t)
	ctx := context.Background()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	answered := map[string]bool{"999999999999999": true} // not the number of text.json
	s.SetBackend(Backend{Store: st, Receiver: channel.NewReceiver(st, channel.ReceiverOptions{Routed: func(id string) bool { return answered[id] }})})
	ts := httpServer(t, s)
	body := golden(t, "text.json")
	if code, resp := post(t, ts+"/webhooks/whatsapp", body, whatsapp.Sign(appSecret, body)); code != 200 {
		t.Fatalf("webhook = %d %s", code, resp)
	}
	convs, _ := st.ListConversations(ctx, store.ConversationFilter{})
	if len(convs) != 1 || answered[convs[0].PhoneNumberID] {
		t.Fatalf("conversations = %+v, want the message stored under its own number", convs)
	}
	js, _ := st.Claim(ctx, jobs.ClaimParams{Worker: "t", Kinds: []string{channel.KindTurn}, Limit: 10, Lease: time.Minute})
	if len(js) != 0 {
		t.Fatalf("a message to a number no assistant answers started %d turns", len(js))
	}
}
