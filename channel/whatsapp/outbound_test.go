package whatsapp

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sampleOutbound is one valid message of every kind, with realistic content.
func sampleOutbound() map[string]Outbound {
	return map[string]Outbound{
		"text": {To: "905321234567", BizOpaque: "outbox:01JDA7Q9K3M2X8N5V4B6C1Z0YT", Content: &Text{
			Body: "Kredi kartınızın son ödeme tarihi 5 Aralık. Güncel borcunuz: 3.482,50 TL.",
		}},
		"text_reply_preview": {To: "447700900123", ReplyTo: "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0FSRUZFUlJBTENUV0ExMjM0NTYA", Content: &Text{
			Body: "Yes, the offer is valid until 30 November: https://example.com/kampanya", PreviewURL: true,
		}},
		"buttons": {To: "905321234567", Content: &Buttons{
			Header: "Kart işlemi",
			Body:   "24 Kasım'daki 1.250 TL'lik işlemi siz mi yaptınız?",
			Footer: "Yanıt Bankası",
			Buttons: []Button{
				{ID: "txn_mine", Title: "Evet, bendim"},
				{ID: "txn_not_mine", Title: "Hayır, ben değilim"},
				{ID: "agent", Title: "Temsilciye bağlan"},
			},
		}},
		"list": {To: "905051112233", Content: &List{
			Header: "Randevu saatleri",
			Body:   "Dr. Ayşe Demir için uygun saatler aşağıda. Birini seçin.",
			Footer: "Kadıköy şubesi",
			Button: "Saat seç",
			Sections: []Section{
				{Title: "27 Kasım Perşembe", Rows: []Row{
					{ID: "appt_2025-11-27_1030", Title: "10:30", Description: "Dahiliye, 2. kat"},
					{ID: "appt_2025-11-27_1415", Title: "14:15"},
				}},
				{Title: "28 Kasım Cuma", Rows: []Row{
					{ID: "appt_2025-11-28_0900", Title: "09:00", Description: "Dahiliye, 2. kat"},
				}},
			},
		}},
		"template": {To: "905427778899", BizOpaque: "outbox:01JDB0C4W7R1S9T3U5V2X6Y8ZA", Content: &Template{
			Name: "kargo_yolda", Language: "tr",
			Components: []Component{
				{Type: ComponentHeader, Parameters: []Parameter{{Type: ParamImage, Media: &MediaRef{Link: "https://cdn.example.com/kargo.png"}}}},
				{Type: ComponentBody, Parameters: []Parameter{NamedTextParam("ad", "Can"), NamedTextParam("siparis_no", "TR-482913")}},
				{Type: ComponentButton, SubType: "quick_reply", Index: 0, Parameters: []Parameter{PayloadParam("TRACK_TR-482913")}},
				{Type: ComponentButton, SubType: "quick_reply", Index: 1, Parameters: []Parameter{PayloadParam("STOP_PROMOTIONS")}},
			},
		}},
		"image":             {To: "905427778899", Content: &Media{Kind: MediaImage, ID: "1476329093812367", Caption: "İade etiketiniz"}},
		"document":          {To: "905321234567", Content: &Media{Kind: MediaDocument, Link: "https://cdn.example.com/ekstre.pdf", Filename: "ekstre_kasim_2025.pdf", Caption: "Kasım ekstreniz"}},
		"audio":             {To: "905301234321", Content: &Media{Kind: MediaAudio, ID: "2093847561029384"}},
		"video":             {To: "905427778899", Content: &Media{Kind: MediaVideo, Link: "https://cdn.example.com/kurulum.mp4", Caption: "Kurulum videosu"}},
		"sticker":           {To: "905551230011", Content: &Media{Kind: MediaSticker, ID: "1029384756473829"}},
		"recipient_user_id": {Recipient: "TR.1502576394655843", Content: &Text{Body: "Hesap özetiniz hazır."}},
	}
}

