package report_test

import (
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/internal/testkit"
)

// TestReportQueriesUseIndexes: every report and every count on /reports reads a range of
// an index in the report's order.
func TestReportQueriesUseIndexes(t *testing.T) {
	d := testkit.DB(t)
	tests := []struct {
		query string
		args  []any
		index string
	}{
		{`SELECT created_at, id FROM cases WHERE (created_at, id) > (?, ?) AND created_at < ? ORDER BY created_at, id LIMIT 1 OFFSET ?`, []any{1, "", 2, 4095}, "cases_created"},
		// A chunk: both ends bound the range (not only the lower one).
		{`SELECT reference FROM cases WHERE (created_at, id) > (?, ?) AND (created_at, id) <= (?, ?) ORDER BY created_at, id`, []any{1, "", 5, "x"}, "cases_created ((created_at,id)>(?,?) AND (created_at,id)<(?,?))"},
		{`SELECT reference FROM cases WHERE (created_at, id) > (?, ?) AND created_at < ? ORDER BY created_at, id`, []any{1, "", 9}, "cases_created ((created_at,id)>(?,?) AND created_at<?)"},
		{`SELECT reference, status FROM cases WHERE created_at >= ? AND created_at < ? ORDER BY created_at, id`, []any{1, 2}, "cases_created"},
		{`SELECT d.at, c.reference FROM case_decisions d LEFT JOIN cases c ON c.id = d.case_id WHERE d.at >= ? AND d.at < ? ORDER BY d.at, d.id`, []any{1, 2}, "case_decisions_at"},
		{`SELECT seq FROM audit_log WHERE seq >= ? AND seq < ? ORDER BY seq`, []any{1, 2}, "INTEGER PRIMARY KEY"},
	}
	for _, tt := range tests {
		joined := strings.Join(testkit.QueryPlan(t, d, tt.query, tt.args...), "; ")
		if !strings.Contains(joined, tt.index) || strings.Contains(joined, "TEMP B-TREE FOR ORDER BY") || strings.Contains(joined, "SCAN cases") {
			t.Errorf("%s\nplan: %s", tt.query, joined)
		}
	}
}
