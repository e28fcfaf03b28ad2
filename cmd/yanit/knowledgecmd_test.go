package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/llm/openai/openaitest"
)

const (
	iadeMD = `# İade ve Değişim

## İade nasıl yapılır

Ürünü teslim aldığınız tarihten itibaren 14 gün içinde iade edebilirsiniz. İade için
mağazaya faturanızla gelin ya da kargo ile ücretsiz gönderin. İade tutarı ödeme
yaptığınız karta beş iş günü içinde yatırılır.

## Değişim

Beden ya da renk değişimi için ürünün etiketi üzerinde ve kullanılmamış olması gerekir.
`
	shippingMD = `# Shipping

Orders placed before noon ship the same day. Standard delivery takes two to three
business days; express delivery arrives the next business day in most cities.
`
)

// hitOut is a hit of search --json as a script reads it.
type hitOut struct {
	DocumentID string `json:"document_id"`
	Language   string `json:"language"`
	Citation   string `json:"citation"`
	Scores     struct {
		Fused float64 `json:"fused"`
	} `json:"scores"`
}

func TestKnowledgeCommands(t *testing.T) {
	isolate(t)
	t.Setenv("YANIT_DATA_DIR", t.TempDir())
	docs := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		path := filepath.Join(docs, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("iade.md", iadeMD)
	write("en/shipping.md", shippingMD)
	write("notlar.xyz", "not a format yanit reads")
	write("bos.md", "")
	write(".taslak.md", "# Taslak\n\nBu dosya gizli ve okunmamalı.\n")

	ingest := func(wantCode int, wantSummary string, wantFailed ...string) {
		t.Helper()
		code, out, errOut := run(t, "knowledge", "ingest", docs)
		if code != wantCode {
			t.Fatalf("ingest: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, wantCode, out, errOut)
		}
		if first, _, _ := strings.Cut(out, "\n"); first != wantSummary {
			t.Fatalf("ingest summary = %q, want %q\n%s", first, wantSummary, out)
		}
		for _, name := range wantFailed {
			if !regexp.MustCompile(`(?m)^  failed \S*` + regexp.QuoteMeta(name) + `: .+`).MatchString(out) {
				t.Errorf("ingest output names no failure of %s with its reason:\n%s", name, out)
			}
		}
		if strings.Count(out, "  failed ") != len(wantFailed) {
			t.Errorf("ingest reports other failures than %v:\n%s", wantFailed, out)
		}
	}

	// A bad file fails alone; the dot file is skipped, not counted.
	ingest(1, "2 added, 0 replaced, 0 unchanged, 2 failed", "notlar.xyz", "bos.md")
	for _, name := range []string{"notlar.xyz", "bos.md"} {
		os.Remove(filepath.Join(docs, name))
	}
	ingest(0, "0 added, 0 replaced, 2 unchanged, 0 failed")
	write("en/shipping.md", shippingMD+"\nReturns of online orders are free within 14 days.\n")
	ingest(0, "0 added, 1 replaced, 1 unchanged, 0 failed")

	list := func() string {
		t.Helper()
		code, out, errOut := run(t, "knowledge", "list")
		if code != 0 {
			t.Fatalf("list: exit %d\n%s", code, errOut)
		}
		return out
	}
	out := list()
	for id, text := range map[string]string{"iade": iadeMD, "en/shipping": shippingMD + "\nReturns of online orders are free within 14 days.\n"} {
		_, sections, err := knowledge.Parse(id+".md", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		chunks, err := knowledge.Split(sections, knowledge.DefaultChunkTokens, knowledge.DefaultOverlapTokens)
		if err != nil {
			t.Fatal(err)
		}
		row := regexp.MustCompile(`(?m)^default +` + regexp.QuoteMeta(id) + ` .* (\d+) +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).FindStringSubmatch(out)
		if row == nil || row[1] != strconv.Itoa(len(chunks)) {
			t.Errorf("list: want a row of %s with %d chunks and an RFC 3339 time:\n%s", id, len(chunks), out)
		}
	}
	if !regexp.MustCompile(`(?m)^default +local-hash-v1 +512 +2$`).MatchString(out) {
		t.Errorf("list lacks the collection with its model, dimension and documents:\n%s", out)
	}
	if strings.Contains(out, "taslak") {
		t.Errorf("list shows the dot file:\n%s", out)
	}

	search := func(args ...string) []hitOut {
		t.Helper()
		code, out, errOut := run(t, append([]string{"knowledge", "search", "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("search %v: exit %d\n%s", args, code, errOut)
		}
		var hits []hitOut
		if err := json.Unmarshal([]byte(out), &hits); err != nil {
			t.Fatalf("search %v --json: %v\n%s", args, err, out)
		}
		return hits
	}
	hits := search("iade nasıl yapılır")
	if len(hits) == 0 || hits[0].DocumentID != "iade" || hits[0].Scores.Fused <= 0 || !strings.HasPrefix(hits[0].Citation, "iade#") {
		t.Fatalf("search iade nasıl yapılır: want the Turkish document first with a fused score, got %+v", hits)
	}
	hits = search("iade nasıl yapılır", "--language", "en")
	if len(hits) == 0 || slices.ContainsFunc(hits, func(h hitOut) bool { return h.Language != "en" || h.DocumentID == "iade" }) {
		t.Fatalf("search --language en: want only the English document, got %+v", hits)
	}
	code, out, errOut := run(t, "knowledge", "search", "iade nasıl yapılır", "--limit", "1")
	if code != 0 || !strings.Contains(out, "1. [iade#") || !strings.Contains(out, "İade ve Değişim › İade nasıl yapılır\n") || !strings.Contains(out, "fused ") {
		t.Fatalf("search: exit %d, want the citation, title › section and scores:\n%s%s", code, out, errOut)
	}

	if code, _, errOut := run(t, "knowledge", "delete", "--collection", "default", "en/shipping"); code != 0 {
		t.Fatalf("delete en/shipping: exit %d\n%s", code, errOut)
	}
	if out := list(); strings.Contains(out, "en/shipping") || !strings.Contains(out, "iade") {
		t.Fatalf("list after deleting en/shipping:\n%s", out)
	}
	// An unknown ID is named and fails the command; the known one goes.
	code, _, errOut = run(t, "knowledge", "delete", "--collection", "default", "yok", "iade")
	if code != 1 || !strings.Contains(errOut, `"yok"`) {
		t.Fatalf("delete yok iade: exit %d, stderr %q; want 1 naming yok", code, errOut)
	}
	if out := list(); regexp.MustCompile(`(?m)^default +iade `).MatchString(out) {
		t.Fatalf("list still shows iade after delete yok iade:\n%s", out)
	}
}

func TestKnowledgeIngestFileArgumentID(t *testing.T) {
	isolate(t)
	t.Setenv("YANIT_DATA_DIR", t.TempDir())
	path := filepath.Join(t.TempDir(), "kargo.md")
	if err := os.WriteFile(path, []byte(shippingMD), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "knowledge", "ingest", "--collection", "magaza", "--tags", "kargo,sss", path)
	if code != 0 || !strings.HasPrefix(out, "1 added,") {
		t.Fatalf("ingest %s: exit %d\n%s%s", path, code, out, errOut)
	}
	_, out, _ = run(t, "knowledge", "list", "--collection", "magaza")
	if !regexp.MustCompile(`(?m)^magaza +kargo +Shipping +en +kargo,sss `).MatchString(out) {
		t.Fatalf("list: want the document kargo with the --tags:\n%s", out)
	}
}

// TestKnowledgeReindex: a collection ingested with the local embedder
// refuses another embedding model, with an error saying to reindex;
// reindex embeds it with the configured model, after which ingest and
// search work with it.
func TestKnowledgeReindex(t *testing.T) {
	isolate(t)
	t.Setenv("YANIT_DATA_DIR", t.TempDir())
	docs := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(docs, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("iade.md", iadeMD)
	write("shipping.md", shippingMD)
	ingest := func(wantCode int, wantSummary string) string {
		t.Helper()
		code, out, errOut := run(t, "knowledge", "ingest", docs)
		if first, _, _ := strings.Cut(out, "\n"); code != wantCode || first != wantSummary {
			t.Fatalf("ingest: exit %d, summary %q; want %d, %q\nstdout:\n%s\nstderr:\n%s", code, first, wantCode, wantSummary, out, errOut)
		}
		return out
	}
	ingest(0, "2 added, 0 replaced, 0 unchanged, 0 failed")

	// Another embedding model: an OpenAI-compatible endpoint's, of 8
	// dimensions.
	srv := openaitest.New(t, openaitest.Config{Dimensions: 8})
	for k, v := range map[string]string{
		"YANIT_LLM_PROVIDER": "openai", "YANIT_LLM_BASE_URL": srv.URL(), "YANIT_LLM_API_KEY": openaitest.DefaultKey,
		"YANIT_LLM_CHAT_MODEL": "chat-test", "YANIT_LLM_EMBEDDING_MODEL": "embed-test", "YANIT_LLM_EMBEDDING_DIMENSIONS": "8",
		"YANIT_LLM_MAX_RETRIES": "0",
	} {
		t.Setenv(k, v)
	}
	out := ingest(1, "0 added, 0 replaced, 0 unchanged, 2 failed")
	if !strings.Contains(out, "local-hash-v1 (512 dims), not embed-test (8 dims)") || !strings.Contains(out, "yanit knowledge reindex") {
		t.Fatalf("ingest with another model: want the failures to name both models and say to reindex:\n%s", out)
	}

	code, out, errOut := run(t, "knowledge", "reindex", "--collection", "missing")
	if code != 1 || !strings.Contains(out, "failed missing: ") {
		t.Fatalf("reindex --collection missing: exit %d, want 1 naming it\n%s%s", code, out, errOut)
	}
	code, out, errOut = run(t, "knowledge", "reindex")
	if code != 0 || !strings.HasPrefix(out, "1 reindexed, 0 failed: 2 documents, ") || !strings.Contains(out, "embedded with embed-test (8 dims)\n") ||
		!strings.Contains(out, "  default: 2 documents, ") || !strings.Contains(out, "was local-hash-v1 (512 dims)") {
		t.Fatalf("reindex: exit %d, want a summary of the collection reindexed\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	_, out, _ = run(t, "knowledge", "list")
	if !regexp.MustCompile(`(?m)^default +embed-test +8 +2$`).MatchString(out) {
		t.Fatalf("list after reindex: want the collection on embed-test, 8 dimensions:\n%s", out)
	}

	// The unchanged files are unchanged for the new model; a changed one
	// is embedded with it, and searches find the chunks by their vectors.
	ingest(0, "0 added, 0 replaced, 2 unchanged, 0 failed")
	write("shipping.md", shippingMD+"\nReturns of online orders are free within 14 days.\n")
	ingest(0, "0 added, 1 replaced, 1 unchanged, 0 failed")
	code, out, errOut = run(t, "knowledge", "search", "--json", "--collection", "default", "how long does delivery take")
	type vectorHit struct {
		Scores struct {
			Vector float64 `json:"vector"`
		} `json:"scores"`
	}
	var hits []vectorHit
	if code != 0 || json.Unmarshal([]byte(out), &hits) != nil || len(hits) == 0 ||
		slices.ContainsFunc(hits, func(h vectorHit) bool { return h.Scores.Vector <= 0 }) {
		t.Fatalf("search after reindex: exit %d, want hits found by vector\n%s%s", code, out, errOut)
	}
}
