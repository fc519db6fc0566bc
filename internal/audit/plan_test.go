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

// TestAuditPageQueriesUseIndexes: every filter of /audit (action exact or by area, the
// date range's seq bounds, the actions list, the subject links) is a range of an index.
func TestAuditPageQueriesUseIndexes(t *testing.T) {
	d := testkit.DB(t)
	tests := []struct {
		query string
		args  []any
		index string
	}{
		{`SELECT seq FROM audit_log WHERE action = ? AND seq < ? ORDER BY seq DESC LIMIT 51`, []any{"case.created", 100}, "audit_log_action"},
		{`SELECT seq FROM audit_log WHERE substr(action, 1, instr(action, '.')) = ? AND seq < ? ORDER BY seq DESC LIMIT 51`, []any{"case.", 100}, "audit_log_area"},
		{`SELECT seq FROM audit_log WHERE at >= ? AND seq >= ? ORDER BY at, seq LIMIT 1`, []any{"2026-11-20T00:00:00.000Z", 0}, "audit_log_at"},
		{`SELECT (SELECT MIN(action) FROM audit_log WHERE action > ?)`, []any{"a"}, "audit_log_action"},
		{`SELECT reference, MIN(id) FROM cases WHERE reference IN (?, ?) GROUP BY reference`, []any{"a", "b"}, "cases_reference"},
		{`SELECT email FROM users WHERE email IN (?, ?)`, []any{"a", "b"}, "sqlite_autoindex_users_1"},
	}
	for _, tt := range tests {
		joined := strings.Join(testkit.QueryPlan(t, d, tt.query, tt.args...), "; ")
		if !strings.Contains(joined, "INDEX "+tt.index) || strings.Contains(joined, "TEMP B-TREE FOR ORDER BY") {
			t.Errorf("%s\nplan: %s", tt.query, joined)
		}
	}
	// A date range on top of a filter: the filter's index, bounded by seq.
	joined := strings.Join(testkit.QueryPlan(t, d, `SELECT seq FROM audit_log WHERE actor = ? AND seq >= ? AND seq < ? AND seq < ? ORDER BY seq DESC LIMIT 51`, "a", 1, 9, 5), "; ")
	if !strings.Contains(joined, "audit_log_actor") || strings.Contains(joined, "TEMP B-TREE") {
		t.Errorf("actor with a date range: %s", joined)
	}
}
