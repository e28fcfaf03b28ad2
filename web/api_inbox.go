package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yanit/yanit/inbox"
	"github.com/yanit/yanit/store"
)

// heartbeat is how often an idle event stream says it is alive, so that
// proxies keep it open and the console notices a dead one.
const heartbeat = 15 * time.Second

func (s *Server) inboxRoutes(r gin.IRouter) {
	r.GET("/tickets", s.listTickets)
	r.GET("/tickets/:id", s.getTicket)
	r.POST("/tickets/:id/claim", s.ticketAction(func(c *gin.Context, svc *inbox.Service, u store.User, id int64) (any, error) {
		return svc.Claim(c.Request.Context(), u, id)
	}))
	r.POST("/tickets/:id/reply", s.ticketAction(func(c *gin.Context, svc *inbox.Service, u store.User, id int64) (any, error) {
		var body struct {
			Text string `json:"text"`
		}
		if err := c.ShouldBindJSON(&body); err != nil {
			return nil, fmt.Errorf(`%w: want a JSON body {"text": "…"}: %v`, inbox.ErrInvalid, err)
		}
		m, err := svc.Reply(c.Request.Context(), u, id, body.Text)
		if err != nil {
			return nil, err
		}
		return newMessageJSON(m), nil
	}))
	r.POST("/tickets/:id/notes", s.ticketAction(func(c *gin.Context, svc *inbox.Service, u store.User, id int64) (any, error) {
		var body struct {
			Text string `json:"text"`
		}
		if err := c.ShouldBindJSON(&body); err != nil {
			return nil, fmt.Errorf(`%w: want a JSON body {"text": "…"}: %v`, inbox.ErrInvalid, err)
		}
		ev, err := svc.Note(c.Request.Context(), u, id, body.Text)
		if err != nil {
			return nil, err
		}
		return toTicketEvent(ev), nil
	}))
	r.POST("/tickets/:id/transfer", s.ticketAction(func(c *gin.Context, svc *inbox.Service, u store.User, id int64) (any, error) {
		var body struct {
			Team     string `json:"team"`
			Assignee string `json:"assignee"`
		}
		if err := c.ShouldBindJSON(&body); err != nil {
			return nil, fmt.Errorf(`%w: want a JSON body {"team": "…", "assignee": "login"}: %v`, inbox.ErrInvalid, err)
		}
		return svc.Transfer(c.Request.Context(), u, id, body.Team, body.Assignee)
	}))
	r.POST("/tickets/:id/resolve", s.ticketAction(func(c *gin.Context, svc *inbox.Service, u store.User, id int64) (any, error) {
		return svc.Resolve(c.Request.Context(), u, id)
	}))
	r.POST("/tickets/:id/return", s.ticketAction(func(c *gin.Context, svc *inbox.Service, u store.User, id int64) (any, error) {
		return svc.ReturnToBot(c.Request.Context(), u, id)
	}))
	r.POST("/tickets/:id/template", s.ticketAction(func(c *gin.Context, svc *inbox.Service, u store.User, id int64) (any, error) {
		var body struct {
			Name     string   `json:"name"`
			Language string   `json:"language"`
			Params   []string `json:"params"`
		}
		if err := c.ShouldBindJSON(&body); err != nil {
			return nil, fmt.Errorf(`%w: want a JSON body {"name": "…", "language": "…", "params": ["…"]}: %v`, inbox.ErrInvalid, err)
		}
		m, err := svc.SendTemplate(c.Request.Context(), u, id, body.Name, body.Language, body.Params)
		if err != nil {
			return nil, err
		}
		return newMessageJSON(m), nil
	}))
	r.GET("/templates", func(c *gin.Context) {
		if svc, ok := s.apiInbox(c); ok {
			ts := svc.Templates()
			if ts == nil {
				ts = []inbox.Template{}
			}
			c.JSON(http.StatusOK, gin.H{"templates": ts})
		}
	})
	r.GET("/events", s.inboxEvents)
}

// apiInbox returns the inbox, or answers 503 until it is attached.
func (s *Server) apiInbox(c *gin.Context) (*inbox.Service, bool) {
	b := s.backend.Load()
	if b == nil || b.Inbox == nil {
		writeError(c, http.StatusServiceUnavailable, "the inbox is not ready")
		return nil, false
	}
	return b.Inbox, true
}

