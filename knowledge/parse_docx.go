package knowledge

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrCorrupt is returned, wrapped, for a file whose extension Parse reads
// but whose bytes are damaged or of another format: a .docx that is not a
// zip archive holding word/document.xml, a .pdf without a page tree.
var ErrCorrupt = errors.New("corrupt file")

// maxPartBytes bounds what one part of a file (a DOCX's XML, a PDF's
// decompressed stream) may take in memory, so that a small zip or Flate
// bomb cannot exhaust it.
const maxPartBytes = 64 << 20

// XML namespaces of WordprocessingML, transitional and strict, and of the
// parts around it.
const (
	wordNS       = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
	wordStrictNS = "http://purl.oclc.org/ooxml/wordprocessingml/main"
	compatNS     = "http://schemas.openxmlformats.org/markup-compatibility/2006"
	dublinCoreNS = "http://purl.org/dc/elements/1.1/"
)

// ParseDOCX parses a Word document named name (used in errors, as Source
// and for the ID): the body of word/document.xml, leaving out headers,
// footers, footnotes, comments, deleted text of tracked changes and the
// table of contents, and the source of moved text.
//
// Each paragraph is a block: its runs' text, a tab as a space, a line
// break kept. A paragraph in a heading style opens a section as a Markdown
// heading would: the style named "heading 1"…"heading 9" in
// word/styles.xml, whatever its id in the document's language (Turkish
// Word calls it "Balk1"), or else a style id "Heading1"…, "Balk1"… or
// "Başlık1"…, or one with an outline level; a "Title" paragraph is a
// heading above level 1. A numbered or bulleted paragraph becomes "- item".
// Each table row is one block, its cells joined by " | ". Text boxes are
// read once, not also as their fallback copy.
//
// The title is docProps/core.xml's dc:title, else the first heading, else
// the file name; the language is what local.DetectLanguage finds. An empty
// file, a file that is not a zip archive or has no word/document.xml
// (ErrCorrupt), malformed XML (ErrCorrupt), or a document without text is
// an error naming the file.
func ParseDOCX(name string, data []byte) (Document, []Section, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return Document{}, nil, fmt.Errorf("parsing %s: file is empty", name)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		hint := ""
		if bytes.HasPrefix(data, []byte{0xD0, 0xCF, 0x11, 0xE0}) {
			hint = " (an old .doc, or a password-protected file?)"
		}
		return Document{}, nil, fmt.Errorf("parsing %s: %w: not a zip archive%s", name, ErrCorrupt, hint)
	}
	body, err := zipPart(zr, "word/document.xml")
	if err != nil {
		return Document{}, nil, fmt.Errorf("parsing %s: %w: %w", name, ErrCorrupt, err)
	}
	if body == nil {
		return Document{}, nil, fmt.Errorf("parsing %s: %w: no word/document.xml (not a Word document)", name, ErrCorrupt)
	}
	// styles.xml and core.xml only refine the reading: a missing or
	// damaged one is ignored.
	styles, _ := zipPart(zr, "word/styles.xml")
	core, _ := zipPart(zr, "docProps/core.xml")
	r := docxReader{styles: docxStyles(styles)}
	if err := r.read(body); err != nil {
		return Document{}, nil, fmt.Errorf("parsing %s: %w: word/document.xml: %w", name, ErrCorrupt, err)
	}
	title := docxTitle(core)
	if title == "" {
		title = r.firstHeading
	}
	return document(name, data, frontMatter{}, title, r.out.sections)
}

// zipPart returns the bytes of the part of zr named name (case-insensitive),
// nil when there is none.
func zipPart(zr *zip.Reader, name string) ([]byte, error) {
	for _, f := range zr.File {
		if !strings.EqualFold(f.Name, name) {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", name, err)
		}
		defer rc.Close()
		data, err := readAtMost(rc, maxPartBytes)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		return data, nil
	}
	return nil, nil
}

// readAtMost reads r to its end, failing when it holds more than limit
// bytes.
func readAtMost(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("over %d MiB", limit>>20)
	}
	return data, nil
}

