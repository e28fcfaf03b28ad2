package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/yanit/yanit/store"
)

var (
	sqlInsertConsent             = query("InsertConsent")
	sqlCurrentConsents           = query("CurrentConsents")
	sqlListConsents              = query("ListConsents")
	sqlAppendAudit               = query("AppendAudit")
	sqlListAudit                 = query("ListAudit")
	sqlLockContact               = query("LockContact")
	sqlLockContactConversations  = query("LockContactConversations")
	sqlLockContactTickets        = query("LockContactTickets")
	sqlEraseContactJobs          = query("EraseContactJobs")
	sqlEraseContactTicketEvents  = query("EraseContactTicketEvents")
	sqlEraseContactTickets       = query("EraseContactTickets")
	sqlEraseContactTurns         = query("EraseContactTurns")
	sqlEraseContactRecipients    = query("EraseContactCampaignRecipients")
	sqlEraseContactDuplicates    = query("EraseContactDuplicateSends")
	sqlEraseContactMessages      = query("EraseContactMessages")
	sqlEraseContactConversations = query("EraseContactConversations")
	sqlEraseContactConsents      = query("EraseContactConsents")
	sqlEraseContact              = query("EraseContact")
	sqlExpireMessages            = query("ExpireMessages")
	sqlExpireTurns               = query("ExpireTurns")
	sqlExpireConversations       = query("ExpireConversations")
	sqlExpireTickets             = query("ExpireTickets")
	sqlExpireTicketEvents        = query("ExpireTicketEvents")
)

func scanConsent(r scanner) (store.Consent, error) {
	var c store.Consent
	err := r.Scan(&c.ID, &c.ContactID, &c.Purpose, &c.Granted, &c.Source, &c.PolicyVersion,
		timeColumn{&c.At}, timeColumn{&c.CreatedAt})
	return c, err
}

func scanAuditEntry(r scanner) (store.AuditEntry, error) {
	var e store.AuditEntry
	err := r.Scan(&e.ID, &e.Actor, &e.ActorID, &e.Action, &e.Target, &e.Address, jsonColumn(&e.Detail), timeColumn{&e.At})
	return e, err
}

// RecordConsent appends a consent record; a marketing record also sets the
// contact's marketing preference, through SetMarketingPreference in the
// same transaction, so that the newest record and the contact agree.
func (q queries) RecordConsent(ctx context.Context, c store.Consent) (store.Consent, error) {
	err := c.Validate()
	var got store.Consent
	if err == nil {
		err = q.atomically(ctx, func(q queries) error {
			var err error
			got, err = scanConsent(q.db.QueryRow(ctx, sqlInsertConsent, args{"contact_id": c.ContactID,
				"purpose": c.Purpose, "granted": c.Granted, "source": c.Source, "policy_version": c.PolicyVersion, "at": c.At}))
			if err == nil && c.Purpose == store.PurposeMarketing {
				_, err = q.SetMarketingPreference(ctx, c.ContactID, !c.Granted, c.At)
			}
			return err
		})
	}
	if err != nil {
		return store.Consent{}, fmt.Errorf("recording a consent of contact %d: %w", c.ContactID, interpretError(err))
	}
	return got, nil
}

// CurrentConsents returns the newest record of each purpose, by purpose.
func (q queries) CurrentConsents(ctx context.Context, contactID int64) ([]store.Consent, error) {
	rows, err := q.db.Query(ctx, sqlCurrentConsents, args{"contact_id": contactID})
	cs, err := collect(rows, err, scanConsent)
	if err != nil {
		return nil, fmt.Errorf("reading the consents of contact %d: %w", contactID, interpretError(err))
	}
	return cs, nil
}

// ListConsents returns every record of the contact, oldest first.
func (q queries) ListConsents(ctx context.Context, contactID int64) ([]store.Consent, error) {
	rows, err := q.db.Query(ctx, sqlListConsents, args{"contact_id": contactID})
	cs, err := collect(rows, err, scanConsent)
	if err != nil {
		return nil, fmt.Errorf("listing the consents of contact %d: %w", contactID, interpretError(err))
	}
	return cs, nil
}

// AppendAudit adds an entry to the audit log, at now when e.At is zero,
// with the detail {} when it has none.
func (q queries) AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error) {
	err := e.Validate()
	var got store.AuditEntry
	if err == nil {
		got, err = scanAuditEntry(q.db.QueryRow(ctx, sqlAppendAudit, args{"actor": e.Actor, "actor_id": e.ActorID,
			"action": e.Action, "target": e.Target, "address": e.Address, "detail": jsonObject(e.Detail), "at": nullTime(e.At)}))
	}
	if err != nil {
		return store.AuditEntry{}, fmt.Errorf("appending %q to the audit log: %w", e.Action, interpretError(err))
	}
	return got, nil
}

