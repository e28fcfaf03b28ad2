package channel

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/sqlite"
)

// gatedStore holds the first UpdateMessageStatuses call until released and
// records the size of every call.
type gatedStore struct {
	store.Store
	entered, release chan struct{}
	once             sync.Once
	mu               sync.Mutex
	calls            []int
}

func (g *gatedStore) UpdateMessageStatuses(ctx context.Context, us []store.StatusUpdate) ([]store.StatusOutcome, error) {
	g.once.Do(func() { close(g.entered); <-g.release })
	g.mu.Lock()
	g.calls = append(g.calls, len(us))
	g.mu.Unlock()
	return g.Store.UpdateMessageStatuses(ctx, us)
}

// Webhooks of one status each, arriving while a statement runs, are
// applied together in the next one: a campaign's thousands of status
// webhooks a second take a statement per group.
func TestStatusesOfConcurrentWebhooksShareAStatement(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "y.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := st.UpsertContact(ctx, store.ContactUpsert{WaID: "905321234567"})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := st.OpenConversation(ctx, c.ID, "1001")
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	var wamids []string
	for i := range n {
		m, err := st.InsertMessage(ctx, store.Message{ConversationID: conv.ID, Direction: store.Outbound, Type: "text", Status: store.StatusQueued})
		if err != nil {
			t.Fatal(err)
		}
		w := fmt.Sprintf("wamid.G%d", i)
		if err := st.RecordSend(ctx, m.ID, w, time.Now()); err != nil {
			t.Fatal(err)
		}
		wamids = append(wamids, w)
	}
	g := &gatedStore{Store: st, entered: make(chan struct{}), release: make(chan struct{})}
	r := NewReceiver(g, ReceiverOptions{})
	accept := func(w string) error {
		_, err := r.Accept(ctx, whatsapp.Batch{Statuses: []whatsapp.Status{{WAMID: w, Status: whatsapp.StatusDelivered, Timestamp: time.Now()}}})
		return err
	}
	errs := make(chan error, n)
	go func() { errs <- accept(wamids[0]) }()
	<-g.entered // the first webhook's statement runs
	for _, w := range wamids[1:] {
		go func() { errs <- accept(w) }()
	}
	for {
		r.statusMu.Lock()
		waiting := len(r.statusWaiting)
		r.statusMu.Unlock()
		if waiting == n-1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(g.release)
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if len(g.calls) != 2 || g.calls[0] != 1 || g.calls[1] != n-1 {
		t.Fatalf("statements of %v statuses, want 1, then the %d webhooks that waited in one", g.calls, n-1)
	}
	msgs, err := st.ListMessages(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Status != store.StatusDelivered {
			t.Fatalf("message %s is %s, want delivered", m.ChannelMessageID, m.Status)
		}
	}
}
