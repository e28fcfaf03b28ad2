package campaign

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
)

// The columns ImportContacts reads by name, in any case. Every other column
// is an attribute named by its header.
const (
	ColumnPhone    = "phone"    // required: the number, normalised with NormalizePhone
	ColumnName     = "name"     // the contact's name
	ColumnLanguage = "language" // a language tag (tr, en-GB): the contact's Locale
	ColumnTags     = "tags"     // tags separated by ';' or '|'
	ColumnConsent  = "consent"  // marketing consent: yes, no (evet, hayır) or empty
)

// Batch sizes of ImportContacts: the rows written per transaction.
const (
	DefaultBatchSize = 1000
	MaxBatchSize     = store.MaxSegmentPage
)

// ImportOptions tune ImportContacts; the zero value reads Turkish numbers,
// guesses the separator, and writes DefaultBatchSize rows per transaction.
type ImportOptions struct {
	// Region is the region (ISO 3166-1, "TR") of numbers written without a
	// country code; DefaultRegion when empty.
	Region string
	// Comma separates the fields. 0 picks the one of ',', ';' and tab that
	// the header line holds most of (spreadsheets in Turkish write ';').
	Comma rune
	// BatchSize is how many rows each transaction writes: 1 to
	// MaxBatchSize, DefaultBatchSize when 0.
	BatchSize int
	// Now is the time the consents of the file are recorded at; the
	// current time when zero.
	Now time.Time
	// Actor is who the consent records' audit entries name (the user of
	// an API call, privacy.ActorCLI for the command line);
	// privacy.ActorSystem when empty.
	Actor privacy.Actor
}

// ImportResult counts what ImportContacts did with the rows of a file.
type ImportResult struct {
	// Rows is the number of rows read after the header.
	Rows int
	// Created, Updated and Unchanged count the rows imported: a new
	// contact; a known one (the same wa_id) that the row changed; one it
	// changed nothing of. A number repeated in the file is one contact,
	// and its later rows update it.
	Created   int
	Updated   int
	Unchanged int
	// Failed counts the rows not imported, each in Errors.
	Failed int
	// OptOutsKept counts the rows with consent "yes" whose contact had
	// opted out of marketing messages: an import never resumes marketing
	// for a contact who stopped it; only the contact can.
	OptOutsKept int
	// Consents counts the marketing consent records the import wrote:
	// granted ones for "yes" and refused ones for "no".
	Consents int
	// Errors are the rows not imported, in file order.
	Errors []RowError
}

// RowError is a row of the file that was not imported, and why.
type RowError struct {
	// Line is the line the row starts on; the header is line 1.
	Line   int
	Reason string
}

