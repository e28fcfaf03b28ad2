package assistant

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/yanit/yanit/llm/local"
	"github.com/yanit/yanit/store"
)

// Knowledge gaps: the questions the assistant could not answer well from
// its knowledge, grouped, so that the content team knows what to write
// next. A turn is a gap when the knowledge held no passage supporting an
// answer (the assistant said so, or handed off after saying so too often),
// or when it answered from passages that were only weakly related.

// The kinds of gap.
const (
	GapNoAnswer = "no_answer" // no passage supported an answer
	GapWeak     = "weak"      // answered from weakly related passages
)

// DefaultWeakScore is the cosine similarity under which the best passage
// of an answer counts as weakly related.
const DefaultWeakScore = 0.35

// noKnowledge starts the reason of a turn the knowledge could not answer.
const noKnowledge = "knowledge: "

// Gap is a group of similar questions that went unanswered or weakly
// answered.
type Gap struct {
	// Intent is the topic the questions were understood as.
	Intent string `json:"intent"`
	// Questions are the distinct questions of the group, newest first, at
	// most maxGapQuestions of them.
	Questions []string `json:"questions"`
	// Count is how many turns the group holds; NoAnswer of them found no
	// passage at all, the rest only weak ones.
	Count    int `json:"count"`
	NoAnswer int `json:"no_answer"`
	// BestScore is the best similarity of a passage found for any of them.
	BestScore float64   `json:"best_score"`
	LastSeen  time.Time `json:"last_seen"`
	// Conversations are some of the conversations they were asked in.
	Conversations []int64 `json:"conversations"`
}

const (
	maxGapQuestions     = 5
	maxGapConversations = 5
	// sameQuestion is the similarity of two questions' embeddings from
	// which they join one group.
	sameQuestion = 0.5
)

// GapKind says whether the turn is a knowledge gap, and of which kind ("" when
// it is not), with the best passage similarity its trace recorded.
func GapKind(t store.Turn, weakScore float64) (kind string, best float64) {
	var trace struct {
		Sources []Source `json:"sources"`
	}
	_ = json.Unmarshal(t.Trace, &trace) // a turn without a readable trace has no sources
	for _, s := range trace.Sources {
		best = max(best, s.Vector)
	}
	switch {
	case strings.HasPrefix(t.Reason, noKnowledge) || strings.Contains(t.Reason, "last: "+noKnowledge):
		return GapNoAnswer, best
	case t.Decision == DecisionAnswer && len(trace.Sources) > 0 && best < weakScore:
		return GapWeak, best
	}
	return "", best
}

// KnowledgeGaps groups the gaps among turns (newest first, as
// store.ListRecentTurns returns them) by intent and by the similarity of
// the questions, largest group first.
func KnowledgeGaps(turns []store.Turn, weakScore float64) []Gap {
	type member struct {
		gap *Gap
		vec []float32
	}
	emb := local.NewEmbedder(256)
	var groups []*member
	for _, t := range turns {
		kind, best := GapKind(t, weakScore)
		q := strings.TrimSpace(t.Input)
		if kind == "" || q == "" {
			continue
		}
		vecs, _ := emb.Embed(context.Background(), []string{q}) // the local embedder never fails
		v := vecs[0]
		var into *member
		bestSim := sameQuestion
		for _, g := range groups {
			if g.gap.Intent != t.Intent {
				continue
			}
			if sim := dot(g.vec, v); sim >= bestSim {
				into, bestSim = g, sim
			}
		}
		if into == nil {
			into = &member{gap: &Gap{Intent: t.Intent, LastSeen: t.CreatedAt}, vec: v}
			groups = append(groups, into)
		}
		g := into.gap
		g.Count++
		if kind == GapNoAnswer {
			g.NoAnswer++
		}
		g.BestScore = max(g.BestScore, best)
		if t.CreatedAt.After(g.LastSeen) {
			g.LastSeen = t.CreatedAt
		}
		if len(g.Questions) < maxGapQuestions && !slices.ContainsFunc(g.Questions, func(x string) bool { return local.Fold(x) == local.Fold(q) }) {
			g.Questions = append(g.Questions, q)
		}
		if len(g.Conversations) < maxGapConversations && !slices.Contains(g.Conversations, t.ConversationID) {
			g.Conversations = append(g.Conversations, t.ConversationID)
		}
	}
	out := make([]Gap, len(groups))
	for i, g := range groups {
		out[i] = *g.gap
	}
	slices.SortStableFunc(out, func(a, b Gap) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return b.LastSeen.Compare(a.LastSeen)
	})
	return out
}

// dot is the cosine similarity of two L2-normalised vectors.
func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}
