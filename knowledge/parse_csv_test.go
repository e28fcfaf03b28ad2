package knowledge_test

import (
	"context"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/yanit/yanit/knowledge"
	"github.com/yanit/yanit/llm/local"
)

func TestParseFAQ(t *testing.T) {
	t.Parallel()
	// Saved by a spreadsheet set to Turkish: a byte-order mark, ";" between
	// fields, CRLF line ends, Turkish headers in any case, an extra column
	// and a blank row.
	data, err := os.ReadFile("testdata/formats/sss.csv")
	if err != nil {
		t.Fatal(err)
	}
	doc, sections, err := knowledge.Parse("destek/sss.csv", data)
	if err != nil {
		t.Fatal(err)
	}
	if doc.ID != "destek/sss" || doc.Title != "sss" || doc.Language != "tr" {
		t.Errorf("document %+v: want ID destek/sss, title sss, language tr", doc)
	}
	// The tags are each row's own, not the document's.
	if doc.Tags != nil {
		t.Errorf("document tags %q, want none", doc.Tags)
	}
	want := []knowledge.Section{
		{Path: "Kargom ne zaman gelir?", Blocks: []string{"Siparişler 2 iş gününde kargoya verilir.\nTakip numarası e-posta ile gelir."},
			Tags: []string{"kargo", "teslimat"}},
		{Path: "İade süresi kaç gün?", Blocks: []string{"30 gün içinde iade edebilirsiniz."}, Tags: []string{"iade", "kargo"}},
		{Path: "Fatura; nereden indirilir?", Blocks: []string{"Siparişlerim sayfasından indirebilirsiniz."}},
	}
	if !reflect.DeepEqual(sections, want) {
		t.Errorf("sections:\n%s\nwant:\n%s", dump(sections), dump(want))
	}
	// Each row is one chunk titled by its question.
	chunks, err := knowledge.Split(sections, knowledge.DefaultChunkTokens, knowledge.DefaultOverlapTokens)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 3 || chunks[1].Section != "İade süresi kaç gün?" || chunks[1].Text != "30 gün içinde iade edebilirsiniz." ||
		!reflect.DeepEqual(chunks[1].Tags, []string{"iade", "kargo"}) || chunks[2].Tags != nil {
		t.Errorf("chunks %+v: want one a row, the question as section, the row's tags as tags", chunks)
	}
}

func TestParseFAQEnglish(t *testing.T) {
	t.Parallel()
	data := "Answer,QUESTION\n" +
		"\"Within 30 days, with the receipt.\",How long do I have to return an item?\n" +
		"Cards are refunded in 3 days.,When do I get my money back?\n"
	doc, sections, err := knowledge.ParseFAQ("faq.csv", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Language != "en" || doc.Tags != nil {
		t.Errorf("document %+v: want language en and no tags", doc)
	}
	want := []knowledge.Section{
		{Path: "How long do I have to return an item?", Blocks: []string{"Within 30 days, with the receipt."}},
		{Path: "When do I get my money back?", Blocks: []string{"Cards are refunded in 3 days."}},
	}
	if !reflect.DeepEqual(sections, want) {
		t.Errorf("sections:\n%s\nwant:\n%s", dump(sections), dump(want))
	}
}

func TestParseFAQErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		data    string
		reasons []string
	}{
		{"faq/empty.csv", "", []string{"empty"}},
		{"faq/no-header.csv", "Kargo ne zaman gelir?,2 günde\n", []string{"line 1", "question and answer columns"}},
		{"faq/two-answers.csv", "soru;cevap;yanıt\na;b;c\n", []string{"line 1", "columns 2 and 3"}},
		{"faq/header-only.csv", "question,answer,tags\n", []string{"no question rows"}},
		{"faq/gaps.csv", "question,answer\n\"Multi\nline?\",Yes.\nNo answer here?,\n,An answer without a question.\n , \nLast?,Fine.\n", []string{"line 4: no answer", "line 5: no question"}},
		{"faq/quote.csv", "question,answer\nWhat \"is\" this?,x\n", []string{"line 2, column 6", `bare "`}},
		{"faq/latin5.csv", "soru,cevap\nKargo?,\xdd\xfe g\xfcn\xfc\n", []string{"invalid UTF-8", "CSV UTF-8"}},
	} {
		_, _, err := knowledge.Parse(tt.name, []byte(tt.data))
		if err == nil {
			t.Errorf("Parse(%s): no error, want one saying %q", tt.name, tt.reasons)
			continue
		}
		for _, reason := range append(tt.reasons, tt.name) {
			if !strings.Contains(err.Error(), reason) {
				t.Errorf("Parse(%s) error %q: want it to say %q", tt.name, err, reason)
			}
		}
	}
	// The errors quote no cell.
	_, _, err := knowledge.Parse("faq/gaps.csv", []byte("question,answer\nSecret question?,\n"))
	if err == nil || strings.Contains(err.Error(), "Secret") {
		t.Errorf("error %v: want one that does not quote the file", err)
	}
}

