package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

// child is a `kycdesk serve` process.
type child struct {
	cmd  *exec.Cmd
	base string
}

// startChild runs the binary's serve on a random loopback port of dataDir and waits for
// its "kycdesk listening on" line. Its log goes to logPath.
func startChild(t *testing.T, bin, dataDir, logPath string, extra ...string) *child {
	t.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	cmd := exec.Command(bin, append([]string{"serve", "--data", dataDir, "--addr", "127.0.0.1:0"}, extra...)...)
	cmd.Stderr = logFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if base, ok := strings.CutPrefix(sc.Text(), "kycdesk listening on "); ok {
				lines <- base
			}
		}
	}()
	select {
	case base := <-lines:
		return &child{cmd: cmd, base: strings.TrimSpace(base)}
	case <-time.After(60 * time.Second):
		t.Fatal("the server did not start")
	}
	return nil
}

// TestCrashKeepsAcknowledged kills a server with SIGKILL while signed deliveries stream in
// at full speed, restarts it on the same data dir, and checks that every delivery that got
// a 2xx is in the inbox: an acknowledgement is only ever sent after the commit. The first
// server only takes deliveries (--no-worker), so the flood measures ingestion; the second
// processes them and is killed mid-way too; the third finishes, and every acknowledged
// delivery must have been processed exactly once.
func TestCrashKeepsAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives it for seconds")
	}
	bin := kycdeskBinary(t)
	tmp := t.TempDir()
	dataDir := filepath.Join(tmp, "data")
	srv := startChild(t, bin, dataDir, filepath.Join(tmp, "serve-1.log"), "--no-worker")

	// Registered while the server runs: it must be taken up without a restart.
	out, err := exec.Command(bin, "integration", "add", "--data", dataDir, "--provider", "generic", "--auth", "hmac", "--json").Output()
	if err != nil {
		t.Fatalf("integration add: %v", err)
	}
	var reg struct{ ID, Secret, WebhookURL string }
	if err := json.Unmarshal(out, &struct {
		ID     *string `json:"id"`
		Secret *string `json:"secret"`
		URL    *string `json:"webhook_url"`
	}{&reg.ID, &reg.Secret, &reg.WebhookURL}); err != nil {
		t.Fatalf("integration add printed %q: %v", out, err)
	}
	u, err := url.Parse(reg.WebhookURL)
	if err != nil {
		t.Fatal(err)
	}
	key, err := webhookauth.ParseSecret(reg.Secret)
	if err != nil {
		t.Fatal(err)
	}
	gen := newLoadGen(srv.base+u.Path, key, "crash", 64)

	// Senders run until the kill; each keeps the ids that got a 2xx.
	ctx, stopSending := context.WithCancel(context.Background())
	defer stopSending()
	var acked sync.Map
	var nAcked, nRefused atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				id, status, err := gen.send(ctx)
				switch {
				case err == nil && status/100 == 2:
					acked.Store(id, true)
					nAcked.Add(1)
				case err == nil:
					nRefused.Add(1)
				}
			}
		}()
	}
	// Kill mid-stream: after enough acknowledgements to be sure batches are in flight.
	deadline := time.Now().Add(20 * time.Second)
	for nAcked.Load() < 6000 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = srv.cmd.Wait()
	stopSending()
	wg.Wait()
	rate := float64(nAcked.Load()) / elapsed.Seconds()
	t.Logf("%d acknowledged (%d refused) in %s before SIGKILL: %.0f/s", nAcked.Load(), nRefused.Load(), elapsed.Round(time.Millisecond), rate)
	if nAcked.Load() == 0 {
		t.Fatal("nothing was acknowledged")
	}
	if nRefused.Load() > 0 {
		t.Errorf("%d deliveries refused before the kill", nRefused.Load())
	}
	if rate < 2000 {
		t.Logf("note: below the 2,000/s the test aims at (shared machine?)")
	}

	srv = startChild(t, bin, dataDir, filepath.Join(tmp, "serve-2.log"))
	d, err := db.Open(context.Background(), dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ib, err := db.OpenInbox(context.Background(), dataDir, d)
	if err != nil {
		t.Fatal(err)
	}
	defer ib.Close()
	stored := map[string]bool{}
	rows, err := ib.Read.Query(`SELECT delivery_key FROM inbox WHERE integration_id = ?`, reg.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		stored[k] = true
	}
	rows.Close()
	missing := 0
	acked.Range(func(k, _ any) bool {
		if !stored[k.(string)] {
			missing++
		}
		return true
	})
	if missing > 0 {
		t.Fatalf("%d acknowledged deliveries are not in the inbox after the crash", missing)
	}
	t.Logf("all %d acknowledged deliveries survived; %d stored in total (stored but unacknowledged ones are retried by the sender and deduplicated)",
		nAcked.Load(), len(stored))

	// Kill the processing server too, part way through the inbox: processing resumes
	// after the restart and must neither lose nor repeat a delivery.
	waitFor(t, 60*time.Second, "the worker to process a quarter of the deliveries", func() bool {
		return countRows(t, ib, `SELECT COUNT(*) FROM inbox WHERE integration_id = ? AND state = 'done'`, reg.ID) >= len(stored)/4
	})
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = srv.cmd.Wait()
	done := countRows(t, ib, `SELECT COUNT(*) FROM inbox WHERE integration_id = ? AND state = 'done'`, reg.ID)
	applied := countRows(t, d, `SELECT COUNT(*) FROM inbox_applied`)
	t.Logf("second server killed with %d of %d deliveries processed (%d applied in kycdesk.db)", done, len(stored), applied)
	srv = startChild(t, bin, dataDir, filepath.Join(tmp, "serve-3.log"))

	checkProcessedOnce(t, d, ib, reg.ID, &acked, len(stored))

	// After the restart the server takes deliveries again, and redelivering an
	// acknowledged one is a duplicate: no new work.
	gen2 := newLoadGen(srv.base+u.Path, key, "after", 1)
	if _, status, err := gen2.send(context.Background()); err != nil || status != 202 {
		t.Fatalf("new delivery after restart: %d %v", status, err)
	}
	var oneAcked string
	acked.Range(func(k, _ any) bool { oneAcked = k.(string); return false })
	if status, err := gen2.sendID(context.Background(), oneAcked); err != nil || status != 200 {
		t.Fatalf("redelivery of %s after restart: %d %v", oneAcked, status, err)
	}
}

