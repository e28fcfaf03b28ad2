package main

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/yanit/yanit/store/postgres/pgtest"
)

// BenchmarkHandoffToAgent measures what the inbox promises: from a user's
// message asking for a person to the ticket's event on a connected agent's
// stream, through the whole of yanit dev (webhook, turn, handoff, commit,
// bus, Server-Sent Events). Each iteration is a new WhatsApp user.
//
//	go test -run X -bench HandoffToAgent -benchtime 100x ./cmd/yanit/
func BenchmarkHandoffToAgent(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			dsn := ""
			if db == "postgres" {
				dsn = pgtest.NewSchemaDSN(b)
			}
			a, stop := startDevWith(b, dsn, demoRouter(b))
			defer stop()
			events := subscribe(b, a, agent(b, a, "bench"))
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				u := a.sim.User(fmt.Sprintf("User %d", i), fmt.Sprintf("+90 534 %03d %02d %02d", i/10000%1000, i/100%100, i%100))
				sent, err := u.SendText(ctx, "temsilciyle görüşmek istiyorum")
				if err != nil {
					b.Fatal(err)
				}
				ev := nextEvent(b, events, "ticket_created")
				lat = append(lat, ev.at.Sub(sent.Time))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
		})
	}
}
