package sqlite

import (
	"bytes"
	"encoding/binary"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/yanit/yanit/store"
)

// knowledgeStore opens a store with a collection "faq" of 2 dimensions
// holding the documents, one chunk each, of texts by language.
func knowledgeStore(t *testing.T, texts map[string]string) *Store {
	t.Helper()
	s := newStore(t, filepath.Join(t.TempDir(), "yanit.db"))
	ctx := testCtx(t)
	if _, err := s.EnsureCollection(ctx, store.KnowledgeCollection{Name: "faq", Model: "m", Dimensions: 2}); err != nil {
		t.Fatal(err)
	}
	for language, text := range texts {
		_, err := s.ReplaceDocument(ctx, store.KnowledgeDocument{Collection: "faq", ID: language, Language: language, Hash: "h"},
			[]store.KnowledgeChunk{{Ordinal: 1, Text: text, Embedding: []float32{1, 0}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestKnowledgeTextFoldsDiacritics: FTS5's unicode61 tokenizer with
// remove_diacritics 2 lets a user who types without Turkish letters, or in
// capitals, find the Turkish word. It does not stem: that is PostgreSQL's.
func TestKnowledgeTextFoldsDiacritics(t *testing.T) {
	s := knowledgeStore(t, map[string]string{
		"tr": "Sipariş durumunu hesabınızda görürsünüz.",
		"en": "Returns are free.",
	})
	ctx := testCtx(t)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"sipariş", []string{"tr"}},
		{"siparis", []string{"tr"}},
		{"SIPARIŞ", []string{"tr"}},
		{"gorursunuz", []string{"tr"}},
		{"siparişlerim", nil}, // no stemming
		{"returns", []string{"en"}},
		{"returned", nil},
		{"durumunu returns", []string{"en", "tr"}},
	} {
		hits, err := s.SearchText(ctx, tc.query, store.ChunkFilter{})
		if err != nil {
			t.Fatalf("search for %q: %v", tc.query, err)
		}
		var got []string
		for _, h := range hits {
			got = append(got, h.DocumentID)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("search for %q = %v, want %v", tc.query, got, tc.want)
		}
	}
}

func TestFTSMatch(t *testing.T) {
	for text, want := range map[string]string{
		"sipariş nerede":           `"sipariş" OR "nerede"`,
		`"iade" OR (kargo* NEAR`:   `"iade" OR "or" OR "kargo" OR "near"`,
		"İade iade IADE":           `"iade"`, // once: Go lowers İ to i
		"title:iade -kargo ^x":     `"title" OR "iade" OR "kargo" OR "x"`,
		"A-1 5'te":                 `"a" OR "1" OR "5" OR "te"`,
		"?! ... '":                 "",
		"e\u0301clair (combining)": `"e` + "\u0301" + `clair" OR "combining"`,
	} {
		if got := ftsMatch(text); got != want {
			t.Errorf("ftsMatch(%q) = %s, want %s", text, got, want)
		}
	}
	var long bytes.Buffer
	for i := range maxSearchTerms + 10 {
		long.WriteString(string(rune('a'+i%26)) + string(rune('a'+i/26)) + " ")
	}
	if got := ftsMatch(long.String()); bytes.Count([]byte(got), []byte(" OR ")) != maxSearchTerms-1 {
		t.Errorf("a query of %d words gives %d terms, want %d", maxSearchTerms+10, bytes.Count([]byte(got), []byte(" OR "))+1, maxSearchTerms)
	}
}

// TestKnowledgeStorage: embeddings are little-endian float32 BLOBs, and
// the FTS5 index holds one row per chunk, whatever replaced or deleted
// them.
func TestKnowledgeStorage(t *testing.T) {
	s := knowledgeStore(t, map[string]string{"tr": "bir", "en": "one"})
	ctx := testCtx(t)
	v := []float32{1.5, -0.25}
	_, err := s.ReplaceDocument(ctx, store.KnowledgeDocument{Collection: "faq", ID: "tr", Language: "tr", Hash: "h2"},
		[]store.KnowledgeChunk{{Ordinal: 1, Text: "iki", Embedding: v}, {Ordinal: 2, Text: "üç", Embedding: v}})
	if err != nil {
		t.Fatal(err)
	}
	var blob []byte
	if err := s.db.QueryRowContext(ctx, "SELECT embedding FROM knowledge_chunks WHERE document_id = 'tr' AND ordinal = 2").Scan(&blob); err != nil {
		t.Fatal(err)
	}
	want := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, math.Float32bits(1.5)), math.Float32bits(-0.25))
	if !bytes.Equal(blob, want) {
		t.Fatalf("stored embedding = % x, want % x", blob, want)
	}

	count := func(table string) int {
		t.Helper()
		var n int
		if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if chunks, fts := count("knowledge_chunks"), count("knowledge_fts"); chunks != 3 || fts != chunks {
		t.Fatalf("after a replace: %d chunks, %d rows in knowledge_fts; want 3 and 3", chunks, fts)
	}
	if err := s.DeleteDocument(ctx, "faq", "tr"); err != nil {
		t.Fatal(err)
	}
	if chunks, fts := count("knowledge_chunks"), count("knowledge_fts"); chunks != 1 || fts != chunks {
		t.Fatalf("after a delete: %d chunks, %d rows in knowledge_fts; want 1 and 1", chunks, fts)
	}
}
