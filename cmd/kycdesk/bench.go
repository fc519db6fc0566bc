package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/kycdesk/kycdesk/internal/config"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

func (m *Main) bench(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "dashboard" { // bench_dashboard.go
		return m.benchDashboard(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "export" { // bench_export.go
		return m.benchExport(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "queues" { // bench_queues.go
		return m.benchQueues(ctx, args[1:])
	}
	if len(args) == 0 || args[0] != "ingest" {
		return usagef("usage: kycdesk bench ingest [--seconds N] [--concurrency C] | bench dashboard [--cases N] [--days D] [--data DIR] | bench export [--cases N] [--seconds N] | bench queues [--cases N] [--rate R] [--deliveries D] [--seconds S]")
	}
	f := newFlags("bench ingest")
	seconds := f.Int("seconds", 10, "how long each run drives load")
	concurrency := f.Int("concurrency", 32, "concurrent senders (keep-alive connections)")
	cpuProfile := f.String("cpuprofile", "", "write a CPU profile of the runs to this file (for tuning)")
	skipBaseline := f.Bool("skip-baseline", false, "run group commit only (for tuning)")
	withWorker := f.Bool("worker", false, "also run the inbox worker, which turns deliveries into cases meanwhile")
	if err := f.parse(args[1:]); err != nil {
		return err
	}
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			return usagef("bench ingest: %v", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *seconds < 1 || *concurrency < 1 {
		return usagef("bench ingest: --seconds and --concurrency must be at least 1")
	}
	d := time.Duration(*seconds) * time.Second

	worker := "worker off: ingestion alone"
	if *withWorker {
		worker = "worker on"
	}
	m.printf("bench ingest: %d senders, %s per run, signed generic deliveries over loopback HTTP, synchronous=FULL, %s\n", *concurrency, d, worker)
	group, err := m.benchRun(ctx, "group-commit", 0, d, *concurrency, *withWorker)
	if err != nil {
		return err
	}
	if *skipBaseline {
		return nil
	}
	base, err := m.benchRun(ctx, "baseline", 1, d, *concurrency, *withWorker)
	if err != nil {
		return err
	}
	if base.rate > 0 {
		m.printf("ratio: %.1fx\n", group.rate/base.rate)
	}
	return nil
}

// benchResult is one run's figures.
type benchResult struct {
	rate     float64 // acknowledged deliveries per second
	p50, p99 time.Duration
}

// benchRun starts a real server on loopback in a fresh data dir (batchMax 1: one
// transaction per delivery, the baseline), registers a generic hmac integration and
// drives it for d with c senders. Without worker the server only ingests.
func (m *Main) benchRun(ctx context.Context, label string, batchMax int, d time.Duration, c int, worker bool) (benchResult, error) {
	dir, err := os.MkdirTemp("", "kycdesk-bench-")
	if err != nil {
		return benchResult{}, err
	}
	defer os.RemoveAll(dir)

	cfg := config.Default()
	cfg.Addr, cfg.DataDir, cfg.InboxBatchMax, cfg.NoWorker = "127.0.0.1:0", dir, batchMax, !worker
	cfg.PublicURL = "http://" + cfg.Addr
	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	started := make(chan string, 1)
	done := make(chan error, 1)
	// The server's own log is dropped (it is formatted, not written): the figures are
	// about the ingestion path, not the terminal.
	srvMain := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	go func() { done <- srvMain.runServer(srvCtx, cfg, func(base string) { started <- base }) }()
	var base string
	select {
	case base = <-started:
	case err := <-done:
		return benchResult{}, fmt.Errorf("%s: server: %w", label, err)
	}

	st, err := openStore(ctx, dir)
	if err != nil {
		return benchResult{}, err
	}
	in, secret, err := integration.NewStore(st.db, st.sealer).Create(ctx, "cli", integration.Spec{Provider: integration.Generic, AuthMode: integration.AuthHMAC})
	st.Close()
	if err != nil {
		return benchResult{}, err
	}
	key, _ := webhookauth.ParseSecret(secret)
	gen := newLoadGen(base+in.WebhookPath(), key, label, c)

	cpu0 := cpuTime()
	res := gen.run(ctx, d, c)
	cpu := cpuTime() - cpu0
	batch := meanBatch(base + "/metrics")
	stop()
	if err := <-done; err != nil {
		return benchResult{}, fmt.Errorf("%s: server: %w", label, err)
	}
	if res.acked == 0 {
		return benchResult{}, fmt.Errorf("%s: no delivery acknowledged (%d failed)", label, res.failed)
	}
	r := benchResult{rate: float64(res.acked) / res.elapsed.Seconds(), p50: res.percentile(50), p99: res.percentile(99)}
	m.printf("%s: %.0f deliveries/s p50 %s p99 %s (%d acknowledged, %d not, mean batch %.1f, CPU %.0fµs per delivery, client and server, %.2f cores busy)\n",
		label, r.rate, ms(r.p50), ms(r.p99), res.acked, res.failed, batch,
		float64(cpu.Microseconds())/float64(res.acked), cpu.Seconds()/res.elapsed.Seconds())
	return r, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// loadGen sends signed generic deliveries, each with a new webhook-id and reference. It
// uses fasthttp's client (keep-alive, pooled buffers): on a 2-core machine every
// microsecond the sender spends is taken from the server being measured.
type loadGen struct {
	client *fasthttp.Client
	url    string
	secret []byte
	prefix string
	seq    atomic.Int64
}

func newLoadGen(url string, secret []byte, prefix string, conns int) *loadGen {
	client := &fasthttp.Client{
		MaxConnsPerHost: conns, MaxIdleConnDuration: 30 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
		Dial: func(addr string) (net.Conn, error) { return fasthttp.DialTimeout(addr, 5*time.Second) },
	}
	return &loadGen{client: client, url: url, secret: secret, prefix: prefix}
}

// body is a generic event as a provider would send it, with applicant data (so the
// server seals it) and a reference unique to the delivery.
func benchBody(ref string) []byte {
	return fmt.Appendf(nil, `{"type":"verification.completed","occurred_at":"2026-11-20T08:14:41Z",`+
		`"applicant":{"external_id":"cust-%[1]s","given_name":"Thu Hương","family_name":"Nguyễn","date_of_birth":"1995-09-02",`+
		`"nationality":"VNM","id_number":"079195001234","address":"123 Lê Lợi, Quận 1, TP. Hồ Chí Minh"},`+
		`"verification":{"reference":"%[1]s","result":"review","risk_level":"high","risk_score":71,`+
		`"checks":[{"kind":"document","result":"pass","score":0.97},{"kind":"liveness","result":"pass","score":0.98},`+
		`{"kind":"face_match","result":"pass","score":0.91},{"kind":"pep","result":"hit","details":{"matched_name":"NGUYEN THU HUONG","level":"tier 2"}}]}}`, ref)
}

// send posts one new delivery and returns its webhook-id and the status (0: no answer).
func (g *loadGen) send(ctx context.Context) (msgID string, status int, err error) {
	msgID = g.prefix + "-" + strconv.FormatInt(g.seq.Add(1), 10)
	status, err = g.sendID(ctx, msgID)
	return msgID, status, err
}

// sendID posts the delivery msgID (again, when it was sent before), freshly signed.
func (g *loadGen) sendID(ctx context.Context, msgID string) (status int, err error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	body := benchBody(msgID)
	now := time.Now()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(g.url)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.Header.Set("webhook-id", msgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", webhookauth.Sign(g.secret, msgID, now, body))
	req.SetBodyRaw(body)
	if err := g.client.DoTimeout(req, resp, 10*time.Second); err != nil {
		return 0, err
	}
	return resp.StatusCode(), nil
}

// loadResult is what a run of senders measured.
type loadResult struct {
	acked, failed int
	elapsed       time.Duration
	latencies     []time.Duration // of acknowledged deliveries, sorted
}

func (r loadResult) percentile(p int) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := (len(r.latencies)*p + 99) / 100
	return r.latencies[min(max(i-1, 0), len(r.latencies)-1)]
}

// run drives c senders back to back for d.
func (g *loadGen) run(ctx context.Context, d time.Duration, c int) loadResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var res loadResult
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			failed := 0
			for ctx.Err() == nil {
				t0 := time.Now()
				_, status, err := g.send(ctx)
				if err == nil && status/100 == 2 {
					lat = append(lat, time.Since(t0))
				} else if ctx.Err() == nil {
					failed++
				}
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.failed += failed
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.acked = len(res.latencies)
	slices.Sort(res.latencies)
	return res
}

// meanBatch reads the committer's batch-size histogram from /metrics: sum / count.
func meanBatch(url string) float64 {
	status, body, err := fasthttp.GetTimeout(nil, url, 5*time.Second)
	if err != nil || status != fasthttp.StatusOK {
		return 0
	}
	var sum, count float64
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch name {
		case "kycdesk_webhook_commit_batch_size_sum":
			sum = v
		case "kycdesk_webhook_commit_batch_size_count":
			count = v
		}
	}
	if count == 0 {
		return 0
	}
	return sum / count
}

// cpuTime is the CPU time (user and system) this process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
