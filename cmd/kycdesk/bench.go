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
		return usagef("usage: kycdesk bench ingest [--seconds N] [--concurrency C] [--no-worker] [--rate N] [--sustain N] [--url URL --secret S [--data DIR]] | bench dashboard [--cases N] [--days D] [--data DIR] | bench export [--cases N] [--seconds N] | bench queues [--cases N] [--rate R] [--deliveries D] [--seconds S]")
	}
	f := newFlags("bench ingest")
	seconds := f.Int("seconds", 10, "how long each run drives load (the naive baseline, the burst, the sustained rate)")
	concurrency := f.Int("concurrency", 32, "concurrent senders of the naive baseline (keep-alive connections)")
	cpuProfile := f.String("cpuprofile", "", "write a CPU profile of the runs to this file (for tuning)")
	skipBaseline := f.Bool("skip-baseline", false, "do not measure the naive baseline (needs --rate)")
	withWorker := f.Bool("worker", true, "run the inbox worker, as `kycdesk serve` does (the default)")
	noWorker := f.Bool("no-worker", false, "ingestion alone: no inbox worker (the burst then has nothing to drain)")
	rate := f.Float64("rate", 0, "burst rate in deliveries/s (default: 1.5x the naive baseline measured first)")
	sustain := f.Float64("sustain", 3000, "steady arrival rate of the sustained run, deliveries/s (0: skip it)")
	capacity := f.Bool("capacity", false, "also measure the most group commit acknowledges with closed-loop senders")
	target := f.String("url", "", "burst this running server's generic webhook URL instead of one started in-process (then the sustained run too, with --data)")
	secret := f.String("secret", "", "the --url integration's webhook secret (whsec_...)")
	data := f.String("data", "", "the --url server's data dir: count its cases to time the drain")
	pace := f.Float64("pace", 0, "the worker's rows/s while deliveries arrive fast (0: the default; negative: no pacing)")
	if err := f.parse(args[1:]); err != nil {
		return err
	}
	if *seconds < 1 || *concurrency < 1 || *rate < 0 || *sustain < 0 {
		return usagef("bench ingest: --seconds and --concurrency must be at least 1, rates not negative")
	}
	if *skipBaseline && *rate == 0 {
		return usagef("bench ingest: --skip-baseline needs --rate")
	}
	var key []byte
	if *target != "" {
		var err error
		if key, err = webhookauth.ParseSecret(*secret); err != nil {
			return usagef("bench ingest: --url needs the integration's --secret: %v", err)
		}
	}
	stopProfile, err := startCPUProfile("bench ingest", *cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	d := time.Duration(*seconds) * time.Second
	worker := *withWorker && !*noWorker

	workerNote := "worker on (as serve runs)"
	if !worker {
		workerNote = "worker off: ingestion alone"
	}
	if *target != "" {
		workerNote = "the burst against " + *target
	}
	m.printf("bench ingest: signed generic deliveries over loopback HTTP, synchronous=FULL, %s per run, %s\n", d, workerNote)
	var naive float64
	if !*skipBaseline {
		base, err := m.benchRun(ctx, "baseline", 1, d, *concurrency, false, 0)
		if err != nil {
			return err
		}
		naive = base.rate
	}
	if *capacity {
		if _, err := m.benchRun(ctx, "group-commit", 0, d, *concurrency, worker, *pace); err != nil {
			return err
		}
	}
	burstRate := *rate
	if burstRate == 0 {
		burstRate = 1.5 * naive
	}
	if *target != "" {
		var st *store
		if *data != "" {
			var err error
			if st, err = openStore(ctx, *data); err != nil {
				return err
			}
			defer st.Close()
		}
		t := &benchTarget{url: *target, key: key, st: st}
		if err := m.burst(ctx, "burst", t, burstRate, naive, d); err != nil || *sustain == 0 || st == nil {
			return err
		}
		// The burst has drained (burst waits for it): the sustained rate against the same server.
		return m.sustained(ctx, t, *sustain, d)
	}
	t, err := m.startBenchServer(ctx, "burst", 0, worker, *pace)
	if err != nil {
		return err
	}
	if !worker {
		t.st.Close()
		t.st = nil // nothing drains: do not wait for it
	}
	err = m.burst(ctx, "burst", t, burstRate, naive, d)
	t.stop()
	if err != nil || *sustain == 0 || !worker {
		return err
	}
	t, err = m.startBenchServer(ctx, "sustained", 0, true, *pace)
	if err != nil {
		return err
	}
	defer t.stop()
	return m.sustained(ctx, t, *sustain, d)
}

