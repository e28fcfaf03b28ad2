package knowledge

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/yanit/yanit/llm/local"
)

// Document is one source of knowledge: a file, a page, a policy.
type Document struct {
	// ID names the document within its index; Parse makes it the file
	// name without its extension ("returns/policy" for
	// "returns/policy.md").
	ID string
	// Collection groups the documents a query may search (one knowledge
	// base of one assistant); LoadDir sets it.
	Collection string
	// Title is the front matter's title, else the first level-1 heading,
	// else the file name without directory or extension.
	Title string
	// Source is where the document came from: the file name as given.
	Source string
	// Language is "tr", "en", …: the front matter's language, else what
	// local.DetectLanguage finds in the text; "" when it cannot tell.
	Language string
	// Tags filter searches (Query.Tags); from the front matter.
	Tags []string
	// Version is the author's label from the front matter ("2025-03",
	// "v2"); the index never reads it: it compares content.
	Version string
	// Hash is the hex SHA-256 of the file's bytes.
	Hash string
}

// Section is the text under one heading, in document order.
type Section struct {
	// Path is the heading path joined with " > " ("Returns > Refunds"),
	// "" for text before the first heading.
	Path string
	// Blocks are the paragraphs, list items (with their nested items),
	// tables and code blocks of the section, each whole, as written but
	// for the block markup: paragraph lines are joined with a space, a
	// bullet becomes "- ", a quote loses its "> ". Inline markup (emphasis,
	// links) is kept as written.
	Blocks []string
	// Tags are the section's own, besides the document's: a FAQ row's
	// (ParseFAQ). Split gives them to the section's chunks.
	Tags []string
}

// ErrUnsupportedFormat is returned for a file Parse cannot read.
var ErrUnsupportedFormat = errors.New("unsupported format (want .md, .markdown, .txt, .html, .htm, .csv, .docx or .pdf)")

// Parse parses data by the extension of name (case-insensitive): Markdown
// for .md and .markdown, plain text for .txt, HTML for .html and .htm, a
// question-and-answer sheet for .csv (ParseFAQ), Word for .docx and the
// text layer of .pdf. Any other extension is ErrUnsupportedFormat.
func Parse(name string, data []byte) (Document, []Section, error) {
	switch strings.ToLower(path.Ext(name)) {
	case ".md", ".markdown":
		return ParseMarkdown(name, data)
	case ".txt":
		return ParseText(name, data)
	case ".html", ".htm":
		return ParseHTML(name, data)
	case ".csv":
		return ParseFAQ(name, data)
	case ".docx":
		return ParseDOCX(name, data)
	case ".pdf":
		return ParsePDF(name, data)
	default:
		return Document{}, nil, fmt.Errorf("parsing %s: %w", name, ErrUnsupportedFormat)
	}
}

// ParseMarkdown parses a Markdown document named name (a file name or path,
// used in errors, as Source and for the ID).
//
// Headings (ATX "#"… "######" and setext underlines) open sections, whose
// Path is the chain of enclosing headings; a heading with no text under it
// (only sub-headings) yields no section. Optional YAML front matter between
// "---" lines may set title, language, tags (a list or one string) and
// version; other keys are ignored. The same keys may also come in HTML
// comments of their own, "<!-- tags: hours, stores -->", where the front
// matter does not set them; other HTML comments are dropped. Fenced code
// blocks are kept whole and nothing inside them is a heading; thematic
// breaks and blank lines only separate blocks.
//
// An empty file, invalid UTF-8, a broken front matter or a file with no text
// outside headings is an error naming the file.
func ParseMarkdown(name string, data []byte) (Document, []Section, error) {
	text, err := decode(name, data)
	if err != nil {
		return Document{}, nil, err
	}
	fm, body, err := splitFrontMatter(text)
	if err != nil {
		return Document{}, nil, fmt.Errorf("parsing %s: %w", name, err)
	}
	var p markdownParser
	for line := range strings.SplitSeq(body, "\n") {
		p.line(line)
	}
	p.flush()
	fm.fill(p.meta)
	title := fm.Title
	if title == "" {
		title = p.title
	}
	return document(name, data, fm, title, p.sections)
}

