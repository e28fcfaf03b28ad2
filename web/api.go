package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
)

// maxListLimit is the largest limit ListConversations accepts.
const maxListLimit = 500

// apiRoutes declares the API under /api/v1. Every route needs an API token
// or a console session, and names the roles it lets through.
func (s *Server) apiRoutes(r gin.IRouter) {
	v1 := r.Group("/api/v1", s.authenticate(false), s.audit())
	// Every conversation, whatever team it went to: QA's. Agents read the
	// conversations of their teams' tickets through the inbox.
	conv := v1.Group("", allow(store.RoleQA))
	conv.GET("/conversations", s.listConversations)
	conv.GET("/conversations/:id", s.getConversation)
	conv.GET("/conversations/:id/turns", s.listTurns)
	s.toolRoutes(v1.Group("", allow()))
	s.knowledgeRoutes(v1.Group("/knowledge", allow(store.RoleContent)))
	s.inboxRoutes(v1.Group("/inbox", allow(store.RoleAgent)))
	s.privacyRoutes(v1.Group("/privacy", allow()))
	s.campaignRoutes(v1.Group("", allow()))
}

// apiStore returns the attached store, or answers 503 with the reason it is
// not attached yet.
func (s *Server) apiStore(c *gin.Context) (store.Store, bool) {
	b := s.backend.Load()
	if b == nil {
		writeError(c, http.StatusServiceUnavailable, *s.notReady.Load())
		return nil, false
	}
	return b.Store, true
}

// writeStoreError answers a failed store call: 404 naming what when it does
// not exist, else 500, with the cause in the log only.
func (s *Server) writeStoreError(c *gin.Context, what string, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(c, http.StatusNotFound, what+" not found")
		return
	}
	s.log.Error("api: reading the store", slog.String("route", c.FullPath()), slog.String("error", err.Error()))
	writeError(c, http.StatusInternalServerError, "internal error")
}

// positiveID parses a positive integer parameter; the error names it.
func positiveID(name, value string) (int64, error) {
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%s must be a positive integer, got %q", name, value)
	}
	return id, nil
}

// pathID reads the :id of the route, or answers 400.
func pathID(c *gin.Context) (int64, bool) {
	id, err := positiveID("id", c.Param("id"))
	if err != nil {
		writeError(c, http.StatusBadRequest, err.Error())
		return 0, false
	}
	return id, true
}

// conversationFilter binds the query of GET /api/v1/conversations.
func conversationFilter(c *gin.Context) (store.ConversationFilter, error) {
	var f store.ConversationFilter
	if v, ok := c.GetQuery("contact_id"); ok {
		id, err := positiveID("contact_id", v)
		if err != nil {
			return f, err
		}
		f.ContactID = id
	}
	if v, ok := c.GetQuery("status"); ok {
		if v != store.ConversationOpen && v != store.ConversationClosed {
			return f, fmt.Errorf("status must be %s or %s, got %q", store.ConversationOpen, store.ConversationClosed, v)
		}
		f.Status = v
	}
	if v, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			return f, fmt.Errorf("limit must be an integer from 1 to %d, got %q", maxListLimit, v)
		}
		f.Limit = n
	}
	return f, nil
}

// listConversations answers GET /api/v1/conversations: the conversations
// matching contact_id, status and limit, most recently updated first.
func (s *Server) listConversations(c *gin.Context) {
	f, err := conversationFilter(c)
	if err != nil {
		writeError(c, http.StatusBadRequest, err.Error())
		return
	}
	st, ok := s.apiStore(c)
	if !ok {
		return
	}
	convs, err := st.ListConversations(c.Request.Context(), f)
	if err != nil {
		s.writeStoreError(c, "conversations", err)
		return
	}
	out := make([]conversationJSON, len(convs))
	for i, cv := range convs {
		out[i] = s.conversationFor(currentUser(c), cv)
	}
	c.JSON(http.StatusOK, gin.H{"conversations": out})
}

