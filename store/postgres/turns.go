package postgres

import (
	"context"
	"fmt"

	"github.com/yanit/yanit/store"
)

var (
	sqlInsertTurn = query("InsertTurn")
	sqlListTurns  = query("ListTurns")

	sqlListRecentTurns = query("ListRecentTurns")
)

func scanTurn(r scanner) (store.Turn, error) {
	var t store.Turn
	err := r.Scan(&t.ID, &t.ConversationID, &t.InboundIDs, &t.OutboundIDs, &t.Intent, &t.Confidence,
		&t.Decision, &t.Reason, jsonColumn(&t.Trace), &t.LatencyMS, timeColumn{&t.CreatedAt})
	t.InboundIDs, t.OutboundIDs = nilIfEmpty(t.InboundIDs), nilIfEmpty(t.OutboundIDs)
	return t, err
}

// InsertTurn stores the trace of one assistant step; a nil Trace is {}.
func (q queries) InsertTurn(ctx context.Context, t store.Turn) (store.Turn, error) {
	out, err := scanTurn(q.db.QueryRow(ctx, sqlInsertTurn, args{
		"conversation_id": t.ConversationID, "inbound_ids": int64s(t.InboundIDs),
		"outbound_ids": int64s(t.OutboundIDs), "intent": t.Intent, "confidence": t.Confidence,
		"decision": t.Decision, "reason": t.Reason, "trace": jsonObject(t.Trace), "latency_ms": t.LatencyMS,
	}))
	if err != nil {
		return store.Turn{}, fmt.Errorf("inserting turn: %w", interpretError(err))
	}
	return out, nil
}

// ListTurns returns the turns of the conversation in the order they were
// stored.
func (q queries) ListTurns(ctx context.Context, conversationID int64) ([]store.Turn, error) {
	rows, err := q.db.Query(ctx, sqlListTurns, args{"conversation_id": conversationID})
	ts, err := collect(rows, err, scanTurn)
	if err != nil {
		return nil, fmt.Errorf("listing turns of conversation %d: %w", conversationID, interpretError(err))
	}
	return ts, nil
}

// ListRecentTurns returns the turns passing f, newest first, with their
// input.
func (q queries) ListRecentTurns(ctx context.Context, f store.TurnFilter) ([]store.Turn, error) {
	limit, err := f.CheckLimit()
	var ts []store.Turn
	if err == nil {
		rows, qerr := q.db.Query(ctx, sqlListRecentTurns, args{"since": f.Since, "decisions": texts(f.Decisions), "lim": limit})
		ts, err = collect(rows, qerr, func(r scanner) (store.Turn, error) {
			var t store.Turn
			err := r.Scan(&t.ID, &t.ConversationID, &t.InboundIDs, &t.OutboundIDs, &t.Intent, &t.Confidence,
				&t.Decision, &t.Reason, jsonColumn(&t.Trace), &t.LatencyMS, timeColumn{&t.CreatedAt}, &t.Input)
			t.InboundIDs, t.OutboundIDs = nilIfEmpty(t.InboundIDs), nilIfEmpty(t.OutboundIDs)
			return t, err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("listing recent turns: %w", interpretError(err))
	}
	return ts, nil
}
