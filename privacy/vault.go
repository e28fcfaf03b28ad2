package privacy

import (
	"fmt"
	"regexp"
	"strings"
)

// Vault holds the personal data of one conversation behind placeholders:
// Redact replaces each value by a placeholder of its kind ([TCKN_1],
// [EMAIL_2]), the same value by the same placeholder every time, and
// Restore puts the values back, at the one moment they are needed (a
// tool's call). A Vault encodes to JSON, to keep with the conversation.
// It is not safe for concurrent use: a conversation's turns run one at a
// time.
type Vault struct {
	// Values by placeholder.
	Values map[string]string `json:"values,omitempty"`
}

var placeholderRE = regexp.MustCompile(`\[([A-Z][A-Z0-9_]*)_([0-9]+)\]`)

// normal is how two writings of one value compare: without spaces,
// dashes and case ("TR33 0006 …" and "tr330006…").
func normal(s string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "").Replace(s))
}

// placeholder returns the placeholder of value, making one when the vault
// has none for it.
func (v *Vault) placeholder(kind, value string) string {
	if v.Values == nil {
		v.Values = map[string]string{}
	}
	n := 0
	for p, known := range v.Values {
		m := placeholderRE.FindStringSubmatch(p)
		if m == nil || m[1] != kind {
			continue
		}
		if normal(known) == normal(value) {
			return p
		}
		n++
	}
	p := fmt.Sprintf("[%s_%d]", kind, n+1)
	v.Values[p] = value
	return p
}

// Redact returns text with every value the detectors find replaced by its
// placeholder, and what it replaced.
func (v *Vault) Redact(text string, detectors []Detector) (string, []Match) {
	found := Find(text, detectors)
	if len(found) == 0 {
		return text, nil
	}
	var b strings.Builder
	last := 0
	for _, m := range found {
		b.WriteString(text[last:m.Start])
		b.WriteString(v.placeholder(m.Kind, m.Value))
		last = m.End
	}
	b.WriteString(text[last:])
	return b.String(), found
}

// Restore returns text with the vault's placeholders replaced by their
// values; placeholders it does not hold stay as they are.
func (v *Vault) Restore(text string) string {
	return placeholderRE.ReplaceAllStringFunc(text, func(p string) string {
		if val, ok := v.Values[p]; ok {
			return val
		}
		return p
	})
}
