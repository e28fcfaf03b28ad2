// Command webhookload offers signed WhatsApp text webhooks to a running
// yanit at a fixed rate (open loop, as Meta sends them: a slow answer does not
// slow the sender) and prints the latency percentiles of acceptance. Run it
// as a separate process from yanit serve:
//
//	go run ./cmd/webhookload -url http://127.0.0.1:8080/webhooks/whatsapp -secret "$YANIT_WHATSAPP_APP_SECRET" -rate 1000 -secs 10
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/yanit/yanit/channel/whatsapp"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080/webhooks/whatsapp", "yanit's webhook URL")
	secret := flag.String("secret", "", "the app secret yanit checks signatures with")
	phoneID := flag.String("phone-number-id", "123456789012345", "business number the messages are sent to")
	rate := flag.Int("rate", 1000, "webhooks per second")
	secs := flag.Int("secs", 10, "seconds to measure, after one second of warm-up")
	flag.Parse()
	if *secret == "" || *rate < 1 || *secs < 1 {
		fmt.Fprintln(os.Stderr, "webhookload: -secret is required; -rate and -secs must be positive")
		flag.Usage()
		os.Exit(2)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}}
	var seq atomic.Int64
	post := func() (time.Duration, bool) {
		n := seq.Add(1)
		body := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"908502220000","phone_number_id":"%s"},"contacts":[{"profile":{"name":"A"},"wa_id":"90532%07d"}],"messages":[{"from":"90532%07d","id":"wamid.L%d.%d","timestamp":"%d","type":"text","text":{"body":"x"}}]}}]}]}`, *phoneID, n%500, n%500, time.Now().UnixNano(), n, time.Now().Unix())
		req, _ := http.NewRequest(http.MethodPost, *url, bytes.NewReader(body))
		req.Header.Set(whatsapp.SignatureHeader, whatsapp.Sign(*secret, body))
		t0 := time.Now()
		res, err := client.Do(req)
		d := time.Since(t0)
		if err != nil {
			return d, false
		}
		res.Body.Close()
		return d, res.StatusCode == 200
	}
	run := func(total int) ([]time.Duration, int64) {
		lat := make([]time.Duration, total)
		var failed atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for i := 0; i < total; i++ {
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(*rate))))
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				d, ok := post()
				lat[i] = d
				if !ok {
					failed.Add(1)
				}
			}(i)
		}
		wg.Wait()
		return lat, failed.Load()
	}
	run(*rate) // warm up
	lat, failed := run(*rate * *secs)
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	fmt.Printf("rate %d/s for %d s: p50 %v p99 %v max %v failed %d\n", *rate, *secs, p(.5), p(.99), lat[len(lat)-1], failed)
}
