package store

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/yanit/yanit/jobs"
)

// TurnKey is the job key of a conversation's turns: they run one at a time,
// in arrival order.
func TurnKey(conversationID int64) string { return "conv:" + strconv.FormatInt(conversationID, 10) }

// TurnPayload is the payload of a turn job.
type TurnPayload struct {
	ConversationID int64 `json:"conversation_id"`
}

// InboundParams describe the write of one inbound message, the most
// frequent write of all: one per webhook message.
type InboundParams struct {
	Contact       ContactUpsert
	PhoneNumberID string
	// Message is stored in the contact's open conversation on the number
	// (its ConversationID is filled in).
	Message Message
	// TurnKind, when set, enqueues a job of that kind with the key
	// TurnKey(conversation) and a TurnPayload.
	TurnKind string
}

// AcceptInbound is AcceptInbound for stores without a faster way: the
// contact, the conversation, the message and the turn job with q's
// operations. Call it inside a transaction.
func AcceptInbound(ctx context.Context, q Queries, p InboundParams) (Message, error) {
	contact, err := q.UpsertContact(ctx, p.Contact)
	if err != nil {
		return Message{}, err
	}
	conv, err := q.OpenConversation(ctx, contact.ID, p.PhoneNumberID)
	if err != nil {
		return Message{}, err
	}
	p.Message.ConversationID = conv.ID
	m, err := q.InsertMessage(ctx, p.Message)
	if err != nil || p.TurnKind == "" {
		return m, err
	}
	payload, _ := json.Marshal(TurnPayload{ConversationID: conv.ID})
	_, err = q.Enqueue(ctx, jobs.EnqueueParams{Kind: p.TurnKind, Key: TurnKey(conv.ID), Payload: payload})
	return m, err
}
