package dashboard_test

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/dashboard"
	"github.com/kycdesk/kycdesk/internal/dashboard/dashboardtest"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

var start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// generated is a database with a workload of 12 days × 25 cases over three providers.
func generated(t *testing.T) (*db.DB, dashboardtest.Workload) {
	t.Helper()
	d, sealer := testkit.Store(t)
	w, err := dashboardtest.Generate(context.Background(), d, sealer, start, 12, 25, 7)
	if err != nil {
		t.Fatal(err)
	}
	if w.Steps < 150 {
		t.Fatalf("workload has only %d decision steps", w.Steps)
	}
	return d, w
}

// TestFiguresMatchBaseTables recomputes every figure of the page straight from cases and
// case_decisions with plain SQL, for several ranges, and compares.
func TestFiguresMatchBaseTables(t *testing.T) {
	d, _ := generated(t)
	now := start.AddDate(0, 0, 13).Add(9 * time.Hour) // the injected clock: after the last case
	for _, r := range []dashboard.Range{
		{From: start, To: start.AddDate(0, 0, 17)},                  // everything, and days after
		{From: start.AddDate(0, 0, 3), To: start.AddDate(0, 0, 5)},  // the middle
		{From: start.AddDate(0, 0, -5), To: start.AddDate(0, 0, 0)}, // starts before the data
		{From: start.AddDate(0, 0, 40), To: start.AddDate(0, 0, 41)},
	} {
		t.Run(r.FromString()+"_"+r.ToString(), func(t *testing.T) {
			f, err := dashboard.Load(context.Background(), d.Read, r, now)
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstBase(t, d.Read, f, r, now)
		})
	}
}

