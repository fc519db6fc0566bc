package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/db"
)

// TestAuditCheckpointContract: `audit checkpoint` prints SEQ:HASH; `audit verify
// --checkpoint` passes on the same chain and fails (exit 1, `broken at seq S: …`) once the
// chain is cut back below it or rewritten from the start; a malformed checkpoint is exit 2.
func TestAuditCheckpointContract(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if code, _, errOut := runMain(t, "Quiet-Harbor-Lantern-77\n", nil, "user", "create", "--email", "ana@example.com", "--role", "analyst", "--data", dir); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut := runMain(t, "", nil, "audit", "checkpoint", "--data", dir)
	if code != 0 || !regexp.MustCompile(`^2:[0-9a-f]{64}\n$`).MatchString(out) || errOut != "" {
		t.Fatalf("audit checkpoint: exit %d, %q %q", code, out, errOut)
	}
	cp := strings.TrimSpace(out)
	if code, out, _ := runMain(t, "", nil, "audit", "verify", "--checkpoint", cp, "--data", dir); code != 0 || out != "ok: 2 entries\n" {
		t.Fatalf("verify with checkpoint: exit %d, %q", code, out)
	}
	for _, bad := range []string{"2", "x:y", "2:" + strings.Repeat("A", 64)} {
		if code, _, errOut := runMain(t, "", nil, "audit", "verify", "--checkpoint", bad, "--data", dir); code != 2 || !strings.HasPrefix(errOut, "kycdesk: audit verify: --checkpoint") {
			t.Errorf("checkpoint %q: exit %d, %q", bad, code, errOut)
		}
	}

	// Cut the chain back below the checkpoint, behind kycdesk's back.
	d, err := db.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER audit_log_no_delete`, `DELETE FROM audit_log WHERE seq = 2`} {
		if _, err := d.Write.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()
	if code, out, _ := runMain(t, "", nil, "audit", "verify", "--data", dir); code != 0 || out != "ok: 1 entries\n" {
		t.Fatalf("without the checkpoint the shorter chain verifies: exit %d, %q", code, out)
	}
	code, out, _ = runMain(t, "", nil, "audit", "verify", "--checkpoint", cp, "--data", dir)
	if code != 1 || !strings.HasPrefix(out, "broken at seq 2: entry missing: the chain ends at seq 1") {
		t.Fatalf("verify of the cut chain: exit %d, %q", code, out)
	}
}
