package knowledge

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// ParseHTML parses an HTML page named name (used in errors, as Source and
// for the ID), keeping its main content and leaving out what every page of
// a site repeats.
//
// The content is the first <main> (or role="main") element; else the
// <article> elements outside page chrome; else the <body>. Within it these
// are left out: <script>, <style>, <noscript>, <template>, <svg>,
// <iframe>, form controls, elements marked hidden, <nav>, <aside>,
// <dialog>, and <header> and <footer> outside <main>, <article> and
// <section> (inside, they hold the article's own heading); and, unless they
// hold a <main>, an <article> or an <h1>, forms, elements marked
// aria-hidden="true", elements whose role is navigation, banner,
// contentinfo, complementary, search, menu or dialog, and elements whose
// class or id has a word naming navigation ("nav", "navbar", "topnav", …)
// or containing "menu", "footer", "cookie" or "breadcrumb".
//
// Headings <h1>…<h6> open sections as in ParseMarkdown. The blocks are
// paragraphs and other block elements' text with whitespace collapsed and
// <br> kept as a line break; list items as "- item" ("1. item" in an
// ordered list) with their nested items on indented lines below; each table
// row as its cells joined by " | " (a table holding tables or headings is
// read as layout, cell by cell); <pre> text as written. Links and emphasis
// keep only their text; images are left out.
//
// The title is the <title>, else the first <h1> of the content, else the
// file name. The language is the primary subtag of <html lang> ("tr" for
// "tr-TR"), else what local.DetectLanguage finds. The page must be UTF-8;
// an empty page, invalid UTF-8 or a page with no text in its content is an
// error naming the file.
func ParseHTML(name string, data []byte) (Document, []Section, error) {
	text, err := decode(name, data)
	if err != nil {
		return Document{}, nil, err
	}
	root, err := html.Parse(strings.NewReader(text))
	if err != nil {
		return Document{}, nil, fmt.Errorf("parsing %s: %w", name, err)
	}
	page := newHTMLPage(root)
	w := htmlWalker{page: page}
	inSection := false
	roots := page.findAll(root, func(n *html.Node) bool {
		return n.DataAtom == atom.Main || htmlAttr(n, "role") == "main"
	}, true)
	switch {
	case len(roots) > 0:
		roots, inSection = roots[:1], true
	default:
		roots = page.findAll(root, func(n *html.Node) bool { return n.DataAtom == atom.Article }, false)
		inSection = len(roots) > 0
		if !inSection {
			roots = page.findAll(root, func(n *html.Node) bool { return n.DataAtom == atom.Body }, true)
		}
	}
	for _, n := range roots {
		w.walk(n, inSection)
	}
	w.flush()
	var title, lang string
	if t := page.findAll(root, func(n *html.Node) bool { return n.DataAtom == atom.Title }, true); len(t) > 0 {
		title = collapseSpace(htmlTextContent(t[0]))
	}
	if h := page.findAll(root, func(n *html.Node) bool { return n.DataAtom == atom.Html }, true); len(h) > 0 {
		lang = languageTag(cmp.Or(htmlAttr(h[0], "lang"), htmlAttr(h[0], "xml:lang")))
	}
	return document(name, data, frontMatter{Language: lang}, cmp.Or(title, w.out.title), w.out.sections)
}

// outline collects sections from headings and blocks given in document
// order, the way ParseMarkdown builds them.
type outline struct {
	sections []Section
	levels   []int    // levels of the open headings, outermost first
	names    []string // their texts
	title    string   // the first level-1 heading
	open     bool     // the last section belongs to the open headings
}

// heading opens a section under a heading of the given level; a heading
// with no text is ignored.
func (o *outline) heading(level int, text string) {
	text = collapseSpace(text)
	if text == "" {
		return
	}
	if level <= 1 && o.title == "" {
		o.title = text
	}
	for len(o.levels) > 0 && o.levels[len(o.levels)-1] >= level {
		o.levels, o.names = o.levels[:len(o.levels)-1], o.names[:len(o.names)-1]
	}
	o.levels, o.names = append(o.levels, level), append(o.names, text)
	o.open = false
}

