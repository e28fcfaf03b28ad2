package whatsapp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/yanit/yanit/channel/whatsapp"
)

func ExampleVerifySignature() {
	body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)
	header := whatsapp.Sign("app-secret", body) // what Meta sends in X-Hub-Signature-256

	fmt.Println(whatsapp.VerifySignature("app-secret", header, body))
	err := whatsapp.VerifySignature("app-secret", header, append(body, ' '))
	fmt.Println(errors.Is(err, whatsapp.ErrSignatureInvalid))
	// Output:
	// <nil>
	// true
}

func ExampleParse() {
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
		"messaging_product":"whatsapp","metadata":{"display_phone_number":"908502220000","phone_number_id":"123"},
		"contacts":[{"profile":{"name":"Ay\u015fe"},"wa_id":"905321234567"}],
		"messages":[
			{"from":"905321234567","id":"wamid.A","timestamp":"1764074400","type":"text","text":{"body":"Kart\u0131m kayboldu"}},
			{"from":"905321234567","id":"wamid.B","timestamp":"1764074401","type":"text","text":"not an object"},
			{"from":"905321234567","id":"wamid.C","timestamp":"1764074402","type":"interactive",
			 "interactive":{"type":"button_reply","button_reply":{"id":"agent","title":"Temsilci"}}}]}}]}]}`)

	batch, itemErrs, err := whatsapp.Parse(body)
	if err != nil {
		panic(err)
	}
	for _, m := range batch.Messages {
		fmt.Printf("%s %s %s %q reply=%q\n", m.WAMID, m.WaID, m.ProfileName, m.Text, m.ReplyID)
	}
	for _, ie := range itemErrs {
		fmt.Println("skipped", ie.Position)
	}
	// Output:
	// wamid.A 905321234567 Ayşe "Kartım kayboldu" reply=""
	// wamid.C 905321234567 Ayşe "Temsilci" reply="agent"
	// skipped entry[0].changes[0].value.messages[1]
}

func ExampleSplitText() {
	answer := "Kartınız kapatıldı. Yeni kartınız 3 iş günü içinde adresinize gönderilir.\n\nBaşka bir sorunuz var mı?"
	for _, part := range whatsapp.SplitText(answer, 80) {
		fmt.Printf("%q\n", part)
	}
	// Output:
	// "Kartınız kapatıldı. Yeni kartınız 3 iş günü içinde adresinize gönderilir."
	// "Başka bir sorunuz var mı?"
}

func ExampleOutbound_Validate() {
	msg := whatsapp.Outbound{To: "905321234567", Content: &whatsapp.Buttons{
		Body: "24 Kasım'daki işlemi siz mi yaptınız?",
		Buttons: []whatsapp.Button{
			{ID: "mine", Title: "Evet"},
			{ID: "not_mine", Title: "Hayır, ben yapmadım!!!"},
		},
	}}
	var le *whatsapp.LimitError
	if errors.As(msg.Validate(), &le) {
		fmt.Println(le.Field, le.Got, le.Limit)
	}
	// Output:
	// interactive.action.buttons[1].reply.title 22 20
}

func ExampleClient_Send() {
	// A stand-in for graph.facebook.com that refuses: the user has not
	// written for more than 24 hours.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"fbtrace_id":"A1"}}`)
	}))
	defer srv.Close()

	c := &whatsapp.Client{BaseURL: srv.URL, Token: "system-user-token"}
	_, err := c.Send(context.Background(), "123456789012345", whatsapp.Outbound{
		To:      "905321234567",
		Content: &whatsapp.Text{Body: "Siparişiniz yola çıktı."},
	})
	d := whatsapp.Classify(err)
	fmt.Println(d.Action, d.Retry)
	// Output:
	// need_template false
}
