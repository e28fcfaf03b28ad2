package local

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDetectLanguage(t *testing.T) {
	t.Parallel()
	turkish := []string{
		"merhaba",
		"Merhaba, iyi günler",
		"selam",
		"slm",
		"siparişim nerede",
		"Siparişim nerede?",
		"siparisim nerede",
		"kargom gelmedi",
		"Kargom hâlâ gelmedi, 3 gündür bekliyorum",
		"iade nasıl yapılır",
		"iade nasil yapilir",
		"teşekkürler",
		"tesekkurler",
		"sağol",
		"tamam",
		"evet",
		"hayır",
		"mağaza kaçta açılıyor",
		"Mağazanız pazar günü açık mı?",
		"siparişimi iptal etmek istiyorum",
		"ürün hasarlı geldi",
		"faturamı gönderir misiniz",
		"kargo ücreti ne kadar",
		"Kapıda ödeme var mı?",
		"şifremi unuttum",
		"müşteri temsilcisine bağlanmak istiyorum",
		"İADE ETMEK İSTİYORUM",
		"SİPARİŞİM NEREDE",
		"beden değişimi yapabilir miyim",
		"12345 numaralı siparişim ne durumda",
		"indirim kodu çalışmıyor",
		"adresimi değiştirmem lazım",
		"iPhone 15 stokta var mı",
		"Yarın İzmir'e teslim edilir mi?",
		"bugün kargoya verilir mi",
	}
	english := []string{
		"hi",
		"Hi!",
		"hello",
		"hey there",
		"thanks",
		"thank you",
		"thx",
		"yes",
		"no",
		"where is my order",
		"Where is my order?",
		"WHERE IS MY ORDER",
		"how do I return an item",
		"I want a refund",
		"cancel my order please",
		"my package hasn't arrived yet",
		"What time does the store open?",
		"Is the store open on Sunday?",
		"I forgot my password",
		"can I talk to a human",
		"the product arrived damaged",
		"How much is shipping?",
		"do you deliver to Izmir",
		"I'd like to change my delivery address",
		"the discount code isn't working",
		"can you send me the invoice",
		"order 12345 status",
		"my tracking number doesn't work",
		"I need help with my account",
		"Do you have the iPhone 15 in stock?",
		"please call me back",
		"stop",
		"good morning",
	}
	for _, tt := range []struct {
		want  string
		texts []string
	}{
		{LangTurkish, turkish},
		{LangEnglish, english},
	} {
		for _, text := range tt.texts {
			t.Run(tt.want+"/"+text, func(t *testing.T) {
				t.Parallel()
				got, conf := DetectLanguage(text)
				if got != tt.want {
					t.Errorf("DetectLanguage(%q) = %q (%.2f), want %q", text, got, conf, tt.want)
				}
				if conf <= 0 || conf > 1 {
					t.Errorf("DetectLanguage(%q) confidence %.3f, want in (0, 1]", text, conf)
				}
			})
		}
	}
}

func TestDetectLanguageUnknown(t *testing.T) {
	t.Parallel()
	for _, text := range []string{"", "   ", "12345", "👍", "🙏🙏", "?!", "+90 555 123 45 67", "ok", "#12345"} {
		if got, conf := DetectLanguage(text); got != "" || conf != 0 {
			t.Errorf("DetectLanguage(%q) = %q, %.2f; want \"\", 0", text, got, conf)
		}
	}
}

// TestDetectLanguageConfidence checks that confidence grows with evidence:
// a whole sentence is surer than a greeting, and a mixed message (a Turkish
// request naming an English title) is less sure than either.
func TestDetectLanguageConfidence(t *testing.T) {
	t.Parallel()
	conf := func(text, want string) float64 {
		t.Helper()
		got, c := DetectLanguage(text)
		if got != want {
			t.Fatalf("DetectLanguage(%q) = %q, want %q", text, got, want)
		}
		return c
	}
	short := conf("hi", LangEnglish)
	long := conf("Hi, I ordered a jacket last week and it still hasn't arrived, where is my package?", LangEnglish)
	if long <= short {
		t.Errorf("confidence of a full English sentence %.2f <= that of %q %.2f", long, "hi", short)
	}
	mixed := conf("The Lord of the Rings kitabını sepete ekler misiniz?", LangTurkish)
	clear := conf("Yüzüklerin Efendisi kitabını sepete ekler misiniz?", LangTurkish)
	if mixed >= clear {
		t.Errorf("confidence with an English title %.2f >= without %.2f", mixed, clear)
	}
}

