package cases

import (
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/internal/testkit"
)

// TestApplyQueryPlans checks that the lookups every applied result makes use an index.
func TestApplyQueryPlans(t *testing.T) {
	d := testkit.DB(t)
	for _, tc := range []struct {
		name, query string
		args        []any
		want        string
	}{
		{"case by reference", qCaseByRef, []any{"i", "r"}, "(integration_id=? AND reference=?)"},
		{"document by ref", qDocumentByRef, []any{"c", 1, "p"}, "(case_id=? AND round=? AND provider_ref=?)"},
		{"override", qOverrideCount, []any{"x"}, "(request_id=?)"},
		{"checks of a case", `SELECT id FROM case_checks WHERE case_id = ? ORDER BY round, id`, []any{"c"}, "case_checks_case (case_id=?)"},
		{"timeline", `SELECT id FROM case_events WHERE case_id = ? ORDER BY id`, []any{"c"}, "case_events_case (case_id=?)"},
	} {
		plan := testkit.QueryPlan(t, d, tc.query, tc.args...)
		if got := strings.Join(plan, "; "); !strings.Contains(got, tc.want) {
			t.Errorf("%s: plan = %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestNextQueryPlans checks that POST /queues/next reads the first row of an index in SLA
// order: no scan of cases, no sort.
func TestNextQueryPlans(t *testing.T) {
	d := testkit.DB(t)
	for _, tc := range []struct {
		name, query string
		args        []any
		want        string
	}{
		{"analyst", qNextPlain, nil, "cases_next_plain"},
		{"lead new", qNextByStatus, []any{StatusNew, 1}, "cases_status_due (status=?)"},
		{"lead escalated", qNextByStatus, []any{StatusEscalated, 1}, "cases_status_due (status=?)"},
		{"rejected documents", qRejectedDocuments, []any{"c", 1}, "document_reviews_case (case_id=? AND round=? AND verdict=?)"},
		{"document reviews", qDocumentReviews, []any{"c", 1}, "document_reviews_case (case_id=? AND round=?)"},
		{"what happened since (stale version)", qRecentEvents, []any{"c"}, "case_events_case (case_id=?)"},
	} {
		plan := strings.Join(testkit.QueryPlan(t, d, tc.query, tc.args...), "; ")
		if !strings.Contains(plan, tc.want) || strings.Contains(plan, "TEMP B-TREE") ||
			strings.Contains(plan, "SCAN cases;") || strings.HasSuffix(plan, "SCAN cases") {
			t.Errorf("%s: plan = %s, want %s and no scan or sort", tc.name, plan, tc.want)
		}
	}
}
