package assistant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/yanit/yanit/channel"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/inbox"
	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
)

// Input is what a responder sees of one turn.
type Input struct {
	Conversation store.Conversation
	Contact      store.Contact
	// Pending are the inbound messages this turn answers, oldest first;
	// never empty.
	Pending []store.Message
	// Transcript loads the conversation's messages, for a handoff's
	// context pack; nil when there is no store (tests, yanit chat).
	Transcript func(ctx context.Context) ([]store.Message, error)
	// Consents are the contact's current consent records, one per
	// purpose at most (store.CurrentConsents).
	Consents []store.Consent
	// Campaign names the campaign whose message the contact got in this
	// conversation within the 24 hours before the turn
	// (store.CampaignOfReply), when there is one: the user is answering
	// it. The engine records it in the trace and the handoff pack.
	Campaign string
}

// Reply is a responder's answer to one turn and why.
type Reply struct {
	Messages   []whatsapp.Outbound
	Intent     string
	Confidence float64
	Decision   string
	Reason     string
	// State replaces the conversation's state when not nil.
	State json.RawMessage
	// Handoff, when set, gives the conversation to a person with this
	// context pack: the conversation switches to human mode.
	Handoff *Handoff
	// Trace is the stage-by-stage record stored with the turn.
	Trace json.RawMessage
	// Consents are consent records the turn stores, with its audit
	// entries (given, refused, informed, opted out or in).
	Consents []store.Consent
	// Withhold, in strict consent mode without consent, keeps nothing of
	// the turn but its consent records and its messages: no trace, no
	// state, and the user's messages are cleared.
	Withhold bool
}

// Responder decides the answer of a turn.
type Responder interface {
	Respond(ctx context.Context, in Input) (Reply, error)
}

// Pipeline runs turns: it is the handler of channel.KindTurn jobs. A turn
// consumes the conversation's pending inbound messages and, in one
// transaction, records its trace, queues its replies in the outbox and marks
// the messages processed, so that a turn retried after a crash finds nothing
// pending and sends nothing twice.
type Pipeline struct {
	store     store.Store
	graph     channel.Graph
	responder Responder
	log       *slog.Logger
	wake      func()
	events    inbox.Bus
	opened    func(ctx context.Context, tx store.Queries, t store.Ticket) error
	routing   []inbox.Rule
	reopen    time.Duration
}

// PipelineOptions configure a Pipeline.
type PipelineOptions struct {
	Logger *slog.Logger
	// Wake is called after a turn queued messages (the job runner's Notify).
	Wake func()
	// Events, when set, tells the agents live of new tickets and of the
	// messages users write while a person owns the conversation.
	Events inbox.Bus
	// TicketOpened, when set, runs in the turn's transaction after a
	// handoff opened a ticket (the inbox schedules its notices there).
	TicketOpened func(ctx context.Context, tx store.Queries, t store.Ticket) error
	// Routing decides the team and priority of a handoff's ticket
	// (inbox.Route); none keeps the assistant's team.
	Routing []inbox.Rule
	// ReopenWithin, when positive, gives a user who writes again this soon
	// after their ticket was resolved back to the same agent
	// (inbox.Reopen) instead of the bot.
	ReopenWithin time.Duration
}

// NewPipeline returns a pipeline answering with responder; graph marks
// messages read and shows typing.
func NewPipeline(st store.Store, graph channel.Graph, responder Responder, o PipelineOptions) *Pipeline {
	p := &Pipeline{store: st, graph: graph, responder: responder, log: o.Logger, wake: o.Wake, events: o.Events, opened: o.TicketOpened,
		routing: o.Routing, reopen: o.ReopenWithin}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.wake == nil {
		p.wake = func() {}
	}
	return p
}

