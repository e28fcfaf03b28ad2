package channel_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/yanit/yanit/channel"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres/pgtest"
	"github.com/yanit/yanit/store/sqlite"
)

// stores runs f against both stores.
func stores(t *testing.T, f func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "y.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		f(t, st)
	})
	t.Run("postgres", func(t *testing.T) { f(t, pgtest.NewStore(t)) })
}

// graph is a Graph API on loopback that answers each send with the next
// scripted reply, in Meta's wire format, and records the request bodies.
type graph struct {
	mu       sync.Mutex
	replies  []string // "ok" or a Meta error code
	requests []map[string]any
	srv      *httptest.Server
}

func newGraph(t *testing.T, replies ...string) *graph {
	g := &graph{replies: replies}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req map[string]any
		json.Unmarshal(body, &req)
		g.mu.Lock()
		g.requests = append(g.requests, req)
		reply := "ok"
		if len(g.replies) > 0 {
			reply, g.replies = g.replies[0], g.replies[1:]
		}
		n := len(g.requests)
		g.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if reply == "ok" {
			fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":"%s","wa_id":"%s"}],"messages":[{"id":"wamid.TEST%d"}]}`, req["to"], req["to"], n)
			return
		}
		status := 400
		if reply == "500" {
			status = 500
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":"scripted","type":"OAuthException","code":%s,"error_data":{"details":"scripted %s"},"fbtrace_id":"Ab12"}}`, reply, reply)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *graph) sent() []map[string]any {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]map[string]any(nil), g.requests...)
}

type fixture struct {
	st      store.Store
	conv    store.Conversation
	contact store.Contact
	sender  *channel.Sender
	graph   *graph
}

func setup(t *testing.T, st store.Store, lastWrote time.Duration, replies ...string) *fixture {
	ctx := context.Background()
	contact, err := st.UpsertContact(ctx, store.ContactUpsert{WaID: "905321234567", Name: "Ayşe", Seen: time.Now().Add(-lastWrote)})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := st.OpenConversation(ctx, contact.ID, "123456789012345")
	if err != nil {
		t.Fatal(err)
	}
	g := newGraph(t, replies...)
	client := &whatsapp.Client{BaseURL: g.srv.URL, Version: "v24.0", Token: "token"}
	return &fixture{st: st, conv: conv, contact: contact, graph: g,
		sender: channel.NewSender(st, client, channel.SenderOptions{Limiter: channel.NewLimiter(1000, 100, time.Millisecond)})}
}

// queue puts one message in the outbox and returns it with its send job.
func (f *fixture) queue(t *testing.T, c whatsapp.Content) (store.Message, jobs.Job) {
	ctx := context.Background()
	var msg store.Message
	err := f.st.InTx(ctx, func(tx store.Queries) error {
		out, err := channel.Queue(ctx, tx, f.conv, f.contact, []whatsapp.Outbound{{Content: c}})
		if len(out) > 0 {
			msg = out[0]
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	js, err := f.st.Claim(ctx, jobs.ClaimParams{Worker: "w", Kinds: []string{channel.KindSend}, Limit: 10, Lease: time.Minute})
	if err != nil || len(js) != 1 {
		t.Fatalf("claiming the send job: %v, %d jobs", err, len(js))
	}
	return msg, js[0]
}

// handle runs the sender on a job and, like the job runner, completes the
// job when the handler succeeded.
func (f *fixture) handle(job jobs.Job) error {
	err := f.sender.Handle(context.Background(), job)
	if err == nil {
		err = f.st.Complete(context.Background(), "w", job.ID)
	}
	return err
}

func (f *fixture) message(t *testing.T, id int64) store.Message {
	m, err := f.st.GetMessage(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSendRecordsTheWamidAndTagsTheOutboxID(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		f := setup(t, st, time.Hour)
		msg, job := f.queue(t, &whatsapp.Text{Body: "Siparişiniz yolda."})
		if err := f.sender.Handle(context.Background(), job); err != nil {
			t.Fatal(err)
		}
		got := f.message(t, msg.ID)
		if got.Status != store.StatusSent || got.ChannelMessageID != "wamid.TEST1" || got.SentAt.IsZero() {
			t.Fatalf("sent message = %+v", got)
		}
		req := f.graph.sent()[0]
		if req["biz_opaque_callback_data"] != channel.OutboxTag(msg.ID) || req["to"] != "905321234567" || req["type"] != "text" {
			t.Fatalf("request = %v", req)
		}
		// The job runs again (e.g. after a crash before it was acknowledged):
		// the message is not sent twice.
		if err := f.sender.Handle(context.Background(), job); err != nil {
			t.Fatal(err)
		}
		if n := len(f.graph.sent()); n != 1 {
			t.Fatalf("%d sends, want 1", n)
		}
	})
}

func TestWindowNeedsATemplate(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		f := setup(t, st, 25*time.Hour)
		msg, job := f.queue(t, &whatsapp.Text{Body: "Merhaba"})
		if err := f.handle(job); err != nil {
			t.Fatal(err)
		}
		got := f.message(t, msg.ID)
		if got.Status != store.StatusFailed || got.ErrorCode != channel.CodeOutsideWindow || !strings.Contains(got.ErrorText, "template") {
			t.Fatalf("free-form message outside the window = %+v, want failed with 131047 naming a template", got)
		}
		if n := len(f.graph.sent()); n != 0 {
			t.Fatalf("the refused message reached the Graph API (%d requests)", n)
		}
		// A template goes out at any time.
		tmsg, tjob := f.queue(t, &whatsapp.Template{Name: "order_update", Language: "tr"})
		if err := f.sender.Handle(context.Background(), tjob); err != nil {
			t.Fatal(err)
		}
		if got := f.message(t, tmsg.ID); got.Status != store.StatusSent {
			t.Fatalf("template outside the window = %s, want sent", got.Status)
		}
	})
}

func TestErrorsByCode(t *testing.T) {
	cases := []struct {
		code       string
		retry      bool
		wantStatus string
		optOut     bool
	}{
		{"130429", true, store.StatusQueued, false},  // throughput: back off, retry
		{"131056", true, store.StatusQueued, false},  // pair limit: retry later
		{"500", true, store.StatusQueued, false},     // transient
		{"131026", false, store.StatusFailed, false}, // undeliverable
		{"131050", false, store.StatusFailed, true},  // user stopped marketing
		{"132001", false, store.StatusFailed, false}, // template does not exist
		{"190", false, store.StatusFailed, false},    // token expired
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			stores(t, func(t *testing.T, st store.Store) {
				f := setup(t, st, time.Hour, c.code)
				msg, job := f.queue(t, &whatsapp.Text{Body: "x"})
				err := f.sender.Handle(context.Background(), job)
				if (err != nil) != c.retry {
					t.Fatalf("Handle error = %v, want retry %v", err, c.retry)
				}
				got := f.message(t, msg.ID)
				if got.Status != c.wantStatus {
					t.Fatalf("status = %s, want %s", got.Status, c.wantStatus)
				}
				if !c.retry && fmt.Sprint(got.ErrorCode) != c.code {
					t.Fatalf("failed message keeps code %d, want %s (reason %q)", got.ErrorCode, c.code, got.ErrorText)
				}
				contact, _ := st.GetContact(context.Background(), f.contact.ID)
				if contact.MarketingOptOut != c.optOut {
					t.Fatalf("marketing opt-out = %v, want %v", contact.MarketingOptOut, c.optOut)
				}
			})
		})
	}
}

