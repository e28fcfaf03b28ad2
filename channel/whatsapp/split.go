package whatsapp

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// SplitText cuts body into parts of at most max characters (runes) each, for
// answers longer than one text message (max <= 0 means MaxTextLen).
//
// Each cut is made at the best boundary in the last half of the space left:
// a paragraph break (blank line) first, then a line break, then the end of a
// sentence (., !, ?, … possibly followed by closing quotes or brackets, but
// not a numbered "3."), then any white space. Only when the text has no such
// boundary does it cut at white space nearer the start, and only when it has
// none at all (a long URL, a word longer than max) does it cut inside a word:
// then on a rune boundary that does not break an emoji sequence (ZWJ joins,
// skin tones, flags, keycaps) or a letter from its combining marks, where one
// exists.
//
// Parts are trimmed of the white space at the cut and are never empty; no
// non-space character is lost or reordered. A body that is empty or all white
// space gives no parts.
func SplitText(body string, max int) []string {
	if max <= 0 {
		max = MaxTextLen
	}
	s := strings.TrimFunc(body, isBreakSpace)
	var parts []string
	for s != "" {
		if utf8.RuneCountInString(s) <= max {
			return append(parts, s)
		}
		cut := cutPoint(s, max)
		parts = append(parts, strings.TrimRightFunc(s[:cut], isBreakSpace))
		s = strings.TrimLeftFunc(s[cut:], isBreakSpace)
	}
	return parts
}

// Boundary levels, best first.
const (
	levelParagraph = iota
	levelLine
	levelSentence
	levelSpace
	levels
)

// cutPoint returns the byte offset at which to cut s, which starts with a
// non-space and is longer than max runes. The part before the offset holds
// at most max runes and at least one non-space.
func cutPoint(s string, max int) int {
	// offs[i] is the byte offset of rune i; runes[i] the rune itself. One rune
	// past the window is kept: a space right after it is a fine cut.
	runes := make([]rune, 0, max+1)
	offs := make([]int, 0, max+2)
	for i, r := range s {
		if len(runes) == max+1 {
			break
		}
		runes = append(runes, r)
		offs = append(offs, i)
	}
	// best[l] is the last rune index at which a level-l boundary starts.
	var best [levels]int
	for i := 1; i <= max; i++ {
		r := runes[i]
		if !isBreakSpace(r) {
			continue
		}
		best[levelSpace] = i
		if r == '\n' {
			best[levelLine] = i
			if blankLineFollows(s[offs[i]+1:]) {
				best[levelParagraph] = i
			}
		}
		if endsSentence(runes[:i]) {
			best[levelSentence] = i
		}
	}
	min := max / 2
	for _, i := range best {
		if i > 0 && i >= min {
			return offs[i]
		}
	}
	if i := best[levelSpace]; i > 0 {
		return offs[i]
	}
	// No white space at all: a hard cut, at a grapheme boundary if any.
	for i := max; i > 0; i-- {
		if graphemeBoundary(runes, i) {
			return offs[i]
		}
	}
	return offs[max]
}

// blankLineFollows reports whether rest, the text after a newline, starts
// with a blank line: only spaces or tabs up to the next newline.
func blankLineFollows(rest string) bool {
	for _, r := range rest {
		switch {
		case r == '\n':
			return true
		case isBreakSpace(r):
			continue
		default:
			return false
		}
	}
	return false
}

// endsSentence reports whether text ends a sentence: a terminator followed
// only by closing quotes, brackets or WhatsApp formatting marks. A period
// after a bare number of up to three digits ("1.", "12.") is a list number or
// a Turkish ordinal ("3. kat"), not an end.
func endsSentence(text []rune) bool {
	i := len(text) - 1
	for i >= 0 && strings.ContainsRune(`"'”’»)]}*_~`, text[i]) {
		i--
	}
	if i < 0 {
		return false
	}
	switch text[i] {
	case '!', '?', '…', '。', '！', '？':
		return true
	case '.':
		j := i - 1
		for j >= 0 && unicode.IsDigit(text[j]) {
			j--
		}
		digits := i - 1 - j
		listNumber := digits >= 1 && digits <= 3 && (j < 0 || isBreakSpace(text[j]))
		return !listNumber
	}
	return false
}

// isBreakSpace reports white space a line may break at: not the no-break
// spaces that bind "100 TL" together.
func isBreakSpace(r rune) bool {
	switch r {
	case '\u00a0', '\u2007', '\u202f', '\u2060', '\ufeff':
		return false
	}
	return unicode.IsSpace(r)
}

// graphemeBoundary reports whether a cut before runes[i] keeps user-perceived
// characters whole, by the rules that matter for chat text: no cut before a
// combining mark, variation selector, skin-tone modifier, zero-width joiner,
// tag or keycap; none after a joiner; none inside a regional-indicator pair
// (a flag); none inside CR LF.
func graphemeBoundary(runes []rune, i int) bool {
	prev, r := runes[i-1], runes[i]
	switch {
	case r == '\u200d' || prev == '\u200d':
		return false
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc):
		return false
	case r >= 0xfe00 && r <= 0xfe0f, r >= 0xe0100 && r <= 0xe01ef: // variation selectors
		return false
	case r >= 0x1f3fb && r <= 0x1f3ff: // skin tones
		return false
	case r >= 0xe0020 && r <= 0xe007f: // tags (subdivision flags)
		return false
	case prev == '\r' && r == '\n':
		return false
	case isRegionalIndicator(prev) && isRegionalIndicator(r):
		n := 0
		for j := i - 1; j >= 0 && isRegionalIndicator(runes[j]); j-- {
			n++
		}
		return n%2 == 0
	}
	return true
}

func isRegionalIndicator(r rune) bool { return r >= 0x1f1e6 && r <= 0x1f1ff }
