package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultChannel is the NOTIFY channel of PGBus unless WithChannel names
// another.
const DefaultChannel = "yanit_inbox"

// Listener timings: an idle listener pings its connection this often, to
// notice a connection the network lost without closing it; a lost one is
// reconnected after a backoff growing from reconnectMin to reconnectMax.
const (
	idlePing     = 30 * time.Second
	reconnectMin = 100 * time.Millisecond
	reconnectMax = 10 * time.Second
)

// PGBus is the Bus of yanit instances sharing one PostgreSQL database, over
// LISTEN/NOTIFY. Publish sends a NOTIFY on the pool; each PGBus keeps one
// connection of its own listening on the channel and fans the events it
// receives out to its subscribers through a LocalBus, so every subscriber of
// every instance, the publisher's included, sees the events in the order
// PostgreSQL delivered them (commit order), with LocalBus's rules for slow
// subscribers.
//
// When the listening connection is lost, PGBus logs it and reconnects with
// backoff; subscriptions stay open. Events published while it was
// disconnected are lost to its subscribers, which then receive a KindResync
// event.
//
// It is safe for concurrent use. Close it before closing the pool.
type PGBus struct {
	pool    *pgxpool.Pool
	log     *slog.Logger
	channel string
	local   *LocalBus

	pid    atomic.Uint32 // backend PID of the listening connection, 0 while disconnected
	closed atomic.Bool
	once   sync.Once
	stop   context.CancelFunc
	done   chan struct{}
}

var _ Bus = (*PGBus)(nil)

// PGOption configures a PGBus.
type PGOption func(*PGBus)

// WithChannel makes the bus NOTIFY and LISTEN on channel instead of
// DefaultChannel: a lower-case identifier of at most 63 bytes (letters,
// digits, underscores, not starting with a digit). Only buses on the same
// channel and database see each other's events.
func WithChannel(channel string) PGOption {
	return func(b *PGBus) { b.channel = channel }
}

// NewPGBus starts a bus on pool: it takes one connection out of the pool
// (the pool may open another in its place) and listens on it before
// returning, so that events published once NewPGBus has returned reach its
// subscribers. ctx bounds this start only; the listener runs until Close.
// A nil log discards.
func NewPGBus(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger, opts ...PGOption) (*PGBus, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &PGBus{pool: pool, log: log, channel: DefaultChannel, local: NewLocalBus(), done: make(chan struct{})}
	for _, opt := range opts {
		opt(b)
	}
	if err := checkChannel(b.channel); err != nil {
		return nil, err
	}
	conn, err := b.listen(ctx)
	if err != nil {
		return nil, fmt.Errorf("starting the inbox listener: %w", err)
	}
	lctx, stop := context.WithCancel(context.Background())
	b.stop = stop
	go b.run(lctx, conn)
	return b, nil
}

// checkChannel accepts a simple lower-case identifier, which LISTEN and
// pg_notify read the same way.
func checkChannel(channel string) error {
	ok := channel != "" && len(channel) <= 63 && !('0' <= channel[0] && channel[0] <= '9')
	for _, c := range []byte(channel) {
		ok = ok && ('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_')
	}
	if !ok {
		return fmt.Errorf("inbox: invalid channel %q: want a lower-case identifier (a-z, 0-9, _) of at most 63 bytes", channel)
	}
	return nil
}

// Publish sends e to every subscriber of every PGBus on the channel, its own
// included, with one NOTIFY on the pool. The NOTIFY commits at once, outside
// any transaction of the caller: publish after the change it announces has
// committed, so that agents never see an event for a change rolled back. A
// zero At is set to now. It refuses an event without a Kind, or longer than
// MaxEventBytes encoded (ErrEventTooLarge), and returns ErrBusClosed after
// Close.
func (b *PGBus) Publish(ctx context.Context, e Event) error {
	if b.closed.Load() {
		return ErrBusClosed
	}
	payload, err := encode(&e)
	if err != nil {
		return err
	}
	if _, err := b.pool.Exec(ctx, "SELECT pg_notify($1, $2)", b.channel, string(payload)); err != nil {
		return fmt.Errorf("notifying %s event: %w", e.Kind, err)
	}
	return nil
}