// TestFAQRowTags: a FAQ sheet's rows keep their own tags, so a search
// filtered by one row's tag finds that row alone, in the in-memory index
// and in both stores, by either ranking; a tag the document has (ingest
// --tags) still finds every row.
func TestFAQRowTags(t *testing.T) {
	const sheet = "question,answer,tags\n" +
		"How long does delivery take?,Parcels arrive in two to three days.,shipping\n" +
		"Can I return an item?,Items can be returned within 30 days.,returns|refunds\n" +
		"Where is my invoice?,Invoices are on the orders page.,\n" +
		"Is return shipping free?,Return shipping is free for every order.,returns;shipping\n"
	indexes := map[string]func(t *testing.T) knowledge.Index{
		"memory": func(t *testing.T) knowledge.Index { return knowledge.NewMemory(local.NewEmbedder(256)) },
	}
	for name, open := range storedIndexes {
		indexes[name] = func(t *testing.T) knowledge.Index {
			e := local.NewEmbedder(256)
			return knowledge.NewStored(open(t), e, e.Model(), e.Dim(), knowledge.EmbedOptions{})
		}
	}
	for name, open := range indexes {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			idx := open(t)
			doc, sections, err := knowledge.ParseFAQ("faq.csv", []byte(sheet))
			if err != nil {
				t.Fatal(err)
			}
			doc.Collection, doc.Tags = "shop", []string{"faq"}
			chunks, err := knowledge.Split(sections, knowledge.DefaultChunkTokens, knowledge.DefaultOverlapTokens)
			if err != nil {
				t.Fatal(err)
			}
			if change, err := idx.Add(ctx, doc, chunks); err != nil || change != knowledge.Added {
				t.Fatalf("adding the sheet: %v, %v", change, err)
			}
			for _, tc := range []struct {
				tags []string
				want []string // the questions found
			}{
				{[]string{"refunds"}, []string{"Can I return an item?"}},
				{[]string{"returns"}, []string{"Can I return an item?", "Is return shipping free?"}},
				{[]string{"shipping", "returns"}, []string{"Is return shipping free?"}},
				{[]string{"faq", "shipping"}, []string{"How long does delivery take?", "Is return shipping free?"}},
				{[]string{"faq"}, []string{"Can I return an item?", "How long does delivery take?", "Is return shipping free?", "Where is my invoice?"}},
				{[]string{"refunds", "shipping"}, nil},
			} {
				for _, mode := range []knowledge.SearchMode{knowledge.Fused, knowledge.VectorOnly} {
					hits, err := idx.Search(ctx, knowledge.Query{Text: "return delivery invoice items", Collection: "shop",
						Tags: tc.tags, Limit: 10, Mode: mode})
					if err != nil {
						t.Fatal(err)
					}
					var got []string
					for _, h := range hits {
						got = append(got, h.Section)
					}
					slices.Sort(got)
					if !slices.Equal(got, tc.want) {
						t.Errorf("%v search with tags %v found %q, want %q", mode, tc.tags, got, tc.want)
					}
				}
			}

			// A row's tags changed, nothing else: the document is stored
			// again, and its rows are found by their new tags.
			chunks[2].Tags = []string{"orders"}
			if change, err := idx.Add(ctx, doc, chunks); err != nil || change != knowledge.Replaced {
				t.Fatalf("adding the sheet with a row's new tags: %v, %v; want it replaced", change, err)
			}
			hits, err := idx.Search(ctx, knowledge.Query{Text: "invoice", Collection: "shop", Tags: []string{"orders"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) != 1 || hits[0].Section != "Where is my invoice?" {
				t.Errorf("search with the row's new tag = %s, want the invoice row alone", describe(hits))
			}
		})
	}
}
