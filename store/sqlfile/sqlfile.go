// Package sqlfile loads the named SQL statements the stores keep in .sql
// files: one statement per "-- name: Name :kind" header (sqlc's format; the
// kind is informative). Lines before a file's first header are its comment.
package sqlfile

import (
	"bufio"
	"fmt"
	"io/fs"
	"strings"
)

// Set is the named statements of a group of .sql files.
type Set map[string]string

// MustLoad is Load for package initialization: a broken file panics, so a
// misspelt or duplicate name fails every test of the package at once.
func MustLoad(fsys fs.FS, glob string) Set {
	s, err := Load(fsys, glob)
	if err != nil {
		panic(fmt.Sprintf("sqlfile: loading %s: %v", glob, err))
	}
	return s
}

// Get returns the statement called name; an unknown name is a programming
// error and panics.
func (s Set) Get(name string) string {
	text, ok := s[name]
	if !ok {
		panic(fmt.Sprintf("sqlfile: no statement named %q", name))
	}
	return text
}

// Load reads the named statements of every file in fsys matching glob.
func Load(fsys fs.FS, glob string) (Set, error) {
	paths, err := fs.Glob(fsys, glob)
	if err != nil {
		return nil, err
	}
	set := Set{}
	for _, path := range paths {
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return nil, err
		}
		if err := set.add(path, string(data)); err != nil {
			return nil, err
		}
	}
	return set, nil
}

func (s Set) add(path, data string) error {
	var name string
	var body strings.Builder
	flush := func() error {
		if name == "" {
			return nil
		}
		text := strings.TrimSpace(body.String())
		if text == "" {
			return fmt.Errorf("%s: statement %s is empty", path, name)
		}
		if _, dup := s[name]; dup {
			return fmt.Errorf("%s: statement %s is defined twice", path, name)
		}
		s[name] = text
		body.Reset()
		return nil
	}
	sc := bufio.NewScanner(strings.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "-- name:"); ok {
			if err := flush(); err != nil {
				return err
			}
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				return fmt.Errorf("%s: statement header without a name", path)
			}
			name = fields[0]
			continue
		}
		if name != "" {
			body.WriteString(line)
			body.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return flush()
}