// Subscribe returns a channel of the events this bus receives from now on,
// as LocalBus.Subscribe does.
func (b *PGBus) Subscribe(ctx context.Context) (<-chan Event, func()) {
	return b.local.Subscribe(ctx)
}

// Dropped returns how many deliveries this bus's subscribers have lost by
// not keeping up.
func (b *PGBus) Dropped() uint64 { return b.local.Dropped() }

// Close stops the listener, closes its connection and ends every
// subscription. It is idempotent and returns nil.
func (b *PGBus) Close() error {
	b.once.Do(func() {
		b.closed.Store(true)
		b.stop()
		<-b.done
		b.local.Close()
	})
	return nil
}

// listen takes a connection out of the pool and runs LISTEN on it.
func (b *PGBus) listen(ctx context.Context) (*pgx.Conn, error) {
	pc, err := b.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquiring a connection: %w", err)
	}
	// Hijacked, the connection never goes back to the pool with LISTEN on
	// it, and the pool's Close does not wait for it.
	conn := pc.Hijack()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{b.channel}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("listening on %s: %w", b.channel, err)
	}
	b.pid.Store(conn.PgConn().PID())
	return conn, nil
}

// run receives notifications on conn until ctx ends, replacing the
// connection whenever it is lost. It closes b.done when it returns.
func (b *PGBus) run(ctx context.Context, conn *pgx.Conn) {
	defer close(b.done)
	for {
		err := b.receive(ctx, conn)
		closeConn(conn)
		b.pid.Store(0)
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("inbox: listener connection lost; reconnecting",
			slog.String("channel", b.channel), slog.Any("error", err))
		if conn = b.reconnect(ctx); conn == nil {
			return
		}
		b.log.Info("inbox: listener reconnected", slog.String("channel", b.channel))
		b.local.fanout(Event{Kind: KindResync, At: time.Now()})
	}
}

// receive fans out the notifications arriving on conn until ctx ends or the
// connection fails, pinging it when idle.
func (b *PGBus) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, idlePing)
		n, err := conn.WaitForNotification(wctx)
		idle := wctx.Err() != nil
		cancel()
		if n != nil {
			b.deliver(n.Payload)
		}
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case idle && !conn.IsClosed():
			// A wait that timed out leaves the connection usable.
			if err := conn.Ping(ctx); err != nil {
				return fmt.Errorf("pinging the idle listener: %w", err)
			}
		default:
			return fmt.Errorf("waiting for notifications: %w", err)
		}
	}
}

// deliver decodes one payload and fans it out; a payload that is not an
// event (someone else's NOTIFY on the channel) is logged and skipped.
func (b *PGBus) deliver(payload string) {
	var e Event
	if err := json.Unmarshal([]byte(payload), &e); err != nil || e.Kind == "" {
		b.log.Warn("inbox: skipping a notification that is not an event",
			slog.String("channel", b.channel), slog.Int("bytes", len(payload)), slog.Any("error", err))
		return
	}
	b.local.fanout(e)
}

// reconnect tries to listen again, with backoff, until it succeeds or ctx
// ends (then it returns nil).
func (b *PGBus) reconnect(ctx context.Context) *pgx.Conn {
	for attempt := 0; ; attempt++ {
		t := time.NewTimer(backoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		conn, err := b.listen(ctx)
		if err == nil {
			return conn
		}
		if ctx.Err() != nil {
			return nil
		}
		b.log.Warn("inbox: reconnecting the listener failed",
			slog.String("channel", b.channel), slog.Int("attempt", attempt+1), slog.Any("error", err))
	}
}

// backoff returns the wait before reconnect attempt n (from 0): doubling
// from reconnectMin up to reconnectMax, with jitter between half and all of it.
func backoff(n int) time.Duration {
	d := min(reconnectMin<<min(n, 10), reconnectMax)
	return d/2 + rand.N(d/2+1)
}

// closeConn closes a listener connection, waiting a few seconds at most.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn.Close(ctx)
}
