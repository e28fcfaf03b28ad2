package knowledge

import (
	"context"
	"strconv"
)

// Query is one knowledge search.
type Query struct {
	Text string
	// Collection, Language and Tags filter the chunks searched; empty
	// matches all. A chunk matches Tags when it has every one of them.
	Collection string
	Language   string
	Tags       []string
	// Limit is the number of hits; 0 means DefaultLimit.
	Limit int
	// Mode chooses the ranking that orders the hits; the zero value,
	// Fused, is the hybrid search.
	Mode SearchMode
}

// SearchMode is the ranking a Query's hits are ordered by.
type SearchMode int

// The rankings of a search.
const (
	// Fused orders chunks by the reciprocal rank fusion of their vector
	// and full-text rankings.
	Fused SearchMode = iota
	// VectorOnly orders chunks by cosine similarity alone.
	VectorOnly
	// TextOnly orders chunks by their full-text score alone and returns
	// only the chunks sharing a term with the query.
	TextOnly
)

// String returns "fused", "vector" or "text".
func (m SearchMode) String() string {
	switch m {
	case Fused:
		return "fused"
	case VectorOnly:
		return "vector"
	case TextOnly:
		return "text"
	default:
		return "SearchMode(" + strconv.Itoa(int(m)) + ")"
	}
}

// DefaultLimit is the number of hits of a Query without a Limit.
const DefaultLimit = 5

// Hit is one chunk found, with what the engine needs to cite it.
type Hit struct {
	ChunkID    string
	DocumentID string
	Title      string // the document's title
	Section    string // heading path, "Returns > Refunds"
	Source     string // the document's source URI or file name
	Language   string
	Text       string
	Scores     Scores
	// Citation is the short id the engine shows the user next to an
	// answer drawn from this hit.
	Citation string
}

// Scores of a hit: cosine similarity of the vectors, the full-text score
// (bm25 or ts_rank; 0 when the text search missed it) and the reciprocal
// rank fusion of both rankings, which orders the hits (of the one ranking
// the Query's Mode names, when it is not Fused).
type Scores struct {
	Vector float64 `json:"vector"`
	Text   float64 `json:"text"`
	Fused  float64 `json:"fused"`
}

// Searcher finds the chunks that answer a query, best first.
type Searcher interface {
	Search(ctx context.Context, q Query) ([]Hit, error)
}
