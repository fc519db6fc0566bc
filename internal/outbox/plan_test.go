package outbox

import (
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/internal/testkit"
)

// TestQueryPlans: the worker's and the pages' queries read index ranges, never the whole
// delivery history (which only grows).
func TestQueryPlans(t *testing.T) {
	d := testkit.DB(t)
	for _, tc := range []struct {
		name  string
		query string
		args  []any
	}{
		{"due", qDue, []any{0, 10}},
		{"unrouted", qUnrouted, []any{0, "case.decided", 10}},
		{"health", healthQuery, []any{"i", 0}},
		{"unrouted of an integration", unroutedQuery, []any{"i"}},
		{"problems", problemsQuery, []any{"i", 20}},
		{"gauges", gaugesQuery, []any{noneYet}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := strings.Join(testkit.QueryPlan(t, d, tc.query, tc.args...), "; ")
			for _, bad := range []string{"SCAN outbox_deliveries", "SCAN d ", "SCAN o ", "SCAN outbox ", "SCAN c "} {
				if strings.Contains(plan+" ", bad) {
					t.Errorf("plan %s has %q", plan, bad)
				}
			}
			if !strings.Contains(plan, "INDEX") && !strings.Contains(plan, "PRIMARY KEY") {
				t.Errorf("plan %s uses no index", plan)
			}
			t.Log(plan)
		})
	}
}
