package privacy

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// Generators of valid numbers, the way the issuers make them.

func genTCKN(r *rand.Rand) string {
	d := make([]int, 11)
	d[0] = 1 + r.IntN(9)
	for i := 1; i < 9; i++ {
		d[i] = r.IntN(10)
	}
	odd := d[0] + d[2] + d[4] + d[6] + d[8]
	even := d[1] + d[3] + d[5] + d[7]
	d[9] = ((odd*7-even)%10 + 10) % 10
	sum := 0
	for _, v := range d[:10] {
		sum += v
	}
	d[10] = sum % 10
	var b strings.Builder
	for _, v := range d {
		b.WriteByte(byte('0' + v))
	}
	return b.String()
}

func genIBAN(r *rand.Rand) string {
	account := fmt.Sprintf("%05d0%016d", r.IntN(100000), r.Int64N(1e16))
	rem := 0
	for _, c := range account + "TR00" {
		if c >= 'A' {
			rem = (rem*100 + int(c-'A'+10)) % 97
		} else {
			rem = (rem*10 + int(c-'0')) % 97
		}
	}
	return fmt.Sprintf("TR%02d%s", 98-rem, account)
}

func genCard(r *rand.Rand) string {
	d := []byte(fmt.Sprintf("4%014d", r.Int64N(1e14))) // 15 digits of a 16-digit Visa
	sum := 0
	for i := range d {
		v := int(d[len(d)-1-i] - '0')
		if i%2 == 0 {
			if v *= 2; v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return string(d) + string(rune('0'+(10-sum%10)%10))
}

// mutate changes one digit of s (at a position past skip) to another.
func mutate(r *rand.Rand, s string, skip int) string {
	b := []byte(s)
	for {
		i := skip + r.IntN(len(b)-skip)
		if b[i] < '0' || b[i] > '9' {
			continue
		}
		old := b[i]
		for b[i] == old {
			b[i] = byte('0' + r.IntN(10))
		}
		if i == 0 && b[0] == '0' { // a TCKN's first digit is never 0: keep the mutation in range
			b[0] = old
			continue
		}
		return string(b)
	}
}

// Every generated number is valid; every single-digit change of one is
// not (the check digits catch every such error).
func TestValidatorsProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		tckn, iban, card := genTCKN(r), genIBAN(r), genCard(r)
		if !ValidTCKN(tckn) || !ValidIBAN(iban) || !ValidCard(card) {
			t.Fatalf("generated valid numbers refused: %s %s %s", tckn, iban, card)
		}
		if m := mutate(r, tckn, 0); ValidTCKN(m) {
			t.Fatalf("TCKN %s changed to %s still valid", tckn, m)
		}
		if m := mutate(r, iban, 2); ValidIBAN(m) {
			t.Fatalf("IBAN %s changed to %s still valid", iban, m)
		}
		if m := mutate(r, card, 0); ValidCard(m) {
			t.Fatalf("card %s changed to %s still valid", card, m)
		}
	}
	for _, s := range []string{"", "01234567890", "1234567890", "123456789012", "1234567890a"} {
		if ValidTCKN(s) {
			t.Errorf("ValidTCKN(%q)", s)
		}
	}
	// The standard's own example, with spaces, in lower case.
	if !ValidIBAN("gb82 west 1234 5698 7654 32") || ValidIBAN("TR12 0006 1005 1978 6457 8413 26 9") {
		t.Error("IBAN examples")
	}
	if !ValidCard("4111-1111-1111-1111") || ValidCard("4111 1111 1111") {
		t.Error("card examples")
	}
	if !ValidPhone("0532 123 45 67", "TR") || !ValidPhone("+44 20 7946 0958", "TR") || ValidPhone("0532 123", "TR") {
		t.Error("phone examples")
	}
}

