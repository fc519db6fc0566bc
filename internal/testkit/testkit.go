// Package testkit holds test helpers shared by packages' tests: a real SQLite store in a temp
// dir, EXPLAIN QUERY PLAN steps, audit-trail checks. Never imported by production code.
package testkit

// It imports db, internal/crypto and internal/audit, so in-package tests of those three
// (package audit, not audit_test) cannot use it: that would be an import cycle.

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/crypto"
)

// Store opens a migrated database in a new t.TempDir() and a sealer keyed by the master key
// made there; the database closes when the test ends.
func Store(t testing.TB) (*db.DB, *crypto.Sealer) {
	t.Helper()
	return StoreAt(t, t.TempDir())
}

// StoreAt is Store in dir, for tests that also hand the data dir to a config.
func StoreAt(t testing.TB, dir string) (*db.DB, *crypto.Sealer) {
	t.Helper()
	d := open(t, dir)
	key, err := crypto.LoadMasterKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := crypto.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return d, sealer
}

// DB is Store without the master key, for packages that seal nothing.
func DB(t testing.TB) *db.DB {
	t.Helper()
	return open(t, t.TempDir())
}

func open(t testing.TB, dir string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	// Registered now, so it runs after any cleanup the caller registers later (workers
	// that use the database stop before it closes).
	t.Cleanup(func() { d.Close() })
	return d
}

// QueryPlan returns the detail column of EXPLAIN QUERY PLAN for query, one step a line,
// read on the read pool as the pages and workers run it.
func QueryPlan(t testing.TB, d *db.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := d.Read.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN QUERY PLAN %s: %v", query, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// VerifyAudit fails the test unless the audit chain verifies, and returns how many entries it holds.
func VerifyAudit(t testing.TB, d *db.DB) int64 {
	t.Helper()
	n, err := audit.Verify(context.Background(), d.Read)
	if err != nil {
		t.Fatalf("audit chain: %v", err)
	}
	return n
}

// AuditActions returns the actions of the trail's entries about subject, oldest first.
func AuditActions(t testing.TB, d *db.DB, subject string) []string {
	t.Helper()
	entries, err := audit.List(context.Background(), d.Read, audit.Filter{Subject: subject, Asc: true, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, en := range entries {
		out = append(out, en.Action)
	}
	return out
}

// Inbox opens the inbox file (db.OpenInbox) beside main, in main's directory; it closes when
// the test ends, after any cleanup registered later.
func Inbox(t testing.TB, main *db.DB) *db.DB {
	t.Helper()
	d, err := db.OpenInbox(context.Background(), filepath.Dir(main.Path), main)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}