func checkAgainstBase(t *testing.T, q *sql.DB, f *dashboard.Figures, r dashboard.Range, now time.Time) {
	t.Helper()
	lo, hi := db.Millis(r.From), db.Millis(r.To.AddDate(0, 0, 1)) // [lo, hi)
	dayIdx := func(ms int64) int { return int((ms - lo) / int64(24*time.Hour/time.Millisecond)) }

	// Cases received per day and provider.
	want := map[string]int64{}
	var total int64
	scan(t, q, `SELECT created_at, provider FROM cases WHERE created_at >= ? AND created_at < ?`, []any{lo, hi}, func(rows *sql.Rows) {
		var at int64
		var p string
		must(t, rows.Scan(&at, &p))
		want[fmt.Sprintf("%d/%s", dayIdx(at), p)]++
		total++
	})
	got := map[string]int64{}
	for i, row := range f.Received {
		for j, n := range row {
			if n != 0 {
				got[fmt.Sprintf("%d/%s", i, f.Providers[j])] = n
			}
		}
	}
	equal(t, "received per day and provider", got, want)
	if f.TotalReceived != total {
		t.Errorf("total received %d, want %d", f.TotalReceived, total)
	}

	// Outcomes per day; decisions per person per day.
	wantOut, wantActor := map[string]int64{}, map[string]int64{}
	var decisions int64
	scan(t, q, `SELECT at, status_to, actor FROM case_decisions WHERE at >= ? AND at < ?`, []any{lo, hi}, func(rows *sql.Rows) {
		var at int64
		var to, actor string
		must(t, rows.Scan(&at, &to, &actor))
		wantOut[fmt.Sprintf("%d/%s", dayIdx(at), to)]++
		wantActor[fmt.Sprintf("%d/%s", dayIdx(at), actor)]++
		decisions++
	})
	gotOut, gotActor := map[string]int64{}, map[string]int64{}
	for i, row := range f.Outcomes {
		for k, n := range row {
			if n != 0 {
				gotOut[fmt.Sprintf("%d/%s", i, dashboard.Outcomes[k])] = n
			}
		}
	}
	for a, row := range f.ActorsByDay {
		for i, n := range row {
			if n != 0 {
				gotActor[fmt.Sprintf("%d/%s", i, a)] = n
			}
		}
	}
	equal(t, "outcomes per day", gotOut, wantOut)
	equal(t, "decisions per person per day", gotActor, wantActor)
	if f.TotalDecisions != decisions {
		t.Errorf("total decisions %d, want %d", f.TotalDecisions, decisions)
	}
	var sum int64
	for i, a := range f.Actors {
		sum += a.N
		if i > 0 && a.N > f.Actors[i-1].N {
			t.Errorf("actors not sorted by count: %v", f.Actors)
		}
	}
	if sum != decisions {
		t.Errorf("per-person totals sum to %d, want %d", sum, decisions)
	}

	// Final decisions, breaches and the exact median time to decision per day.
	n := r.Days()
	wantDecided, wantBreached := make([]int64, n), make([]int64, n)
	durations := make([][]int64, n)
	var all []int64
	scan(t, q, `SELECT d.at, d.at > c.sla_due, max(0, d.at - d.round_started_at - c.sla_paused_ms)
		FROM case_decisions d JOIN cases c ON c.id = d.case_id
		WHERE d.status_to IN ('approved', 'rejected') AND d.at >= ? AND d.at < ?`, []any{lo, hi}, func(rows *sql.Rows) {
		var at, dur int64
		var breached bool
		must(t, rows.Scan(&at, &breached, &dur))
		i := dayIdx(at)
		wantDecided[i]++
		if breached {
			wantBreached[i]++
		}
		durations[i] = append(durations[i], dur)
		all = append(all, dur)
	})
	if !slices.Equal(f.Decided, wantDecided) {
		t.Errorf("decided per day %v, want %v", f.Decided, wantDecided)
	}
	if !slices.Equal(f.Breached, wantBreached) {
		t.Errorf("breached per day %v, want %v", f.Breached, wantBreached)
	}
	for i := range durations {
		checkMedian(t, fmt.Sprintf("day %d", i), f.Medians[i], durations[i])
	}
	checkMedian(t, "range", f.RangeMedian, all)

	// Backlog per queue, as the queues of GET /queues define them, and open cases past due now.
	for k, queue := range dashboard.Queues {
		var wantN int64
		cond := map[string]string{
			"unassigned":      `status = 'new' AND assignee_id IS NULL`,
			"assigned":        `(status = 'new' AND assignee_id IS NOT NULL) OR status = 'in_review'`,
			"escalated":       `status = 'escalated'`,
			"pending_info":    `status = 'pending_info'`,
			"second_approval": `status = 'awaiting_second_approval'`,
		}[queue]
		must(t, q.QueryRow(`SELECT count(*) FROM cases WHERE `+cond).Scan(&wantN))
		if f.Backlog[k] != wantN {
			t.Errorf("backlog %s = %d, want %d", queue, f.Backlog[k], wantN)
		}
	}
	checkOverdue(t, q, f, now)
}

// checkOverdue compares the open cases past due now with a count of the cases table.
func checkOverdue(t *testing.T, q *sql.DB, f *dashboard.Figures, now time.Time) {
	t.Helper()
	var total int64
	for key, statuses := range map[string]string{"review": "'new', 'in_review'", "escalated": "'escalated'",
		"second_approval": "'awaiting_second_approval'"} {
		var n int64
		must(t, q.QueryRow(`SELECT count(*) FROM cases WHERE status IN (`+statuses+`) AND sla_due < ?`, db.Millis(now)).Scan(&n))
		if f.OverdueBy[key] != n {
			t.Errorf("overdue %s at %s = %d, want %d", key, now, f.OverdueBy[key], n)
		}
		total += n
	}
	if f.Overdue != total {
		t.Errorf("overdue at %s = %d, want %d", now, f.Overdue, total)
	}
}

// TestOverdueEveryPath: the count before now, the backlog minus the count after now, and the
// full count (both sides long) all give the right figure.
func TestOverdueEveryPath(t *testing.T) {
	d, _ := generated(t)
	for _, cap := range []int{5000, 3} {
		restore := dashboard.SetOverdueCap(cap)
		for _, now := range []time.Time{start.AddDate(0, 0, 3), start.AddDate(0, 0, 20)} {
			f, err := dashboard.Load(context.Background(), d.Read, dashboard.Range{From: start, To: start}, now)
			if err != nil {
				t.Fatal(err)
			}
			checkOverdue(t, d.Read, f, now)
		}
		restore()
	}
}