// In a message, each kind is found where it is and nothing else is taken:
// order numbers, amounts and dates stay.
func TestFind(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	tckn, iban, card := genTCKN(r), genIBAN(r), genCard(r)
	spacedIBAN := iban[:4] + " " + iban[4:8] + " " + iban[8:12] + " " + iban[12:16] + " " + iban[16:20] + " " + iban[20:24] + " " + iban[24:]
	spacedCard := card[:4] + " " + card[4:8] + " " + card[8:12] + " " + card[12:]
	text := fmt.Sprintf("TC kimlik no %s, IBAN %s, kart %s, tel 0532 123 45 67, e-posta ayse.yilmaz@example.com.tr. "+
		"Sipariş SP-2026-0042, tutar 1.249,90 TL, 12.03.2026 tarihinde.", tckn, spacedIBAN, spacedCard)
	got := Find(text, Builtin("TR"))
	var kinds []string
	for _, m := range got {
		kinds = append(kinds, m.Kind+"="+m.Value)
	}
	want := []string{KindTCKN + "=" + tckn, KindIBAN + "=" + spacedIBAN, KindCard + "=" + spacedCard,
		KindPhone + "=0532 123 45 67", KindEmail + "=ayse.yilmaz@example.com.tr"}
	if strings.Join(kinds, " | ") != strings.Join(want, " | ") {
		t.Errorf("found\n  %s\nwant\n  %s", strings.Join(kinds, "\n  "), strings.Join(want, "\n  "))
	}
	// An 11-digit number failing the checks is no TCKN; a 16-digit one
	// failing Luhn is no card.
	if got := Find("no 12345678901 ve 4111 1111 1111 1112", Builtin("TR")); len(got) != 0 {
		t.Errorf("invalid numbers found: %+v", got)
	}
}

// Redacting gives one placeholder per value, the same for the same value
// however written; restoring gives the text back.
func TestVault(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	tckn := genTCKN(r)
	custom, err := Pattern("MUSTERI_NO", `\bM-[0-9]{6}\b`)
	if err != nil {
		t.Fatal(err)
	}
	ds := append(Builtin("TR"), custom)
	var v Vault
	text := "Kimlik " + tckn + ", müşteri M-123456, e-posta a@b.co ve yine " + tckn + "."
	red, found := v.Redact(text, ds)
	if want := "Kimlik [TCKN_1], müşteri [MUSTERI_NO_1], e-posta [EMAIL_1] ve yine [TCKN_1]."; red != want || len(found) != 4 {
		t.Errorf("redacted %q (%d found), want %q", red, len(found), want)
	}
	if strings.Contains(red, tckn) {
		t.Error("the TCKN is still there")
	}
	if back := v.Restore(red); back != text {
		t.Errorf("restored %q, want %q", back, text)
	}
	// A later turn: the same card written differently keeps its
	// placeholder; a new value gets the next number.
	card := genCard(r)
	red1, _ := v.Redact("kart "+card, ds)
	red2, _ := v.Redact("kart "+card[:4]+"-"+card[4:8]+"-"+card[8:12]+"-"+card[12:]+" ve e-posta c@d.co", ds)
	if red1 != "kart [CARD_1]" || red2 != "kart [CARD_1] ve e-posta [EMAIL_2]" {
		t.Errorf("later turns: %q, %q", red1, red2)
	}
	if got := v.Restore("[TCKN_9] bilinmiyor"); got != "[TCKN_9] bilinmiyor" {
		t.Errorf("an unknown placeholder became %q", got)
	}
	for _, bad := range [][2]string{{"musteri", `x`}, {"A B", `x`}, {"NO", `(`}} {
		if _, err := Pattern(bad[0], bad[1]); err == nil {
			t.Errorf("Pattern(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

// BenchmarkRedact is the cost a turn pays to keep personal data from the
// model and the logs: a typical message with a few values.
func BenchmarkRedact(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	text := fmt.Sprintf("Merhaba, TC kimlik numaram %s, kartım %s, telefonum 0532 123 45 67. "+
		"SP-2026-0042 numaralı siparişimin iadesini istiyorum, e-postam ayse@example.com.", genTCKN(r), genCard(r))
	ds := Builtin("TR")
	b.ReportAllocs()
	for b.Loop() {
		var v Vault
		v.Redact(text, ds)
	}
}
