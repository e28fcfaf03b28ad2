package knowledge_test

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/yanit/yanit/knowledge"
)

// pdfFile writes a PDF of objects, numbered from 1 in order, with a
// cross-reference table and a trailer holding trailer's entries.
func pdfFile(objects []string, trailer string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, trailer, xref)
	return b.Bytes()
}

// stream is a stream object of dict's entries holding data as is.
func stream(dict, data string) string {
	return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
}

// flateStream is a stream object of dict's entries holding data
// compressed with FlateDecode.
func flateStream(t testing.TB, dict, data string) string {
	t.Helper()
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	if _, err := w.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("<< %s /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", dict, z.Len(), z.String())
}

// returnsPDF is an English PDF of two pages: headings, paragraphs, a
// bullet list, a form XObject, an inline image, a table of contents line
// and page numbers.
func returnsPDF(t testing.TB) []byte {
	page1 := `BT /F1 18 Tf 72 740 Td (Returns) Tj ET
BT /F1 11 Tf 14 TL 72 710 Td (You can return most items with-) Tj T* (in 30 days of deliv-) Tj T* (ery, by e-) Tj T* (mail.) Tj ET
BT /F1 11 Tf 72 630 Td [(Ref) 20 (unds are) -300 (sent in 3 days.)] TJ ET
BT /F1 14 Tf 72 595 Td (Store credit) Tj ET
BT /F1 11 Tf 72 570 Td (\225 Store credit never expires.) Tj 0 -14 Td (\225 It works in every store.) Tj ET
q 10 0 0 10 72 100 cm BI /W 2 /H 1 /BPC 8 /CS /G ID ` + "\x00EI)\xff" + ` EI Q
BT /F1 11 Tf 72 200 Td (Refunds . . . . . . . . . 3) Tj ET
BT /F1 9 Tf 300 40 Td (1) Tj ET`
	return pdfFile([]string{
		`<< /Type /Catalog /Pages 2 0 R >>`,
		`<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 /MediaBox [0 0 612 792]
   /Resources << /Font << /F1 5 0 R >> /XObject << /Fm1 8 0 R >> >> >>`,
		`<< /Type /Page /Parent 2 0 R /Contents 6 0 R >>`,
		`<< /Type /Page /Parent 2 0 R /Contents [7 0 R 9 0 R] >>`,
		`<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>`,
		flateStream(t, "", page1),
		// A page's content may be split between streams anywhere.
		flateStream(t, "", `BT /F1 11 Tf 72 740 Td (Ask at the till) Tj`),
		stream(`/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >>`,
			`BT /F1 11 Tf 72 600 Td (Text inside a form.) Tj ET`),
		stream("", `( for a gift receipt.) Tj ET
q 1 0 0 1 0 -100 cm /Fm1 Do Q
BT /F1 9 Tf 300 40 Td (Page 2 of 2) Tj ET`),
		`<< /Title (Returns policy) /Producer (test) >>`,
	}, "/Root 1 0 R /Info 10 0 R")
}

func TestParsePDF(t *testing.T) {
	t.Parallel()
	data := returnsPDF(t)
	doc, sections, err := knowledge.Parse("policies/returns.pdf", data)
	if err != nil {
		t.Fatal(err)
	}
	if doc.ID != "policies/returns" || doc.Title != "Returns policy" || doc.Language != "en" {
		t.Errorf("document %+v: want ID policies/returns, the Info title, language en", doc)
	}
	want := []knowledge.Section{
		{Path: "Returns", Blocks: []string{
			"You can return most items within 30 days of delivery, by e-mail.",
			"Refunds are sent in 3 days.",
		}},
		{Path: "Returns > Store credit", Blocks: []string{
			"- Store credit never expires.",
			"- It works in every store.",
			"Ask at the till for a gift receipt.",
			"Text inside a form.",
		}},
	}
	if !reflect.DeepEqual(sections, want) {
		t.Errorf("sections:\n%s\nwant:\n%s", dump(sections), dump(want))
	}
}

