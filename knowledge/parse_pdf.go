package knowledge

import (
	"bytes"
	"cmp"
	"compress/flate"
	"compress/zlib"
	"encoding/ascii85"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrNoTextLayer is returned, wrapped, for a PDF with no text to extract:
// a scan, or text whose fonts give no way back to characters.
var ErrNoTextLayer = errors.New("no text layer (a scanned PDF needs OCR first)")

// ParsePDF parses the text layer of a PDF named name (used in errors, as
// Source and for the ID). Nothing is rendered or recognised: text drawn as
// images is not seen.
//
// Pages are read in the order of the page tree. Text is decoded through the
// fonts' ToUnicode maps, else their encodings (WinAnsi, or a base encoding
// with Differences by glyph name); content streams may be uncompressed,
// FlateDecode, ASCIIHexDecode or ASCII85Decode, and may sit in form
// XObjects; objects may sit in object streams. Lines come from the text
// positions: a move down the page starts a line, a gap on the line is a
// space. A line starts a new block after a gap wider than a line, at a change
// of font size, at a bullet ("•" becomes "- ") and on each page; the lines
// of a block are joined by spaces, a word hyphenated at a line end mended
// ("manip-" "ulation"; "e-" "posta" keeps its hyphen). A block of
// one or two short lines set at least 15% larger than the body text is a
// heading: the larger the size, the higher the level. Page numbers, lines
// of a table of contents (dot leaders and a page number) and blocks
// repeated on at least half the pages (three at least: running heads) are
// left out.
//
// The title is the document information's Title (but for Word's "Microsoft
// Word - file.docx"), else the first level-1 heading, else the file name;
// the language is what local.DetectLanguage finds.
//
// An empty file, a file without a PDF header or page tree (ErrCorrupt), an
// encrypted PDF, or one without extractable text (ErrNoTextLayer) is an
// error naming the file.
func ParsePDF(name string, data []byte) (Document, []Section, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return Document{}, nil, fmt.Errorf("parsing %s: file is empty", name)
	}
	f, err := readPDF(data)
	if err != nil {
		return Document{}, nil, fmt.Errorf("parsing %s: %w: %w", name, ErrCorrupt, err)
	}
	if f.trailer("Encrypt") != nil {
		return Document{}, nil, fmt.Errorf("parsing %s: the PDF is encrypted: save a copy without password protection first", name)
	}
	pages := f.pages()
	if len(pages) == 0 {
		return Document{}, nil, fmt.Errorf("parsing %s: %w: no pages", name, ErrCorrupt)
	}
	x := pdfExtractor{file: f, fonts: make(map[pdfRef]*pdfFont)}
	for _, page := range pages {
		x.page(page)
	}
	sections, headingTitle := x.sections()
	if len(sections) == 0 {
		switch {
		case x.undecoded > 0:
			return Document{}, nil, fmt.Errorf("parsing %s: %w: its fonts do not map their characters to Unicode", name, ErrNoTextLayer)
		case x.failed > 0:
			return Document{}, nil, fmt.Errorf("parsing %s: %w: its page content cannot be decoded", name, ErrCorrupt)
		default:
			return Document{}, nil, fmt.Errorf("parsing %s: %w", name, ErrNoTextLayer)
		}
	}
	title := ""
	if s, ok := f.resolve(dictOf(f.resolve(f.trailer("Info")))["Title"]).(pdfString); ok {
		title = collapseSpace(textString(s))
		if strings.HasPrefix(title, "Microsoft Word - ") {
			title = ""
		}
	}
	return document(name, data, frontMatter{}, cmp.Or(title, headingTitle), sections)
}

// The PDF object types; numbers are float64, booleans bool, null nil.
type (
	pdfName    string // a name, without its "/"
	pdfString  string // the bytes of a string
	pdfKeyword string // an operator or other bare word, or a delimiter
	pdfDict    map[pdfName]any
	pdfArray   []any
	pdfRef     struct{ num, gen int }
	pdfStream  struct {
		dict pdfDict
		raw  []byte // as stored, still encoded
	}
)

// pdfLexer reads PDF tokens and objects from data.
type pdfLexer struct {
	data []byte
	pos  int
	refs bool // "n g R" is a reference (not in content streams)
}

// maxPDFDepth bounds the nesting of arrays and dictionaries.
const maxPDFDepth = 64

func pdfSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func pdfDelimiter(c byte) bool { return strings.IndexByte("()<>[]{}/%", c) >= 0 }

// skipSpace skips white space and comments.
func (l *pdfLexer) skipSpace() {
	for l.pos < len(l.data) {
		switch c := l.data[l.pos]; {
		case pdfSpace(c):
			l.pos++
		case c == '%':
			for l.pos < len(l.data) && l.data[l.pos] != '\n' && l.data[l.pos] != '\r' {
				l.pos++
			}
		default:
			return
		}
	}
}

// token returns the next token: a number, name, string or keyword
// ("[", "<<", "R", "Tj", …); io.EOF at the end.
func (l *pdfLexer) token() (any, error) {
	l.skipSpace()
	if l.pos >= len(l.data) {
		return nil, io.EOF
	}
	c := l.data[l.pos]
	switch {
	case c == '(':
		return l.literal()
	case c == '<' && l.pos+1 < len(l.data) && l.data[l.pos+1] == '<':
		l.pos += 2
		return pdfKeyword("<<"), nil
	case c == '>' && l.pos+1 < len(l.data) && l.data[l.pos+1] == '>':
		l.pos += 2
		return pdfKeyword(">>"), nil
	case c == '<':
		end := bytes.IndexByte(l.data[l.pos:], '>')
		if end < 0 {
			return nil, errors.New("unterminated hex string")
		}
		s := hexString(l.data[l.pos+1 : l.pos+end])
		l.pos += end + 1
		return s, nil
	case c == '/':
		l.pos++
		start := l.pos
		for l.pos < len(l.data) && !pdfSpace(l.data[l.pos]) && !pdfDelimiter(l.data[l.pos]) {
			l.pos++
		}
		return pdfName(nameEscapes(l.data[start:l.pos])), nil
	case strings.IndexByte("[]{}>)", c) >= 0:
		l.pos++
		return pdfKeyword(c), nil
	}
	start := l.pos
	for l.pos < len(l.data) && !pdfSpace(l.data[l.pos]) && !pdfDelimiter(l.data[l.pos]) {
		l.pos++
	}
	word := string(l.data[start:l.pos])
	if c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9') {
		n, err := strconv.ParseFloat(word, 64)
		if err != nil {
			return 0.0, nil // as other readers do with "--5" and "1.2.3"
		}
		return n, nil
	}
	return pdfKeyword(word), nil
}

