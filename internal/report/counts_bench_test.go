package report_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/report"
	"github.com/kycdesk/kycdesk/internal/report/reporttest"
)

// BenchmarkReportCounts1M is the /reports page's row counts for the last 30 days over
// 1,000,000 cases (10 s apart, half decided), read from the dashboard's rollups
// (Reporter.Counts), beside the COUNT(*) over the cases_created index range that the page
// used before (counting the same 30 days), to show what the rollups save.
//
//	KYCDESK_BENCH_DIR=/tmp/kb go test -run '^$' -bench BenchmarkReportCounts1M -benchtime 200x ./internal/report/
func BenchmarkReportCounts1M(b *testing.B) {
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dir := os.Getenv("KYCDESK_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	d, err := db.Open(context.Background(), filepath.Join(dir, "report-counts-1m"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	var have int
	_ = d.Read.QueryRow(`SELECT COUNT(*) FROM cases`).Scan(&have)
	if have != benchCases {
		start := time.Now()
		if err := reporttest.BulkCases(context.Background(), d, benchCases, first, 10*time.Second); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %d cases in %v", benchCases, time.Since(start).Round(time.Millisecond))
	}
	now := first.Add(benchCases * 10 * time.Second)
	rp := &report.Reporter{Read: d.Read, Now: func() time.Time { return now }}
	r, err := report.ParseRange("", "", now)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("rollups", func(b *testing.B) {
		for b.Loop() {
			c, err := rp.Counts(ctx, r)
			if err != nil || c["cases"] == 0 {
				b.Fatalf("counts %v, %v", c, err)
			}
		}
	})
	b.Run("index-range", func(b *testing.B) {
		for b.Loop() {
			var n int64
			if err := d.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM cases WHERE created_at >= ? AND created_at < ?`,
				db.Millis(r.From), db.Millis(r.To)).Scan(&n); err != nil || n == 0 {
				b.Fatalf("count %d, %v", n, err)
			}
		}
	})
}
