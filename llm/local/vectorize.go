package local

import (
	"math"
)

// sparse is a feature vector: parallel feature indices and values.
type sparse struct {
	idx []int32
	val []float32
}

// vectorizer maps text to TF-IDF vectors over the features seen in training.
// After fitting it is read-only and safe for concurrent use (each caller
// brings its own extractor).
type vectorizer struct {
	cfg        ngrams
	index      map[uint64]int32 // feature hash -> column
	idf        []float32
	group      []int8
	wordWeight float32 // weight of the word group after its normalisation
	charWeight float32
}

// fitVectorizer builds the vocabulary (features seen in at least minDF
// training texts) and inverse document frequencies from folded texts.
func fitVectorizer(folded []string, cfg ngrams, minDF int, wordWeight, charWeight float32) *vectorizer {
	df := make(map[uint64]int32)
	var order []uint64 // first-seen order keeps columns deterministic
	x := extractor{cfg: cfg}
	for _, t := range folded {
		for _, tm := range x.extract(t) {
			if df[tm.hash] == 0 {
				order = append(order, tm.hash)
			}
			df[tm.hash]++
		}
	}
	v := &vectorizer{cfg: cfg, index: make(map[uint64]int32), wordWeight: wordWeight, charWeight: charWeight}
	n := float64(len(folded))
	for _, h := range order {
		if int(df[h]) < minDF {
			continue
		}
		v.index[h] = int32(len(v.idf))
		v.idf = append(v.idf, float32(math.Log((1+n)/(1+float64(df[h])))+1))
		v.group = append(v.group, int8(h&1))
	}
	return v
}

// dim is the number of columns.
func (v *vectorizer) dim() int { return len(v.idf) }

// vectorize appends the vector of one folded text to dst (reusing its
// slices): sublinear tf × idf, each group scaled to unit length and then
// weighted.
func (v *vectorizer) vectorize(x *extractor, folded string, dst sparse) sparse {
	dst.idx, dst.val = dst.idx[:0], dst.val[:0]
	var norm [2]float64
	for _, t := range x.extract(folded) {
		col, ok := v.index[t.hash]
		if !ok {
			continue
		}
		w := sublinear(t.count) * v.idf[col]
		dst.idx = append(dst.idx, col)
		dst.val = append(dst.val, w)
		norm[t.group] += float64(w) * float64(w)
	}
	var scale [2]float32
	if norm[groupWord] > 0 {
		scale[groupWord] = v.wordWeight / float32(math.Sqrt(norm[groupWord]))
	}
	if norm[groupChar] > 0 {
		scale[groupChar] = v.charWeight / float32(math.Sqrt(norm[groupChar]))
	}
	for i, col := range dst.idx {
		dst.val[i] *= scale[v.group[col]]
	}
	return dst
}
