package knowledge

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// ParseFAQ parses a CSV file of questions and answers named name (used in
// errors, as Source and for the ID). Each row is one Section whose Path is
// the question and whose one Block is the answer, so that a row that fits
// the chunk budget is one chunk titled by its question.
//
// The first row names the columns, in any order and case: question (or
// soru), answer (or cevap, yanıt), and optionally tags (or etiketler,
// etiket); other columns are ignored. Fields are separated by commas or by
// semicolons, as spreadsheets set to Turkish save them, or by tabs: the one
// of these that occurs most often in the header row. A tags cell lists tags
// separated by commas, semicolons or "|": they are its row's Section's
// Tags, each once, so that a search filtered by a tag finds only the rows
// that have it; the Document has no tags of its own. Blank rows are
// skipped. The title is the file name without directory or extension, the
// language what local.DetectLanguage finds.
//
// An empty file, invalid UTF-8 (save the sheet as "CSV UTF-8"), malformed
// CSV, a header without a question or an answer column, or a row with an
// empty question or answer is an error naming the file and the line; the
// errors of all bad rows are joined.
func ParseFAQ(name string, data []byte) (Document, []Section, error) {
	text, err := decode(name, data)
	if err != nil {
		if !utf8.Valid(data) {
			err = fmt.Errorf("%w (save the sheet as CSV UTF-8)", err)
		}
		return Document{}, nil, err
	}
	header, _, _ := strings.Cut(text, "\n")
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = separator(header)
	r.FieldsPerRecord = -1
	record, err := r.Read()
	if err != nil {
		return Document{}, nil, fmt.Errorf("parsing %s: reading header: %w", name, csvError(err))
	}
	cols, err := faqColumns(record)
	if err != nil {
		return Document{}, nil, fmt.Errorf("parsing %s: line 1: %w", name, err)
	}
	var (
		sections []Section
		errs     []error
	)
	for {
		record, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("parsing %s: %w", name, csvError(err)))
			break
		}
		line, _ := r.FieldPos(0)
		cell := func(i int) string {
			if i < 0 || i >= len(record) {
				return ""
			}
			return strings.TrimSpace(record[i])
		}
		if !slices.ContainsFunc(record, func(f string) bool { return strings.TrimSpace(f) != "" }) {
			continue
		}
		question, answer := collapseSpace(cell(cols.question)), collapseLines(cell(cols.answer))
		switch {
		case question == "" && answer == "":
			errs = append(errs, fmt.Errorf("parsing %s: line %d: no question and no answer", name, line))
			continue
		case question == "":
			errs = append(errs, fmt.Errorf("parsing %s: line %d: no question", name, line))
			continue
		case answer == "":
			errs = append(errs, fmt.Errorf("parsing %s: line %d: no answer", name, line))
			continue
		}
		var tags []string
		for tag := range strings.FieldsFuncSeq(cell(cols.tags), func(r rune) bool { return r == ',' || r == ';' || r == '|' }) {
			if tag = strings.TrimSpace(tag); tag != "" && !slices.Contains(tags, tag) {
				tags = append(tags, tag)
			}
		}
		sections = append(sections, Section{Path: question, Blocks: []string{answer}, Tags: tags})
	}
	if len(errs) > 0 {
		return Document{}, nil, errors.Join(errs...)
	}
	if len(sections) == 0 {
		return Document{}, nil, fmt.Errorf("parsing %s: no question rows under the header", name)
	}
	return document(name, data, frontMatter{}, "", sections)
}

// faqLayout holds the indexes of the columns of a FAQ file; tags is -1 when
// there is no tags column.
type faqLayout struct {
	question, answer, tags int
}

// faqHeaders maps the accepted column names, lower case and with "ı" as
// "i", to their columns.
var faqHeaders = map[string]string{
	"question": "question", "soru": "question",
	"answer": "answer", "cevap": "answer", "yanit": "answer",
	"tags": "tags", "etiketler": "tags", "etiket": "tags",
}

// faqColumns finds the columns of a FAQ file in its header row.
func faqColumns(header []string) (faqLayout, error) {
	cols := faqLayout{-1, -1, -1}
	for i, h := range header {
		key := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(h)), "ı", "i")
		var col *int
		switch faqHeaders[key] {
		case "question":
			col = &cols.question
		case "answer":
			col = &cols.answer
		case "tags":
			col = &cols.tags
		default:
			continue
		}
		if *col >= 0 {
			return cols, fmt.Errorf("columns %d and %d both hold the %s", *col+1, i+1, faqHeaders[key])
		}
		*col = i
	}
	if cols.question < 0 || cols.answer < 0 {
		return cols, errors.New("want a header row naming the question and answer columns (question, answer, tags; or soru, cevap, etiketler)")
	}
	return cols, nil
}

// separator returns the field separator of a CSV file from its header
// line: ',', ';' or '\t', whichever occurs most often, ',' on a tie.
func separator(header string) rune {
	best, count := ',', strings.Count(header, ",")
	for _, r := range []rune{';', '\t'} {
		if n := strings.Count(header, string(r)); n > count {
			best, count = r, n
		}
	}
	return best
}

// csvError returns err without the text of the file: a *csv.ParseError's
// position and reason.
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d, column %d: %w", pe.Line, pe.Column, pe.Err)
	}
	return err
}
