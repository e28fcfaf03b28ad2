package whatsapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/yanit/yanit/channel/whatsapp/wire"
)

// Errors returned by Parse for a body that cannot be a Cloud API webhook.
var (
	// ErrMalformedPayload means the body is not a JSON object, or its entry
	// member is not a list.
	ErrMalformedPayload = errors.New("whatsapp: malformed webhook payload")
	// ErrUnexpectedObject means the body is JSON but not a
	// whatsapp_business_account notification.
	ErrUnexpectedObject = errors.New("whatsapp: webhook object is not whatsapp_business_account")
)

// errMissing is the cause of an ItemError for an item without a member it
// cannot be used without.
var errMissing = errors.New("missing")

// Fields of a webhook change that Parse interprets; others go to Batch.Other.
const (
	fieldMessages        = "messages"
	fieldUserPreferences = "user_preferences"
)

// Value lists Parse reads, as named in Position.List.
const (
	ListContacts        = "contacts"
	ListMessages        = "messages"
	ListStatuses        = "statuses"
	ListErrors          = "errors"
	ListUserPreferences = "user_preferences"
)

// Parse decodes a webhook body into a Batch. Each entry, change and list
// item is decoded on its own, so one malformed item never drops the others:
// it becomes an ItemError naming its position, and everything else is
// returned. Unknown message types are kept, never an error. The error is
// non-nil (ErrMalformedPayload or ErrUnexpectedObject) only when the body as
// a whole is not a whatsapp_business_account notification; the Batch is then
// empty.
//
// Parse does not check the signature: call VerifySignature on the same bytes
// first.
func Parse(body []byte) (Batch, []ItemError, error) {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		return Batch{}, nil, fmt.Errorf("decoding webhook envelope: %w: %w", ErrMalformedPayload, err)
	}
	if env == nil {
		return Batch{}, nil, fmt.Errorf("decoding webhook envelope: %w: null body", ErrMalformedPayload)
	}
	object, err := stringMember(env, "object")
	if err != nil || object != wire.ObjectWhatsAppBusinessAccount {
		return Batch{}, nil, fmt.Errorf("decoding webhook envelope: %w: got %q", ErrUnexpectedObject, truncate(object, 64))
	}
	entries, err := listMember(env, "entry")
	if err != nil {
		return Batch{}, nil, fmt.Errorf("decoding webhook envelope: %w: entry: %w", ErrMalformedPayload, err)
	}
	var p parser
	for i, raw := range entries {
		p.entry(i, raw)
	}
	return p.batch, p.errs, nil
}

// parser accumulates the results of one Parse call.
type parser struct {
	batch Batch
	errs  []ItemError
}

func (p *parser) fail(pos Position, err error) {
	p.errs = append(p.errs, ItemError{Position: pos, Err: err})
}

func (p *parser) entry(i int, raw json.RawMessage) {
	obj, err := object(raw)
	if err != nil {
		p.fail(entryPos(i), fmt.Errorf("decoding entry: %w", err))
		return
	}
	wabaID, err := stringMember(obj, "id")
	if err != nil {
		p.fail(entryPos(i), fmt.Errorf("decoding entry id: %w", err))
		return
	}
	changes, err := listMember(obj, "changes")
	if err != nil {
		p.fail(entryPos(i), fmt.Errorf("decoding changes: %w", err))
		return
	}
	for j, c := range changes {
		p.change(i, j, wabaID, c)
	}
}

// scope is what every item of one change shares.
type scope struct {
	wabaID   string
	metadata wire.Metadata
	contacts []wire.Contact
}

