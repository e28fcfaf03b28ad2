package knowledge_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/yanit/yanit/knowledge"
)

const richMarkdown = `---
title: Returns and refunds
language: EN
tags: [orders, returns, orders, " "]
version: 3
author: someone
---
Read this first.

# Returns

You can return most items within 30 days.
This line continues the paragraph.

## Refunds ##

* Card payments are refunded in 3 days.
  Continuation of the first item.
  - a nested item
+ Cash is refunded in store.
1. Numbered items stay numbered.

| method | days |
|--------|------|
| card   | 3    |

` + "```" + `sh
# not a heading
curl example.com
` + "```" + `

> A quoted tip.

***

Store credit
------------

Store credit never expires.

### Empty heading with a sub-heading only

#### Deep

Deep text.

Other top
=========

Last words.
`

func TestParseMarkdown(t *testing.T) {
	t.Parallel()
	doc, sections, err := knowledge.ParseMarkdown("policies/returns.md", []byte(richMarkdown))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(richMarkdown))
	wantDoc := knowledge.Document{
		ID:       "policies/returns",
		Title:    "Returns and refunds",
		Source:   "policies/returns.md",
		Language: "en",
		Tags:     []string{"orders", "returns"},
		Version:  "3",
		Hash:     hex.EncodeToString(sum[:]),
	}
	if !reflect.DeepEqual(doc, wantDoc) {
		t.Errorf("document\n got %+v\nwant %+v", doc, wantDoc)
	}
	want := []knowledge.Section{
		{Path: "", Blocks: []string{"Read this first."}},
		{Path: "Returns", Blocks: []string{"You can return most items within 30 days. This line continues the paragraph."}},
		{Path: "Returns > Refunds", Blocks: []string{
			"- Card payments are refunded in 3 days. Continuation of the first item.\n  - a nested item",
			"- Cash is refunded in store.",
			"1. Numbered items stay numbered.",
			"| method | days |\n|--------|------|\n| card   | 3    |",
			"```sh\n# not a heading\ncurl example.com\n```",
			"A quoted tip.",
		}},
		{Path: "Returns > Store credit", Blocks: []string{"Store credit never expires."}},
		{Path: "Returns > Store credit > Empty heading with a sub-heading only > Deep", Blocks: []string{"Deep text."}},
		{Path: "Other top", Blocks: []string{"Last words."}},
	}
	if !reflect.DeepEqual(sections, want) {
		t.Errorf("sections:\n%s\nwant:\n%s", dump(sections), dump(want))
	}
}

func dump(sections []knowledge.Section) string {
	var b strings.Builder
	for _, s := range sections {
		b.WriteString("[" + s.Path + "]")
		if len(s.Tags) > 0 {
			b.WriteString(" tags " + strings.Join(s.Tags, ","))
		}
		b.WriteString("\n")
		for _, block := range s.Blocks {
			b.WriteString("  «" + block + "»\n")
		}
	}
	return b.String()
}

func TestParseCommentMetadata(t *testing.T) {
	t.Parallel()
	data := `<!-- tags: hours, stores -->
<!-- language: tr -->
# Opening hours

Text before a comment.
<!--
  An editor's note
  over two lines.
-->
<!-- tags: ignored, the first comment set them -->
After the comment.
`
	doc, sections, err := knowledge.ParseMarkdown("hours.tr.md", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if doc.ID != "hours.tr" || doc.Language != "tr" || !reflect.DeepEqual(doc.Tags, []string{"hours", "stores"}) {
		t.Errorf("document %+v: want ID hours.tr, language tr, tags [hours stores]", doc)
	}
	want := []knowledge.Section{{Path: "Opening hours", Blocks: []string{"Text before a comment.", "After the comment."}}}
	if !reflect.DeepEqual(sections, want) {
		t.Errorf("sections:\n%s\nwant:\n%s", dump(sections), dump(want))
	}
	// Front matter wins over comments.
	doc, _, err = knowledge.ParseMarkdown("x.md", []byte("---\ntags: [a]\n---\n<!-- tags: b -->\nText."))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(doc.Tags, []string{"a"}) {
		t.Errorf("tags %v, want the front matter's [a]", doc.Tags)
	}
}

func TestParseTitle(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, data, want string
	}{
		{"faq/kargo.md", "Intro.\n\n## Sub\n\nText.\n\n# Kargo Soruları\n\nMore.", "Kargo Soruları"},
		{"faq/kargo.md", "## Only sub-headings\n\nText.", "kargo"},
		{"faq/kargo.md", "---\ntitle: From front matter\n---\n# Heading\n\nText.", "From front matter"},
		{"notes/iade-notlari.txt", "# not markdown here\n\nText.", "iade-notlari"},
		{"Kargo *Bilgisi*.md", "# **Kargo** [bilgisi](https://example.com)\n\nText.", "Kargo bilgisi"},
	} {
		doc, _, err := knowledge.Parse(tt.name, []byte(tt.data))
		if err != nil {
			t.Fatal(err)
		}
		if doc.Title != tt.want {
			t.Errorf("Parse(%q, %q).Title = %q, want %q", tt.name, tt.data, doc.Title, tt.want)
		}
	}
}