func (e RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// ImportContacts reads contacts from r, a CSV file with a header row, into
// st. The header names the columns (see ColumnPhone and the others); it must
// have a phone column, and no name twice.
//
// A row becomes the contact of its number's wa_id (the E.164 digits
// without '+'), created or updated, so importing a file again updates
// contacts and never duplicates them. What a row holds, it sets: a name or
// a language when the cell is not empty; the tags, replacing the contact's,
// when the file has a tags column (an empty cell clears them); each
// attribute column (an empty cell removes that attribute); attributes of
// columns the file does not have are kept. Consent "no" records a refused
// marketing consent (privacy.RecordConsent, source import, at opt.Now,
// audited), which opts the contact out of marketing messages, unless they
// are opted out already; "yes" records a granted one only for a contact
// who has no marketing consent record yet and is not opted out, so that a
// file imported again never resumes someone who opted out (see
// ImportResult.OptOutsKept); empty leaves it.
//
// A bad row (a phone number that is not valid, a field count other than
// the header's, an unknown consent, a language that is not a tag, a field
// CSV cannot read) is reported in the result's Errors with its line number,
// and the other rows are imported. A UTF-8 byte order mark and CRLF line
// ends are read. An error before any row (no header, no phone column, a
// bad option) names what is wrong.
//
// The rows are written in batches of opt.BatchSize, one transaction each:
// one query reads the batch's known contacts, one batch upsert writes the
// ones its rows change, one more reads the current marketing consents of
// the known contacts whose rows say "yes", and each consent recorded is two
// more (the record and its audit entry). A batch
// that fails to write stops the import with an error naming its lines; the
// result counts the batches written before.
func ImportContacts(ctx context.Context, st store.Store, r io.Reader, opt ImportOptions) (ImportResult, error) {
	var res ImportResult
	opt, err := opt.withDefaults()
	if err != nil {
		return res, fmt.Errorf("importing contacts: %w", err)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if err := skipBOM(br); err != nil {
		return res, fmt.Errorf("importing contacts: reading: %w", err)
	}
	cr := csv.NewReader(br)
	cr.Comma = opt.Comma
	if cr.Comma == 0 {
		cr.Comma = sniffComma(br)
	}
	cr.FieldsPerRecord = -1 // checked against the header by parseRow, to say how
	cr.ReuseRecord = true
	rec, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return res, fmt.Errorf("importing contacts: the file is empty; want a header row with a %q column", ColumnPhone)
	case err != nil:
		return res, fmt.Errorf("importing contacts: reading the header: %w", err)
	}
	h, err := parseHeader(rec)
	if err != nil {
		return res, fmt.Errorf("importing contacts: %w", err)
	}

	batch := make([]row, 0, opt.BatchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := importBatch(ctx, st, batch, opt, &res)
		batch = batch[:0]
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("importing contacts: %w", err)
		}
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			res.Rows++
			res.fail(perr.StartLine, perr.Err.Error())
			continue
		}
		if err != nil {
			return res, fmt.Errorf("importing contacts: reading: %w", err)
		}
		res.Rows++
		line, _ := cr.FieldPos(0)
		rw, err := h.parseRow(rec, line, opt.Region)
		if err != nil {
			res.fail(line, err.Error())
			continue
		}
		batch = append(batch, rw)
		if len(batch) == opt.BatchSize {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	if err := flush(); err != nil {
		return res, err
	}
	return res, nil
}

func (o ImportOptions) withDefaults() (ImportOptions, error) {
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	region, err := checkRegion(o.Region)
	if err != nil {
		return o, err
	}
	o.Region = region
	switch {
	case o.BatchSize == 0:
		o.BatchSize = DefaultBatchSize
	case o.BatchSize < 1 || o.BatchSize > MaxBatchSize:
		return o, fmt.Errorf("batch size %d: want 1 to %d", o.BatchSize, MaxBatchSize)
	}
	if o.Comma == '"' || o.Comma == '\r' || o.Comma == '\n' {
		return o, fmt.Errorf("separator %q: cannot separate fields", o.Comma)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Actor.Name == "" {
		o.Actor = privacy.ActorSystem
	}
	return o, nil
}

func (res *ImportResult) fail(line int, reason string) {
	res.Failed++
	res.Errors = append(res.Errors, RowError{Line: line, Reason: reason})
}

// skipBOM drops a UTF-8 byte order mark at the start of br.
func skipBOM(br *bufio.Reader) error {
	head, err := br.Peek(3)
	switch {
	case bytes.Equal(head, []byte("\uFEFF")):
		_, err = br.Discard(3)
		return err
	case errors.Is(err, io.EOF): // a file shorter than a mark
		return nil
	}
	return err
}

// sniffComma returns the separator the first line of br holds most of,
// outside quotes: ',', ';' or tab; ',' when it holds none.
func sniffComma(br *bufio.Reader) rune {
	head, _ := br.Peek(br.Size()) // what there is: a short file ends early
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	counts := map[byte]int{}
	quoted := false
	for _, b := range head {
		switch {
		case b == '"':
			quoted = !quoted
		case !quoted && (b == ',' || b == ';' || b == '\t'):
			counts[b]++
		}
	}
	comma := byte(',')
	for _, b := range []byte{';', '\t'} {
		if counts[b] > counts[comma] {
			comma = b
		}
	}
	return rune(comma)
}

// header is the layout of a file's columns.
type header struct {
	fields                               int
	phone, name, language, tags, consent int // column indexes; -1 when missing
	attributes                           []attributeColumn
}

type attributeColumn struct {
	index int
	name  string
}

func parseHeader(rec []string) (header, error) {
	h := header{fields: len(rec), phone: -1, name: -1, language: -1, tags: -1, consent: -1}
	known := map[string]*int{ColumnPhone: &h.phone, ColumnName: &h.name, ColumnLanguage: &h.language,
		ColumnTags: &h.tags, ColumnConsent: &h.consent}
	seen := map[string]int{}
	names := make([]string, len(rec))
	for i, raw := range rec {
		name := strings.TrimSpace(raw)
		names[i] = name
		if name == "" {
			return h, fmt.Errorf("header: column %d has no name", i+1)
		}
		key := strings.ToLower(name)
		if j, dup := seen[key]; dup {
			return h, fmt.Errorf("header: column %d, %q, has the name of column %d", i+1, name, j+1)
		}
		seen[key] = i
		if p, ok := known[key]; ok {
			*p = i
		} else {
			h.attributes = append(h.attributes, attributeColumn{index: i, name: name})
		}
	}
	if h.phone < 0 {
		return h, fmt.Errorf("header: no %q column (the columns are: %s)", ColumnPhone, strings.Join(names, ", "))
	}
	return h, nil
}

// consent is a row's consent cell.
type consent int

const (
	consentNone consent = iota
	consentYes
	consentNo
)

func parseConsent(s string) (consent, error) {
	switch strings.ReplaceAll(strings.ToLower(s), "ı", "i") {
	case "":
		return consentNone, nil
	case "yes", "evet":
		return consentYes, nil
	case "no", "hayir":
		return consentNo, nil
	}
	return consentNone, fmt.Errorf("consent %q: want yes, no (evet, hayır) or an empty cell", s)
}

// row is a row of the file, read and checked.
type row struct {
	line   int
	waID   string
	name   string
	locale string
	// tags are sorted without repeats; nil when the file has no tags
	// column, empty when the cell is.
	tags []string
	// attributes hold every attribute column's cell; "" removes the
	// attribute.
	attributes map[string]string
	consent    consent
}

func (h header) parseRow(rec []string, line int, region string) (row, error) {
	if len(rec) != h.fields {
		return row{}, fmt.Errorf("%d fields, want %d as the header has", len(rec), h.fields)
	}
	cell := func(i int) string {
		if i < 0 {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	e164, err := NormalizePhone(cell(h.phone), region)
	if err != nil {
		return row{}, err
	}
	r := row{line: line, waID: strings.TrimPrefix(e164, "+"), name: cell(h.name), locale: cell(h.language)}
	if r.locale != "" && !store.ValidLanguageTag(r.locale) {
		return row{}, fmt.Errorf("language %q: want a language tag such as tr or en-GB", r.locale)
	}
	if r.consent, err = parseConsent(cell(h.consent)); err != nil {
		return row{}, err
	}
	if h.tags >= 0 {
		r.tags = parseTags(cell(h.tags))
	}
	if len(h.attributes) > 0 {
		r.attributes = make(map[string]string, len(h.attributes))
		for _, a := range h.attributes {
			r.attributes[a.name] = cell(a.index)
		}
	}
	u := store.ContactUpsert{WaID: r.waID, Tags: r.tags, Attributes: r.attributes}
	if err := u.Validate(); err != nil {
		return row{}, err
	}
	return r, nil
}

// parseTags splits a tags cell on ';' and '|', and returns the tags sorted
// without repeats or empty ones; empty, not nil, when there are none.
func parseTags(s string) []string {
	tags := []string{}
	for t := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ';' || r == '|' }) {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	slices.Sort(tags)
	return slices.Compact(tags)
}

// importBatch writes rows in one transaction and adds what it did to res
// once it is committed. It reads the batch's contacts in one query, works
// out in memory what each row changes, in file order, then writes the
// contacts that changed in one batch upsert, and the consents.
func importBatch(ctx context.Context, st store.Store, rows []row, opt ImportOptions, res *ImportResult) error {
	now := opt.Now
	waIDs := make([]string, len(rows))
	for i, r := range rows {
		waIDs[i] = r.waID
	}
	var done ImportResult
	err := st.InTx(ctx, func(tx store.Queries) error {
		done = ImportResult{}
		found, err := tx.ContactsByWaID(ctx, waIDs)
		if err != nil {
			return err
		}
		known := make(map[string]store.Contact, len(rows))
		for _, c := range found {
			known[c.WaID] = c
		}
		recorded, err := marketingRecorded(ctx, tx, rows, known)
		if err != nil {
			return err
		}
		writes := make(map[string]*write, len(rows))
		var order []string // the wa_ids of writes, first seen first
		for _, r := range rows {
			w := writes[r.waID]
			if w == nil {
				w = &write{upsert: store.ContactUpsert{WaID: r.waID}, hadMarketing: recorded[r.waID]}
				writes[r.waID] = w
				order = append(order, r.waID)
			}
			cur, exists := known[r.waID]
			changed := r.apply(&cur, exists, w, now, &done)
			known[r.waID] = cur
			switch {
			case !exists:
				done.Created++
			case changed:
				done.Updated++
			default:
				done.Unchanged++
			}
		}
		var us []store.ContactUpsert
		for _, id := range order {
			if w := writes[id]; w.upsertNeeded {
				us = append(us, w.upsert)
			}
		}
		written, err := tx.UpsertContactsByWaID(ctx, us)
		if err != nil {
			return err
		}
		for _, c := range written {
			known[c.WaID] = c
		}
		for _, id := range order {
			w := writes[id]
			for _, c := range w.consents {
				c.ContactID, c.Purpose, c.Source, c.At = known[id].ID, store.PurposeMarketing, store.ConsentByImport, now
				if _, err := privacy.RecordConsent(ctx, tx, c, opt.Actor); err != nil {
					return err
				}
				done.Consents++
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("importing contacts: the rows of lines %d to %d: %w", rows[0].line, rows[len(rows)-1].line, err)
	}
	res.Created += done.Created
	res.Updated += done.Updated
	res.Unchanged += done.Unchanged
	res.OptOutsKept += done.OptOutsKept
	res.Consents += done.Consents
	return nil
}

// marketingRecorded returns the wa_ids of the known contacts of rows
// whose rows say "yes" and who have a marketing consent record already:
// an import's "yes" records nothing for them.
func marketingRecorded(ctx context.Context, tx store.Queries, rows []row, known map[string]store.Contact) (map[string]bool, error) {
	var ids []int64
	byID := map[int64]string{}
	for _, r := range rows {
		c, ok := known[r.waID]
		if r.consent != consentYes || !ok {
			continue
		}
		if _, seen := byID[c.ID]; !seen {
			ids = append(ids, c.ID)
			byID[c.ID] = r.waID
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	consents, err := tx.MarketingConsents(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(consents))
	for id := range consents {
		out[byID[id]] = true
	}
	return out, nil
}

// write is what a batch writes for one contact.
type write struct {
	// upsert sets what the batch's rows changed: the fields they set, and
	// the whole tags and attributes when they changed those.
	upsert store.ContactUpsert
	// upsertNeeded is set when the contact is new or upsert changes it.
	upsertNeeded bool
	// consents are the marketing consents to record, in row order (the
	// last one is the contact's current choice): Granted is set for "yes".
	consents []store.Consent
	// hadMarketing is set when the contact has a marketing consent record,
	// stored before or written by an earlier row of the batch.
	hadMarketing bool
}

// apply makes the contact cur (a new one when !exists) hold what r sets,
// adds to w what the batch must write for it, and reports whether r
// changed anything.
func (r row) apply(cur *store.Contact, exists bool, w *write, now time.Time, done *ImportResult) bool {
	changed := !exists
	if !exists {
		cur.WaID = r.waID
	}
	if r.name != "" && r.name != cur.Name {
		cur.Name, w.upsert.Name, changed = r.name, r.name, true
	}
	if r.locale != "" && r.locale != cur.Locale {
		cur.Locale, w.upsert.Locale, changed = r.locale, r.locale, true
	}
	if r.tags != nil && (!exists || !slices.Equal(r.tags, store.TagSet(cur.Tags))) {
		cur.Tags, w.upsert.Tags, changed = r.tags, r.tags, true
	}
	if merged := mergeAttributes(cur.Attributes, r.attributes); !maps.Equal(merged, cur.Attributes) {
		cur.Attributes, changed = merged, true
		w.upsert.Attributes = merged
		if merged == nil {
			w.upsert.Attributes = map[string]string{} // every attribute removed: clear them
		}
	}
	w.upsertNeeded = w.upsertNeeded || changed
	switch r.consent {
	case consentNo:
		// As RecordConsent decides: a preference recorded at now or later
		// stays.
		if !cur.MarketingOptOut && (cur.MarketingPrefAt.IsZero() || cur.MarketingPrefAt.Before(now)) {
			cur.MarketingOptOut, cur.MarketingPrefAt, changed = true, now, true
			w.consents = append(w.consents, store.Consent{Granted: false})
			w.hadMarketing = true
		}
	case consentYes:
		switch {
		case cur.MarketingOptOut:
			done.OptOutsKept++
		case !w.hadMarketing:
			// The first marketing record of the contact: a file never
			// changes a choice recorded before, theirs or an import's.
			w.consents = append(w.consents, store.Consent{Granted: true})
			w.hadMarketing, changed = true, true
		}
	}
	return changed
}

// mergeAttributes returns have with the cells of set applied: a value sets
// its attribute, "" removes it; nil when none are left.
func mergeAttributes(have, set map[string]string) map[string]string {
	out := maps.Clone(have)
	for k, v := range set {
		if v == "" {
			delete(out, k)
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