// Handle runs the turn a job names.
func (p *Pipeline) Handle(ctx context.Context, j jobs.Job) error {
	var payload channel.TurnPayload
	if err := json.Unmarshal(j.Payload, &payload); err != nil || payload.ConversationID == 0 {
		return jobs.Cancel(fmt.Errorf("turn job %d names no conversation: %s", j.ID, j.Payload))
	}
	start := time.Now()
	conv, err := p.store.GetConversation(ctx, payload.ConversationID)
	if errors.Is(err, store.ErrNotFound) {
		return jobs.Cancel(err)
	}
	if err != nil {
		return err
	}
	pending, err := p.store.PendingInbound(ctx, conv.ID)
	if err != nil || len(pending) == 0 {
		return err // nothing pending: an earlier turn consumed it
	}
	contact, err := p.store.GetContact(ctx, conv.ContactID)
	if err != nil {
		return err
	}
	consents, err := p.store.CurrentConsents(ctx, contact.ID)
	if err != nil {
		return err
	}
	in := Input{Conversation: conv, Contact: contact, Pending: pending, Consents: consents, Transcript: func(ctx context.Context) ([]store.Message, error) {
		return p.store.ListMessages(ctx, conv.ID)
	}}
	if c, err := p.store.CampaignOfReply(ctx, conv.ID, time.Now()); err == nil {
		in.Campaign = c.Name
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}

	if conv.Mode == store.ModeBot && p.reopen > 0 {
		if err := p.reopenTicket(ctx, &in); err != nil {
			return err
		}
		conv = in.Conversation
	}
	var reply Reply
	if conv.Mode == store.ModeHuman {
		reply = Reply{Decision: DecisionSilent, Reason: "a human agent owns the conversation"}
	} else {
		// Mark read (with typing) while the responder works: the reply
		// never waits for the round trip to Meta.
		read := make(chan struct{})
		go func() {
			defer close(read)
			p.markRead(ctx, conv, pending[len(pending)-1])
		}()
		reply, err = p.respondOrRate(ctx, in)
		<-read
		if err != nil {
			return fmt.Errorf("responding to conversation %d: %w", conv.ID, err)
		}
	}
	return p.commit(ctx, in, reply, start)
}

// reopenTicket gives the conversation back to the agent who resolved it
// moments ago (inbox.Reopen); the turn then goes to that person, not the
// bot.
func (p *Pipeline) reopenTicket(ctx context.Context, in *Input) error {
	if _, _, rating := inbox.ParseCSAT(replyIDOf(in.Pending[len(in.Pending)-1])); rating {
		return nil // rating the resolved ticket reopens nothing
	}
	var t store.Ticket
	reopened := false
	err := p.store.InTx(ctx, func(tx store.Queries) error {
		var err error
		t, reopened, err = inbox.Reopen(ctx, tx, in.Conversation, p.reopen, time.Now())
		return err
	})
	if err != nil {
		return fmt.Errorf("reopening the ticket of conversation %d: %w", in.Conversation.ID, err)
	}
	if reopened {
		in.Conversation.Mode = store.ModeHuman
		if p.events != nil {
			inbox.PublishTicket(ctx, p.events, p.log, t, inbox.KindTicketAssigned, map[string]any{"reopened": true}, time.Now())
		}
	}
	return nil
}

// respondOrRate records the rating a user gave a resolved ticket by its
// button (inbox.CSATQuestion) and thanks them; anything else goes to the
// responder, a forged or stale rating id too.
func (p *Pipeline) respondOrRate(ctx context.Context, in Input) (Reply, error) {
	last := in.Pending[len(in.Pending)-1]
	ticket, score, ok := inbox.ParseCSAT(replyIDOf(last))
	if !ok || len(in.Pending) > 1 {
		return p.responder.Respond(ctx, in)
	}
	var thanks string
	err := p.store.InTx(ctx, func(tx store.Queries) error {
		var err error
		thanks, err = inbox.RecordCSAT(ctx, tx, in.Conversation.ID, ticket, score)
		return err
	})
	if errors.Is(err, inbox.ErrInvalid) || errors.Is(err, store.ErrNotFound) {
		p.log.Warn("inbox: a rating that rates nothing", slog.Int64("conversation", in.Conversation.ID), slog.String("error", err.Error()))
		return p.responder.Respond(ctx, in)
	}
	if err != nil {
		return Reply{}, err
	}
	return Reply{Messages: []whatsapp.Outbound{{Content: &whatsapp.Text{Body: thanks}}}, Intent: "csat", Confidence: 1,
		Decision: DecisionAnswer, Reason: fmt.Sprintf("rating %d of ticket %d", score, ticket)}, nil
}

// markRead marks the newest message read and shows typing while the turn
// runs; it only costs the user a missing indicator when it fails.
func (p *Pipeline) markRead(ctx context.Context, conv store.Conversation, m store.Message) {
	if m.ChannelMessageID == "" || m.Type == channel.TypePreference {
		return // no WhatsApp message to mark
	}
	mctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := p.graph.MarkRead(mctx, conv.PhoneNumberID, m.ChannelMessageID, true); err != nil {
		p.log.Warn("marking a message read", slog.String("wamid", m.ChannelMessageID), slog.String("error", err.Error()))
	}
}

