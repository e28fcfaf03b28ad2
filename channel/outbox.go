package channel

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/jobs"
	"github.com/yanit/yanit/store"
)

// KindSend is the job kind that delivers one outbox message; its key keeps a
// conversation's outbound messages in order.
const KindSend = "send"

// SendKey is the job key of the conversation's outbound messages.
func SendKey(conversationID int64) string { return "out:" + strconv.FormatInt(conversationID, 10) }

// SendPayload is the payload of a send job.
type SendPayload struct {
	MessageID int64 `json:"message_id"`
}

// KindSendBatch is the job kind that delivers a batch of bulk messages
// (QueueBulk), each to another conversation.
const KindSendBatch = "send_batch"

// SendBatchPayload is the payload of a send batch job.
type SendBatchPayload struct {
	MessageIDs []int64 `json:"message_ids"`
}

// SendBatchSize is how many bulk messages one send batch job carries, and
// SendWave how many of them are sent at once (the sends one crash can
// repeat, per job running).
const (
	SendBatchSize = 100
	SendWave      = 20
)

// Bulk is one message of a bulk send: its conversation, the contact it
// goes to, and the message.
type Bulk struct {
	Conversation store.Conversation
	Contact      store.Contact
	Message      whatsapp.Outbound
}

// QueueBulk writes one message to each of many conversations inside tx,
// with one send batch job per SendBatchSize messages, in a constant number
// of statements per call: the outbox of a campaign's batch. The messages
// are validated first (a bad one is an error naming it, and nothing is
// queued); texts are not split, so a bulk text must fit WhatsApp's limit.
// Bulk messages are not ordered with the other outbound messages of their
// conversations: they are sent as soon as their batch's turn comes.
// It returns the stored messages in the order of items.
func QueueBulk(ctx context.Context, tx store.Queries, items []Bulk) ([]store.Message, error) {
	ms := make([]store.Message, len(items))
	for i, b := range items {
		m, err := outboxMessage(b.Conversation, b.Contact, b.Message)
		if err != nil {
			return nil, fmt.Errorf("contact %d: %w", b.Contact.ID, err)
		}
		ms[i] = m
	}
	stored, err := tx.InsertOutbound(ctx, ms)
	if err != nil {
		return nil, err
	}
	for start := 0; start < len(stored); start += SendBatchSize {
		chunk := stored[start:min(start+SendBatchSize, len(stored))]
		p := SendBatchPayload{MessageIDs: make([]int64, len(chunk))}
		for i, m := range chunk {
			p.MessageIDs[i] = m.ID
		}
		body, _ := json.Marshal(p)
		if _, err := tx.Enqueue(ctx, jobs.EnqueueParams{Kind: KindSendBatch, Payload: body}); err != nil {
			return nil, err
		}
	}
	return stored, nil
}

// Queue validates outbound messages and writes them to the outbox of the
// conversation inside tx, each with its send job, so that they commit (or
// not) with the turn that produced them. Text over WhatsApp's 4096
// characters is split at paragraph or sentence boundaries into several
// messages. The recipient is the conversation's contact; To and Recipient
// of the messages are filled from it.
func Queue(ctx context.Context, tx store.Queries, conv store.Conversation, contact store.Contact, msgs []whatsapp.Outbound) ([]store.Message, error) {
	var out []store.Message
	for _, m := range expand(msgs) {
		msg, err := outboxMessage(conv, contact, m)
		if err != nil {
			return nil, err
		}
		stored, err := tx.InsertMessage(ctx, msg)
		if err != nil {
			return nil, err
		}
		p, _ := json.Marshal(SendPayload{MessageID: stored.ID})
		if _, err := tx.Enqueue(ctx, jobs.EnqueueParams{Kind: KindSend, Key: SendKey(conv.ID), Payload: p}); err != nil {
			return nil, err
		}
		out = append(out, stored)
	}
	return out, nil
}

// outboxMessage is m addressed to the contact (To, or Recipient when the
// contact has only a user id), validated and encoded as the outbox of conv
// stores it, queued.
func outboxMessage(conv store.Conversation, contact store.Contact, m whatsapp.Outbound) (store.Message, error) {
	m.To, m.Recipient = contact.WaID, ""
	if m.To == "" {
		m.Recipient = contact.UserID
	}
	if err := m.Validate(); err != nil {
		return store.Message{}, fmt.Errorf("queueing a %s message: %w", m.Content.Type(), err)
	}
	body, err := json.Marshal(m)
	if err != nil {
		return store.Message{}, fmt.Errorf("encoding a %s message: %w", m.Content.Type(), err)
	}
	return store.Message{ConversationID: conv.ID, Direction: store.Outbound, Type: kindOf(m.Content),
		Body: whatsapp.Summary(m.Content), Payload: body, Status: store.StatusQueued}, nil
}

// expand splits long texts into messages WhatsApp accepts.
func expand(msgs []whatsapp.Outbound) []whatsapp.Outbound {
	var out []whatsapp.Outbound
	for _, m := range msgs {
		t, ok := m.Content.(*whatsapp.Text)
		if !ok || len([]rune(t.Body)) <= whatsapp.MaxTextLen {
			out = append(out, m)
			continue
		}
		for i, part := range whatsapp.SplitText(t.Body, whatsapp.MaxTextLen) {
			c := m
			c.Content = &whatsapp.Text{Body: part, PreviewURL: t.PreviewURL}
			if i > 0 {
				c.ReplyTo = "" // only the first part quotes the user's message
			}
			out = append(out, c)
		}
	}
	return out
}

// kindOf is the stored type of an outbound message: the request type, with
// the interactive kind.
func kindOf(c whatsapp.Content) string {
	switch c.(type) {
	case *whatsapp.Buttons:
		return "interactive.button"
	case *whatsapp.List:
		return "interactive.list"
	case *whatsapp.Media:
		return string(c.(*whatsapp.Media).Kind)
	}
	return c.Type()
}