// xmlError describes a decoding error of an XML part by its line only,
// never quoting the part.
func xmlError(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("malformed XML at line %d", se.Line)
	}
	return errors.New("malformed XML")
}

// wordName reports whether n is the WordprocessingML element local.
func wordName(n xml.Name, local string) bool {
	return n.Local == local && (n.Space == wordNS || n.Space == wordStrictNS)
}

// wordVal returns the w:val attribute of an element.
func wordVal(e xml.StartElement) string {
	for _, a := range e.Attr {
		if a.Name.Local == "val" {
			return a.Value
		}
	}
	return ""
}

// docxStyle is what a paragraph style of word/styles.xml says about
// headings.
type docxStyle struct {
	name    string // lower case: "heading 1", "title", "toc 1"
	outline int    // outline level 0–8, -1 for none
}

// docxStyles reads the paragraph styles of word/styles.xml by id.
func docxStyles(data []byte) map[string]docxStyle {
	styles := make(map[string]docxStyle)
	if data == nil {
		return styles
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	var id string
	var st docxStyle
	for {
		tok, err := dec.Token()
		if err != nil {
			return styles
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case wordName(t.Name, "style"):
				id, st = "", docxStyle{outline: -1}
				for _, a := range t.Attr {
					if a.Name.Local == "styleId" {
						id = a.Value
					}
				}
			case wordName(t.Name, "name"):
				st.name = strings.ToLower(strings.TrimSpace(wordVal(t)))
			case wordName(t.Name, "outlineLvl"):
				if n, err := strconv.Atoi(wordVal(t)); err == nil && n >= 0 && n <= 8 {
					st.outline = n
				}
			}
		case xml.EndElement:
			if wordName(t.Name, "style") && id != "" {
				styles[id] = st
			}
		}
	}
}

// docxTitle returns dc:title of docProps/core.xml, "" when there is none.
func docxTitle(data []byte) string {
	if data == nil {
		return ""
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	in := false
	var b strings.Builder
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		switch t := tok.(type) {
		case xml.StartElement:
			in = t.Name.Local == "title" && t.Name.Space == dublinCoreNS
		case xml.CharData:
			if in {
				b.Write(t)
			}
		case xml.EndElement:
			if in {
				return collapseSpace(b.String())
			}
		}
	}
}

// docxParagraph is a w:p being read.
type docxParagraph struct {
	text    strings.Builder
	style   string // the w:pStyle id
	list    bool   // numbered or bulleted
	outline int    // the w:outlineLvl of the paragraph, -1 for none
}

// docxRow is the row being read of an open w:tbl.
type docxRow struct {
	cells []string // the finished cells
	cell  []string // paragraphs of the cell being read
}

// docxReader reads word/document.xml into an outline.
type docxReader struct {
	styles       map[string]docxStyle
	out          outline
	firstHeading string
	paras        []*docxParagraph // open paragraphs: a text box nests one in another
	rows         []*docxRow       // one per open table, innermost last
	inRun        int              // depth of open w:r elements
	inText       bool             // inside w:t
	skip         int              // depth inside an element left out
}

// read reads the document body.
func (r *docxReader) read(data []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return xmlError(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if r.skip > 0 || (t.Name.Local == "Fallback" && t.Name.Space == compatNS) || wordName(t.Name, "moveFrom") {
				r.skip++
				continue
			}
			r.start(t)
		case xml.EndElement:
			if r.skip > 0 {
				r.skip--
				continue
			}
			r.end(t.Name)
		case xml.CharData:
			if r.inText && r.skip == 0 && len(r.paras) > 0 {
				r.paras[len(r.paras)-1].text.Write(t)
			}
		}
	}
}