// literal reads a "(…)" string.
func (l *pdfLexer) literal() (pdfString, error) {
	var b []byte
	depth := 0
	for l.pos++; l.pos < len(l.data); l.pos++ {
		c := l.data[l.pos]
		switch c {
		case '(':
			depth++
		case ')':
			if depth == 0 {
				l.pos++
				return pdfString(b), nil
			}
			depth--
		case '\r':
			// An end of line in a string is "\n", whichever it was.
			if l.pos+1 < len(l.data) && l.data[l.pos+1] == '\n' {
				l.pos++
			}
			c = '\n'
		case '\\':
			l.pos++
			if l.pos >= len(l.data) {
				continue
			}
			c = l.data[l.pos]
			switch c {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if l.pos+1 < len(l.data) && l.data[l.pos+1] == '\n' {
					l.pos++
				}
				continue
			case '\n':
				continue
			default:
				if c >= '0' && c <= '7' {
					n := int(c - '0')
					for i := 0; i < 2 && l.pos+1 < len(l.data) && l.data[l.pos+1] >= '0' && l.data[l.pos+1] <= '7'; i++ {
						l.pos++
						n = n*8 + int(l.data[l.pos]-'0')
					}
					c = byte(n)
				}
			}
		}
		b = append(b, c)
	}
	return "", errors.New("unterminated string")
}

// hexString decodes the digits of a "<…>" string, ignoring white space; an
// odd last digit is followed by 0.
func hexString(digits []byte) pdfString {
	clean := make([]byte, 0, len(digits)+1)
	for _, c := range digits {
		if ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F') {
			clean = append(clean, c)
		}
	}
	if len(clean)%2 == 1 {
		clean = append(clean, '0')
	}
	out := make([]byte, len(clean)/2)
	hex.Decode(out, clean) // only hex digits are left: no error
	return pdfString(out)
}

// nameEscapes decodes the "#xx" escapes of a name.
func nameEscapes(raw []byte) string {
	if bytes.IndexByte(raw, '#') < 0 {
		return string(raw)
	}
	var b []byte
	for i := 0; i < len(raw); i++ {
		if raw[i] == '#' && i+2 < len(raw) {
			if v, err := strconv.ParseUint(string(raw[i+1:i+3]), 16, 8); err == nil {
				b = append(b, byte(v))
				i += 2
				continue
			}
		}
		b = append(b, raw[i])
	}
	return string(b)
}

// object reads the next object; a keyword that starts no object (an
// operator, "endobj", "]") is returned as a pdfKeyword.
func (l *pdfLexer) object() (any, error) { return l.nested(0) }

func (l *pdfLexer) nested(depth int) (any, error) {
	if depth > maxPDFDepth {
		return nil, errors.New("objects nested too deep")
	}
	tok, err := l.token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case float64:
		if !l.refs || t < 0 || t > math.MaxInt32 || t != math.Trunc(t) {
			return t, nil
		}
		save := l.pos
		if gen, err := l.token(); err == nil {
			if g, ok := gen.(float64); ok && g >= 0 && g <= math.MaxInt32 && g == math.Trunc(g) {
				if r, err := l.token(); err == nil && r == pdfKeyword("R") {
					return pdfRef{int(t), int(g)}, nil
				}
			}
		}
		l.pos = save
		return t, nil
	case pdfKeyword:
		switch t {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		case "[":
			var arr pdfArray
			for {
				v, err := l.nested(depth + 1)
				if err != nil {
					return nil, err
				}
				if v == pdfKeyword("]") {
					return arr, nil
				}
				arr = append(arr, v)
			}
		case "<<":
			d := make(pdfDict)
			for {
				k, err := l.nested(depth + 1)
				if err != nil {
					return nil, err
				}
				if k == pdfKeyword(">>") {
					return d, nil
				}
				key, ok := k.(pdfName)
				if !ok {
					continue // tolerate a stray token where a key belongs
				}
				v, err := l.nested(depth + 1)
				if err != nil {
					return nil, err
				}
				if v == pdfKeyword(">>") {
					return d, nil
				}
				d[key] = v
			}
		}
	}
	return tok, nil
}

// pdfFile is the objects of a PDF, found by scanning it rather than through
// its cross-reference table, which is often wrong in files that were edited.
type pdfFile struct {
	objects  map[int]pdfObject
	trailers []pdfDict // "trailer" dictionaries and XRef streams, in file order
}

// pdfObject is an object with the file offset that defined it: the later
// definition of an object number wins, as in an incremental update.
type pdfObject struct {
	value any
	at    int
}

// readPDF finds the objects and trailers of a PDF.
func readPDF(data []byte) (*pdfFile, error) {
	if !bytes.Contains(data[:min(len(data), 1024)], []byte("%PDF-")) {
		return nil, errors.New("not a PDF file")
	}
	f := &pdfFile{objects: make(map[int]pdfObject)}
	for pos := 0; pos < len(data); {
		at, num, body, ok := nextObject(data, pos)
		if !ok {
			break
		}
		l := pdfLexer{data: data, pos: body, refs: true}
		v, err := l.object()
		if err != nil {
			pos = body
			continue
		}
		pos = l.pos
		if d, ok := v.(pdfDict); ok {
			if s, end, ok := streamAfter(&l, d); ok {
				v, pos = s, end
			}
		}
		f.set(num, v, at)
	}
	// Trailers are "trailer" dictionaries and the dictionaries of XRef
	// streams; object streams define the objects they hold at their own
	// offset. Both are taken in file order.
	var trailers, streams []pdfObject
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte("trailer"))
		if j < 0 {
			break
		}
		l := pdfLexer{data: data, pos: i + j + len("trailer"), refs: true}
		if d, err := l.object(); err == nil {
			if d, ok := d.(pdfDict); ok {
				trailers = append(trailers, pdfObject{d, i + j})
			}
		}
		i += j + len("trailer")
	}
	for _, o := range f.objects {
		s, ok := o.value.(pdfStream)
		switch {
		case ok && s.dict["Type"] == pdfName("ObjStm"):
			streams = append(streams, o)
		case ok && s.dict["Type"] == pdfName("XRef"):
			trailers = append(trailers, pdfObject{s.dict, o.at})
		}
	}
	byOffset := func(a, b pdfObject) int { return a.at - b.at }
	slices.SortFunc(trailers, byOffset)
	for _, t := range trailers {
		f.trailers = append(f.trailers, t.value.(pdfDict))
	}
	slices.SortFunc(streams, byOffset)
	for _, o := range streams {
		f.objectStream(o.value.(pdfStream), o.at)
	}
	return f, nil
}

