package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yanit/yanit/channel"
	"github.com/yanit/yanit/channel/whatsapp"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres/pgtest"
	"github.com/yanit/yanit/store/sqlite"
)

// benchStores opens each store for a benchmark.
var benchStores = map[string]func(b *testing.B) store.Store{
	"sqlite": func(b *testing.B) store.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		if err := st.Migrate(context.Background()); err != nil {
			b.Fatal(err)
		}
		return st
	},
	"postgres": func(b *testing.B) store.Store { return pgtest.NewStore(b) },
}

func benchServer(b *testing.B, st store.Store) *httptest.Server {
	s, err := NewServer(Options{Registry: prometheus.NewRegistry(), WhatsApp: WhatsApp{AppSecret: appSecret}})
	if err != nil {
		b.Fatal(err)
	}
	s.SetBackend(Backend{Store: st, Receiver: channel.NewReceiver(st, channel.ReceiverOptions{})})
	ts := httptest.NewServer(s.Routes())
	b.Cleanup(ts.Close)
	return ts
}

var wamidSeq atomic.Int64

// textWebhook is a signed webhook with one new text message from one of 500
// users, as Meta sends it.
func textWebhook() ([]byte, string) {
	n := wamidSeq.Add(1)
	body := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"908502220000","phone_number_id":"123456789012345"},"contacts":[{"profile":{"name":"Ay\u015fe"},"wa_id":"90532%07d"}],"messages":[{"from":"90532%07d","id":"wamid.BENCH%d.%d","timestamp":"%d","type":"text","text":{"body":"Sipari\u015fim nerede? #%d"}}]}}]}]}`,
		n%500, n%500, time.Now().UnixNano(), n, time.Now().Unix(), n)
	return body, whatsapp.Sign(appSecret, body)
}

func postWebhook(client *http.Client, url string) error {
	body, sig := textWebhook()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set(whatsapp.SignatureHeader, sig)
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("status %d", res.StatusCode)
	}
	return nil
}

// BenchmarkWebhookAccept measures one webhook's acceptance (verify + parse +
// persist in one transaction with its turn job), closed loop over HTTP.
func BenchmarkWebhookAccept(b *testing.B) {
	for name, open := range benchStores {
		b.Run(name, func(b *testing.B) {
			ts := benchServer(b, open(b))
			client := ts.Client()
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := postWebhook(client, ts.URL+"/webhooks/whatsapp"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkWebhookLoad offers webhooks at a fixed rate (open loop, like Meta
// does: a slow answer does not slow the sender) for b.N seconds' worth and
// reports the latency percentiles of acceptance. Run with -benchtime=5x for a
// 5-second run: go test -run=^$ -bench=WebhookLoad -benchtime=5x ./web/
//
// YANIT_BENCH_RATE sets the offered rate (default 1,000 webhooks/s).
func BenchmarkWebhookLoad(b *testing.B) {
	rate := 1000
	if r, err := strconv.Atoi(os.Getenv("YANIT_BENCH_RATE")); err == nil && r > 0 {
		rate = r
	}
	for name, open := range benchStores {
		b.Run(fmt.Sprintf("%s/%drps", name, rate), func(b *testing.B) {
			ts := benchServer(b, open(b))
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}}
			// Warm up for a second at the rate (connection pools, caches):
			// the numbers are of the steady state.
			var warm sync.WaitGroup
			for i := 0; i < rate; i++ {
				time.Sleep(time.Second / time.Duration(rate))
				warm.Add(1)
				go func() { defer warm.Done(); postWebhook(client, ts.URL+"/webhooks/whatsapp") }()
			}
			warm.Wait()
			total := b.N * rate
			lat := make([]time.Duration, total)
			var failed atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < total; i++ {
				due := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
				time.Sleep(time.Until(due))
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					t0 := time.Now()
					if err := postWebhook(client, ts.URL+"/webhooks/whatsapp"); err != nil {
						failed.Add(1)
					}
					lat[i] = time.Since(t0)
				}(i)
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(lat)
			pct := func(p float64) float64 { return float64(lat[int(p*float64(total-1))].Microseconds()) / 1000 }
			b.ReportMetric(pct(0.50), "p50_ms")
			b.ReportMetric(pct(0.99), "p99_ms")
			b.ReportMetric(float64(total)/elapsed.Seconds(), "webhooks/s")
			b.ReportMetric(float64(failed.Load()), "failed")
		})
	}
}
