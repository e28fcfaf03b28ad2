package whatsapp

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// webhookFiles lists the webhook payloads under testdata (not their goldens).
func webhookFiles(tb testing.TB) []string {
	tb.Helper()
	all, err := filepath.Glob(filepath.Join("testdata", "webhooks", "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var files []string
	for _, f := range all {
		if !strings.HasSuffix(f, ".golden.json") {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		tb.Fatal("no webhook payloads under testdata/webhooks")
	}
	return files
}

// parseResult is the golden form of one Parse call.
type parseResult struct {
	Batch      *Batch   `json:"batch,omitempty"`
	ItemErrors []string `json:"item_errors,omitempty"`
	Error      string   `json:"error,omitempty"`
}

func TestParseGolden(t *testing.T) {
	t.Parallel()
	for _, file := range webhookFiles(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			batch, itemErrs, err := Parse(body)
			var res parseResult
			if err != nil {
				res.Error = err.Error()
			} else {
				res.Batch = &batch
			}
			for _, ie := range itemErrs {
				res.ItemErrors = append(res.ItemErrors, ie.Error())
			}
			checkGolden(t, strings.TrimSuffix(file, ".json")+".golden.json", marshalGolden(t, res))
		})
	}
}

// parseFile parses a payload under testdata/webhooks, failing on an envelope
// error.
func parseFile(t *testing.T, name string) (Batch, []ItemError) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "webhooks", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	b, ie, err := Parse(body)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return b, ie
}