// nextObject finds the next object header "num gen obj" in data from
// offset from: its offset, num, and the offset after "obj".
func nextObject(data []byte, from int) (at, num, body int, ok bool) {
	for i := from; i < len(data); {
		j := bytes.Index(data[i:], []byte("obj"))
		if j < 0 {
			break
		}
		p := i + j
		i = p + 3
		if i < len(data) && !pdfSpace(data[i]) && !pdfDelimiter(data[i]) {
			continue
		}
		spaces := func() bool {
			end := p
			for p > 0 && pdfSpace(data[p-1]) {
				p--
			}
			return p < end
		}
		digits := func() (int, bool) {
			end := p
			for p > 0 && end-p < 10 && data[p-1] >= '0' && data[p-1] <= '9' {
				p--
			}
			n, err := strconv.Atoi(string(data[p:end]))
			return n, err == nil
		}
		if !spaces() {
			continue
		}
		if _, ok := digits(); !ok || !spaces() {
			continue
		}
		n, ok := digits()
		if !ok || (p > 0 && !pdfSpace(data[p-1]) && !pdfDelimiter(data[p-1])) {
			continue
		}
		return p, n, i, true
	}
	return 0, 0, 0, false
}

// set records the definition of object num at offset at unless a later
// one is known.
func (f *pdfFile) set(num int, v any, at int) {
	if old, ok := f.objects[num]; ok && old.at > at {
		return
	}
	f.objects[num] = pdfObject{v, at}
}

// streamAfter reads the stream data following the dictionary d, if any,
// returning it and the offset after "endstream".
func streamAfter(l *pdfLexer, d pdfDict) (pdfStream, int, bool) {
	save := l.pos
	if tok, err := l.token(); err != nil || tok != pdfKeyword("stream") {
		l.pos = save
		return pdfStream{}, 0, false
	}
	data := l.data
	start := l.pos
	if start < len(data) && data[start] == '\r' {
		start++
	}
	if start < len(data) && data[start] == '\n' {
		start++
	}
	if n, ok := d["Length"].(float64); ok && n >= 0 && n <= float64(len(data)-start) {
		end := start + int(n)
		rest := bytes.TrimLeft(data[end:min(end+16, len(data))], "\r\n \t")
		if bytes.HasPrefix(rest, []byte("endstream")) {
			after := end + bytes.Index(data[end:], []byte("endstream")) + len("endstream")
			return pdfStream{d, data[start:end]}, after, true
		}
	}
	// No or wrong /Length: the data runs to "endstream".
	end := bytes.Index(data[start:], []byte("endstream"))
	if end < 0 {
		return pdfStream{d, data[start:]}, len(data), true
	}
	raw := data[start : start+end]
	raw = bytes.TrimSuffix(raw, []byte("\n"))
	raw = bytes.TrimSuffix(raw, []byte("\r"))
	return pdfStream{d, raw}, start + end + len("endstream"), true
}

// objectStream defines the objects an object stream holds.
func (f *pdfFile) objectStream(s pdfStream, at int) {
	data, err := f.decode(s)
	if err != nil {
		return
	}
	n, _ := s.dict["N"].(float64)
	first, _ := s.dict["First"].(float64)
	if first < 0 || first > float64(len(data)) {
		return
	}
	head := pdfLexer{data: data[:int(first)]}
	for range int(max(min(n, 1e6), 0)) {
		num, err1 := head.token()
		off, err2 := head.token()
		nf, ok1 := num.(float64)
		of, ok2 := off.(float64)
		if err1 != nil || err2 != nil || !ok1 || !ok2 || nf < 0 || nf > math.MaxInt32 || of < 0 || first+of >= float64(len(data)) {
			return
		}
		l := pdfLexer{data: data, pos: int(first + of), refs: true}
		if v, err := l.object(); err == nil {
			f.set(int(nf), v, at)
		}
	}
}

// resolve follows references to the object they name; nil when it is
// missing.
func (f *pdfFile) resolve(v any) any {
	for range 32 {
		r, ok := v.(pdfRef)
		if !ok {
			return v
		}
		v = f.objects[r.num].value
	}
	return nil
}

// trailer returns the value of key in the last trailer that has it.
func (f *pdfFile) trailer(key pdfName) any {
	for _, t := range slices.Backward(f.trailers) {
		if v, ok := t[key]; ok {
			return v
		}
	}
	return nil
}

// dictOf returns v as a dictionary, a stream's dictionary, or nil.
func dictOf(v any) pdfDict {
	switch v := v.(type) {
	case pdfDict:
		return v
	case pdfStream:
		return v.dict
	}
	return nil
}

// pdfNumber returns v as a number, def when it is none.
func pdfNumber(v any, def float64) float64 {
	if n, ok := v.(float64); ok {
		return n
	}
	return def
}

// decode returns the data of a stream, its filters undone.
func (f *pdfFile) decode(s pdfStream) ([]byte, error) {
	data := s.raw
	var filters pdfArray
	switch v := f.resolve(s.dict["Filter"]).(type) {
	case pdfName:
		filters = pdfArray{v}
	case pdfArray:
		filters = v
	}
	parms := f.resolve(s.dict["DecodeParms"])
	for i, filter := range filters {
		p := parms
		if arr, ok := parms.(pdfArray); ok {
			p = nil
			if i < len(arr) {
				p = arr[i]
			}
		}
		if predictor := pdfNumber(f.resolve(dictOf(f.resolve(p))["Predictor"]), 1); predictor > 1 {
			return nil, fmt.Errorf("predictor %v not supported", predictor)
		}
		var err error
		switch f.resolve(filter) {
		case pdfName("FlateDecode"), pdfName("Fl"):
			data, err = inflate(data)
		case pdfName("ASCIIHexDecode"), pdfName("AHx"):
			end := bytes.IndexByte(data, '>')
			if end < 0 {
				end = len(data)
			}
			data = []byte(hexString(data[:end]))
		case pdfName("ASCII85Decode"), pdfName("A85"):
			data, err = unASCII85(data)
		default:
			return nil, fmt.Errorf("filter %v not supported", filter)
		}
		if err != nil {
			return nil, err
		}
	}
	return data, nil
}

