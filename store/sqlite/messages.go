package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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

// messageStatuses are the statuses that store.StatusRank orders; any other
// status ranks lowest.
var messageStatuses = []string{
	store.StatusReceived, store.StatusQueued, store.StatusSent,
	store.StatusDelivered, store.StatusRead, store.StatusFailed,
}

// statusesAtOrAbove returns the statuses of messageStatuses ranking at or
// above status: the ones a message keeps when status arrives.
func statusesAtOrAbove(status string) []string {
	rank := store.StatusRank(status)
	var out []string
	for _, s := range messageStatuses {
		if store.StatusRank(s) >= rank {
			out = append(out, s)
		}
	}
	return out
}

func scanMessage(r scanner) (store.Message, error) {
	var m store.Message
	err := r.Scan(&m.ID, &m.ConversationID, &m.Direction, &m.ChannelMessageID, &m.Type, &m.Body,
		jsonColumn{&m.Payload}, &m.Status, &m.ErrorCode, &m.ErrorText, timeColumn{&m.SentAt},
		timeColumn{&m.ProcessedAt}, timeColumn{&m.CreatedAt}, timeColumn{&m.UpdatedAt})
	return m, err
}

// InsertMessage stores a message; a nil payload is the empty object. A
// message whose ChannelMessageID is already stored returns ErrDuplicate and
// changes nothing; inside a transaction, the transaction goes on.
func (q queries) InsertMessage(ctx context.Context, m store.Message) (store.Message, error) {
	out, err := scanMessage(q.db.QueryRowContext(ctx, sqlInsertMessage,
		sql.Named("conversation_id", m.ConversationID), sql.Named("direction", m.Direction),
		sql.Named("channel_message_id", m.ChannelMessageID), sql.Named("type", m.Type),
		sql.Named("body", m.Body), sql.Named("payload", jsonText(m.Payload, "{}")),
		sql.Named("status", m.Status), sql.Named("error_code", m.ErrorCode),
		sql.Named("error_text", m.ErrorText), sql.Named("sent_at", unixMicro(m.SentAt)),
		sql.Named("processed_at", unixMicro(m.ProcessedAt)), sql.Named("now", unixMicro(now()))))
	if errors.Is(err, sql.ErrNoRows) {
		// ON CONFLICT DO NOTHING returned no row: the channel id is taken.
		return store.Message{}, fmt.Errorf("inserting message %s: %w", m.ChannelMessageID, store.ErrDuplicate)
	}
	if err != nil {
		return store.Message{}, fmt.Errorf("inserting message: %w", interpretError(err))
	}
	return out, nil
}

// GetMessage returns the message with the id.
func (q queries) GetMessage(ctx context.Context, id int64) (store.Message, error) {
	m, err := scanMessage(q.db.QueryRowContext(ctx, sqlGetMessage, sql.Named("id", id)))
	if err != nil {
		return store.Message{}, fmt.Errorf("getting message %d: %w", id, interpretError(err))
	}
	return m, nil
}

// ListMessages returns the messages of the conversation in the order they
// were stored.
func (q queries) ListMessages(ctx context.Context, conversationID int64) ([]store.Message, error) {
	rows, err := q.db.QueryContext(ctx, sqlListMessages, sql.Named("conversation_id", conversationID))
	ms, err := collect(rows, err, scanMessage)
	if err != nil {
		return nil, fmt.Errorf("listing messages of conversation %d: %w", conversationID, interpretError(err))
	}
	return ms, nil
}

// PendingInbound returns the inbound messages of the conversation that no
// turn has processed, in arrival order.
func (q queries) PendingInbound(ctx context.Context, conversationID int64) ([]store.Message, error) {
	rows, err := q.db.QueryContext(ctx, sqlPendingInbound, sql.Named("conversation_id", conversationID))
	ms, err := collect(rows, err, scanMessage)
	if err != nil {
		return nil, fmt.Errorf("listing pending messages of conversation %d: %w", conversationID, interpretError(err))
	}
	return ms, nil
}

