package simulator

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/channel/whatsapp/wire"
)

// maxRequestBytes bounds a Graph API request body.
const maxRequestBytes = 1 << 20

// apiVersion is a Graph API version path segment ("v24.0").
var apiVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)

// graphError is a Graph API failure: the HTTP status and Meta's error object.
type graphError struct {
	status int
	err    wire.GraphError
}

func newGraphError(status, code int, typ, message, details string) *graphError {
	g := &graphError{status: status, err: wire.GraphError{Message: message, Type: typ, Code: &code, FBTraceID: newTraceID()}}
	if details != "" {
		g.err.ErrorData = &wire.ErrorData{MessagingProduct: wire.MessagingProduct, Details: details}
	}
	return g
}

// Graph API errors the simulator answers, with Meta's codes and wording.
func errInvalidToken() *graphError {
	return newGraphError(http.StatusUnauthorized, 190, "OAuthException", "Invalid OAuth access token - Cannot parse access token", "")
}

func errUnknownObject(id string) *graphError {
	g := newGraphError(http.StatusBadRequest, 100, "GraphMethodException", fmt.Sprintf(
		"Unsupported post request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", id), "")
	g.err.ErrorSubcode = 33
	return g
}

func errUnknownPath(path string) *graphError {
	return newGraphError(http.StatusBadRequest, 2500, "OAuthException", "Unknown path components: "+path, "")
}

func errInvalidParameter(details string) *graphError {
	return newGraphError(http.StatusBadRequest, 100, "OAuthException", "(#100) Invalid parameter", details)
}

func errParameterValue(details string) *graphError {
	return newGraphError(http.StatusBadRequest, 131009, "OAuthException", "(#131009) Parameter value is not valid", details)
}

func errReengagement() *graphError {
	return newGraphError(http.StatusBadRequest, 131047, "OAuthException", "(#131047) Re-engagement message",
		"Message failed to send because more than 24 hours have passed since the customer last replied to this number.")
}

func errThroughput() *graphError {
	return newGraphError(http.StatusBadRequest, 130429, "OAuthException", "(#130429) Rate limit hit",
		"Cloud API message throughput has been reached.")
}

func errUnavailable() *graphError {
	return newGraphError(http.StatusServiceUnavailable, 2, "OAuthException", "Service temporarily unavailable", "")
}

// limitError turns a failed Validate into Meta's answer: 100 for a missing
// parameter, 131009 for a bad value, naming the field in the details.
func limitError(le *whatsapp.LimitError) *graphError {
	details := le.Field + ": " + le.Problem
	if le.Limit != 0 || le.Got != 0 {
		details += fmt.Sprintf(" (got %d, limit %d)", le.Got, le.Limit)
	}
	if strings.HasPrefix(le.Problem, "required") {
		return errInvalidParameter(details)
	}
	return errParameterValue(details)
}

// handleMessages is POST /sim/graph/{version}/{phone_number_id}/messages:
// a send, or a mark-read with an optional typing indicator.
func (s *Simulator) handleMessages(w http.ResponseWriter, r *http.Request) {
	if s.isClosed() {
		s.writeGraphError(w, errUnavailable())
		return
	}
	if !s.authorized(r) {
		s.writeGraphError(w, errInvalidToken())
		return
	}
	if v := r.PathValue("version"); !apiVersion.MatchString(v) {
		s.writeGraphError(w, errUnknownPath("/"+v))
		return
	}
	if id := r.PathValue("phone_number_id"); id != s.opts.PhoneNumberID {
		s.writeGraphError(w, errUnknownObject(id))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		s.writeGraphError(w, errInvalidParameter("reading the request body: "+err.Error()))
		return
	}
	// Every body has messaging_product; a status member makes it a
	// mark-read.
	var probe wire.ReadRequest
	if err := json.Unmarshal(body, &probe); err != nil {
		s.writeGraphError(w, errInvalidParameter("the request body is not a JSON object: "+err.Error()))
		return
	}
	if probe.MessagingProduct != wire.MessagingProduct {
		s.writeGraphError(w, errInvalidParameter(`messaging_product: required, must be "whatsapp"`))
		return
	}
	if probe.Status != "" {
		s.markRead(w, probe)
		return
	}
	var out whatsapp.Outbound
	if err := json.Unmarshal(body, &out); err != nil {
		s.writeGraphError(w, errInvalidParameter(strings.TrimPrefix(err.Error(), "decoding outbound message: ")))
		return
	}
	if err := out.Validate(); err != nil {
		var le *whatsapp.LimitError
		if errors.As(err, &le) {
			s.writeGraphError(w, limitError(le))
		} else {
			s.writeGraphError(w, errInvalidParameter(err.Error()))
		}
		return
	}
	if out.To == "" {
		s.writeGraphError(w, errInvalidParameter("to: the simulator addresses users by phone number, not by recipient"))
		return
	}
	phone := normalizePhone(out.To)
	u := s.lookup(phone)
	if u == nil {
		if _, ok := out.Content.(*whatsapp.Template); !ok {
			// Nobody ever wrote from this number: no window is open.
			s.writeGraphError(w, errReengagement())
			return
		}
		// A template may start a chat: the number becomes a user.
		u = s.User("", phone)
	}
	id, gerr := u.receive(&out)
	if gerr != nil {
		s.writeGraphError(w, gerr)
		return
	}
	writeJSON(w, http.StatusOK, wire.SendResponse{
		MessagingProduct: wire.MessagingProduct,
		Contacts:         []wire.ResponseContact{{Input: out.To, WaID: phone}},
		Messages:         []wire.ResponseMessage{{ID: id}},
	})
}

// markRead answers a mark-read request: the user sees blue ticks and,
// with a typing indicator, "typing…".
func (s *Simulator) markRead(w http.ResponseWriter, req wire.ReadRequest) {
	switch {
	case req.Status != whatsapp.StatusRead:
		s.writeGraphError(w, errParameterValue(`status: must be "read"`))
		return
	case req.MessageID == "":
		s.writeGraphError(w, errInvalidParameter("message_id: required"))
		return
	case req.TypingIndicator != nil && req.TypingIndicator.Type != "text":
		s.writeGraphError(w, errParameterValue(`typing_indicator.type: must be "text"`))
		return
	}
	s.mu.Lock()
	u := s.inbound[req.MessageID]
	s.mu.Unlock()
	if u == nil || !u.markRead(req.MessageID, req.TypingIndicator != nil) {
		s.writeGraphError(w, errInvalidParameter("message_id: no message with this id was received by this number"))
		return
	}
	writeJSON(w, http.StatusOK, wire.ReadResponse{Success: true})
}

// handleGraphUnknown answers every other Graph API path as Meta does.
func (s *Simulator) handleGraphUnknown(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		s.writeGraphError(w, errInvalidToken())
		return
	}
	s.writeGraphError(w, errUnknownPath(strings.TrimPrefix(r.URL.Path, Prefix+"/graph")))
}

// authorized checks the bearer token in constant time.
func (s *Simulator) authorized(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(s.opts.AccessToken)) == 1
}

func (s *Simulator) writeGraphError(w http.ResponseWriter, g *graphError) {
	s.log.Info("graph api request rejected", slog.Int("code", *g.err.Code), slog.Int("http_status", g.status))
	if g.status == http.StatusUnauthorized {
		// Meta names the token problem in this header as well.
		w.Header().Set("WWW-Authenticate", `OAuth "Facebook Platform" "invalid_token" "`+g.err.Message+`"`)
	}
	writeJSON(w, g.status, wire.ErrorResponse{Error: &g.err})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