// inflate undoes FlateDecode. Data cut short is kept as far as it goes, as
// viewers do.
func inflate(data []byte) ([]byte, error) {
	var r io.Reader
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		// Some writers leave out the zlib header.
		r = flate.NewReader(bytes.NewReader(data))
	} else {
		r = zr
	}
	out, err := io.ReadAll(io.LimitReader(r, maxPartBytes+1))
	switch {
	case len(out) > maxPartBytes:
		return nil, fmt.Errorf("stream over %d MiB", maxPartBytes>>20)
	case err != nil && len(out) == 0:
		return nil, err
	}
	return out, nil
}

// unASCII85 undoes ASCII85Decode.
func unASCII85(data []byte) ([]byte, error) {
	data = bytes.TrimSpace(data)
	data = bytes.TrimPrefix(data, []byte("<~"))
	if end := bytes.Index(data, []byte("~>")); end >= 0 {
		data = data[:end]
	}
	return readAtMost(ascii85.NewDecoder(bytes.NewReader(data)), maxPartBytes)
}

// pdfPage is a page to extract text from.
type pdfPage struct {
	contents  []pdfStream
	resources pdfDict
}

// pages returns the pages of the page tree in order; without a usable
// tree, the page objects in object-number order.
func (f *pdfFile) pages() []pdfPage {
	var out []pdfPage
	seen := make(map[pdfRef]bool)
	var walk func(node any, resources pdfDict, depth int)
	walk = func(node any, resources pdfDict, depth int) {
		if r, ok := node.(pdfRef); ok {
			if seen[r] {
				return
			}
			seen[r] = true
		}
		d := dictOf(f.resolve(node))
		if d == nil || depth > maxPDFDepth {
			return
		}
		if res := dictOf(f.resolve(d["Resources"])); res != nil {
			resources = res
		}
		if kids, ok := f.resolve(d["Kids"]).(pdfArray); ok {
			for _, kid := range kids {
				walk(kid, resources, depth+1)
			}
			return
		}
		out = append(out, f.page(d, resources))
	}
	if root := dictOf(f.resolve(f.trailer("Root"))); root != nil {
		walk(root["Pages"], nil, 0)
	}
	if len(out) > 0 {
		return out
	}
	nums := make([]int, 0, len(f.objects))
	for num := range f.objects {
		nums = append(nums, num)
	}
	slices.Sort(nums)
	for _, num := range nums {
		if d := dictOf(f.objects[num].value); d["Type"] == pdfName("Page") {
			out = append(out, f.page(d, dictOf(f.resolve(d["Resources"]))))
		}
	}
	return out
}

// page returns the page of the page dictionary d.
func (f *pdfFile) page(d pdfDict, resources pdfDict) pdfPage {
	p := pdfPage{resources: resources}
	contents := f.resolve(d["Contents"])
	if arr, ok := contents.(pdfArray); ok {
		for _, c := range arr {
			if s, ok := f.resolve(c).(pdfStream); ok {
				p.contents = append(p.contents, s)
			}
		}
	} else if s, ok := contents.(pdfStream); ok {
		p.contents = []pdfStream{s}
	}
	return p
}

// textString decodes a PDF text string (a title): UTF-16 with a byte-order
// mark, UTF-8, or else PDFDocEncoding, taken as Latin-1.
func textString(s pdfString) string {
	switch {
	case strings.HasPrefix(string(s), "\xFE\xFF"):
		return utf16String([]byte(s[2:]))
	case strings.HasPrefix(string(s), "\xEF\xBB\xBF"):
		return string(s[3:])
	case utf8.ValidString(string(s)):
		return string(s)
	}
	runes := make([]rune, len(s))
	for i := range len(s) {
		runes[i] = rune(s[i])
	}
	return string(runes)
}

// utf16String decodes big-endian UTF-16.
func utf16String(b []byte) string {
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return string(utf16.Decode(units))
}

// pdfFont turns the codes of a shown string into text and widths.
type pdfFont struct {
	composite bool
	ranges    []codeRange // code lengths; none: 1 byte, 2 for composite fonts
	toUnicode *pdfCMap
	encoding  [256]string // a simple font's text for each code, "" unknown
	widths    map[uint32]float64
	missing   float64 // width of a code not in widths
	scale     float64 // from widths to thousandths of the font size
}

// codeRange is a codespace range of a CMap: codes as long as lo, each byte
// within lo's and hi's.
type codeRange struct{ lo, hi []byte }

// pdfCMap is a parsed CMap: a ToUnicode map or a font's encoding.
type pdfCMap struct {
	ranges []codeRange
	chars  map[uint32]string
	spans  []cmapSpan
}

// cmapSpan maps the codes lo…hi: to base with its last unit counted up, or
// to the texts of list.
type cmapSpan struct {
	lo, hi uint32
	base   []uint16
	list   []string
}

// lookup returns the text of code.
func (c *pdfCMap) lookup(code uint32) (string, bool) {
	if c == nil {
		return "", false
	}
	if s, ok := c.chars[code]; ok {
		return s, true
	}
	for _, sp := range c.spans {
		if code < sp.lo || code > sp.hi {
			continue
		}
		off := code - sp.lo
		if sp.list != nil {
			if int(off) < len(sp.list) {
				return sp.list[off], true
			}
			return "", false
		}
		if len(sp.base) == 0 {
			return "", false
		}
		units := slices.Clone(sp.base)
		units[len(units)-1] += uint16(off)
		return string(utf16.Decode(units)), true
	}
	return "", false
}

// parseCMap reads the codespace ranges and the bfchar and bfrange maps of a
// CMap; what it cannot read is skipped.
func parseCMap(data []byte) *pdfCMap {
	c := &pdfCMap{chars: make(map[uint32]string)}
	l := pdfLexer{data: data}
	for {
		v, err := l.object()
		if err != nil {
			return c
		}
		switch v {
		case pdfKeyword("begincodespacerange"):
			for {
				lo, ok1 := l.cmapString()
				hi, ok2 := l.cmapString()
				if !ok1 || !ok2 {
					break
				}
				if len(lo) == len(hi) && len(lo) > 0 && len(lo) <= 4 {
					c.ranges = append(c.ranges, codeRange{[]byte(lo), []byte(hi)})
				}
			}
		case pdfKeyword("beginbfchar"):
			for {
				src, ok1 := l.cmapString()
				dst, ok2 := l.cmapString()
				if !ok1 || !ok2 {
					break
				}
				c.chars[codeOf(src)] = unicodeText(dst)
			}
		case pdfKeyword("beginbfrange"):
			for {
				lo, ok1 := l.cmapString()
				hi, ok2 := l.cmapString()
				if !ok1 || !ok2 {
					break
				}
				dst, err := l.object()
				if err != nil {
					return c
				}
				sp := cmapSpan{lo: codeOf(lo), hi: codeOf(hi)}
				switch d := dst.(type) {
				case pdfString:
					sp.base = utf16.Encode([]rune(unicodeText(d)))
				case pdfArray:
					for _, s := range d {
						s, _ := s.(pdfString)
						sp.list = append(sp.list, unicodeText(s))
					}
				}
				if sp.lo <= sp.hi {
					c.spans = append(c.spans, sp)
				}
			}
		}
	}
}

