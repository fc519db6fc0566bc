package audit

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
)

// BulkChain appends n well-formed entries to an empty trail in multi-row INSERTs, hashing
// them here rather than through Append, so a benchmark can build a million in seconds.
// The entries look like the real trail's: emails, case references, JSON details.
func bulkChain(tb testing.TB, d *db.DB, n int) {
	tb.Helper()
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	actions := []string{"case.result_received", "case.claimed", "case.decided", "auth.login", "document.viewed"}
	const cols, per = 8, 30000 / 8
	tuple := "(?,?,?,?,?,?,?,?)"
	prev := Genesis
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		for lo := 1; lo <= n; lo += per {
			hi := min(lo+per, n+1)
			args := make([]any, 0, (hi-lo)*cols)
			for seq := lo; seq < hi; seq++ {
				at := start.Add(time.Duration(seq) * 250 * time.Millisecond).Format(TimeFormat)
				actor := fmt.Sprintf("analyst%d@example.com", seq%40)
				action := actions[seq%len(actions)]
				subject := fmt.Sprintf("vrf-2026-%07d", seq/3)
				details := fmt.Sprintf(`{"case_id":"c%012d","decision":"approve","reason_code":"verified","round":1,"note":"Nguyễn Thu Hương"}`, seq/3)
				h := hash(int64(seq), at, actor, action, subject, details, prev)
				args = append(args, seq, at, actor, action, subject, details, prev, h)
				prev = h
			}
			q := "INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) VALUES " +
				strings.TrimSuffix(strings.Repeat(tuple+",", hi-lo), ",")
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := d.Write.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		tb.Fatal(err)
	}
}

var (
	benchOnce sync.Once
	benchDB   *db.DB
)

// BenchmarkVerify1M walks a chain of 1,000,000 entries (issue 12: under 5 s).
//
//	go test -run '^$' -bench BenchmarkVerify1M -benchtime 3x ./internal/audit/
func BenchmarkVerify1M(b *testing.B) {
	const n = 1_000_000
	benchOnce.Do(func() {
		benchDB = openDB(&testing.T{}) // cleanups never run: the temp dir goes with the process
		start := time.Now()
		bulkChain(b, benchDB, n)
		b.Logf("built a chain of %d entries in %v", n, time.Since(start).Round(time.Millisecond))
	})
	d := benchDB
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		got, err := Verify(context.Background(), d.Read)
		if err != nil || got != n {
			b.Fatalf("Verify = %d, %v", got, err)
		}
	}
	// CPU seconds (user+system, all threads) tell the work apart from a busy machine's wait.
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/verify")
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/verify")
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

func TestBulkChainVerifies(t *testing.T) {
	d := openDB(t)
	bulkChain(t, d, 5000)
	if n, err := Verify(context.Background(), d.Read); n != 5000 || err != nil {
		t.Fatalf("Verify = %d, %v", n, err)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