// ListAudit returns the entries passing f, newest (highest id) first.
func (q queries) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	limit, err := f.CheckLimit()
	var es []store.AuditEntry
	if err == nil {
		action, prefix := f.Action, ""
		if strings.HasSuffix(f.Action, ".") {
			action, prefix = "", f.Action
		}
		rows, qerr := q.db.Query(ctx, sqlListAudit, args{"actor": f.Actor, "action": action, "prefix": prefix,
			"target": f.Target, "since": nullTime(f.Since), "before": f.Before, "lim": limit})
		es, err = collect(rows, qerr, scanAuditEntry)
	}
	if err != nil {
		return nil, fmt.Errorf("listing the audit log: %w", interpretError(err))
	}
	return es, nil
}

// counted is a statement whose count of changed rows goes to n.
type counted struct {
	sql string
	n   *int
}

// execCounted runs statements in order, each with a, storing each one's
// count of changed rows.
func (q queries) execCounted(ctx context.Context, a args, stmts ...counted) error {
	for _, st := range stmts {
		tag, err := q.db.Exec(ctx, st.sql, a)
		if err != nil {
			return err
		}
		*st.n = int(tag.RowsAffected())
	}
	return nil
}

// EraseContact deletes the contact and every record of theirs in one
// transaction. It first locks the contact, its conversations and its
// tickets, so that a message, turn, ticket or event added to them at the
// same time waits and then fails instead of outliving the erasure; then it
// deletes the jobs naming their records, while those records still exist
// to be found, and the records, children before parents. The audit log
// keeps its entries.
func (q queries) EraseContact(ctx context.Context, contactID int64) (store.Erasure, error) {
	var e store.Erasure
	a := args{"contact_id": contactID}
	err := q.atomically(ctx, func(q queries) error {
		var id int64
		if err := q.db.QueryRow(ctx, sqlLockContact, a).Scan(&id); err != nil {
			return err
		}
		for _, lock := range []string{sqlLockContactConversations, sqlLockContactTickets} {
			if _, err := q.db.Exec(ctx, lock, a); err != nil {
				return err
			}
		}
		return q.execCounted(ctx, a,
			counted{sqlEraseContactJobs, &e.Jobs},
			counted{sqlEraseContactTicketEvents, &e.TicketEvents},
			counted{sqlEraseContactTickets, &e.Tickets},
			counted{sqlEraseContactRecipients, &e.CampaignRecipients},
			counted{sqlEraseContactDuplicates, new(int)},
			counted{sqlEraseContactTurns, &e.Turns},
			counted{sqlEraseContactMessages, &e.Messages},
			counted{sqlEraseContactConversations, &e.Conversations},
			counted{sqlEraseContactConsents, &e.Consents},
			counted{sqlEraseContact, &e.Contacts},
		)
	})
	if pgCode(err) == codeForeignKeyViolation {
		// A delete refused by a reference: a table this erasure does not
		// know still names one of the contact's records.
		err = fmt.Errorf("%w: a record that erasure does not remove refers to the contact's records: %w", store.ErrConflict, err)
	} else {
		err = interpretError(err)
	}
	if err != nil {
		return store.Erasure{}, fmt.Errorf("erasing contact %d: %w", contactID, err)
	}
	return e, nil
}

// Expire clears, in one transaction, the content of the records older than
// p.Before in the conversations on p.PhoneNumberIDs: message bodies and
// payloads, turn traces, and the packs and event data of tickets closed
// before then. Open tickets are kept whole; rows are never deleted.
func (q queries) Expire(ctx context.Context, p store.RetentionParams) (store.Retention, error) {
	if p.Before.IsZero() {
		return store.Retention{}, errors.New("expiring records: the time to expire records before is zero")
	}
	var r store.Retention
	var events int // an event is cleared with its ticket, which counts
	a := args{"phone_number_ids": texts(p.PhoneNumberIDs), "before": p.Before}
	err := q.atomically(ctx, func(q queries) error {
		return q.execCounted(ctx, a,
			counted{sqlExpireMessages, &r.Messages},
			counted{sqlExpireTurns, &r.Turns},
			counted{sqlExpireConversations, &r.Conversations},
			counted{sqlExpireTickets, &r.Tickets},
			counted{sqlExpireTicketEvents, &events},
		)
	})
	if err != nil {
		return store.Retention{}, fmt.Errorf("expiring records before %s: %w", p.Before.Format(time.RFC3339), interpretError(err))
	}
	return r, nil
}
