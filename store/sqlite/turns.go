package sqlite

import (
	"context"
	"database/sql"
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
	err := r.Scan(&t.ID, &t.ConversationID, idsColumn{&t.InboundIDs}, idsColumn{&t.OutboundIDs},
		&t.Intent, &t.Confidence, &t.Decision, &t.Reason, jsonColumn{&t.Trace}, &t.LatencyMS,
		timeColumn{&t.CreatedAt})
	return t, err
}

// InsertTurn stores the trace of one assistant step; a nil trace is the
// empty object.
func (q queries) InsertTurn(ctx context.Context, t store.Turn) (store.Turn, error) {
	out, err := scanTurn(q.db.QueryRowContext(ctx, sqlInsertTurn,
		sql.Named("conversation_id", t.ConversationID), sql.Named("inbound_ids", jsonArray(t.InboundIDs)),
		sql.Named("outbound_ids", jsonArray(t.OutboundIDs)), sql.Named("intent", t.Intent),
		sql.Named("confidence", t.Confidence), sql.Named("decision", t.Decision),
		sql.Named("reason", t.Reason), sql.Named("trace", jsonText(t.Trace, "{}")),
		sql.Named("latency_ms", t.LatencyMS), sql.Named("now", unixMicro(now()))))
	if err != nil {
		return store.Turn{}, fmt.Errorf("inserting turn: %w", interpretError(err))
	}
	return out, nil
}

// ListTurns returns the turns of the conversation in the order they were
// stored.
func (q queries) ListTurns(ctx context.Context, conversationID int64) ([]store.Turn, error) {
	rows, err := q.db.QueryContext(ctx, sqlListTurns, sql.Named("conversation_id", conversationID))
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
		rows, qerr := q.db.QueryContext(ctx, sqlListRecentTurns, sql.Named("since", unixMicro(f.Since)),
			sql.Named("decisions", jsonArray(f.Decisions)), sql.Named("lim", limit))
		ts, err = collect(rows, qerr, func(r scanner) (store.Turn, error) {
			var t store.Turn
			err := r.Scan(&t.ID, &t.ConversationID, idsColumn{&t.InboundIDs}, idsColumn{&t.OutboundIDs},
				&t.Intent, &t.Confidence, &t.Decision, &t.Reason, jsonColumn{&t.Trace}, &t.LatencyMS,
				timeColumn{&t.CreatedAt}, &t.Input)
			return t, err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("listing recent turns: %w", interpretError(err))
	}
	return ts, nil
}
