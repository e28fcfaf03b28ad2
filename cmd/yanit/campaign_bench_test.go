package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/yanit/yanit/campaign"
	"github.com/yanit/yanit/channel/whatsapp/simulator"
	"github.com/yanit/yanit/config"
	"github.com/yanit/yanit/inbox"
	"github.com/yanit/yanit/privacy"
	"github.com/yanit/yanit/store"
	"github.com/yanit/yanit/store/postgres"
	"github.com/yanit/yanit/store/postgres/pgtest"
)

// Settings of the simulator process BenchmarkCampaign starts (the test
// binary run with YANIT_TEST_AS_SIM=1).
const (
	simAddrEnv    = "YANIT_SIM_ADDR"
	simWebhookEnv = "YANIT_SIM_WEBHOOK"
	simRateEnv    = "YANIT_SIM_RATE"
	benchSecret   = "bench-app-secret"
	benchToken    = "bench-token"
	benchPhoneID  = "123456789012345"
)

// runSimulatorProcess serves the simulator's Graph API on $YANIT_SIM_ADDR
// until killed, posting its webhooks to $YANIT_SIM_WEBHOOK: the WhatsApp
// of BenchmarkCampaign, in a process of its own so that its users (one per
// recipient) stay out of the heap the benchmark samples.
func runSimulatorProcess() {
	rate, _ := strconv.ParseFloat(os.Getenv(simRateEnv), 64)
	statusBatch := 100
	if s := os.Getenv("YANIT_SIM_STATUS_BATCH"); s != "" {
		statusBatch, _ = strconv.Atoi(s)
	}
	// Meta posts webhooks over a bounded number of connections, kept open.
	hc := graphHTTPClient(256)
	hc.Transport.(*http.Transport).MaxConnsPerHost = 256
	sim, err := simulator.New(simulator.Options{AppSecret: benchSecret, AccessToken: benchToken, PhoneNumberID: benchPhoneID,
		WebhookURL: os.Getenv(simWebhookEnv), RatePerSecond: rate, StatusDelay: time.Second, StatusBatch: statusBatch,
		HTTPClient: hc})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if path := os.Getenv("YANIT_SIM_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			stop := make(chan os.Signal, 1)
			signal.Notify(stop, syscall.SIGTERM)
			go func() { <-stop; pprof.StopCPUProfile(); f.Close(); os.Exit(0) }()
		}
	}
	srv := &http.Server{Addr: os.Getenv(simAddrEnv), Handler: sim.Routes()}
	fmt.Fprintln(os.Stderr, srv.ListenAndServe())
	os.Exit(1)
}

// cpuTimes returns the CPU time this process, and the PostgreSQL
// server's processes on this machine, have used so far (Linux: /proc).
func cpuTimes() (self, pg time.Duration) {
	tick := 100 * time.Millisecond / 10 // USER_HZ is 100 on Linux
	read := func(pid string) (comm string, d time.Duration) {
		b, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return "", 0
		}
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < 0 {
			return "", 0
		}
		f := strings.Fields(s[close+2:])
		if len(f) < 13 {
			return "", 0
		}
		u, _ := strconv.Atoi(f[11])
		k, _ := strconv.Atoi(f[12])
		return s[open+1 : close], time.Duration(u+k) * tick
	}
	_, self = read(strconv.Itoa(os.Getpid()))
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if comm, d := read(e.Name()); comm == "postgres" {
			pg += d
		}
	}
	return self, pg
}