// ParseText parses a plain-text document: one section without a heading,
// blocks separated by blank lines, a line starting with a list marker
// ("- ", "* ", "1. ") opening a block of its own. The title is the file name
// without directory or extension; the errors are those of ParseMarkdown.
func ParseText(name string, data []byte) (Document, []Section, error) {
	text, err := decode(name, data)
	if err != nil {
		return Document{}, nil, err
	}
	var sec Section
	var para []string
	flush := func() {
		if len(para) > 0 {
			sec.Blocks = append(sec.Blocks, strings.Join(para, " "))
			para = para[:0]
		}
	}
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			flush()
		case listItem.MatchString(line):
			flush()
			para = append(para, line)
		default:
			para = append(para, line)
		}
	}
	flush()
	var sections []Section
	if len(sec.Blocks) > 0 {
		sections = []Section{sec}
	}
	return document(name, data, frontMatter{}, "", sections)
}

// decode checks that data is non-empty UTF-8 and returns it as text without
// a byte-order mark, with "\n" line ends.
func decode(name string, data []byte) (string, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return "", fmt.Errorf("parsing %s: file is empty", name)
	}
	if !utf8.Valid(data) {
		i := 0
		for i < len(data) {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		return "", fmt.Errorf("parsing %s: invalid UTF-8 at byte %d", name, i)
	}
	text := strings.TrimPrefix(string(data), "\uFEFF")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	return strings.ReplaceAll(text, "\r", "\n"), nil
}

// document assembles the Document of parsed sections.
func document(name string, data []byte, fm frontMatter, title string, sections []Section) (Document, []Section, error) {
	if len(sections) == 0 {
		return Document{}, nil, fmt.Errorf("parsing %s: no text to index outside headings and front matter", name)
	}
	base := path.Base(name)
	if title == "" {
		title = strings.TrimSuffix(base, path.Ext(base))
	}
	sum := sha256.Sum256(data)
	doc := Document{
		ID:       strings.TrimSuffix(name, path.Ext(name)),
		Title:    title,
		Source:   name,
		Language: strings.ToLower(strings.TrimSpace(fm.Language)),
		Tags:     fm.Tags,
		Version:  strings.TrimSpace(fm.Version),
		Hash:     hex.EncodeToString(sum[:]),
	}
	if doc.Language == "" {
		doc.Language, _ = local.DetectLanguage(sample(title, sections))
	}
	return doc, sections, nil
}

// sample is the start of a document's text, enough for DetectLanguage.
func sample(title string, sections []Section) string {
	var b strings.Builder
	b.WriteString(title)
	for _, s := range sections {
		for _, block := range s.Blocks {
			if b.Len() > 4096 {
				return b.String()
			}
			b.WriteString("\n\n")
			b.WriteString(block)
		}
	}
	return b.String()
}

// frontMatter is the YAML header a Markdown document may start with.
type frontMatter struct {
	Title    string  `yaml:"title"`
	Language string  `yaml:"language"`
	Tags     tagList `yaml:"tags"`
	Version  string  `yaml:"version"`
}

// fill sets the fields of fm that are empty from other.
func (fm *frontMatter) fill(other frontMatter) {
	fm.Title = cmp.Or(fm.Title, other.Title)
	fm.Language = cmp.Or(fm.Language, other.Language)
	fm.Version = cmp.Or(fm.Version, other.Version)
	if len(fm.Tags) == 0 {
		fm.Tags = other.Tags
	}
}

