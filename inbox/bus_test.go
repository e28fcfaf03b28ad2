package inbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/yanit/yanit/store/postgres/pgtest"
)

// waitLimit bounds every wait for an event, so that a lost event fails the
// test instead of hanging it; it is not a speed requirement.
const waitLimit = 20 * time.Second

// recv returns the next event on ch, failing the test if ch is closed or
// stays empty.
func recv(t testing.TB, ch <-chan Event) Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed, want an event")
		}
		return e
	case <-time.After(waitLimit):
		t.Fatalf("no event within %v", waitLimit)
	}
	return Event{}
}

// waitClosed fails the test unless ch closes, without an event first.
func waitClosed(t *testing.T, ch <-chan Event) {
	t.Helper()
	select {
	case e, ok := <-ch:
		if ok {
			t.Fatalf("got %+v, want the subscription closed", e)
		}
	case <-time.After(waitLimit):
		t.Fatalf("subscription still open after %v", waitLimit)
	}
}

// ticketIDs receives n events from ch and returns their TicketIDs.
func ticketIDs(t *testing.T, ch <-chan Event, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = recv(t, ch).TicketID
	}
	return ids
}

// seq returns from, from+1, ..., to.
func seq(from, to int64) []int64 {
	var s []int64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

func msg(ticket int64) Event {
	return Event{Kind: KindMessage, TicketID: ticket, ConversationID: 1000 + ticket}
}

// sized returns an event whose JSON encoding is exactly n bytes long.
func sized(t *testing.T, n int) Event {
	t.Helper()
	e := Event{Kind: KindMessage, TicketID: 3, ConversationID: 7, At: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	e.Data = json.RawMessage(`""`)
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	e.Data = json.RawMessage(`"` + strings.Repeat("x", n-len(b)) + `"`)
	if b, _ := json.Marshal(e); len(b) != n {
		t.Fatalf("sized event is %d bytes, want %d", len(b), n)
	}
	return e
}

func TestLocalBusFanOut(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := NewLocalBus()
	defer b.Close()
	var subs []<-chan Event
	for range 3 {
		ch, cancel := b.Subscribe(ctx)
		defer cancel()
		subs = append(subs, ch)
	}
	at := time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC)
	first := Event{Kind: KindTicketCreated, TicketID: 1, ConversationID: 9, Team: "billing", At: at, Data: json.RawMessage(`{"preview":"merhaba"}`)}
	if err := b.Publish(ctx, first); err != nil {
		t.Fatal(err)
	}
	for i := int64(2); i <= 100; i++ {
		if err := b.Publish(ctx, msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i, ch := range subs {
		got := recv(t, ch)
		if got.Kind != first.Kind || got.Team != "billing" || !got.At.Equal(at) || string(got.Data) != string(first.Data) {
			t.Errorf("subscriber %d: first event %+v, want %+v", i, got, first)
		}
		if ids := ticketIDs(t, ch, 99); !slices.Equal(ids, seq(2, 100)) {
			t.Errorf("subscriber %d: tickets %v, want 2..100 in order", i, ids)
		}
	}
	if d := b.Dropped(); d != 0 {
		t.Errorf("Dropped() = %d, want 0", d)
	}
}

func TestLocalBusSetsAt(t *testing.T) {
	t.Parallel()
	b := NewLocalBus()
	defer b.Close()
	ch, cancel := b.Subscribe(t.Context())
	defer cancel()
	before := time.Now()
	if err := b.Publish(t.Context(), msg(1)); err != nil {
		t.Fatal(err)
	}
	if at := recv(t, ch).At; at.Before(before) || at.After(time.Now()) {
		t.Errorf("At = %v, want the time of Publish", at)
	}
}

func TestLocalBusOrderPerPublisher(t *testing.T) {
	t.Parallel()
	const publishers, each = 4, 50 // 200 events: within every subscriber's buffer
	ctx := t.Context()
	b := NewLocalBus()
	defer b.Close()
	chA, cancelA := b.Subscribe(ctx)
	defer cancelA()
	chB, cancelB := b.Subscribe(ctx)
	defer cancelB()

	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for i := range each {
				if err := b.Publish(ctx, Event{Kind: KindMessage, AssigneeID: int64(p + 1), TicketID: int64(i + 1)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()

	var orders [2][]Event
	for i, ch := range []<-chan Event{chA, chB} {
		last := make(map[int64]int64)
		for range publishers * each {
			e := recv(t, ch)
			if e.TicketID != last[e.AssigneeID]+1 {
				t.Fatalf("subscriber %d: publisher %d's event %d after its event %d", i, e.AssigneeID, e.TicketID, last[e.AssigneeID])
			}
			last[e.AssigneeID] = e.TicketID
			orders[i] = append(orders[i], e)
		}
	}
	if !slices.EqualFunc(orders[0], orders[1], func(x, y Event) bool {
		return x.AssigneeID == y.AssigneeID && x.TicketID == y.TicketID
	}) {
		t.Error("the two subscribers saw the events in different orders")
	}
}

func TestLocalBusCancel(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := NewLocalBus()
	defer b.Close()

	cancelled, cancel := b.Subscribe(ctx)
	subCtx, endCtx := context.WithCancel(ctx)
	ended, cancelEnded := b.Subscribe(subCtx)
	defer cancelEnded()
	done, cancelDone := b.Subscribe(ctx)
	defer cancelDone()
	stayed, cancelStayed := b.Subscribe(ctx)
	defer cancelStayed()
	cancelDone()

	cancel()
	cancel() // a second call is harmless
	endCtx()
	waitClosed(t, cancelled)
	waitClosed(t, ended)
	waitClosed(t, done)

	if err := b.Publish(ctx, msg(1)); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, stayed).TicketID; got != 1 {
		t.Errorf("remaining subscriber got ticket %d, want 1", got)
	}

	// A subscription with a context already done closes at once.
	deadCtx, endDead := context.WithCancel(ctx)
	endDead()
	dead, cancelDead := b.Subscribe(deadCtx)
	defer cancelDead()
	waitClosed(t, dead)
}

func TestLocalBusSlowSubscriberDrops(t *testing.T) {
	t.Parallel()
	const extra = 10
	ctx := t.Context()          // ends the subscriptions
	b := NewLocalBus()          // not closed: a Publish that blocked would block Close too
	slow, _ := b.Subscribe(ctx) // never reads until the end
	fast, _ := b.Subscribe(ctx)

	for i := int64(1); i <= subscriberBuffer+extra; i++ {
		// Publish never waits for the slow subscriber: were it to, this
		// would block once its buffer is full.
		published := make(chan error, 1)
		go func() { published <- b.Publish(ctx, msg(i)) }()
		select {
		case err := <-published:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(waitLimit):
			t.Fatalf("Publish of event %d blocked on the slow subscriber", i)
		}
		if got := recv(t, fast).TicketID; got != i {
			t.Fatalf("fast subscriber got ticket %d, want %d", got, i)
		}
	}
	if d := b.Dropped(); d != extra {
		t.Errorf("Dropped() = %d, want %d", d, extra)
	}
	if n := len(slow); n != subscriberBuffer {
		t.Fatalf("slow subscriber holds %d events, want %d", n, subscriberBuffer)
	}
	if ids := ticketIDs(t, slow, subscriberBuffer); !slices.Equal(ids, seq(1, subscriberBuffer)) {
		t.Errorf("slow subscriber kept tickets %v, want the first %d in order", ids, subscriberBuffer)
	}
	// Caught up, it receives again.
	if err := b.Publish(ctx, msg(999)); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, slow).TicketID; got != 999 {
		t.Errorf("slow subscriber after catching up got ticket %d, want 999", got)
	}
}

func TestLocalBusClose(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := NewLocalBus()
	ch1, cancel1 := b.Subscribe(ctx)
	ch2, _ := b.Subscribe(ctx)
	if err := b.Publish(ctx, msg(1)); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	cancel1() // after Close: harmless
	for _, ch := range []<-chan Event{ch1, ch2} {
		if got := recv(t, ch).TicketID; got != 1 { // what was buffered is still read
			t.Errorf("got ticket %d, want 1", got)
		}
		waitClosed(t, ch)
	}
	if err := b.Publish(ctx, msg(2)); !errors.Is(err, ErrBusClosed) {
		t.Errorf("Publish after Close: %v, want ErrBusClosed", err)
	}
	late, cancelLate := b.Subscribe(ctx)
	defer cancelLate()
	waitClosed(t, late)
}

func TestLocalBusRefuses(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := NewLocalBus()
	defer b.Close()
	ch, cancel := b.Subscribe(ctx)
	defer cancel()

	if err := b.Publish(ctx, sized(t, MaxEventBytes+1)); !errors.Is(err, ErrEventTooLarge) {
		t.Errorf("oversize event: %v, want ErrEventTooLarge", err)
	}
	if err := b.Publish(ctx, Event{ConversationID: 1}); err == nil {
		t.Error("event without a kind: accepted")
	}
	if err := b.Publish(ctx, Event{Kind: KindNote, Data: json.RawMessage(`{not json`)}); err == nil {
		t.Error("event with invalid Data: accepted")
	}
	if err := b.Publish(ctx, sized(t, MaxEventBytes)); err != nil {
		t.Errorf("event of MaxEventBytes: %v", err)
	}
	if got := recv(t, ch); len(got.Data) == 0 {
		t.Errorf("first event delivered: %+v, want the one of MaxEventBytes", got)
	}
	if n := len(ch); n != 0 {
		t.Errorf("%d more events delivered, want none", n)
	}
}

// TestLocalBusConcurrent races subscribers coming and going, publishers and
// Close; under -race it catches a send on a closed channel or a data race.
func TestLocalBusConcurrent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := NewLocalBus()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				sctx, end := context.WithCancel(ctx)
				ch, cancel := b.Subscribe(sctx)
				b.Publish(ctx, msg(1))
				if len(ch)%2 == 0 {
					cancel()
				} else {
					end()
				}
				for range ch {
				}
				cancel()
				end()
			}
		})
		wg.Go(func() {
			for range 500 {
				if err := b.Publish(ctx, msg(2)); errors.Is(err, ErrBusClosed) {
					return
				}
			}
		})
	}
	wg.Go(func() {
		time.Sleep(time.Millisecond)
		b.Close()
	})
	wg.Wait()
}

