package knowledge_test

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/yanit/yanit/knowledge"
)

func TestParseHTML(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/formats/iade.html")
	if err != nil {
		t.Fatal(err)
	}
	doc, sections, err := knowledge.Parse("site/iade.html", data)
	if err != nil {
		t.Fatal(err)
	}
	if doc.ID != "site/iade" || doc.Source != "site/iade.html" || doc.Title != "İade ve Değişim | Örnek Mağaza" || doc.Language != "tr" {
		t.Errorf("document %+v: want ID site/iade, title from <title>, language tr from <html lang>", doc)
	}
	want := []knowledge.Section{
		{Path: "İade ve Değişim", Blocks: []string{
			"Ürünü teslim aldıktan sonra 30 gün içinde iade edebilirsiniz.",
			"Mağazadan alınan ürünler mağazaya da iade edilebilir.",
		}},
		{Path: "İade ve Değişim > İade adımları", Blocks: []string{
			"1. Siparişlerim sayfasını açın.",
			"2. İade etmek istediğiniz ürünü seçin:\n  - kargo ile\n  - mağazada",
			"3. Kargo kodunu not alın.",
		}},
		{Path: "İade ve Değişim > Geri ödeme süreleri", Blocks: []string{
			"Ödeme | Süre",
			"Kredi kartı | 3 iş günü",
			"Havale | 1 iş günü",
			"Adres:\nÖrnek Mah. Deneme Cad. No: 5\nİstanbul",
		}},
		{Path: "İade ve Değişim > Kargo kodu", Blocks: []string{
			"IADE-2025\n  ürün kodu ile birlikte",
			"Son güncelleme: Mart 2025",
		}},
	}
	if !reflect.DeepEqual(sections, want) {
		t.Errorf("sections:\n%s\nwant:\n%s", dump(sections), dump(want))
	}
}

func TestParseHTMLWithoutMain(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, page string
		wantTitle  string
		wantLang   string
		want       []knowledge.Section
	}{
		{
			name: "body without chrome",
			page: `<!doctype html><html><head><style>p{color:red}</style></head><body>
<header><a href="/">Shop</a><h1>Shop logo</h1></header>
<div class="site-nav"><a href="/a">All products</a></div>
<ul role="navigation"><li>Home</li><li>Contact</li></ul>
<div id="cookie-banner">We use cookies. <button>Accept</button></div>
<ol class="breadcrumb"><li>Home</li><li>Help</li></ol>
<div class="product-unavailable"><h2>Store hours</h2>
<p>Our stores open at 10:00 and close at 22:00 every day.</p>
Text straight in a div is kept too.</div>
<div hidden>Hidden text.</div>
<script>var x = "<p>script text</p>";</script>
<footer><p>© Shop 2025</p></footer>
</body></html>`,
			wantTitle: "page",
			wantLang:  "en",
			want: []knowledge.Section{{Path: "Store hours", Blocks: []string{
				"Our stores open at 10:00 and close at 22:00 every day.",
				"Text straight in a div is kept too.",
			}}},
		},
		{
			name: "articles outside an aside",
			page: `<html lang="EN-gb"><body><nav><a>Blog</a></nav>
<article><header><h1>Gift cards</h1></header><p>Gift cards never expire.</p><footer>Posted in March.</footer></article>
<aside><article><h2>Related</h2><p>Other post.</p></article></aside>
<article><h1>Loyalty</h1><p>Points are added after delivery.</p></article>
</body></html>`,
			wantTitle: "Gift cards",
			wantLang:  "en",
			want: []knowledge.Section{
				{Path: "Gift cards", Blocks: []string{"Gift cards never expire.", "Posted in March."}},
				{Path: "Loyalty", Blocks: []string{"Points are added after delivery."}},
			},
		},
		{
			name: "wrappers that hold the content",
			page: `<html><body class="nav-closed"><form id="aspnetForm" action="/default.aspx">
<div class="sidebar-menu"><a href="/">Home</a></div>
<div id="menu"><h1>Menu</h1><p>Lentil soup is served all day.</p></div>
<div role="search"><p>Search the site.</p></div>
</form></body></html>`,
			wantTitle: "Menu",
			wantLang:  "en",
			want:      []knowledge.Section{{Path: "Menu", Blocks: []string{"Lentil soup is served all day."}}},
		},
		{
			name: "layout table",
			page: `<html lang="tr"><body><table><tr><td><h2>Teslimat</h2><p>Siparişler 2 iş gününde kargoya verilir.</p></td>
<td><table><tr><td>İç</td><td>tablo</td></tr></table></td></tr></table></body></html>`,
			wantTitle: "page", // no <title>, no <h1>
			wantLang:  "tr",
			want: []knowledge.Section{{Path: "Teslimat", Blocks: []string{
				"Siparişler 2 iş gününde kargoya verilir.",
				"İç | tablo",
			}}},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, sections, err := knowledge.ParseHTML("page.htm", []byte(tt.page))
			if err != nil {
				t.Fatal(err)
			}
			if doc.Title != tt.wantTitle || doc.Language != tt.wantLang {
				t.Errorf("title %q, language %q; want %q, %q", doc.Title, doc.Language, tt.wantTitle, tt.wantLang)
			}
			if !reflect.DeepEqual(sections, tt.want) {
				t.Errorf("sections:\n%s\nwant:\n%s", dump(sections), dump(tt.want))
			}
		})
	}
}

func TestParseHTMLLanguageDetected(t *testing.T) {
	t.Parallel()
	doc, _, err := knowledge.Parse("sss.HTM", []byte(`<html><body><main><h1>Sıkça sorulan sorular</h1>
<p>Siparişinizi kargoya verdikten sonra takip numarasını e-posta ile gönderiyoruz.</p></main></body></html>`))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Language != "tr" || doc.Title != "Sıkça sorulan sorular" {
		t.Errorf("document %+v: want language tr detected and the <h1> as title", doc)
	}
}

func TestParseHTMLErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		data   string
		reason string
	}{
		{"web/empty.html", " \n", "empty"},
		{"web/latin5.html", "<p>\xdd\xfeleri</p>", "invalid UTF-8"},
		{"web/nav-only.html", "<html><body><nav><p>Home</p></nav><footer>© Shop</footer></body></html>", "no text"},
	} {
		_, _, err := knowledge.Parse(tt.name, []byte(tt.data))
		if err == nil || !strings.Contains(err.Error(), tt.name) || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("Parse(%s) error %v: want it to name the file and say %q", tt.name, err, tt.reason)
		}
		if errors.Is(err, knowledge.ErrUnsupportedFormat) {
			t.Errorf("Parse(%s) error %v: .html is supported", tt.name, err)
		}
	}
}
