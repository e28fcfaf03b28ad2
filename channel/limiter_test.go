package channel

import (
	"context"
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
