package privacy

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/yanit/yanit/store"
)

// Export is everything yanit holds about one contact, the answer to a data
// access request (KVKK article 11, GDPR article 15).
type Export struct {
	ExportedAt    time.Time            `json:"exported_at"`
	Contact       ExportContact        `json:"contact"`
	Consents      []ExportConsent      `json:"consents"`
	Conversations []ExportConversation `json:"conversations"`
	Tickets       []ExportTicket       `json:"tickets"`
}

// ExportContact is the contact's profile.
type ExportContact struct {
	ID              int64             `json:"id"`
	WaID            string            `json:"wa_id,omitempty"`
	UserID          string            `json:"user_id,omitempty"`
	Name            string            `json:"name,omitempty"`
	Locale          string            `json:"locale,omitempty"`
	Tags            []string          `json:"tags,omitempty"`
	Attributes      map[string]string `json:"attributes,omitempty"`
	MarketingOptOut bool              `json:"marketing_opt_out"`
	LastInboundAt   time.Time         `json:"last_inbound_at,omitzero"`
	CreatedAt       time.Time         `json:"created_at"`
}

// ExportConsent is one consent record.
type ExportConsent struct {
	Purpose       string    `json:"purpose"`
	Granted       bool      `json:"granted"`
	Source        string    `json:"source"`
	PolicyVersion string    `json:"policy_version,omitempty"`
	At            time.Time `json:"at"`
}

// ExportConversation is one conversation with its messages and what the
// assistant understood and decided at each turn.
type ExportConversation struct {
	ID            int64           `json:"id"`
	PhoneNumberID string          `json:"business_number"`
	Status        string          `json:"status"`
	CreatedAt     time.Time       `json:"created_at"`
	Messages      []ExportMessage `json:"messages"`
	Turns         []ExportTurn    `json:"turns"`
}

// ExportMessage is one message, as the contact or the business wrote it.
type ExportMessage struct {
	Direction string          `json:"direction"`
	Type      string          `json:"type"`
	Body      string          `json:"body,omitempty"`
	Payload   json.RawMessage `json:"payload,omitempty"`
	Status    string          `json:"status"`
	At        time.Time       `json:"at"`
}

// ExportTurn is one turn's understanding and decision.
type ExportTurn struct {
	Intent     string          `json:"intent,omitempty"`
	Confidence float64         `json:"confidence"`
	Decision   string          `json:"decision"`
	Reason     string          `json:"reason,omitempty"`
	Trace      json.RawMessage `json:"trace,omitempty"`
	At         time.Time       `json:"at"`
}

// ExportTicket is one handoff to a person and its history.
type ExportTicket struct {
	ID        int64           `json:"id"`
	Status    string          `json:"status"`
	Team      string          `json:"team,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	Pack      json.RawMessage `json:"context_pack,omitempty"`
	CSAT      int             `json:"csat,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	Events    []ExportEvent   `json:"events"`
}

// ExportEvent is one entry of a ticket's history.
type ExportEvent struct {
	Kind string          `json:"kind"`
	Data json.RawMessage `json:"data,omitempty"`
	At   time.Time       `json:"at"`
}

// ExportContactData gathers everything held about the contact and records
// the export in the audit log. ErrNotFound (wrapped) for an unknown
// contact.
func ExportContactData(ctx context.Context, st store.Store, contactID int64, actor Actor) (Export, error) {
	c, err := st.GetContact(ctx, contactID)
	if err != nil {
		return Export{}, fmt.Errorf("exporting contact %d: %w", contactID, err)
	}
	x := Export{ExportedAt: time.Now().UTC(), Contact: ExportContact{ID: c.ID, WaID: c.WaID, UserID: c.UserID, Name: c.Name,
		Locale: c.Locale, Tags: c.Tags, Attributes: c.Attributes, MarketingOptOut: c.MarketingOptOut,
		LastInboundAt: c.LastInboundAt, CreatedAt: c.CreatedAt},
		Consents: []ExportConsent{}, Conversations: []ExportConversation{}, Tickets: []ExportTicket{}}
	consents, err := st.ListConsents(ctx, contactID)
	if err != nil {
		return Export{}, err
	}
	for _, k := range consents {
		x.Consents = append(x.Consents, ExportConsent{Purpose: k.Purpose, Granted: k.Granted, Source: k.Source, PolicyVersion: k.PolicyVersion, At: k.At})
	}
	convs, err := st.ListConversations(ctx, store.ConversationFilter{ContactID: contactID, Limit: 500})
	if err != nil {
		return Export{}, err
	}
	for _, conv := range convs {
		xc := ExportConversation{ID: conv.ID, PhoneNumberID: conv.PhoneNumberID, Status: conv.Status, CreatedAt: conv.CreatedAt,
			Messages: []ExportMessage{}, Turns: []ExportTurn{}}
		msgs, err := st.ListMessages(ctx, conv.ID)
		if err != nil {
			return Export{}, err
		}
		for _, m := range msgs {
			xc.Messages = append(xc.Messages, ExportMessage{Direction: m.Direction, Type: m.Type, Body: m.Body,
				Payload: emptyJSON(m.Payload), Status: m.Status, At: m.CreatedAt})
		}
		turns, err := st.ListTurns(ctx, conv.ID)
		if err != nil {
			return Export{}, err
		}
		for _, t := range turns {
			xc.Turns = append(xc.Turns, ExportTurn{Intent: t.Intent, Confidence: t.Confidence, Decision: t.Decision,
				Reason: t.Reason, Trace: emptyJSON(t.Trace), At: t.CreatedAt})
		}
		x.Conversations = append(x.Conversations, xc)
	}
	tickets, err := st.ListTickets(ctx, store.TicketFilter{ContactID: contactID, NewestFirst: true, Limit: 1000})
	if err != nil {
		return Export{}, err
	}
	for _, t := range tickets {
		xt := ExportTicket{ID: t.ID, Status: t.Status, Team: t.Team, Reason: t.Reason, Pack: emptyJSON(t.Pack), CSAT: t.CSAT,
			CreatedAt: t.CreatedAt, Events: []ExportEvent{}}
		events, err := st.ListTicketEvents(ctx, t.ID)
		if err != nil {
			return Export{}, err
		}
		for _, e := range events {
			xt.Events = append(xt.Events, ExportEvent{Kind: e.Kind, Data: emptyJSON(e.Data), At: e.CreatedAt})
		}
		x.Tickets = append(x.Tickets, xt)
	}
	detail, _ := json.Marshal(map[string]int{"conversations": len(x.Conversations), "tickets": len(x.Tickets), "consents": len(x.Consents)})
	if _, err := st.AppendAudit(ctx, store.AuditEntry{Actor: actor.Name, ActorID: actor.UserID, Address: actor.Address,
		Action: "contact.exported", Target: ContactTarget(contactID), Detail: detail}); err != nil {
		return Export{}, fmt.Errorf("auditing the export of contact %d: %w", contactID, err)
	}
	return x, nil
}

