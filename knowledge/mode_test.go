package knowledge_test

import (
	"context"
	"testing"

	"github.com/yanit/yanit/knowledge"
)

func TestSearchModes(t *testing.T) {
	t.Parallel()
	m := shop(t)
	const query = "iade nasıl yapılır"
	all := search(t, m, knowledge.Query{Text: query, Limit: 100})
	var matching int
	for _, h := range all {
		if h.Scores.Text > 0 {
			matching++
		}
	}
	if matching == 0 || matching == len(all) {
		t.Fatalf("%d of %d chunks share a term with %q; want some, not all", matching, len(all), query)
	}
	for _, tt := range []struct {
		mode knowledge.SearchMode
		// hits is how many chunks the mode returns: every chunk, or only
		// those with a text score.
		hits  int
		score func(knowledge.Scores) float64
	}{
		{knowledge.VectorOnly, len(all), func(s knowledge.Scores) float64 { return s.Vector }},
		{knowledge.TextOnly, matching, func(s knowledge.Scores) float64 { return s.Text }},
	} {
		t.Run(tt.mode.String(), func(t *testing.T) {
			t.Parallel()
			hits := search(t, m, knowledge.Query{Text: query, Limit: 100, Mode: tt.mode})
			if len(hits) != tt.hits {
				t.Fatalf("%d hits, want %d", len(hits), tt.hits)
			}
			for i, h := range hits {
				if want := 1 / float64(60+i+1); h.Scores.Fused != want {
					t.Errorf("hit %d fused %.5f, want the rank's share %.5f", i+1, h.Scores.Fused, want)
				}
				if tt.mode == knowledge.TextOnly && h.Scores.Text <= 0 {
					t.Errorf("hit %d %s: scores %+v, want a text score", i+1, h.Citation, h.Scores)
				}
				if i > 0 && tt.score(h.Scores) > tt.score(hits[i-1].Scores) {
					t.Errorf("hit %d %s above hit %d in the ranking: %+v, %+v", i+1, h.Citation, i, h.Scores, hits[i-1].Scores)
				}
			}
		})
	}
	t.Run("unknown", func(t *testing.T) {
		t.Parallel()
		if _, err := m.Search(context.Background(), knowledge.Query{Text: query, Mode: knowledge.SearchMode(7)}); err == nil {
			t.Error("Search with mode 7: no error")
		}
	})
}
