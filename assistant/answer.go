package assistant

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/llm"
	"github.com/yanit/yanit/llm/local"
	"github.com/yanit/yanit/prompts"
)

// noAnswer is what the model writes when the passages do not answer.
const noAnswer = "NO_ANSWER"

// maxExtract bounds an extractive answer, in characters.
const maxExtract = 700

// answerFromKnowledge answers from the passages that support an answer,
// always with their source; when none does, it says so and offers a
// person instead of guessing.
func (e *Engine) answerFromKnowledge(ctx context.Context, t *turn, in *Intent) error {
	start := time.Now()
	q := knowledge.Query{Text: t.text, Collection: in.Knowledge.Collection, Tags: in.Knowledge.Tags, Language: t.lang, Limit: 3}
	hits, err := e.deps.Knowledge.Search(ctx, q)
	if err == nil && len(hits) == 0 {
		q.Language = "" // a passage in another language beats none
		hits, err = e.deps.Knowledge.Search(ctx, q)
	}
	t.stage("retrieve", start)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		e.deps.Logger.Warn("knowledge search failed", slog.String("intent", in.Name), slog.String("error", err.Error()))
		if err := e.say(t, e.def.Messages.ToolError, nil); err != nil {
			return err
		}
		return e.handoff(ctx, t, ReasonToolFailed, "knowledge search: "+err.Error(), in.Team)
	}
	for _, h := range hits {
		t.trace.Retrieved = append(t.trace.Retrieved, Source{Citation: h.Citation, ChunkID: h.ChunkID, Title: h.Title,
			Section: h.Section, Vector: h.Scores.Vector, Text: h.Scores.Text, Fused: h.Scores.Fused})
	}
	var support []knowledge.Hit
	best := 0.0
	for _, h := range hits {
		best = max(best, h.Scores.Vector)
		// A passage supports an answer when it is close in meaning or
		// shares words with the question (the intent already chose the
		// topic; the search is narrowed to it).
		if h.Scores.Vector >= e.def.Policy.KnowledgeMinScore || h.Scores.Text > 0 {
			support = append(support, h)
		}
	}
	if len(support) == 0 {
		return e.noAnswer(ctx, t, fmt.Sprintf(noKnowledge+"no passage supports an answer (best cosine %.2f)", best))
	}
	start = time.Now()
	var answer string
	used := support[:1]
	generated := false
	if e.def.Understanding.Provider == ProviderLLM && e.deps.Chat != nil {
		answer, used, err = e.generate(ctx, t, support)
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			e.deps.Logger.Warn("grounded generation failed; answering with an extract", slog.String("error", err.Error()))
			answer, used = "", support[:1]
		}
		if answer == noAnswer {
			t.stage("generate", start)
			return e.noAnswer(ctx, t, noKnowledge+"the model found no answer in the passages")
		}
		// The answer cites passages as [n]: the source line numbers them
		// the same way.
		generated = answer != ""
	}
	if answer == "" {
		used = []knowledge.Hit{closest(support, t.text)}
		answer = extract(used[0].Text, t.text)
	}
	t.stage("generate", start)
	var cites []string
	for _, h := range used {
		n := ""
		if generated {
			n = fmt.Sprintf("[%d] ", slices.IndexFunc(support, func(s knowledge.Hit) bool { return s.ChunkID == h.ChunkID })+1)
		}
		src := Source{Citation: h.Citation, ChunkID: h.ChunkID, Title: h.Title, Section: h.Section, Vector: h.Scores.Vector, Text: h.Scores.Text, Fused: h.Scores.Fused}
		t.trace.Sources = append(t.trace.Sources, src)
		t.st.Sources = appendBounded(t.st.Sources, src)
		label := h.Title
		if h.Section != "" && h.Section != h.Title {
			label += " › " + lastSection(h.Section)
		}
		if label = n + label; !slices.Contains(cites, label) {
			cites = append(cites, label)
		}
	}
	t.st.LastIntent, t.st.LastSlots = in.Name, nil
	t.reply.Decision, t.reply.Reason = DecisionAnswer, fmt.Sprintf("knowledge: %d passage(s), best cosine %.2f", len(used), best)
	label := e.def.Messages.Source[t.lang].Text
	return e.say(t, Localized{t.lang: {Text: answer + "\n\n" + label + ": " + strings.Join(cites, "; ")}}, nil)
}