// writeInboxError answers a failed inbox action with the status its cause
// calls for and a message naming it.
func (s *Server) writeInboxError(c *gin.Context, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, store.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, inbox.ErrForbidden):
		status = http.StatusForbidden
	case errors.Is(err, store.ErrConflict), errors.Is(err, inbox.ErrWindowClosed):
		status = http.StatusConflict
	case errors.Is(err, inbox.ErrInvalid):
		status = http.StatusBadRequest
	}
	if status == http.StatusInternalServerError {
		s.log.Error("api: inbox", slog.String("route", c.FullPath()), slog.String("error", err.Error()))
		writeError(c, status, "internal error")
		return
	}
	writeError(c, status, err.Error())
}

// ticketAction runs an agent's action on the ticket of the :id parameter
// and answers its result as JSON.
func (s *Server) ticketAction(fn func(c *gin.Context, svc *inbox.Service, u store.User, id int64) (any, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		svc, ok := s.apiInbox(c)
		if !ok {
			return
		}
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil || id <= 0 {
			writeError(c, http.StatusBadRequest, fmt.Sprintf("ticket id %q: want a positive number", c.Param("id")))
			return
		}
		out, err := fn(c, svc, currentUser(c), id)
		if err != nil {
			s.writeInboxError(c, err)
			return
		}
		if t, ok := out.(store.Ticket); ok {
			out = toTicketJSON(t)
		}
		c.JSON(http.StatusOK, out)
	}
}

