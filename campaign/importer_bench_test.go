package campaign_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/yanit/yanit/campaign"
	"github.com/yanit/yanit/store"
)

// benchRows is the size of the file BenchmarkImport imports.
const benchRows = 100_000

// benchCSV returns a file of n contacts as a Turkish shop exports them:
// national numbers with spaces, names, two languages, tags, consent and
// two attribute columns.
func benchCSV(n int) []byte {
	cities := []string{"İstanbul", "Ankara", "İzmir", "Bursa", "Antalya", "Diyarbakır", "Trabzon"}
	tags := []string{"vip;istanbul", "yeni", "", "sadık|indirim", "vip"}
	consents := []string{"evet", "", "hayır", "yes", ""}
	var b bytes.Buffer
	b.WriteString("\uFEFFphone,name,language,tags,consent,city,plan\r\n")
	for i := range n {
		d := 1_000_000 + i // 7 digits after 532
		lang := "tr"
		if i%5 == 0 {
			lang = "en"
		}
		fmt.Fprintf(&b, "0532 %03d %02d %02d,Müşteri %d,%s,%s,%s,%s,plan-%d\r\n",
			d/10000%1000, d/100%100, d%100, i, lang, tags[i%len(tags)], consents[i%len(consents)],
			cities[i%len(cities)], i%3)
	}
	return b.Bytes()
}

// BenchmarkImport imports 100,000 rows into each store: "new" into an
// empty one (every row creates a contact), "again" the same file over the
// contacts it made (every row unchanged). It reports rows per second; run
// it with
//
//	go test -run XXX -bench Import -benchtime 1x ./campaign/
func BenchmarkImport(b *testing.B) {
	file := benchCSV(benchRows)
	for _, s := range stores {
		b.Run(s.name, func(b *testing.B) {
			b.Run("new", func(b *testing.B) {
				for range b.N {
					b.StopTimer()
					st := s.open(b)
					b.StartTimer()
					benchImport(b, st, file)
				}
				b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
			})
			b.Run("again", func(b *testing.B) {
				st := s.open(b)
				benchImport(b, st, file)
				b.ResetTimer()
				for range b.N {
					res := benchImport(b, st, file)
					if res.Unchanged != benchRows {
						b.Fatalf("importing the same file again: %d unchanged of %d", res.Unchanged, benchRows)
					}
				}
				b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		})
	}
}

func benchImport(b *testing.B, st store.Store, file []byte) campaign.ImportResult {
	b.Helper()
	res, err := campaign.ImportContacts(b.Context(), st, bytes.NewReader(file), campaign.ImportOptions{Now: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	if res.Failed != 0 || res.Rows != benchRows {
		b.Fatalf("%d rows read, %d failed: %v", res.Rows, res.Failed, res.Errors[:min(3, len(res.Errors))])
	}
	return res
}