// set records the value of a "key: value" HTML comment when key is one of
// the front matter's and fm has no value for it yet.
func (fm *frontMatter) set(key, value string) {
	value = strings.TrimSpace(value)
	switch strings.ToLower(strings.TrimSpace(key)) {
	case "title":
		fm.Title = cmp.Or(fm.Title, value)
	case "language":
		fm.Language = cmp.Or(fm.Language, value)
	case "version":
		fm.Version = cmp.Or(fm.Version, value)
	case "tags":
		if len(fm.Tags) > 0 {
			return
		}
		for tag := range strings.SplitSeq(strings.Trim(value, "[]"), ",") {
			if tag = strings.Trim(strings.TrimSpace(tag), `"'`); tag != "" && !slices.Contains(fm.Tags, tag) {
				fm.Tags = append(fm.Tags, tag)
			}
		}
	}
}

// tagList decodes a YAML list of tags or a single tag, dropping blanks and
// repeats.
type tagList []string

// UnmarshalYAML implements yaml.Unmarshaler.
func (t *tagList) UnmarshalYAML(n *yaml.Node) error {
	var list []string
	switch n.Kind {
	case yaml.ScalarNode:
		list = []string{n.Value}
	case yaml.SequenceNode:
		if err := n.Decode(&list); err != nil {
			return err
		}
	default:
		return fmt.Errorf("line %d: tags: want a list of strings", n.Line)
	}
	for _, tag := range list {
		tag = strings.TrimSpace(tag)
		if tag != "" && !slices.Contains(*t, tag) {
			*t = append(*t, tag)
		}
	}
	return nil
}

// splitFrontMatter separates a leading YAML front matter ("---" lines
// around it) from the body.
func splitFrontMatter(text string) (frontMatter, string, error) {
	var fm frontMatter
	rest, ok := strings.CutPrefix(text, "---\n")
	if !ok {
		return fm, text, nil
	}
	var header string
	for i := 0; i <= len(rest); {
		end := strings.IndexByte(rest[i:], '\n')
		if end < 0 {
			end = len(rest) - i
		}
		line := strings.TrimRight(rest[i:i+end], " \t")
		if line == "---" || line == "..." {
			header, rest = rest[:i], rest[min(i+end+1, len(rest)):]
			if err := yaml.Unmarshal([]byte(header), &fm); err != nil {
				return fm, "", fmt.Errorf("reading front matter: %w", err)
			}
			return fm, rest, nil
		}
		i += end + 1
	}
	return fm, "", errors.New("reading front matter: no closing \"---\" line")
}

var (
	atxHeading   = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$`)
	closingHash  = regexp.MustCompile(`[ \t]+#+$`)
	setextH1     = regexp.MustCompile(`^ {0,3}=+[ \t]*$`)
	setextH2     = regexp.MustCompile(`^ {0,3}-+[ \t]*$`)
	thematic     = regexp.MustCompile(`^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$`)
	listItem     = regexp.MustCompile(`^([-*+]|\d{1,9}[.)])[ \t]+`)
	fenceOpen    = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})")
	inlineMarkup = regexp.MustCompile("\\*\\*|__|`|\\[([^\\]]*)\\]\\([^)]*\\)")
)

// heading is one open heading of a markdownParser.
type heading struct {
	level int
	text  string
}

// markdownParser reads Markdown line by line into sections.
type markdownParser struct {
	sections []Section
	headings []heading
	title    string
	meta     frontMatter // from "<!-- key: value -->" comments
	comment  []string    // lines of the HTML comment being read
	open     bool        // the last section belongs to the current headings
	para     []string    // lines of the paragraph being read
	item     []string    // lines of the list item being read
	table    []string    // rows of the table being read
	fence    string      // the opening fence while inside a code block
	code     []string    // lines of the code block, fences included
}