// emptyJSON drops an empty object: a cleared record has nothing to show.
func emptyJSON(b json.RawMessage) json.RawMessage {
	if s := string(b); s == "" || s == "{}" || s == "null" {
		return nil
	}
	return b
}

// Erase removes the contact and everything personal held about them, with
// an audit entry of who asked and what was removed, both or neither.
// ErrNotFound (wrapped) for an unknown contact.
func Erase(ctx context.Context, st store.Store, contactID int64, actor Actor) (store.Erasure, error) {
	var gone store.Erasure
	err := st.InTx(ctx, func(tx store.Queries) error {
		var err error
		if gone, err = tx.EraseContact(ctx, contactID); err != nil {
			return err
		}
		detail, _ := json.Marshal(gone)
		_, err = tx.AppendAudit(ctx, store.AuditEntry{Actor: actor.Name, ActorID: actor.UserID, Address: actor.Address,
			Action: "contact.erased", Target: ContactTarget(contactID), Detail: detail})
		return err
	})
	if err != nil {
		return store.Erasure{}, fmt.Errorf("erasing contact %d: %w", contactID, err)
	}
	return gone, nil
}

// RetentionPolicy is how long one assistant keeps its conversations'
// records: its business numbers and its days.
type RetentionPolicy struct {
	Assistant      string
	PhoneNumberIDs []string
	Days           int
}

// Retainer enforces the retention policies: transcripts, traces and media
// references older than a policy's days are cleared, the rows analytics
// count are kept.
type Retainer struct {
	Store    store.Store
	Policies []RetentionPolicy
	Log      *slog.Logger
	Now      func() time.Time
}

// Expire applies every policy once and records what it cleared in the audit
// log; it returns the totals.
func (r Retainer) Expire(ctx context.Context) (store.Retention, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	var total store.Retention
	for _, p := range r.Policies {
		if p.Days <= 0 || len(p.PhoneNumberIDs) == 0 {
			continue
		}
		before := now().Add(-time.Duration(p.Days) * 24 * time.Hour)
		var got store.Retention
		err := r.Store.InTx(ctx, func(tx store.Queries) error {
			var err error
			if got, err = tx.Expire(ctx, store.RetentionParams{PhoneNumberIDs: p.PhoneNumberIDs, Before: before}); err != nil {
				return err
			}
			if got == (store.Retention{}) {
				return nil
			}
			detail, _ := json.Marshal(map[string]any{"assistant": p.Assistant, "days": p.Days, "before": before.UTC(), "cleared": got})
			_, err = tx.AppendAudit(ctx, store.AuditEntry{Actor: ActorSystem.Name, Action: "retention.expired",
				Target: "assistant:" + p.Assistant, Detail: detail})
			return err
		})
		if err != nil {
			return total, fmt.Errorf("retention of assistant %s: %w", p.Assistant, err)
		}
		total.Messages += got.Messages
		total.Turns += got.Turns
		total.Tickets += got.Tickets
		total.Conversations += got.Conversations
	}
	return total, nil
}

// Run applies the policies every interval until ctx ends. Every instance
// may run it: clearing is idempotent.
func (r Retainer) Run(ctx context.Context, every time.Duration) {
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		got, err := r.Expire(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("privacy: retention", slog.String("error", err.Error()))
		case got != (store.Retention{}):
			log.Info("privacy: retention cleared old records", slog.Int("messages", got.Messages), slog.Int("turns", got.Turns), slog.Int("tickets", got.Tickets), slog.Int("conversations", got.Conversations))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