// start handles the start of an element of the body.
func (r *docxReader) start(e xml.StartElement) {
	if e.Name.Space != wordNS && e.Name.Space != wordStrictNS {
		return
	}
	var p *docxParagraph
	if len(r.paras) > 0 {
		p = r.paras[len(r.paras)-1]
	}
	switch e.Name.Local {
	case "p":
		r.paras = append(r.paras, &docxParagraph{outline: -1})
	case "pStyle":
		if p != nil {
			p.style = wordVal(e)
		}
	case "numPr":
		if p != nil {
			p.list = true
		}
	case "outlineLvl":
		if n, err := strconv.Atoi(wordVal(e)); err == nil && p != nil && n >= 0 && n <= 8 {
			p.outline = n
		}
	case "r":
		r.inRun++
	case "t":
		r.inText = p != nil
	case "tab":
		if r.inRun > 0 && p != nil {
			p.text.WriteString(" ")
		}
	case "br", "cr":
		if r.inRun > 0 && p != nil {
			p.text.WriteString("\n")
		}
	case "noBreakHyphen":
		if r.inRun > 0 && p != nil {
			p.text.WriteString("-")
		}
	case "tbl":
		r.rows = append(r.rows, &docxRow{})
	case "tr":
		if len(r.rows) > 0 {
			*r.rows[len(r.rows)-1] = docxRow{}
		}
	case "tc":
		if len(r.rows) > 0 {
			r.rows[len(r.rows)-1].cell = nil
		}
	}
}

// end handles the end of an element of the body.
func (r *docxReader) end(n xml.Name) {
	if n.Space != wordNS && n.Space != wordStrictNS {
		return
	}
	switch n.Local {
	case "r":
		r.inRun = max(r.inRun-1, 0)
	case "t":
		r.inText = false
	case "p":
		if len(r.paras) > 0 {
			p := r.paras[len(r.paras)-1]
			r.paras = r.paras[:len(r.paras)-1]
			r.paragraph(p)
		}
	case "tc":
		if len(r.rows) > 0 {
			row := r.rows[len(r.rows)-1]
			row.cells = append(row.cells, strings.Join(row.cell, " "))
			row.cell = nil
		}
	case "tr":
		if len(r.rows) == 0 {
			return
		}
		row := r.rows[len(r.rows)-1]
		if strings.TrimSpace(strings.Join(row.cells, "")) == "" {
			return
		}
		text := strings.Join(row.cells, " | ")
		if len(r.rows) > 1 {
			// A table inside a cell: its rows are text of that cell.
			outer := r.rows[len(r.rows)-2]
			outer.cell = append(outer.cell, text)
			return
		}
		r.out.block(text)
	case "tbl":
		if len(r.rows) > 0 {
			r.rows = r.rows[:len(r.rows)-1]
		}
	}
}

// paragraph adds a finished paragraph to a table cell or the outline.
func (r *docxReader) paragraph(p *docxParagraph) {
	text := collapseLines(p.text.String())
	if text == "" {
		return
	}
	if len(r.rows) > 0 && len(r.paras) == 0 {
		row := r.rows[len(r.rows)-1]
		row.cell = append(row.cell, collapseSpace(text))
		return
	}
	st, ok := r.styles[p.style]
	if !ok {
		st.outline = -1
	}
	if strings.HasPrefix(st.name, "toc ") || st.name == "toc heading" || strings.HasPrefix(strings.ToLower(p.style), "toc") {
		return
	}
	if level := r.level(p, st); level >= 0 {
		r.out.heading(level, text)
		if r.firstHeading == "" {
			r.firstHeading = collapseSpace(text)
		}
		return
	}
	if p.list {
		text = "- " + text
	}
	r.out.block(text)
}

// level returns the heading level of a paragraph: 0 for a title, 1–9 for a
// heading, -1 for body text.
func (r *docxReader) level(p *docxParagraph, st docxStyle) int {
	if st.name == "title" || strings.EqualFold(p.style, "title") {
		return 0
	}
	if rest, ok := strings.CutPrefix(st.name, "heading "); ok {
		if n, err := strconv.Atoi(rest); err == nil && n >= 1 && n <= 9 {
			return n
		}
	}
	id := strings.ToLower(p.style)
	for _, prefix := range []string{"heading", "başlık", "balk"} {
		if rest, ok := strings.CutPrefix(id, prefix); ok && len(rest) == 1 && rest[0] >= '1' && rest[0] <= '9' {
			return int(rest[0] - '0')
		}
	}
	if st.outline >= 0 {
		return st.outline + 1
	}
	if p.outline >= 0 {
		return p.outline + 1
	}
	return -1
}