// checkMedian checks that the exact lower median of durs (millis) lies in the reported bucket.
func checkMedian(t *testing.T, what string, m dashboard.Median, durs []int64) {
	t.Helper()
	if int64(len(durs)) != m.N {
		t.Errorf("%s: median over %d durations, want %d", what, m.N, len(durs))
		return
	}
	if len(durs) == 0 {
		return
	}
	slices.Sort(durs)
	exact := time.Duration(durs[(len(durs)-1)/2]) * time.Millisecond
	if exact < m.Lo || (m.Hi != 0 && exact >= m.Hi) {
		t.Errorf("%s: exact median %s outside the reported bucket [%s, %s)", what, exact, m.Lo, m.Hi)
	}
}

// TestRebuildMatchesTriggers: the rollups the triggers kept while the workload ran are
// exactly what recomputing them from the base tables gives.
func TestRebuildMatchesTriggers(t *testing.T) {
	d, _ := generated(t)
	before := snapshot(t, d.Read)
	if len(before["dash_durations"]) == 0 || len(before["dash_received"]) == 0 {
		t.Fatalf("rollups empty after the workload: %v", before)
	}
	if _, err := d.Write.Exec(`DELETE FROM dash_outcomes; UPDATE dash_backlog SET n = 99; DELETE FROM dash_durations;
		UPDATE dash_durations_coarse SET n = n + 1`); err != nil {
		t.Fatal(err)
	}
	if err := dashboard.Rebuild(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	equal(t, "rollups after rebuild", snapshot(t, d.Read), before)
}

// snapshot reads every rollup table as lines of text.
func snapshot(t *testing.T, q *sql.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range []string{"dash_received", "dash_outcomes", "dash_actors", "dash_finals", "dash_durations", "dash_durations_coarse", "dash_backlog"} {
		rows, err := q.Query(`SELECT * FROM ` + table + ` ORDER BY 1, 2`)
		must(t, err)
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			must(t, rows.Scan(ptrs...))
			out[table] = append(out[table], fmt.Sprint(vals...))
		}
		must(t, rows.Err())
		rows.Close()
	}
	return out
}

