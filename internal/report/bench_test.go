package report_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/report"
	"github.com/kycdesk/kycdesk/internal/report/reporttest"
)

func TestNeutralize(t *testing.T) {
	for in, want := range map[string]string{"": "", "=1+1": "'=1+1", "+84": "'+84", "-1": "'-1", "@A1": "'@A1", "\tx": "'\tx",
		"\rx": "'\rx", "'x": "''x", "Nguyễn": "Nguyễn", "a=b": "a=b", " =x": " =x"} {
		if got := report.Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q, want %q", in, got, want)
		}
	}
}

const benchCases = 1_000_000

var (
	benchOnce sync.Once
	benchDB   *db.DB
)

// countingSink discards the CSV as a client would read it, counting the bytes.
type countingSink struct {
	*bufio.Writer
	n *int64
}

type counter struct{ n *int64 }

func (c counter) Write(p []byte) (int, error) { *c.n += int64(len(p)); return len(p), nil }

// BenchmarkExportCases1M exports the cases report over 1,000,000 cases (issue 12: at least
// 300,000 rows/s, memory growth at most 32 MiB), and reports rows/s and the growth of the
// Go heap in use and of the memory obtained from the OS, sampled during the export.
//
//	go test -run '^$' -bench BenchmarkExportCases1M -benchtime 3x ./internal/report/
func BenchmarkExportCases1M(b *testing.B) {
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	benchOnce.Do(func() {
		// KYCDESK_BENCH_DIR keeps the seeded database between runs (seeding takes minutes).
		dir := os.Getenv("KYCDESK_BENCH_DIR")
		if dir == "" {
			dir = b.TempDir()
		}
		var err error
		if benchDB, err = db.Open(context.Background(), filepath.Join(dir, "report-cases-1m")); err != nil {
			b.Fatal(err)
		}
		var have int
		benchDB.Read.QueryRow(`SELECT COUNT(*) FROM cases`).Scan(&have)
		if have == benchCases {
			return
		}
		start := time.Now()
		if err := reporttest.BulkCases(context.Background(), benchDB, benchCases, first, 10*time.Second); err != nil {
			b.Fatal(err)
		}
		if _, err := benchDB.Write.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %d cases in %v", benchCases, time.Since(start).Round(time.Millisecond))
	})
	workers, _ := strconv.Atoi(os.Getenv("KYCDESK_EXPORT_WORKERS")) // 0: the server's default
	nice, _ := strconv.Atoi(os.Getenv("KYCDESK_EXPORT_NICE"))       // 0: SCHED_IDLE (the default); -1: the process's own
	rp := &report.Reporter{Read: benchDB.Read, Now: func() time.Time { return first.AddDate(1, 0, 0) }, Workers: workers, Nice: nice}
	r := report.Range{From: first, To: first.AddDate(1, 0, 0)} // every seeded case (10 s apart: 116 days)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peakHeap, peakSys uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			peakHeap, peakSys = max(peakHeap, m.HeapInuse), max(peakSys, m.Sys)
		}
	}()
	var bytes int64
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		sink := countingSink{Writer: bufio.NewWriterSize(counter{&bytes}, 64<<10)}
		n, err := rp.Write(context.Background(), "cases", r, sink)
		if err != nil || n != benchCases {
			b.Fatalf("Write = %d, %v", n, err)
		}
	}
	b.StopTimer()
	close(stop)
	<-sampled
	b.ReportMetric(float64(benchCases)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	// Rows per CPU second (user+system, all threads): the figure a busy machine does not bend.
	b.ReportMetric(float64(benchCases)*float64(b.N)/(cpuTime()-cpu0).Seconds(), "rows/cpu-s")
	b.ReportMetric(float64(bytes)/float64(b.N)/(1<<20), "MiB-csv/op")
	b.ReportMetric(float64(int64(peakHeap)-int64(before.HeapInuse))/(1<<20), "MiB-heapinuse-growth")
	b.ReportMetric(float64(int64(peakSys)-int64(before.Sys))/(1<<20), "MiB-sys-growth")
}

var _ io.Writer = counter{}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
