package knowledge

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
)

// FileOptions say where AddFile stores a file's document and how it splits
// it.
type FileOptions struct {
	// ID names the document; "" takes the file name without directory and
	// extension.
	ID         string
	Collection string // required
	// Source is where the file came from; "" takes its name.
	Source string
	// Tags are added to those the file sets itself.
	Tags []string
	// Language overrides the file's own and the detected one when set.
	Language string
	// ChunkTokens and OverlapTokens are Split's budget and overlap; a
	// ChunkTokens of 0 takes DefaultChunkTokens and DefaultOverlapTokens.
	ChunkTokens, OverlapTokens int
}

// AddFile parses the file name holding data (by its extension, as Parse),
// splits it and adds it to idx. Every error names the file.
func AddFile(ctx context.Context, idx Index, name string, data []byte, o FileOptions) (Document, Change, error) {
	doc, sections, err := Parse(name, data)
	if err != nil {
		return Document{}, Unchanged, err
	}
	doc.Collection = o.Collection
	base := path.Base(strings.ReplaceAll(name, "\\", "/"))
	doc.ID = cmp.Or(o.ID, strings.TrimSuffix(base, path.Ext(base)))
	doc.Source = cmp.Or(o.Source, name)
	if o.Language != "" {
		doc.Language = o.Language
	}
	for _, t := range o.Tags {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(doc.Tags, t) {
			doc.Tags = append(doc.Tags, t)
		}
	}
	budget, overlap := o.ChunkTokens, o.OverlapTokens
	if budget == 0 {
		budget, overlap = DefaultChunkTokens, DefaultOverlapTokens
	}
	chunks, err := Split(sections, budget, overlap)
	if err != nil {
		return doc, Unchanged, fmt.Errorf("splitting %s: %w", name, err)
	}
	change, err := idx.Add(ctx, doc, chunks)
	if err != nil {
		return doc, Unchanged, fmt.Errorf("adding %s: %w", name, err)
	}
	return doc, change, nil
}
