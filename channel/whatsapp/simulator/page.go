package simulator

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/yanit/yanit/channel/whatsapp/wire"
)

// static holds the page: index.html, sim.css and sim.js (plain JS, no
// build step, nothing from a CDN).
//
//go:embed static
var static embed.FS

// maxNameLen bounds a profile name typed in the page.
const maxNameLen = 60

// heartbeat keeps idle event streams open through proxies.
const heartbeat = 15 * time.Second

// contentSecurityPolicy lets the page load only its own files.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// routes builds the handler of every path under Prefix.
func (s *Simulator) routes() http.Handler {
	assets, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded directory is always there
	}
	mux := http.NewServeMux()
	page := func(w http.ResponseWriter, r *http.Request) { s.handlePage(w, r, assets) }
	mux.HandleFunc("GET "+Prefix, page)
	mux.HandleFunc("GET "+Prefix+"/{$}", page)
	mux.Handle("GET "+Prefix+"/static/", http.StripPrefix(Prefix+"/static/", http.FileServerFS(assets)))

	mux.HandleFunc("GET "+Prefix+"/api/users", s.handleUsers)
	mux.HandleFunc("POST "+Prefix+"/api/users", s.handleCreateUser)
	mux.HandleFunc("GET "+Prefix+"/api/users/{phone}/messages", s.handleTranscript)
	mux.HandleFunc("POST "+Prefix+"/api/users/{phone}/messages", s.handleUserMessage)
	mux.HandleFunc("POST "+Prefix+"/api/users/{phone}/seen", s.handleSeen)
	mux.HandleFunc("GET "+Prefix+"/api/events", s.handleEvents)

	mux.HandleFunc("POST "+Prefix+"/graph/{version}/{phone_number_id}/messages", s.handleMessages)
	mux.HandleFunc(Prefix+"/graph/", s.handleGraphUnknown)
	return mux
}

// handlePage serves the chat page.
func (s *Simulator) handlePage(w http.ResponseWriter, _ *http.Request, assets fs.FS) {
	html, err := fs.ReadFile(assets, "index.html")
	if err != nil {
		http.Error(w, "page missing", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(html)
}

// userInfo is a user as the page lists it.
type userInfo struct {
	Phone string `json:"phone"`
	Name  string `json:"name"`
}

func (s *Simulator) userInfos() []userInfo {
	us := s.Users()
	infos := make([]userInfo, len(us))
	for i, u := range us {
		infos[i] = userInfo{Phone: u.Phone(), Name: u.Name()}
	}
	return infos
}

// broadcastUsers tells every page the users list changed.
func (s *Simulator) broadcastUsers() {
	if s.hub.streams() == 0 {
		// No page is open: nobody to tell, and listing every user costs
		// as much as there are users (a campaign makes thousands).
		return
	}
	s.hub.publish("", event{name: "users", data: mustJSON(s.userInfos())})
}

// handleUsers is GET /sim/api/users.
func (s *Simulator) handleUsers(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.userInfos())
}

// handleCreateUser is POST /sim/api/users {name, phone}: the page picking
// who it is. An existing number keeps its chat and takes the new name.
func (s *Simulator) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	var req userInfo
	if !readJSON(w, r, &req) {
		return
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || utf8.RuneCountInString(req.Name) > maxNameLen {
		writeAPIError(w, http.StatusBadRequest, fmt.Sprintf("name: required, at most %d characters", maxNameLen))
		return
	}
	u := s.User(req.Name, req.Phone)
	if u.err != nil {
		writeAPIError(w, http.StatusBadRequest, "phone: "+u.err.Error())
		return
	}
	writeJSON(w, http.StatusOK, userInfo{Phone: u.Phone(), Name: u.Name()})
}

// pathUser returns the existing user named by the {phone} path value, or
// answers 400 / 404.
func (s *Simulator) pathUser(w http.ResponseWriter, r *http.Request) *User {
	phone := normalizePhone(r.PathValue("phone"))
	if !validPhone(phone) {
		writeAPIError(w, http.StatusBadRequest, "phone: "+ErrInvalidPhone.Error())
		return nil
	}
	u := s.lookup(phone)
	if u == nil {
		writeAPIError(w, http.StatusNotFound, "no user with this number")
	}
	return u
}

// handleTranscript is GET /sim/api/users/{phone}/messages.
func (s *Simulator) handleTranscript(w http.ResponseWriter, r *http.Request) {
	if u := s.pathUser(w, r); u != nil {
		writeJSON(w, http.StatusOK, u.Transcript())
	}
}

// actionRequest is what the page asks a user to do. Type is "text" (Text),
// or the answer to the business message ContextID: "button_reply" (ID is
// the button id), "list_reply" (the row id) or "button" (the quick-reply
// payload). Name, when set, renames the user (and creates it if needed).
type actionRequest struct {
	Name      string `json:"name,omitempty"`
	Type      string `json:"type"`
	Text      string `json:"text,omitempty"`
	ContextID string `json:"context_id,omitempty"`
	ID        string `json:"id,omitempty"`
}

// handleUserMessage is POST /sim/api/users/{phone}/messages: the page's
// user acts. It answers 202 with the recorded message; the webhook leaves
// in the background and its outcome reaches the page as an event.
func (s *Simulator) handleUserMessage(w http.ResponseWriter, r *http.Request) {
	var req actionRequest
	if !readJSON(w, r, &req) {
		return
	}
	if utf8.RuneCountInString(req.Name) > maxNameLen {
		writeAPIError(w, http.StatusBadRequest, fmt.Sprintf("name: at most %d characters", maxNameLen))
		return
	}
	u := s.User(strings.TrimSpace(req.Name), r.PathValue("phone"))
	if u.err != nil {
		writeAPIError(w, http.StatusBadRequest, "phone: "+u.err.Error())
		return
	}
	var (
		msg Message
		err error
	)
	// The webhook outlives the request: it is not tied to its context.
	ctx := context.WithoutCancel(r.Context())
	switch req.Type {
	case "text":
		if strings.TrimSpace(req.Text) == "" {
			writeAPIError(w, http.StatusBadRequest, "text: required")
			return
		}
		msg, err = u.act(ctx, false, func() (*wire.Message, *record, string, error) {
			return textMessage(req.Text), nil, "", nil
		})
	case kindButtonReply, kindListReply, kindQuickReply:
		msg, err = u.act(ctx, false, func() (*wire.Message, *record, string, error) {
			return u.findByID(req.ContextID, req.Type, req.ID)
		})
	default:
		writeAPIError(w, http.StatusBadRequest, `type: must be text, button_reply, list_reply or button`)
		return
	}
	switch {
	case errors.Is(err, ErrNoSuchChoice):
		writeAPIError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, ErrAnswered):
		writeAPIError(w, http.StatusConflict, err.Error())
	case errors.Is(err, ErrClosed):
		writeAPIError(w, http.StatusServiceUnavailable, err.Error())
	case err != nil:
		writeAPIError(w, http.StatusBadRequest, err.Error())
	default:
		writeJSON(w, http.StatusAccepted, msg)
	}
}