// TestDetectLanguageLongText checks that a long document is decided on its
// first 4 KiB without cutting a rune in two.
func TestDetectLanguageLongText(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("ş", maxDetectBytes) + strings.Repeat(" the", 10000)
	if got, _ := DetectLanguage(text); got != LangTurkish {
		t.Errorf("long text: got %q, want %q (only the first 4 KiB count)", got, LangTurkish)
	}
}

func TestDetectLanguageWordLists(t *testing.T) {
	t.Parallel()
	for w := range turkishWords {
		if Fold(w) != w {
			t.Errorf("turkishWords has %q, which is not folded", w)
		}
		if _, ok := englishWords[w]; ok {
			t.Errorf("%q is in both word lists", w)
		}
	}
}

// TestDetectLanguageDatasets measures accuracy on public sentences whose
// language is known: the Turkish and English xSID utterances (short voice-
// assistant requests, many naming English films, songs and places inside
// Turkish sentences) and the XQuAD questions and paragraphs (Wikipedia).
func TestDetectLanguageDatasets(t *testing.T) {
	t.Parallel()
	type set struct {
		name, lang string
		texts      []string
	}
	var sets []set
	for _, f := range []string{"tr.valid", "tr.test", "en.valid", "en.test"} {
		es := loadXSID(t, f+".conll")
		texts := make([]string, len(es))
		for i, e := range es {
			texts[i] = e.Text
		}
		sets = append(sets, set{"xsid " + f, f[:2], texts})
	}
	for _, lang := range []string{LangTurkish, LangEnglish} {
		questions, paragraphs := loadXQuAD(t, lang)
		sets = append(sets,
			set{"xquad " + lang + " questions", lang, questions},
			set{"xquad " + lang + " paragraphs", lang, paragraphs})
	}
	for _, s := range sets {
		var correct int
		var wrong []string
		for _, text := range s.texts {
			if got, _ := DetectLanguage(text); got == s.lang {
				correct++
			} else if len(wrong) < 5 {
				wrong = append(wrong, got+": "+text)
			}
		}
		acc := float64(correct) / float64(len(s.texts))
		t.Logf("%-24s %4d/%4d = %.4f", s.name, correct, len(s.texts), acc)
		for _, w := range wrong {
			t.Logf("    missed %s", w)
		}
		if acc < 0.95 {
			t.Errorf("%s: accuracy %.4f, want at least 0.95", s.name, acc)
		}
	}
}

// loadXQuAD returns the questions and the paragraphs of XQuAD in lang.
func loadXQuAD(t *testing.T, lang string) (questions, paragraphs []string) {
	t.Helper()
	raw, err := os.ReadFile(datasetPath(t, filepath.Join("xquad_tr_en", "xquad."+lang+".json")))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Data []struct {
			Paragraphs []struct {
				Context string `json:"context"`
				QAs     []struct {
					Question string `json:"question"`
				} `json:"qas"`
			} `json:"paragraphs"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatalf("decoding xquad.%s.json: %v", lang, err)
	}
	for _, d := range file.Data {
		for _, p := range d.Paragraphs {
			paragraphs = append(paragraphs, p.Context)
			for _, q := range p.QAs {
				questions = append(questions, q.Question)
			}
		}
	}
	if len(questions) == 0 || len(paragraphs) == 0 {
		t.Fatalf("xquad.%s.json: no questions or paragraphs", lang)
	}
	return questions, paragraphs
}

func BenchmarkDetectLanguage(b *testing.B) {
	for b.Loop() {
		DetectLanguage("Merhaba, dün verdiğim siparişim hâlâ kargoya verilmedi, ne zaman gelir?")
	}
}
