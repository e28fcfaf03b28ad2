package knowledge_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/yanit/yanit/knowledge"
)

// docx returns a zip archive of parts, a Word document when they are.
func docx(t *testing.T, parts map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, text := range parts {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(text)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const wordHeader = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"
 xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"
 xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>`

const wordFooter = `<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>`

// para is a paragraph of style (none when "") whose runs are runs.
func para(style string, runs ...string) string {
	p := "<w:p>"
	if style != "" {
		p += `<w:pPr><w:pStyle w:val="` + style + `"/></w:pPr>`
	}
	for _, r := range runs {
		p += `<w:r><w:t xml:space="preserve">` + r + `</w:t></w:r>`
	}
	return p + "</w:p>"
}

// A document written by Turkish Word: localized style ids whose names in
// styles.xml are the built-in English ones.
const turkishStyles = `<?xml version="1.0" encoding="UTF-8"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>
<w:style w:type="paragraph" w:styleId="KonuBal"><w:name w:val="Title"/></w:style>
<w:style w:type="paragraph" w:styleId="Balk1"><w:name w:val="heading 1"/><w:pPr><w:outlineLvl w:val="0"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="Balk2"><w:name w:val="heading 2"/><w:pPr><w:outlineLvl w:val="1"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="zelBalk"><w:name w:val="Özel Başlık"/><w:pPr><w:outlineLvl w:val="2"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="T1"><w:name w:val="toc 1"/></w:style>
<w:style w:type="paragraph" w:styleId="ListeParagraf"><w:name w:val="List Paragraph"/></w:style>
</w:styles>`

func TestParseDOCX(t *testing.T) {
	t.Parallel()
	body := wordHeader +
		para("KonuBal", "Müşteri Hizmetleri Rehberi") +
		para("T1", "İade\t3") +
		para("", "Bu rehber ", "mağaza çalışanları içindir.") +
		para("Balk1", "İade") +
		`<w:p><w:r><w:t>Ürün 30 gün</w:t></w:r><w:r><w:tab/><w:t>içinde iade edilir.</w:t></w:r>` +
		`<w:del w:id="1"><w:r><w:delText>Silinmiş metin.</w:delText></w:r></w:del>` +
		`<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r>` +
		`<w:r><w:br/><w:t>Fiş gerekir.</w:t></w:r></w:p>` +
		`<w:p><w:pPr><w:pStyle w:val="ListeParagraf"/><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr>` +
		`<w:hyperlink r:id="rId5"><w:r><w:t>Siparişlerim</w:t></w:r></w:hyperlink><w:r><w:t xml:space="preserve"> sayfasını açın.</w:t></w:r></w:p>` +
		para("Balk2", "Geri ödeme") +
		`<w:tbl><w:tblPr/><w:tr><w:tc>` + para("", "Ödeme") + `</w:tc><w:tc>` + para("", "Süre") + `</w:tc></w:tr>` +
		`<w:tr><w:tc>` + para("", "Kredi kartı") + `</w:tc><w:tc>` + para("", "3 iş") + para("", "günü") + `</w:tc></w:tr>` +
		`<w:tr><w:tc>` + para("", "") + `</w:tc><w:tc><w:p/></w:tc></w:tr></w:tbl>` +
		para("zelBalk", "Havale") +
		`<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx><w:txbxContent>` +
		para("", "Kutudaki not.") +
		`</w:txbxContent></wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent>` +
		para("", "Kutudaki not.") +
		`</w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r><w:r><w:t>Havale 1 iş gününde döner.</w:t></w:r></w:p>` +
		para("Balk1", "") +
		wordFooter
	data := docx(t, map[string]string{
		"[Content_Types].xml": `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"word/document.xml":   body,
		"word/styles.xml":     turkishStyles,
		"docProps/core.xml": `<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
 xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Ayşe</dc:creator><dc:title> İade   Rehberi </dc:title></cp:coreProperties>`,
	})
	doc, sections, err := knowledge.Parse("rehber/Iade.DOCX", data)
	if err != nil {
		t.Fatal(err)
	}
	if doc.ID != "rehber/Iade" || doc.Title != "İade Rehberi" || doc.Language != "tr" {
		t.Errorf("document %+v: want ID rehber/Iade, the core title, language tr", doc)
	}
	want := []knowledge.Section{
		{Path: "Müşteri Hizmetleri Rehberi", Blocks: []string{"Bu rehber mağaza çalışanları içindir."}},
		{Path: "Müşteri Hizmetleri Rehberi > İade", Blocks: []string{
			"Ürün 30 gün içinde iade edilir.\nFiş gerekir.",
			"- Siparişlerim sayfasını açın.",
		}},
		{Path: "Müşteri Hizmetleri Rehberi > İade > Geri ödeme", Blocks: []string{
			"Ödeme | Süre",
			"Kredi kartı | 3 iş günü",
		}},
		{Path: "Müşteri Hizmetleri Rehberi > İade > Geri ödeme > Havale", Blocks: []string{
			"Kutudaki not.",
			"Havale 1 iş gününde döner.",
		}},
	}
	if !reflect.DeepEqual(sections, want) {
		t.Errorf("sections:\n%s\nwant:\n%s", dump(sections), dump(want))
	}
}

