package local

import (
	"regexp"
	"strings"
	"time"
)

// number: "1.250,50", "1,250.50", "1250", "12.50", "12,5".
const numberRE = `\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?`

var (
	// A currency sign or code before the number: "₺1250", "$12.50", "TL 100".
	amountPrefixRE = regexp.MustCompile(`(₺|\$|€|£|\b(?:tl|try|usd|eur|gbp)\b)\s?(` + numberRE + `)`)
	// A currency after the number: "1.250,50 TL", "100 lira", "20 dolar",
	// "15 euro'ya", "100 liralık".
	amountSuffixRE = regexp.MustCompile(`(` + numberRE + `)\s?(₺|\$|€|£|(?:tl|try|usd|eur|gbp)\b|(?:lira|dolar|dollar|euro|avro|sterlin|pound)[a-z]*\b)`)
)

// currencyCode maps a folded currency sign, code or word to ISO 4217.
func currencyCode(c string) string {
	switch {
	case c == "₺", c == "tl", c == "try", strings.HasPrefix(c, "lira"):
		return "TRY"
	case c == "$", c == "usd", strings.HasPrefix(c, "dolar"), strings.HasPrefix(c, "dollar"):
		return "USD"
	case c == "€", c == "eur", strings.HasPrefix(c, "euro"), strings.HasPrefix(c, "avro"):
		return "EUR"
	case c == "£", c == "gbp", strings.HasPrefix(c, "sterlin"), strings.HasPrefix(c, "pound"):
		return "GBP"
	}
	return ""
}

// normaliseNumber rewrites a written number with a dot decimal and no
// thousands separators: a separator followed by exactly three digits groups
// thousands unless it is the last of both kinds ("1.250,50", "1,250.50"); a
// last separator followed by one or two digits is the decimal point
// ("12,50", "12.5"). "1.250" and "1,250" are one thousand two hundred fifty.
func normaliseNumber(n string) string {
	last := strings.LastIndexAny(n, ".,")
	if last < 0 {
		return strings.TrimLeft(n, "0")
	}
	intPart, frac := n[:last], n[last+1:]
	if len(frac) == 3 {
		// a thousands group, no decimals
		intPart, frac = n, ""
	}
	intPart = strings.NewReplacer(".", "", ",", "").Replace(intPart)
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	if frac == "" {
		return intPart
	}
	if len(frac) == 1 {
		frac += "0"
	}
	return intPart + "." + frac
}

func findAmounts(f *folded, _ string, _ time.Time) []Slot {
	var out []Slot
	add := func(num, cur string, i, j int) {
		if isDigitAt(f.s, i-1) || isDigitAt(f.s, j) {
			return
		}
		n := normaliseNumber(num)
		if n == "" {
			n = "0"
		}
		out = addSlot(out, f.slot(SlotAmount, n+" "+currencyCode(cur), i, j))
	}
	for _, m := range amountPrefixRE.FindAllStringSubmatchIndex(f.s, -1) {
		add(f.s[m[4]:m[5]], f.s[m[2]:m[3]], m[0], m[1])
	}
	for _, m := range amountSuffixRE.FindAllStringSubmatchIndex(f.s, -1) {
		if m[2] > 0 && (f.s[m[2]-1] == '.' || f.s[m[2]-1] == ',') && isDigitAt(f.s, m[2]-2) {
			continue // the tail of a longer number
		}
		add(f.s[m[2]:m[3]], f.s[m[4]:m[5]], m[0], m[1])
	}
	return out
}
