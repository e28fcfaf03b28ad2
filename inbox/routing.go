package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/yanit/yanit/store"
)

// Rule routes handoffs to a team with a priority: the first rule whose
// reason and intent match (an empty one matches any) decides; a rule
// without a team keeps the team the assistant chose.
type Rule struct {
	Reason   string
	Intent   string
	Team     string
	Priority int
}

// Route returns the team and priority of a handoff for reason and intent
// that the assistant gave to team.
func Route(rules []Rule, reason, intent, team string) (string, int) {
	for _, r := range rules {
		if (r.Reason == "" || r.Reason == reason) && (r.Intent == "" || r.Intent == intent) {
			if r.Team != "" {
				team = r.Team
			}
			return team, r.Priority
		}
	}
	return team, 0
}

// ReasonReopened is the reason of a ticket reopened because the user wrote
// again soon after its resolution.
const ReasonReopened = "reopened"

// Reopen gives the conversation back to the agent who resolved its last
// ticket when that was less than within ago (now): it opens a ticket in tx
// with the old one's team and context, assigned to the same agent, and
// switches the conversation to human mode. It reports the ticket, or false
// when there is nothing to reopen (no resolved ticket that recent, an
// agent since disabled: the bot answers then).
func Reopen(ctx context.Context, tx store.Queries, conv store.Conversation, within time.Duration, now time.Time) (store.Ticket, bool, error) {
	if within <= 0 {
		return store.Ticket{}, false, nil
	}
	last, err := tx.ListTickets(ctx, store.TicketFilter{ConversationID: conv.ID, NewestFirst: true, Limit: 1})
	if err != nil || len(last) == 0 {
		return store.Ticket{}, false, err
	}
	old := last[0]
	if old.Status != store.TicketResolved || old.AssigneeID == 0 || now.Sub(old.ClosedAt) >= within {
		return store.Ticket{}, false, nil
	}
	agent, err := tx.GetUser(ctx, old.AssigneeID)
	if errors.Is(err, store.ErrNotFound) || err == nil && agent.Disabled {
		return store.Ticket{}, false, nil
	}
	if err != nil {
		return store.Ticket{}, false, err
	}
	t, created, err := tx.OpenTicket(ctx, store.Ticket{ConversationID: conv.ID, ContactID: conv.ContactID, Team: old.Team,
		Priority: old.Priority, Reason: ReasonReopened, Pack: old.Pack})
	if err != nil || !created {
		return t, false, err
	}
	if t, err = tx.ClaimTicket(ctx, t.ID, agent.ID, now); err != nil {
		return t, false, err
	}
	data, _ := json.Marshal(map[string]any{"reopens": old.ID, "assignee": agent.Login})
	if _, err := tx.AddTicketEvent(ctx, store.TicketEvent{TicketID: t.ID, Kind: KindTicketCreated, Data: data}); err != nil {
		return t, false, err
	}
	if err := tx.SetConversationState(ctx, conv.ID, store.ModeHuman, conv.State); err != nil {
		return t, false, fmt.Errorf("reopening ticket %d: %w", old.ID, err)
	}
	return t, true, nil
}
