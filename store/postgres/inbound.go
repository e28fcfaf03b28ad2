package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/yanit/yanit/store"
)

var sqlAcceptInbound = query("AcceptInbound")

// AcceptInbound stores an inbound message with its contact, conversation
// and turn job. The common case (a known contact writing into an open
// conversation) is one statement, so one round trip and atomic on its own;
// the first message of a contact or of a conversation takes the general
// path in a transaction.
func (q queries) AcceptInbound(ctx context.Context, p store.InboundParams) (store.Message, error) {
	if p.Contact.WaID != "" && p.Message.Direction == store.Inbound && p.Message.ChannelMessageID != "" {
		var contactID, convID, msgID, jobID *int64
		var created time.Time
		err := q.db.QueryRow(ctx, sqlAcceptInbound, args{
			"wa_id": p.Contact.WaID, "user_id": p.Contact.UserID, "name": p.Contact.Name,
			"locale": p.Contact.Locale, "seen": nullTime(p.Contact.Seen),
			"phone_number_id": p.PhoneNumberID, "channel_message_id": p.Message.ChannelMessageID,
			"type": p.Message.Type, "body": p.Message.Body, "payload": jsonObject(p.Message.Payload),
			"status": p.Message.Status, "sent_at": nullTime(p.Message.SentAt),
			"turn_kind": p.TurnKind, "lock_space": jobKeyLockSpace, "max_attempts": defaultMaxAttempts,
		}).Scan(&contactID, &convID, &msgID, timeColumn{&created}, &jobID)
		if err != nil {
			return store.Message{}, fmt.Errorf("accepting inbound message %s: %w", p.Message.ChannelMessageID, interpretError(err))
		}
		switch {
		case contactID != nil && convID != nil && msgID == nil:
			return store.Message{}, fmt.Errorf("accepting inbound message %s: %w", p.Message.ChannelMessageID, store.ErrDuplicate)
		case msgID != nil:
			m := p.Message
			m.ID, m.ConversationID, m.CreatedAt, m.UpdatedAt = *msgID, *convID, created, created
			return m, nil
		}
	}
	var m store.Message
	err := q.atomically(ctx, func(q queries) error {
		var err error
		m, err = store.AcceptInbound(ctx, q, p)
		return err
	})
	if err != nil {
		return store.Message{}, fmt.Errorf("accepting inbound message: %w", err)
	}
	return m, nil
}