// getConversation answers GET /api/v1/conversations/:id: the conversation,
// its contact and its messages in the order they were stored.
func (s *Server) getConversation(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	st, ok := s.apiStore(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	conv, err := st.GetConversation(ctx, id)
	if err != nil {
		s.writeStoreError(c, fmt.Sprintf("conversation %d", id), err)
		return
	}
	contact, err := st.GetContact(ctx, conv.ContactID)
	if err != nil {
		s.writeStoreError(c, fmt.Sprintf("contact %d", conv.ContactID), err)
		return
	}
	msgs, err := st.ListMessages(ctx, id)
	if err != nil {
		s.writeStoreError(c, fmt.Sprintf("messages of conversation %d", id), err)
		return
	}
	red := s.redactFor(currentUser(c))
	if u := currentUser(c); u.Role != store.RoleAdmin {
		contact.WaID, contact.Name = privacy.MaskPhone(contact.WaID), ""
	}
	out := make([]messageJSON, len(msgs))
	for i, m := range msgs {
		m.Body, m.Payload = red(m.Body), privacy.RedactJSON(m.Payload, red)
		out[i] = newMessageJSON(m)
	}
	c.JSON(http.StatusOK, gin.H{
		"conversation": s.conversationFor(currentUser(c), conv),
		"contact":      newContactJSON(contact),
		"messages":     out,
	})
}

// listTurns answers GET /api/v1/conversations/:id/turns: the assistant's
// turns with their traces, in the order they were stored.
func (s *Server) listTurns(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	st, ok := s.apiStore(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	if _, err := st.GetConversation(ctx, id); err != nil {
		s.writeStoreError(c, fmt.Sprintf("conversation %d", id), err)
		return
	}
	turns, err := st.ListTurns(ctx, id)
	if err != nil {
		s.writeStoreError(c, fmt.Sprintf("turns of conversation %d", id), err)
		return
	}
	out := make([]turnJSON, len(turns))
	for i, t := range turns {
		out[i] = newTurnJSON(t)
	}
	c.JSON(http.StatusOK, gin.H{"turns": out})
}

// The API's JSON shapes: snake_case names, RFC 3339 times in UTC (a zero
// time is left out), stored JSON (state, payload, trace) embedded as is.

type contactJSON struct {
	ID              int64     `json:"id"`
	WaID            string    `json:"wa_id"`
	UserID          string    `json:"user_id"`
	Name            string    `json:"name"`
	Locale          string    `json:"locale"`
	LastInboundAt   time.Time `json:"last_inbound_at,omitzero"`
	MarketingOptOut bool      `json:"marketing_opt_out"`
	MarketingPrefAt time.Time `json:"marketing_pref_at,omitzero"`
	CreatedAt       time.Time `json:"created_at,omitzero"`
	UpdatedAt       time.Time `json:"updated_at,omitzero"`
}

func newContactJSON(c store.Contact) contactJSON {
	return contactJSON{
		ID: c.ID, WaID: c.WaID, UserID: c.UserID, Name: c.Name, Locale: c.Locale,
		LastInboundAt: c.LastInboundAt.UTC(), MarketingOptOut: c.MarketingOptOut,
		MarketingPrefAt: c.MarketingPrefAt.UTC(), CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
	}
}

type conversationJSON struct {
	ID            int64           `json:"id"`
	ContactID     int64           `json:"contact_id"`
	PhoneNumberID string          `json:"phone_number_id"`
	Status        string          `json:"status"`
	Mode          string          `json:"mode"`
	State         json.RawMessage `json:"state"`
	CreatedAt     time.Time       `json:"created_at,omitzero"`
	UpdatedAt     time.Time       `json:"updated_at,omitzero"`
	ClosedAt      time.Time       `json:"closed_at,omitzero"`
}

func newConversationJSON(c store.Conversation) conversationJSON {
	return conversationJSON{
		ID: c.ID, ContactID: c.ContactID, PhoneNumberID: c.PhoneNumberID, Status: c.Status, Mode: c.Mode,
		State: withoutVault(c.State), CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(), ClosedAt: c.ClosedAt.UTC(),
	}
}

type messageJSON struct {
	ID               int64           `json:"id"`
	ConversationID   int64           `json:"conversation_id"`
	Direction        string          `json:"direction"`
	ChannelMessageID string          `json:"channel_message_id"`
	Type             string          `json:"type"`
	Body             string          `json:"body"`
	Payload          json.RawMessage `json:"payload"`
	Status           string          `json:"status"`
	ErrorCode        int             `json:"error_code,omitempty"`
	ErrorText        string          `json:"error_text,omitempty"`
	SentAt           time.Time       `json:"sent_at,omitzero"`
	ProcessedAt      time.Time       `json:"processed_at,omitzero"`
	CreatedAt        time.Time       `json:"created_at,omitzero"`
	UpdatedAt        time.Time       `json:"updated_at,omitzero"`
}

func newMessageJSON(m store.Message) messageJSON {
	return messageJSON{
		ID: m.ID, ConversationID: m.ConversationID, Direction: m.Direction, ChannelMessageID: m.ChannelMessageID,
		Type: m.Type, Body: m.Body, Payload: rawJSON(m.Payload), Status: m.Status,
		ErrorCode: m.ErrorCode, ErrorText: m.ErrorText,
		SentAt: m.SentAt.UTC(), ProcessedAt: m.ProcessedAt.UTC(), CreatedAt: m.CreatedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC(),
	}
}

type turnJSON struct {
	ID             int64           `json:"id"`
	ConversationID int64           `json:"conversation_id"`
	InboundIDs     []int64         `json:"inbound_ids"`
	OutboundIDs    []int64         `json:"outbound_ids"`
	Intent         string          `json:"intent"`
	Confidence     float64         `json:"confidence"`
	Decision       string          `json:"decision"`
	Reason         string          `json:"reason"`
	Trace          json.RawMessage `json:"trace"`
	LatencyMS      float64         `json:"latency_ms"`
	CreatedAt      time.Time       `json:"created_at,omitzero"`
}

func newTurnJSON(t store.Turn) turnJSON {
	return turnJSON{
		ID: t.ID, ConversationID: t.ConversationID, InboundIDs: nonNil(t.InboundIDs), OutboundIDs: nonNil(t.OutboundIDs),
		Intent: t.Intent, Confidence: t.Confidence, Decision: t.Decision, Reason: t.Reason,
		Trace: rawJSON(t.Trace), LatencyMS: t.LatencyMS, CreatedAt: t.CreatedAt.UTC(),
	}
}

// conversationFor is the conversation as u may see it: without the vault
// for everyone; for roles other than admin, also without the handoff's
// pack (the customer's name, number and transcript) and with the personal
// data of the rest of the state (slots) as its kind.
func (s *Server) conversationFor(u store.User, c store.Conversation) conversationJSON {
	out := newConversationJSON(c)
	if u.Role == store.RoleAdmin || len(out.State) == 0 {
		return out
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(out.State, &m) == nil {
		delete(m, "handoff")
		out.State, _ = json.Marshal(m)
	}
	out.State = privacy.RedactJSON(out.State, s.redactFor(u))
	return out
}

// withoutVault is a conversation's state without the personal data its
// vault keeps behind placeholders: no API shows the vault.
func withoutVault(state json.RawMessage) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(state, &m) != nil || m["vault"] == nil {
		return rawJSON(state)
	}
	delete(m, "vault")
	out, _ := json.Marshal(m)
	return out
}

// rawJSON embeds stored JSON as is; nothing stored is null.
func rawJSON(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return b
}

// nonNil makes an absent list [] rather than null.
func nonNil(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}