// benchResult is one run's figures.
type benchResult struct {
	rate     float64 // acknowledged deliveries per second
	p50, p99 time.Duration
}

// benchTarget is a server under load: its generic webhook URL and secret, and its opened
// data dir (nil when it cannot be read: then cases are not counted).
type benchTarget struct {
	url  string
	key  []byte
	st   *store
	base string // the server's base URL, for /metrics ("" for --url)
	stop func()
}

// startBenchServer starts a real server on loopback in a fresh data dir (batchMax 1: one
// transaction per delivery, the naive baseline) with a generic hmac integration. stop
// stops it, closes the store and removes the dir.
func (m *Main) startBenchServer(ctx context.Context, label string, batchMax int, worker bool, pace float64) (*benchTarget, error) {
	dir, err := os.MkdirTemp("", "kycdesk-bench-")
	if err != nil {
		return nil, err
	}
	cfg := config.Default()
	cfg.Addr, cfg.DataDir, cfg.InboxBatchMax, cfg.NoWorker = "127.0.0.1:0", dir, batchMax, !worker
	cfg.PublicURL, cfg.WorkerPaceRows = "http://"+cfg.Addr, pace
	srvCtx, stopServer := context.WithCancel(ctx)
	started := make(chan string, 1)
	done := make(chan error, 1)
	// The server's own log is dropped (it is formatted, not written): the figures are
	// about the ingestion path, not the terminal.
	srvMain := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	go func() { done <- srvMain.runServer(srvCtx, cfg, func(base string) { started <- base }) }()
	t := &benchTarget{}
	var stopErr error
	var once sync.Once
	t.stop = func() {
		once.Do(func() {
			stopServer()
			stopErr = <-done
			if t.st != nil {
				t.st.Close()
			}
			os.RemoveAll(dir)
			if stopErr != nil {
				m.printf("%s: server: %v\n", label, stopErr)
			}
		})
	}
	select {
	case t.base = <-started:
	case err := <-done:
		stopServer()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%s: server: %w", label, err)
	}
	if t.st, err = openStore(ctx, dir); err != nil {
		t.stop()
		return nil, err
	}
	in, secret, err := integration.NewStore(t.st.db, t.st.sealer).Create(ctx, "cli", integration.Spec{Provider: integration.Generic, AuthMode: integration.AuthHMAC})
	if err != nil {
		t.stop()
		return nil, err
	}
	t.key, _ = webhookauth.ParseSecret(secret)
	t.url = t.base + in.WebhookPath()
	return t, nil
}

// benchRun drives a fresh server with c closed-loop senders (each sends the next delivery
// when the last is answered) for d: the most it acknowledges.
func (m *Main) benchRun(ctx context.Context, label string, batchMax int, d time.Duration, c int, worker bool, pace float64) (benchResult, error) {
	t, err := m.startBenchServer(ctx, label, batchMax, worker, pace)
	if err != nil {
		return benchResult{}, err
	}
	defer t.stop()
	gen := newLoadGen(t.url, t.key, label, c)
	cpu0 := cpuTime()
	res := gen.run(ctx, d, c)
	cpu := cpuTime() - cpu0
	batch := meanBatch(t.base + "/metrics")
	if res.acked == 0 {
		return benchResult{}, fmt.Errorf("%s: no delivery acknowledged (%d failed)", label, res.failed)
	}
	r := benchResult{rate: float64(res.acked) / res.elapsed.Seconds(), p50: res.percentile(50), p99: res.percentile(99)}
	what := "naive: one transaction per delivery, worker off"
	if batchMax != 1 {
		what = "group commit, closed loop"
	}
	m.printf("%s (%s, %d senders): %.0f deliveries/s p50 %s p99 %s (%d acknowledged, %d not, mean batch %.1f, CPU %.0fµs per delivery, client and server, %.2f cores busy)\n",
		label, what, c, r.rate, ms(r.p50), ms(r.p99), res.acked, res.failed, batch,
		float64(cpu.Microseconds())/float64(res.acked), cpu.Seconds()/res.elapsed.Seconds())
	return r, nil
}