// TestParseShapes states, per payload, what a user of the batch relies on,
// independently of the golden files.
func TestParseShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file  string
		check func(t *testing.T, b Batch, ie []ItemError)
	}{
		{"text", func(t *testing.T, b Batch, ie []ItemError) {
			m := only(t, b.Messages)
			want := Inbound{PhoneNumberID: "123456789012345", DisplayPhone: "908502220000", WaID: "905321234567",
				ProfileName: "Ayşe Yılmaz", Type: TypeText, Text: "Merhaba, kredi kartımın son ödeme tarihini öğrenebilir miyim?"}
			eq(t, "phone number id", m.PhoneNumberID, want.PhoneNumberID)
			eq(t, "display phone", m.DisplayPhone, want.DisplayPhone)
			eq(t, "wa_id", m.WaID, want.WaID)
			eq(t, "profile name (unescaped)", m.ProfileName, want.ProfileName)
			eq(t, "text (unescaped)", m.Text, want.Text)
			eq(t, "wabaid", m.WABAID, "109876543210987")
			if !m.Timestamp.Equal(time.Unix(1764074400, 0)) {
				t.Errorf("timestamp = %v", m.Timestamp)
			}
			if !strings.Contains(string(m.Raw), `\u00f6deme`) {
				t.Errorf("raw is not the item as sent: %s", m.Raw)
			}
		}},
		{"text_context_reply", func(t *testing.T, b Batch, ie []ItemError) {
			m := only(t, b.Messages)
			if m.Context == nil || m.Context.ID != "wamid.HBgMOTA1MzIxMjM0NTY3FQIAERgSMkI0QzlEN0FBMEMxRjJFMzQ1AA==" || m.Context.From != "908502220000" {
				t.Errorf("context = %+v", m.Context)
			}
		}},
		{"text_forwarded", func(t *testing.T, b Batch, ie []ItemError) {
			m := only(t, b.Messages)
			if m.Context == nil || !m.Context.Forwarded || m.Context.FrequentlyForwarded {
				t.Errorf("context = %+v", m.Context)
			}
		}},
		{"interactive_button_reply", func(t *testing.T, b Batch, ie []ItemError) {
			m := only(t, b.Messages)
			eq(t, "subtype", m.Subtype, "button_reply")
			eq(t, "reply id", m.ReplyID, "card_block_confirm")
			eq(t, "text", m.Text, "Kartı kapat")
		}},
		{"interactive_list_reply", func(t *testing.T, b Batch, ie []ItemError) {
			m := only(t, b.Messages)
			eq(t, "subtype", m.Subtype, "list_reply")
			eq(t, "reply id", m.ReplyID, "appt_2025-11-27_1030")
			eq(t, "text", m.Text, "27 Kasım 10:30")
		}},
		{"template_button", func(t *testing.T, b Batch, ie []ItemError) {
			m := only(t, b.Messages)
			eq(t, "type", m.Type, TypeButton)
			eq(t, "reply id", m.ReplyID, "STOP_PROMOTIONS")
			eq(t, "text", m.Text, "Kampanyaları durdur")
		}},
		{"image_caption", func(t *testing.T, b Batch, ie []ItemError) {
			m := only(t, b.Messages)
			if m.Media == nil || m.Media.ID != "1476329093812367" || m.Media.MimeType != "image/jpeg" {
				t.Fatalf("media = %+v", m.Media)
			}
			eq(t, "text is the caption", m.Text, m.Media.Caption)
		}},
		{"video", func(t *testing.T, b Batch, ie []ItemError) {
			m := only(t, b.Messages)
			if m.Media == nil || m.Media.MimeType != "video/mp4" || m.Text != "" {
				t.Errorf("media = %+v, text %q", m.Media, m.Text)
			}
		}},
		{"audio_voice", func(t *testing.T, b Batch, ie []ItemError) {
			m := only(t, b.Messages)
			if m.Media == nil || !m.Media.Voice {
				t.Errorf("media = %+v, want a voice note", m.Media)
			}
		}},
		{"document_filename", func(t *testing.T, b Batch, ie []ItemError) {
			m := only(t, b.Messages)
			if m.Media == nil || m.Media.Filename != "dekont_2025-11-24.pdf" || m.Media.Caption == "" {
				t.Errorf("media = %+v", m.Media)
			}
		}},
		{"sticker", func(t *testing.T, b Batch, ie []ItemError) {
			m := only(t, b.Messages)
			if m.Type != TypeSticker || m.Media == nil || m.Media.MimeType != "image/webp" {
				t.Errorf("message = %+v", m)
			}
		}},
		{"location", func(t *testing.T, b Batch, ie []ItemError) {
			m := only(t, b.Messages)
			if m.Location == nil || m.Location.Latitude != 41.0677 || m.Location.Longitude != 29.0145 {
				t.Fatalf("location = %+v", m.Location)
			}
			eq(t, "text", m.Text, "Zorlu Center, Levazım, Koru Sk. No:2, 34340 Beşiktaş/İstanbul")
		}},
		{"contacts", func(t *testing.T, b Batch, ie []ItemError) {
			m := only(t, b.Messages)
			eq(t, "summary", m.Text, "Mustafa Şahin (+90 532 765 43 21); Dr. Ayşe Demir")
			if !json.Valid(m.Contacts) || !strings.Contains(string(m.Contacts), "ayse.demir@example.com") {
				t.Errorf("contacts raw = %s", m.Contacts)
			}
		}},
		{"reaction", func(t *testing.T, b Batch, ie []ItemError) {
			m := only(t, b.Messages)
			eq(t, "text", m.Text, "👍")
			if m.Reaction == nil || m.Reaction.MessageID == "" {
				t.Errorf("reaction = %+v", m.Reaction)
			}
		}},
		{"unsupported", func(t *testing.T, b Batch, ie []ItemError) {
			m := only(t, b.Messages)
			eq(t, "text", m.Text, UnsupportedText)
			if len(m.Errors) != 1 || m.Errors[0].Code != 131051 || m.Errors[0].Details == "" {
				t.Errorf("errors = %+v", m.Errors)
			}
		}},
		{"referral_ctwa", func(t *testing.T, b Batch, ie []ItemError) {
			m := only(t, b.Messages)
			if m.Referral == nil || m.Referral.SourceType != "ad" || m.Referral.CTWAClickID == "" || m.Referral.MediaType != "image" {
				t.Errorf("referral = %+v", m.Referral)
			}
		}},
		{"identity_user_id_only", func(t *testing.T, b Batch, ie []ItemError) {
			m := only(t, b.Messages)
			eq(t, "wa_id", m.WaID, "")
			eq(t, "user_id", m.UserID, "TR.1502576394655843")
			eq(t, "profile name", m.ProfileName, "Zeynep K.")
			eq(t, "username", m.Username, "zeynep.k")
		}},
		{"status_sent", func(t *testing.T, b Batch, ie []ItemError) {
			s := only(t, b.Statuses)
			eq(t, "status", s.Status, StatusSent)
			eq(t, "biz opaque", s.BizOpaque, "outbox:01JDA7Q9K3M2X8N5V4B6C1Z0YT")
			if s.Conversation == nil || s.Conversation.OriginType != "service" || !s.Conversation.Expiration.Equal(time.Unix(1764160860, 0)) {
				t.Errorf("conversation = %+v", s.Conversation)
			}
			if s.Pricing == nil || s.Pricing.Billable == nil || *s.Pricing.Billable || s.Pricing.PricingModel != "PMP" {
				t.Errorf("pricing = %+v", s.Pricing)
			}
		}},
		{"status_delivered", func(t *testing.T, b Batch, ie []ItemError) {
			s := only(t, b.Statuses)
			if s.Status != StatusDelivered || s.Conversation != nil || s.Pricing == nil {
				t.Errorf("status = %+v", s)
			}
		}},
		{"status_read", func(t *testing.T, b Batch, ie []ItemError) {
			s := only(t, b.Statuses)
			eq(t, "recipient user id", s.RecipientUserID, "TR.8871203349917265")
			if s.Pricing == nil || s.Pricing.Category != "marketing" || !*s.Pricing.Billable {
				t.Errorf("pricing = %+v", s.Pricing)
			}
		}},
		{"status_failed", func(t *testing.T, b Batch, ie []ItemError) {
			s := only(t, b.Statuses)
			if s.Status != StatusFailed || len(s.Errors) != 1 || s.Errors[0].Code != 131047 || s.Errors[0].Href == "" {
				t.Errorf("status = %+v", s)
			}
		}},
		{"batch_mixed", func(t *testing.T, b Batch, ie []ItemError) {
			if len(b.Messages) != 4 || len(b.Statuses) != 2 || len(ie) != 0 {
				t.Fatalf("got %d messages, %d statuses, %v", len(b.Messages), len(b.Statuses), ie)
			}
			eq(t, "second sender's name", b.Messages[1].ProfileName, "Burak Çelik")
			eq(t, "second sender's user id (from contacts)", b.Messages[1].UserID, "TR.7730019928374651")
			eq(t, "other entry's number", b.Messages[3].PhoneNumberID, "323456789012345")
			eq(t, "other entry's sender", b.Messages[3].ProfileName, "Emma Wilson")
			if c := b.Messages[1].Context; c == nil || !c.FrequentlyForwarded {
				t.Errorf("context = %+v", c)
			}
			eq(t, "position", b.Statuses[1].Position.String(), "entry[0].changes[1].value.statuses[1]")
		}},
		{"batch_one_malformed", func(t *testing.T, b Batch, ie []ItemError) {
			if len(b.Messages) != 2 || len(ie) != 1 {
				t.Fatalf("got %d messages and %d item errors, want 2 and 1", len(b.Messages), len(ie))
			}
			eq(t, "bad item", ie[0].Position.String(), "entry[0].changes[0].value.messages[1]")
			eq(t, "after the bad item", b.Messages[1].Text, "Sonuçlar için hangi şubeye gitmeliyim?")
			eq(t, "after the bad item's name", b.Messages[1].ProfileName, "Hatice Koç")
		}},
		{"value_errors", func(t *testing.T, b Batch, ie []ItemError) {
			e := only(t, b.Errors)
			if e.Code != 131000 || e.PhoneNumberID != "323456789012345" || e.Details == "" {
				t.Errorf("error = %+v", e)
			}
		}},
		{"user_preferences_stop", func(t *testing.T, b Batch, ie []ItemError) {
			p := only(t, b.Preferences)
			if p.Value != PreferenceStop || p.Category != "marketing_messages" || p.WaID != "905427778899" || !p.Timestamp.Equal(time.Unix(1764162100, 0)) {
				t.Errorf("preference = %+v", p)
			}
		}},
		{"user_preferences_resume", func(t *testing.T, b Batch, ie []ItemError) {
			p := only(t, b.Preferences)
			if p.Value != PreferenceResume || p.UserID != "TR.8871203349917265" {
				t.Errorf("preference = %+v", p)
			}
		}},
		{"unknown_type", func(t *testing.T, b Batch, ie []ItemError) {
			m := only(t, b.Messages)
			if m.Type != "poll_vote" || m.Text != "" || !strings.Contains(string(m.Raw), "Hafta sonu teslimat") {
				t.Errorf("message = %+v", m)
			}
		}},
		{"system_number_change", func(t *testing.T, b Batch, ie []ItemError) {
			m := only(t, b.Messages)
			eq(t, "subtype", m.Subtype, "user_changed_number")
			eq(t, "wa_id", m.WaID, "905321234567")
		}},
		{"unknown_field", func(t *testing.T, b Batch, ie []ItemError) {
			c := only(t, b.Other)
			if c.Field != "message_template_status_update" || !strings.Contains(string(c.Value), "kargo_yolda") {
				t.Errorf("change = %+v", c)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			b, ie := parseFile(t, tt.file)
			if tt.file != "batch_one_malformed" && len(ie) > 0 {
				t.Fatalf("item errors: %v", ie)
			}
			tt.check(t, b, ie)
		})
	}
}