func TestParseDOCXStyleIDs(t *testing.T) {
	t.Parallel()
	// No styles.xml and no core.xml: the style ids alone tell the
	// headings, and the first heading is the title.
	data := docx(t, map[string]string{"word/document.xml": wordHeader +
		para("Heading2", "Store hours") +
		para("", "Our stores open at ten every morning.") +
		para("Heading1", "Gift cards") +
		para("Balk3", "Expiry") +
		para("", "Gift cards never expire.") +
		para("Subtitle", "Not a heading.") +
		wordFooter})
	doc, sections, err := knowledge.ParseDOCX("hours.docx", data)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Title != "Store hours" || doc.Language != "en" {
		t.Errorf("document %+v: want the first heading as title, language en", doc)
	}
	want := []knowledge.Section{
		{Path: "Store hours", Blocks: []string{"Our stores open at ten every morning."}},
		{Path: "Gift cards > Expiry", Blocks: []string{"Gift cards never expire.", "Not a heading."}},
	}
	if !reflect.DeepEqual(sections, want) {
		t.Errorf("sections:\n%s\nwant:\n%s", dump(sections), dump(want))
	}
}

func TestParseDOCXErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		data    []byte
		reasons []string
		corrupt bool
	}{
		{"docs/empty.docx", nil, []string{"empty"}, false},
		{"docs/text.docx", []byte("just some text"), []string{"not a zip archive"}, true},
		{"docs/old.docx", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 512)...), []string{"old .doc"}, true},
		{"docs/sheet.docx", docx(t, map[string]string{"xl/workbook.xml": "<workbook/>"}), []string{"no word/document.xml"}, true},
		{"docs/broken.docx", docx(t, map[string]string{"word/document.xml": wordHeader + "\n\n<w:p><w:r><w:t>Gizli müşteri bilgisi</w:r></w:p>" + wordFooter}), []string{"word/document.xml", "malformed XML at line 7"}, true},
		{"docs/blank.docx", docx(t, map[string]string{"word/document.xml": wordHeader + para("Heading1", "Only a heading") + para("", "  ") + wordFooter}), []string{"no text"}, false},
	} {
		_, _, err := knowledge.Parse(tt.name, tt.data)
		if err == nil {
			t.Errorf("Parse(%s): no error, want one saying %q", tt.name, tt.reasons)
			continue
		}
		for _, reason := range append(tt.reasons, tt.name) {
			if !strings.Contains(err.Error(), reason) {
				t.Errorf("Parse(%s) error %q: want it to say %q", tt.name, err, reason)
			}
		}
		if errors.Is(err, knowledge.ErrCorrupt) != tt.corrupt {
			t.Errorf("Parse(%s) error %q: errors.Is(ErrCorrupt) = %t, want %t", tt.name, err, !tt.corrupt, tt.corrupt)
		}
		if strings.Contains(err.Error(), "Gizli") {
			t.Errorf("Parse(%s) error %q quotes the document", tt.name, err)
		}
	}
}
