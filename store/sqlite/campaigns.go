package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/yanit/yanit/store"
)

var (
	sqlInsertCampaign         = query("InsertCampaign")
	sqlGetCampaign            = query("GetCampaign")
	sqlGetCampaignByID        = query("GetCampaignByID")
	sqlListCampaigns          = query("ListCampaigns")
	sqlDeleteCampaign         = query("DeleteCampaign")
	sqlCampaignStatus         = query("CampaignStatus")
	sqlMoveCampaign           = query("MoveCampaign")
	sqlDueCampaigns           = query("DueCampaigns")
	sqlInsertRecipients       = query("InsertRecipients")
	sqlSetCampaignCursor      = query("SetCampaignCursor")
	sqlMarketingConsents      = query("MarketingConsents")
	sqlPendingRecipients      = query("PendingRecipients")
	sqlMarkRecipientQueued    = query("MarkRecipientQueued")
	sqlMarkRecipientsQueued   = query("MarkRecipientsQueued")
	sqlRecipientStatuses      = query("RecipientStatuses")
	sqlSkipRecipient          = query("SkipRecipient")
	sqlRecipientStatus        = query("RecipientStatus")
	sqlListCampaignRecipients = query("ListCampaignRecipients")
	sqlCampaignTally          = query("CampaignTally")
	sqlCampaignTallies        = query("CampaignTallies")
	sqlCampaignReplied        = query("CampaignReplied")
	sqlCampaignOptedOutAfter  = query("CampaignOptedOutAfter")
	sqlCampaignDuplicates     = query("CampaignDuplicates")
	sqlCampaignReach          = query("CampaignReach")
	sqlCampaignOfReply        = query("CampaignOfReply")
	sqlRecordDuplicateSend    = query("RecordDuplicateSend")
	sqlUnfinishedJobs         = query("UnfinishedJobs")
)

func scanCampaign(r scanner) (store.Campaign, error) {
	var c store.Campaign
	var params, filter json.RawMessage
	err := r.Scan(&c.ID, &c.Name, &c.PhoneNumberID, &c.Template, &c.Language, &c.Category, jsonColumn{&params},
		&c.Segment, jsonColumn{&filter}, &c.Status, timeColumn{&c.ScheduledAt}, &c.TimeZone, &c.CreatedBy,
		&c.Materialized, &c.Cursor, timeColumn{&c.StartedAt}, timeColumn{&c.FinishedAt},
		timeColumn{&c.CreatedAt}, timeColumn{&c.UpdatedAt})
	if err != nil {
		return c, err
	}
	if err := store.DecodeCampaignJSON(&c, params, filter); err != nil {
		return c, err
	}
	return c, nil
}

// prefixScanner scans the columns before those of a record that another
// scan function reads.
type prefixScanner struct {
	r   scanner
	pre []any
}

func (p prefixScanner) Scan(dest ...any) error { return p.r.Scan(append(p.pre, dest...)...) }

// CreateCampaign stores c as a draft, or scheduled when ScheduledAt is set.
func (q queries) CreateCampaign(ctx context.Context, c store.Campaign) (store.Campaign, error) {
	err := c.Validate()
	var params []byte
	if err == nil {
		params, err = store.EncodeCampaignParams(c.Params)
	}
	var out store.Campaign
	if err == nil {
		out, err = scanCampaign(q.db.QueryRowContext(ctx, sqlInsertCampaign,
			sql.Named("name", c.Name), sql.Named("phone_number_id", c.PhoneNumberID), sql.Named("template", c.Template),
			sql.Named("language", c.Language), sql.Named("category", c.Category), sql.Named("params", string(params)),
			sql.Named("segment", c.Segment), sql.Named("status", store.CreatedStatus(c)),
			sql.Named("scheduled_at", unixMicro(c.ScheduledAt)), sql.Named("time_zone", c.TimeZone),
			sql.Named("created_by", c.CreatedBy), sql.Named("now", unixMicro(now()))))
	}
	if err != nil {
		return store.Campaign{}, fmt.Errorf("creating campaign %q: %w", c.Name, interpretError(err))
	}
	return out, nil
}

