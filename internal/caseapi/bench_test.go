package caseapi

import (
	"bytes"
	"context"
	"math"
	"net/url"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/caseapi/caseapitest"
)

const benchCases = 100_000

var (
	benchOnce   sync.Once
	benchReader *Reader
	benchErr    error
)

// benchSetup seeds 100,000 cases (four checks and two documents each) once per process.
func benchSetup(b *testing.B) *Reader {
	benchOnce.Do(func() {
		r := newReader(&testing.T{}) // a T whose cleanups never run: the database lives for the process
		start := time.Now()
		_, benchErr = caseapitest.Seed(context.Background(), r.DB, benchCases, t0, 10*time.Millisecond, "b")
		b.Logf("seeded %d cases in %v", benchCases, time.Since(start).Round(time.Millisecond))
		if benchErr == nil {
			// A live database checkpoints its WAL every 1,000 pages; a 150 MB seed in one
			// transaction leaves everything in the WAL, which reads would pay for.
			_, benchErr = r.DB.Write.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
		}
		benchReader = r
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchReader
}

// BenchmarkListCases measures what the server does for one page of 1,000 cases from
// 100,000: the page query, the checks and documents of the page, and JSON encoding.
// Each iteration reads the next page, wrapping around at the end. Run it with enough
// iterations for a p95, e.g.
//
//	go test -bench BenchmarkListCases -run '^$' -benchtime 300x ./internal/caseapi/
func BenchmarkListCases(b *testing.B) {
	r := benchSetup(b)
	recent := t0.Add(benchCases*10*time.Millisecond - 10*time.Second) // the newest 1,000 cases
	for _, bc := range []struct {
		name   string
		params url.Values
	}{
		{"all", url.Values{"limit": {"1000"}}},
		{"status", url.Values{"limit": {"1000"}, "status": {"in_review"}}},
		{"provider+status", url.Values{"limit": {"1000"}, "provider": {"fptai"}, "status": {"approved"}}},
		{"updated_after_recent", url.Values{"limit": {"1000"}, "updated_after": {recent.Format(time.RFC3339Nano)}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			runtime.LockOSThread() // so that the thread's CPU clock is this page's CPU time
			defer runtime.UnlockOSThread()
			var times, cpu []time.Duration
			var cursor string
			var body bytes.Buffer
			cases := 0
			b.ResetTimer()
			for range b.N {
				params := url.Values{}
				for k, v := range bc.params {
					params[k] = v
				}
				if cursor != "" {
					params.Set("after", cursor)
				}
				start, startCPU := time.Now(), threadCPU()
				q, err := r.ParseQuery(params)
				if err != nil {
					b.Fatal(err)
				}
				page, err := r.List(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				body.Reset() // as fasthttp reuses its response buffers
				if err := page.WriteJSON(&body); err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(start))
				cpu = append(cpu, threadCPU()-startCPU)
				cases += len(page.Cases)
				cursor = ""
				if page.Next != nil {
					cursor = *page.Next
				}
			}
			b.StopTimer()
			b.ReportMetric(percentile(times, 0.50), "p50-ms")
			b.ReportMetric(percentile(times, 0.95), "p95-ms")
			b.ReportMetric(percentile(times, 1), "max-ms")
			b.ReportMetric(percentile(cpu, 0.95), "p95-cpu-ms")
			b.ReportMetric(float64(cases)/float64(b.N), "cases/page")
		})
	}
}

// percentile returns the p-th percentile of ds in milliseconds (nearest rank).
func percentile(ds []time.Duration, p float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := min(len(s)-1, max(0, int(math.Ceil(p*float64(len(s))))-1))
	return float64(s[i].Microseconds()) / 1000
}

// threadCPU is the CPU time the calling OS thread has used. On a machine shared with
// other work, wall time per page says more about the neighbours than about the query;
// CPU time says what the page costs.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const rusageThread = 1 // RUSAGE_THREAD (Linux)
