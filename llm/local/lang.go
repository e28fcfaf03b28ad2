package local

import (
	"iter"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Languages DetectLanguage tells apart.
const (
	LangTurkish = "tr"
	LangEnglish = "en"
)

// DetectLanguage tells whether text is Turkish ("tr") or English ("en"), or
// returns "" with confidence 0 when it cannot tell: no letters ("12345",
// "👍"), only words both languages use ("ok", "alarm"), or evidence that
// cancels out exactly.
//
// It weighs evidence word by word:
//   - letters only Turkish has (ç ğ ı İ ö ş ü) and a suffix after an
//     apostrophe on a name or a number ("Ankara'da", "5'e") count for
//     Turkish; an English contraction ("don't", "I'm", "order's") for
//     English;
//   - frequent function words and customer-service words of each language
//     ("ve", "bir", "mi", "nasıl", "lütfen"; "the", "is", "my", "what",
//     "please"), Turkish ones matched after Fold so that text typed without
//     Turkish letters ("nasil", "siparisim") still counts;
//   - otherwise typical endings: Turkish inflections ("-iyor", "-medi",
//     "-ları", "-imiz", "-abilir") and English ones ("-ing", "-tion",
//     "-ness"), and letters and pairs Turkish words lack (q w x, "th", "sh",
//     "ck", "ee", "oo").
//
// Capitalised words inside a sentence are most often names (a film title in
// a Turkish request), so their word and ending evidence counts a third; the
// last word of a sentence counts double, because a Turkish sentence ends with
// its verb whatever English names it quotes ("The Lord of the Rings kitabını
// ekler misiniz?"). The language with more evidence wins; confidence is its
// margin over the total evidence plus one, so it grows with the length and
// agreement of the text: "hi" and "merhaba" give 0.8, "where is my order"
// 0.91, and a message mixing both languages less.
//
// DetectLanguage is deterministic, pure and safe for concurrent use. It reads
// at most the first 4 KiB of text.
func DetectLanguage(text string) (lang string, confidence float64) {
	if len(text) > maxDetectBytes {
		cut := maxDetectBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	var tr, en float64
	sentenceStart := true
	for w, end := range words(text) {
		t, e := wordEvidence(w, sentenceStart)
		if end {
			// The predicate closes a Turkish sentence, whatever names
			// came before it.
			t, e = t*wLastWord, e*wLastWord
		}
		tr += t
		en += e
		sentenceStart = end
	}
	switch total := tr + en; {
	case tr > en:
		return LangTurkish, (tr - en) / (total + 1)
	case en > tr:
		return LangEnglish, (en - tr) / (total + 1)
	default:
		return "", 0
	}
}

// maxDetectBytes caps the text DetectLanguage reads: a few sentences decide,
// and a whole document must not cost more than its first page.
const maxDetectBytes = 4096

// Evidence weights.
const (
	wTurkishLetter = 3.0 // a word with ç ğ ı İ ö ş ü
	wApostrophe    = 2.5 // "Ankara'da" / "don't"
	wNameFactor    = 1.0 / 3
	wLastWord      = 2.0 // the last word of a sentence
)

// words yields the words of text, runs of letters and digits that may hold
// apostrophes ("Cash'e", "don't"), and whether a sentence ends after each.
func words(text string) iter.Seq2[string, bool] {
	return func(yield func(string, bool) bool) {
		start := -1
		for i, r := range text {
			inWord := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
			if !inWord && isApostrophe(r) && start >= 0 {
				// Inside a word only when a letter follows.
				next, _ := utf8.DecodeRuneInString(text[i+utf8.RuneLen(r):])
				inWord = unicode.IsLetter(next)
			}
			switch {
			case inWord && start < 0:
				start = i
			case !inWord && start >= 0:
				if !yield(text[start:i], endsSentence(text[i:])) {
					return
				}
				start = -1
			}
		}
		if start >= 0 {
			yield(text[start:], true)
		}
	}
}

// endsSentence reports whether the separator at the start of rest ends a
// sentence: it is ., ! or ? (possibly after closing quotes) before a space
// or the end of the text.
func endsSentence(rest string) bool {
	for i, r := range rest {
		switch {
		case r == '.' || r == '!' || r == '?' || r == '…':
			next, _ := utf8.DecodeRuneInString(rest[i+utf8.RuneLen(r):])
			return next == utf8.RuneError || unicode.IsSpace(next) || next == '"' || next == ')'
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			return false
		case r == '\n':
			return true
		}
	}
	return true
}

func isApostrophe(r rune) bool { return r == '\'' || r == '’' || r == '`' }

// wordEvidence returns the Turkish and English evidence of one word.
func wordEvidence(w string, sentenceStart bool) (tr, en float64) {
	stem, suffix := w, ""
	if i := strings.IndexFunc(w, isApostrophe); i >= 0 {
		_, n := utf8.DecodeRuneInString(w[i:])
		stem, suffix = w[:i], w[i+n:]
	}
	if suffix != "" {
		t, e := apostropheEvidence(stem, suffix)
		tr += t
		en += e
	}
	ascii, hasTurkish, hasLetter := true, false, false
	for _, r := range stem {
		if r >= utf8.RuneSelf {
			ascii = false
			hasTurkish = hasTurkish || strings.ContainsRune("çğıöşüÇĞİÖŞÜ", r)
		}
		hasLetter = hasLetter || unicode.IsLetter(r)
	}
	if !hasLetter {
		return tr, en
	}
	if hasTurkish {
		// Turkish letters are decisive whatever the word: even a name
		// written with them is one a Turkish writer wrote.
		return tr + wTurkishLetter, en
	}
	factor := 1.0
	if !sentenceStart && isTitle(stem) {
		factor = wNameFactor
	}
	folded := Fold(stem)
	lower := strings.ToLower(stem)
	if ascii {
		if v, ok := englishWords[lower]; ok {
			return tr, en + v*factor
		}
	}
	if v, ok := turkishWords[folded]; ok {
		return tr + v*factor, en
	}
	t := turkishEnding(folded)
	var e float64
	if ascii {
		e = englishEnding(lower) + englishLetters(lower)
	}
	return tr + t*factor, en + e*factor
}

// apostropheEvidence weighs what follows an apostrophe: an English
// contraction or possessive, or a Turkish case suffix on a name or number.
func apostropheEvidence(stem, suffix string) (tr, en float64) {
	s := strings.ToLower(suffix)
	switch s {
	case "s", "t", "re", "ve", "ll", "d", "m":
		return 0, wApostrophe
	}
	first, _ := utf8.DecodeRuneInString(stem)
	sfirst, _ := utf8.DecodeRuneInString(suffix)
	// Turkish writes the suffix of a proper name or a number after an
	// apostrophe, in lower case: "İzmir'de", "Cash'e", "5'te". Irish names
	// (O'Brien) have a capital after it.
	if utf8.RuneCountInString(s) <= 6 && unicode.IsLower(sfirst) && (unicode.IsUpper(first) || unicode.IsDigit(first)) {
		return wApostrophe, 0
	}
	return 0, 0
}

// isTitle reports whether w starts with a capital and has a lower-case letter
// after it (a name; "ABC" and "abc" are not titles).
func isTitle(w string) bool {
	first, n := utf8.DecodeRuneInString(w)
	if !unicode.IsUpper(first) {
		return false
	}
	return strings.IndexFunc(w[n:], unicode.IsLower) >= 0
}

// turkishEnding weighs the Turkish inflection a folded word ends with, the
// longest that leaves a stem of at least two letters.
func turkishEnding(folded string) float64 {
	for n := min(len(folded)-2, maxTurkishEnding); n >= 2; n-- {
		if v, ok := turkishEndings[folded[len(folded)-n:]]; ok {
			return v
		}
	}
	return 0
}

// englishEnding weighs the English ending of a lower-case ASCII word.
func englishEnding(lower string) float64 {
	for n := min(len(lower)-2, maxEnglishEnding); n >= 2; n-- {
		if v, ok := englishEndings[lower[len(lower)-n:]]; ok {
			return v
		}
	}
	return 0
}

// englishLetters weighs letters and pairs native Turkish words never have.
func englishLetters(lower string) float64 {
	if strings.ContainsAny(lower, "qwx") {
		return 1
	}
	for _, p := range englishPairs {
		if strings.Contains(lower, p) {
			return 0.75
		}
	}
	return 0
}

var englishPairs = []string{"th", "sh", "ch", "ck", "ph", "gh", "ee", "oo", "ou", "ea"}

// turkishWords are frequent Turkish words, folded, with their weight. None
// folds to a word of englishWords.
var turkishWords = weights(map[float64]string{
	2: `ve bir bu su ne neden nasil nerede nereden nereye niye nicin hangi hangisi kac kaca kacta
		kim kime mi mu misin musun miyim miyiz misiniz musunuz midir mudur degil degilim var yok
		evet hayir tamam lutfen tesekkur tesekkurler tesekkurederim sagol sagolun merhaba selam
		selamlar gunaydin iyi cok daha gibi kadar sonra once simdi hala hic tum butun ben sen biz
		siz onlar beni bana sana size bize benim senin sizin bizim onun icin ile ama fakat veya ya
		de da ki olarak olan oldu olur ise eger yani cunku diye hem acaba zaman bugun yarin dun
		siparis siparisim siparisimi siparisimin kargo kargom kargomu kargoya iade urun urunu fatura
		odeme iptal degisim magaza magazaniz musteri hesap hesabim sifre ucret adres teslimat
		kampanya indirim sikayet yardim istiyorum isterim ediyorum ederim etmek yapmak yapabilir
		nedir saat saati dakika hafta ay yil sabah aksam gece yapilir olmaz olsun gelmedi geldi gelir
		gider et edin ediniz eder gonder bak bakar ekle bul ara ver sil yaz goster lazim gerek
		slm mrb tsk tmm tamamdir nbr bi`,
	1: `o en az ilk biraz hep sey seyi icinde uzerinde arasinda tarafindan sadece yine
		ayni baska diger bazi hepsi hicbir kendi burada orada nerde napim naber kolay`,
})

// englishWords are frequent English words, lower case, with their weight.
var englishWords = weights(map[float64]string{
	2: `the a an is are was were be been am do does did don doesn didn isn aren wasn can cannot
		could would should will won shall may might must have has had my your our their his
		its i you we they he she it me us them him what how where when why who whom which whose
		please pls plz thanks thx ty thank hi hello hey bye goodbye yes not u ur to of and or in
		on at for with from by about into this that these those there here want need get got give
		tell show find add send check change update delete stop call make let like just also any
		some every all no order orders delivery refund return returns account password payment
		invoice shipping cancel help item items package product tracking store open close hours
		today tomorrow morning evening night last`,
	1: `if but so than then up out over after before off again very more most much many only own
		same other such too now pm`,
})

// weights flattens a weight → words table into a word → weight map.
func weights(table map[float64]string) map[string]float64 {
	m := make(map[string]float64)
	for w, list := range table {
		for _, word := range strings.Fields(list) {
			m[word] = w
		}
	}
	return m
}

// turkishEndings are folded Turkish inflections. The longer, unambiguous
// ones weigh more than endings English words also have (-lar: "dollar").
var turkishEndings = weights(map[float64]string{
	1.5: `iyor iyorum iyoruz iyorsun iyorsunuz iyorlar iyordu uyor uyorum uyoruz uyorlar uyordu
		medi madi medim madim medin madin memis mamis misim mistir abilir ebilir abilirim
		ebilirim abiliriz ebiliriz abilirsiniz ebilirsiniz acak ecek acagim ecegim acaksiniz
		eceksiniz lari leri larin lerin larim lerim larimiz lerimiz lariniz leriniz larini lerini
		imiz iniz umuz unuz siniz sunuz niz nuz daki deki taki teki ndan nden ndaki ndeki mak
		mek mamak memek yorum yoruz yorlar ilir ulur alim elim ayim eyim sini sunu ini unu ina
		ine una yla yle dir dur tir tur misiniz musunuz mis mus sin`,
	1: `lar ler dan den tan ten nda nde nin nun yi yu ya ye im um ik uk iz uz si su mi mu di du ti tu`,
})

// englishEndings are English inflections and derivations.
var englishEndings = weights(map[float64]string{
	1.5:  `ing ings tion tions sion sions ness ment ments ful less able ible ous ious ly`,
	1:    `ed es ers`,
	0.75: `ss ll ng nd ms ts ds ls gs ps ys`,
})

// Lengths of the longest endings, bounding the ending scans.
var (
	maxTurkishEnding = longest(turkishEndings)
	maxEnglishEnding = longest(englishEndings)
)

func longest(m map[string]float64) int {
	n := 0
	for k := range m {
		n = max(n, len(k))
	}
	return n
}