// cmapString reads the next string of a CMap section; false at its end
// keyword or on anything else.
func (l *pdfLexer) cmapString() (pdfString, bool) {
	v, err := l.object()
	if err != nil {
		return "", false
	}
	s, ok := v.(pdfString)
	return s, ok
}

// codeOf is a code's bytes as a big-endian number.
func codeOf(s pdfString) uint32 {
	var code uint32
	for i := range min(len(s), 4) {
		code = code<<8 | uint32(s[i])
	}
	return code
}

// unicodeText decodes the UTF-16BE destination of a ToUnicode map; an odd
// length is taken as bytes.
func unicodeText(s pdfString) string {
	if len(s)%2 == 1 {
		return textString(s)
	}
	return utf16String([]byte(s))
}

// maxWidths bounds the glyph widths kept of a font (a CJK font has some
// twenty thousand).
const maxWidths = 1 << 17

// loadFont reads a font dictionary.
func (f *pdfFile) loadFont(d pdfDict) *pdfFont {
	ft := &pdfFont{widths: make(map[uint32]float64), missing: 500, scale: 1}
	if s, ok := f.resolve(d["ToUnicode"]).(pdfStream); ok {
		if data, err := f.decode(s); err == nil {
			ft.toUnicode = parseCMap(data)
		}
	}
	if d["Subtype"] == pdfName("Type0") {
		ft.composite = true
		if s, ok := f.resolve(d["Encoding"]).(pdfStream); ok {
			if data, err := f.decode(s); err == nil {
				ft.ranges = parseCMap(data).ranges
			}
		}
		var desc pdfDict
		if arr, ok := f.resolve(d["DescendantFonts"]).(pdfArray); ok && len(arr) > 0 {
			desc = dictOf(f.resolve(arr[0]))
		}
		ft.missing = pdfNumber(f.resolve(desc["DW"]), 1000)
		w, _ := f.resolve(desc["W"]).(pdfArray)
		for i := 0; i+1 < len(w) && len(ft.widths) < maxWidths; {
			first := pdfNumber(f.resolve(w[i]), -1)
			if list, ok := f.resolve(w[i+1]).(pdfArray); ok {
				for j, v := range list {
					ft.widths[uint32(first)+uint32(j)] = pdfNumber(f.resolve(v), ft.missing)
				}
				i += 2
				continue
			}
			if i+2 >= len(w) {
				break
			}
			last := pdfNumber(f.resolve(w[i+1]), -1)
			width := pdfNumber(f.resolve(w[i+2]), ft.missing)
			for c := first; c >= 0 && c <= last && len(ft.widths) < maxWidths; c++ {
				ft.widths[uint32(c)] = width
			}
			i += 3
		}
		return ft
	}
	ft.encoding = f.simpleEncoding(f.resolve(d["Encoding"]))
	first := pdfNumber(f.resolve(d["FirstChar"]), 0)
	if widths, ok := f.resolve(d["Widths"]).(pdfArray); ok {
		ft.missing = pdfNumber(f.resolve(dictOf(f.resolve(d["FontDescriptor"]))["MissingWidth"]), 0)
		for i, w := range widths {
			ft.widths[uint32(first)+uint32(i)] = pdfNumber(f.resolve(w), ft.missing)
		}
	}
	if m, ok := f.resolve(d["FontMatrix"]).(pdfArray); ok && len(m) > 0 {
		ft.scale = pdfNumber(f.resolve(m[0]), 0.001) * 1000
	}
	return ft
}

// simpleEncoding returns the text of each code of a simple font with the
// Encoding entry enc: WinAnsi unless it names another base encoding (of
// which only ASCII is known), changed by its Differences.
func (f *pdfFile) simpleEncoding(enc any) [256]string {
	base := enc
	if d := dictOf(enc); d != nil {
		base = f.resolve(d["BaseEncoding"])
	}
	var out [256]string
	names := glyphTable()
	for c := 0x20; c < 0x7F; c++ {
		out[c] = string(rune(c))
	}
	if base == nil || base == pdfName("WinAnsiEncoding") {
		for c := 0x80; c <= 0xFF; c++ {
			out[c] = string(winAnsi(byte(c)))
		}
		out[0x7F], out[0x81], out[0x8D], out[0x8F], out[0x90], out[0x9D] = "", "", "", "", "", ""
	}
	if d := dictOf(enc); d != nil {
		diffs, _ := f.resolve(d["Differences"]).(pdfArray)
		code := 0
		for _, v := range diffs {
			switch v := f.resolve(v).(type) {
			case float64:
				code = int(v)
			case pdfName:
				if code >= 0 && code < 256 {
					out[code] = glyphText(names, string(v))
				}
				code++
			}
		}
	}
	return out
}

// winAnsi is the character of a WinAnsiEncoding code from 0x80 on.
func winAnsi(c byte) rune {
	if c >= 0xA0 {
		return rune(c)
	}
	return []rune("€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ")[c-0x80]
}

// winAnsiGlyphs names the glyphs of WinAnsiEncoding from 0x20 on, "-" for
// codes without one.
const winAnsiGlyphs = "space exclam quotedbl numbersign dollar percent ampersand quotesingle " +
	"parenleft parenright asterisk plus comma hyphen period slash " +
	"zero one two three four five six seven eight nine colon semicolon less equal greater question " +
	"at A B C D E F G H I J K L M N O P Q R S T U V W X Y Z bracketleft backslash bracketright asciicircum underscore " +
	"grave a b c d e f g h i j k l m n o p q r s t u v w x y z braceleft bar braceright asciitilde - " +
	"Euro - quotesinglbase florin quotedblbase ellipsis dagger daggerdbl circumflex perthousand Scaron guilsinglleft OE - Zcaron - " +
	"- quoteleft quoteright quotedblleft quotedblright bullet endash emdash tilde trademark scaron guilsinglright oe - zcaron Ydieresis " +
	"nbspace exclamdown cent sterling currency yen brokenbar section dieresis copyright ordfeminine guillemotleft logicalnot sfthyphen registered macron " +
	"degree plusminus twosuperior threesuperior acute mu paragraph periodcentered cedilla onesuperior ordmasculine guillemotright onequarter onehalf threequarters questiondown " +
	"Agrave Aacute Acircumflex Atilde Adieresis Aring AE Ccedilla Egrave Eacute Ecircumflex Edieresis Igrave Iacute Icircumflex Idieresis " +
	"Eth Ntilde Ograve Oacute Ocircumflex Otilde Odieresis multiply Oslash Ugrave Uacute Ucircumflex Udieresis Yacute Thorn germandbls " +
	"agrave aacute acircumflex atilde adieresis aring ae ccedilla egrave eacute ecircumflex edieresis igrave iacute icircumflex idieresis " +
	"eth ntilde ograve oacute ocircumflex otilde odieresis divide oslash ugrave uacute ucircumflex udieresis yacute thorn ydieresis"