// TestOutboundWireGolden pins the exact request body of every kind.
func TestOutboundWireGolden(t *testing.T) {
	t.Parallel()
	for name, msg := range sampleOutbound() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if err := msg.Validate(); err != nil {
				t.Fatalf("sample does not validate: %v", err)
			}
			body, err := json.Marshal(msg)
			if err != nil {
				t.Fatal(err)
			}
			var pretty any
			if err := json.Unmarshal(body, &pretty); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", "outbound", name+".golden.json"), marshalGolden(t, pretty))

			var wire map[string]any
			if err := json.Unmarshal(body, &wire); err != nil {
				t.Fatal(err)
			}
			if wire["messaging_product"] != "whatsapp" || wire["type"] != msg.Content.Type() || wire[msg.Content.Type()] == nil {
				t.Errorf("envelope wrong: %s", body)
			}
			if msg.To != "" && (wire["recipient_type"] != "individual" || wire["to"] != msg.To) {
				t.Errorf("addressing wrong: %s", body)
			}
		})
	}
}

func TestOutboundRoundTrip(t *testing.T) {
	t.Parallel()
	for name, msg := range sampleOutbound() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body, err := json.Marshal(msg)
			if err != nil {
				t.Fatal(err)
			}
			var back Outbound
			if err := json.Unmarshal(body, &back); err != nil {
				t.Fatalf("decoding %s: %v", body, err)
			}
			if !reflect.DeepEqual(back, msg) {
				t.Errorf("round trip changed the message:\n got %+v\nwant %+v", back, msg)
			}
		})
	}
}

