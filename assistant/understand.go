package assistant

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/yanit/yanit/llm"
	"github.com/yanit/yanit/llm/local"
	"github.com/yanit/yanit/prompts"
)

// understanding is what a turn's message means: the intent, its
// calibrated confidence and the alternatives.
type understanding struct {
	Intent     string
	Confidence float64
	Candidates []Candidate
	OutOfScope bool
	Source     string
}

// understand classifies the turn's text with the configured provider.
func (e *Engine) understand(ctx context.Context, t *turn) (understanding, error) {
	start := time.Now()
	defer t.stage("understand", start)
	p := e.classifier.Classify(t.text)
	p = withoutOutOfScopeClass(p)
	u := understanding{Intent: p.Intent, Confidence: p.Confidence, Candidates: candidatesOf(p.Candidates), OutOfScope: p.OutOfScope, Source: ProviderLocal}
	if e.def.Understanding.Provider == ProviderLLM {
		lu, err := e.llmUnderstand(ctx, t, p)
		if err == nil {
			u = lu
		} else if ctx.Err() != nil {
			return u, ctx.Err()
		} else {
			// The model is down: the local classifier still understands.
			e.deps.Logger.Warn("llm understanding failed; using the local classifier", slog.String("error", err.Error()))
			u.Source = "local_after_llm_error"
		}
	}
	t.trace.Candidates = u.Candidates
	return u, nil
}

// withoutOutOfScopeClass turns a prediction of the out-of-scope class
// into an out-of-scope prediction of the most probable real intent, and
// drops the class from the candidates.
func withoutOutOfScopeClass(p local.Prediction) local.Prediction {
	var cands []local.Candidate
	for _, c := range p.Candidates {
		if c.Intent != outOfScopeClass {
			cands = append(cands, c)
		}
	}
	if p.Intent == outOfScopeClass {
		p.OutOfScope = true
		p.Intent, p.Confidence = "", 0
		if len(cands) > 0 {
			p.Intent, p.Confidence = cands[0].Intent, cands[0].Prob
		}
	}
	p.Candidates = cands
	return p
}

// llmUnderstand asks the model for one label. The confidence is never the
// model's own words: it is the probability of the label's tokens from the
// log probabilities, or, when the server gives none, the local
// classifier's calibrated probability of that label.
func (e *Engine) llmUnderstand(ctx context.Context, t *turn, p local.Prediction) (understanding, error) {
	type intentLine struct{ Name, Description string }
	var lines []intentLine
	for _, in := range e.def.Intents {
		desc := in.Title["en"]
		if desc == "" {
			desc = in.Title[e.def.Languages[0]]
		}
		if ex := in.Examples["en"]; len(ex) > 0 {
			desc += ` (e.g. "` + ex[0] + `")`
		}
		lines = append(lines, intentLine{in.Name, desc})
	}
	system, err := prompts.Render("classify", t.lang, map[string]any{"Assistant": e.def.Name, "Intents": lines})
	if err != nil {
		return understanding{}, err
	}
	zero := 0.0
	resp, err := t.chat.Chat(ctx, llm.ChatRequest{
		Messages:    []llm.Message{{Role: llm.RoleSystem, Content: system}, {Role: llm.RoleUser, Content: t.text}},
		Temperature: &zero, MaxTokens: 16, Logprobs: true, TopLogprobs: 5,
	})
	if err != nil {
		return understanding{}, err
	}
	t.trace.Model = resp.Model
	t.trace.Usage = t.trace.Usage.Add(resp.Usage)
	label := strings.Trim(strings.ToLower(strings.TrimSpace(resp.Content)), `"'.`)
	u := understanding{Intent: label, Source: ProviderLLM}
	if e.intents[label] == nil {
		u.Intent, u.OutOfScope = p.Intent, true
		u.Confidence = 0
		u.Candidates = candidatesOf(p.Candidates)
		return u, nil
	}
	if len(resp.Logprobs) > 0 {
		u.Confidence = labelProbability(resp.Content, label, resp.Logprobs)
	} else {
		u.Source = "llm+local"
		for _, c := range p.Candidates {
			if c.Intent == label {
				u.Confidence = c.Prob
			}
		}
	}
	u.Candidates = []Candidate{{Intent: label, Confidence: u.Confidence}}
	for _, c := range p.Candidates {
		if c.Intent != label {
			u.Candidates = append(u.Candidates, Candidate{Intent: c.Intent, Confidence: c.Prob})
		}
	}
	u.OutOfScope = u.Confidence < e.def.Understanding.Threshold
	return u, nil
}

// labelProbability is the probability of the label's own tokens: those
// that overlap the label where it stands in content, so that quotes,
// punctuation or spaces the model put around it do not lower the
// confidence. When the tokens do not spell content, every token counts.
func labelProbability(content, label string, tokens []llm.TokenLogprob) float64 {
	var spelt strings.Builder
	for _, tok := range tokens {
		spelt.WriteString(tok.Token)
	}
	lower := strings.ToLower(content)
	start := strings.Index(lower, label)
	whole := spelt.String() != content || len(lower) != len(content) || start < 0
	end := start + len(label)
	sum, pos := 0.0, 0
	for _, tok := range tokens {
		next := pos + len(tok.Token)
		if whole || next > start && pos < end {
			sum += tok.Logprob
		}
		pos = next
	}
	return math.Exp(sum)
}

// followWords mark a message that continues the last request
// ("ve diğer siparişim?", "what about the other one").
var followWords = []string{"ve", "peki", "bir de", "diger", "baska", "and", "what about", "how about", "other", "another"}

// otherWords ask about another instance of the same thing: the last
// slots are not reused.
var otherWords = []string{"diger", "baska", "obur", "other", "another"}

// followUp returns the last served tool intent when the unclear message
// continues it: it carries one of its slots, or is a short message that
// begins like a follow-up.
func (e *Engine) followUp(t *turn) (string, bool) {
	in := e.intents[t.st.LastIntent]
	if in == nil || in.Tool == "" {
		return "", false
	}
	found := e.extract(t, in)
	for _, s := range in.Slots {
		if s.entity() != EntityContactPhone && found[s.Name] != "" {
			return in.Name, true
		}
	}
	folded := local.Fold(t.text)
	if len(strings.Fields(folded)) > 6 {
		return "", false
	}
	for _, w := range followWords {
		if strings.HasPrefix(folded, w+" ") || folded == w {
			return in.Name, true
		}
	}
	if _, ok := matchesKeywords(otherWords, folded); ok {
		return in.Name, true
	}
	return "", false
}

// extract finds the intent's slots in the turn's text (and the contact's
// own number for contact_phone slots).
func (e *Engine) extract(t *turn, in *Intent) map[string]string {
	out := map[string]string{}
	if len(in.Slots) == 0 {
		return out
	}
	found := e.slots.Extract(t.text, t.lang, in.Name, e.deps.Now())
	for _, s := range in.Slots {
		entity := s.entity()
		if entity == EntityContactPhone {
			if wa := t.in.Contact.WaID; wa != "" {
				out[s.Name] = "+" + strings.TrimPrefix(wa, "+")
			}
			continue
		}
		if i := slices.IndexFunc(found, func(f local.Slot) bool { return f.Name == entity }); i >= 0 {
			out[s.Name] = found[i].Value
		}
	}
	return out
}
