package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"time"

	"github.com/yanit/yanit/tools"
)

// Limits of the backend.
const (
	// maxBodyBytes bounds a request's body; a larger one is refused with 413.
	maxBodyBytes = 64 << 10
	// signatureTolerance is how far a request's signing time may be from
	// the backend's clock, either way.
	signatureTolerance = tools.DefaultSignatureTolerance
)

// BackendOptions tunes NewBackend; the zero value is ready to use.
type BackendOptions struct {
	// Logger receives refused requests and failures; nil discards them.
	// It never receives a phone number, an argument or the key.
	Logger *slog.Logger
	// Now is the clock that signatures are checked against; nil means
	// time.Now.
	Now func() time.Time
}

// NewBackend returns Yanıt Market's systems over HTTP, the backend that the
// demo's HTTP tools (configs/demo-tools.yaml) call:
//
//	GET  /orders/{order_id}                        200, 404, 422
//	GET  /cards/{phone}                            200, 404, 422
//	POST /appointments                             201, 400, 422
//	POST /appointments/{appointment_id}/cancel     200, 404, 422
//	GET  /healthz                                  200
//
// Each route runs the Go-native tool of the same name on s, through a
// tools.Registry that validates the arguments against the tool's schema
// first, so both paths give the same results. A success is the tool's User
// and Agent fields in one JSON object; a failure is {"error": "…"}, with
// "field" naming the argument at fault for 422; any other failure of a
// tool is 503, its cause logged.
//
// Every route but /healthz needs an X-Yanit-Signature header made with key
// (see tools.VerifyRequest); a request without a valid one is refused with 401
// before anything happens. Bodies are limited to 64 KiB (413); an unknown
// route is 404 and a known one with the wrong method 405.
//
// NewBackend panics if key is empty: anyone could then book and cancel.
func NewBackend(s *Store, key []byte, opts BackendOptions) http.Handler {
	if len(key) == 0 {
		panic("demo: NewBackend needs a signing key")
	}
	b := &backend{
		key: bytes.Clone(key),
		log: opts.Logger,
		now: opts.Now,
		reg: tools.NewRegistry(),
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.now == nil {
		b.now = time.Now
	}
	// The store's data is in memory: a failed call would fail again.
	b.reg.SetRetry(0, 0)
	for _, t := range s.Tools() {
		b.reg.MustRegister(t)
	}
	return b.routes()
}

// backend serves a Store over HTTP.
type backend struct {
	key []byte
	log *slog.Logger
	now func() time.Time
	reg *tools.Registry
}

// routes is the backend's only routing table.
func (b *backend) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", b.healthz)
	mux.Handle("GET /orders/{order_id}", b.signed(b.orderStatus))
	mux.Handle("GET /cards/{phone}", b.signed(b.cardBalance))
	mux.Handle("POST /appointments", b.signed(b.bookAppointment))
	mux.Handle("POST /appointments/{appointment_id}/cancel", b.signed(b.cancelAppointment))

	// The same paths with any other method, so that 405 and 404 answer in
	// JSON like the rest.
	for path, allow := range map[string]string{
		"/healthz":                              "GET, HEAD",
		"/orders/{order_id}":                    "GET, HEAD",
		"/cards/{phone}":                        "GET, HEAD",
		"/appointments":                         "POST",
		"/appointments/{appointment_id}/cancel": "POST",
	} {
		mux.Handle(path, methodNotAllowed(allow))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no such route"})
	})
	return mux
}

func (b *backend) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (b *backend) orderStatus(w http.ResponseWriter, r *http.Request, _ []byte) {
	b.call(w, r, "order_status", http.StatusOK, map[string]any{"order_id": r.PathValue("order_id")})
}

func (b *backend) cardBalance(w http.ResponseWriter, r *http.Request, _ []byte) {
	b.call(w, r, "card_balance", http.StatusOK, map[string]any{"phone": r.PathValue("phone")})
}

// bookAppointment takes {date, time, service?, phone?}. An optional field
// sent as null or "" counts as absent, since a body template may render an
// argument the model left out that way.
func (b *backend) bookAppointment(w http.ResponseWriter, r *http.Request, body []byte) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "the body must be a JSON object"})
		return
	}
	args := make(map[string]any, len(fields))
	for k, v := range fields {
		if s := string(v); s != "null" && s != `""` {
			args[k] = v
		}
	}
	b.call(w, r, "book_appointment", http.StatusCreated, args)
}

func (b *backend) cancelAppointment(w http.ResponseWriter, r *http.Request, _ []byte) {
	b.call(w, r, "cancel_appointment", http.StatusOK, map[string]any{"appointment_id": r.PathValue("appointment_id")})
}

// call runs a tool with args and writes its User and Agent fields in one
// object with status ok, or its error.
func (b *backend) call(w http.ResponseWriter, r *http.Request, name string, ok int, args map[string]any) {
	raw, err := json.Marshal(args)
	if err != nil {
		b.writeError(r.Context(), w, name, fmt.Errorf("encoding the arguments: %w", err))
		return
	}
	c, err := b.reg.Call(r.Context(), name, raw)
	if err != nil {
		b.writeError(r.Context(), w, name, err)
		return
	}
	out := make(map[string]any, len(c.Result.User)+len(c.Result.Agent))
	maps.Copy(out, c.Result.Agent)
	maps.Copy(out, c.Result.User)
	writeJSON(w, ok, out)
}

// errorBody is the body of every failure.
type errorBody struct {
	Error string `json:"error"`
	// Field names the argument at fault, for 422.
	Field string `json:"field,omitempty"`
}

// writeError maps a tool's error to its status: not found 404, invalid
// 422, anything else 503 with the cause logged, not shown.
func (b *backend) writeError(ctx context.Context, w http.ResponseWriter, name string, err error) {
	var te *tools.Error
	if errors.As(err, &te) {
		switch te.Kind {
		case tools.KindNotFound:
			writeJSON(w, http.StatusNotFound, errorBody{Error: te.Message})
			return
		case tools.KindInvalid:
			writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: te.Message, Field: te.Field})
			return
		}
	}
	b.log.LogAttrs(ctx, slog.LevelError, "demo backend: tool failed",
		slog.String("tool", name), slog.String("err", err.Error()))
	writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "the service is unavailable; try again later"})
}

// signedHandler serves a request whose body was read and whose signature
// was checked.
type signedHandler func(w http.ResponseWriter, r *http.Request, body []byte)

// signed reads the body of a request, up to maxBodyBytes, and passes it to
// h only if the request's signature is valid.
func (b *backend) signed(h signedHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: fmt.Sprintf("the body is larger than %d bytes", maxBodyBytes)})
				return
			}
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "cannot read the body"})
			return
		}
		if err := tools.VerifyRequest(b.key, r, body, b.now(), signatureTolerance); err != nil {
			b.log.LogAttrs(r.Context(), slog.LevelWarn, "demo backend: request refused",
				slog.String("route", r.Pattern), slog.String("reason", err.Error()))
			// RFC 9110 asks a 401 to name its scheme.
			w.Header().Set("WWW-Authenticate", tools.SignatureHeader)
			writeJSON(w, http.StatusUnauthorized, errorBody{Error: err.Error()})
			return
		}
		h(w, r, body)
	})
}

// methodNotAllowed answers 405, naming the methods the path takes.
func methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: fmt.Sprintf("method %s is not allowed here; use %s", r.Method, allow)})
	})
}

// writeJSON writes v as the JSON body of a response with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":"cannot encode the response"}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
