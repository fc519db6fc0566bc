package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/config"
	"github.com/kycdesk/kycdesk/internal/id"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/report"
	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

// benchExport measures whether a CSV export slows webhook acknowledgement: a real server
// on loopback over a database of N cases takes signed deliveries for a while alone, then
// as long again while a signed-in lead downloads GET /reports/cases.csv over and over beside
// them, as users run it. It prints the acknowledgement p50/p99 of both runs and the export's rows/s.
func (m *Main) benchExport(ctx context.Context, args []string) error {
	f := newFlags("bench export")
	n := f.Int("cases", 300_000, "cases in the database the export reads")
	seconds := f.Int("seconds", 10, "how long each run drives load")
	concurrency := f.Int("concurrency", 32, "concurrent senders")
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
	if err != nil {
		st.Close()
		return err
	}
	const lead = "bench.lead@example.com"
	_, totpSecret, err := enrolBenchUser(ctx, auth.NewUsers(st.db, auth.NewHasher(0), st.sealer, nil), lead, "Bench Lead", auth.Lead)
	st.Close()
	if err != nil {
		return fmt.Errorf("bench export: %w", err)
	}
	m.printf("bench export: %d cases seeded in %v; %d senders, %ds per run, synchronous=FULL, worker off\n",
		*n, time.Since(start).Round(time.Second), *concurrency, *seconds)

	cfg := config.Default()
	cfg.Addr, cfg.DataDir, cfg.NoWorker, cfg.InsecureCookies = "127.0.0.1:0", dir, true, true
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
	waitSearchIndex(m, "bench export", base)
	cookie, err := signInBench(base, lead, benchPassword, totpSecret)
	if err != nil {
		return fmt.Errorf("bench export: sign in: %w", err)
	}
	key, _ := webhookauth.ParseSecret(secret)
	d := time.Duration(*seconds) * time.Second
	url := base + "/reports/cases.csv?from=" + first.Format(report.DateLayout) + "&to=" + time.Now().UTC().Format(report.DateLayout)

	run := func(label string, export bool) error {
		gen := newLoadGen(base+in.WebhookPath(), key, label, *concurrency)
		exCtx, exStop := context.WithCancel(ctx)
		var rows atomic.Int64
		exDone := make(chan error, 1)
		t0 := time.Now()
		if export {
			go func() {
				var err error
				for exCtx.Err() == nil && err == nil {
					err = downloadCSV(exCtx, url, cookie, &rows)
				}
				if exCtx.Err() != nil {
					err = nil // stopped at the run's end
				}
				exDone <- err
			}()
		}
		res := gen.run(ctx, d, *concurrency)
		exStop()
		line := fmt.Sprintf("%s: %.0f deliveries/s p50 %s p99 %s (%d acknowledged, %d not)", label,
			float64(res.acked)/res.elapsed.Seconds(), ms(res.percentile(50)), ms(res.percentile(99)), res.acked, res.failed)
		if export {
			if err := <-exDone; err != nil {
				return fmt.Errorf("bench export: download: %w", err)
			}
			took := time.Since(t0)
			line += fmt.Sprintf("; downloads beside it: %d rows in %v, %.0f rows/s", rows.Load(), took.Round(time.Millisecond), float64(rows.Load())/took.Seconds())
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

// downloadCSV downloads one CSV report as the signed-in session cookie, adding its data
// rows to rows as they arrive: lines after the header (no seeded case holds a line break).
func downloadCSV(ctx context.Context, url, cookie string, rows *atomic.Int64) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Cookie", cookie)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		return fmt.Errorf("GET %s: %s %s", url, resp.Status, resp.Header.Get("Location"))
	}
	buf := make([]byte, 64<<10)
	header := true
	for {
		k, err := resp.Body.Read(buf)
		lines := int64(bytes.Count(buf[:k], []byte{'\n'}))
		if header && lines > 0 {
			lines, header = lines-1, false
		}
		rows.Add(lines)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
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