func TestGivesUpOnTheLastAttempt(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		f := setup(t, st, time.Hour, "500")
		msg, job := f.queue(t, &whatsapp.Text{Body: "x"})
		job.Attempt = job.MaxAttempts
		if err := f.sender.Handle(context.Background(), job); err != nil {
			t.Fatalf("last attempt: %v, want the failure recorded instead", err)
		}
		got := f.message(t, msg.ID)
		if got.Status != store.StatusFailed || !strings.Contains(got.ErrorText, "gave up after") {
			t.Fatalf("message after the last attempt = %+v", got)
		}
	})
}

func TestQueueSplitsLongTextAndRejectsBadMessages(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		f := setup(t, st, time.Hour)
		ctx := context.Background()
		para := strings.Repeat("Kargonuz yarın teslim edilecek. ", 100) // ~3,200 characters
		long := para + "\n\n" + para
		var out []store.Message
		err := st.InTx(ctx, func(tx store.Queries) error {
			var err error
			out, err = channel.Queue(ctx, tx, f.conv, f.contact, []whatsapp.Outbound{{Content: &whatsapp.Text{Body: long}}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != 2 || strings.TrimSpace(out[0].Body) != strings.TrimSpace(para) {
			t.Fatalf("a %d-character text became %d messages; want 2 split at the paragraph", len([]rune(long)), len(out))
		}
		err = st.InTx(ctx, func(tx store.Queries) error {
			_, err := channel.Queue(ctx, tx, f.conv, f.contact, []whatsapp.Outbound{{Content: &whatsapp.Buttons{
				Body: "Seçin", Buttons: []whatsapp.Button{{ID: "a", Title: "Bu başlık yirmi karakterden uzun"}}}}})
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "title") {
			t.Fatalf("a 30-character button title: %v, want an error naming the field", err)
		}
	})
}

// bulk queues one template message to each of n new contacts through
// QueueBulk and returns the messages and their send batch jobs, claimed.
func (f *fixture) bulk(t *testing.T, n int) ([]store.Message, []jobs.Job) {
	t.Helper()
	ctx := context.Background()
	var items []channel.Bulk
	for i := range n {
		c, err := f.st.UpsertContact(ctx, store.ContactUpsert{WaID: fmt.Sprintf("9053300%05d", i), Name: "K"})
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, channel.Bulk{Contact: c, Message: whatsapp.Outbound{Content: &whatsapp.Template{Name: "kargo", Language: "tr"}}})
	}
	var msgs []store.Message
	err := f.st.InTx(ctx, func(tx store.Queries) error {
		ids := make([]int64, len(items))
		for i, it := range items {
			ids[i] = it.Contact.ID
		}
		convs, err := tx.OpenConversations(ctx, "123456789012345", ids)
		if err != nil {
			return err
		}
		for i := range items {
			items[i].Conversation = convs[items[i].Contact.ID]
		}
		msgs, err = channel.QueueBulk(ctx, tx, items)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	js, err := f.st.Claim(ctx, jobs.ClaimParams{Worker: "w", Kinds: []string{channel.KindSendBatch}, Limit: 100, Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return msgs, js
}

func TestSendBatchSendsEachMessageOnce(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		f := setup(t, st, time.Hour)
		n := channel.SendBatchSize + 30
		msgs, js := f.bulk(t, n)
		if len(js) != 2 {
			t.Fatalf("%d messages made %d send batch jobs, want 2", n, len(js))
		}
		for _, j := range js {
			if err := f.sender.HandleBatch(context.Background(), j); err != nil {
				t.Fatal(err)
			}
		}
		wamids := map[string]bool{}
		for _, m := range msgs {
			got := f.message(t, m.ID)
			if got.Status != store.StatusSent || got.ChannelMessageID == "" || wamids[got.ChannelMessageID] {
				t.Fatalf("message %d after its batch: %+v", m.ID, got)
			}
			wamids[got.ChannelMessageID] = true
		}
		reqs := f.graph.sent()
		to := map[any]bool{}
		for _, r := range reqs {
			if r["type"] != "template" || !strings.HasPrefix(r["biz_opaque_callback_data"].(string), "yanit:") {
				t.Fatalf("request = %v", r)
			}
			to[r["to"]] = true
		}
		if len(reqs) != n || len(to) != n {
			t.Fatalf("%d requests to %d numbers, want %d to each contact once", len(reqs), len(to), n)
		}
		// The jobs run again (a crash before they were acknowledged):
		// nobody gets a second copy.
		for _, j := range js {
			if err := f.sender.HandleBatch(context.Background(), j); err != nil {
				t.Fatal(err)
			}
		}
		if got := len(f.graph.sent()); got != n {
			t.Fatalf("%d requests after running the jobs again, want %d", got, n)
		}
	})
}

func TestSendBatchRetriesOnlyWhatMetaAskedFor(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		// The first wave's sends, in order: ok, a transient error (retry),
		// undeliverable (fail), ok. Sends run concurrently, so which
		// message gets which reply is not known; the counts are.
		f := setup(t, st, time.Hour, "ok", "500", "131026", "ok")
		msgs, js := f.bulk(t, 4)
		err := f.sender.HandleBatch(context.Background(), js[0])
		if err == nil || !strings.Contains(err.Error(), "sending outbox message") {
			t.Fatalf("a batch with a transient error: %v, want a retry naming the message", err)
		}
		count := func() map[string]int {
			n := map[string]int{}
			for _, m := range msgs {
				n[f.message(t, m.ID).Status]++
			}
			return n
		}
		if got := count(); got[store.StatusSent] != 2 || got[store.StatusQueued] != 1 || got[store.StatusFailed] != 1 {
			t.Fatalf("after the first attempt: %v, want 2 sent, 1 queued, 1 failed", got)
		}
		// The retry (the runner recorded the error) sends only the queued one.
		j := js[0]
		j.Attempt, j.LastError = j.Attempt+1, err.Error()
		if err := f.sender.HandleBatch(context.Background(), j); err != nil {
			t.Fatal(err)
		}
		if got := count(); got[store.StatusSent] != 3 || got[store.StatusFailed] != 1 {
			t.Fatalf("after the retry: %v, want 3 sent, 1 failed", got)
		}
		if n := len(f.graph.sent()); n != 5 {
			t.Fatalf("%d requests, want 5 (4, then the one retried)", n)
		}
	})
}

func TestQueueBulkRefusesABadMessageAndQueuesNothing(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		f := setup(t, st, time.Hour)
		ctx := context.Background()
		items := []channel.Bulk{
			{Conversation: f.conv, Contact: f.contact, Message: whatsapp.Outbound{Content: &whatsapp.Template{Name: "kargo", Language: "tr"}}},
			{Conversation: f.conv, Contact: f.contact, Message: whatsapp.Outbound{Content: &whatsapp.Template{Name: "", Language: "tr"}}},
		}
		err := st.InTx(ctx, func(tx store.Queries) error {
			_, err := channel.QueueBulk(ctx, tx, items)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "contact") {
			t.Fatalf("a template without a name: %v, want an error naming the contact", err)
		}
		msgs, err := st.ListMessages(ctx, f.conv.ID)
		if err != nil || len(msgs) != 0 {
			t.Fatalf("%d messages stored after the refusal (%v), want none", len(msgs), err)
		}
	})
}

func TestStatusesOfOneWebhookApplyTogether(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		f := setup(t, st, time.Hour)
		ctx := context.Background()
		msgs, js := f.bulk(t, 2)
		if err := f.sender.HandleBatch(ctx, js[0]); err != nil {
			t.Fatal(err)
		}
		a, b := f.message(t, msgs[0].ID), f.message(t, msgs[1].ID)
		// A message whose send was never recorded (the sender died after
		// Meta accepted it): its statuses carry only the outbox tag.
		lost, _ := f.queue(t, &whatsapp.Text{Body: "Kargonuz yolda."})
		now := time.Now()
		batch := whatsapp.Batch{Statuses: []whatsapp.Status{
			{WAMID: a.ChannelMessageID, Status: whatsapp.StatusDelivered, Timestamp: now},
			{WAMID: a.ChannelMessageID, Status: whatsapp.StatusRead, Timestamp: now},
			{WAMID: a.ChannelMessageID, Status: whatsapp.StatusSent, Timestamp: now}, // late and stale
			{WAMID: b.ChannelMessageID, Status: whatsapp.StatusFailed, Timestamp: now,
				Errors: []whatsapp.ErrorDetail{{Code: 131026, Title: "Message undeliverable"}}},
			{WAMID: "wamid.LOST", Status: whatsapp.StatusDelivered, Timestamp: now, BizOpaque: channel.OutboxTag(lost.ID)},
			{WAMID: "wamid.OTHER", Status: whatsapp.StatusSent, Timestamp: now}, // another system's message
		}}
		acc, err := channel.NewReceiver(st, channel.ReceiverOptions{}).Accept(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		if acc.Statuses != len(batch.Statuses) {
			t.Fatalf("accepted %d statuses, want %d", acc.Statuses, len(batch.Statuses))
		}
		if got := f.message(t, a.ID); got.Status != store.StatusRead {
			t.Fatalf("message with delivered, read and a late sent = %s, want read", got.Status)
		}
		if got := f.message(t, b.ID); got.Status != store.StatusFailed || got.ErrorCode != 131026 {
			t.Fatalf("failed message = %s %d, want failed 131026", got.Status, got.ErrorCode)
		}
		if got := f.message(t, lost.ID); got.ChannelMessageID != "wamid.LOST" || got.Status != store.StatusDelivered {
			t.Fatalf("the unrecorded send = %q %s, want reconciled as wamid.LOST, delivered", got.ChannelMessageID, got.Status)
		}
	})
}