// kargoPDF is a Turkish PDF whose text needs a Differences encoding, WinAnsi
// and a ToUnicode map, with its page tree in an object stream.
func kargoPDF(t testing.TB) []byte {
	// A composite font whose codes only its ToUnicode map explains.
	cmap := `/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CMapName /Adobe-Identity-UCS def /CMapType 2 def
1 begincodespacerange <0000> <FFFF> endcodespacerange
5 beginbfchar <0001> <011F> <0002> <0131> <0003> <0020> <002E> <002E> <0004> <FB01> endbfchar
3 beginbfrange <0041> <005A> <0041> <0061> <007A> <0061> <00E0> <00E2> [<00FC> <015F> <00E7>] endbfrange
endcmap CMapName currentdict /CMap defineresource pop end end`
	codes := map[rune]int{'ğ': 1, 'ı': 2, ' ': 3, 'ﬁ': 4, 'ü': 0xE0, 'ş': 0xE1, 'ç': 0xE2}
	var cids strings.Builder
	for _, r := range "Değişim için ﬁşinizle mağazaya gelin." {
		c, ok := codes[r]
		if !ok {
			c = int(r)
		}
		fmt.Fprintf(&cids, "%04X", c)
	}
	content := `BT /F1 16 Tf 72 740 Td (Kargo) Tj ET
BT /F1 11 Tf 72 710 Td (Sipari\201iniz iki i\201 g\374n\374 i\347inde kargoya verilir.) Tj ET
BT /F1 11 Tf 72 680 Td <DC E7 FC 6E 63 FC 20 67 FC 6E 20 F6 64 65 6D 65 2E> Tj ET
BT /F2 11 Tf 72 650 Td <` + cids.String() + `> Tj ET`
	// The page tree and a font sit in an object stream, as PDF 1.5
	// writers put them.
	packed := []string{
		`<< /Type /Catalog /Pages 2 0 R >>`,
		`<< /Type /Pages /Kids [3 0 R] /Count 1 >>`,
		`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 7 0 R >>`,
		`<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman
   /Encoding << /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [128 /gbreve /scedilla /dotlessi /Idotaccent] >> >>`,
	}
	var head, body strings.Builder
	for i, o := range packed {
		fmt.Fprintf(&head, "%d %d ", i+1, body.Len())
		body.WriteString(o + "\n")
	}
	return pdfFile([]string{
		`<< /Type /Catalog /Pages 99 0 R >>`, // replaced by the object stream's, written later
		`null`, `null`, `null`,
		`<< /Type /Font /Subtype /Type0 /BaseFont /ABCDEF+Arial /Encoding /Identity-H /DescendantFonts [8 0 R] /ToUnicode 6 0 R >>`,
		flateStream(t, "", cmap),
		flateStream(t, "", content),
		`<< /Type /Font /Subtype /CIDFontType2 /BaseFont /ABCDEF+Arial /DW 500 /W [1 [600 300]] >>`,
		flateStream(t, fmt.Sprintf("/Type /ObjStm /N %d /First %d", len(packed), head.Len()), head.String()+body.String()),
		`<< /Title <FEFF005400650073006C0069006D00610074002000760065002001300061006400650> >>`,
	}, "/Root 1 0 R /Info 10 0 R")
}

func TestParsePDFTurkish(t *testing.T) {
	t.Parallel()
	data := kargoPDF(t)
	doc, sections, err := knowledge.ParsePDF("kargo.pdf", data)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Title != "Teslimat ve İade" || doc.Language != "tr" {
		t.Errorf("document %+v: want the UTF-16 Info title and language tr", doc)
	}
	want := []knowledge.Section{{Path: "Kargo", Blocks: []string{
		"Siparişiniz iki iş günü içinde kargoya verilir.",
		"Üçüncü gün ödeme.",
		"Değişim için fişinizle mağazaya gelin.", // the ligature spelt out
	}}}
	if !reflect.DeepEqual(sections, want) {
		t.Errorf("sections:\n%s\nwant:\n%s", dump(sections), dump(want))
	}
}