// block adds a block to the current section, opening it if needed; a blank
// block is ignored.
func (o *outline) block(text string) {
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	if !o.open {
		o.sections = append(o.sections, Section{Path: strings.Join(o.names, " > ")})
		o.open = true
	}
	s := &o.sections[len(o.sections)-1]
	s.Blocks = append(s.Blocks, text)
}

// htmlWalker reads the content of a page into an outline.
type htmlWalker struct {
	page *htmlPage
	out  outline
	para strings.Builder // inline text of the block being read
}

// htmlPage is a parsed page and what is known of its structure.
type htmlPage struct {
	// holds marks the elements that hold the main content: a <main>,
	// role="main", an <article> or an <h1>, or an ancestor of one. Their
	// class, id, role and aria-hidden are not taken for page chrome, nor
	// is a <form> that is one (ASP.NET wraps whole pages in a form).
	holds map[*html.Node]bool
}

// newHTMLPage reads the structure of the page root.
func newHTMLPage(root *html.Node) *htmlPage {
	p := &htmlPage{holds: make(map[*html.Node]bool)}
	for n := range root.Descendants() {
		if n.Type != html.ElementNode || (n.DataAtom != atom.Main && n.DataAtom != atom.Article && n.DataAtom != atom.H1 && htmlAttr(n, "role") != "main") {
			continue
		}
		for a := n; a != nil && !p.holds[a]; a = a.Parent {
			p.holds[a] = true
		}
	}
	return p
}

// walk reads n and its children; inSection tells whether n is inside
// <main>, <article> or <section>.
func (w *htmlWalker) walk(n *html.Node, inSection bool) {
	switch n.Type {
	case html.TextNode:
		w.para.WriteString(htmlSpaces(n.Data))
		return
	case html.ElementNode:
	default:
		for c := range n.ChildNodes() {
			w.walk(c, inSection)
		}
		return
	}
	if w.page.chrome(n, inSection) {
		return
	}
	switch n.DataAtom {
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		w.flush()
		w.out.heading(int(n.Data[1]-'0'), w.page.inlineText(n, inSection, true))
		return
	case atom.Br:
		w.para.WriteString("\n")
		return
	case atom.Pre:
		w.flush()
		w.out.block(htmlPreText(htmlTextContent(n)))
		return
	case atom.Ul, atom.Ol:
		w.flush()
		for _, item := range w.page.listItems(n, inSection, "") {
			w.out.block(item)
		}
		return
	case atom.Table:
		w.flush()
		if !htmlLayoutTable(n) {
			for _, row := range w.page.tableRows(n, inSection) {
				w.out.block(row)
			}
			return
		}
	case atom.Img:
		return
	}
	inSection = inSection || n.DataAtom == atom.Main || n.DataAtom == atom.Article || n.DataAtom == atom.Section
	block := htmlBlockElements[n.DataAtom]
	if block {
		w.flush()
	}
	for c := range n.ChildNodes() {
		w.walk(c, inSection)
	}
	if block {
		w.flush()
	}
}

// flush ends the block being read.
func (w *htmlWalker) flush() {
	w.out.block(collapseLines(w.para.String()))
	w.para.Reset()
}

// htmlBlockElements are the elements whose text is a block of its own.
var htmlBlockElements = map[atom.Atom]bool{
	atom.Address: true, atom.Article: true, atom.Aside: true, atom.Blockquote: true,
	atom.Body: true, atom.Caption: true, atom.Dd: true, atom.Details: true,
	atom.Div: true, atom.Dl: true, atom.Dt: true, atom.Fieldset: true,
	atom.Figcaption: true, atom.Figure: true, atom.Footer: true, atom.Header: true,
	atom.Hr: true, atom.Li: true, atom.Main: true, atom.P: true,
	atom.Section: true, atom.Summary: true, atom.Table: true, atom.Tbody: true,
	atom.Td: true, atom.Tfoot: true, atom.Th: true, atom.Thead: true, atom.Tr: true,
}

// htmlSkippedElements never hold content worth indexing.
var htmlSkippedElements = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Svg: true, atom.Math: true, atom.Iframe: true, atom.Object: true,
	atom.Embed: true, atom.Canvas: true, atom.Button: true, atom.Select: true,
	atom.Textarea: true, atom.Input: true, atom.Head: true,
}

// htmlChromeElements are page chrome wherever they are.
var htmlChromeElements = map[atom.Atom]bool{
	atom.Nav: true, atom.Aside: true, atom.Dialog: true,
}