// seenRequest lists business messages a page displayed.
type seenRequest struct {
	IDs []string `json:"ids"`
}

// handleSeen is POST /sim/api/users/{phone}/seen: the page displayed these
// messages, so the user has read them.
func (s *Simulator) handleSeen(w http.ResponseWriter, r *http.Request) {
	var req seenRequest
	if !readJSON(w, r, &req) {
		return
	}
	if u := s.pathUser(w, r); u != nil {
		u.markSeen(req.IDs)
		w.WriteHeader(http.StatusNoContent)
	}
}

// handleEvents is GET /sim/api/events?phone=P: a Server-Sent Events stream
// of the users list ("users") and, with a phone, of that chat: "reset" (the
// whole transcript), then "message" for every new or changed message and
// "typing" ({"ms": how long the indicator shows, 0 to hide it}). A stream
// with a phone is a page showing that chat (see ReadOnDisplay).
func (s *Simulator) handleEvents(w http.ResponseWriter, r *http.Request) {
	users := event{name: "users", data: mustJSON(s.userInfos())}
	var sub *subscriber
	if phone := r.URL.Query().Get("phone"); phone != "" {
		// Opening a chat creates the user, so that a page that reconnects
		// after a restart of yanit dev finds its chat again.
		u := s.User("", phone)
		if u.err != nil {
			writeAPIError(w, http.StatusBadRequest, "phone: "+u.err.Error())
			return
		}
		sub = u.subscribe(users)
	} else {
		sub = s.hub.subscribe("", users)
	}
	if sub == nil {
		writeAPIError(w, http.StatusServiceUnavailable, ErrClosed.Error())
		return
	}
	defer s.hub.unsubscribe(sub)

	rc := http.NewResponseController(w)
	// A server-wide write timeout would cut the stream; lift it if possible.
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, "retry: 1000\n\n"); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		s.log.Warn("event stream cannot flush", slog.Any("error", err))
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case ev, ok := <-sub.ch:
			if !ok {
				return // dropped or closed: the page reconnects
			}
			_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.name, ev.data)
		case <-tick.C:
			_, err = io.WriteString(w, ": ping\n\n")
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// messageEvent is a new or changed message for the page.
func messageEvent(m Message) event { return event{name: "message", data: mustJSON(m)} }

// typingEvent shows the typing indicator for d, or hides it (0).
func typingEvent(d time.Duration) event {
	return event{name: "typing", data: mustJSON(map[string]int64{"ms": d.Milliseconds()})}
}

// mustJSON encodes values that always encode (plain data of this package).
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte("null")
	}
	return b
}

// readJSON decodes a small JSON request body, answering 400 when it cannot.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	if err := dec.Decode(v); err != nil {
		writeAPIError(w, http.StatusBadRequest, "reading the request body: "+err.Error())
		return false
	}
	return true
}

// writeAPIError answers a page request with {"error": message}.
func writeAPIError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"error": message})
}