// burst offers rate deliveries/s for d (open loop: on schedule, whatever the answers), then
// waits until the worker has turned every stored delivery into a case, and prints the
// acknowledgement figures and the drain. The goal: all acknowledged, p99 ≤ 25 ms, every
// case made within deliveries/500 s of the burst's start.
func (m *Main) burst(ctx context.Context, label string, t *benchTarget, rate, naive float64, d time.Duration) error {
	if rate < 1 {
		return usagef("bench ingest: no burst rate (give --rate)")
	}
	gen := newLoadGen(t.url, t.key, fmt.Sprintf("%s-%d", label, time.Now().UnixNano()), openLoopSenders)
	cases0 := t.cases(ctx)
	start, cpu0 := time.Now(), cpuTime()
	res := gen.openLoop(ctx, rate, d, openLoopSenders)
	cores := (cpuTime() - cpu0).Seconds() / time.Since(start).Seconds()
	ofNaive := ""
	if naive > 0 {
		ofNaive = fmt.Sprintf(" = %.2fx the naive %.0f/s", rate/naive, naive)
	}
	verdict := "ok"
	if res.failed > 0 || res.percentile(99) > 25*time.Millisecond {
		verdict = "MISSED (goal: all acknowledged, p99 <= 25ms)"
	}
	m.printf("%s: offered %.0f deliveries/s for %s%s: %d acknowledged, %d not, p50 %s p99 %s max %s (this process: %.2f cores busy): %s\n",
		label, rate, d, ofNaive, res.acked, res.failed, ms(res.percentile(50)), ms(res.percentile(99)), ms(res.max()), cores, verdict)
	if t.st == nil {
		m.printf("%s: drain not timed (worker off, or no --data to count cases in)\n", label)
		return nil
	}
	burstEnd := time.Since(start)
	casesAtEnd := t.cases(ctx) - cases0
	goal := time.Duration(float64(res.acked) / 500 * float64(time.Second))
	limit := goal + time.Minute
	if ok, err := t.drained(ctx, start.Add(limit)); err != nil || !ok {
		if err == nil {
			m.printf("%s: drain: %d deliveries still pending %s after the burst's start: MISSED\n", label, t.pending(ctx), limit.Round(time.Second))
		}
		return err
	}
	drained := time.Since(start)
	made := t.cases(ctx) - cases0
	verdict = "ok"
	if drained > goal || made < res.acked {
		verdict = "MISSED"
	}
	m.printf("%s: drain: %d cases (%d made during the burst) %s after the burst's start, %.0f cases/s overall, %.0f/s after the burst; goal <= %s: %s\n",
		label, made, casesAtEnd, drained.Round(10*time.Millisecond), float64(made)/drained.Seconds(),
		float64(made-casesAtEnd)/max(drained-burstEnd, time.Millisecond).Seconds(), goal.Round(10*time.Millisecond), verdict)
	return nil
}

// sustained offers rate deliveries/s for d and counts the cases the worker makes meanwhile:
// ingestion must not starve it (goal: at least 500 cases/s).
func (m *Main) sustained(ctx context.Context, t *benchTarget, rate float64, d time.Duration) error {
	gen := newLoadGen(t.url, t.key, fmt.Sprintf("sustained-%d", time.Now().UnixNano()), openLoopSenders)
	cases0 := t.cases(ctx)
	start, cpu0 := time.Now(), cpuTime()
	res := gen.openLoop(ctx, rate, d, openLoopSenders)
	elapsed := time.Since(start)
	cores := (cpuTime() - cpu0).Seconds() / elapsed.Seconds()
	made := t.cases(ctx) - cases0
	perSec := float64(made) / elapsed.Seconds()
	verdict := "ok"
	if perSec < 500 || res.failed > 0 {
		verdict = "MISSED (goal: all acknowledged, >= 500 cases/s)"
	}
	m.printf("sustained: offered %.0f deliveries/s for %s: %d acknowledged, %d not, p50 %s p99 %s; meanwhile the worker made %d cases, %.0f/s (this process: %.2f cores busy): %s\n",
		rate, d, res.acked, res.failed, ms(res.percentile(50)), ms(res.percentile(99)), made, perSec, cores, verdict)
	// The backlog left, drained before the server is stopped or its cases are counted.
	limit := time.Duration(float64(res.acked)/500*float64(time.Second)) + time.Minute
	if ok, err := t.drained(ctx, start.Add(limit)); err != nil || !ok {
		if err == nil {
			m.printf("sustained: drain: %d deliveries still pending %s after its start\n", t.pending(ctx), limit.Round(time.Second))
		}
		return err
	}
	m.printf("sustained: drained %s after its start\n", time.Since(start).Round(10*time.Millisecond))
	return nil
}

