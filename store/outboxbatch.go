package store

import "fmt"

// The checks and the rules the stores share to implement Outbox and
// MarkRecipientsQueued, so that both refuse and decide the same way.

// CheckOutboxBatch reports a batch of n items, called what ("messages"),
// too big for one Outbox call.
func CheckOutboxBatch(n int, what string) error {
	if n > MaxOutboxBatch {
		return fmt.Errorf("%d %s: at most %d at once", n, what, MaxOutboxBatch)
	}
	return nil
}

// CheckOutbound reports what makes InsertOutbound refuse ms: more than
// MaxOutboxBatch messages, or the first message that is not outbound, has
// a channel id or a status other than queued (an empty status is queued).
func CheckOutbound(ms []Message) error {
	if err := CheckOutboxBatch(len(ms), "messages"); err != nil {
		return err
	}
	for i, m := range ms {
		switch {
		case m.Direction != Outbound:
			return fmt.Errorf("message %d: direction %q, want %q: only outbound messages go to the outbox", i+1, m.Direction, Outbound)
		case m.ChannelMessageID != "":
			return fmt.Errorf("message %d: it has the channel id %q; an outbox message gets one when it is sent", i+1, m.ChannelMessageID)
		case m.Status != "" && m.Status != StatusQueued:
			return fmt.Errorf("message %d: status %q, want %s", i+1, m.Status, StatusQueued)
		}
	}
	return nil
}

// CheckRecipientMessages reports what makes MarkRecipientsQueued refuse rs:
// more than MaxOutboxBatch of them, or the first with no contact or no
// message, or whose contact or message an earlier one has.
func CheckRecipientMessages(rs []RecipientMessage) error {
	if err := CheckOutboxBatch(len(rs), "recipients"); err != nil {
		return err
	}
	contacts := make(map[int64]bool, len(rs))
	messages := make(map[int64]bool, len(rs))
	for i, r := range rs {
		switch {
		case r.ContactID <= 0:
			return fmt.Errorf("recipient %d: no contact", i+1)
		case r.MessageID <= 0:
			return fmt.Errorf("recipient %d (contact %d): no message", i+1, r.ContactID)
		case contacts[r.ContactID]:
			return fmt.Errorf("recipient %d: contact %d repeats", i+1, r.ContactID)
		case messages[r.MessageID]:
			return fmt.Errorf("recipient %d (contact %d): message %d repeats", i+1, r.ContactID, r.MessageID)
		}
		contacts[r.ContactID], messages[r.MessageID] = true, true
	}
	return nil
}

// StatusWinners returns, for each channel id of us but the empty one, the
// index in us of the status UpdateMessageStatuses applies to its message:
// the highest-ranked (StatusRank) of the channel id's statuses, the first
// of them on a tie. The indexes come in the order their channel ids first
// appear in us.
func StatusWinners(us []StatusUpdate) []int {
	at := make(map[string]int, len(us)) // channel id → its place in winners
	var winners []int
	for i, u := range us {
		if u.ChannelMessageID == "" {
			continue
		}
		w, ok := at[u.ChannelMessageID]
		switch {
		case !ok:
			at[u.ChannelMessageID] = len(winners)
			winners = append(winners, i)
		case StatusRank(u.Status) > StatusRank(us[winners[w]].Status):
			winners[w] = i
		}
	}
	return winners
}

// StatusOutcomes returns the outcome of each status of us, given the
// channel ids whose message took the status of their winner (StatusWinners)
// and those a message has: StatusUnknown for a channel id no message has
// (and the empty one), StatusApplied for the winner of a message that took
// it, StatusStale for every other status.
func StatusOutcomes(us []StatusUpdate, applied, known map[string]bool) []StatusOutcome {
	won := make(map[int]bool, len(us))
	for _, i := range StatusWinners(us) {
		won[i] = true
	}
	out := make([]StatusOutcome, len(us))
	for i, u := range us {
		switch id := u.ChannelMessageID; {
		case id == "" || !known[id]:
			out[i] = StatusUnknown
		case applied[id] && won[i]:
			out[i] = StatusApplied
		default:
			out[i] = StatusStale
		}
	}
	return out
}
