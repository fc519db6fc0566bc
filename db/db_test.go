package db

import (
	"context"
	"path/filepath"
	"testing"
)

func TestOpenSettings(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, tt := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
	} {
		var got string
		if err := d.Write.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("writer %s = %s, want %s", tt.pragma, got, tt.want)
		}
		if err := d.Read.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("reader %s = %s, want %s", tt.pragma, got, tt.want)
		}
	}
	if _, err := d.Read.ExecContext(ctx, `INSERT INTO login_attempts (email, ip, at, success) VALUES ('a', 'b', 1, 0)`); err == nil {
		t.Error("the read pool accepted a write")
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	d, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	applied, err := d.MigrateReport(ctx)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second migrate applied %v, %v", applied, err)
	}
}

func TestBackupIsAConsistentCopy(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for i := range 500 {
		if _, err := d.Write.ExecContext(ctx, `INSERT INTO login_attempts (email, ip, at, success) VALUES (?, '127.0.0.1', ?, 0)`, "u@example.com", i); err != nil {
			t.Fatal(err)
		}
	}
	dest := filepath.Join(t.TempDir(), "copy.db")
	if err := d.Backup(ctx, dest); err != nil {
		t.Fatal(err)
	}
	if err := d.Backup(ctx, dest); err == nil {
		t.Error("backup overwrote an existing file")
	}
	c, err := OpenFile(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var n int
	if err := c.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM login_attempts`).Scan(&n); err != nil || n != 500 {
		t.Fatalf("copy has %d rows (%v), want 500", n, err)
	}
	var check string
	if err := c.Read.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %s %v", check, err)
	}
}
