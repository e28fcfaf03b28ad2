package postgres

import (
	"context"
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
	sqlMoveCampaign           = query("MoveCampaign")
	sqlCampaignStatus         = query("CampaignStatus")
	sqlDueCampaigns           = query("DueCampaigns")
	sqlInsertRecipients       = query("InsertRecipients")
	sqlSetCampaignCursor      = query("SetCampaignCursor")
	sqlMarketingConsents      = query("MarketingConsents")
	sqlPendingRecipients      = query("PendingRecipients")
	sqlMarkRecipientQueued    = query("MarkRecipientQueued")
	sqlMarkRecipientsQueued   = query("MarkRecipientsQueued")
	sqlSkipRecipient          = query("SkipRecipient")
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
	var params, filter []byte
	err := r.Scan(&c.ID, &c.Name, &c.PhoneNumberID, &c.Template, &c.Language, &c.Category, &params, &c.Segment,
		&filter, &c.Status, timeColumn{&c.ScheduledAt}, &c.TimeZone, &c.CreatedBy, &c.Materialized, &c.Cursor,
		timeColumn{&c.StartedAt}, timeColumn{&c.FinishedAt}, timeColumn{&c.CreatedAt}, timeColumn{&c.UpdatedAt})
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
		out, err = scanCampaign(q.db.QueryRow(ctx, sqlInsertCampaign, args{
			"name": c.Name, "phone_number_id": c.PhoneNumberID, "template": c.Template, "language": c.Language,
			"category": c.Category, "params": string(params), "segment": c.Segment, "status": store.CreatedStatus(c),
			"scheduled_at": nullTime(c.ScheduledAt), "time_zone": c.TimeZone, "created_by": c.CreatedBy,
		}))
	}
	if err != nil {
		return store.Campaign{}, fmt.Errorf("creating campaign %q: %w", c.Name, interpretError(err))
	}
	return out, nil
}

// GetCampaign returns the campaign called name.
func (q queries) GetCampaign(ctx context.Context, name string) (store.Campaign, error) {
	c, err := scanCampaign(q.db.QueryRow(ctx, sqlGetCampaign, args{"name": name}))
	if err != nil {
		return store.Campaign{}, fmt.Errorf("getting campaign %q: %w", name, interpretError(err))
	}
	return c, nil
}

// GetCampaignByID returns the campaign id.
func (q queries) GetCampaignByID(ctx context.Context, id int64) (store.Campaign, error) {
	c, err := scanCampaign(q.db.QueryRow(ctx, sqlGetCampaignByID, args{"id": id}))
	if err != nil {
		return store.Campaign{}, fmt.Errorf("getting campaign %d: %w", id, interpretError(err))
	}
	return c, nil
}

// ListCampaigns returns every campaign, newest first.
func (q queries) ListCampaigns(ctx context.Context) ([]store.Campaign, error) {
	rows, err := q.db.Query(ctx, sqlListCampaigns)
	cs, err := collect(rows, err, scanCampaign)
	if err != nil {
		return nil, fmt.Errorf("listing campaigns: %w", interpretError(err))
	}
	return cs, nil
}