func TestSendBatchCutOffWaitsForStatusWebhooks(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		f := setup(t, st, time.Hour)
		msgs, js := f.bulk(t, 3)
		// The job's first attempt died (its lease expired): claimed again,
		// with no error recorded.
		j := js[0]
		j.Attempt = 2
		err := f.sender.HandleBatch(context.Background(), j)
		if !errors.Is(err, channel.ErrInterrupted) {
			t.Fatalf("a cut-off batch: %v, want it to wait for the status webhooks", err)
		}
		if n := len(f.graph.sent()); n != 0 {
			t.Fatalf("%d sends before the wait, want none", n)
		}
		// Meanwhile a status webhook recorded one of the sends in flight.
		if err := st.RecordSend(context.Background(), msgs[0].ID, "wamid.INFLIGHT", time.Now()); err != nil {
			t.Fatal(err)
		}
		// The next attempt, after the wait, sends the other two only.
		j.Attempt, j.LastError = 3, channel.ErrInterrupted.Error()
		if err := f.sender.HandleBatch(context.Background(), j); err != nil {
			t.Fatal(err)
		}
		if n := len(f.graph.sent()); n != 2 {
			t.Fatalf("%d sends after the wait, want the 2 not recorded", n)
		}
	})
}

// TestSendBatchesKeepToTheNumbersThroughput runs three send batch jobs at
// once against a Graph API that, like Meta, refuses with 130429 what goes
// over the number's throughput: the sender's limiter paces them, so none
// is refused.
func TestSendBatchesKeepToTheNumbersThroughput(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		const perSecond = 100
		// A little more burst than the sender's, for requests the network
		// reorders on their way.
		bucket := rate.NewLimiter(perSecond, perSecond+10)
		var mu sync.Mutex
		refused, accepted := 0, 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			mu.Lock()
			defer mu.Unlock()
			if !bucket.Allow() {
				refused++
				w.WriteHeader(400)
				fmt.Fprint(w, `{"error":{"message":"throughput","type":"OAuthException","code":130429,"fbtrace_id":"Ab12"}}`)
				return
			}
			accepted++
			fmt.Fprintf(w, `{"messaging_product":"whatsapp","messages":[{"id":"wamid.PACED%d"}]}`, accepted)
		}))
		t.Cleanup(srv.Close)
		f := setup(t, st, time.Hour)
		f.sender = channel.NewSender(st, &whatsapp.Client{BaseURL: srv.URL, Version: "v24.0", Token: "token"},
			channel.SenderOptions{Limiter: channel.NewLimiter(perSecond, 10, time.Second)})
		_, js := f.bulk(t, 2*channel.SendBatchSize+50)
		var wg sync.WaitGroup
		errs := make([]error, len(js))
		for i, j := range js {
			wg.Go(func() { errs[i] = f.sender.HandleBatch(context.Background(), j) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if refused != 0 || accepted != 2*channel.SendBatchSize+50 {
			t.Fatalf("WhatsApp accepted %d and refused %d for throughput; want all %d accepted, none refused",
				accepted, refused, 2*channel.SendBatchSize+50)
		}
	})
}
