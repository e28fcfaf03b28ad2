package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
)

// privacyRoutes are the data protection officer's: a contact's consents,
// the export of everything held about them, their erasure, and the audit
// log. Admins only.
func (s *Server) privacyRoutes(r gin.IRouter) {
	r.GET("/contacts/:id", s.getPrivacyContact)
	r.POST("/contacts/:id/consents", s.recordConsent)
	r.GET("/contacts/:id/export", s.exportContact)
	r.DELETE("/contacts/:id", s.eraseContact)
	r.GET("/audit", s.listAudit)
}

// actor is the signed-in user as the audit log names them.
func actor(c *gin.Context) privacy.Actor {
	u := currentUser(c)
	return privacy.Actor{Name: u.Login, UserID: u.ID, Address: c.ClientIP()}
}

type consentJSON struct {
	ID            int64     `json:"id"`
	Purpose       string    `json:"purpose"`
	Granted       bool      `json:"granted"`
	Source        string    `json:"source"`
	PolicyVersion string    `json:"policy_version"`
	At            time.Time `json:"at"`
}

func newConsentJSON(k store.Consent) consentJSON {
	return consentJSON{ID: k.ID, Purpose: k.Purpose, Granted: k.Granted, Source: k.Source, PolicyVersion: k.PolicyVersion, At: k.At.UTC()}
}

func consentsJSON(ks []store.Consent) []consentJSON {
	out := make([]consentJSON, len(ks))
	for i, k := range ks {
		out[i] = newConsentJSON(k)
	}
	return out
}

