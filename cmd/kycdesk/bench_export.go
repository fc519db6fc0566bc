package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/config"
	"github.com/kycdesk/kycdesk/internal/id"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/report"
	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

// benchExport measures whether a CSV export slows webhook acknowledgement: a real server
// on loopback over a database of N cases takes signed deliveries for a while alone, then
// as long again while the cases report is exported over and over beside it, from a read
// pool of the same database file (the code path of GET /reports/cases.csv, without the
// HTTP of the download). It prints the acknowledgement p50/p99 of both runs and the export's rows/s.
func (m *Main) benchExport(ctx context.Context, args []string) error {
	f := newFlags("bench export")
	n := f.Int("cases", 300_000, "cases in the database the export reads")
	seconds := f.Int("seconds", 10, "how long each run drives load")
	concurrency := f.Int("concurrency", 32, "concurrent senders")
	workers := f.Int("workers", 0, "export workers (0: the server's default, one fewer than the CPUs)")
	nice := f.Int("nice", 0, "niceness of the export workers' threads (0: the server's default, the SCHED_IDLE policy; -1: the process's own)")
	if err := f.parse(args); err != nil {
		return err
	}
	if *n < 1 || *seconds < 1 || *concurrency < 1 {
		return usagef("bench export: --cases, --seconds and --concurrency must be at least 1")
	}
	dir, err := os.MkdirTemp("", "kycdesk-bench-export-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := openStore(ctx, dir)
	if err != nil {
		return err
	}
	first := time.Now().UTC().AddDate(0, 0, -20)
	start := time.Now()
	if err := seedCases(ctx, st.db, *n, first, 20*24*time.Hour/time.Duration(*n)); err != nil {
		st.Close()
		return err
	}
	_, _ = st.db.Write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	in, secret, err := integration.NewStore(st.db, st.sealer).Create(ctx, "cli", integration.Spec{Provider: integration.Generic, AuthMode: integration.AuthHMAC})
	st.Close()
	if err != nil {
		return err
	}
	m.printf("bench export: %d cases seeded in %v; %d senders, %ds per run, synchronous=FULL, worker off\n",
		*n, time.Since(start).Round(time.Second), *concurrency, *seconds)

	cfg := config.Default()
	cfg.Addr, cfg.DataDir, cfg.NoWorker = "127.0.0.1:0", dir, true
	cfg.PublicURL = "http://" + cfg.Addr
	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	started, done := make(chan string, 1), make(chan error, 1)
	srvMain := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	go func() { done <- srvMain.runServer(srvCtx, cfg, func(base string) { started <- base }) }()
	var base string
	select {
	case base = <-started:
	case err := <-done:
		return fmt.Errorf("bench export: server: %w", err)
	}
	key, _ := webhookauth.ParseSecret(secret)
	d := time.Duration(*seconds) * time.Second

	run := func(label string, export bool) error {
		gen := newLoadGen(base+in.WebhookPath(), key, label, *concurrency)
		exCtx, exStop := context.WithCancel(ctx)
		var rows atomic.Int64
		exDone := make(chan time.Duration, 1)
		if export {
			reader, err := db.Open(ctx, dir) // its own read pool, as the server's handler uses the server's
			if err != nil {
				exStop()
				return err
			}
			defer reader.Close()
			rp := &report.Reporter{Read: reader.Read, Now: time.Now, Workers: *workers, Nice: *nice}
			r := report.Range{From: first.Truncate(24 * time.Hour), To: time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)}
			go func() {
				t0 := time.Now()
				for exCtx.Err() == nil {
					got, err := rp.Write(exCtx, "cases", r, bufio.NewWriterSize(io.Discard, 64<<10))
					rows.Add(got)
					if err != nil {
						break
					}
				}
				exDone <- time.Since(t0)
			}()
		}
		res := gen.run(ctx, d, *concurrency)
		exStop()
		line := fmt.Sprintf("%s: %.0f deliveries/s p50 %s p99 %s (%d acknowledged, %d not)", label,
			float64(res.acked)/res.elapsed.Seconds(), ms(res.percentile(50)), ms(res.percentile(99)), res.acked, res.failed)
		if export {
			took := <-exDone
			line += fmt.Sprintf("; export beside it: %d rows in %v, %.0f rows/s", rows.Load(), took.Round(time.Millisecond), float64(rows.Load())/took.Seconds())
		}
		m.printf("%s\n", line)
		return nil
	}
	if err := run("ingest alone", false); err != nil {
		return err
	}
	if err := run("ingest during export", true); err != nil {
		return err
	}
	stop()
	return <-done
}

// seedCases inserts n cases created from first, step apart, in multi-row INSERTs.
func seedCases(ctx context.Context, d *db.DB, n int, first time.Time, step time.Duration) error {
	iid := id.Short()
	now := db.Millis(first)
	if _, err := d.Write.ExecContext(ctx, `INSERT INTO integrations (id, name, provider, auth_mode, created_at, updated_at)
		VALUES (?, ?, 'generic', 'hmac', ?, ?)`, iid, "seed-"+iid, now, now); err != nil {
		return err
	}
	cols := []string{"id", "integration_id", "provider", "reference", "status", "result", "risk_level", "result_at",
		"full_name", "sla_due", "created_at", "updated_at", "id_number_hash"}
	// Rows are generated and written a batch at a time, so a million cases never sit in memory.
	const batch = 10000
	return d.Tx(ctx, func(tx *sql.Tx) error {
		for lo := 0; lo < n; lo += batch {
			hi := min(lo+batch, n)
			rows := make([][]any, 0, hi-lo)
			for i := lo; i < hi; i++ {
				ms := db.Millis(first.Add(time.Duration(i) * step))
				rows = append(rows, []any{id.New(), iid, "generic", fmt.Sprintf("seed-%08d", i), "in_review", "review", "medium", ms,
					"Nguyễn Thu Hương", ms + 86_400_000, ms, ms, []byte{}}) // no ID number: nothing for the start-up backfill
			}
			if err := db.InsertRows(ctx, tx, "cases", cols, rows); err != nil {
				return err
			}
		}
		return nil
	})
}