func only[T any](t *testing.T, items []T) T {
	t.Helper()
	if len(items) != 1 {
		t.Fatalf("got %d items, want 1", len(items))
	}
	return items[0]
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestParseEnvelopeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want error
	}{
		{"empty", ``, ErrMalformedPayload},
		{"not json", `<html>502 Bad Gateway</html>`, ErrMalformedPayload},
		{"null", `null`, ErrMalformedPayload},
		{"array", `[{"object":"whatsapp_business_account"}]`, ErrMalformedPayload},
		{"no object", `{"entry":[]}`, ErrUnexpectedObject},
		{"object not a string", `{"object":1,"entry":[]}`, ErrUnexpectedObject},
		{"messenger", `{"object":"page","entry":[]}`, ErrUnexpectedObject},
		{"entry not a list", `{"object":"whatsapp_business_account","entry":{"id":"1"}}`, ErrMalformedPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, ie, err := Parse([]byte(tt.body))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if b.Len() != 0 || len(ie) != 0 {
				t.Errorf("got %d items and %d item errors with an envelope error", b.Len(), len(ie))
			}
		})
	}
}

// TestParseItemErrors checks that each malformed part costs only itself.
func TestParseItemErrors(t *testing.T) {
	t.Parallel()
	const meta = `"metadata":{"display_phone_number":"908502220000","phone_number_id":"123456789012345"}`
	const good = `{"from":"905321234567","id":"wamid.GOOD","timestamp":"1764074400","type":"text","text":{"body":"Merhaba"}}`
	wrap := func(changes string) string {
		return `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[` + changes + `]}]}`
	}
	msgs := func(items string) string {
		return `{"field":"messages","value":{` + meta + `,"messages":[` + items + `]}}`
	}
	tests := []struct {
		name     string
		body     string
		messages int
		errAt    []string
		errText  string
	}{
		{"text not an object", wrap(msgs(`{"from":"1","id":"w","timestamp":"1","type":"text","text":"x"},` + good)), 1,
			[]string{"entry[0].changes[0].value.messages[0]"}, "decoding message"},
		{"no id", wrap(msgs(`{"from":"1","timestamp":"1","type":"text"},` + good)), 1,
			[]string{"entry[0].changes[0].value.messages[0]"}, "id missing"},
		{"no sender", wrap(msgs(`{"id":"w","timestamp":"1","type":"text"},` + good)), 1,
			[]string{"entry[0].changes[0].value.messages[0]"}, "sender (from, user_id) missing"},
		{"timestamp in words", wrap(msgs(good + `,{"from":"1","id":"w","timestamp":"dün","type":"text"}`)), 1,
			[]string{"entry[0].changes[0].value.messages[1]"}, "not an integer"},
		{"timestamp beyond year 9999", wrap(msgs(`{"from":"1","id":"w","timestamp":"999999999999","type":"text"},` + good)), 1,
			[]string{"entry[0].changes[0].value.messages[0]"}, "out of range"},
		{"numeric timestamp accepted", wrap(msgs(`{"from":"1","id":"w","timestamp":1764074400,"type":"text"}`)), 1, nil, ""},
		{"null message", wrap(msgs(`null,` + good)), 1,
			[]string{"entry[0].changes[0].value.messages[0]"}, "id missing"},
		{"messages not a list", wrap(`{"field":"messages","value":{` + meta + `,"messages":{}}},` + msgs(good)), 1,
			[]string{"entry[0].changes[0].value.messages"}, "decoding messages"},
		{"change without phone number id", wrap(`{"field":"messages","value":{"messages":[` + good + `]}},` + msgs(good)), 1,
			[]string{"entry[0].changes[0]"}, "phone_number_id missing"},
		{"value not an object", wrap(`{"field":"messages","value":"x"},` + msgs(good)), 1,
			[]string{"entry[0].changes[0]"}, "decoding value"},
		{"bad contact keeps the message", wrap(`{"field":"messages","value":{` + meta + `,"contacts":[1],"messages":[` + good + `]}}`), 1,
			[]string{"entry[0].changes[0].value.contacts[0]"}, "decoding contact"},
		{"bad status", wrap(`{"field":"messages","value":{` + meta + `,"statuses":[{"id":"w"},{"id":"w","status":"read","timestamp":"1"}]}}`), 0,
			[]string{"entry[0].changes[0].value.statuses[0]"}, "id or status missing"},
		{"bad entry", `{"object":"whatsapp_business_account","entry":[7,{"id":"2","changes":[` + msgs(good) + `]}]}`, 1,
			[]string{"entry[0]"}, "decoding entry"},
		{"changes not a list", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":"x"},{"id":"2","changes":[` + msgs(good) + `]}]}`, 1,
			[]string{"entry[0]"}, "decoding changes"},
		{"preference without value", wrap(`{"field":"user_preferences","value":{` + meta + `,"user_preferences":[{"wa_id":"9","category":"marketing_messages"}]}}`), 0,
			[]string{"entry[0].changes[0].value.user_preferences[0]"}, "value missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, ie, err := Parse([]byte(tt.body))
			if err != nil {
				t.Fatalf("envelope error: %v", err)
			}
			if len(b.Messages) != tt.messages {
				t.Errorf("got %d messages, want %d", len(b.Messages), tt.messages)
			}
			var at []string
			for _, e := range ie {
				at = append(at, e.Position.String())
				if !strings.Contains(e.Error(), tt.errText) {
					t.Errorf("error %q does not say %q", e.Error(), tt.errText)
				}
			}
			if strings.Join(at, " ") != strings.Join(tt.errAt, " ") {
				t.Errorf("item errors at %v, want %v", at, tt.errAt)
			}
		})
	}
}