func TestParsePDFErrors(t *testing.T) {
	t.Parallel()
	catalog := `<< /Type /Catalog /Pages 2 0 R >>`
	pages := `<< /Type /Pages /Kids [3 0 R] /Count 1 >>`
	scan := pdfFile([]string{
		catalog, pages,
		`<< /Type /Page /Parent 2 0 R /Resources << /XObject << /Im1 4 0 R >> >> /Contents 5 0 R >>`,
		stream(`/Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8`, "\xff"),
		stream("", `q 612 0 0 792 0 0 cm /Im1 Do Q`),
	}, "/Root 1 0 R")
	noUnicode := pdfFile([]string{
		catalog, pages,
		`<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>`,
		`<< /Type /Font /Subtype /Type0 /BaseFont /Secret /Encoding /Identity-H /DescendantFonts [<< /Subtype /CIDFontType2 >>] >>`,
		stream("", `BT /F1 11 Tf 72 700 Td <00240025> Tj ET`),
	}, "/Root 1 0 R")
	badStream := pdfFile([]string{
		catalog, pages,
		`<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>`,
		`<< /Length 12 /Filter /FlateDecode >>` + "\nstream\nnot deflated\nendstream",
	}, "/Root 1 0 R")
	encrypted := pdfFile([]string{
		catalog, pages,
		`<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>`,
		stream("", `BT /F1 11 Tf 72 700 Td (Gizli) Tj ET`),
		`<< /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 >>`,
	}, "/Root 1 0 R /Encrypt 5 0 R")
	for _, tt := range []struct {
		name     string
		data     []byte
		reasons  []string
		sentinel error
	}{
		{"pdf/empty.pdf", []byte("\n"), []string{"empty"}, nil},
		{"pdf/report.pdf", []byte("%PDF"), []string{"not a PDF file"}, knowledge.ErrCorrupt},
		{"pdf/renamed.pdf", []byte("<html>Gizli</html>"), []string{"not a PDF file"}, knowledge.ErrCorrupt},
		{"pdf/cut.pdf", []byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R"), []string{"no pages"}, knowledge.ErrCorrupt},
		{"pdf/scan.pdf", scan, []string{"no text layer", "OCR"}, knowledge.ErrNoTextLayer},
		{"pdf/cid.pdf", noUnicode, []string{"no text layer", "Unicode"}, knowledge.ErrNoTextLayer},
		{"pdf/bad-stream.pdf", badStream, []string{"cannot be decoded"}, knowledge.ErrCorrupt},
		{"pdf/locked.pdf", encrypted, []string{"encrypted"}, nil},
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
		if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
			t.Errorf("Parse(%s) error %q: want errors.Is %v", tt.name, err, tt.sentinel)
		}
		if strings.Contains(err.Error(), "Gizli") || strings.Contains(err.Error(), "Secret") {
			t.Errorf("Parse(%s) error %q quotes the file", tt.name, err)
		}
	}
}

func TestParsePDFRunningHeads(t *testing.T) {
	t.Parallel()
	objects := []string{`<< /Type /Catalog /Pages 2 0 R >>`, `<< /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 /Resources << /Font << /F1 6 0 R >> >> >>`}
	for i := range 3 {
		objects = append(objects, fmt.Sprintf(`<< /Type /Page /Parent 2 0 R /Contents %d 0 R >>`, 7+i))
	}
	objects = append(objects, `<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>`)
	for i, text := range []string{"Gift cards never expire.", "Store credit is kept for a year.", "Vouchers work online."} {
		objects = append(objects, stream("", fmt.Sprintf(`BT /F1 9 Tf 72 770 Td (ACME Customer Guide) Tj ET
BT /F1 11 Tf 72 700 Td (%s) Tj ET
BT /F1 9 Tf 300 40 Td (- %d -) Tj ET`, text, i+1)))
	}
	_, sections, err := knowledge.ParsePDF("guide.pdf", pdfFile(objects, "/Root 1 0 R"))
	if err != nil {
		t.Fatal(err)
	}
	want := []knowledge.Section{{Blocks: []string{"Gift cards never expire.", "Store credit is kept for a year.", "Vouchers work online."}}}
	if !reflect.DeepEqual(sections, want) {
		t.Errorf("sections:\n%s\nwant:\n%s", dump(sections), dump(want))
	}
}

// FuzzParsePDF checks that no input makes ParsePDF panic or give an error
// that does not name the file.
func FuzzParsePDF(f *testing.F) {
	f.Add(returnsPDF(f))
	f.Add(kargoPDF(f))
	f.Add([]byte("%PDF-1.4\n1 0 obj << /Type /Page /Contents 2 0 R >> endobj 2 0 obj << /Length 99 >> stream\nBT (x) Tj\nendstream"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, err := knowledge.ParsePDF("fuzz.pdf", data)
		if err != nil && !strings.Contains(err.Error(), "fuzz.pdf") {
			t.Errorf("error %q does not name the file", err)
		}
	})
}
