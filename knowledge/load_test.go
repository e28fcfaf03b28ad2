package knowledge_test

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/llm/local"
)

//go:embed testdata/kb
var embedded embed.FS

func TestLoadDirEmbedded(t *testing.T) {
	t.Parallel()
	kb, err := fs.Sub(embedded, "testdata/kb")
	if err != nil {
		t.Fatal(err)
	}
	m := knowledge.NewMemory(local.NewEmbedder(512))
	added, err := knowledge.LoadDir(context.Background(), m, kb, "shop")
	if err != nil || added != 6 {
		t.Fatalf("LoadDir = %d, %v; want 6, nil", added, err)
	}
	var got []string
	for _, d := range m.Documents() {
		got = append(got, d.ID+" "+d.Language+" "+strings.Join(d.Tags, ",")+" "+d.Collection)
	}
	want := []string{
		"en/loyalty-card en loyalty shop",
		"en/returns en orders,returns shop",
		"en/store-hours en stores shop",
		"tr/iade tr orders,returns shop",
		"tr/magaza-saatleri tr stores shop",
		"tr/teslimat tr orders,delivery shop",
	}
	if !slices.Equal(got, want) {
		t.Errorf("documents\n %q\nwant\n %q", got, want)
	}
	added, err = knowledge.LoadDir(context.Background(), m, kb, "shop")
	if err != nil || added != 0 {
		t.Errorf("loading the same folder again = %d, %v; want 0, nil", added, err)
	}
}

func TestLoadDirReportsBadFiles(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"faq/kargo.md":      {Data: []byte("# Kargo\n\nKargo iki günde gelir.")},
		"faq/notes.TXT":     {Data: []byte("Mağazada hediye paketi ücretsizdir.")},
		"faq/brochure.odt":  {Data: []byte("%PDF-1.7")},
		"faq/empty.md":      {Data: nil},
		"faq/latin1.txt":    {Data: []byte("\xfcr\xfcn")},
		"faq/iade.md":       {Data: []byte("# İade\n\n30 gün içinde iade edilir.")},
		"faq/iade.txt":      {Data: []byte("İade bilgisi, ikinci kez.")},
		".git/config":       {Data: []byte("[core]")},
		"faq/.DS_Store":     {Data: []byte{0, 1, 2}},
		"faq/deep/a/b/c.md": {Data: []byte("# Derin\n\nDerin klasördeki belge.")},
	}
	m := knowledge.NewMemory(local.NewEmbedder(128))
	added, err := knowledge.LoadDir(context.Background(), m, fsys, "shop")
	if added != 4 {
		t.Errorf("added %d documents, want 4 (kargo, notes, iade, c)", added)
	}
	if err == nil {
		t.Fatal("no error for the bad files")
	}
	for _, bad := range []string{"faq/brochure.odt", "faq/empty.md", "faq/latin1.txt", "faq/iade.txt"} {
		if !strings.Contains(err.Error(), bad) {
			t.Errorf("error does not name %s:\n%v", bad, err)
		}
	}
	for _, hidden := range []string{".git", ".DS_Store"} {
		if strings.Contains(err.Error(), hidden) {
			t.Errorf("error names the hidden %s:\n%v", hidden, err)
		}
	}
	if !errors.Is(err, knowledge.ErrUnsupportedFormat) {
		t.Errorf("error %v does not wrap ErrUnsupportedFormat", err)
	}
	t.Logf("LoadDir error:\n%v", err)
	if n := strings.Count(err.Error(), "\n") + 1; n != 4 {
		t.Errorf("%d errors, want 4:\n%v", n, err)
	}
	hits := search(t, m, knowledge.Query{Text: "hediye paketi", Limit: 1})
	if hits[0].DocumentID != "faq/notes" || hits[0].Source != "faq/notes.TXT" || hits[0].Title != "notes" {
		t.Errorf("the plain-text file: hit %+v", hits[0])
	}
}

func TestLoadDirStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := knowledge.NewMemory(local.NewEmbedder(64))
	added, err := knowledge.LoadDir(ctx, m, fstest.MapFS{"a.md": {Data: []byte("# A\n\nText.")}}, "shop")
	if !errors.Is(err, context.Canceled) || added != 0 {
		t.Errorf("LoadDir with a cancelled context = %d, %v; want 0, context.Canceled", added, err)
	}
}