func TestOutboundUnmarshalRejects(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"messaging_product":"whatsapp","to":"1","type":"location","location":{}}`,
		`{"messaging_product":"whatsapp","to":"1","type":"text"}`,
		`{"messaging_product":"whatsapp","to":"1","type":"interactive","interactive":{"type":"flow"}}`,
		`{"messaging_product":"whatsapp","to":"1","type":"interactive","interactive":{"type":"button","header":{"type":"image"}}}`,
		`{"messaging_product":"whatsapp","to":"1","type":"image"}`,
		`[]`,
	} {
		var o Outbound
		if err := json.Unmarshal([]byte(body), &o); err == nil {
			t.Errorf("decoded %s without error", body)
		}
	}
}

func TestMarshalWithoutContent(t *testing.T) {
	t.Parallel()
	if _, err := json.Marshal(Outbound{To: "905321234567"}); err == nil {
		t.Fatal("marshalled a message without content")
	}
}

func TestReadReceiptWire(t *testing.T) {
	t.Parallel()
	tests := []struct {
		r    ReadReceipt
		want string
	}{
		{ReadReceipt{MessageID: "wamid.A"}, `{"messaging_product":"whatsapp","status":"read","message_id":"wamid.A"}`},
		{ReadReceipt{MessageID: "wamid.A", Typing: true}, `{"messaging_product":"whatsapp","status":"read","message_id":"wamid.A","typing_indicator":{"type":"text"}}`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.r)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("got %s\nwant %s", got, tt.want)
		}
	}
	var le *LimitError
	if err := (ReadReceipt{}).Validate(); !errors.As(err, &le) || le.Field != "message_id" {
		t.Errorf("empty receipt: %v", err)
	}
}

// TestValidate checks every limit: each case breaks exactly one rule of a
// valid sample and names the field, the limit and the value.
func TestValidate(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("ş", n) } // 2 bytes a rune: limits count runes
	buttons := func(edit func(b *Buttons)) Outbound {
		m := sampleOutbound()["buttons"]
		b := *m.Content.(*Buttons)
		b.Buttons = append([]Button(nil), b.Buttons...)
		edit(&b)
		m.Content = &b
		return m
	}
	list := func(edit func(l *List)) Outbound {
		m := sampleOutbound()["list"]
		l := *m.Content.(*List)
		l.Sections = append([]Section(nil), l.Sections...)
		for i := range l.Sections {
			l.Sections[i].Rows = append([]Row(nil), l.Sections[i].Rows...)
		}
		edit(&l)
		m.Content = &l
		return m
	}
	tmpl := func(edit func(t *Template)) Outbound {
		m := sampleOutbound()["template"]
		tp := *m.Content.(*Template)
		tp.Components = append([]Component(nil), tp.Components...)
		for i := range tp.Components {
			tp.Components[i].Parameters = append([]Parameter(nil), tp.Components[i].Parameters...)
		}
		edit(&tp)
		m.Content = &tp
		return m
	}
	text := func(body string) Outbound { return Outbound{To: "905321234567", Content: &Text{Body: body}} }
	media := func(m Media) Outbound { return Outbound{To: "905321234567", Content: &m} }
	rows := func(n int, prefix string) []Row {
		rs := make([]Row, n)
		for i := range rs {
			rs[i] = Row{ID: prefix + strings.Repeat("x", i+1), Title: "Satır"}
		}
		return rs
	}

	tests := []struct {
		name  string
		msg   Outbound
		field string
		limit int
		got   int
	}{
		// Addressing.
		{"no recipient", Outbound{Content: &Text{Body: "Merhaba"}}, "to", 0, 0},
		{"to with letters", Outbound{To: "90532abc4567", Content: &Text{Body: "Merhaba"}}, "to", 0, 0},
		{"to too long", Outbound{To: "+9053212345678901", Content: &Text{Body: "Merhaba"}}, "to", 15, 16},
		{"recipient with space", Outbound{Recipient: "TR.15 02", Content: &Text{Body: "Merhaba"}}, "recipient", 0, 0},
		{"biz opaque too long", Outbound{To: "905321234567", BizOpaque: long(513), Content: &Text{Body: "Merhaba"}}, "biz_opaque_callback_data", 512, 513},
		{"blank reply-to", Outbound{To: "905321234567", ReplyTo: " ", Content: &Text{Body: "Merhaba"}}, "context.message_id", 0, 0},
		{"no content", Outbound{To: "905321234567"}, "type", 0, 0},

		// Text.
		{"text empty", text("  "), "text.body", 0, 0},
		{"text too long", text(long(4097)), "text.body", 4096, 4097},

		// Reply buttons.
		{"buttons body missing", buttons(func(b *Buttons) { b.Body = "" }), "interactive.body.text", 0, 0},
		{"buttons body too long", buttons(func(b *Buttons) { b.Body = long(1025) }), "interactive.body.text", 1024, 1025},
		{"buttons header too long", buttons(func(b *Buttons) { b.Header = long(61) }), "interactive.header.text", 60, 61},
		{"buttons footer too long", buttons(func(b *Buttons) { b.Footer = long(61) }), "interactive.footer.text", 60, 61},
		{"no buttons", buttons(func(b *Buttons) { b.Buttons = nil }), "interactive.action.buttons", 1, 0},
		{"four buttons", buttons(func(b *Buttons) { b.Buttons = append(b.Buttons, Button{ID: "x", Title: "Dört"}) }), "interactive.action.buttons", 3, 4},
		{"button title too long", buttons(func(b *Buttons) { b.Buttons[1].Title = "Hayır, kesinlikle ben değilim" }), "interactive.action.buttons[1].reply.title", 20, 29},
		{"button title empty", buttons(func(b *Buttons) { b.Buttons[2].Title = "" }), "interactive.action.buttons[2].reply.title", 0, 0},
		{"button id too long", buttons(func(b *Buttons) { b.Buttons[0].ID = long(257) }), "interactive.action.buttons[0].reply.id", 256, 257},
		{"button id empty", buttons(func(b *Buttons) { b.Buttons[0].ID = "" }), "interactive.action.buttons[0].reply.id", 0, 0},
		{"duplicate title", buttons(func(b *Buttons) { b.Buttons[2].Title = b.Buttons[0].Title }), "interactive.action.buttons[2].reply.title", 0, 0},
		{"duplicate id", buttons(func(b *Buttons) { b.Buttons[1].ID = b.Buttons[0].ID }), "interactive.action.buttons[1].reply.id", 0, 0},

		// Lists.
		{"list body missing", list(func(l *List) { l.Body = "" }), "interactive.body.text", 0, 0},
		{"list body too long", list(func(l *List) { l.Body = long(4097) }), "interactive.body.text", 4096, 4097},
		{"list header too long", list(func(l *List) { l.Header = long(61) }), "interactive.header.text", 60, 61},
		{"list footer too long", list(func(l *List) { l.Footer = long(61) }), "interactive.footer.text", 60, 61},
		{"list button missing", list(func(l *List) { l.Button = "" }), "interactive.action.button", 0, 0},
		{"list button too long", list(func(l *List) { l.Button = "Uygun saatleri göster" }), "interactive.action.button", 20, 21},
		{"no sections", list(func(l *List) { l.Sections = nil }), "interactive.action.sections", 1, 0},
		{"eleven sections", list(func(l *List) {
			l.Sections = make([]Section, 11)
			for i := range l.Sections {
				l.Sections[i] = Section{Title: "Bölüm", Rows: []Row{{ID: "r" + strings.Repeat("x", i), Title: "Satır"}}}
			}
		}), "interactive.action.sections", 10, 11},
		{"section title too long", list(func(l *List) { l.Sections[0].Title = "27 Kasım 2025 Perşembe sabah" }), "interactive.action.sections[0].title", 24, 28},
		{"section title missing with two sections", list(func(l *List) { l.Sections[1].Title = "" }), "interactive.action.sections[1].title", 0, 0},
		{"section without rows", list(func(l *List) { l.Sections[1].Rows = nil }), "interactive.action.sections[1].rows", 1, 0},
		{"eleven rows over sections", list(func(l *List) { l.Sections[0].Rows = rows(5, "a"); l.Sections[1].Rows = rows(6, "b") }), "interactive.action.sections", 10, 11},
		{"row id too long", list(func(l *List) { l.Sections[0].Rows[1].ID = long(201) }), "interactive.action.sections[0].rows[1].id", 200, 201},
		{"row title too long", list(func(l *List) { l.Sections[1].Rows[0].Title = "Sabah 09:00 — Dr. Ayşe Demir" }), "interactive.action.sections[1].rows[0].title", 24, 28},
		{"row description too long", list(func(l *List) { l.Sections[0].Rows[0].Description = long(73) }), "interactive.action.sections[0].rows[0].description", 72, 73},
		{"duplicate row id across sections", list(func(l *List) { l.Sections[1].Rows[0].ID = l.Sections[0].Rows[0].ID }), "interactive.action.sections[1].rows[0].id", 0, 0},

		// Templates.
		{"template name missing", tmpl(func(t *Template) { t.Name = "" }), "template.name", 0, 0},
		{"template name upper case", tmpl(func(t *Template) { t.Name = "Kargo_Yolda" }), "template.name", 0, 0},
		{"template language missing", tmpl(func(t *Template) { t.Language = "" }), "template.language.code", 0, 0},
		{"component type unknown", tmpl(func(t *Template) { t.Components[1].Type = "footer" }), "template.components[1].type", 0, 0},
		{"button without sub_type", tmpl(func(t *Template) { t.Components[2].SubType = "" }), "template.components[2].sub_type", 0, 0},
		{"button index 10", tmpl(func(t *Template) { t.Components[3].Index = 10 }), "template.components[3].index", 0, 0},
		{"duplicate button index", tmpl(func(t *Template) { t.Components[3].Index = 0 }), "template.components[3].index", 0, 0},
		{"text parameter empty", tmpl(func(t *Template) { t.Components[1].Parameters[0].Text = "" }), "template.components[1].parameters[0].text", 0, 0},
		{"text parameter with newline", tmpl(func(t *Template) { t.Components[1].Parameters[1].Text = "TR-482913\nTeşekkürler" }), "template.components[1].parameters[1].text", 0, 0},
		{"text parameter with five spaces", tmpl(func(t *Template) { t.Components[1].Parameters[1].Text = "TR     482913" }), "template.components[1].parameters[1].text", 0, 0},
		{"header text parameter too long", tmpl(func(t *Template) { t.Components[0].Parameters[0] = TextParam(long(61)) }), "template.components[0].parameters[0].text", 60, 61},
		{"image with id and link", tmpl(func(t *Template) {
			t.Components[0].Parameters[0].Media = &MediaRef{ID: "1", Link: "https://cdn.example.com/a.png"}
		}), "template.components[0].parameters[0].image", 0, 0},
		{"image without media", tmpl(func(t *Template) { t.Components[0].Parameters[0].Media = nil }), "template.components[0].parameters[0].image", 0, 0},
		{"image link not a URL", tmpl(func(t *Template) { t.Components[0].Parameters[0].Media = &MediaRef{Link: "kargo.png"} }), "template.components[0].parameters[0].image.link", 0, 0},
		{"image in body", tmpl(func(t *Template) {
			t.Components[1].Parameters = []Parameter{{Type: ParamImage, Media: &MediaRef{ID: "1"}}}
		}), "template.components[1].parameters[0].type", 0, 0},
		{"payload in body", tmpl(func(t *Template) { t.Components[1].Parameters = []Parameter{PayloadParam("X")} }), "template.components[1].parameters[0].type", 0, 0},
		{"payload empty", tmpl(func(t *Template) { t.Components[2].Parameters[0].Payload = "" }), "template.components[2].parameters[0].payload", 0, 0},
		{"unknown parameter type", tmpl(func(t *Template) { t.Components[1].Parameters[0].Type = "currency" }), "template.components[1].parameters[0].type", 0, 0},
		{"named and positional mixed", tmpl(func(t *Template) { t.Components[1].Parameters[1].Name = "" }), "template.components[1].parameters", 0, 0},
		{"duplicate parameter name", tmpl(func(t *Template) { t.Components[1].Parameters[1].Name = "ad" }), "template.components[1].parameters[1].parameter_name", 0, 0},
		{"sub_type on body", tmpl(func(t *Template) { t.Components[1].SubType = "url" }), "template.components[1].sub_type", 0, 0},

		// Media.
		{"media kind unknown", media(Media{Kind: "location", ID: "1"}), "type", 0, 0},
		{"media without id or link", media(Media{Kind: MediaImage}), "image", 0, 0},
		{"media with id and link", media(Media{Kind: MediaVideo, ID: "1", Link: "https://cdn.example.com/v.mp4"}), "video", 0, 0},
		{"media link ftp", media(Media{Kind: MediaDocument, Link: "ftp://cdn.example.com/a.pdf"}), "document.link", 0, 0},
		{"caption too long", media(Media{Kind: MediaImage, ID: "1", Caption: long(1025)}), "image.caption", 1024, 1025},
		{"caption on audio", media(Media{Kind: MediaAudio, ID: "1", Caption: "Sesli not"}), "audio.caption", 0, 0},
		{"caption on sticker", media(Media{Kind: MediaSticker, ID: "1", Caption: "😀"}), "sticker.caption", 0, 0},
		{"filename on image", media(Media{Kind: MediaImage, ID: "1", Filename: "a.jpg"}), "image.filename", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.msg.Validate()
			var le *LimitError
			if !errors.As(err, &le) {
				t.Fatalf("Validate = %v, want a *LimitError", err)
			}
			if le.Field != tt.field || le.Limit != tt.limit || le.Got != tt.got {
				t.Fatalf("LimitError{%s, %d, %d, %q}, want field %s limit %d got %d", le.Field, le.Limit, le.Got, le.Problem, tt.field, tt.limit, tt.got)
			}
			if !errors.Is(err, ErrInvalidMessage) || le.Problem == "" || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q: not ErrInvalidMessage, or no problem, or no field", err)
			}
		})
	}
}

// TestValidateAtLimits checks that values exactly at each limit pass: the
// bounds are inclusive and count characters, not bytes.
func TestValidateAtLimits(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("ğ", n) }
	rows := make([]Row, 10)
	for i := range rows {
		rows[i] = Row{ID: long(199) + string(rune('a'+i)), Title: long(24), Description: long(72)}
	}
	msgs := map[string]Outbound{
		"text": {To: "+905321234567", BizOpaque: long(512), Content: &Text{Body: long(4096)}},
		"buttons": {To: "905321234567", Content: &Buttons{Header: long(60), Body: long(1024), Footer: long(60), Buttons: []Button{
			{ID: long(255) + "a", Title: long(19) + "a"}, {ID: long(255) + "b", Title: long(19) + "b"}, {ID: long(255) + "c", Title: long(19) + "c"},
		}}},
		"list one untitled section": {To: "905321234567", Content: &List{Header: long(60), Body: long(4096), Footer: long(60), Button: long(20),
			Sections: []Section{{Rows: rows}}}},
		"caption":      {To: "905321234567", Content: &Media{Kind: MediaVideo, ID: "1", Caption: long(1024)}},
		"header param": {To: "905321234567", Content: &Template{Name: "hesap_ozeti", Language: "tr", Components: []Component{{Type: ComponentHeader, Parameters: []Parameter{TextParam(long(60))}}}}},
		"four spaces":  {To: "905321234567", Content: &Template{Name: "hesap_ozeti", Language: "tr", Components: []Component{{Type: ComponentBody, Parameters: []Parameter{TextParam("a    b")}}}}},
	}
	for name, m := range msgs {
		if err := m.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
