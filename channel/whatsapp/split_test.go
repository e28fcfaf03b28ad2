package whatsapp

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplitText(t *testing.T) {
	t.Parallel()
	const (
		p1 = "Kartınızı kaybettiyseniz hemen kapatmanız gerekir. Bunu mobil uygulamadan ya da bu sohbetten yapabilirsiniz."
		p2 = "Yeni kartınız 3 iş günü içinde adresinize gönderilir! Kargo ücreti alınmaz."
		p3 = "Başka bir sorunuz var mı?"
	)
	family := "👨\u200d👩\u200d👧\u200d👦" // one grapheme, seven runes
	tests := []struct {
		name string
		body string
		max  int
		want []string
	}{
		{"empty", "", 10, nil},
		{"white space only", " \n\t ", 10, nil},
		{"short text unchanged but trimmed", "  Merhaba!  ", 4096, []string{"Merhaba!"}},
		{"exactly max runes", "çğışöü", 6, []string{"çğışöü"}},
		{"default max", strings.Repeat("a", 4096), 0, []string{strings.Repeat("a", 4096)}},
		{"paragraph boundary first", p1 + "\n\n" + p2 + "\n\n" + p3, len([]rune(p1 + "\n\n" + p2)),
			[]string{p1 + "\n\n" + p2, p3}},
		{"paragraph beats a later sentence end", p1 + "\n\n" + p2, len([]rune(p1)) + 40,
			[]string{p1, p2}},
		{"sentence boundary when no paragraph", p1 + " " + p2, len([]rune(p1)) + 20,
			[]string{p1, p2}},
		{"question and exclamation marks", "Şifrenizi mi unuttunuz? Sorun değil! Yeni şifre SMS ile gelir.", 40,
			[]string{"Şifrenizi mi unuttunuz? Sorun değil!", "Yeni şifre SMS ile gelir."}},
		{"ellipsis", "Kontrol ediyorum… Siparişiniz yolda.", 20,
			[]string{"Kontrol ediyorum…", "Siparişiniz yolda."}},
		{"closing quote after the stop", `Müşteri "Kartım çalındı." dedi. Hemen kapattık.`, 34,
			[]string{`Müşteri "Kartım çalındı." dedi.`, "Hemen kapattık."}},
		{"closing bracket after the stop", "Kartınız kapatıldı (yeni kart yolda.) Başka bir isteğiniz var mı?", 40,
			[]string{"Kartınız kapatıldı (yeni kart yolda.)", "Başka bir isteğiniz var mı?"}},
		{"list number is not a sentence end", "Adımlar: 1. Uygulamayı açın 2. Kartlar menüsüne girin", 30,
			[]string{"Adımlar: 1. Uygulamayı açın 2.", "Kartlar menüsüne girin"}},
		{"line break before sentence", "Şube listesi:\n- Kadıköy. Pazartesi açık\n- Beşiktaş", 40,
			[]string{"Şube listesi:\n- Kadıköy. Pazartesi açık", "- Beşiktaş"}},
		{"white space when no sentence", "kargo takip numaranız aşağıdaki bağlantıda görünür", 20,
			[]string{"kargo takip", "numaranız aşağıdaki", "bağlantıda görünür"}},
		{"no-break space binds", "Tutar 1.250\u00a0TL olarak güncellendi", 16,
			[]string{"Tutar 1.250\u00a0TL", "olarak", "güncellendi"}},
		{"hard split of a long word", "Çekoslovakyalılaştıramadıklarımızdanmışsınızcasına", 20,
			[]string{"Çekoslovakyalılaştır", "amadıklarımızdanmışs", "ınızcasına"}},
		{"short word before a long link cuts at the space", "Link: https://example.com/" + strings.Repeat("x", 30), 20,
			[]string{"Link:", "https://example.com/", strings.Repeat("x", 30)[:20], strings.Repeat("x", 10)}},
		{"emoji ZWJ sequence is not split", "aaaaaaa" + family + "b", 10,
			[]string{"aaaaaaa", family + "b"}},
		{"flag pair is not split", "aaaaa🇹🇷🇹🇷", 6,
			[]string{"aaaaa", "🇹🇷🇹🇷"}},
		{"combining mark stays on its letter", "aaaaae\u0301e", 6,
			[]string{"aaaaa", "e\u0301e"}},
		{"grapheme longer than max falls back to runes", family, 3,
			[]string{"👨\u200d👩", "\u200d👧\u200d", "👦"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := SplitText(tt.body, tt.max)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("SplitText(%q, %d)\n got %q\nwant %q", tt.body, tt.max, got, tt.want)
			}
			checkSplit(t, tt.body, tt.max, got)
		})
	}
}

