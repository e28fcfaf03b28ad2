package local

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Fold normalises text for matching, classification and embedding. The same
// message may be Turkish or English, so Fold picks a folding under which both
// readings meet: "İPTAL", "IPTAL", "iptal", "ıptal" and "Iptal" all become
// "iptal". It
//   - lower-cases, mapping the Turkish dotted capital İ to i (and dropping the
//     combining dot that decomposed "i̇" carries);
//   - folds the dotless ı to i, so Turkish and English spellings of I agree;
//   - removes diacritics: ç→c, ğ→g, ö→o, ş→s, ü→u, â→a, î→i, û→u and the
//     Latin-1 and Latin Extended-A letters generally (é→e, ñ→n, ß→ss, æ→ae),
//     and drops combining marks so decomposed input folds the same way;
//   - turns every rune that is neither a letter nor a digit (punctuation,
//     symbols, emoji, whitespace) into a space, then collapses runs of spaces
//     and trims both ends.
//
// Letters of other scripts are lower-cased and kept. Fold is pure and safe for
// concurrent use.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true // at the start, so leading separators are dropped
	for _, r := range s {
		if r < utf8.RuneSelf {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
				b.WriteByte(byte(r))
				space = false
			case r >= 'A' && r <= 'Z':
				b.WriteByte(byte(r) + 'a' - 'A')
				space = false
			default:
				if !space {
					b.WriteByte(' ')
					space = true
				}
			}
			continue
		}
		if unicode.Is(unicode.Mn, r) {
			// Combining marks (accents of decomposed text, the dot of i̇) vanish.
			continue
		}
		if f, ok := foldTable[r]; ok {
			b.WriteString(f)
			space = false
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
			space = false
			continue
		}
		if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	out := b.String()
	return strings.TrimSuffix(out, " ")
}

// foldTable maps the non-ASCII letters Fold rewrites, both cases, to their
// ASCII folding.
var foldTable = buildFoldTable()

func buildFoldTable() map[rune]string {
	groups := map[string]string{
		"a":  "àáâãäåāăąǎȁȃȧạảấầẩẫậắằẳẵặÀÁÂÃÄÅĀĂĄǍȀȂȦẠẢẤẦẨẪẬẮẰẲẴẶ",
		"ae": "æÆ",
		"c":  "çćĉċčÇĆĈĊČ",
		"d":  "ďđðĎĐÐ",
		"e":  "èéêëēĕėęěȅȇẹẻẽếềểễệÈÉÊËĒĔĖĘĚȄȆẸẺẼẾỀỂỄỆ",
		"g":  "ĝğġģǧĜĞĠĢǦ",
		"h":  "ĥħĤĦ",
		"i":  "ìíîïĩīĭįıǐȉȋịỉÌÍÎÏĨĪĬĮİIǏȈȊỊỈ",
		"ij": "ĳĲ",
		"j":  "ĵĴ",
		"k":  "ķĸĶ",
		"l":  "ĺļľŀłĹĻĽĿŁ",
		"n":  "ñńņňŉŋÑŃŅŇŊ",
		"o":  "òóôõöøōŏőǒȍȏọỏốồổỗộớờởỡợơÒÓÔÕÖØŌŎŐǑȌȎỌỎỐỒỔỖỘỚỜỞỠỢƠ",
		"oe": "œŒ",
		"r":  "ŕŗřŔŖŘ",
		"s":  "śŝşšșŚŜŞŠȘſ",
		"ss": "ßẞ",
		"t":  "ţťŧțŢŤŦȚ",
		"th": "þÞ",
		"u":  "ùúûüũūŭůűųǔȕȗụủứừửữựưÙÚÛÜŨŪŬŮŰŲǓȔȖỤỦỨỪỬỮỰƯ",
		"w":  "ŵŴ",
		"y":  "ýÿŷỳỹỵÝŸŶỲỸỴ",
		"z":  "źżžŹŻŽ",
	}
	t := make(map[rune]string, 400)
	for ascii, letters := range groups {
		for _, r := range letters {
			t[r] = ascii
		}
	}
	delete(t, 'I') // ASCII, handled by the fast path
	return t
}
