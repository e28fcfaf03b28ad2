package privacy_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/yanit/yanit/privacy"
)

func TestLogHandlerKeepsPersonalDataOutOfLogLines(t *testing.T) {
	const (
		tckn  = "10000000146"
		iban  = "TR330006100519786457841326"
		card  = "4111 1111 1111 1111"
		email = "ayse.yilmaz@example.com"
		phone = "0532 123 45 67"
	)
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			var h slog.Handler = slog.NewTextHandler(&buf, nil)
			if format == "json" {
				h = slog.NewJSONHandler(&buf, nil)
			}
			log := slog.New(privacy.LogHandler(h, privacy.Builtin("TR")))
			log = log.With(slog.String("contact", email))
			log.Info("user wrote TC "+tckn,
				slog.String("iban", iban),
				slog.Any("error", errors.New("card "+card+" declined")),
				slog.Group("slots", slog.String("phone", phone), slog.Int("attempt", 2)),
				slog.Any("args", map[string]string{"mail": email}),
				slog.String("order", "SP-1001"))
			line := buf.String()
			for _, v := range []string{tckn, iban, card, email, phone, "5321234567"} {
				if strings.Contains(line, v) {
					t.Errorf("the log line holds %q:\n%s", v, line)
				}
			}
			for _, want := range []string{"[TCKN]", "[IBAN]", "[CARD]", "[EMAIL]", "[PHONE]", "SP-1001", "attempt"} {
				if !strings.Contains(line, want) {
					t.Errorf("the log line lacks %q:\n%s", want, line)
				}
			}
		})
	}
}