// noAnswer says the knowledge base holds no answer; it counts as a
// fallback, so repeated misses hand off.
func (e *Engine) noAnswer(ctx context.Context, t *turn, reason string) error {
	t.st.Fallbacks++
	if t.st.Fallbacks >= e.def.Policy.MaxFallbacks {
		return e.handoff(ctx, t, ReasonFallbacks, fmt.Sprintf("%d fallbacks in a row; last: %s", t.st.Fallbacks, reason), "")
	}
	t.reply.Decision, t.reply.Reason = DecisionFallback, reason
	return e.say(t, e.def.Messages.NoAnswer, nil)
}

func lastSection(path string) string {
	if i := strings.LastIndex(path, " > "); i >= 0 {
		return path[i+3:]
	}
	return path
}

// generate writes a grounded answer from the passages with the model; it
// returns the passages the answer cites ([n]), or all of them when it
// cites none.
func (e *Engine) generate(ctx context.Context, t *turn, passages []knowledge.Hit) (string, []knowledge.Hit, error) {
	language := map[string]string{"tr": "Turkish", "en": "English"}[t.lang]
	system, err := prompts.Render("answer", t.lang, map[string]any{"Assistant": e.def.Name, "Language": language, "Passages": passages})
	if err != nil {
		return "", nil, err
	}
	zero := 0.0
	resp, err := t.chat.Chat(ctx, llm.ChatRequest{
		Messages:    []llm.Message{{Role: llm.RoleSystem, Content: system}, {Role: llm.RoleUser, Content: t.text}},
		Temperature: &zero, MaxTokens: 300,
	})
	if err != nil {
		return "", nil, err
	}
	t.trace.Model = resp.Model
	t.trace.Usage = t.trace.Usage.Add(resp.Usage)
	answer := strings.TrimSpace(resp.Content)
	if strings.Contains(answer, noAnswer) || answer == "" {
		return noAnswer, nil, nil
	}
	var used []knowledge.Hit
	for i, p := range passages {
		if strings.Contains(answer, fmt.Sprintf("[%d]", i+1)) {
			used = append(used, p)
		}
	}
	if len(used) == 0 {
		used = passages
	}
	return answer, used, nil
}

// closest picks, among passages that support an answer, the one whose
// own text shares the most word stems with the question; ties keep the
// search order. The search ranks title and section too, which makes every
// passage of a well-titled document look alike.
func closest(hits []knowledge.Hit, question string) knowledge.Hit {
	q := stems(question)
	best, bestN := hits[0], -1
	for _, h := range hits {
		n := 0
		for st := range stems(h.Text) {
			if q[st] {
				n++
			}
		}
		if n > bestN {
			best, bestN = h, n
		}
	}
	return best
}

// extract answers from a passage without a model: the whole passage when
// it is short, else the sentences sharing the most word stems with the
// question, in their original order, within maxExtract characters.
func extract(passage, question string) string {
	passage = strings.TrimSpace(passage)
	if len([]rune(passage)) <= maxExtract {
		return passage
	}
	sentences := splitSentences(passage)
	q := stems(question)
	type scored struct {
		i     int
		score int
	}
	var ranked []scored
	for i, s := range sentences {
		n := 0
		for st := range stems(s) {
			if q[st] {
				n++
			}
		}
		ranked = append(ranked, scored{i, n})
	}
	slices.SortStableFunc(ranked, func(a, b scored) int { return b.score - a.score })
	var keep []int
	size := 0
	for _, r := range ranked {
		l := len([]rune(sentences[r.i])) + 1
		if size+l > maxExtract && len(keep) > 0 {
			continue
		}
		keep = append(keep, r.i)
		size += l
	}
	slices.Sort(keep)
	var b strings.Builder
	for i, k := range keep {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(sentences[k])
	}
	return b.String()
}

// stems are the folded words of a text cut to five characters, a cheap
// stand-in for stemming Turkish suffixes and English inflections.
func stems(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.FieldsFunc(local.Fold(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if r := []rune(w); len(r) > 5 {
			w = string(r[:5])
		}
		if len(w) > 2 {
			out[w] = true
		}
	}
	return out
}

// splitSentences cuts text after ., ! and ? followed by a space, and at
// line breaks.
func splitSentences(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		start := 0
		rs := []rune(line)
		for i, r := range rs {
			if (r == '.' || r == '!' || r == '?') && (i+1 == len(rs) || rs[i+1] == ' ') {
				if s := strings.TrimSpace(string(rs[start : i+1])); s != "" {
					out = append(out, s)
				}
				start = i + 1
			}
		}
		if s := strings.TrimSpace(string(rs[start:])); s != "" {
			out = append(out, s)
		}
	}
	return out
}
