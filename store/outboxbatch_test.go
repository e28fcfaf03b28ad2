package store_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/yanit/yanit/store"
)

func TestStatusOutcomes(t *testing.T) {
	t.Parallel()
	st := func(wamid, status string) store.StatusUpdate {
		return store.StatusUpdate{ChannelMessageID: wamid, Status: status}
	}
	us := []store.StatusUpdate{
		st("a", store.StatusDelivered), // 0
		st("b", store.StatusSent),      // 1
		st("a", store.StatusRead),      // 2: a's winner
		st("", store.StatusRead),       // 3: no channel id
		st("b", store.StatusSent),      // 4: a tie: b's winner stays 1
		st("c", store.StatusFailed),    // 5: c's winner
		st("c", store.StatusRead),      // 6
		st("d", store.StatusRead),      // 7: d's winner, no message has it
		st("e", "played"),              // 8: e's winner, of no rank
	}
	if got, want := store.StatusWinners(us), []int{2, 1, 5, 7, 8}; !slices.Equal(got, want) {
		t.Errorf("StatusWinners = %v, want %v", got, want)
	}
	// a and c took their winners; b's message had its status already.
	applied := map[string]bool{"a": true, "c": true}
	known := map[string]bool{"a": true, "b": true, "c": true, "e": true}
	U, S, A := store.StatusUnknown, store.StatusStale, store.StatusApplied
	want := []store.StatusOutcome{S, S, A, U, S, A, S, U, S}
	if got := store.StatusOutcomes(us, applied, known); !slices.Equal(got, want) {
		t.Errorf("StatusOutcomes = %v, want %v", got, want)
	}
	if got := store.StatusOutcomes(nil, nil, nil); len(got) != 0 {
		t.Errorf("StatusOutcomes of none = %v", got)
	}
}

func TestCheckOutboxBatches(t *testing.T) {
	t.Parallel()
	out := store.Message{Direction: store.Outbound, Status: store.StatusQueued}
	for _, tc := range []struct {
		name    string
		err     error
		wantErr string // "" when valid
	}{
		{"outbound", store.CheckOutbound([]store.Message{out, {Direction: store.Outbound}}), ""},
		{"none", store.CheckOutbound(nil), ""},
		{"inbound", store.CheckOutbound([]store.Message{out, {Direction: store.Inbound}}), `message 2: direction "in"`},
		{"channel id", store.CheckOutbound([]store.Message{{Direction: store.Outbound, ChannelMessageID: "wamid.1"}}), "wamid.1"},
		{"sent", store.CheckOutbound([]store.Message{{Direction: store.Outbound, Status: store.StatusSent}}), `status "sent"`},
		{"too many", store.CheckOutbound(make([]store.Message, store.MaxOutboxBatch+1)), "1001 messages: at most 1000"},
		{"full", store.CheckOutboxBatch(store.MaxOutboxBatch, "sends"), ""},
		{"recipients", store.CheckRecipientMessages([]store.RecipientMessage{{ContactID: 1, MessageID: 2}, {ContactID: 2, MessageID: 3}}), ""},
		{"no contact", store.CheckRecipientMessages([]store.RecipientMessage{{MessageID: 2}}), "no contact"},
		{"no message", store.CheckRecipientMessages([]store.RecipientMessage{{ContactID: 1}}), "no message"},
		{"contact twice", store.CheckRecipientMessages([]store.RecipientMessage{{ContactID: 1, MessageID: 2}, {ContactID: 1, MessageID: 3}}), "contact 1 repeats"},
		{"message twice", store.CheckRecipientMessages([]store.RecipientMessage{{ContactID: 1, MessageID: 2}, {ContactID: 3, MessageID: 2}}), "message 2 repeats"},
	} {
		switch {
		case tc.wantErr == "" && tc.err != nil:
			t.Errorf("%s: %v, want nil", tc.name, tc.err)
		case tc.wantErr != "" && (tc.err == nil || !strings.Contains(tc.err.Error(), tc.wantErr)):
			t.Errorf("%s: %v, want an error saying %q", tc.name, tc.err, tc.wantErr)
		}
	}
}
