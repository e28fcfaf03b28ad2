package channel

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// blocked reports whether Wait would block past a short deadline.
func blocked(l *Limiter, number, recipient string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	// rate.Limiter refuses at once a wait that would pass the deadline.
	return l.Wait(ctx, number, recipient) != nil
}

func TestLimiterPacesEachRecipient(t *testing.T) {
	l := NewLimiter(1000, 2, time.Hour) // a burst of 2, then one per hour
	if blocked(l, "n1", "ayse") || blocked(l, "n1", "ayse") {
		t.Fatal("the first two messages to a recipient must go at once")
	}
	if !blocked(l, "n1", "ayse") {
		t.Fatal("a third message within the pair limit must wait")
	}
	if blocked(l, "n1", "can") {
		t.Fatal("another recipient must not wait for ayse's pacing")
	}
}

func TestLimiterCapsTheNumber(t *testing.T) {
	l := NewLimiter(1, 100, time.Millisecond) // one send per second per number
	if blocked(l, "n1", "a") {
		t.Fatal("the first send must go at once")
	}
	if !blocked(l, "n1", "b") {
		t.Fatal("a second send within the second must wait, whoever it is for")
	}
	if blocked(l, "n2", "c") {
		t.Fatal("another business number has its own budget")
	}
}

func TestLimiterHold(t *testing.T) {
	l := NewLimiter(1000, 100, time.Millisecond)
	l.Hold("n1", "ayse", time.Hour) // 131056: this recipient only
	if !blocked(l, "n1", "ayse") || blocked(l, "n1", "can") {
		t.Fatal("a recipient hold must block that recipient only")
	}
	l.Hold("n1", "", time.Hour) // 130429: the whole number
	if !blocked(l, "n1", "can") || blocked(l, "n2", "can") {
		t.Fatal("a number hold must block that number only")
	}
}

// A campaign sends one message to each of many recipients: the limiter
// forgets each of them once their bucket is full again, so its memory
// follows the last moments' sends, not the whole campaign's.
func TestLimiterForgetsIdleRecipients(t *testing.T) {
	l := NewLimiter(100000, 1, 100*time.Millisecond) // full again 0.1 s after a send; pruned each second
	ctx := context.Background()
	for i := range 2000 {
		if err := l.Wait(ctx, "n1", "user"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	size := func() int { l.mu.Lock(); defer l.mu.Unlock(); return len(l.recipients) }
	if n := size(); n != 2000 {
		t.Fatalf("%d recipients tracked, want 2000", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for size() > 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d recipients still tracked 10 s after their last send", size())
		}
		time.Sleep(50 * time.Millisecond)
		if err := l.Wait(ctx, "n1", "next"); err != nil { // a send prunes
			t.Fatal(err)
		}
	}
}

// A wait given up (its context ended) gives its send back: the recipient's
// next message is not pushed further out by a send that never happened.
func TestLimiterGivesBackAnAbandonedWait(t *testing.T) {
	l := NewLimiter(1000, 1, time.Hour)
	ctx := context.Background()
	if err := l.Wait(ctx, "n1", "ayse"); err != nil {
		t.Fatal(err)
	}
	full := func() time.Time { l.mu.Lock(); defer l.mu.Unlock(); return l.recipients["n1/ayse"] }
	before := full()
	short, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if err := l.Wait(short, "n1", "ayse"); err == nil {
		t.Fatal("a wait whose context ends must fail")
	}
	if after := full(); !after.Equal(before) {
		t.Fatalf("after an abandoned wait the bucket is full at %s, want %s as before it", after, before)
	}
}