// htmlChromeRoles are the ARIA roles of page chrome.
var htmlChromeRoles = map[string]bool{
	"navigation": true, "banner": true, "contentinfo": true, "complementary": true,
	"search": true, "menu": true, "menubar": true, "dialog": true, "alertdialog": true,
}

// chrome reports whether the element n is navigation or other page chrome
// rather than content; see ParseHTML and htmlPage.holds.
func (p *htmlPage) chrome(n *html.Node, inSection bool) bool {
	if htmlSkippedElements[n.DataAtom] || hasAttr(n, "hidden") {
		return true
	}
	if htmlChromeElements[n.DataAtom] || (!inSection && (n.DataAtom == atom.Header || n.DataAtom == atom.Footer)) {
		return true
	}
	if p.holds[n] {
		return false
	}
	if n.DataAtom == atom.Form {
		return true
	}
	for _, a := range n.Attr {
		if a.Namespace != "" {
			continue
		}
		switch a.Key {
		case "aria-hidden":
			if strings.EqualFold(strings.TrimSpace(a.Val), "true") {
				return true
			}
		case "role":
			if htmlChromeRoles[strings.ToLower(strings.TrimSpace(a.Val))] {
				return true
			}
		case "class", "id":
			if htmlChromeName(a.Val) {
				return true
			}
		}
	}
	return false
}

// hasAttr reports whether n has the attribute key, with any value.
func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key && a.Namespace == "" {
			return true
		}
	}
	return false
}

// htmlChromeName reports whether a class list or id names navigation, a menu,
// a footer, a cookie notice or breadcrumbs. Words are split at "-" and "_";
// "nav" must start or end a word ("navbar", "topnav", not "unavailable").
func htmlChromeName(value string) bool {
	for _, word := range strings.FieldsFunc(strings.ToLower(value), func(r rune) bool {
		return r == '-' || r == '_' || r == ' ' || r == '\t' || r == '\n'
	}) {
		if strings.HasPrefix(word, "nav") || strings.HasSuffix(word, "nav") || strings.Contains(word, "navigation") {
			return true
		}
		for _, part := range []string{"menu", "footer", "cookie", "breadcrumb"} {
			if strings.Contains(word, part) {
				return true
			}
		}
	}
	return false
}

// findAll returns the elements under n that match, in document order,
// without looking inside page chrome (header and footer included) or inside
// a match. With first, it stops at the first match.
func (p *htmlPage) findAll(n *html.Node, match func(*html.Node) bool, first bool) []*html.Node {
	var out []*html.Node
	var visit func(*html.Node) bool
	visit = func(n *html.Node) bool {
		if n.Type == html.ElementNode {
			if match(n) {
				out = append(out, n)
				return !first
			}
			if n.DataAtom != atom.Head && n.DataAtom != atom.Html && p.chrome(n, false) {
				return true
			}
		}
		for c := range n.ChildNodes() {
			if !visit(c) {
				return false
			}
		}
		return true
	}
	visit(n)
	return out
}

// htmlAttr returns the value of n's attribute key, "" when it has none.
func htmlAttr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// languageTag returns the primary subtag of a language tag, lower case
// ("tr" for "tr-TR"), or "" when tag does not start with one.
func languageTag(tag string) string {
	primary, _, _ := strings.Cut(strings.TrimSpace(tag), "-")
	primary, _, _ = strings.Cut(primary, "_")
	if len(primary) < 2 || len(primary) > 3 {
		return ""
	}
	for _, r := range primary {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return ""
		}
	}
	return strings.ToLower(primary)
}

// htmlTextContent is all the text under n, as written.
func htmlTextContent(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

// inlineText is the text under n without page chrome or images, its blocks
// and lines joined by spaces; nested lists are left out unless lists is set.
func (p *htmlPage) inlineText(n *html.Node, inSection, lists bool) string {
	var b strings.Builder
	var visit func(*html.Node)
	visit = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			b.WriteString(n.Data)
			return
		case n.Type != html.ElementNode:
		case p.chrome(n, inSection) || n.DataAtom == atom.Img:
			return
		case !lists && (n.DataAtom == atom.Ul || n.DataAtom == atom.Ol):
			return
		case n.DataAtom == atom.Br || htmlBlockElements[n.DataAtom]:
			b.WriteString(" ")
		}
		for c := range n.ChildNodes() {
			visit(c)
		}
		if n.Type == html.ElementNode && htmlBlockElements[n.DataAtom] {
			b.WriteString(" ")
		}
	}
	for c := range n.ChildNodes() {
		visit(c)
	}
	return collapseSpace(b.String())
}