// BenchmarkCampaign sends a campaign of 100,000 recipients (or
// $YANIT_BENCH_RECIPIENTS) through yanit serve, in this process, on
// PostgreSQL, to the simulator's Graph API in a child process with the
// throughput limit raised to 5,000 messages a second (yanit's limiter
// too), status webhooks included. It reports the sustained send rate (the
// messages WhatsApp accepted per second between 10% and 90% of them) and
// the heap in use, sampled every second from 10% on until every status
// webhook is applied, and the CPU time yanit (this process), PostgreSQL and
// the simulator spent per message, statuses included. Meta batches
// statuses under load, and so does the simulator here, up to 100 statuses
// a webhook; YANIT_SIM_STATUS_BATCH=1 posts each alone.
// YANIT_BENCH_VERBOSE=1 logs every sample; YANIT_BENCH_HEAPPROFILE=FILE
// writes a heap profile at 90% sent. Run it with
//
//	go test -run XXX -bench Campaign -benchtime 1x ./cmd/yanit/
func BenchmarkCampaign(b *testing.B) {
	n := 100_000
	if s := os.Getenv("YANIT_BENCH_RECIPIENTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	concurrency := 64
	if s := os.Getenv("YANIT_BENCH_CONCURRENCY"); s != "" {
		concurrency, _ = strconv.Atoi(s)
	}
	for range b.N {
		benchCampaign(b, n, concurrency)
	}
}

func benchCampaign(b *testing.B, n, concurrency int) {
	b.StopTimer()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	dsn := pgtest.NewSchemaDSN(b)
	if extra := os.Getenv("YANIT_BENCH_DSN_PARAMS"); extra != "" {
		dsn += "&" + extra // e.g. log_min_duration_statement=0, to find the costly statements
	}
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i += 5000 {
		var us []store.ContactUpsert
		for j := i; j < min(i+5000, n); j++ {
			us = append(us, store.ContactUpsert{WaID: fmt.Sprintf("9054%08d", j), Name: "Kişi " + strconv.Itoa(j),
				Attributes: map[string]string{"city": "Ankara"}})
		}
		if _, err := st.UpsertContactsByWaID(ctx, us); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := st.PutSegment(ctx, store.Segment{Name: "herkes"}); err != nil {
		b.Fatal(err)
	}

	yanitAddr, simAddr := freeAddr(b), freeAddr(b)
	sim := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	sim.Env = append(os.Environ(), "YANIT_TEST_AS_SIM=1", simAddrEnv+"="+simAddr,
		simWebhookEnv+"=http://"+yanitAddr+"/webhooks/whatsapp", simRateEnv+"=5000")
	sim.Stderr = os.Stderr
	if err := sim.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { sim.Process.Kill(); sim.Wait() }()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", simAddr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("the simulator process does not listen")
		}
		time.Sleep(20 * time.Millisecond)
	}

	cfg, err := devDefaults()
	if err != nil {
		b.Fatal(err)
	}
	cfg.HTTP.Addr, cfg.DataDir, cfg.Database.URL = yanitAddr, b.TempDir(), dsn
	cfg.WhatsApp.GraphURL = simulator.GraphURL("http://" + simAddr)
	cfg.WhatsApp.PhoneNumberID, cfg.WhatsApp.AccessToken, cfg.WhatsApp.AppSecret = benchPhoneID, benchToken, benchSecret
	cfg.WhatsApp.Templates = []config.Template{{Name: "kargo_bilgisi", Language: "tr", Category: "utility", Body: "Merhaba {{1}}, kargonuz {{2}} şubesinde."}}
	cfg.Campaigns.UtilityRequires = campaign.RequireAny
	cfg.Jobs.Concurrency, cfg.Jobs.PollInterval = concurrency, 20*time.Millisecond
	fillDevSecrets(&cfg)
	if err := cfg.Validate(config.Dev); err != nil {
		b.Fatal(err)
	}
	// Above Meta's highest tier, which the configuration refuses: the
	// benchmark measures yanit, not the limit.
	cfg.WhatsApp.RatePerSecond = 5000
	router := demoRouter(b)
	serveCtx, stopServe := context.WithCancel(ctx)
	done := make(chan error, 1)
	ready := make(chan *app, 1)
	go func() {
		done <- serve(serveCtx, cfg, benchLogger(), serveOptions{router: router,
			started: func(a *app) { ready <- a }})
	}()
	defer func() { stopServe(); <-done }()
	a := <-ready
	select {
	case <-a.ready:
	case err := <-done:
		b.Fatalf("serve stopped: %v", err)
	}

	tmpl, err := inbox.NewTemplate("kargo_bilgisi", "tr", "utility", "Merhaba {{1}}, kargonuz {{2}} şubesinde.")
	if err != nil {
		b.Fatal(err)
	}
	svc, err := campaign.NewService(st, campaign.Options{Templates: []inbox.Template{tmpl}, PhoneNumberID: benchPhoneID})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Create(ctx, privacy.ActorCLI, campaign.Spec{Name: "kargo", Template: "kargo_bilgisi", Language: "tr",
		Segment: "herkes", Params: []store.CampaignParam{{Source: store.ParamName}, {Source: store.ParamAttr, Attribute: "city"}}}); err != nil {
		b.Fatal(err)
	}

	runtime.GC()
	b.StartTimer()
	start := time.Now()
	selfCPU0, pgCPU0 := cpuTimes()
	if _, err := svc.Start(ctx, privacy.ActorCLI, "kargo"); err != nil {
		b.Fatal(err)
	}
	type sample struct {
		at               time.Duration
		sent, heap, live int
	}
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var samples []sample
	var s store.CampaignStats
	var c store.Campaign
	var ms runtime.MemStats
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var sentAt time.Duration // when the last message was sent
	profiled := false
	for {
		c, s, err = svc.Stats(ctx, "kargo")
		if err != nil {
			b.Fatal(err)
		}
		runtime.ReadMemStats(&ms)
		metrics.Read(live)
		samples = append(samples, sample{time.Since(start), s.Sent + s.Failed, int(ms.HeapInuse), int(live[0].Value.Uint64())})
		if os.Getenv("YANIT_BENCH_VERBOSE") != "" {
			fmt.Fprintf(os.Stderr, "%6.1fs %s recipients %d queued %d sent %d delivered %d read %d live heap %.1f MB\n", time.Since(start).Seconds(), c.Status,
				s.Recipients, s.Queued, s.Sent, s.Delivered, s.Read, float64(live[0].Value.Uint64())/(1<<20))
		}
		if c.Status == store.CampaignDone && s.Sent+s.Failed >= n && sentAt == 0 {
			sentAt = time.Since(start)
		}
		// The run ends when every status webhook is applied: the CPU
		// per message includes them.
		if sentAt > 0 && s.Read+s.Failed >= n {
			break
		}
		if path := os.Getenv("YANIT_BENCH_HEAPPROFILE"); path != "" && !profiled && s.Sent >= n*9/10 {
			profiled = true
			if f, err := os.Create(path); err == nil {
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		select {
		case <-ctx.Done():
			b.Fatalf("not sent in time: %s %+v", c.Status, s)
		case <-tick.C:
		}
	}
	total := time.Since(start)
	b.StopTimer()
	selfCPU1, pgCPU1 := cpuTimes()
	sim.Process.Signal(syscall.SIGTERM)
	sim.Wait()
	simCPU := sim.ProcessState.UserTime() + sim.ProcessState.SystemTime()

	// Sustained: from the first sample at 10% to the first at 90%.
	at := func(frac float64) sample {
		i := slices.IndexFunc(samples, func(x sample) bool { return float64(x.sent) >= frac*float64(n) })
		return samples[max(i, 0)]
	}
	lo, hi := at(0.1), at(0.9)
	sustained := float64(hi.sent-lo.sent) / (hi.at - lo.at).Seconds()
	var heaps, lives []int
	for _, x := range samples {
		if x.at >= lo.at {
			heaps = append(heaps, x.heap)
			lives = append(lives, x.live)
		}
	}
	mb := func(v int) float64 { return float64(v) / (1 << 20) }
	quarter := max(len(heaps)/4, 1)
	first, last := heaps[:quarter], heaps[len(heaps)-quarter:]
	b.ReportMetric(sustained, "msg/s")
	b.ReportMetric(float64(n)/sentAt.Seconds(), "overall-msg/s")
	b.ReportMetric(mb(slices.Max(heaps)), "heap-max-MB")
	b.ReportMetric(mb(slices.Min(heaps)), "heap-min-MB")
	b.Logf("%d recipients sent in %s (%s to 10%%, %.0f msg/s from 10%% to 90%%), every status applied in %s; heap in use from 10%%: "+
		"min %.1f MB, max %.1f MB, mean of the first quarter %.1f MB, of the last %.1f MB; %d failed, %d delivered, %d read, %d duplicates",
		n, sentAt.Round(time.Millisecond), lo.at.Round(time.Millisecond), sustained, total.Round(time.Millisecond), mb(slices.Min(heaps)),
		mb(slices.Max(heaps)), mb(mean(first)), mb(mean(last)), s.Failed, s.Delivered, s.Read, s.Duplicates)
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n) }
	lq := max(len(lives)/4, 1)
	b.Logf("live heap (marked by the last GC) from 10%%: min %.1f MB, max %.1f MB, mean of the first quarter %.1f MB, of the last %.1f MB",
		mb(slices.Min(lives)), mb(slices.Max(lives)), mb(mean(lives[:lq])), mb(mean(lives[len(lives)-lq:])))
	b.Logf("CPU per message, statuses included: yanit %.0f µs, PostgreSQL %.0f µs, simulator %.0f µs (its whole life); %d CPUs",
		per(selfCPU1-selfCPU0), per(pgCPU1-pgCPU0), per(simCPU), runtime.NumCPU())
}

// benchLogger discards yanit's log, or with YANIT_BENCH_VERBOSE writes its
// warnings and errors to standard error.
func benchLogger() *slog.Logger {
	if os.Getenv("YANIT_BENCH_VERBOSE") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func mean(xs []int) int {
	sum := 0
	for _, x := range xs {
		sum += x
	}
	return sum / max(len(xs), 1)
}