func (p *parser) change(i, j int, wabaID string, raw json.RawMessage) {
	pos := changePos(i, j)
	obj, err := object(raw)
	if err != nil {
		p.fail(pos, fmt.Errorf("decoding change: %w", err))
		return
	}
	field, err := stringMember(obj, "field")
	if err != nil {
		p.fail(pos, fmt.Errorf("decoding change field: %w", err))
		return
	}
	if field != fieldMessages && field != fieldUserPreferences {
		p.batch.Other = append(p.batch.Other, Change{Position: pos, WABAID: wabaID, Field: field, Value: obj["value"]})
		return
	}
	value, err := object(obj["value"])
	if err != nil {
		p.fail(pos, fmt.Errorf("decoding value: %w", err))
		return
	}
	sc := scope{wabaID: wabaID}
	if raw, ok := value["metadata"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &sc.metadata); err != nil {
			p.fail(pos, fmt.Errorf("decoding metadata: %w", err))
			return
		}
	}

	// Decode every list first, so that a change without a phone number id
	// is rejected whole rather than half-parsed.
	lists := map[string][]json.RawMessage{}
	for _, name := range []string{ListContacts, ListMessages, ListStatuses, ListErrors, ListUserPreferences} {
		items, err := listMember(value, name)
		if err != nil {
			p.fail(listPos(i, j, name), fmt.Errorf("decoding %s: %w", name, err))
			continue
		}
		lists[name] = items
	}
	if sc.metadata.PhoneNumberID == "" && len(lists[ListMessages])+len(lists[ListStatuses]) > 0 {
		p.fail(pos, fmt.Errorf("decoding metadata: phone_number_id %w", errMissing))
		return
	}

	for k, raw := range lists[ListContacts] {
		var c wire.Contact
		if err := json.Unmarshal(raw, &c); err != nil {
			p.fail(itemPos(i, j, ListContacts, k), fmt.Errorf("decoding contact: %w", err))
			continue
		}
		sc.contacts = append(sc.contacts, c)
	}
	for k, raw := range lists[ListMessages] {
		p.message(itemPos(i, j, ListMessages, k), &sc, raw)
	}
	for k, raw := range lists[ListStatuses] {
		p.status(itemPos(i, j, ListStatuses, k), &sc, raw)
	}
	for k, raw := range lists[ListErrors] {
		p.channelError(itemPos(i, j, ListErrors, k), &sc, raw)
	}
	for k, raw := range lists[ListUserPreferences] {
		p.preference(itemPos(i, j, ListUserPreferences, k), &sc, raw)
	}
}

func (p *parser) message(pos Position, sc *scope, raw json.RawMessage) {
	var m wire.Message
	if err := json.Unmarshal(raw, &m); err != nil {
		p.fail(pos, fmt.Errorf("decoding message: %w", err))
		return
	}
	if m.ID == "" {
		p.fail(pos, fmt.Errorf("decoding message: id %w", errMissing))
		return
	}
	ts, err := m.Timestamp.Time()
	if err != nil {
		p.fail(pos, fmt.Errorf("decoding message %s: %w", m.ID, err))
		return
	}
	in := Inbound{
		Position:      pos,
		WABAID:        sc.wabaID,
		PhoneNumberID: sc.metadata.PhoneNumberID,
		DisplayPhone:  sc.metadata.DisplayPhoneNumber,
		WaID:          m.From,
		UserID:        firstNonEmpty(m.UserID, m.FromUserID),
		WAMID:         m.ID,
		Timestamp:     ts,
		Type:          m.Type,
		Context:       clone(m.Context),
		Referral:      clone(m.Referral),
		Errors:        errorDetails(m.Errors),
		Raw:           raw,
	}
	if c := matchContact(sc.contacts, in.WaID, in.UserID); c != nil {
		in.WaID = firstNonEmpty(in.WaID, c.WaID)
		in.UserID = firstNonEmpty(in.UserID, c.UserID)
		if c.Profile != nil {
			in.ProfileName = c.Profile.Name
			in.Username = c.Profile.Username
		}
	}
	if in.WaID == "" && in.UserID == "" {
		p.fail(pos, fmt.Errorf("decoding message %s: sender (from, user_id) %w", m.ID, errMissing))
		return
	}
	content(&in, &m)
	p.batch.Messages = append(p.batch.Messages, in)
}

