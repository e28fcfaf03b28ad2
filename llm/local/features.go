package local

import (
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// FNV-1a, 64 bit.
const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

// Feature namespaces: the first byte hashed, so a word and a character
// n-gram with the same letters never share a hash.
const (
	nsWord   byte = 'w'
	nsBigram byte = 'b'
	nsChar   byte = 'c'
)

// Feature groups: word features (unigrams, bigrams) and character n-grams are
// weighted and normalised separately, so the many character n-grams of a
// sentence do not drown its few words.
const (
	groupWord = 0
	groupChar = 1
)

// ngrams says which features a text yields.
type ngrams struct {
	bigrams          bool // word bigrams besides unigrams
	charMin, charMax int  // character n-gram lengths over "<word>"; 0 = none
	crossWords       bool // character n-grams over the whole "<text>", spaces included
}

// term is one distinct feature of a text with its raw count.
type term struct {
	hash  uint64
	count int32
	group int8
}

// nsSeed is the FNV-1a state after hashing the namespace byte ns.
func nsSeed(ns byte) uint64 {
	h := fnvOffset
	return (h ^ uint64(ns)) * fnvPrime
}

// hashRune continues an FNV-1a hash over the UTF-8 bytes of r.
func hashRune(h uint64, r rune) uint64 {
	if r < utf8.RuneSelf {
		return (h ^ uint64(r)) * fnvPrime
	}
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	for _, c := range buf[:n] {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// extractor turns folded text into its distinct terms, reusing its buffers;
// it is not safe for concurrent use (make one per goroutine).
type extractor struct {
	cfg   ngrams
	raw   []uint64 // hashes with the group in the lowest bit, repeats kept
	runes []rune
	terms []term
}

// extract returns the distinct features of folded, sorted by hash, counted.
// The slice is reused by the next call.
func (e *extractor) extract(folded string) []term {
	e.raw = e.raw[:0]
	prev := ""
	for w := range strings.SplitSeq(folded, " ") {
		if w == "" {
			continue
		}
		e.raw = append(e.raw, hashString(nsSeed(nsWord), w)&^1|groupWord)
		if e.cfg.bigrams && prev != "" {
			h := hashString(nsSeed(nsBigram), prev)
			h = (h ^ ' ') * fnvPrime
			e.raw = append(e.raw, hashString(h, w)&^1|groupWord)
		}
		prev = w
		if e.cfg.charMax > 0 && !e.cfg.crossWords {
			e.charGrams(w)
		}
	}
	if e.cfg.charMax > 0 && e.cfg.crossWords && folded != "" {
		e.charGrams(folded)
	}
	slices.Sort(e.raw)
	e.terms = e.terms[:0]
	for i := 0; i < len(e.raw); {
		j := i + 1
		for j < len(e.raw) && e.raw[j] == e.raw[i] {
			j++
		}
		e.terms = append(e.terms, term{hash: e.raw[i], count: int32(j - i), group: int8(e.raw[i] & 1)})
		i = j
	}
	return e.terms
}

// charGrams appends the character n-grams of "<w>".
func (e *extractor) charGrams(w string) {
	e.runes = append(e.runes[:0], '<')
	for _, r := range w {
		e.runes = append(e.runes, r)
	}
	e.runes = append(e.runes, '>')
	rs := e.runes
	for i := range rs {
		h := nsSeed(nsChar)
		for n := 1; n <= e.cfg.charMax && i+n <= len(rs); n++ {
			h = hashRune(h, rs[i+n-1])
			if n >= e.cfg.charMin {
				e.raw = append(e.raw, h|groupChar)
			}
		}
	}
}

// sublinear is the damped term frequency 1 + ln(tf).
func sublinear(count int32) float32 {
	if count <= 1 {
		return 1
	}
	return float32(1 + math.Log(float64(count)))
}
