package testkit_test

import (
	"context"
	"database/sql"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

func TestStore(t *testing.T) {
	d, sealer := testkit.Store(t)
	var n int
	if err := d.Read.QueryRow(`SELECT COUNT(*) FROM audit_log`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("not a migrated, empty database: %d %v", n, err)
	}
	plain, err := sealer.Open(sealer.Seal([]byte("secret"), []byte("ad")), []byte("ad"))
	if err != nil || string(plain) != "secret" {
		t.Fatalf("sealer round trip: %q %v", plain, err)
	}
	// Two stores in one test are separate databases.
	other := testkit.DB(t)
	if d.Path == other.Path {
		t.Errorf("both stores at %s", d.Path)
	}
}

func TestQueryPlan(t *testing.T) {
	d := testkit.DB(t)
	plan := testkit.QueryPlan(t, d, `SELECT seq FROM audit_log WHERE actor = ? ORDER BY seq DESC`, "x")
	if len(plan) == 0 || !strings.Contains(strings.Join(plan, "; "), "audit_log_actor") {
		t.Errorf("plan = %q, want the actor index", plan)
	}
}

func TestAuditHelpers(t *testing.T) {
	d := testkit.DB(t)
	ctx := context.Background()
	for _, e := range []audit.Entry{
		{Actor: "a@example.com", Action: "case.claim", Subject: "REF-1"},
		{Actor: "a@example.com", Action: "user.created", Subject: "b@example.com"},
		{Actor: "a@example.com", Action: "case.approve", Subject: "REF-1"},
	} {
		if err := d.Tx(ctx, func(tx *sql.Tx) error { _, err := audit.Append(ctx, tx, e); return err }); err != nil {
			t.Fatal(err)
		}
	}
	if n := testkit.VerifyAudit(t, d); n != 3 {
		t.Errorf("VerifyAudit = %d, want 3", n)
	}
	if got, want := testkit.AuditActions(t, d, "REF-1"), []string{"case.claim", "case.approve"}; !slices.Equal(got, want) {
		t.Errorf("AuditActions = %q, want %q", got, want)
	}
}

// TestNotInProduction: no non-test file of the module imports testkit, so test helpers
// (and the temp-dir stores they make) never reach the binary.
func TestNotInProduction(t *testing.T) {
	const self = "github.com/kycdesk/kycdesk/internal/testkit"
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	err = filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if name := e.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == self {
				t.Errorf("%s imports %s", path, self)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("read %d Go files under %s: not the module root?", files, root)
	}
}