// getPrivacyContact answers GET /api/v1/privacy/contacts/:id: the contact,
// its current consent per purpose and its consent history.
func (s *Server) getPrivacyContact(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	st, ok := s.apiStore(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	contact, err := st.GetContact(ctx, id)
	if err != nil {
		s.writeStoreError(c, fmt.Sprintf("contact %d", id), err)
		return
	}
	current, err := st.CurrentConsents(ctx, id)
	if err != nil {
		s.writeStoreError(c, "consents", err)
		return
	}
	history, err := st.ListConsents(ctx, id)
	if err != nil {
		s.writeStoreError(c, "consents", err)
		return
	}
	a := actor(c)
	if _, err := st.AppendAudit(ctx, store.AuditEntry{Actor: a.Name, ActorID: a.UserID, Address: a.Address,
		Action: "contact.viewed", Target: privacy.ContactTarget(id)}); err != nil {
		s.writeStoreError(c, "audit log", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"contact": newContactJSON(contact), "consents": consentsJSON(current), "history": consentsJSON(history)})
}

// maxConsentSkew is how far ahead of the server's clock a recorded
// consent's time may be (the caller's clock may run ahead a little).
const maxConsentSkew = time.Minute

// recordConsent answers POST /api/v1/privacy/contacts/:id/consents: a
// consent given or refused outside WhatsApp (a signed form, a call).
func (s *Server) recordConsent(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	var body struct {
		Purpose       string    `json:"purpose"`
		Granted       *bool     `json:"granted"`
		PolicyVersion string    `json:"policy_version"`
		At            time.Time `json:"at"`
	}
	if err := c.ShouldBindJSON(&body); err != nil {
		writeError(c, http.StatusBadRequest, `want a JSON body {"purpose": "service" or "marketing", "granted": true or false, "policy_version": "…"}: `+err.Error())
		return
	}
	if body.Granted == nil {
		writeError(c, http.StatusBadRequest, "granted is required: true or false")
		return
	}
	if !slices.Contains(store.Purposes, body.Purpose) {
		writeError(c, http.StatusBadRequest, fmt.Sprintf("purpose %q: want one of %s", body.Purpose, strings.Join(store.Purposes, ", ")))
		return
	}
	switch now := time.Now(); {
	case body.At.IsZero():
		body.At = now
	case body.At.After(now.Add(maxConsentSkew)):
		// The newest consent is the contact's choice: one dated ahead
		// would outweigh every opt-out they send until then.
		writeError(c, http.StatusBadRequest, fmt.Sprintf("at %s is in the future: want when the consent was given or refused", body.At.UTC().Format(time.RFC3339)))
		return
	}
	st, ok := s.apiStore(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	var k store.Consent
	err := st.InTx(ctx, func(tx store.Queries) error {
		if _, err := tx.GetContact(ctx, id); err != nil {
			return err
		}
		var err error
		k, err = privacy.RecordConsent(ctx, tx, store.Consent{ContactID: id, Purpose: body.Purpose, Granted: *body.Granted,
			Source: store.ConsentByAPI, PolicyVersion: body.PolicyVersion, At: body.At}, actor(c))
		return err
	})
	if err != nil {
		s.writeStoreError(c, fmt.Sprintf("contact %d", id), err)
		return
	}
	c.JSON(http.StatusCreated, newConsentJSON(k))
}

// exportContact answers GET /api/v1/privacy/contacts/:id/export: every
// record held about the contact, as a downloadable JSON document.
func (s *Server) exportContact(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	st, ok := s.apiStore(c)
	if !ok {
		return
	}
	x, err := privacy.ExportContactData(c.Request.Context(), st, id, actor(c))
	if err != nil {
		s.writeStoreError(c, fmt.Sprintf("contact %d", id), err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="contact-%d.json"`, id))
	c.JSON(http.StatusOK, x)
}

// eraseContact answers DELETE /api/v1/privacy/contacts/:id: the contact
// and everything personal held about them are removed; the answer counts
// what was.
func (s *Server) eraseContact(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	st, ok := s.apiStore(c)
	if !ok {
		return
	}
	gone, err := privacy.Erase(c.Request.Context(), st, id, actor(c))
	if errors.Is(err, store.ErrConflict) {
		writeError(c, http.StatusConflict, err.Error())
		return
	}
	if err != nil {
		s.writeStoreError(c, fmt.Sprintf("contact %d", id), err)
		return
	}
	s.log.Info("privacy: contact erased", slog.Int64("contact", id), slog.String("by", currentUser(c).Login))
	c.JSON(http.StatusOK, gin.H{"erased": gone})
}

type auditJSON struct {
	ID      int64           `json:"id"`
	Actor   string          `json:"actor"`
	ActorID int64           `json:"actor_id,omitempty"`
	Action  string          `json:"action"`
	Target  string          `json:"target"`
	Address string          `json:"address,omitempty"`
	Detail  json.RawMessage `json:"detail,omitempty"`
	At      time.Time       `json:"at"`
}

// listAudit answers GET /api/v1/privacy/audit, newest first: filters
// actor, action (a prefix when it ends in "."), target, since (RFC 3339),
// before (an id, for the next page) and limit.
func (s *Server) listAudit(c *gin.Context) {
	f := store.AuditFilter{Actor: c.Query("actor"), Action: c.Query("action"), Target: c.Query("target")}
	if v := c.Query("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeError(c, http.StatusBadRequest, fmt.Sprintf("since %q: want an RFC 3339 time such as 2026-11-01T00:00:00Z", v))
			return
		}
		f.Since = t
	}
	if v := c.Query("before"); v != "" {
		id, err := positiveID("before", v)
		if err != nil {
			writeError(c, http.StatusBadRequest, err.Error())
			return
		}
		f.Before = id
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(c, http.StatusBadRequest, fmt.Sprintf("limit %q: want 1 to 1000", v))
			return
		}
		f.Limit = n
	}
	st, ok := s.apiStore(c)
	if !ok {
		return
	}
	entries, err := st.ListAudit(c.Request.Context(), f)
	if err != nil {
		s.writeStoreError(c, "audit log", err)
		return
	}
	out := make([]auditJSON, len(entries))
	for i, e := range entries {
		out[i] = auditJSON{ID: e.ID, Actor: e.Actor, ActorID: e.ActorID, Action: e.Action, Target: e.Target, Address: e.Address,
			Detail: rawJSON(e.Detail), At: e.At.UTC()}
	}
	c.JSON(http.StatusOK, gin.H{"entries": out})
}

// audited are the reads that show a person's data: each is recorded in
// the audit log, with the changes of every API route.
var audited = map[string]string{
	"/api/v1/conversations/:id":       "conversation",
	"/api/v1/conversations/:id/turns": "conversation",
	"/api/v1/inbox/tickets/:id":       "ticket",
}

// auditTimeout bounds the write of an API request's audit entry.
const auditTimeout = 10 * time.Second

// audit records in the audit log, after it succeeded, every change made
// through the API and every read of a person's data: who, what, when and
// from where. The privacy routes record their own entries (with what
// they exported or erased) and are left out.
func (s *Server) audit() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		route := c.FullPath()
		kind, read := audited[route]
		if c.Writer.Status() >= 400 || strings.HasPrefix(route, "/api/v1/privacy/") || (!read && !unsafeMethod(c.Request.Method)) {
			return
		}
		st, ok := s.backendStore()
		if !ok {
			return
		}
		action, target := "api."+strings.ToLower(c.Request.Method), strings.TrimPrefix(c.Request.URL.Path, "/api/v1/")
		if read {
			action, target = kind+".viewed", kind+":"+c.Param("id")
		}
		detail, _ := json.Marshal(map[string]any{"route": c.Request.Method + " " + route, "status": c.Writer.Status()})
		a := actor(c)
		// The change is made, or the data shown, even when the client has
		// gone meanwhile: the entry is written all the same.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), auditTimeout)
		defer cancel()
		if _, err := st.AppendAudit(ctx, store.AuditEntry{Actor: a.Name, ActorID: a.UserID, Address: a.Address,
			Action: action, Target: target, Detail: detail}); err != nil {
			s.log.Error("audit: recording an API request", slog.String("route", route), slog.String("error", err.Error()))
		}
	}
}

// redactFor returns what the user may see of a person's words: admins
// see them whole; other roles (QA reading conversations) see the personal
// data in them as placeholders ([TCKN], [EMAIL]).
func (s *Server) redactFor(u store.User) func(string) string {
	if u.Role == store.RoleAdmin {
		return func(text string) string { return text }
	}
	return func(text string) string { return privacy.RedactKinds(text, s.detectors) }
}

// backendStore returns the attached store without answering the request.
func (s *Server) backendStore() (store.Store, bool) {
	b := s.backend.Load()
	if b == nil {
		return nil, false
	}
	return b.Store, true
}
