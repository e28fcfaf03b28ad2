package whatsapp

import "testing"

func TestSummary(t *testing.T) {
	cases := []struct {
		c    Content
		want string
	}{
		{&Text{Body: "Kargonuz yolda."}, "Kargonuz yolda."},
		{&Buttons{Body: "Seçin", Buttons: []Button{{ID: "a", Title: "A"}}}, "Seçin"},
		{&List{Body: "Konular", Button: "Aç"}, "Konular"},
		{&Media{Kind: MediaImage, ID: "1", Caption: "Fatura"}, "Fatura"},
		{&Media{Kind: MediaDocument, ID: "1"}, "[document]"},
		{&Template{Name: "order_update", Language: "tr", Components: []Component{{Type: ComponentBody,
			Parameters: []Parameter{TextParam("Ayşe"), TextParam("#1234")}}}}, "[template order_update Ayşe #1234]"},
	}
	for _, c := range cases {
		if got := Summary(c.c); got != c.want {
			t.Errorf("Summary(%T) = %q, want %q", c.c, got, c.want)
		}
	}
}
