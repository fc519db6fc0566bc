package cases

import (
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/internal/testkit"
)

// TestCasePagePlans holds the case page's reads (GET /cases/{id}: Get, Applicant, Fields,
// Checks, Documents, Timeline) to an index on the case: never a scan, and the document
// list never reads a row of case_documents (each carries its encrypted image).
func TestCasePagePlans(t *testing.T) {
	d := testkit.DB(t)
	for _, tc := range []struct {
		name, query string
		want        string
	}{
		{"case", selectCase + ` WHERE id = ?`, "SEARCH cases USING INDEX sqlite_autoindex_cases_1 (id=?)"},
		{"sealed columns", `SELECT applicant_sealed FROM cases WHERE id = ?`, "SEARCH cases USING INDEX sqlite_autoindex_cases_1 (id=?)"},
		{"checks", `SELECT id, round, kind, result, score, code, message, source, details
		FROM case_checks WHERE case_id = ? ORDER BY round, id`, "SEARCH case_checks USING INDEX case_checks_case (case_id=?)"},
		{"documents", `SELECT id, case_id, round, kind, provider_ref, content_type, size, sha256,
		created_at FROM case_documents WHERE case_id = ? ORDER BY round, created_at, id`,
			"SEARCH case_documents USING COVERING INDEX case_documents_list (case_id=?)"},
		{"timeline", `SELECT id, at, actor, kind, round, body, details FROM case_events
		WHERE case_id = ? ORDER BY id`, "SEARCH case_events USING INDEX case_events_case (case_id=?)"},
	} {
		plan := strings.Join(testkit.QueryPlan(t, d, tc.query, "x"), " | ")
		if !strings.HasPrefix(plan, tc.want) || strings.Contains(plan, "SCAN") {
			t.Errorf("%s: plan = %s, want %s", tc.name, plan, tc.want)
		}
	}
}
