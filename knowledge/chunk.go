package knowledge

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Chunk sizes LoadDir uses, in EstimateTokens units.
const (
	DefaultChunkTokens   = 256
	DefaultOverlapTokens = 32
)

// Chunk is a piece of one section of a document: the unit that is embedded,
// searched and cited. Its ordinal is its 1-based position in the slice Split
// returns, which is the document order.
type Chunk struct {
	Section string // the section's heading path
	Text    string
	Tokens  int // EstimateTokens(Text)
	// Tags are the section's own tags (a FAQ row's), besides the
	// document's: a search filtered by tags (Query.Tags) finds the chunk
	// when it has each of them, its own or its document's.
	Tags []string
}

// EstimateTokens estimates the model tokens of text as its whitespace-
// separated words times 1.3, rounded up: about right for English under the
// usual BPE vocabularies. Turkish, whose words carry many suffixes, often
// takes 1.5–2 tokens a word with English-centred vocabularies, so the budget
// of Split is a size, not a model limit; leave headroom under the real one.
func EstimateTokens(text string) int {
	return tokens(len(strings.Fields(text)))
}

// tokens is the estimate of n words.
func tokens(words int) int { return (words*13 + 9) / 10 }

// maxWords is the largest word count whose estimate fits budget.
func maxWords(budget int) int { return budget * 10 / 13 }

// Split cuts sections into chunks of at most budget tokens (EstimateTokens),
// never across two sections. A section that fits the budget is one chunk.
// Otherwise blocks (paragraphs, list items, tables) are packed whole while
// they fit; a block larger than the budget is cut into sentences (lines for
// tables and code), and only a sentence larger than the budget is cut
// between words. Each chunk after the first of a section starts with the
// last whole sentences of the previous one, up to overlap tokens, as long as
// they leave room for new text; the overlap is never a partial sentence.
//
// Blocks are joined with a blank line, sentences of one block with a space.
// Every chunk of a section has the section's Tags. The budget must be at
// least 2 (one word) and the overlap in [0, budget).
func Split(sections []Section, budget, overlap int) ([]Chunk, error) {
	if budget < 2 {
		return nil, fmt.Errorf("chunk budget %d tokens: want at least 2", budget)
	}
	if overlap < 0 || overlap >= budget {
		return nil, fmt.Errorf("chunk overlap %d tokens: want at least 0 and under the budget %d", overlap, budget)
	}
	var out []Chunk
	for _, s := range sections {
		out = splitSection(out, s, budget, overlap)
	}
	return out, nil
}

// unit is a piece of a section that a chunk holds whole: a block, or a
// sentence or line of a block too large for the budget.
type unit struct {
	text    string
	words   int
	block   int    // index of its block in the section
	sep     string // separator from the previous unit of the same block
	partial bool   // a run of words of a sentence too long for the budget
}

// splitSection appends the chunks of s to out.
func splitSection(out []Chunk, s Section, budget, overlap int) []Chunk {
	var cur []unit
	words := 0
	emit := func() {
		if len(cur) > 0 {
			text := join(cur)
			out = append(out, Chunk{Section: s.Path, Text: text, Tokens: tokens(words), Tags: slices.Clone(s.Tags)})
		}
	}
	for b, block := range s.Blocks {
		for _, u := range units(b, block, budget) {
			if tokens(words+u.words) <= budget {
				cur = append(cur, u)
				words += u.words
				continue
			}
			emit()
			cur = tail(cur, overlap, budget-tokens(u.words))
			words = 0
			for _, o := range cur {
				words += o.words
			}
			cur = append(cur, u)
			words += u.words
		}
	}
	emit()
	return out
}

// units returns a block whole when it fits the budget, else its sentences
// (or lines), any still too large cut into runs of words.
func units(b int, block string, budget int) []unit {
	n := len(strings.Fields(block))
	if tokens(n) <= budget {
		return []unit{{text: block, words: n, block: b}}
	}
	var out []unit
	for _, p := range pieces(block) {
		u := unit{text: p.text, words: len(strings.Fields(p.text)), block: b, sep: p.sep}
		if tokens(u.words) <= budget {
			out = append(out, u)
			continue
		}
		fields := strings.Fields(p.text)
		step := maxWords(budget)
		for i := 0; i < len(fields); i += step {
			run := fields[i:min(i+step, len(fields))]
			sep := " "
			if i == 0 {
				sep = p.sep
			}
			out = append(out, unit{text: strings.Join(run, " "), words: len(run), block: b, sep: sep, partial: true})
		}
	}
	return out
}

