package simulator_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/channel/whatsapp/simulator"
	"github.com/yanit/yanit/channel/whatsapp/wire"
)

// With StatusBatch, the statuses of many business messages to many users
// arrive in fewer webhooks than statuses, each signed and holding at most
// StatusBatch statuses, every status exactly once; a message's statuses keep
// their order within a webhook. Users' messages still arrive one by one.
func TestStatusBatch(t *testing.T) {
	t.Parallel()
	const (
		batch   = 50
		users   = 40
		perUser = 5
	)
	e := setup(t, simulator.Options{StatusBatch: batch, StatusDelay: 20 * time.Millisecond}, false)
	ctx := testContext(t)

	// A user's message takes the per-user queue, as without batching.
	first := e.sim.User("Deniz", "905400000000")
	m, err := first.SendText(ctx, "merhaba")
	if err != nil || !m.Delivered {
		t.Fatalf("user message: %+v, %v", m, err)
	}
	e.bot.inboundByID(t, m.ID)

	template := &whatsapp.Template{Name: "order_update", Language: "tr", Components: []whatsapp.Component{
		{Type: whatsapp.ComponentBody, Parameters: []whatsapp.Parameter{whatsapp.TextParam("#1001")}},
	}}
	var (
		mu        sync.Mutex
		recipient = map[string]string{} // wamid → phone
		wg        sync.WaitGroup
	)
	for i := range users {
		phone := "9054000" + fmt.Sprintf("%05d", i+1)
		wg.Go(func() {
			for j := range perUser {
				id, err := e.bot.client.Send(ctx, testPhoneID, whatsapp.Outbound{To: phone, BizOpaque: "b" + strconv.Itoa(j), Content: template})
				if err != nil {
					t.Errorf("send to %s: %v", phone, err)
					return
				}
				mu.Lock()
				recipient[id] = phone
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	want := 3 * users * perUser
	e.bot.waitFor(t, strconv.Itoa(want)+" statuses", func() bool { return len(e.bot.statuses) >= want })
	// Close waits for every poster: a duplicate in flight would arrive by now.
	if err := e.sim.Close(); err != nil {
		t.Fatal(err)
	}

	e.bot.mu.Lock()
	defer e.bot.mu.Unlock()
	seen := map[string]int{}
	for _, s := range e.bot.statuses {
		seen[s.WAMID+" "+s.Status]++
		if phone, ok := recipient[s.WAMID]; !ok || s.RecipientID != phone {
			t.Errorf("status %s of %s to %s, want a message sent to %s", s.Status, s.WAMID, s.RecipientID, phone)
		}
	}
	for id := range recipient {
		for _, st := range []string{whatsapp.StatusSent, whatsapp.StatusDelivered, whatsapp.StatusRead} {
			if n := seen[id+" "+st]; n != 1 {
				t.Errorf("%s of %s arrived %d times, want once", st, id, n)
			}
		}
	}
	if len(e.bot.statuses) != want {
		t.Errorf("%d statuses arrived, want %d", len(e.bot.statuses), want)
	}
	// Every request verified and parsed: none was refused.
	if e.bot.attempts != len(e.bot.bodies) {
		t.Errorf("%d webhook requests, %d accepted", e.bot.attempts, len(e.bot.bodies))
	}
	posts := 0
	for _, body := range e.bot.bodies {
		var env wire.Envelope
		if err := json.Unmarshal(body, &env); err != nil {
			t.Fatal(err)
		}
		if len(env.Entry) != 1 || len(env.Entry[0].Changes) != 1 {
			t.Fatalf("webhook with %d entries, want one with one change: %s", len(env.Entry), body)
		}
		v := env.Entry[0].Changes[0].Value
		if len(v.Statuses) == 0 {
			continue // the user's message
		}
		posts++
		if len(v.Statuses) > batch {
			t.Errorf("webhook with %d statuses, want at most %d", len(v.Statuses), batch)
		}
		last := map[string]string{}
		for _, s := range v.Statuses {
			if prev, ok := last[s.ID]; ok && !whatsapp.Advances(prev, s.Status) {
				t.Errorf("%s after %s for %s in one webhook", s.Status, prev, s.ID)
			}
			last[s.ID] = s.Status
		}
	}
	if posts >= want {
		t.Errorf("%d status webhooks for %d statuses, want fewer", posts, want)
	}
	t.Logf("%d statuses in %d webhooks", want, posts)
}

// A batch that does not fill leaves once the first of its statuses waited
// StatusLinger.
func TestStatusBatchLinger(t *testing.T) {
	t.Parallel()
	const linger = 150 * time.Millisecond
	e := setup(t, simulator.Options{StatusBatch: 50, StatusLinger: linger}, false)
	ctx := testContext(t)
	u := e.sim.User("Ece", "905410000001")
	start := time.Now()
	id, err := e.bot.client.Send(ctx, testPhoneID, whatsapp.Outbound{To: u.Phone(), Content: &whatsapp.Template{Name: "hello", Language: "tr"}})
	if err != nil {
		t.Fatal(err)
	}
	var firstAt time.Time
	e.bot.waitFor(t, "a status", func() bool {
		if len(e.bot.statuses) > 0 && firstAt.IsZero() {
			firstAt = time.Now()
		}
		return !firstAt.IsZero()
	})
	// The sent status comes due a StatusDelay after the send.
	if waited := firstAt.Sub(start); waited < linger {
		t.Errorf("first status after %s, want after the linger (%s)", waited, linger)
	}
	sts := e.bot.statusesOf(t, id, 3)
	e.bot.mu.Lock()
	posts := len(e.bot.bodies)
	e.bot.mu.Unlock()
	if posts > 3 {
		t.Errorf("%d webhooks for 3 statuses", posts)
	}
	for i, want := range []string{whatsapp.StatusSent, whatsapp.StatusDelivered, whatsapp.StatusRead} {
		if sts[i].Status != want {
			t.Errorf("status %d is %s, want %s", i, sts[i].Status, want)
		}
	}
}

// Close drops the statuses waiting in a batch and returns with every poster
// stopped; statuses due after Close are dropped too.
func TestStatusBatchClose(t *testing.T) {
	t.Parallel()
	e := setup(t, simulator.Options{StatusBatch: 50, StatusLinger: time.Hour, Read: simulator.ReadOnlyOnDisplay}, false)
	ctx := testContext(t)
	u := e.sim.User("Eda", "905410000002")
	id, err := e.bot.client.Send(ctx, testPhoneID, whatsapp.Outbound{To: u.Phone(), Content: &whatsapp.Template{Name: "hello", Language: "tr"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.WaitFor(ctx, func(m simulator.Message) bool { return m.ID == id && m.Status == whatsapp.StatusDelivered }); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		_ = e.sim.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("Close does not return")
	}
	u.ReadAll() // read after Close: its status is dropped
	if m := transcriptByID(u, id); m.Status != whatsapp.StatusRead {
		t.Errorf("message %s after ReadAll, want read", m.Status)
	}
	e.bot.mu.Lock()
	defer e.bot.mu.Unlock()
	if len(e.bot.statuses) != 0 {
		t.Errorf("%d statuses posted, want none before the linger", len(e.bot.statuses))
	}
}
