package privacy

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/yanit/yanit/store"
)

// RecordConsent stores a consent record of a contact with its entry in the
// audit log, in q (a transaction when the caller needs both or neither).
// The contact is the actor of the entry unless actor is set (an admin
// recording a consent through the API, an import).
func RecordConsent(ctx context.Context, q store.Queries, c store.Consent, actor Actor) (store.Consent, error) {
	c, err := q.RecordConsent(ctx, c)
	if err != nil {
		return store.Consent{}, err
	}
	action := "consent.given"
	switch {
	case c.Source == store.ConsentByNotice:
		action = "consent.informed"
	case !c.Granted:
		action = "consent.refused"
	}
	if actor.Name == "" {
		actor = Actor{Name: ContactTarget(c.ContactID)}
	}
	// The entry is dated when it is recorded; the choice's own time (a
	// webhook's, an import's) is in its detail.
	detail, _ := json.Marshal(map[string]any{"purpose": c.Purpose, "source": c.Source, "policy_version": c.PolicyVersion,
		"consent_id": c.ID, "at": c.At.UTC()})
	if _, err := q.AppendAudit(ctx, store.AuditEntry{Actor: actor.Name, ActorID: actor.UserID, Address: actor.Address,
		Action: action, Target: ContactTarget(c.ContactID), Detail: detail}); err != nil {
		return store.Consent{}, fmt.Errorf("auditing a consent of contact %d: %w", c.ContactID, err)
	}
	return c, nil
}

// Actor is who acts, for the audit log.
type Actor struct {
	Name    string // a user's login, "cli", "system", "contact:<id>"
	UserID  int64
	Address string
}

// The actors that are no user.
var (
	ActorCLI    = Actor{Name: "cli"}
	ActorSystem = Actor{Name: "system"}
)

// ContactTarget names a contact in the audit log.
func ContactTarget(id int64) string { return "contact:" + strconv.FormatInt(id, 10) }