// content fills the type-specific members of in from m.
func content(in *Inbound, m *wire.Message) {
	switch m.Type {
	case TypeText:
		if m.Text != nil {
			in.Text = m.Text.Body
		}
	case TypeInteractive:
		if m.Interactive == nil {
			return
		}
		in.Subtype = m.Interactive.Type
		reply := m.Interactive.ButtonReply
		if reply == nil {
			reply = m.Interactive.ListReply
		}
		if reply != nil {
			in.Text, in.ReplyID = reply.Title, reply.ID
		}
	case TypeButton:
		if m.Button != nil {
			in.Text, in.ReplyID = m.Button.Text, m.Button.Payload
		}
	case TypeImage, TypeVideo, TypeAudio, TypeDocument, TypeSticker:
		if md := mediaOf(m); md != nil {
			in.Media = &Attachment{
				ID: md.ID, MimeType: md.MimeType, SHA256: md.SHA256,
				Caption: md.Caption, Filename: md.Filename,
				Voice: md.Voice, Animated: md.Animated,
			}
			in.Text = md.Caption
		}
	case TypeLocation:
		if l := m.Location; l != nil {
			in.Location = clone(l)
			in.Text = locationText(l)
		}
	case TypeContacts:
		in.Contacts = m.Contacts
		in.Text = contactsSummary(m.Contacts)
	case TypeReaction:
		if m.Reaction != nil {
			in.Reaction = clone(m.Reaction)
			in.Text = m.Reaction.Emoji
		}
	case TypeUnsupported:
		in.Text = UnsupportedText
	case TypeSystem:
		if m.System != nil {
			in.Subtype, in.Text = m.System.Type, m.System.Body
		}
	}
}

func mediaOf(m *wire.Message) *wire.Media {
	switch m.Type {
	case TypeImage:
		return m.Image
	case TypeVideo:
		return m.Video
	case TypeAudio:
		return m.Audio
	case TypeDocument:
		return m.Document
	case TypeSticker:
		return m.Sticker
	}
	return nil
}

func locationText(l *wire.Location) string {
	switch {
	case l.Name != "" && l.Address != "":
		return l.Name + ", " + l.Address
	case l.Name != "" || l.Address != "":
		return l.Name + l.Address
	}
	return strconv.FormatFloat(l.Latitude, 'f', -1, 64) + ", " + strconv.FormatFloat(l.Longitude, 'f', -1, 64)
}

// sharedContact is the part of a shared contact card the summary reads.
type sharedContact struct {
	Name struct {
		FormattedName string `json:"formatted_name"`
		FirstName     string `json:"first_name"`
		LastName      string `json:"last_name"`
	} `json:"name"`
	Phones []struct {
		Phone string `json:"phone"`
		WaID  string `json:"wa_id"`
	} `json:"phones"`
}

// contactsSummary renders shared contact cards as "Name (phone); Name2".
// Cards it cannot read are summarised as "[contacts]".
func contactsSummary(raw json.RawMessage) string {
	const fallback = "[" + TypeContacts + "]"
	var cards []sharedContact
	if err := json.Unmarshal(raw, &cards); err != nil || len(cards) == 0 {
		return fallback
	}
	parts := make([]string, 0, len(cards))
	for _, c := range cards {
		name := firstNonEmpty(c.Name.FormattedName, strings.TrimSpace(c.Name.FirstName+" "+c.Name.LastName))
		phone := ""
		if len(c.Phones) > 0 {
			phone = firstNonEmpty(c.Phones[0].Phone, c.Phones[0].WaID)
		}
		switch {
		case name != "" && phone != "":
			parts = append(parts, name+" ("+phone+")")
		case name != "" || phone != "":
			parts = append(parts, name+phone)
		}
	}
	if len(parts) == 0 {
		return fallback
	}
	return strings.Join(parts, "; ")
}

