package knowledge

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// LoadDir indexes into m every .md, .markdown and .txt file of fsys (an
// os.DirFS folder or an embed.FS), walking subfolders, in collection. A
// document's ID is its path without the extension ("returns/policy"), its
// Source the path; files are split with DefaultChunkTokens and
// DefaultOverlapTokens. Names starting with a dot (".git", ".DS_Store") are
// skipped.
//
// A file that cannot be read, parsed or added (another extension, an empty
// file, a second file giving the same ID) does not stop the others: LoadDir
// goes on and returns the errors of all of them joined, each naming its
// file. It stops at once only when ctx is done. added counts the documents
// that were new or changed; re-loading an unchanged folder adds 0.
func LoadDir(ctx context.Context, m Index, fsys fs.FS, collection string) (added int, err error) {
	var errs []error
	ids := make(map[string]string) // document ID → path that gave it
	walkErr := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "." {
				return err
			}
			errs = append(errs, fmt.Errorf("reading %s: %w", p, err))
			return nil
		}
		if p != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		change, err := loadFile(ctx, m, fsys, p, collection, ids)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			errs = append(errs, err)
		case change != Unchanged:
			added++
		}
		return nil
	})
	if walkErr != nil {
		return added, fmt.Errorf("loading %s: %w", collection, walkErr)
	}
	return added, errors.Join(errs...)
}

// loadFile reads one file and adds it (AddFile) under its path without
// extension, unless an earlier file took that ID.
func loadFile(ctx context.Context, m Index, fsys fs.FS, p, collection string, ids map[string]string) (Change, error) {
	data, err := fs.ReadFile(fsys, p)
	if err != nil {
		return Unchanged, fmt.Errorf("reading %s: %w", p, err)
	}
	id := strings.TrimSuffix(p, path.Ext(p))
	if other, ok := ids[id]; ok {
		return Unchanged, fmt.Errorf("loading %s: document ID %q already taken by %s", p, id, other)
	}
	ids[id] = p
	_, change, err := AddFile(ctx, m, p, data, FileOptions{ID: id, Collection: collection, Source: p})
	return change, err
}