func TestParseText(t *testing.T) {
	t.Parallel()
	data := "\uFEFFKampanya koşulları aşağıdadır.\r\nİkinci satır aynı paragraf.\r\n\r\n- ilk madde\r\n- ikinci madde\r\n  devamı\r\n\r\n\r\nSon paragraf.\r\n"
	doc, sections, err := knowledge.ParseText("kampanya.txt", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if doc.ID != "kampanya" || doc.Title != "kampanya" || doc.Source != "kampanya.txt" || doc.Language != "tr" {
		t.Errorf("document %+v: want ID and title kampanya, source kampanya.txt, language tr", doc)
	}
	want := []knowledge.Section{{Blocks: []string{
		"Kampanya koşulları aşağıdadır. İkinci satır aynı paragraf.",
		"- ilk madde",
		"- ikinci madde devamı",
		"Son paragraf.",
	}}}
	if !reflect.DeepEqual(sections, want) {
		t.Errorf("sections:\n%s\nwant:\n%s", dump(sections), dump(want))
	}
}

func TestParseLanguage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		data, want string
	}{
		{"# İade\n\nÜrünü 30 gün içinde iade edebilirsiniz.", "tr"},
		{"# Returns\n\nYou can return an item within 30 days.", "en"},
		{"---\nlanguage: tr\n---\n# Returns\n\nYou can return an item within 30 days.", "tr"},
		{"# 2025\n\n12345 67890", ""},
	} {
		doc, _, err := knowledge.ParseMarkdown("doc.md", []byte(tt.data))
		if err != nil {
			t.Fatal(err)
		}
		if doc.Language != tt.want {
			t.Errorf("language of %q = %q, want %q", tt.data, doc.Language, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		data   []byte
		reason string
	}{
		{"kb/empty.md", nil, "empty"},
		{"kb/blank.txt", []byte(" \n\t\n"), "empty"},
		{"kb/latin1.md", []byte("# Iade\n\nÜr\xfcn"), "invalid UTF-8 at byte 11"},
		{"kb/headings.md", []byte("# Title\n\n## Sub\n"), "no text"},
		{"kb/front.md", []byte("---\ntitle: x\n\n# Body"), "front matter"},
		{"kb/yaml.md", []byte("---\ntags: {a: b}\n---\nText."), "tags"},
		{"kb/report.rtf", []byte("{\\rtf1"), "unsupported format"},
	} {
		_, _, err := knowledge.Parse(tt.name, tt.data)
		if err == nil {
			t.Errorf("Parse(%s): no error, want one about %q", tt.name, tt.reason)
			continue
		}
		if !strings.Contains(err.Error(), tt.name) || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("Parse(%s) error %q: want it to name the file and say %q", tt.name, err, tt.reason)
		}
	}
	if _, _, err := knowledge.Parse("a.odt", []byte("x")); !errors.Is(err, knowledge.ErrUnsupportedFormat) {
		t.Errorf("Parse(a.odt) error %v, want ErrUnsupportedFormat", err)
	}
}
