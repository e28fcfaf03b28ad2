package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/yanit/yanit/store"
)

var (
	sqlInsertMessage            = query("InsertMessage")
	sqlGetMessage               = query("GetMessage")
	sqlListMessages             = query("ListMessages")
	sqlPendingInbound           = query("PendingInbound")
	sqlMarkProcessed            = query("MarkProcessed")
	sqlUpdateMessageStatus      = query("UpdateMessageStatus")
	sqlChannelMessageExists     = query("ChannelMessageExists")
	sqlRecordSend               = query("RecordSend")
	sqlFailOutbound             = query("FailOutbound")
	sqlOutboundChannelMessageID = query("OutboundChannelMessageID")
)

// rankedStatuses returns the message statuses with their store.StatusRank,
// as the two parallel arrays UpdateMessageStatus hands to SQL, so that the
// ranks are defined once, in Go. Any other status ranks 0.
func rankedStatuses() (statuses []string, ranks []int32) {
	statuses = []string{
		store.StatusReceived, store.StatusQueued, store.StatusSent,
		store.StatusDelivered, store.StatusRead, store.StatusFailed,
	}
	ranks = make([]int32, len(statuses))
	for i, s := range statuses {
		ranks[i] = int32(store.StatusRank(s))
	}
	return statuses, ranks
}

func scanMessage(r scanner) (store.Message, error) {
	var m store.Message
	err := r.Scan(&m.ID, &m.ConversationID, &m.Direction, &m.ChannelMessageID, &m.Type, &m.Body,
		jsonColumn(&m.Payload), &m.Status, &m.ErrorCode, &m.ErrorText, timeColumn{&m.SentAt},
		timeColumn{&m.ProcessedAt}, timeColumn{&m.CreatedAt}, timeColumn{&m.UpdatedAt})
	return m, err
}

// InsertMessage stores a message; a nil payload is the empty object. A
// message whose ChannelMessageID is already stored returns ErrDuplicate and
// changes nothing; inside a transaction, the transaction goes on.
func (q queries) InsertMessage(ctx context.Context, m store.Message) (store.Message, error) {
	out, err := scanMessage(q.db.QueryRow(ctx, sqlInsertMessage, args{
		"conversation_id": m.ConversationID, "direction": m.Direction,
		"channel_message_id": m.ChannelMessageID, "type": m.Type, "body": m.Body,
		"payload": jsonObject(m.Payload), "status": m.Status,
		"error_code": m.ErrorCode, "error_text": m.ErrorText,
		"sent_at": nullTime(m.SentAt), "processed_at": nullTime(m.ProcessedAt),
	}))
	if errors.Is(err, pgx.ErrNoRows) {
		// ON CONFLICT DO NOTHING returned no row: the channel id is taken.
		return store.Message{}, fmt.Errorf("inserting message %s: %w", m.ChannelMessageID, store.ErrDuplicate)
	}
	if err != nil {
		return store.Message{}, fmt.Errorf("inserting message: %w", interpretError(err))
	}
	return out, nil
}

// GetMessage returns the message with the id; ErrNotFound when there is
// none.
func (q queries) GetMessage(ctx context.Context, id int64) (store.Message, error) {
	m, err := scanMessage(q.db.QueryRow(ctx, sqlGetMessage, args{"id": id}))
	if err != nil {
		return store.Message{}, fmt.Errorf("getting message %d: %w", id, interpretError(err))
	}
	return m, nil
}

// ListMessages returns the messages of the conversation in the order they
// were stored.
func (q queries) ListMessages(ctx context.Context, conversationID int64) ([]store.Message, error) {
	rows, err := q.db.Query(ctx, sqlListMessages, args{"conversation_id": conversationID})
	ms, err := collect(rows, err, scanMessage)
	if err != nil {
		return nil, fmt.Errorf("listing messages of conversation %d: %w", conversationID, interpretError(err))
	}
	return ms, nil
}

// PendingInbound returns the inbound messages of the conversation that no
// turn has processed, in arrival order.
func (q queries) PendingInbound(ctx context.Context, conversationID int64) ([]store.Message, error) {
	rows, err := q.db.Query(ctx, sqlPendingInbound, args{"conversation_id": conversationID})
	ms, err := collect(rows, err, scanMessage)
	if err != nil {
		return nil, fmt.Errorf("listing pending inbound messages of conversation %d: %w",
			conversationID, interpretError(err))
	}
	return ms, nil
}