func (p *markdownParser) line(line string) {
	if p.comment != nil {
		p.commentLine(line)
		return
	}
	if p.fence != "" {
		p.code = append(p.code, line)
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, p.fence) && strings.Trim(trimmed, p.fence[:1]) == "" {
			p.block(strings.Join(p.code, "\n"))
			p.fence, p.code = "", nil
		}
		return
	}
	trimmed := strings.TrimSpace(line)
	indent := len(line) - len(strings.TrimLeft(line, " \t"))
	switch {
	case trimmed == "":
		p.flush()
	case strings.HasPrefix(trimmed, "<!--"):
		p.flush()
		p.commentLine(strings.TrimPrefix(trimmed, "<!--"))
	case fenceOpen.MatchString(line):
		p.flush()
		m := fenceOpen.FindStringSubmatch(line)
		p.fence, p.code = m[1], []string{trimmed}
	case atxHeading.MatchString(line):
		p.flush()
		m := atxHeading.FindStringSubmatch(line)
		p.heading(len(m[1]), closingHash.ReplaceAllString(m[2], ""))
	case len(p.para) > 0 && setextH1.MatchString(line):
		text := strings.Join(p.para, " ")
		p.para = nil
		p.heading(1, text)
	case len(p.para) > 0 && setextH2.MatchString(line):
		text := strings.Join(p.para, " ")
		p.para = nil
		p.heading(2, text)
	case thematic.MatchString(line):
		p.flush()
	case listItem.MatchString(trimmed):
		if indent >= 2 && len(p.item) > 0 {
			p.item = append(p.item, "  "+bullet(trimmed))
			return
		}
		p.flush()
		p.item = []string{bullet(trimmed)}
	case strings.HasPrefix(trimmed, "|"):
		if len(p.table) == 0 {
			p.flush()
		}
		p.table = append(p.table, trimmed)
	case len(p.item) > 0:
		// A continuation line of the list item.
		p.item[len(p.item)-1] += " " + trimmed
	default:
		if len(p.table) > 0 {
			p.flush()
		}
		p.para = append(p.para, strings.TrimSpace(strings.TrimLeft(trimmed, ">")))
	}
}

// commentLine reads a line of an HTML comment; at its end a "key: value"
// comment sets metadata, any other is dropped.
func (p *markdownParser) commentLine(line string) {
	before, _, closed := strings.Cut(line, "-->")
	p.comment = append(p.comment, before)
	if !closed {
		return
	}
	text := strings.TrimSpace(strings.Join(p.comment, " "))
	p.comment = nil
	if key, value, ok := strings.Cut(text, ":"); ok {
		p.meta.set(key, value)
	}
}

// bullet normalises a list marker: "*", "+" become "-"; numbers stay.
func bullet(item string) string {
	if item[0] == '*' || item[0] == '+' {
		return "-" + item[1:]
	}
	return item
}

// flush ends the paragraph, list item or table being read.
func (p *markdownParser) flush() {
	if len(p.para) > 0 {
		p.block(strings.Join(p.para, " "))
		p.para = nil
	}
	if len(p.item) > 0 {
		p.block(strings.Join(p.item, "\n"))
		p.item = nil
	}
	if len(p.table) > 0 {
		p.block(strings.Join(p.table, "\n"))
		p.table = nil
	}
	if p.fence != "" {
		// A code block left open at the end of the file.
		p.block(strings.Join(p.code, "\n"))
		p.fence, p.code = "", nil
	}
}

// heading opens a section under a heading of the given level.
func (p *markdownParser) heading(level int, text string) {
	text = strings.TrimSpace(inlineMarkup.ReplaceAllString(text, "$1"))
	if text == "" {
		return
	}
	if level == 1 && p.title == "" {
		p.title = text
	}
	for len(p.headings) > 0 && p.headings[len(p.headings)-1].level >= level {
		p.headings = p.headings[:len(p.headings)-1]
	}
	p.headings = append(p.headings, heading{level, text})
	p.open = false
}

// block adds a block to the current section, opening it if needed.
func (p *markdownParser) block(text string) {
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	if !p.open {
		names := make([]string, len(p.headings))
		for i, h := range p.headings {
			names[i] = h.text
		}
		p.sections = append(p.sections, Section{Path: strings.Join(names, " > ")})
		p.open = true
	}
	s := &p.sections[len(p.sections)-1]
	s.Blocks = append(s.Blocks, text)
}