// TestTriggersFollowEveryChange walks one case through its life and checks the tallies at
// each step, including a delete.
func TestTriggersFollowEveryChange(t *testing.T) {
	ctx := context.Background()
	d, sealer := testkit.Store(t)
	if _, err := dashboardtest.Generate(ctx, d, sealer, start, 1, 1, 99); err != nil { // users, integrations, one case
		t.Fatal(err)
	}
	backlog := func() map[string]int64 {
		out := map[string]int64{}
		scan(t, d.Read, dashboard.QBacklog, nil, func(rows *sql.Rows) {
			var q string
			var n int64
			must(t, rows.Scan(&q, &n))
			if n != 0 {
				out[q] = n
			}
		})
		return out
	}
	var caseID string
	must(t, d.Read.QueryRow(`SELECT id FROM cases`).Scan(&caseID))
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := d.Write.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE cases SET status = 'new', assignee_id = NULL, decision = NULL, decided_at = NULL WHERE id = ?`, caseID)
	for _, tt := range []struct {
		set  string
		want map[string]int64
	}{
		{`status = 'new', assignee_id = NULL`, map[string]int64{"unassigned": 1}},
		{`assignee_id = 1`, map[string]int64{"assigned": 1}},
		{`status = 'in_review'`, map[string]int64{"assigned": 1}},
		{`status = 'escalated'`, map[string]int64{"escalated": 1}},
		{`status = 'pending_info', assignee_id = NULL`, map[string]int64{"pending_info": 1}},
		{`status = 'awaiting_second_approval'`, map[string]int64{"second_approval": 1}},
		{`risk_level = 'high'`, map[string]int64{"second_approval": 1}},
		{`status = 'approved'`, map[string]int64{}},
		{`status = 'in_review', assignee_id = 2`, map[string]int64{"assigned": 1}},
	} {
		exec(`UPDATE cases SET `+tt.set+` WHERE id = ?`, caseID)
		if got := backlog(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("after SET %s: backlog %v, want %v", tt.set, got, tt.want)
		}
	}
	var received int64
	must(t, d.Read.QueryRow(`SELECT sum(n) FROM dash_received`).Scan(&received))
	if received != 1 {
		t.Fatalf("received = %d, want 1", received)
	}
	exec(`DELETE FROM case_decisions`)
	exec(`DELETE FROM case_events WHERE case_id = ?`, caseID)
	exec(`DELETE FROM case_checks WHERE case_id = ?`, caseID)
	exec(`DELETE FROM case_documents WHERE case_id = ?`, caseID)
	exec(`DELETE FROM case_api_parts WHERE case_id = ?`, caseID)
	exec(`DELETE FROM cases WHERE id = ?`, caseID)
	must(t, d.Read.QueryRow(`SELECT coalesce(sum(n), 0) FROM dash_received`).Scan(&received))
	if got := backlog(); received != 0 || len(got) != 0 {
		t.Errorf("after delete: received %d, backlog %v; want none", received, got)
	}
}

func TestHistogramBuckets(t *testing.T) {
	for _, tt := range []struct {
		d      time.Duration
		bucket int
	}{
		{0, 0}, {59 * time.Second, 0}, {time.Minute, 1}, {23*time.Hour + 59*time.Minute + 59*time.Second, 1439},
		{24 * time.Hour, 1440}, {25*time.Hour - time.Millisecond, 1440}, {25 * time.Hour, 1441},
		{30*24*time.Hour - time.Millisecond, dashboard.OverflowBucket - 1}, {30 * 24 * time.Hour, dashboard.OverflowBucket},
		{400 * 24 * time.Hour, dashboard.OverflowBucket},
	} {
		b := dashboard.BucketOf(tt.d)
		if b != tt.bucket {
			t.Errorf("BucketOf(%s) = %d, want %d", tt.d, b, tt.bucket)
		}
		lo, hi := dashboard.BucketBounds(b)
		if tt.d < lo || (hi != 0 && tt.d >= hi) {
			t.Errorf("%s outside its bucket's bounds [%s, %s)", tt.d, lo, hi)
		}
	}
	// The SQL of the triggers puts each duration in the same bucket as BucketOf.
	d := testkit.DB(t)
	for _, ms := range []int64{0, 59_999, 60_000, 86_399_999, 86_400_000, 89_999_999, 90_000_000, 2_591_999_999, 2_592_000_000} {
		var b int
		must(t, d.Read.QueryRow(`SELECT CASE WHEN ?1 < 86400000 THEN ?1 / 60000
			WHEN ?1 < 2592000000 THEN 1440 + (?1 - 86400000) / 3600000 ELSE 2136 END`, ms).Scan(&b))
		if want := dashboard.BucketOf(time.Duration(ms) * time.Millisecond); b != want {
			t.Errorf("SQL bucket of %d ms = %d, BucketOf = %d", ms, b, want)
		}
	}
	// Every fine bucket lies in its coarse bucket, and the coarse buckets tile the fine ones.
	next := 0
	for cb := 0; cb < 54; cb++ {
		first, last := dashboard.FineRange(cb)
		if first != next || last < first {
			t.Fatalf("coarse bucket %d covers %d..%d, want to start at %d", cb, first, last, next)
		}
		for b := first; b <= last; b++ {
			if dashboard.CoarseOf(b) != cb {
				t.Fatalf("CoarseOf(%d) = %d, want %d", b, dashboard.CoarseOf(b), cb)
			}
		}
		next = last + 1
	}
	if next != dashboard.OverflowBucket+1 {
		t.Errorf("coarse buckets end at %d, want %d", next-1, dashboard.OverflowBucket)
	}
	// The trigger's coarse bucket (computed from the duration) agrees with CoarseOf(BucketOf).
	for _, ms := range []int64{0, 3_599_999, 3_600_000, 86_399_999, 86_400_000, 172_799_999, 172_800_000, 2_591_999_999, 2_592_000_000} {
		var cb int
		must(t, d.Read.QueryRow(`SELECT CASE WHEN ?1 < 86400000 THEN ?1 / 3600000
			WHEN ?1 < 2592000000 THEN 23 + ?1 / 86400000 ELSE 53 END`, ms).Scan(&cb))
		if want := dashboard.CoarseOf(dashboard.BucketOf(time.Duration(ms) * time.Millisecond)); cb != want {
			t.Errorf("SQL coarse bucket of %d ms = %d, CoarseOf = %d", ms, cb, want)
		}
	}
	var h dashboard.Histogram
	if m := h.Median(); m.N != 0 || m.String() != "—" {
		t.Errorf("empty median = %+v", m)
	}
	h.Add(3, 2)
	h.Add(1500, 1)
	if m := h.Median(); m.Bucket != 3 || m.String() != "3–4 min" {
		t.Errorf("median of {3,3,1500} = %+v %s", m, m)
	}
	h.Add(1500, 2)
	if m := h.Median(); m.Bucket != 1500 || m.String() != "84–85 h" {
		t.Errorf("median of {3,3,1500×3} = %+v %s", m, m)
	}
}

func TestParseRange(t *testing.T) {
	now := time.Date(2026, 12, 3, 11, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		from, to   string
		want       string // from..to, or the start of the error message
		wantFailed bool
	}{
		{"", "", "2026-11-04..2026-12-03", false},
		{"2026-11-01", "2026-11-30", "2026-11-01..2026-11-30", false},
		{"2026-11-30", "2026-11-30", "2026-11-30..2026-11-30", false},
		{"", "2026-06-30", "2026-06-01..2026-06-30", false},
		{"2026-11-31", "", "from: \"2026-11-31\" is not a date", true},
		{"yesterday", "", "from: \"yesterday\" is not a date", true},
		{"", "2026/12/01", "to: \"2026/12/01\" is not a date", true},
		{"2026-12-02", "2026-12-01", "from (2026-12-02) is after to (2026-12-01)", true},
		{"2024-01-01", "2026-01-01", "The range covers 732 days", true},
	} {
		r, err := dashboard.ParseRange(tt.from, tt.to, now)
		switch {
		case tt.wantFailed && (errs.Code(err) != errs.Invalid || !strings.HasPrefix(errs.Message(err), tt.want)):
			t.Errorf("ParseRange(%q, %q) error = %v, want %s…", tt.from, tt.to, err, tt.want)
		case !tt.wantFailed && (err != nil || r.FromString()+".."+r.ToString() != tt.want):
			t.Errorf("ParseRange(%q, %q) = %s..%s, %v; want %s", tt.from, tt.to, r.FromString(), r.ToString(), err, tt.want)
		}
	}
}

func TestCountRange(t *testing.T) {
	d, w := generated(t)
	c, err := dashboard.CountRange(context.Background(), d.Read, dashboard.Range{From: start, To: start.AddDate(0, 0, 30)})
	if err != nil {
		t.Fatal(err)
	}
	var finals int64
	must(t, d.Read.QueryRow(`SELECT count(*) FROM case_decisions WHERE status_to IN ('approved', 'rejected')`).Scan(&finals))
	if c.Cases != int64(w.Cases) || c.Decisions != int64(w.Steps) || c.Finals != finals {
		t.Errorf("counts %+v, want cases %d, decisions %d, finals %d", c, w.Cases, w.Steps, finals)
	}
}

func scan(t *testing.T, q *sql.DB, query string, args []any, fn func(*sql.Rows)) {
	t.Helper()
	rows, err := q.Query(query, args...)
	must(t, err)
	defer rows.Close()
	for rows.Next() {
		fn(rows)
	}
	must(t, rows.Err())
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
