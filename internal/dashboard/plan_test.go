package dashboard_test

import (
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/internal/dashboard"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

// TestDashboardQueryPlans: every query of the page reads a key range of a rollup (or, for the
// open cases past due, a range of the cases_status_due index bounded by now), never a scan
// of cases or case_decisions, and sorts nothing.
func TestDashboardQueryPlans(t *testing.T) {
	d := testkit.DB(t)
	for _, tc := range []struct {
		name, query string
		args        []any
		want        string
	}{
		{"received", dashboard.QReceived, []any{1, 2}, "SEARCH dash_received USING PRIMARY KEY (day>? AND day<?)"},
		{"outcomes", dashboard.QOutcomes, []any{1, 2}, "SEARCH dash_outcomes USING PRIMARY KEY (day>? AND day<?)"},
		{"actors", dashboard.QActors, []any{1, 2}, "SEARCH dash_actors USING PRIMARY KEY (day>? AND day<?)"},
		{"finals", dashboard.QFinals, []any{1, 2}, "SEARCH dash_finals USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"},
		{"coarse durations", dashboard.QCoarse, []any{1, 2}, "SEARCH dash_durations_coarse USING PRIMARY KEY (day>? AND day<?)"},
		{"fine durations", dashboard.QFineIn, []any{"[[1,2,3]]"}, "SEARCH f USING PRIMARY KEY (day=? AND bucket>? AND bucket<?)"},
		{"backlog", dashboard.QBacklog, nil, "SCAN dash_backlog"}, // five rows
		{"report counts", dashboard.QCounts, []any{1, 2}, "SEARCH dash_outcomes USING PRIMARY KEY (day>? AND day<?)"},
		{"overdue now, capped", dashboard.QOverdueCapped, []any{"new", "in_review", 1, 10}, "SEARCH cases USING COVERING INDEX cases_status_due (status=? AND sla_due<?)"},
		{"not yet due, capped", dashboard.QNotDueCapped, []any{"new", "in_review", 1, 10}, "SEARCH cases USING COVERING INDEX cases_status_due (status=? AND sla_due>?)"},
		{"overdue now", dashboard.QOverdue, []any{"escalated", "escalated", 1}, "SEARCH cases USING COVERING INDEX cases_status_due (status=? AND sla_due<?)"},
	} {
		plan := strings.Join(testkit.QueryPlan(t, d, tc.query, tc.args...), "; ")
		if !strings.Contains(plan, tc.want) {
			t.Errorf("%s: plan = %s, want %s", tc.name, plan, tc.want)
		}
		// The distinct actors of the report counts are de-duplicated in a temporary tree of
		// at most days × actors rollup rows: small whatever the number of cases.
		if strings.Contains(strings.ReplaceAll(plan, "USE TEMP B-TREE FOR count(DISTINCT)", ""), "TEMP B-TREE") {
			t.Errorf("%s: plan sorts: %s", tc.name, plan)
		}
		for _, base := range []string{"SCAN cases", "SCAN case_decisions"} {
			if strings.Contains(plan, base) {
				t.Errorf("%s: plan scans a base table: %s", tc.name, plan)
			}
		}
	}
}
