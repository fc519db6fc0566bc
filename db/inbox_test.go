package db

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// openPair opens kycdesk.db in dir with one integration, without the inbox file.
func openPair(t *testing.T, dir string) *DB {
	t.Helper()
	d, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Write.Exec(`INSERT OR IGNORE INTO integrations (id, name, provider, auth_mode, created_at, updated_at)
		VALUES ('i1', 'acme', 'generic', 'hmac', 1, 1)`); err != nil {
		t.Fatal(err)
	}
	return d
}

func openInbox(t *testing.T, dir string, main *DB) *DB {
	t.Helper()
	ib, err := OpenInbox(context.Background(), dir, main)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ib.Close() })
	return ib
}

func count(t *testing.T, d *DB, q string) int {
	t.Helper()
	var n int
	if err := d.Read.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

const legacyRows = `INSERT INTO inbox (id, integration_id, provider, delivery_key, received_at, payload, state, case_id) VALUES
	(1, 'i1', 'generic', 'k1', 10, x'01', 'done', 'c1'),
	(2, 'i1', 'generic', 'k2', 20, x'02', 'pending', NULL),
	(3, 'i1', 'generic', 'k3', 30, x'03', 'dead', NULL)`

// TestOpenInboxAdoptsOldRows: a data dir from before the inbox had its own file (or one
// restored from a one-file backup) keeps every delivery, with its id and state, and no new
// delivery takes an id that kycdesk.db already recorded as applied.
func TestOpenInboxAdoptsOldRows(t *testing.T) {
	dir := t.TempDir()
	main := openPair(t, dir)
	for _, q := range []string{legacyRows,
		`INSERT INTO delivery_stats (integration_id, hour, outcome, n) VALUES ('i1', 0, 'accepted', 3)`,
		`INSERT INTO inbox_applied (inbox_id, case_id, applied_at) VALUES (1, 'c1', 11), (7, 'c7', 70)`} {
		if _, err := main.Write.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	ib := openInbox(t, dir, main)
	var got string
	if err := ib.Read.QueryRow(`SELECT group_concat(id || ':' || delivery_key || ':' || state, ' ') FROM (SELECT * FROM inbox ORDER BY id)`).
		Scan(&got); err != nil || got != "1:k1:done 2:k2:pending 3:k3:dead" {
		t.Fatalf("moved inbox = %q, %v", got, err)
	}
	if n := count(t, ib, `SELECT n FROM delivery_stats WHERE outcome = 'accepted'`); n != 3 {
		t.Errorf("moved counter = %d, want 3", n)
	}
	if n := count(t, main, `SELECT (SELECT COUNT(*) FROM inbox) + (SELECT COUNT(*) FROM delivery_stats)`); n != 0 {
		t.Errorf("%d rows left in kycdesk.db's old inbox tables", n)
	}
	res, err := ib.Write.Exec(`INSERT INTO inbox (integration_id, provider, delivery_key, received_at, payload) VALUES ('i1', 'generic', 'k4', 40, x'04')`)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := res.LastInsertId(); id <= 7 {
		t.Errorf("new delivery got id %d, one kycdesk.db may have applied already (7)", id)
	}

	// Opening again moves nothing twice.
	ib.Close()
	ib = openInbox(t, dir, main)
	if n := count(t, ib, `SELECT COUNT(*) FROM inbox`); n != 4 {
		t.Errorf("inbox has %d rows after a second open, want 4", n)
	}
}

// TestBackupAllRoundTrip: the one-file backup restores, into an empty data dir, both the
// cases' database and the inbox with its states and counters.
func TestBackupAllRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	main := openPair(t, dir)
	ib := openInbox(t, dir, main)
	if _, err := ib.Write.Exec(legacyRows); err != nil {
		t.Fatal(err)
	}
	if _, err := ib.Write.Exec(`INSERT INTO delivery_stats (integration_id, hour, outcome, n) VALUES ('i1', 0, 'auth_failed', 5)`); err != nil {
		t.Fatal(err)
	}
	if _, err := main.Write.Exec(`INSERT INTO inbox_applied (inbox_id, case_id, applied_at) VALUES (1, 'c1', 11)`); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "backup.db")
	if err := BackupAll(ctx, main, ib, dest); err != nil {
		t.Fatal(err)
	}
	if err := BackupAll(ctx, main, ib, dest); err == nil {
		t.Error("backup overwrote an existing file")
	}
	if left, _ := filepath.Glob(dest + ".inbox-part*"); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	restored := t.TempDir()
	data, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, FileName), data, 0o600); err != nil {
		t.Fatal(err)
	}
	rmain := openPair(t, restored)
	rib := openInbox(t, restored, rmain)
	var got string
	if err := rib.Read.QueryRow(`SELECT group_concat(id || ':' || state, ' ') FROM (SELECT * FROM inbox ORDER BY id)`).Scan(&got); err != nil ||
		got != "1:done 2:pending 3:dead" {
		t.Errorf("restored inbox = %q, %v", got, err)
	}
	if n := count(t, rib, `SELECT n FROM delivery_stats WHERE outcome = 'auth_failed'`); n != 5 {
		t.Errorf("restored counter = %d, want 5", n)
	}
	if n := count(t, rmain, `SELECT COUNT(*) FROM inbox_applied`); n != 1 {
		t.Errorf("restored inbox_applied has %d rows, want 1", n)
	}
	var check string
	if err := rmain.Read.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %s %v", check, err)
	}
}

// TestOpenInboxKeepsIDsAboveApplied: a new inbox file beside a kycdesk.db that applied rows
// (the inbox file was lost or restored empty) never reuses an applied id.
func TestOpenInboxKeepsIDsAboveApplied(t *testing.T) {
	dir := t.TempDir()
	main := openPair(t, dir)
	if _, err := main.Write.Exec(`INSERT INTO inbox_applied (inbox_id, case_id, applied_at) VALUES (5, 'c5', 50)`); err != nil {
		t.Fatal(err)
	}
	ib := openInbox(t, dir, main)
	res, err := ib.Write.Exec(`INSERT INTO inbox (integration_id, provider, delivery_key, received_at, payload) VALUES ('i1', 'generic', 'k', 1, x'00')`)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := res.LastInsertId(); id != 6 {
		t.Errorf("first delivery got id %d, want 6", id)
	}
}
