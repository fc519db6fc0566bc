package audit_test

import (
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/internal/testkit"
)

// TestFilteredPagesUseIndexes: the audit page's actor and subject filters read a range
// of an index in seq order, however long the trail grows.
func TestFilteredPagesUseIndexes(t *testing.T) {
	d := testkit.DB(t)
	for col, index := range map[string]string{"actor": "audit_log_actor", "subject": "audit_log_subject"} {
		plan := testkit.QueryPlan(t, d, `SELECT seq FROM audit_log WHERE `+col+` = ? AND seq < ? ORDER BY seq DESC LIMIT 51`, "x", 100)
		joined := strings.Join(plan, "; ")
		if !strings.Contains(joined, "USING INDEX "+index) && !strings.Contains(joined, "USING COVERING INDEX "+index) || strings.Contains(joined, "TEMP B-TREE") {
			t.Errorf("%s filter plan: %s", col, joined)
		}
	}
}
