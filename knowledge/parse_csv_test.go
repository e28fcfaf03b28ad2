package knowledge_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/yanit/yanit/knowledge"
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
	if want := []string{"kargo", "teslimat", "iade"}; !reflect.DeepEqual(doc.Tags, want) {
		t.Errorf("tags %q, want %q", doc.Tags, want)
	}
	want := []knowledge.Section{
		{Path: "Kargom ne zaman gelir?", Blocks: []string{"Siparişler 2 iş gününde kargoya verilir.\nTakip numarası e-posta ile gelir."}},
		{Path: "İade süresi kaç gün?", Blocks: []string{"30 gün içinde iade edebilirsiniz."}},
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
	if len(chunks) != 3 || chunks[1].Section != "İade süresi kaç gün?" || chunks[1].Text != "30 gün içinde iade edebilirsiniz." {
		t.Errorf("chunks %+v: want one a row, the question as section", chunks)
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
