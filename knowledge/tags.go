package knowledge

import (
	"hash"
	"slices"
	"strconv"
)

// Tags of chunks. A chunk may have tags of its own besides its document's
// (Chunk.Tags: a FAQ row's), and a search filtered by tags (Query.Tags)
// finds the chunks that have each of them, their own or their document's.

// hasTags reports whether a chunk with its document's tags docTags and its
// own tags own has every tag of want.
func hasTags(want, docTags, own []string) bool {
	for _, t := range want {
		if !slices.Contains(docTags, t) && !slices.Contains(own, t) {
			return false
		}
	}
	return true
}

// mayHaveTags reports whether a chunk of d may have every tag of want:
// whether d or one of its chunks has each of them.
func (d *indexedDoc) mayHaveTags(want []string) bool {
	for _, t := range want {
		if slices.Contains(d.doc.Tags, t) {
			continue
		}
		found := false
		for i := range d.chunks {
			if slices.Contains(d.chunks[i].tags, t) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// passing returns, for each chunk of d, its place among the chunks of d
// that have every tag of want, or -1 for one that does not; nil when every
// chunk does (want is empty, or d has all of it).
func (d *indexedDoc) passing(want []string) []int32 {
	if hasTags(want, d.doc.Tags, nil) {
		return nil
	}
	at := make([]int32, len(d.chunks))
	n := int32(0)
	for i := range d.chunks {
		at[i] = -1
		if hasTags(want, d.doc.Tags, d.chunks[i].tags) {
			at[i] = n
			n++
		}
	}
	return at
}

// writeChunkTags adds the chunks' own tags to a fingerprint when any chunk
// has some, so that the fingerprints of documents without them stay what
// they were (and their stored versions are not embedded again).
func writeChunkTags(h hash.Hash, chunks []Chunk) {
	if !slices.ContainsFunc(chunks, func(c Chunk) bool { return len(c.Tags) > 0 }) {
		return
	}
	writeField(h, "chunk tags")
	for _, c := range chunks {
		writeField(h, strconv.Itoa(len(c.Tags)))
		for _, t := range c.Tags {
			writeField(h, t)
		}
	}
}