// TestSplitTextKeepsEmojiWhole is the ZWJ case in a realistic answer:
// whatever max, the family emoji is never cut when a boundary exists.
func TestSplitTextKeepsEmojiWhole(t *testing.T) {
	t.Parallel()
	family := "👨\u200d👩\u200d👧\u200d👦"
	body := strings.Repeat("Teşekkürler"+family, 20)
	for max := 8; max < 40; max++ {
		for _, part := range SplitText(body, max) {
			if strings.HasSuffix(part, "\u200d") || strings.HasPrefix(part, "\u200d") {
				t.Fatalf("max %d: part %q cuts a ZWJ sequence", max, part)
			}
		}
	}
}

// TestSplitTextProperties runs the invariants over random Turkish-like text.
func TestSplitTextProperties(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"kart", "ödeme", "şube", "İstanbul", "çağrı", "ğ", "ı", " ", " ", " ", "\n", "\n\n", ". ", "! ", "? ", "… ", "\u00a0", "👍", "🇹🇷", "e\u0301", "\u200d", "\"", ")", "1.", "\t"}
	for i := 0; i < 2000; i++ {
		var b strings.Builder
		for n := r.IntN(120); n > 0; n-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		max := 1 + r.IntN(40)
		checkSplit(t, b.String(), max, SplitText(b.String(), max))
	}
}

func FuzzSplitText(f *testing.F) {
	f.Add("Merhaba. Kartınız yolda!\n\nBaşka bir sorunuz var mı?", 12)
	f.Add("👨\u200d👩\u200d👧\u200d👦🇹🇷e\u0301", 2)
	f.Fuzz(func(t *testing.T, body string, max int) {
		if max < 1 || max > 5000 {
			return
		}
		checkSplit(t, body, max, SplitText(body, max))
	})
}

// checkSplit asserts what SplitText promises: parts within max runes, none
// empty or padded, and every non-space byte kept in order.
func checkSplit(t *testing.T, body string, max int, parts []string) {
	t.Helper()
	if max <= 0 {
		max = MaxTextLen
	}
	for i, p := range parts {
		if p == "" || strings.TrimFunc(p, isBreakSpace) != p {
			t.Fatalf("part %d %q is empty or padded", i, p)
		}
		if n := utf8.RuneCountInString(p); n > max {
			t.Fatalf("part %d has %d runes, max %d", i, n, max)
		}
	}
	// Compare bytes with break spaces removed, each part on its own: joining
	// parts first could fuse stray invalid bytes into a valid rune.
	var got strings.Builder
	for _, p := range parts {
		got.WriteString(squeeze(p))
	}
	if want := squeeze(body); got.String() != want {
		t.Fatalf("content changed:\n got %q\nwant %q", got.String(), want)
	}
	// Words survive whole unless a word alone exceeds max.
	longest := 0
	for _, w := range strings.FieldsFunc(body, isBreakSpace) {
		longest = max2(longest, utf8.RuneCountInString(w))
	}
	if longest <= max {
		want := strings.FieldsFunc(body, isBreakSpace)
		got := strings.FieldsFunc(strings.Join(parts, " "), isBreakSpace)
		if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("words changed:\n got %q\nwant %q", got, want)
		}
	}
}

// squeeze drops break spaces from s and keeps every other byte as is,
// invalid UTF-8 included.
func squeeze(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || !isBreakSpace(r) {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func max2(a, b int) int {
	if a > b {
		return a
	}
	return b
}
