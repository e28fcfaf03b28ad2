package simulator_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/channel/whatsapp/simulator"
)

// A test drives a simulated user against a webhook handler that answers
// through the simulator's Graph API, as yanit does in `yanit dev`.
func Example() {
	const secret, token, phoneID = "app-secret", "token", "106540352242922"
	var client *whatsapp.Client

	// The stand-in for yanit: verify, parse, answer.
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if whatsapp.VerifySignature(secret, r.Header.Get(whatsapp.SignatureHeader), body) != nil {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		batch, _, _ := whatsapp.Parse(body)
		for _, in := range batch.Messages {
			reply := whatsapp.Outbound{To: in.WaID, Content: &whatsapp.Text{Body: "You said: " + in.Text}}
			if _, err := client.Send(r.Context(), phoneID, reply); err != nil {
				log.Print(err)
			}
		}
	})
	yanit := httptest.NewServer(echo)
	defer yanit.Close()

	sim, err := simulator.New(simulator.Options{
		AppSecret: secret, AccessToken: token, PhoneNumberID: phoneID,
		WebhookURL: yanit.URL + "/webhooks/whatsapp",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer sim.Close()
	srv := httptest.NewServer(sim.Routes())
	defer srv.Close()
	client = &whatsapp.Client{BaseURL: simulator.GraphURL(srv.URL), Token: token}

	ctx := context.Background()
	u := sim.User("Ayşe", "905551112233")
	sent, err := u.SendText(ctx, "Merhaba")
	if err != nil {
		log.Fatal(err)
	}
	reply, err := u.NextReply(ctx, sent)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(reply.Text())
	// Output: You said: Merhaba
}