// glyphTable maps glyph names to their text: those of WinAnsiEncoding, the
// Turkish letters outside it and the common ligatures.
var glyphTable = sync.OnceValue(func() map[string]string {
	m := map[string]string{
		"Gbreve": "Ğ", "gbreve": "ğ", "Idotaccent": "İ", "Idot": "İ", "dotlessi": "ı",
		"Scedilla": "Ş", "scedilla": "ş", "Scommaaccent": "Ș", "scommaaccent": "ș",
		"fi": "fi", "fl": "fl", "ff": "ff", "ffi": "ffi", "ffl": "ffl",
		"minus": "−", "Euro": "€", "euro": "€", "lira": "₺", "uni20BA": "₺",
	}
	for i, name := range strings.Fields(winAnsiGlyphs) {
		c := 0x20 + i
		if name == "-" {
			continue
		}
		if c < 0x80 {
			m[name] = string(rune(c))
		} else {
			m[name] = string(winAnsi(byte(c)))
		}
	}
	return m
})

// glyphText returns the text of a glyph name: from names, "uniXXXX",
// "uXXXX[XX]", a ligature "a_b", or a name with a suffix ("a.sc"); "" when
// it names no character ("g12").
func glyphText(names map[string]string, name string) string {
	if t, ok := names[name]; ok {
		return t
	}
	if base, _, ok := strings.Cut(name, "."); ok && base != "" {
		return glyphText(names, base)
	}
	if strings.Contains(name, "_") {
		var b strings.Builder
		for part := range strings.SplitSeq(name, "_") {
			b.WriteString(glyphText(names, part))
		}
		return b.String()
	}
	if hexDigits, ok := strings.CutPrefix(name, "uni"); ok && len(hexDigits) >= 4 && len(hexDigits)%4 == 0 {
		var units []uint16
		for i := 0; i < len(hexDigits); i += 4 {
			v, err := strconv.ParseUint(hexDigits[i:i+4], 16, 16)
			if err != nil {
				return ""
			}
			units = append(units, uint16(v))
		}
		return string(utf16.Decode(units))
	}
	if hexDigits, ok := strings.CutPrefix(name, "u"); ok && len(hexDigits) >= 4 && len(hexDigits) <= 6 {
		if v, err := strconv.ParseUint(hexDigits, 16, 32); err == nil && utf8.ValidRune(rune(v)) {
			return string(rune(v))
		}
	}
	return ""
}

// each calls fn with each code of s and its length in bytes.
func (ft *pdfFont) each(s pdfString, fn func(code uint32, n int)) {
	for i := 0; i < len(s); {
		n := 1
		if ft.composite {
			n = 2
		}
		if len(ft.ranges) > 0 {
			n = 1
			for _, r := range ft.ranges {
				if i+len(r.lo) <= len(s) && codeInRange(s[i:i+len(r.lo)], r) {
					n = len(r.lo)
					break
				}
			}
		}
		n = min(n, len(s)-i)
		fn(codeOf(s[i:i+n]), n)
		i += n
	}
}

func codeInRange(code pdfString, r codeRange) bool {
	for i := range len(code) {
		if code[i] < r.lo[i] || code[i] > r.hi[i] {
			return false
		}
	}
	return true
}

// text returns the text of a code.
func (ft *pdfFont) text(code uint32) (string, bool) {
	if t, ok := ft.toUnicode.lookup(code); ok {
		return t, true
	}
	if !ft.composite && code < 256 && ft.encoding[code] != "" {
		return ft.encoding[code], true
	}
	return "", false
}

// width returns the width of a code in thousandths of the font size.
func (ft *pdfFont) width(code uint32) float64 {
	w, ok := ft.widths[code]
	if !ok {
		w = ft.missing
	}
	return w * ft.scale
}

// pdfMatrix is an affine transformation [a b c d e f] as PDF writes it.
type pdfMatrix [6]float64

var pdfIdentity = pdfMatrix{1, 0, 0, 1, 0, 0}

// mul returns m × n: m applied first.
func (m pdfMatrix) mul(n pdfMatrix) pdfMatrix {
	return pdfMatrix{
		m[0]*n[0] + m[1]*n[2],
		m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2],
		m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4],
		m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

func pdfTranslate(x, y float64) pdfMatrix { return pdfMatrix{1, 0, 0, 1, x, y} }

// pdfGState is the part of the graphics state that places text.
type pdfGState struct {
	ctm                  pdfMatrix
	font                 *pdfFont
	size                 float64
	charSpace, wordSpace float64
	scale                float64 // horizontal scaling, 1 for 100%
	leading, rise        float64
}

// pdfLine is a line of text as laid out on a page.
type pdfLine struct {
	text  string
	size  float64 // the largest font size on it, in page units
	gap   float64 // its baseline's distance below the previous line's
	first bool    // the first line of a page
}

// pdfExtractor runs content streams, collecting the lines of text.
type pdfExtractor struct {
	file      *pdfFile
	fonts     map[pdfRef]*pdfFont
	lines     []pdfLine
	pages     int
	undecoded int // codes shown that have no text
	failed    int // content streams that could not be decoded
	work      int // bytes of content run, at most maxPartBytes

	// Where the last text shown ended.
	have     bool
	end, dir [2]float64
	size     float64
}

// pdfDefaultFont stands for a font a content stream names but does not
// define.
var pdfDefaultFont = sync.OnceValue(func() *pdfFont {
	f := &pdfFile{}
	return &pdfFont{encoding: f.simpleEncoding(nil), widths: map[uint32]float64{}, missing: 500, scale: 1}
})

