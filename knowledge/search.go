package knowledge

import "context"

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
// rank fusion of both rankings, which orders the hits.
type Scores struct {
	Vector float64 `json:"vector"`
	Text   float64 `json:"text"`
	Fused  float64 `json:"fused"`
}

// Searcher finds the chunks that answer a query, best first.
type Searcher interface {
	Search(ctx context.Context, q Query) ([]Hit, error)
}
