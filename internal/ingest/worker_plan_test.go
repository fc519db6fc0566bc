package ingest

import (
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/internal/testkit"
)

// TestWorkerQueryPlans pins the claimer's access paths: new rows by primary-key range, the
// backlog by the pending index. Either way round, every wake-up would read the whole inbox.
func TestWorkerQueryPlans(t *testing.T) {
	d := testkit.Inbox(t, testkit.DB(t))
	for _, tc := range []struct {
		query string
		args  []any
		want  string
	}{
		{qScanNew, []any{0, 10}, "USING INTEGER PRIMARY KEY (rowid>?)"},
		{qPendingBelow, []any{0}, "USING COVERING INDEX inbox_pending (state=?)"},
		{qPendingRow, []any{0}, "USING INTEGER PRIMARY KEY (rowid=?)"},
	} {
		plan := testkit.QueryPlan(t, d, tc.query, tc.args...)
		if got := strings.Join(plan, "; "); !strings.Contains(got, tc.want) || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("plan of %q = %s, want %s without a sort", strings.Fields(tc.query)[0:4], got, tc.want)
		}
	}
}