// GetCampaign returns the campaign called name.
func (q queries) GetCampaign(ctx context.Context, name string) (store.Campaign, error) {
	c, err := scanCampaign(q.db.QueryRowContext(ctx, sqlGetCampaign, sql.Named("name", name)))
	if err != nil {
		return store.Campaign{}, fmt.Errorf("getting campaign %q: %w", name, interpretError(err))
	}
	return c, nil
}

// GetCampaignByID returns the campaign id.
func (q queries) GetCampaignByID(ctx context.Context, id int64) (store.Campaign, error) {
	c, err := scanCampaign(q.db.QueryRowContext(ctx, sqlGetCampaignByID, sql.Named("id", id)))
	if err != nil {
		return store.Campaign{}, fmt.Errorf("getting campaign %d: %w", id, interpretError(err))
	}
	return c, nil
}

// ListCampaigns returns every campaign, newest first.
func (q queries) ListCampaigns(ctx context.Context) ([]store.Campaign, error) {
	rows, err := q.db.QueryContext(ctx, sqlListCampaigns)
	cs, err := collect(rows, err, scanCampaign)
	if err != nil {
		return nil, fmt.Errorf("listing campaigns: %w", interpretError(err))
	}
	return cs, nil
}

// DeleteCampaign removes a campaign that never ran.
func (q queries) DeleteCampaign(ctx context.Context, id int64) error {
	err := q.atomically(ctx, func(q queries) error {
		var status string
		if err := q.db.QueryRowContext(ctx, sqlCampaignStatus, sql.Named("id", id)).Scan(&status); err != nil {
			return err
		}
		n, err := rowsAffected(q.db.ExecContext(ctx, sqlDeleteCampaign, sql.Named("id", id)))
		if err == nil && n == 0 {
			err = fmt.Errorf("%w: the campaign is %s; only a draft or scheduled campaign can be deleted", store.ErrConflict, status)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting campaign %d: %w", id, interpretError(err))
	}
	return nil
}

// MoveCampaign changes the campaign's status from from to to.
func (q queries) MoveCampaign(ctx context.Context, id int64, from, to string, at time.Time, m store.CampaignMove) (store.Campaign, error) {
	if !store.CanMoveCampaign(from, to) {
		return store.Campaign{}, fmt.Errorf("%w: campaign %d cannot go from %s to %s", store.ErrIllegalMove, id, from, to)
	}
	filter, err := json.Marshal(m.Filter.Normalized())
	var c store.Campaign
	if err == nil {
		c, err = scanCampaign(q.db.QueryRowContext(ctx, sqlMoveCampaign, sql.Named("id", id), sql.Named("from", from),
			sql.Named("to", to), sql.Named("at", unixMicro(at)), sql.Named("filter", string(filter)),
			sql.Named("scheduled_at", unixMicro(m.ScheduledAt)), sql.Named("time_zone", m.TimeZone)))
	}
	if err == nil {
		return c, nil
	}
	err = interpretError(err)
	if errors.Is(err, store.ErrNotFound) {
		var now string
		switch serr := q.db.QueryRowContext(ctx, sqlCampaignStatus, sql.Named("id", id)).Scan(&now); {
		case serr == nil:
			err = fmt.Errorf("%w: the campaign is %s, not %s", store.ErrConflict, now, from)
		default:
			err = interpretError(serr)
		}
	}
	return store.Campaign{}, fmt.Errorf("moving campaign %d from %s to %s: %w", id, from, to, err)
}

// DueCampaigns returns the scheduled campaigns due at now.
func (q queries) DueCampaigns(ctx context.Context, now time.Time) ([]store.Campaign, error) {
	rows, err := q.db.QueryContext(ctx, sqlDueCampaigns, sql.Named("now", now.UnixMicro()))
	cs, err := collect(rows, err, scanCampaign)
	if err != nil {
		return nil, fmt.Errorf("listing due campaigns: %w", interpretError(err))
	}
	return cs, nil
}

// AddCampaignRecipients inserts a batch of recipients and moves the
// campaign's cursor, in one transaction.
func (q queries) AddCampaignRecipients(ctx context.Context, id int64, rs []store.CampaignRecipient, cursor int64, done bool) (int, error) {
	if err := store.CheckRecipientBatch(rs); err != nil {
		return 0, fmt.Errorf("adding recipients to campaign %d: %w", id, err)
	}
	batch := make([][3]any, len(rs))
	for i, r := range rs {
		batch[i] = [3]any{r.ContactID, r.Status, r.SkipReason}
	}
	var n int64
	err := q.atomically(ctx, func(q queries) error {
		t := unixMicro(now())
		done01 := 0
		if done {
			done01 = 1
		}
		m, err := rowsAffected(q.db.ExecContext(ctx, sqlSetCampaignCursor, sql.Named("id", id),
			sql.Named("cursor", cursor), sql.Named("done", done01), sql.Named("now", t)))
		if err == nil && m == 0 {
			return store.ErrNotFound
		}
		if err != nil || len(rs) == 0 {
			return err
		}
		b, err := json.Marshal(batch)
		if err == nil {
			n, err = rowsAffected(q.db.ExecContext(ctx, sqlInsertRecipients, sql.Named("id", id),
				sql.Named("batch", string(b)), sql.Named("now", t)))
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("adding recipients to campaign %d: %w", id, interpretError(err))
	}
	return int(n), nil
}

// MarketingConsents returns the current marketing consent of those of
// the contacts ids that have one.
func (q queries) MarketingConsents(ctx context.Context, ids []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(ids))
	rows, err := q.db.QueryContext(ctx, sqlMarketingConsents, sql.Named("ids", jsonArray(ids)))
	_, err = collect(rows, err, func(r scanner) (struct{}, error) {
		var id int64
		var granted bool
		err := r.Scan(&id, &granted)
		out[id] = granted
		return struct{}{}, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading marketing consents: %w", interpretError(err))
	}
	return out, nil
}

// PendingRecipients returns the next pending recipients of the campaign.
func (q queries) PendingRecipients(ctx context.Context, id, afterContactID int64, limit int) ([]store.CampaignRecipient, error) {
	if err := store.CheckRecipientLimit(limit); err != nil {
		return nil, fmt.Errorf("listing pending recipients of campaign %d: %w", id, err)
	}
	rows, err := q.db.QueryContext(ctx, sqlPendingRecipients, sql.Named("id", id),
		sql.Named("after_id", afterContactID), sql.Named("limit", limit))
	rs, err := collect(rows, err, func(r scanner) (store.CampaignRecipient, error) {
		var rc store.CampaignRecipient
		c, err := scanContact(prefixScanner{r, []any{&rc.CampaignID, &rc.ContactID, timeColumn{&rc.CreatedAt}}})
		rc.Status, rc.Contact = store.RecipientPending, c
		return rc, err
	})
	if err != nil {
		return nil, fmt.Errorf("listing pending recipients of campaign %d: %w", id, interpretError(err))
	}
	return rs, nil
}

// settleRecipient runs the update of a pending recipient, stmt, and tells
// a recipient that is not pending from a missing one.
func (q queries) settleRecipient(ctx context.Context, id, contactID int64, stmt string, a ...any) error {
	return q.atomically(ctx, func(q queries) error {
		a = append(a, sql.Named("id", id), sql.Named("contact_id", contactID))
		n, err := rowsAffected(q.db.ExecContext(ctx, stmt, a...))
		if err != nil || n == 1 {
			return err
		}
		var was string
		if err := q.db.QueryRowContext(ctx, sqlRecipientStatus, sql.Named("id", id), sql.Named("contact_id", contactID)).Scan(&was); err != nil {
			return err
		}
		return fmt.Errorf("%w: the recipient is %s already", store.ErrConflict, was)
	})
}

// MarkRecipientQueued records the recipient's outbox message.
func (q queries) MarkRecipientQueued(ctx context.Context, id, contactID, messageID int64, at time.Time) error {
	err := q.settleRecipient(ctx, id, contactID, sqlMarkRecipientQueued,
		sql.Named("message_id", messageID), sql.Named("at", unixMicro(at)))
	if err != nil {
		return fmt.Errorf("queueing contact %d of campaign %d: %w", contactID, id, interpretError(err))
	}
	return nil
}

// MarkRecipientsQueued records the outbox messages of many recipients, in
// one transaction: it reads their statuses, and queues them all in one
// statement unless one is missing (ErrNotFound) or not pending
// (ErrConflict), naming the first such contact, in which case it changes
// nothing.
func (q queries) MarkRecipientsQueued(ctx context.Context, id int64, rs []store.RecipientMessage, at time.Time) error {
	if err := store.CheckRecipientMessages(rs); err != nil {
		return fmt.Errorf("queueing recipients of campaign %d: %w", id, err)
	}
	if len(rs) == 0 {
		return nil
	}
	contacts := make([]int64, len(rs))
	batch := make([][2]int64, len(rs))
	for i, r := range rs {
		contacts[i], batch[i] = r.ContactID, [2]int64{r.ContactID, r.MessageID}
	}
	err := q.atomically(ctx, func(q queries) error {
		statuses := make(map[int64]string, len(rs))
		rows, err := q.db.QueryContext(ctx, sqlRecipientStatuses, sql.Named("id", id), sql.Named("contact_ids", jsonArray(contacts)))
		_, err = collect(rows, err, func(r scanner) (struct{}, error) {
			var contact int64
			var status string
			err := r.Scan(&contact, &status)
			statuses[contact] = status
			return struct{}{}, err
		})
		if err != nil {
			return err
		}
		for _, r := range rs {
			switch was, ok := statuses[r.ContactID]; {
			case !ok:
				return fmt.Errorf("contact %d is no recipient: %w", r.ContactID, store.ErrNotFound)
			case was != store.RecipientPending:
				return fmt.Errorf("contact %d: %w: the recipient is %s already", r.ContactID, store.ErrConflict, was)
			}
		}
		b, err := json.Marshal(batch)
		if err != nil {
			return err
		}
		n, err := rowsAffected(q.db.ExecContext(ctx, sqlMarkRecipientsQueued, sql.Named("id", id),
			sql.Named("batch", string(b)), sql.Named("at", unixMicro(at))))
		if err == nil && n != int64(len(rs)) {
			err = fmt.Errorf("queued %d of them", n)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("queueing %d recipients of campaign %d: %w", len(rs), id, interpretError(err))
	}
	return nil
}

// SkipRecipient records that the pending recipient gets no message.
func (q queries) SkipRecipient(ctx context.Context, id, contactID int64, reason string, at time.Time) error {
	err := store.CheckSkipReason(reason)
	if err == nil {
		err = q.settleRecipient(ctx, id, contactID, sqlSkipRecipient, sql.Named("reason", reason), sql.Named("at", unixMicro(at)))
	}
	if err != nil {
		return fmt.Errorf("skipping contact %d of campaign %d: %w", contactID, id, interpretError(err))
	}
	return nil
}

// ListCampaignRecipients returns a page of the campaign's recipients.
func (q queries) ListCampaignRecipients(ctx context.Context, id int64, afterContactID int64, limit int) ([]store.CampaignRecipient, error) {
	if err := store.CheckRecipientLimit(limit); err != nil {
		return nil, fmt.Errorf("listing recipients of campaign %d: %w", id, err)
	}
	rows, err := q.db.QueryContext(ctx, sqlListCampaignRecipients, sql.Named("id", id),
		sql.Named("after_id", afterContactID), sql.Named("limit", limit))
	rs, err := collect(rows, err, func(r scanner) (store.CampaignRecipient, error) {
		var rc store.CampaignRecipient
		err := r.Scan(&rc.CampaignID, &rc.ContactID, &rc.Status, &rc.SkipReason, &rc.MessageID,
			&rc.MessageStatus, &rc.ErrorCode, timeColumn{&rc.QueuedAt}, timeColumn{&rc.CreatedAt}, &rc.Contact.WaID)
		rc.Contact.ID = rc.ContactID
		return rc, err
	})
	if err != nil {
		return nil, fmt.Errorf("listing recipients of campaign %d: %w", id, interpretError(err))
	}
	return rs, nil
}

// CampaignStats counts the campaign's recipients and their messages, in
// four queries: the tally by status, the replies, the opt-outs after the
// send and the second sends.
func (q queries) CampaignStats(ctx context.Context, id int64) (store.CampaignStats, error) {
	s := store.NewCampaignStats()
	rows, err := q.db.QueryContext(ctx, sqlCampaignTally, sql.Named("id", id))
	_, err = collect(rows, err, func(r scanner) (struct{}, error) {
		var status, reason, msgStatus string
		var code, n int
		err := r.Scan(&status, &reason, &msgStatus, &code, &n)
		s.Tally(status, reason, msgStatus, code, n)
		return struct{}{}, err
	})
	for _, c := range []struct {
		sql string
		n   *int
	}{{sqlCampaignReplied, &s.Replied}, {sqlCampaignOptedOutAfter, &s.OptedOutAfter}, {sqlCampaignDuplicates, &s.Duplicates}} {
		if err == nil {
			err = q.db.QueryRowContext(ctx, c.sql, sql.Named("id", id)).Scan(c.n)
		}
	}
	if err != nil {
		return store.CampaignStats{}, fmt.Errorf("counting campaign %d: %w", id, interpretError(err))
	}
	return s, nil
}

// CampaignReach counts the distinct contacts queued by any campaign since
// outside their customer-service window.
func (q queries) CampaignReach(ctx context.Context, since time.Time) (int, error) {
	var n int
	if err := q.db.QueryRowContext(ctx, sqlCampaignReach, sql.Named("since", since.UnixMicro())).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting the contacts campaigns reached: %w", interpretError(err))
	}
	return n, nil
}

// CampaignOfReply returns the campaign a reply in the conversation at at
// answers.
func (q queries) CampaignOfReply(ctx context.Context, conversationID int64, at time.Time) (store.Campaign, error) {
	c, err := scanCampaign(q.db.QueryRowContext(ctx, sqlCampaignOfReply, sql.Named("conversation_id", conversationID),
		sql.Named("at", at.UnixMicro())))
	if err != nil {
		return store.Campaign{}, fmt.Errorf("finding the campaign of conversation %d: %w", conversationID, interpretError(err))
	}
	return c, nil
}

// RecordDuplicateSend notes a second wamid of an outbox message.
func (q queries) RecordDuplicateSend(ctx context.Context, messageID int64, channelMessageID string) error {
	_, err := q.db.ExecContext(ctx, sqlRecordDuplicateSend, sql.Named("message_id", messageID),
		sql.Named("channel_message_id", channelMessageID), sql.Named("now", unixMicro(now())))
	if err != nil {
		return fmt.Errorf("recording a second send of outbox message %d: %w", messageID, interpretError(err))
	}
	return nil
}

// UnfinishedJobs counts the jobs of kind waiting or running.
func (q queries) UnfinishedJobs(ctx context.Context, kind string) (int, error) {
	var n int
	if err := q.db.QueryRowContext(ctx, sqlUnfinishedJobs, sql.Named("kind", kind)).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting unfinished %s jobs: %w", kind, interpretError(err))
	}
	return n, nil
}

// CampaignTallies counts every campaign's recipients and messages by
// status, in one query.
func (q queries) CampaignTallies(ctx context.Context) (map[int64]store.CampaignStats, error) {
	out := map[int64]store.CampaignStats{}
	rows, err := q.db.QueryContext(ctx, sqlCampaignTallies)
	_, err = collect(rows, err, func(r scanner) (struct{}, error) {
		var id int64
		var status, reason, msgStatus string
		var code, n int
		if err := r.Scan(&id, &status, &reason, &msgStatus, &code, &n); err != nil {
			return struct{}{}, err
		}
		s, ok := out[id]
		if !ok {
			s = store.NewCampaignStats()
		}
		s.Tally(status, reason, msgStatus, code, n)
		out[id] = s
		return struct{}{}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("counting the campaigns: %w", interpretError(err))
	}
	return out, nil
}