// page runs the content of a page.
func (x *pdfExtractor) page(p pdfPage) {
	x.pages++
	x.have = false
	var data []byte
	for _, s := range p.contents {
		d, err := x.file.decode(s)
		if err != nil {
			x.failed++
			continue
		}
		data = append(append(data, d...), '\n')
	}
	x.run(data, p.resources, pdfIdentity, 0)
}

// run interprets a content stream with its resources under the
// transformation ctm; forms it draws are run in turn, depth deep.
func (x *pdfExtractor) run(data []byte, resources pdfDict, ctm pdfMatrix, depth int) {
	x.work += len(data)
	if x.work > maxPartBytes {
		return
	}
	gs := pdfGState{ctm: ctm, font: pdfDefaultFont(), scale: 1}
	var saved []pdfGState
	tm, tlm := pdfIdentity, pdfIdentity
	var args []any
	l := pdfLexer{data: data}
	num := func(i int) float64 { // the i-th of the last operands, from the end
		if i > len(args) {
			return 0
		}
		return pdfNumber(args[len(args)-i], 0)
	}
	nextLine := func(tx, ty float64) {
		tlm = pdfTranslate(tx, ty).mul(tlm)
		tm = tlm
	}
	for {
		v, err := l.object()
		if err != nil {
			return
		}
		op, ok := v.(pdfKeyword)
		if !ok {
			if args = append(args, v); len(args) > 64 {
				args = args[len(args)-8:]
			}
			continue
		}
		switch op {
		case "q":
			saved = append(saved, gs)
		case "Q":
			if len(saved) > 0 {
				gs, saved = saved[len(saved)-1], saved[:len(saved)-1]
			}
		case "cm":
			gs.ctm = pdfMatrix{num(6), num(5), num(4), num(3), num(2), num(1)}.mul(gs.ctm)
		case "BT":
			tm, tlm = pdfIdentity, pdfIdentity
		case "Tf":
			gs.size = num(1)
			gs.font = pdfDefaultFont()
			if len(args) >= 2 {
				if name, ok := args[len(args)-2].(pdfName); ok {
					gs.font = x.font(resources, name)
				}
			}
		case "Tc":
			gs.charSpace = num(1)
		case "Tw":
			gs.wordSpace = num(1)
		case "Tz":
			gs.scale = num(1) / 100
		case "TL":
			gs.leading = num(1)
		case "Ts":
			gs.rise = num(1)
		case "Td":
			nextLine(num(2), num(1))
		case "TD":
			gs.leading = -num(1)
			nextLine(num(2), num(1))
		case "Tm":
			tlm = pdfMatrix{num(6), num(5), num(4), num(3), num(2), num(1)}
			tm = tlm
		case "T*":
			nextLine(0, -gs.leading)
		case "Tj", "'", "\"":
			if op == "\"" {
				gs.wordSpace, gs.charSpace = num(3), num(2)
			}
			if op != "Tj" {
				nextLine(0, -gs.leading)
			}
			if len(args) > 0 {
				if s, ok := args[len(args)-1].(pdfString); ok {
					x.show(&gs, &tm, s)
				}
			}
		case "TJ":
			if len(args) == 0 {
				break
			}
			arr, _ := args[len(args)-1].(pdfArray)
			for _, item := range arr {
				switch item := item.(type) {
				case pdfString:
					x.show(&gs, &tm, item)
				case float64:
					tm = pdfTranslate(-item/1000*gs.size*gs.scale, 0).mul(tm)
				}
			}
		case "Do":
			if len(args) > 0 && depth < 8 {
				name, _ := args[len(args)-1].(pdfName)
				x.form(resources, name, gs.ctm, depth)
			}
		case "BI":
			l.skipInlineImage()
		}
		args = args[:0]
	}
}

// form runs the form XObject name of resources.
func (x *pdfExtractor) form(resources pdfDict, name pdfName, ctm pdfMatrix, depth int) {
	f := x.file
	s, ok := f.resolve(dictOf(f.resolve(resources["XObject"]))[name]).(pdfStream)
	if !ok || s.dict["Subtype"] != pdfName("Form") {
		return
	}
	data, err := f.decode(s)
	if err != nil {
		x.failed++
		return
	}
	m := pdfIdentity
	if arr, ok := f.resolve(s.dict["Matrix"]).(pdfArray); ok && len(arr) == 6 {
		for i := range m {
			m[i] = pdfNumber(f.resolve(arr[i]), m[i])
		}
	}
	if res := dictOf(f.resolve(s.dict["Resources"])); res != nil {
		resources = res
	}
	x.run(data, resources, m.mul(ctm), depth+1)
}

// skipInlineImage skips from after "BI" past the image data and "EI".
func (l *pdfLexer) skipInlineImage() {
	for {
		tok, err := l.token()
		if err != nil {
			return
		}
		if tok == pdfKeyword("ID") {
			break
		}
	}
	for i := l.pos + 1; i+2 <= len(l.data); i++ {
		if l.data[i] == 'E' && l.data[i+1] == 'I' && pdfSpace(l.data[i-1]) && (i+2 == len(l.data) || pdfSpace(l.data[i+2])) {
			l.pos = i + 2
			return
		}
	}
	l.pos = len(l.data)
}

// font returns the font name of resources, loading it once.
func (x *pdfExtractor) font(resources pdfDict, name pdfName) *pdfFont {
	ref := dictOf(x.file.resolve(resources["Font"]))[name]
	r, isRef := ref.(pdfRef)
	if ft, ok := x.fonts[r]; isRef && ok {
		return ft
	}
	d := dictOf(x.file.resolve(ref))
	if d == nil {
		return pdfDefaultFont()
	}
	ft := x.file.loadFont(d)
	if isRef {
		x.fonts[r] = ft
	}
	return ft
}

