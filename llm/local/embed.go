package local

import (
	"context"
	"fmt"
	"math"
)

// DefaultEmbeddingDim is the dimension of an Embedder made with dim <= 0.
const DefaultEmbeddingDim = 512

// EmbeddingModel names the hashing scheme of Embedder. It changes whenever
// the same text would get a different vector, so stored vectors can be told
// apart from new ones and re-embedded.
const EmbeddingModel = "local-hash-v1"

// Embedder makes multilingual hashing embeddings: the folded text (see Fold)
// is cut into word unigrams and bigrams and character 3- to 5-grams of each
// word with boundary markers ("<siparis>"), each feature's damped count
// 1+ln(tf) is added with a sign into one of Dim buckets chosen by a 64-bit
// FNV-1a hash, word and character features are normalised separately and
// summed, and the result is scaled to unit length.
//
// The vectors need no training and no download, depend only on the text and
// the dimension, and are identical on every machine and run. Texts that share
// stems ("sipariş", "siparişimin") share character n-grams, which is what
// makes Turkish suffixes and English inflections land close together. A text
// with no letters or digits gets the zero vector (its cosine with anything is
// 0, never NaN).
//
// An Embedder holds no mutable state and is safe for concurrent use.
type Embedder struct {
	dim int
}

// NewEmbedder returns an Embedder of dimension dim, or of
// DefaultEmbeddingDim when dim <= 0.
func NewEmbedder(dim int) *Embedder {
	if dim <= 0 {
		dim = DefaultEmbeddingDim
	}
	return &Embedder{dim: dim}
}

// embedNgrams are the features of an embedding.
var embedNgrams = ngrams{bigrams: true, charMin: 3, charMax: 5}

// Dim returns the length of every vector Embed returns.
func (e *Embedder) Dim() int { return e.dim }

// Model returns EmbeddingModel. Vectors are comparable only between the same
// model and the same Dim.
func (e *Embedder) Model() string { return EmbeddingModel }

// Embed returns one unit-length vector (or the zero vector, for a text with
// no letters or digits) per text, in order. It fails only when ctx is done.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	backing := make([]float32, len(texts)*e.dim)
	x := extractor{cfg: embedNgrams}
	for i, t := range texts {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("embedding text %d: %w", i, err)
			}
		}
		out[i] = backing[i*e.dim : (i+1)*e.dim : (i+1)*e.dim]
		e.embedOne(&x, t, out[i])
	}
	return out, nil
}

// embedOne writes the embedding of text into v (len Dim, zeroed).
func (e *Embedder) embedOne(x *extractor, text string, v []float32) {
	terms := x.extract(Fold(text))
	if len(terms) == 0 {
		return
	}
	// Norms of each group, so words and character n-grams weigh the same.
	var norm [2]float64
	for _, t := range terms {
		w := float64(sublinear(t.count))
		norm[t.group] += w * w
	}
	var scale [2]float32
	for g := range norm {
		if norm[g] > 0 {
			scale[g] = float32(1 / math.Sqrt(norm[g]))
		}
	}
	dim := uint64(e.dim)
	for _, t := range terms {
		h := mix64(t.hash)
		w := sublinear(t.count) * scale[t.group]
		if h>>63 == 1 {
			w = -w
		}
		v[(h&0x7fffffffffffffff)%dim] += w
	}
	var sq float64
	for _, f := range v {
		sq += float64(f) * float64(f)
	}
	if sq == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(sq))
	for i := range v {
		v[i] *= inv
	}
}

// mix64 is the splitmix64 finaliser: it spreads FNV's weak high bits before
// a hash picks a bucket and a sign.
func mix64(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}