// tail returns the last whole sentences of the units of a chunk, at most
// overlap tokens and at most room tokens, as units of their blocks. A run of
// words cut from an over-long sentence is never overlapped.
func tail(prev []unit, overlap, room int) []unit {
	limit := min(overlap, room)
	var out []unit
	words := 0
	for i := len(prev) - 1; i >= 0 && !prev[i].partial; i-- {
		ps := pieces(prev[i].text)
		for j := len(ps) - 1; j >= 0; j-- {
			n := len(strings.Fields(ps[j].text))
			if tokens(words+n) > limit {
				slices.Reverse(out)
				return out
			}
			sep := ps[j].sep
			if j == 0 {
				sep = prev[i].sep
			}
			out = append(out, unit{text: ps[j].text, words: n, block: prev[i].block, sep: sep})
			words += n
		}
	}
	slices.Reverse(out)
	return out
}

// join writes units as chunk text: a blank line between blocks, each
// unit's separator within one.
func join(us []unit) string {
	var b strings.Builder
	for i, u := range us {
		if i > 0 {
			if u.block != us[i-1].block {
				b.WriteString("\n\n")
			} else {
				b.WriteString(u.sep)
			}
		}
		b.WriteString(u.text)
	}
	return b.String()
}

// piece is a sentence or a line of a block, with the separator before it.
type piece struct {
	text, sep string
}

// pieces cuts a block into lines when it has several (tables, code, nested
// lists), else into sentences.
func pieces(block string) []piece {
	if strings.Contains(block, "\n") {
		var out []piece
		for line := range strings.SplitSeq(block, "\n") {
			if strings.TrimSpace(line) != "" {
				out = append(out, piece{text: line, sep: "\n"})
			}
		}
		return out
	}
	var out []piece
	for _, s := range sentences(block) {
		out = append(out, piece{text: s, sep: " "})
	}
	return out
}

// sentences cuts prose into sentences, each trimmed: a sentence ends at
// ".", "!", "?" or "…" (and closing quotes or brackets after them) followed
// by a space and a word that does not start in lower case, unless the word
// before the stop is a common abbreviation ("Dr.", "örn.", "vb.") or a
// single letter. Text without such a stop is one sentence.
func sentences(text string) []string {
	var out []string
	start := 0
	for i, r := range text {
		if !isStop(r) {
			continue
		}
		end := i + utf8.RuneLen(r)
		for end < len(text) {
			next, n := utf8.DecodeRuneInString(text[end:])
			if !isStop(next) && !strings.ContainsRune(`"'”’)]»`, next) {
				break
			}
			end += n
		}
		if end >= len(text) {
			break
		}
		next, _ := utf8.DecodeRuneInString(text[end:])
		if !unicode.IsSpace(next) {
			continue
		}
		rest := strings.TrimLeftFunc(text[end:], unicode.IsSpace)
		first, _ := utf8.DecodeRuneInString(rest)
		if rest == "" || unicode.IsLower(first) || (r == '.' && abbreviation(text[start:i])) {
			continue
		}
		if s := strings.TrimSpace(text[start:end]); s != "" {
			out = append(out, s)
		}
		start = end
	}
	if s := strings.TrimSpace(text[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

func isStop(r rune) bool { return r == '.' || r == '!' || r == '?' || r == '…' }

// abbreviation reports whether the last word of before is one that takes a
// period without ending the sentence.
func abbreviation(before string) bool {
	i := strings.LastIndexFunc(before, unicode.IsSpace)
	w := before[i+1:]
	if utf8.RuneCountInString(w) == 1 {
		return unicode.IsLetter([]rune(w)[0])
	}
	return abbreviations[strings.ToLower(w)]
}

var abbreviations = map[string]bool{
	"dr": true, "mr": true, "mrs": true, "ms": true, "prof": true, "st": true,
	"no": true, "nr": true, "vs": true, "e.g": true, "i.e": true, "approx": true,
	"örn": true, "vb": true, "bkz": true, "sn": true, "av": true,
	"doç": true, "yrd": true, "tel": true, "mah": true, "cad": true, "sok": true,
}
