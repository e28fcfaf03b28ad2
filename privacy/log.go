package privacy

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// LogHandler returns a handler that writes through h with the personal data
// of every string of a record (its message, its attributes, in groups too)
// replaced by its kind in brackets ([TCKN], [EMAIL]): no log line carries
// what a user wrote about themselves, whatever a caller passed.
func LogHandler(h slog.Handler, detectors []Detector) slog.Handler {
	return &logHandler{next: h, detectors: detectors}
}

type logHandler struct {
	next      slog.Handler
	detectors []Detector
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = h.attr(a)
	}
	return &logHandler{next: h.next.WithAttrs(red), detectors: h.detectors}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{next: h.next.WithGroup(name), detectors: h.detectors}
}

// attr redacts an attribute's strings: string values, errors and
// stringers as they would print, and groups member by member.
func (h *logHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.redact(v.String()))
	case slog.KindGroup:
		members := v.Group()
		red := make([]any, len(members))
		for i, m := range members {
			red[i] = h.attr(m)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.redact(x.Error()))
		case interface{ String() string }:
			return slog.String(a.Key, h.redact(x.String()))
		case []byte:
			return slog.String(a.Key, h.redact(string(x)))
		case nil:
		default:
			return slog.String(a.Key, h.redact(fmt.Sprintf("%+v", x)))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func (h *logHandler) redact(s string) string { return RedactKinds(s, h.detectors) }

// RedactKinds returns s with what the detectors find replaced by its kind
// in brackets ([TCKN]): for readers who need no value back (logs, roles
// that may not see personal data).
func RedactKinds(s string, detectors []Detector) string {
	matches := Find(s, detectors)
	if len(matches) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		b.WriteString(s[last:m.Start])
		b.WriteString("[" + m.Kind + "]")
		last = m.End
	}
	b.WriteString(s[last:])
	return b.String()
}

// MaskPhone shows a phone number's last four digits only (•••••••4567),
// for screens and listings that identify a contact without revealing them.
func MaskPhone(phone string) string {
	r := []rune(phone)
	if len(r) <= 4 {
		return strings.Repeat("•", len(r))
	}
	return strings.Repeat("•", len(r)-4) + string(r[len(r)-4:])
}