type ticketJSON struct {
	ID             int64     `json:"id"`
	ConversationID int64     `json:"conversation_id"`
	ContactID      int64     `json:"contact_id"`
	Status         string    `json:"status"`
	Team           string    `json:"team"`
	Priority       int       `json:"priority"`
	Reason         string    `json:"reason"`
	AssigneeID     int64     `json:"assignee_id,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	AssignedAt     time.Time `json:"assigned_at,omitzero"`
	FirstReplyAt   time.Time `json:"first_reply_at,omitzero"`
	ClosedAt       time.Time `json:"closed_at,omitzero"`
	CSAT           int       `json:"csat,omitempty"`
	WaitingSeconds float64   `json:"waiting_seconds,omitempty"`
	// The SLA timers: from the handoff to the first agent reply, and to
	// the ticket's close.
	FirstReplySeconds float64         `json:"first_reply_seconds,omitempty"`
	ResolveSeconds    float64         `json:"resolve_seconds,omitempty"`
	Pack              json.RawMessage `json:"pack,omitempty"`
}

func toTicketJSON(t store.Ticket) ticketJSON {
	out := ticketJSON{ID: t.ID, ConversationID: t.ConversationID, ContactID: t.ContactID, Status: t.Status, Team: t.Team,
		Priority: t.Priority, Reason: t.Reason, AssigneeID: t.AssigneeID, CreatedAt: t.CreatedAt, AssignedAt: t.AssignedAt,
		FirstReplyAt: t.FirstReplyAt, ClosedAt: t.ClosedAt, CSAT: t.CSAT}
	if t.Status == store.TicketQueued {
		out.WaitingSeconds = time.Since(t.CreatedAt).Round(time.Second).Seconds()
	}
	if !t.FirstReplyAt.IsZero() {
		out.FirstReplySeconds = t.FirstReplyAt.Sub(t.CreatedAt).Seconds()
	}
	if !t.ClosedAt.IsZero() {
		out.ResolveSeconds = t.ClosedAt.Sub(t.CreatedAt).Seconds()
	}
	return out
}

type ticketEventJSON struct {
	ID        int64           `json:"id"`
	Kind      string          `json:"kind"`
	UserID    int64           `json:"user_id,omitempty"`
	Data      json.RawMessage `json:"data"`
	CreatedAt time.Time       `json:"created_at"`
}

func toTicketEvent(e store.TicketEvent) ticketEventJSON {
	return ticketEventJSON{ID: e.ID, Kind: e.Kind, UserID: e.UserID, Data: e.Data, CreatedAt: e.CreatedAt}
}

// listTickets answers GET /api/v1/inbox/tickets?status=queued,assigned&team=&mine=true&limit=:
// the tickets of the agent's teams in queue order (priority, then oldest).
func (s *Server) listTickets(c *gin.Context) {
	svc, ok := s.apiInbox(c)
	if !ok {
		return
	}
	u := currentUser(c)
	f := store.TicketFilter{Statuses: splitList(c.DefaultQuery("status", "queued,assigned")), Teams: splitList(c.Query("team"))}
	if c.Query("mine") == "true" {
		f.AssigneeID = u.ID
	}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			writeError(c, http.StatusBadRequest, fmt.Sprintf("limit %q: want a number", l))
			return
		}
		f.Limit = n
	}
	if _, err := f.CheckLimit(); err != nil {
		writeError(c, http.StatusBadRequest, err.Error())
		return
	}
	ts, err := svc.Visible(c.Request.Context(), u, f)
	if err != nil {
		s.writeInboxError(c, err)
		return
	}
	out := make([]ticketJSON, len(ts))
	for i, t := range ts {
		out[i] = toTicketJSON(t)
	}
	c.JSON(http.StatusOK, gin.H{"tickets": out})
}

// getTicket answers GET /api/v1/inbox/tickets/:id: the ticket with its
// context pack, the contact, the whole transcript and the history.
func (s *Server) getTicket(c *gin.Context) {
	svc, ok := s.apiInbox(c)
	if !ok {
		return
	}
	st, _ := s.apiStore(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		writeError(c, http.StatusBadRequest, fmt.Sprintf("ticket id %q: want a number", c.Param("id")))
		return
	}
	ctx := c.Request.Context()
	t, err := svc.Ticket(ctx, currentUser(c), id)
	if err != nil {
		s.writeInboxError(c, err)
		return
	}
	contact, err := st.GetContact(ctx, t.ContactID)
	if err != nil {
		s.writeInboxError(c, err)
		return
	}
	msgs, err := st.ListMessages(ctx, t.ConversationID)
	if err != nil {
		s.writeInboxError(c, err)
		return
	}
	events, err := st.ListTicketEvents(ctx, t.ID)
	if err != nil {
		s.writeInboxError(c, err)
		return
	}
	out := toTicketJSON(t)
	out.Pack = t.Pack
	messages := make([]messageJSON, len(msgs))
	for i, m := range msgs {
		messages[i] = newMessageJSON(m)
	}
	history := make([]ticketEventJSON, len(events))
	for i, e := range events {
		history[i] = toTicketEvent(e)
	}
	consents, err := st.CurrentConsents(ctx, contact.ID)
	if err != nil {
		s.writeInboxError(c, err)
		return
	}
	windowOpen := !contact.LastInboundAt.IsZero() && time.Since(contact.LastInboundAt) < inbox.Window
	c.JSON(http.StatusOK, gin.H{"ticket": out, "contact": newContactJSON(contact), "messages": messages, "events": history,
		"window_open": windowOpen, "consents": consentsJSON(consents)})
}

// inboxEvents answers GET /api/v1/inbox/events with Server-Sent Events:
// every inbox event of the agent's teams, from any instance, as it
// happens, and a comment line every heartbeat while idle.
func (s *Server) inboxEvents(c *gin.Context) {
	svc, ok := s.apiInbox(c)
	if !ok {
		return
	}
	u := currentUser(c)
	events, cancel := svc.Bus().Subscribe(c.Request.Context())
	defer cancel()
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	write := func(name string, v any) bool {
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(c.Writer, "event: %s\ndata: %s\n\n", name, b); err != nil {
			return false
		}
		c.Writer.Flush()
		return true
	}
	// An agent with the stream open is online: automatic assignment picks
	// among them (inbox.PresenceWindow).
	st, _ := s.apiStore(c)
	present := func() {
		if err := st.TouchPresence(c.Request.Context(), u.ID, time.Now()); err != nil && c.Request.Context().Err() == nil {
			s.log.Warn("inbox: recording presence", slog.String("user", u.Login), slog.String("error", err.Error()))
		}
	}
	present()
	if !write("ready", gin.H{"user": u.Login, "teams": u.Teams}) {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-c.Request.Context().Done():
			return
		case <-tick.C:
			present()
			if _, err := fmt.Fprint(c.Writer, ": alive\n\n"); err != nil {
				return
			}
			c.Writer.Flush()
		case e, open := <-events:
			if !open {
				return
			}
			if e.Kind != inbox.KindResync && !inbox.CanSee(u, store.Ticket{Team: e.Team}) {
				continue
			}
			if !write(e.Kind, e) {
				return
			}
		}
	}
}

// splitList reads a comma-separated parameter: its items, trimmed, the
// empty ones left out.
func splitList(s string) []string {
	var out []string
	for x := range strings.SplitSeq(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