func TestParseResultsDoNotAliasBody(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile(filepath.Join("testdata", "webhooks", "text.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	raw := string(b.Messages[0].Raw)
	for i := range body {
		body[i] = 'x'
	}
	if string(b.Messages[0].Raw) != raw {
		t.Error("Raw changed when the body buffer was reused")
	}
}

func TestAdvances(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, to string
		want     bool
	}{
		{"", StatusSent, true},
		{StatusSent, StatusDelivered, true},
		{StatusDelivered, StatusRead, true},
		{StatusSent, StatusRead, true},
		{StatusRead, StatusDelivered, false},
		{StatusDelivered, StatusSent, false},
		{StatusRead, StatusRead, false},
		{StatusRead, StatusPlayed, true},
		{StatusRead, StatusFailed, true},
		{StatusFailed, StatusRead, false},
		{StatusFailed, StatusFailed, false},
		{StatusSent, "deleted", false},
	}
	for _, tt := range tests {
		if got := Advances(tt.from, tt.to); got != tt.want {
			t.Errorf("Advances(%q, %q) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestPositionContains(t *testing.T) {
	t.Parallel()
	item := itemPos(1, 2, ListMessages, 3)
	tests := []struct {
		p    Position
		want bool
	}{
		{entryPos(1), true},
		{entryPos(0), false},
		{changePos(1, 2), true},
		{changePos(1, 1), false},
		{listPos(1, 2, ListMessages), true},
		{listPos(1, 2, ListStatuses), false},
		{item, true},
		{itemPos(1, 2, ListMessages, 4), false},
	}
	for _, tt := range tests {
		if got := tt.p.Contains(item); got != tt.want {
			t.Errorf("%s contains %s = %v, want %v", tt.p, item, got, tt.want)
		}
	}
}