// newPool opens a pool on the test database, closed at cleanup. NOTIFY
// channels are database-wide: tests isolate themselves with channelName.
func newPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pgtest.Require(t)
	pool, err := pgxpool.New(context.Background(), pgtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// channelName returns a channel no other test uses.
func channelName(t testing.TB) string {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	return "t_" + hex.EncodeToString(b)
}

// newPGBus starts a bus on channel, closed at cleanup (before its pool).
func newPGBus(t testing.TB, pool *pgxpool.Pool, channel string) *PGBus {
	t.Helper()
	b, err := NewPGBus(t.Context(), pool, slog.New(slog.NewTextHandler(t.Output(), nil)), WithChannel(channel))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestPGBusAcrossInstances(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	channel := channelName(t)
	a := newPGBus(t, newPool(t), channel) // two instances: a pool each
	b := newPGBus(t, newPool(t), channel)
	other := newPGBus(t, newPool(t), channelName(t))

	var subs []<-chan Event
	for _, bus := range []*PGBus{a, b, b} {
		ch, cancel := bus.Subscribe(ctx)
		t.Cleanup(cancel)
		subs = append(subs, ch)
	}
	otherCh, cancelOther := other.Subscribe(ctx)
	defer cancelOther()

	at := time.Date(2026, 5, 1, 9, 30, 0, 123456789, time.UTC)
	first := Event{Kind: KindTicketAssigned, TicketID: 1, ConversationID: 42, Team: "billing", AssigneeID: 7,
		At: at, Data: json.RawMessage(`{"preview":"Siparişim nerede?"}`)}
	if err := a.Publish(ctx, first); err != nil {
		t.Fatal(err)
	}
	for i := int64(2); i <= 50; i++ {
		if err := a.Publish(ctx, msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := int64(51); i <= 100; i++ {
		if err := b.Publish(ctx, msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i, ch := range subs {
		got := recv(t, ch)
		if got.Kind != first.Kind || got.TicketID != 1 || got.ConversationID != 42 || got.Team != "billing" ||
			got.AssigneeID != 7 || !got.At.Equal(at) || string(got.Data) != string(first.Data) {
			t.Errorf("subscriber %d: first event %+v, want %+v", i, got, first)
		}
		if ids := ticketIDs(t, ch, 99); !slices.Equal(ids, seq(2, 100)) {
			t.Errorf("subscriber %d: tickets %v, want 2..100 in order", i, ids)
		}
	}

	// A bus on another channel saw none of them.
	if err := other.Publish(ctx, msg(1000)); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, otherCh).TicketID; got != 1000 {
		t.Errorf("bus on another channel got ticket %d first, want its own 1000", got)
	}
}

func TestPGBusRefusesOversize(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	bus := newPGBus(t, newPool(t), channelName(t))
	ch, cancel := bus.Subscribe(ctx)
	defer cancel()

	err := bus.Publish(ctx, sized(t, MaxEventBytes+1))
	if !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("oversize event: %v, want ErrEventTooLarge", err)
	}
	t.Logf("oversize event refused: %v", err)
	// The largest event PostgreSQL takes is the largest Publish accepts.
	largest := sized(t, MaxEventBytes)
	if err := bus.Publish(ctx, largest); err != nil {
		t.Fatalf("event of MaxEventBytes: %v", err)
	}
	if got := recv(t, ch); string(got.Data) != string(largest.Data) {
		t.Errorf("first event received has %d bytes of data, want the largest event's %d", len(got.Data), len(largest.Data))
	}
}

func TestPGBusReconnects(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := newPool(t)
	bus := newPGBus(t, pool, channelName(t))
	ch, cancel := bus.Subscribe(ctx)
	defer cancel()

	for round := range 2 { // a second loss is survived too
		pid := bus.pid.Load()
		if pid == 0 {
			t.Fatal("no listener PID")
		}
		var killed bool
		if err := pool.QueryRow(ctx, "SELECT pg_terminate_backend($1)", int32(pid)).Scan(&killed); err != nil || !killed {
			t.Fatalf("terminating the listener's backend %d: %v, %v", pid, killed, err)
		}
		if got := recv(t, ch); got.Kind != KindResync {
			t.Fatalf("round %d: after the connection loss got %+v, want a %s event", round, got, KindResync)
		}
		if now := bus.pid.Load(); now == 0 || now == pid {
			t.Errorf("round %d: listener PID %d after reconnecting, was %d", round, now, pid)
		}
		if err := bus.Publish(ctx, msg(int64(round))); err != nil {
			t.Fatal(err)
		}
		if got := recv(t, ch); got.TicketID != int64(round) || got.Kind != KindMessage {
			t.Errorf("round %d: after reconnecting got %+v, want ticket %d", round, got, round)
		}
	}
}

func TestPGBusClose(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := newPool(t)
	bus := newPGBus(t, pool, channelName(t))
	ch, _ := bus.Subscribe(ctx)
	pid := bus.pid.Load()

	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	waitClosed(t, ch)
	if err := bus.Publish(ctx, msg(1)); !errors.Is(err, ErrBusClosed) {
		t.Errorf("Publish after Close: %v, want ErrBusClosed", err)
	}
	// The listener's backend goes away (it exits just after the client).
	for deadline := time.Now().Add(waitLimit); ; time.Sleep(20 * time.Millisecond) {
		var alive bool
		if err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1)", int32(pid)).Scan(&alive); err != nil {
			t.Fatal(err)
		}
		if !alive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("listener backend %d still there %v after Close", pid, waitLimit)
		}
	}
}

func TestNewPGBusChannel(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	for _, channel := range []string{"", "Yanit", "1inbox", "yanit-inbox", `x"; DROP TABLE t; --`, strings.Repeat("a", 64)} {
		if b, err := NewPGBus(t.Context(), pool, nil, WithChannel(channel)); err == nil {
			b.Close()
			t.Errorf("channel %q accepted", channel)
		}
	}
	b, err := NewPGBus(t.Context(), pool, nil) // DefaultChannel
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var listening []string
	rows, err := pool.Query(t.Context(), "SELECT query FROM pg_stat_activity WHERE pid = $1", int32(b.pid.Load()))
	if err != nil {
		t.Fatal(err)
	}
	if listening, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	if want := []string{`LISTEN "yanit_inbox"`}; !slices.Equal(listening, want) {
		t.Errorf("listener runs %q, want %q", listening, want)
	}
}

// BenchmarkPGBusLatency measures the time from Publish on one instance to
// receipt by a subscriber of another, one event at a time: what an agent
// waits, past the database commit, to see a handoff in the console.
func BenchmarkPGBusLatency(b *testing.B) {
	channel := channelName(b)
	from := newPGBus(b, newPool(b), channel)
	to := newPGBus(b, newPool(b), channel)
	ch, cancel := to.Subscribe(b.Context())
	defer cancel()
	ctx := b.Context()
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := from.Publish(ctx, Event{Kind: KindTicketCreated, TicketID: 1, ConversationID: 1}); err != nil {
			b.Fatal(err)
		}
		recv(b, ch)
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(1), "max-ms")
}
