package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/yanit/yanit/config"
)

// The process's logger keeps the configured kinds of personal data out of
// its lines, the organisation's own patterns with the built-in ones.
func TestLoggerRedactsConfiguredPersonalData(t *testing.T) {
	var buf bytes.Buffer
	p := config.Default().Privacy
	p.Patterns = []config.PIIPattern{{Kind: "CUSTOMER_NO", Regex: `\bMN-\d{8}\b`}}
	for _, format := range []string{"text", "json"} {
		buf.Reset()
		log := newLogger(&buf, config.Log{Level: "info", Format: format}, p)
		log.Info("tool failed for customer MN-12345678", "email", "ayse@example.com", "phone", "0532 123 45 67")
		line := buf.String()
		for _, v := range []string{"MN-12345678", "ayse@example.com", "0532 123 45 67"} {
			if strings.Contains(line, v) {
				t.Errorf("%s log line holds %q: %s", format, v, line)
			}
		}
		for _, want := range []string{"[CUSTOMER_NO]", "[EMAIL]", "[PHONE]"} {
			if !strings.Contains(line, want) {
				t.Errorf("%s log line lacks %s: %s", format, want, line)
			}
		}
	}
}