// clone returns a copy of *p, or nil: the Inbound keeps no pointer into the
// decoded wire message.
func clone[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func errorDetails(es []wire.Error) []ErrorDetail {
	if len(es) == 0 {
		return nil
	}
	out := make([]ErrorDetail, len(es))
	for i, e := range es {
		out[i] = errorDetail(e)
	}
	return out
}

func errorDetail(e wire.Error) ErrorDetail {
	d := ErrorDetail{Code: e.Code, Title: e.Title, Message: e.Message, Href: e.Href}
	if e.ErrorData != nil {
		d.Details = e.ErrorData.Details
	}
	return d
}

// matchContact finds the contact describing a sender: by wa_id, then by
// user_id, or the only contact when the message names no sender at all.
func matchContact(cs []wire.Contact, waID, userID string) *wire.Contact {
	for i := range cs {
		if waID != "" && cs[i].WaID == waID {
			return &cs[i]
		}
	}
	for i := range cs {
		if userID != "" && cs[i].UserID == userID {
			return &cs[i]
		}
	}
	if waID == "" && userID == "" && len(cs) == 1 {
		return &cs[0]
	}
	return nil
}

func (p *parser) status(pos Position, sc *scope, raw json.RawMessage) {
	var s wire.Status
	if err := json.Unmarshal(raw, &s); err != nil {
		p.fail(pos, fmt.Errorf("decoding status: %w", err))
		return
	}
	if s.ID == "" || s.Status == "" {
		p.fail(pos, fmt.Errorf("decoding status: id or status %w", errMissing))
		return
	}
	ts, err := s.Timestamp.Time()
	if err != nil {
		p.fail(pos, fmt.Errorf("decoding status %s: %w", s.ID, err))
		return
	}
	st := Status{
		Position:        pos,
		WABAID:          sc.wabaID,
		PhoneNumberID:   sc.metadata.PhoneNumberID,
		WAMID:           s.ID,
		Status:          s.Status,
		Timestamp:       ts,
		RecipientID:     s.RecipientID,
		RecipientUserID: s.RecipientUserID,
		BizOpaque:       s.BizOpaqueCallbackData,
		Errors:          errorDetails(s.Errors),
		Raw:             raw,
	}
	if c := s.Conversation; c != nil {
		st.Conversation = &Conversation{ID: c.ID}
		if c.Origin != nil {
			st.Conversation.OriginType = c.Origin.Type
		}
		// The expiration is informative: an unreadable one is dropped rather
		// than costing the status.
		st.Conversation.Expiration, _ = c.ExpirationTimestamp.Time()
	}
	if pr := s.Pricing; pr != nil {
		st.Pricing = &Pricing{Billable: pr.Billable, PricingModel: pr.PricingModel, Category: pr.Category, Type: pr.Type}
	}
	p.batch.Statuses = append(p.batch.Statuses, st)
}

func (p *parser) channelError(pos Position, sc *scope, raw json.RawMessage) {
	var e wire.Error
	if err := json.Unmarshal(raw, &e); err != nil {
		p.fail(pos, fmt.Errorf("decoding error: %w", err))
		return
	}
	p.batch.Errors = append(p.batch.Errors, ChannelError{
		Position:      pos,
		WABAID:        sc.wabaID,
		PhoneNumberID: sc.metadata.PhoneNumberID,
		ErrorDetail:   errorDetail(e),
		Raw:           raw,
	})
}

func (p *parser) preference(pos Position, sc *scope, raw json.RawMessage) {
	var u wire.UserPreference
	if err := json.Unmarshal(raw, &u); err != nil {
		p.fail(pos, fmt.Errorf("decoding user preference: %w", err))
		return
	}
	if u.Value == "" {
		p.fail(pos, fmt.Errorf("decoding user preference: value %w", errMissing))
		return
	}
	ts, err := u.Timestamp.Time()
	if err != nil {
		p.fail(pos, fmt.Errorf("decoding user preference: %w", err))
		return
	}
	pref := Preference{
		Position:      pos,
		WABAID:        sc.wabaID,
		PhoneNumberID: sc.metadata.PhoneNumberID,
		WaID:          u.WaID,
		UserID:        u.UserID,
		Category:      u.Category,
		Value:         u.Value,
		Detail:        u.Detail,
		Timestamp:     ts,
		Raw:           raw,
	}
	if c := matchContact(sc.contacts, pref.WaID, pref.UserID); c != nil {
		pref.WaID = firstNonEmpty(pref.WaID, c.WaID)
		pref.UserID = firstNonEmpty(pref.UserID, c.UserID)
	}
	if pref.WaID == "" && pref.UserID == "" {
		p.fail(pos, fmt.Errorf("decoding user preference: user (wa_id, user_id) %w", errMissing))
		return
	}
	p.batch.Preferences = append(p.batch.Preferences, pref)
}

// object decodes raw as a JSON object; null or absent is an error.
func object(raw json.RawMessage) (map[string]json.RawMessage, error) {
	if len(raw) == 0 || isNull(raw) {
		return nil, fmt.Errorf("object %w", errMissing)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// stringMember returns obj[key] as a string; absent or null gives "".
func stringMember(obj map[string]json.RawMessage, key string) (string, error) {
	raw, ok := obj[key]
	if !ok || isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", err
	}
	return s, nil
}

// listMember returns the elements of the list obj[key]; absent or null gives
// none.
func listMember(obj map[string]json.RawMessage, key string) ([]json.RawMessage, error) {
	raw, ok := obj[key]
	if !ok || isNull(raw) {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	return items, nil
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// truncate shortens s to at most n bytes for an error message, on a rune
// boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