// MarkProcessed records that a turn consumed the messages at the time, or
// now when it is zero. A message processed before keeps its first time.
func (q queries) MarkProcessed(ctx context.Context, ids []int64, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	if at.IsZero() {
		at = now()
	}
	_, err := q.db.ExecContext(ctx, sqlMarkProcessed, sql.Named("ids", jsonArray(ids)),
		sql.Named("at", unixMicro(at)), sql.Named("now", unixMicro(now())))
	if err != nil {
		return fmt.Errorf("marking %d messages processed: %w", len(ids), interpretError(err))
	}
	return nil
}

// UpdateMessageStatus applies the status to the message with the channel id
// unless the message has a status of equal or higher store.StatusRank. A
// failed status records the error code and text. It reports whether the
// status changed; ErrNotFound when no message has the channel id.
func (q queries) UpdateMessageStatus(ctx context.Context, channelMessageID, status string, errCode int, errText string) (bool, error) {
	changed, err := q.updateMessageStatus(ctx, channelMessageID, status, errCode, errText)
	if err != nil {
		return false, fmt.Errorf("updating status of message %q to %q: %w", channelMessageID, status, interpretError(err))
	}
	return changed, nil
}

func (q queries) updateMessageStatus(ctx context.Context, channelMessageID, status string, errCode int, errText string) (bool, error) {
	if channelMessageID == "" {
		return false, store.ErrNotFound // messages without a channel id are not addressable
	}
	if store.StatusRank(status) > 0 {
		if status != store.StatusFailed {
			// A failed message never changes again, so this erases no
			// recorded error.
			errCode, errText = 0, ""
		}
		// One conditional UPDATE: concurrent status webhooks for one message
		// cannot interleave between a read and a write.
		n, err := rowsAffected(q.db.ExecContext(ctx, sqlUpdateMessageStatus,
			sql.Named("channel_message_id", channelMessageID), sql.Named("status", status),
			sql.Named("error_code", errCode), sql.Named("error_text", errText),
			sql.Named("not_lower", jsonArray(statusesAtOrAbove(status))), sql.Named("now", unixMicro(now()))))
		if err != nil || n > 0 {
			return n > 0, err
		}
	}
	// Nothing changed: tell a message that keeps its status from a missing one.
	var exists bool
	if err := q.db.QueryRowContext(ctx, sqlChannelMessageExists,
		sql.Named("channel_message_id", channelMessageID)).Scan(&exists); err != nil {
		return false, err
	}
	if !exists {
		return false, store.ErrNotFound
	}
	return false, nil
}

// RecordSend records that the channel accepted the outbound message id under
// channelMessageID at at (now when zero), and moves its status to sent unless
// it ranks at or above sent already: a status webhook may have come first.
// Recording the same channel id again changes nothing. ErrNotFound when no
// outbound message has the id; ErrConflict when the message has another
// channel id, or another message has this one.
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
	if at.IsZero() {
		at = now()
	}
	// One conditional UPDATE, which only a message without a channel id
	// passes: two senders of one message cannot both record theirs.
	n, err := rowsAffected(q.db.ExecContext(ctx, sqlRecordSend, sql.Named("id", id),
		sql.Named("channel_message_id", channelMessageID), sql.Named("sent_at", unixMicro(at)),
		sql.Named("not_lower", jsonArray(statusesAtOrAbove(store.StatusSent))),
		sql.Named("now", unixMicro(now()))))
	if err != nil || n > 0 {
		return err
	}
	// Unchanged: tell a repeat from a conflict and a missing message.
	var recorded string
	if err := q.db.QueryRowContext(ctx, sqlOutboundChannelMessageID, sql.Named("id", id)).Scan(&recorded); err != nil {
		return err // sql.ErrNoRows: no outbound message has the id
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
	n, err := rowsAffected(q.db.ExecContext(ctx, sqlFailOutbound, sql.Named("id", id),
		sql.Named("error_code", errCode), sql.Named("error_text", errText), sql.Named("now", unixMicro(now()))))
	if err == nil && n == 0 {
		// Unchanged: the message failed before, or is missing.
		var recorded string
		err = q.db.QueryRowContext(ctx, sqlOutboundChannelMessageID, sql.Named("id", id)).Scan(&recorded)
	}
	if err != nil {
		return fmt.Errorf("failing message %d: %w", id, interpretError(err))
	}
	return nil
}
