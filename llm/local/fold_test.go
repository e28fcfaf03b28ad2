package local

import "testing"

func TestFold(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"İPTAL", "iptal"},
		{"iptal", "iptal"},
		{"IPTAL", "iptal"},
		{"ıptal", "iptal"},
		{"Iptal", "iptal"},
		{"İptal etmek istiyorum!", "iptal etmek istiyorum"},
		{"Siparişim nerede?", "siparisim nerede"},
		{"ÇAĞRI MERKEZİ", "cagri merkezi"},
		{"Şöför ğüzel", "sofor guzel"},
		{"Kâr, hâlâ, îman, Ûmit", "kar hala iman umit"},
		{"Ödeme   iadesi...  ne zaman?", "odeme iadesi ne zaman"},
		{"  -- merhaba --  ", "merhaba"},
		{"Café crème brûlée, naïve señor, Straße, Æsir", "cafe creme brulee naive senor strasse aesir"},
		{"i\u0307ptal", "iptal"},          // decomposed İ lower-cased: i + combining dot
		{"sipari\u015f", "siparis"},       // ş
		{"sipari\u0073\u0327", "siparis"}, // s + combining cedilla
		{"what's my order #12345?", "what s my order 12345"},
		{"₺1.250,50 😀 ödeme", "1 250 50 odeme"},
		{"Привет МИР", "привет мир"},
		{"", ""},
		{"?!.", ""},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func BenchmarkFold(b *testing.B) {
	s := "Merhaba, dün verdiğim SP-2024-0001 numaralı siparişim hâlâ kargoya verilmedi; İPTAL edip iade alabilir miyim?"
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Fold(s)
	}
}
