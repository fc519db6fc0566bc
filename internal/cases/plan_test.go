package cases

import (
	"context"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/db"
)

// TestQueryPlans checks that the lookups every applied result makes use an index.
func TestApplyQueryPlans(t *testing.T) {
	d, err := db.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
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
		rows, err := d.Read.Query("EXPLAIN QUERY PLAN "+tc.query, tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if got := strings.Join(plan, "; "); !strings.Contains(got, tc.want) {
			t.Errorf("%s: plan = %s, want %s", tc.name, got, tc.want)
		}
	}
}