func (p *Pipeline) commit(ctx context.Context, in Input, reply Reply, start time.Time) error {
	inIDs := make([]int64, len(in.Pending))
	for i, m := range in.Pending {
		inIDs[i] = m.ID
	}
	trace := reply.Trace
	if len(trace) == 0 {
		trace = json.RawMessage(`{}`)
	}
	var ticket store.Ticket
	opened := false
	if reply.Withhold {
		// Strict consent mode without consent: nothing of what the user
		// wrote is processed or kept, only the consent records.
		reply.State, reply.Handoff = nil, nil
	}
	err := p.store.InTx(ctx, func(tx store.Queries) error {
		for _, c := range reply.Consents {
			if _, err := privacy.RecordConsent(ctx, tx, c, privacy.Actor{}); err != nil {
				return err
			}
		}
		if reply.Handoff != nil {
			// The ticket commits with the turn: a handoff is never lost
			// between the bot going silent and the queue.
			team, priority := inbox.Route(p.routing, reply.Handoff.Reason, reply.Intent, reply.Handoff.Team)
			reply.Handoff.Team = team
			pack, err := json.Marshal(reply.Handoff)
			if err != nil {
				return err
			}
			ticket, opened, err = tx.OpenTicket(ctx, store.Ticket{ConversationID: in.Conversation.ID, ContactID: in.Contact.ID,
				Team: team, Priority: priority, Reason: reply.Handoff.Reason, Pack: pack})
			if err != nil {
				return err
			}
			if opened {
				data, _ := json.Marshal(map[string]string{"reason": reply.Handoff.Reason, "detail": reply.Handoff.Detail})
				if _, err := tx.AddTicketEvent(ctx, store.TicketEvent{TicketID: ticket.ID, Kind: inbox.KindTicketCreated, Data: data}); err != nil {
					return err
				}
				if p.opened != nil {
					if err := p.opened(ctx, tx, ticket); err != nil {
						return err
					}
				}
			}
		}
		if reply.State != nil || reply.Handoff != nil {
			mode, state := in.Conversation.Mode, reply.State
			if reply.Handoff != nil {
				mode = store.ModeHuman
			}
			if state == nil {
				state = in.Conversation.State
			}
			if err := tx.SetConversationState(ctx, in.Conversation.ID, mode, state); err != nil {
				return err
			}
		}
		out, err := channel.Queue(ctx, tx, in.Conversation, in.Contact, reply.Messages)
		if err != nil {
			return err
		}
		if reply.Withhold {
			for _, m := range in.Pending {
				if err := tx.SetMessageContent(ctx, m.ID, "", json.RawMessage(`{}`)); err != nil {
					return err
				}
			}
			return tx.MarkProcessed(ctx, inIDs, time.Now())
		}
		outIDs := make([]int64, len(out))
		for i, m := range out {
			outIDs[i] = m.ID
		}
		if _, err := tx.InsertTurn(ctx, store.Turn{
			ConversationID: in.Conversation.ID, InboundIDs: inIDs, OutboundIDs: outIDs,
			Intent: reply.Intent, Confidence: reply.Confidence, Decision: reply.Decision, Reason: reply.Reason,
			Trace: trace, LatencyMS: float64(time.Since(start).Microseconds()) / 1000,
		}); err != nil {
			return err
		}
		return tx.MarkProcessed(ctx, inIDs, time.Now())
	})
	if err != nil {
		return fmt.Errorf("committing the turn of conversation %d: %w", in.Conversation.ID, err)
	}
	if len(reply.Messages) > 0 {
		p.wake()
	}
	p.tellAgents(ctx, in, reply, ticket, opened)
	return nil
}

// tellAgents publishes, after the turn committed, a ticket the turn
// opened, or the user's messages to the person who owns the conversation.
func (p *Pipeline) tellAgents(ctx context.Context, in Input, reply Reply, ticket store.Ticket, opened bool) {
	if p.events == nil {
		return
	}
	now := time.Now()
	if opened {
		inbox.PublishTicket(ctx, p.events, p.log, ticket, inbox.KindTicketCreated,
			map[string]any{"reason": reply.Handoff.Reason, "summary": reply.Handoff.Summary}, now)
		return
	}
	if in.Conversation.Mode != store.ModeHuman {
		return
	}
	t, err := p.store.OpenTicketOf(ctx, in.Conversation.ID)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			p.log.Warn("inbox: finding the ticket of a message", slog.Int64("conversation", in.Conversation.ID), slog.String("error", err.Error()))
		}
		return
	}
	for _, m := range in.Pending {
		inbox.PublishTicket(ctx, p.events, p.log, t, inbox.KindMessage,
			map[string]any{"direction": store.Inbound, "message_id": m.ID, "type": m.Type, "preview": inbox.Preview(m.Body)}, now)
	}
}

// Router answers each business number with its own responder: one
// deployment serves several numbers, each with its assistant.
type Router map[string]Responder

// Routes reports whether the router answers the business number.
func (r Router) Routes(phoneNumberID string) bool { _, ok := r[phoneNumberID]; return ok }

// Respond hands the turn to the responder of the conversation's number.
func (r Router) Respond(ctx context.Context, in Input) (Reply, error) {
	resp, ok := r[in.Conversation.PhoneNumberID]
	if !ok {
		return Reply{Decision: DecisionSilent, Reason: "no assistant answers number " + in.Conversation.PhoneNumberID}, nil
	}
	return resp.Respond(ctx, in)
}