// show adds the text of the string s, drawn at the text matrix tm, to the
// lines, and moves tm past it.
func (x *pdfExtractor) show(gs *pdfGState, tm *pdfMatrix, s pdfString) {
	trm := func() pdfMatrix {
		return pdfMatrix{gs.size * gs.scale, 0, 0, gs.size, 0, gs.rise}.mul(*tm).mul(gs.ctm)
	}
	start := trm()
	var b strings.Builder
	gs.font.each(s, func(code uint32, n int) {
		if t, ok := gs.font.text(code); ok {
			b.WriteString(t)
		} else {
			x.undecoded++
		}
		tx := gs.font.width(code)/1000*gs.size + gs.charSpace
		if n == 1 && code == ' ' {
			tx += gs.wordSpace
		}
		*tm = pdfTranslate(tx*gs.scale, 0).mul(*tm)
	})
	text := strings.Map(func(r rune) rune {
		switch {
		case r == '\u00AD' || r == 0:
			return -1
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, b.String())
	text = ligatures.Replace(text)
	if text == "" {
		return
	}
	size := max(math.Hypot(start[2], start[3]), 0.01)
	dir := [2]float64{1, 0}
	if n := math.Hypot(start[0], start[1]); n > 0 {
		dir = [2]float64{start[0] / n, start[1] / n}
	}
	x.place([2]float64{start[4], start[5]}, size, text)
	end := trm()
	x.have, x.end, x.dir, x.size = true, [2]float64{end[4], end[5]}, dir, size
}

// ligatures spells out the Latin ligatures a ToUnicode map may give, so
// that "ﬁyat" is found as "fiyat".
var ligatures = strings.NewReplacer("\uFB00", "ff", "\uFB01", "fi", "\uFB02", "fl", "\uFB03", "ffi", "\uFB04", "ffl", "\uFB05", "st", "\uFB06", "st")

// place adds text starting at origin to the current line or a new one.
func (x *pdfExtractor) place(origin [2]float64, size float64, text string) {
	if !x.have {
		x.lines = append(x.lines, pdfLine{text: text, size: size, first: true})
		return
	}
	dx, dy := origin[0]-x.end[0], origin[1]-x.end[1]
	along := dx*x.dir[0] + dy*x.dir[1]
	up := x.dir[0]*dy - x.dir[1]*dx
	ref := max(size, x.size)
	line := &x.lines[len(x.lines)-1]
	switch {
	case math.Abs(up) > 0.5*ref:
		x.lines = append(x.lines, pdfLine{text: text, size: size, gap: -up})
		return
	case (along > 0.15*ref || along < -0.5*ref) && !strings.HasSuffix(line.text, " ") && !strings.HasPrefix(text, " "):
		line.text += " "
	}
	line.text += text
	line.size = max(line.size, size)
}

// pdfBlock is a block of lines being gathered.
type pdfBlock struct {
	text  string
	size  float64
	lines int
	list  bool
	page  int
}

// sections groups the lines into blocks and headings; it returns them and
// the first level-1 heading.
func (x *pdfExtractor) sections() ([]Section, string) {
	body := x.bodySize()
	ratio := 1.25 // the usual baseline distance in font sizes, at most
	for i, ln := range x.lines {
		if i > 0 && !ln.first && similarSize(ln.size, body) && similarSize(x.lines[i-1].size, body) && ln.gap >= 0.8*ln.size {
			ratio = min(ratio, ln.gap/ln.size)
		}
	}
	var blocks []pdfBlock
	page := 0
	for i, ln := range x.lines {
		if ln.first {
			page++
		}
		text := collapseSpace(ln.text)
		if text == "" || tocLine.MatchString(text) {
			continue
		}
		list := false
		if r, n := utf8.DecodeRuneInString(text); strings.ContainsRune("•●▪■◦\uF0B7\uF0A7\uF076\uF0D8", r) {
			text, list = "- "+strings.TrimSpace(text[n:]), true
		}
		if i > 0 && len(blocks) > 0 {
			prev := x.lines[i-1]
			ref := max(ln.size, prev.size)
			b := &blocks[len(blocks)-1]
			if !ln.first && !list && similarSize(ln.size, b.size) && ln.gap >= 0 && ln.gap <= 1.25*ratio*ref {
				b.text = joinLines(b.text, text)
				b.lines++
				continue
			}
		}
		blocks = append(blocks, pdfBlock{text: text, size: ln.size, lines: 1, list: list, page: page})
	}
	// Running heads and page numbers are not content.
	onPages := make(map[string]map[int]bool)
	for _, b := range blocks {
		if onPages[b.text] == nil {
			onPages[b.text] = make(map[int]bool)
		}
		onPages[b.text][b.page] = true
	}
	var sizes []float64
	for _, b := range blocks {
		if b.heading(body) && !slices.ContainsFunc(sizes, func(s float64) bool { return similarSize(s, b.size) }) {
			sizes = append(sizes, b.size)
		}
	}
	slices.SortFunc(sizes, func(a, b float64) int { return cmp.Compare(b, a) })
	var out outline
	for _, b := range blocks {
		if pdfPageNumber.MatchString(b.text) || (x.pages >= 3 && len(onPages[b.text]) >= max(3, x.pages/2)) {
			continue
		}
		if b.heading(body) {
			level := slices.IndexFunc(sizes, func(s float64) bool { return similarSize(s, b.size) }) + 1
			out.heading(min(level, 6), b.text)
			continue
		}
		out.block(b.text)
	}
	return out.sections, out.title
}

// joinLines joins two lines of a paragraph with a space, or mends a word
// hyphenated across them: "manip-" and "ulation" give "manipulation",
// "e-" and "posta" give "e-posta".
func joinLines(prev, next string) string {
	word, ok := strings.CutSuffix(prev, "-")
	first, _ := utf8.DecodeRuneInString(next)
	if !ok || !unicode.IsLower(first) {
		return prev + " " + next
	}
	letters := 0
	for _, r := range slices.Backward([]rune(word)) {
		if !unicode.IsLower(r) {
			break
		}
		letters++
	}
	switch {
	case letters >= 2:
		return word + next
	case letters == 1:
		return prev + next
	}
	return prev + " " + next
}

// tocLine matches a line of a table of contents: dot leaders and a page
// number.
var tocLine = regexp.MustCompile(`(?:[.:·…_]\s*){4,}\d{1,4}$`)

// pdfPageNumber matches a block that is only a page number.
var pdfPageNumber = regexp.MustCompile(`(?i)^(?:page|sayfa|s\.)?\s*[-–]?\s*\d{1,4}\s*(?:(?:/|of|-|–)\s*\d{1,4})?\s*[-–]?$`)

// heading reports whether b is a heading: one or two short lines set
// larger than the body text.
func (b pdfBlock) heading(body float64) bool {
	return !b.list && b.lines <= 2 && b.size >= 1.15*body && utf8.RuneCountInString(b.text) <= 150
}

// similarSize reports whether two font sizes are within 10% of each other.
func similarSize(a, b float64) bool { return math.Abs(a-b) <= 0.1*max(a, b) }

// bodySize is the font size most of the text is set in.
func (x *pdfExtractor) bodySize() float64 {
	chars := make(map[float64]int)
	for _, ln := range x.lines {
		chars[math.Round(ln.size*2)/2] += utf8.RuneCountInString(ln.text)
	}
	best, most := 0.0, -1
	for size, n := range chars {
		if n > most || (n == most && size < best) {
			best, most = size, n
		}
	}
	return best
}