// DeleteCampaign removes a campaign that never ran.
func (q queries) DeleteCampaign(ctx context.Context, id int64) error {
	var status string
	var deleted bool
	err := q.db.QueryRow(ctx, sqlDeleteCampaign, args{"id": id}).Scan(&status, &deleted)
	if err == nil && !deleted {
		err = fmt.Errorf("%w: the campaign is %s; only a draft or scheduled campaign can be deleted", store.ErrConflict, status)
	}
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
		c, err = scanCampaign(q.db.QueryRow(ctx, sqlMoveCampaign, args{"id": id, "from": from, "to": to,
			"at": at.UTC(), "filter": string(filter), "scheduled_at": nullTime(m.ScheduledAt), "time_zone": m.TimeZone}))
	}
	if err == nil {
		return c, nil
	}
	err = interpretError(err)
	if errors.Is(err, store.ErrNotFound) {
		var now string
		switch serr := q.db.QueryRow(ctx, sqlCampaignStatus, args{"id": id}).Scan(&now); {
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
	rows, err := q.db.Query(ctx, sqlDueCampaigns, args{"now": now.UTC()})
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
	ids := make([]int64, len(rs))
	statuses := make([]string, len(rs))
	reasons := make([]string, len(rs))
	for i, r := range rs {
		ids[i], statuses[i], reasons[i] = r.ContactID, r.Status, r.SkipReason
	}
	var n int64
	err := q.atomically(ctx, func(q queries) error {
		now := time.Now().UTC()
		tag, err := q.db.Exec(ctx, sqlSetCampaignCursor, args{"id": id, "cursor": cursor, "done": done, "now": now})
		if err == nil && tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		if err != nil || len(rs) == 0 {
			return err
		}
		tag, err = q.db.Exec(ctx, sqlInsertRecipients, args{"id": id, "contact_ids": ids, "statuses": statuses,
			"skip_reasons": reasons, "now": now})
		n = tag.RowsAffected()
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
	rows, err := q.db.Query(ctx, sqlMarketingConsents, args{"ids": int64s(ids)})
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
	rows, err := q.db.Query(ctx, sqlPendingRecipients, args{"id": id, "after_id": afterContactID, "limit": limit})
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

// MarkRecipientQueued records the recipient's outbox message.
func (q queries) MarkRecipientQueued(ctx context.Context, id, contactID, messageID int64, at time.Time) error {
	var was string
	var done bool
	err := q.db.QueryRow(ctx, sqlMarkRecipientQueued, args{"id": id, "contact_id": contactID,
		"message_id": messageID, "at": at.UTC()}).Scan(&was, &done)
	if err == nil && !done {
		err = fmt.Errorf("%w: the recipient is %s already", store.ErrConflict, was)
	}
	if err != nil {
		return fmt.Errorf("queueing contact %d of campaign %d: %w", contactID, id, interpretError(err))
	}
	return nil
}

// MarkRecipientsQueued records the outbox messages of many recipients, in
// one statement: all of them, or none when one is missing (ErrNotFound) or
// not pending (ErrConflict), naming the first such contact.
func (q queries) MarkRecipientsQueued(ctx context.Context, id int64, rs []store.RecipientMessage, at time.Time) error {
	if err := store.CheckRecipientMessages(rs); err != nil {
		return fmt.Errorf("queueing recipients of campaign %d: %w", id, err)
	}
	if len(rs) == 0 {
		return nil
	}
	contacts := make([]int64, len(rs))
	messages := make([]int64, len(rs))
	for i, r := range rs {
		contacts[i], messages[i] = r.ContactID, r.MessageID
	}
	var contact int64
	var was string
	err := q.db.QueryRow(ctx, sqlMarkRecipientsQueued, args{"id": id, "contact_ids": contacts,
		"message_ids": messages, "at": at.UTC()}).Scan(&contact, &was)
	switch {
	case err != nil:
		err = interpretError(err)
	case contact != 0 && was == "":
		err = fmt.Errorf("contact %d is no recipient: %w", contact, store.ErrNotFound)
	case contact != 0:
		err = fmt.Errorf("contact %d: %w: the recipient is %s already", contact, store.ErrConflict, was)
	}
	if err != nil {
		return fmt.Errorf("queueing %d recipients of campaign %d: %w", len(rs), id, err)
	}
	return nil
}

// SkipRecipient records that the pending recipient gets no message.
func (q queries) SkipRecipient(ctx context.Context, id, contactID int64, reason string, at time.Time) error {
	err := store.CheckSkipReason(reason)
	var was string
	var done bool
	if err == nil {
		err = q.db.QueryRow(ctx, sqlSkipRecipient, args{"id": id, "contact_id": contactID,
			"reason": reason, "at": at.UTC()}).Scan(&was, &done)
	}
	if err == nil && !done {
		err = fmt.Errorf("%w: the recipient is %s already", store.ErrConflict, was)
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
	rows, err := q.db.Query(ctx, sqlListCampaignRecipients, args{"id": id, "after_id": afterContactID, "limit": limit})
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
	rows, err := q.db.Query(ctx, sqlCampaignTally, args{"id": id})
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
			err = q.db.QueryRow(ctx, c.sql, args{"id": id}).Scan(c.n)
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
	if err := q.db.QueryRow(ctx, sqlCampaignReach, args{"since": since.UTC()}).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting the contacts campaigns reached: %w", interpretError(err))
	}
	return n, nil
}

// CampaignOfReply returns the campaign a reply in the conversation at at
// answers.
func (q queries) CampaignOfReply(ctx context.Context, conversationID int64, at time.Time) (store.Campaign, error) {
	c, err := scanCampaign(q.db.QueryRow(ctx, sqlCampaignOfReply, args{"conversation_id": conversationID, "at": at.UTC()}))
	if err != nil {
		return store.Campaign{}, fmt.Errorf("finding the campaign of conversation %d: %w", conversationID, interpretError(err))
	}
	return c, nil
}

// RecordDuplicateSend notes a second wamid of an outbox message.
func (q queries) RecordDuplicateSend(ctx context.Context, messageID int64, channelMessageID string) error {
	_, err := q.db.Exec(ctx, sqlRecordDuplicateSend, args{"message_id": messageID, "channel_message_id": channelMessageID})
	if err != nil {
		return fmt.Errorf("recording a second send of outbox message %d: %w", messageID, interpretError(err))
	}
	return nil
}

// UnfinishedJobs counts the jobs of kind waiting or running.
func (q queries) UnfinishedJobs(ctx context.Context, kind string) (int, error) {
	var n int
	if err := q.db.QueryRow(ctx, sqlUnfinishedJobs, args{"kind": kind}).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting unfinished %s jobs: %w", kind, interpretError(err))
	}
	return n, nil
}

// CampaignTallies counts every campaign's recipients and messages by
// status, in one query.
func (q queries) CampaignTallies(ctx context.Context) (map[int64]store.CampaignStats, error) {
	out := map[int64]store.CampaignStats{}
	rows, err := q.db.Query(ctx, sqlCampaignTallies)
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
