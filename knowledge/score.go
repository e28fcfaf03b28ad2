package knowledge

import (
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/yanit/yanit/llm/local"
)

// Ranking constants.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
	rrfK   = 60
)

// Full-text terms. A word is folded by local.Fold (lower case, Turkish and
// other diacritics folded, split at every rune that is not a letter or a
// digit); frequent function words ("the", "my", "ve", "bir", "nasıl") are
// dropped; the rest are cut to their first five letters. Cutting words to a
// fixed prefix is a light stemmer that suits Turkish, whose suffixes follow
// the stem ("sipariş", "siparişim", "siparişlerimiz" all give "sipar";
// "açılış" and "açılıyor" give "acili"), and English inflection ("returns",
// "returned" give "retur").
//
// Four-letter stems are common ("iade", "kart", "para", "earn"), and their
// inflected forms ("iadesi", "kartım", "earning") would not meet them, so a
// chunk also indexes the first four letters of each word of four letters or
// more under a separate key, and a four-letter query word looks that key up:
// "iade" finds "iade", "iadesi" and "iadeniz". Shorter query words match
// whole words only.
const (
	termPrefix  = 5
	shortPrefix = 4
	// shortKey marks the four-letter keys, which no folded word starts with.
	shortKey = "^"
)

// indexTerms returns the frequency of each key of text (see the term
// constants) and its number of words.
func indexTerms(text string) (map[string]int32, int) {
	words := contentWords(text)
	counts := make(map[string]int32, len(words)*2)
	for _, w := range words {
		counts[prefix(w, termPrefix)]++
		if p := prefix(w, shortPrefix); len(p) < len(w) || utf8.RuneCountInString(w) == shortPrefix {
			counts[shortKey+p]++
		}
	}
	return counts, len(words)
}

// queryTerms returns the distinct keys of a query, sorted.
func queryTerms(text string) []string {
	var out []string
	for _, w := range contentWords(text) {
		if utf8.RuneCountInString(w) == shortPrefix {
			out = append(out, shortKey+w)
		} else {
			out = append(out, prefix(w, termPrefix))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// contentWords returns the folded words of text without stopwords.
func contentWords(text string) []string {
	words := strings.Fields(local.Fold(text))
	out := words[:0]
	for _, w := range words {
		if !stopwords[w] {
			out = append(out, w)
		}
	}
	return out
}

// stopwords are folded Turkish and English function words, which carry no
// topic: in a small knowledge base BM25 would still give them weight.
var stopwords = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(`
		a an the is are was were be been being am do does did doing i you we they he she it
		me my your yours our us them their its this that these those to of in on at for with
		from by about into and or but if so as what how when where why who whom which can could
		would should will shall may might must have has had not no yes please there here then
		than just also any some all
		ve veya ile bir bu su o da de ki mi mu ne ama fakat icin gibi daha cok en ben sen biz
		siz onlar benim senin sizin bizim bana sana size bize beni seni sizi bizi onu ona var
		yok nasil nerede neden niye hangi kim acaba lutfen`) {
		m[w] = true
	}
	return m
}()

// prefix returns the first n runes of s.
func prefix(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// bm25IDF is the inverse document frequency of a term found in df of n
// chunks, in the form that stays positive (Lucene's).
func bm25IDF(n, df float64) float64 {
	return math.Log(1 + (n-df+0.5)/(df+0.5))
}

// bm25TF is the saturated, length-normalised frequency of a term.
func bm25TF(tf, length, avgLength float64) float64 {
	norm := 1 - bm25B
	if avgLength > 0 {
		norm += bm25B * length / avgLength
	}
	return tf * (bm25K1 + 1) / (tf + bm25K1*norm)
}

// rrf is the reciprocal rank fusion share of a 1-based rank.
func rrf(rank int) float64 { return 1 / float64(rrfK+rank) }

// normalized returns a unit-length copy of v, or a zero vector when v is
// zero or holds a NaN or an infinity (whose cosines would break the order).
func normalized(v []float32) []float32 {
	var sq float64
	for _, f := range v {
		sq += float64(f) * float64(f)
	}
	out := make([]float32, len(v))
	if sq == 0 || math.IsNaN(sq) || math.IsInf(sq, 0) {
		return out
	}
	inv := 1 / math.Sqrt(sq)
	for i, f := range v {
		out[i] = float32(float64(f) * inv)
	}
	return out
}

// dot is the dot product of two vectors of the same length: their cosine
// when both have unit length.
// Four partial sums let the CPU overlap the additions.
func dot(a, b []float32) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return float64((s0 + s1) + (s2 + s3))
}
