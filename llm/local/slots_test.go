package local

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// ref is Wednesday 25 November 2026, 10:00 in Istanbul.
var ref = time.Date(2026, 11, 25, 10, 0, 0, 0, time.FixedZone("TRT", 3*60*60))

// render lists slots as "name=value@text[start:end]" for compact comparisons.
func render(text string, slots []Slot) string {
	parts := make([]string, len(slots))
	for i, s := range slots {
		parts[i] = fmt.Sprintf("%s=%s@%q", s.Name, s.Value, text[s.Start:s.End])
	}
	return strings.Join(parts, " ")
}

func TestExtractSlots(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, locale, text, want string
	}{
		// Order numbers.
		{"hash order", "tr", "Siparişim #12345 nerede?", `order_id=12345@"12345"`},
		{"code order", "tr", "SP-2024-0001 numaralı siparişim gelmedi", `order_id=SP-2024-0001@"SP-2024-0001"`},
		{"lower-case code", "tr", "sp-2024-0001 ne durumda", `order_id=SP-2024-0001@"sp-2024-0001"`},
		{"sipariş no", "tr", "sipariş no 123456 ne zaman gelir", `order_id=123456@"123456"`},
		{"SİPARİŞ NUMARAM", "tr", "SİPARİŞ NUMARAM: 987654", `order_id=987654@"987654"`},
		{"order number", "en", "what is the status of order number 55555?", `order_id=55555@"55555"`},
		{"order #", "en", "Order #A12345 hasn't arrived", `order_id=A12345@"A12345"`},
		{"covid is no order", "en", "covid-19 rules", ``},

		// Dates, relative to Wednesday 2026-11-25.
		{"bugün", "tr", "Bugün kargoya verilir mi?", `date=2026-11-25@"Bugün"`},
		{"yarın with suffix", "tr", "yarına yetişir mi", `date=2026-11-26@"yarına"`},
		{"öbür gün", "tr", "öbür gün gelsin", `date=2026-11-27@"öbür gün"`},
		{"yarından sonra", "tr", "yarından sonra müsaitim", `date=2026-11-27@"yarından sonra"`},
		{"dün", "tr", "dün sipariş verdim", `date=2026-11-24@"dün"`},
		{"dünya is not a date", "tr", "dünya kupası", ``},
		{"tomorrow", "en", "Can it arrive tomorrow?", `date=2026-11-26@"tomorrow"`},
		{"day after tomorrow", "en", "the day after tomorrow works", `date=2026-11-27@"the day after tomorrow"`},
		{"cuma", "tr", "Cuma günü gelebilir misiniz", `date=2026-11-27@"Cuma"`},
		{"cumartesi is not cuma", "tr", "cumartesiye", `date=2026-11-28@"cumartesiye"`},
		{"today's weekday", "tr", "çarşamba", `date=2026-11-25@"çarşamba"`},
		{"pazartesi", "tr", "pazartesi arayın", `date=2026-11-30@"pazartesi"`},
		{"haftaya pazartesi", "tr", "haftaya pazartesi", `date=2026-11-30@"haftaya pazartesi"`},
		{"haftaya cuma", "tr", "haftaya cuma teslim", `date=2026-12-04@"haftaya cuma"`},
		{"next friday", "en", "next Friday please", `date=2026-12-04@"next Friday"`},
		{"pazarlama is not sunday", "tr", "pazarlama ekibi", ``},
		{"dotted date", "tr", "25.11.2026 tarihinde", `date=2026-11-25@"25.11.2026"`},
		{"iso date", "en", "on 2026-11-25", `date=2026-11-25@"2026-11-25"`},
		{"day first", "tr", "12/03/2026", `date=2026-03-12@"12/03/2026"`},
		{"month first en-US", "en-US", "12/03/2026", `date=2026-12-03@"12/03/2026"`},
		{"impossible day", "tr", "31.02.2026", ``},
		{"25 Kasım", "tr", "25 Kasım'da teslim", `date=2026-11-25@"25 Kasım'da"`},
		{"3 Ocak is next year", "tr", "3 ocakta", `date=2027-01-03@"3 ocakta"`},
		{"day month year", "tr", "5 Mart 2027", `date=2027-03-05@"5 Mart 2027"`},
		{"Nov 25", "en", "delivered Nov 25", `date=2026-11-25@"Nov 25"`},
		{"November 25th, 2027", "en", "November 25th, 2027", `date=2027-11-25@"November 25th, 2027"`},
		{"25th of December", "en", "the 25th of December", `date=2026-12-25@"25th of December"`},
		{"market is not march", "tr", "3 marketten aldım", ``},

		// Times.
		{"clock", "tr", "saat 14:30'da", `time=14:30@"saat 14:30'da"`},
		{"saat 3", "tr", "saat 3 gibi arayın", `time=03:00@"saat 3"`},
		{"saat buçuk", "tr", "saat 3 buçukta", `time=03:30@"saat 3 buçuk"`},
		{"saat dotted", "tr", "saat 9.45", `time=09:45@"saat 9.45"`},
		{"pm", "en", "call me at 3 pm", `time=15:00@"3 pm"`},
		{"clock pm", "en", "at 9:05pm", `time=21:05@"9:05pm"`},
		{"12 am", "en", "12am", `time=00:00@"12am"`},

		// Amounts.
		{"TL", "tr", "1.250,50 TL ödedim", `amount=1250.50 TRY@"1.250,50 TL"`},
		{"lira sign", "tr", "₺1250 iade", `amount=1250 TRY@"₺1250"`},
		{"dollar", "en", "it cost $12.50", `amount=12.50 USD@"$12.50"`},
		{"lira word", "tr", "100 lira eksik", `amount=100 TRY@"100 lira"`},
		{"liralık", "tr", "50 liralık kupon", `amount=50 TRY@"50 liralık"`},
		{"euro suffix", "tr", "20 euro'ya", `amount=20 EUR@"20 euro"`},
		{"comma decimal", "tr", "12,5 TL", `amount=12.50 TRY@"12,5 TL"`},
		{"english thousands", "en", "USD 1,250.50 refund", `amount=1250.50 USD@"USD 1,250.50"`},
		{"plain number is no amount", "tr", "3 adet", ``},

		// Phone numbers.
		{"mobile spaced", "tr", "numaram 0532 123 45 67", `phone=+905321234567@"0532 123 45 67"`},
		{"mobile +90", "tr", "+90 532 123 4567 arayın", `phone=+905321234567@"+90 532 123 4567"`},
		{"mobile compact", "tr", "05321234567", `phone=+905321234567@"05321234567"`},
		{"bare mobile", "tr", "5321234567", `phone=+905321234567@"5321234567"`},
		{"landline parens", "tr", "(0212) 555 12 34", `phone=+902125551234@"0212) 555 12 34"`},
		{"dashed", "tr", "0532-123-45-67", `phone=+905321234567@"0532-123-45-67"`},
		{"foreign", "en", "call +44 20 7946 0958", `phone=+442079460958@"+44 20 7946 0958"`},
		{"too long is no phone", "tr", "053212345678", ``},

		// E-mail.
		{"email", "tr", "Mail adresim Ali.Veli@Example.com.tr, yazın", `email=ali.veli@example.com.tr@"Ali.Veli@Example.com.tr"`},

		// Several at once, no overlaps.
		{
			"mixed", "tr",
			"Yarın saat 14:30'da 0532 123 45 67'den aradım, sipariş no 123456, tutar 1.250,50 TL",
			`date=2026-11-26@"Yarın" time=14:30@"saat 14:30'da" phone=+905321234567@"0532 123 45 67" ` +
				`order_id=123456@"123456" amount=1250.50 TRY@"1.250,50 TL"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := render(tt.text, ExtractSlots(tt.text, tt.locale, ref))
			if got != tt.want {
				t.Errorf("ExtractSlots(%q, %q)\n got %s\nwant %s", tt.text, tt.locale, got, tt.want)
			}
		})
	}
}

func TestSlotExtractorPatterns(t *testing.T) {
	t.Parallel()
	e, err := NewSlotExtractor(map[string][]Pattern{
		"track_cargo": {{Name: "cargo_code", Regex: `(?i)\bkargo\s+kodu?\s+([A-Z0-9]{8,})`}},
		"":            {{Name: "coupon", Regex: `\bKUPON-[0-9]{4}\b`}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, intent, text, want string
	}{
		{"intent pattern with a group", "track_cargo", "Kargo kodu YK12345678 yarın mı gelir", `cargo_code=YK12345678@"YK12345678" date=2026-11-26@"yarın"`},
		{"other intent ignores it", "refund", "Kargo kodu YK12345678", ``},
		{"global pattern, whole match", "refund", "KUPON-2026 ile", `coupon=KUPON-2026@"KUPON-2026"`},
		{"pattern wins an overlap", "track_cargo", "kargo kodu 05321234567", `cargo_code=05321234567@"05321234567"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := render(tt.text, e.Extract(tt.text, "tr", tt.intent, ref))
			if got != tt.want {
				t.Errorf("Extract(%q, %q)\n got %s\nwant %s", tt.text, tt.intent, got, tt.want)
			}
		})
	}
}

func TestNewSlotExtractorErrors(t *testing.T) {
	t.Parallel()
	for name, ps := range map[string]map[string][]Pattern{
		`compiling slot pattern "x" of intent "a"`: {"a": {{Name: "x", Regex: `(`}}},
		`empty name`: {"a": {{Regex: `x`}}},
	} {
		if _, err := NewSlotExtractor(ps); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("NewSlotExtractor(%v) = %v, want an error containing %q", ps, err, name)
		}
	}
}
