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

// Queue validates outbound messages and writes them to the outbox of the
// conversation inside tx, each with its send job, so that they commit (or
// not) with the turn that produced them. Text over WhatsApp's 4096
// characters is split at paragraph or sentence boundaries into several
// messages. The recipient is the conversation's contact; To and Recipient
// of the messages are filled from it.
func Queue(ctx context.Context, tx store.Queries, conv store.Conversation, contact store.Contact, msgs []whatsapp.Outbound) ([]store.Message, error) {
	var out []store.Message
	for _, m := range expand(msgs) {
		m.To, m.Recipient = contact.WaID, ""
		if m.To == "" {
			m.Recipient = contact.UserID
		}
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("queueing a %s message: %w", m.Content.Type(), err)
		}
		body, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("encoding a %s message: %w", m.Content.Type(), err)
		}
		stored, err := tx.InsertMessage(ctx, store.Message{
			ConversationID: conv.ID, Direction: store.Outbound, Type: kindOf(m.Content),
			Body: whatsapp.Summary(m.Content), Payload: body, Status: store.StatusQueued,
		})
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
