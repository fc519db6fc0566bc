package ingest

import (
	"context"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/db"
)

// TestWorkerQueryPlans pins the claimer's access paths: new rows by primary-key range, the
// backlog by the pending index. Either way round, every wake-up would read the whole inbox.
func TestWorkerQueryPlans(t *testing.T) {
	d, err := db.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, tc := range []struct {
		query string
		args  []any
		want  string
	}{
		{qScanNew, []any{0, 10}, "USING INTEGER PRIMARY KEY (rowid>?)"},
		{qPendingBelow, []any{0}, "USING COVERING INDEX inbox_pending (state=?)"},
		{qPendingRow, []any{0}, "USING INTEGER PRIMARY KEY (rowid=?)"},
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
		if got := strings.Join(plan, "; "); !strings.Contains(got, tc.want) || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("plan of %q = %s, want %s without a sort", strings.Fields(tc.query)[0:4], got, tc.want)
		}
	}
}
