package cases_test

import (
	"slices"
	"testing"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/errs"
)

func TestRevealPIIAudited(t *testing.T) {
	e := newEnv(t)
	c := e.get(e.apply(0, sampleResult(e.now, "1", cases.ResultReview)).CaseID)
	if err := e.store.RevealPII(e.ctx, c.ID, "ana@example.com"); err != nil {
		t.Fatal(err)
	}
	if got := e.auditActions(c.Reference); !slices.Contains(got, cases.ActionPIIRevealed) {
		t.Errorf("audit of %s: %q", c.Reference, got)
	}
	for _, bad := range []string{"01JZZZZZZZZZZZZZZZZZZZZZZZ", "../x", ""} {
		if err := e.store.RevealPII(e.ctx, bad, "ana@example.com"); errs.Code(err) != errs.NotFound {
			t.Errorf("RevealPII(%q) = %v, want NotFound", bad, err)
		}
	}
	if n := e.count(`SELECT COUNT(*) FROM audit_log WHERE action = ?`, cases.ActionPIIRevealed); n != 1 {
		t.Errorf("%d reveal entries, want 1", n)
	}
	e.verifyAudit()
}