// cases counts the cases in the target's data dir (-1 when it cannot).
func (t *benchTarget) cases(ctx context.Context) int {
	var n int
	if t.st == nil || t.st.db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM cases`).Scan(&n) != nil {
		return -1
	}
	return n
}

// drained waits until no inbox row is pending (true), or until deadline (false).
func (t *benchTarget) drained(ctx context.Context, deadline time.Time) (bool, error) {
	for t.pending(ctx) > 0 {
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return true, nil
}

// pending counts the inbox rows not yet processed.
func (t *benchTarget) pending(ctx context.Context) int {
	var n int
	if err := t.st.inbox.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM inbox WHERE state = 'pending'`).Scan(&n); err != nil {
		return -1
	}
	return n
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

// openLoopSenders bounds the deliveries in flight at once in an open-loop run.
const openLoopSenders = 256

// openLoop offers rate deliveries/s for d, on schedule: delivery i is due at start + i/rate
// whatever the server answers (a provider's retries do not wait for us either). Up to
// senders are in flight; a latency runs from the delivery's due time, so time spent waiting
// for a free sender counts too.
func (g *loadGen) openLoop(ctx context.Context, rate float64, d time.Duration, senders int) loadResult {
	n := int(rate * d.Seconds())
	due := make(chan time.Time, senders)
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	start := time.Now()
	go func() {
		defer close(due)
		for i := range n {
			at := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			if wait := time.Until(at); wait > time.Millisecond {
				time.Sleep(wait)
			}
			select {
			case due <- at:
			case <-ctx.Done():
				return
			}
		}
	}()
	return collectLoad(start, senders, n/senders+16, func(w *loadTally) {
		for at := range due {
			_, status, err := g.send(ctx)
			if err == nil && status/100 == 2 {
				w.latencies = append(w.latencies, time.Since(at))
			} else {
				w.failed++
			}
		}
	})
}

// loadTally is what one sender of a load loop measured.
type loadTally struct {
	latencies []time.Duration // of acknowledged deliveries
	failed    int
}

// collectLoad runs workers senders of one load loop, each with its own tally (its latency
// slice sized capHint), and merges their tallies into the run's result, timed from start.
func collectLoad(start time.Time, workers, capHint int, loop func(w *loadTally)) loadResult {
	var mu sync.Mutex
	var res loadResult
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := loadTally{latencies: make([]time.Duration, 0, capHint)}
			loop(&w)
			mu.Lock()
			res.latencies = append(res.latencies, w.latencies...)
			res.failed += w.failed
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.acked = len(res.latencies)
	slices.Sort(res.latencies)
	return res
}

func (r loadResult) max() time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[len(r.latencies)-1]
}

// run drives c senders back to back for d.
func (g *loadGen) run(ctx context.Context, d time.Duration, c int) loadResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return collectLoad(time.Now(), c, 4096, func(w *loadTally) {
		for ctx.Err() == nil {
			t0 := time.Now()
			_, status, err := g.send(ctx)
			if err == nil && status/100 == 2 {
				w.latencies = append(w.latencies, time.Since(t0))
			} else if ctx.Err() == nil {
				w.failed++
			}
		}
	})
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

// startCPUProfile writes a CPU profile to path until stop is called (path "": none).
func startCPUProfile(cmd, path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	pf, err := os.Create(path)
	if err != nil {
		return nil, usagef("%s: %v", cmd, err)
	}
	if err := pprof.StartCPUProfile(pf); err != nil {
		pf.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); pf.Close() }, nil
}