// checkProcessedOnce waits for the worker to drain the inbox and checks that every
// acknowledged delivery made exactly one case (the generic body's reference is its
// webhook-id). Without a worker in the server nothing is processed: the test says so.
func checkProcessedOnce(t *testing.T, d, ib *db.DB, integrationID string, acked *sync.Map, stored int) {
	t.Helper()
	count := func(q string) int {
		var n int
		if err := ib.Read.QueryRow(q, integrationID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(3 * time.Minute)
	for count(`SELECT COUNT(*) FROM inbox WHERE integration_id = ? AND state = 'pending'`) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the worker did not drain the inbox within 3 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := count(`SELECT COUNT(*) FROM inbox WHERE integration_id = ? AND state = 'dead'`); n > 0 {
		t.Errorf("%d deliveries dead-lettered", n)
	}
	perRef := map[string]int{}
	rows, err := d.Read.Query(`SELECT reference FROM cases WHERE integration_id = ?`, integrationID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ref string
		if err := rows.Scan(&ref); err != nil {
			t.Fatal(err)
		}
		perRef[ref]++
	}
	rows.Close()
	// The case table's uniqueness makes "one case" easy; the audit trail tells whether
	// a delivery was applied more than once: one case.created per reference, nothing else.
	applied := map[string]int{}
	rows, err = d.Read.Query(`SELECT subject, COUNT(*) FROM audit_log WHERE action LIKE 'case.%' GROUP BY subject`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ref string
		var n int
		if err := rows.Scan(&ref, &n); err != nil {
			t.Fatal(err)
		}
		applied[ref] = n
	}
	rows.Close()
	bad := 0
	acked.Range(func(k, _ any) bool {
		if perRef[k.(string)] != 1 || applied[k.(string)] != 1 {
			if bad++; bad <= 5 {
				t.Errorf("delivery %s: %d cases, applied %d times; want 1 and 1", k, perRef[k.(string)], applied[k.(string)])
			}
		}
		return true
	})
	if len(perRef) != stored {
		t.Errorf("%d cases for %d stored deliveries", len(perRef), stored)
	}
	if n := countRows(t, d, `SELECT COUNT(*) FROM inbox_applied`); n != stored {
		t.Errorf("%d inbox rows recorded as applied for %d stored deliveries", n, stored)
	}
	if n, err := audit.Verify(context.Background(), d.Read); err != nil {
		t.Errorf("audit chain after two crashes: %v (%d entries)", err, n)
	}
}

func countRows(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Read.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