// MarkProcessed records that a turn consumed the messages at at (now when
// at is zero). A message keeps the time it was first processed; unknown ids
// are ignored.
func (q queries) MarkProcessed(ctx context.Context, ids []int64, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := q.db.Exec(ctx, sqlMarkProcessed, args{"ids": ids, "processed_at": nullTime(at)}); err != nil {
		return fmt.Errorf("marking %d messages processed: %w", len(ids), interpretError(err))
	}
	return nil
}

// UpdateMessageStatus applies the status to the message with the channel
// id unless the message has a status of equal or higher store.StatusRank, in
// one conditional UPDATE, so that racing status webhooks never downgrade a
// message. An error code or text, when given, is recorded. It reports
// whether the message changed; ErrNotFound when no message has the id.
func (q queries) UpdateMessageStatus(ctx context.Context, channelMessageID, status string, errCode int, errText string) (bool, error) {
	statuses, ranks := rankedStatuses()
	tag, err := q.db.Exec(ctx, sqlUpdateMessageStatus, args{
		"channel_message_id": channelMessageID, "status": status, "rank": store.StatusRank(status),
		"ranked_statuses": statuses, "ranks": ranks, "error_code": errCode, "error_text": errText,
	})
	if err == nil && tag.RowsAffected() == 0 {
		// Unchanged: the message has an equal or higher status, or is missing.
		var exists bool
		err = q.db.QueryRow(ctx, sqlChannelMessageExists, args{"channel_message_id": channelMessageID}).Scan(&exists)
		if err == nil && !exists {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return false, fmt.Errorf("updating status of message %s to %s: %w", channelMessageID, status, interpretError(err))
	}
	return tag.RowsAffected() > 0, nil
}

// RecordSend records that the channel accepted the outbound message id under
// channelMessageID at at (now when zero), and moves its status to sent unless
// it ranks at or above sent already: a status webhook may have come first.
// It is one conditional UPDATE, which only a message without a channel id
// passes, so that two senders of one message cannot both record theirs.
// Recording the same channel id again changes nothing. ErrNotFound when no
// outbound message has the id; ErrConflict when the message has another
// channel id, or another message has this one (the unique index).
func (q queries) RecordSend(ctx context.Context, id int64, channelMessageID string, at time.Time) error {
	if err := q.recordSend(ctx, id, channelMessageID, at); err != nil {
		return fmt.Errorf("recording send of message %d as %q: %w", id, channelMessageID, interpretError(err))
	}
	return nil
}

func (q queries) recordSend(ctx context.Context, id int64, channelMessageID string, at time.Time) error {
	if channelMessageID == "" {
		return errors.New("the channel message id is empty")
	}
	statuses, ranks := rankedStatuses()
	tag, err := q.db.Exec(ctx, sqlRecordSend, args{
		"id": id, "channel_message_id": channelMessageID, "sent_at": nullTime(at),
		"ranked_statuses": statuses, "ranks": ranks, "rank": store.StatusRank(store.StatusSent),
	})
	if err != nil || tag.RowsAffected() > 0 {
		return err
	}
	// Unchanged: tell a repeat from a conflict and a missing message.
	var recorded string
	if err := q.db.QueryRow(ctx, sqlOutboundChannelMessageID, args{"id": id}).Scan(&recorded); err != nil {
		return err // pgx.ErrNoRows: no outbound message has the id
	}
	if recorded != channelMessageID {
		return fmt.Errorf("%w: the message was sent as %q", store.ErrConflict, recorded)
	}
	return nil
}

// FailOutbound marks the outbound message id failed with the channel's error
// code and reason. A failed message keeps its first error. ErrNotFound when
// no outbound message has the id.
func (q queries) FailOutbound(ctx context.Context, id int64, errCode int, errText string) error {
	tag, err := q.db.Exec(ctx, sqlFailOutbound, args{"id": id, "error_code": errCode, "error_text": errText})
	if err == nil && tag.RowsAffected() == 0 {
		// Unchanged: the message failed before, or is missing.
		var recorded string
		err = q.db.QueryRow(ctx, sqlOutboundChannelMessageID, args{"id": id}).Scan(&recorded)
	}
	if err != nil {
		return fmt.Errorf("failing message %d: %w", id, interpretError(err))
	}
	return nil
}