// listItems returns the items of the list n, each with its nested items on
// lines below it, indented by indent and two spaces a level.
func (p *htmlPage) listItems(list *html.Node, inSection bool, indent string) []string {
	var items []string
	number := 1
	if s, err := strconv.Atoi(htmlAttr(list, "start")); err == nil {
		number = s
	}
	for li := range list.ChildNodes() {
		if li.Type != html.ElementNode || li.DataAtom != atom.Li || p.chrome(li, inSection) {
			continue
		}
		marker := "- "
		if list.DataAtom == atom.Ol {
			marker = strconv.Itoa(number) + ". "
			number++
		}
		// The item's own text leaves out its nested lists, which follow it.
		var nested []string
		for c := range li.ChildNodes() {
			if c.Type == html.ElementNode && (c.DataAtom == atom.Ul || c.DataAtom == atom.Ol) {
				nested = append(nested, p.listItems(c, inSection, indent+"  ")...)
			}
		}
		text := p.inlineText(li, inSection, false)
		if text == "" && len(nested) == 0 {
			continue
		}
		item := indent + marker + text
		for _, n := range nested {
			item += "\n" + n
		}
		items = append(items, item)
	}
	return items
}

// htmlLayoutTable reports whether the table n lays out the page rather than
// holding data: a cell of it holds a table or a heading.
func htmlLayoutTable(n *html.Node) bool {
	for d := range n.Descendants() {
		switch d.DataAtom {
		case atom.Table, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
			return true
		}
	}
	return false
}

// tableRows returns the caption and the rows of the table n, each row's
// cells joined by " | "; rows without text are left out.
func (p *htmlPage) tableRows(table *html.Node, inSection bool) []string {
	var out []string
	var visit func(*html.Node)
	visit = func(n *html.Node) {
		for c := range n.ChildNodes() {
			if c.Type != html.ElementNode || p.chrome(c, inSection) {
				continue
			}
			switch c.DataAtom {
			case atom.Caption:
				out = append(out, p.inlineText(c, inSection, true))
			case atom.Thead, atom.Tbody, atom.Tfoot:
				visit(c)
			case atom.Tr:
				var cells []string
				blank := true
				for td := range c.ChildNodes() {
					if td.Type == html.ElementNode && (td.DataAtom == atom.Td || td.DataAtom == atom.Th) {
						text := p.inlineText(td, inSection, true)
						blank = blank && text == ""
						cells = append(cells, text)
					}
				}
				if !blank {
					out = append(out, strings.Join(cells, " | "))
				}
			}
		}
	}
	visit(table)
	return out
}

// htmlPreText is the text of a <pre> element: as written, without the leading
// line break HTML drops and without trailing spaces on lines.
func htmlPreText(text string) string {
	text = strings.TrimPrefix(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var b strings.Builder
	for line := range strings.SplitSeq(text, "\n") {
		b.WriteString(strings.TrimRight(line, " \t"))
		b.WriteString("\n")
	}
	return strings.Trim(b.String(), "\n")
}

// htmlSpaces turns each run of white space in text into one space, keeping a
// leading and a trailing one.
func htmlSpaces(text string) string {
	if text == "" {
		return ""
	}
	out := collapseSpace(text)
	if out == "" {
		return " "
	}
	if first, _ := utf8.DecodeRuneInString(text); unicode.IsSpace(first) {
		out = " " + out
	}
	if last, _ := utf8.DecodeLastRuneInString(text); unicode.IsSpace(last) {
		out += " "
	}
	return out
}

// collapseSpace turns every run of white space in text into one space and trims
// it.
func collapseSpace(text string) string {
	return strings.Join(strings.Fields(text), " ")
}

// collapseLines collapses the white space of each line of text and drops blank
// lines.
func collapseLines(text string) string {
	var out []string
	for line := range strings.SplitSeq(text, "\n") {
		if line = collapseSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
