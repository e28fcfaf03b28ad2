package sealed_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/sealed"
)

// TestRotateUnderLiveTraffic is step 3 of the key rotation while the
// instances, already sealing with the new key (step 2), keep receiving
// and sending: messages are written through a store sealing with k2 while
// Rotate re-seals the rows of k1 and the plain ones, batch by batch. Then
// every message, old and new, reads back as written with k2 alone (step
// 4), none is missing, none is sealed twice, Rotate changed the old ones
// only, and a second run changes nothing.
func TestRotateUnderLiveTraffic(t *testing.T) {
	eachStore(t, func(t *testing.T, raw store.Store) {
		ctx := t.Context()
		k1 := ring(t, "k1:"+keyA)
		k21 := ring(t, "k2:"+keyB+",k1:"+keyA)
		k2only := ring(t, "k2:"+keyB)
		conv := conversation(t, raw)

		// What each message holds in plain text, by id.
		want := map[int64]store.Message{}
		before := sealed.Wrap(raw, k1)
		toChange := 0
		for i := range 120 {
			var m store.Message
			switch {
			case i%10 == 0: // nothing to seal
				m = must[store.Message](t)(before.InsertMessage(ctx, store.Message{ConversationID: conv,
					Direction: store.Outbound, Type: "image", Status: store.StatusQueued}))
			case i%7 == 0: // written before encryption was turned on
				m = must[store.Message](t)(raw.InsertMessage(ctx, textMessage(conv, store.Inbound,
					fmt.Sprintf("wamid.old.%d", i), fmt.Sprintf("düz metin %d, TC 10000000146", i))))
				toChange++
			default:
				m = must[store.Message](t)(before.InsertMessage(ctx, textMessage(conv, store.Inbound,
					fmt.Sprintf("wamid.k1.%d", i), fmt.Sprintf("eski anahtarla %d, IBAN TR330006100519786457841326", i))))
				toChange++
			}
			want[m.ID] = m
		}

		// The live instance: inbound messages one by one, outbound ones in
		// pairs as the outbox writes them, while the rotation runs. It
		// writes in the rotation's transactions as well as between them,
		// a few times per batch: more would keep Rotate, which ends on a
		// short batch, chasing new rows with a batch of 10.
		live := sealed.Wrap(raw, k21)
		stop := make(chan struct{})
		permits := make(chan struct{}, 1000)
		wrote := make(chan struct{}, 1)
		liveDone := make(chan struct{})
		var (
			written []store.Message
			liveErr error
			wg      sync.WaitGroup
		)
		allow := func(k int) {
			for range k {
				select {
				case permits <- struct{}{}:
				default:
				}
			}
		}
		allow(3)
		wg.Go(func() {
			defer close(liveDone)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-permits:
				}
				var ms []store.Message
				var err error
				if i%2 == 0 {
					var m store.Message
					m, err = live.InsertMessage(ctx, textMessage(conv, store.Inbound, fmt.Sprintf("wamid.live.%d", i),
						fmt.Sprintf("canlı mesaj %d, kart 4111 1111 1111 1111", i)))
					ms = []store.Message{m}
				} else {
					ms, err = live.InsertOutbound(ctx, []store.Message{
						textMessage(conv, store.Outbound, "", fmt.Sprintf("yanıt %d: siparişiniz yolda", i)),
						{ConversationID: conv, Direction: store.Outbound, Type: "image", Status: store.StatusQueued},
					})
				}
				if err != nil {
					liveErr = fmt.Errorf("writing live message %d: %w", i, err)
					return
				}
				written = append(written, ms...)
				select {
				case wrote <- struct{}{}:
				default:
				}
			}
		})
		stopLive := sync.OnceFunc(func() { close(stop); wg.Wait() })
		defer stopLive()

		// Between two batches the live instance writes at least once, so
		// that the rotation and the traffic interleave on every run.
		batches := 0
		n, err := sealed.Rotate(ctx, raw, k21, 10, func(int) {
			batches++
			allow(3)
			select {
			case <-wrote:
			case <-liveDone:
			case <-time.After(30 * time.Second):
				t.Errorf("no live message written for 30 s after the rotation's batch %d", batches)
			}
		})
		stopLive()
		if liveErr != nil {
			t.Fatal(liveErr)
		}
		if err != nil {
			t.Fatalf("Rotate under traffic: %v", err)
		}
		if n != toChange {
			t.Errorf("Rotate changed %d messages, want the %d old ones with content, and none written live", n, toChange)
		}
		if batches < 12 || len(written) < batches {
			t.Errorf("Rotate ran %d batches with %d live messages written, want 12 batches at least and a write between two",
				batches, len(written))
		}
		for _, m := range written {
			if _, dup := want[m.ID]; dup {
				t.Fatalf("live message %d has the id of another", m.ID)
			}
			want[m.ID] = m
		}

		// Every row is sealed under k2, or holds nothing, and reads back as
		// written with k2 alone: a value sealed twice would read back
		// sealed.
		rows := must[[]store.Message](t)(raw.ListMessages(ctx, conv))
		if len(rows) != len(want) {
			t.Errorf("the conversation holds %d messages, want the %d old and live ones", len(rows), len(want))
		}
		for _, r := range rows {
			w, ok := want[r.ID]
			switch {
			case !ok:
				t.Errorf("message %d was not written by the test", r.ID)
			case w.Body == "" && emptyContent(w.Payload):
				if r.Body != "" || !emptyContent(r.Payload) {
					t.Errorf("message %d without content is stored as %.30q %.30s", r.ID, r.Body, r.Payload)
				}
			default:
				checkSealed(t, r, "k2", w)
			}
		}
		got := must[[]store.Message](t)(sealed.Wrap(raw, k2only).ListMessages(ctx, conv))
		seen := map[int64]bool{}
		for _, m := range got {
			w := want[m.ID]
			seen[m.ID] = true
			if privacy.Sealed(m.Body) || m.Body != w.Body || !jsonEqual(m.Payload, nonEmpty(w.Payload)) {
				t.Errorf("message %d reads back with k2 as %.40q %.60s, want %q %s", m.ID, m.Body, m.Payload, w.Body, w.Payload)
			}
		}
		for id := range want {
			if !seen[id] {
				t.Errorf("message %d is missing after the rotation", id)
			}
		}

		if n, err := sealed.Rotate(ctx, raw, k2only, 0, nil); err != nil || n != 0 {
			t.Errorf("a second Rotate = %d, %v; want 0 changed", n, err)
		}
	})
}

// emptyContent reports whether a stored payload holds nothing.
func emptyContent(p json.RawMessage) bool {
	t := bytes.TrimSpace(p)
	return len(t) == 0 || string(t) == "{}" || string(t) == "null"
}

// nonEmpty is the payload as the store reads it back: {} for none.
func nonEmpty(p json.RawMessage) json.RawMessage {
	if emptyContent(p) {
		return json.RawMessage(`{}`)
	}
	return p
}
