package report_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/dashboard"
	"github.com/kycdesk/kycdesk/internal/dashboard/dashboardtest"
	"github.com/kycdesk/kycdesk/internal/report"
	"github.com/kycdesk/kycdesk/internal/report/reporttest"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

// TestDashboardMatchesCSV is issue 12's "every figure matches the CSV for the same range":
// cases received through the real ingestion path and worked through the real review actions
// (claims, approvals, rejections, requests for information resumed by a new provider result,
// escalations, four-eyes approvals and returns; then some decided cases reopened by a new
// round and decided again) over twelve days; then, for several ranges, every dashboard
// figure is recomputed from the CSV reports of the same range, read back with encoding/csv,
// and so are the row counts the /reports page shows (read from the dashboard's rollups).
func TestDashboardMatchesCSV(t *testing.T) {
	ctx := context.Background()
	d, sealer := testkit.Store(t)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	w, err := dashboardtest.Generate(ctx, d, sealer, start, 12, 25, 5)
	if err != nil {
		t.Fatal(err)
	}
	reopened := reopenAndDecide(t, d, sealer, start.AddDate(0, 0, 12))
	now := start.AddDate(0, 0, 13).Add(9 * time.Hour)
	edges := pauseEdges(t, d, sealer, start)

	// The data set must hold what the definitions are about, or the test proves little.
	var paused, breached, firsts int
	must(t, d.Read.QueryRow(`SELECT
		(SELECT count(*) FROM case_decisions WHERE paused_ms > 0 AND status_to IN ('approved', 'rejected')),
		(SELECT count(*) FROM case_decisions WHERE at > sla_due AND status_to IN ('approved', 'rejected')),
		(SELECT count(*) FROM case_decisions WHERE status_to = 'awaiting_second_approval')`).Scan(&paused, &breached, &firsts))
	if paused == 0 || breached == 0 || firsts == 0 || reopened == 0 || w.Steps < 150 {
		t.Fatalf("data set too thin: %d final decisions after a pause, %d breached, %d first approvals, %d reopened, %d steps",
			paused, breached, firsts, reopened, w.Steps)
	}

	for _, rg := range [][2]string{
		{"2026-11-01", "2026-11-18"}, // everything, and days after
		{"2026-11-04", "2026-11-06"}, // the middle
		{"2026-11-13", "2026-11-13"}, // the reopened cases' second decisions
		{"2026-10-25", "2026-11-01"}, // starts before the data
		{"2026-12-10", "2026-12-11"}, // nothing
	} {
		t.Run(rg[0]+"_"+rg[1], func(t *testing.T) {
			dr, err := dashboard.ParseRange(rg[0], rg[1], now)
			must(t, err)
			rr, err := report.ParseRange(rg[0], rg[1], now)
			must(t, err)
			f, err := dashboard.Load(ctx, d.Read, dr, now)
			must(t, err)
			rp := &report.Reporter{Read: d.Read, Now: func() time.Time { return now }}
			casesCSV := table(export(t, rp, "cases", rr))
			decisionsCSV := table(export(t, rp, "decisions", rr))
			slaCSV := table(export(t, rp, "sla", rr))
			checkAgreement(t, f, casesCSV, decisionsCSV, slaCSV, rg[0] == "2026-11-01" && rg[1] == "2026-11-18")
			for _, r := range casesCSV {
				if want, ok := edges[r["reference"]]; ok && r["sla_breached"] != want {
					t.Errorf("cases report: %s breached %q, want %q", r["reference"], r["sla_breached"], want)
				}
			}

			counts, err := rp.Counts(ctx, rr)
			must(t, err)
			_, auditRecs := export(t, rp, "audit", rr)
			for name, n := range map[string]int{"cases": len(casesCSV), "decisions": len(decisionsCSV), "sla": len(slaCSV), "audit": len(auditRecs)} {
				if counts[name] != int64(n) {
					t.Errorf("/reports counts %s = %d, the CSV holds %d rows", name, counts[name], n)
				}
			}
		})
	}
}

// row is one CSV record by column name.
type row map[string]string

func table(header []string, recs [][]string) []row {
	out := make([]row, len(recs))
	for i, rec := range recs {
		out[i] = row{}
		for j, h := range header {
			out[i][h] = rec[j]
		}
	}
	return out
}

func checkAgreement(t *testing.T, f *dashboard.Figures, casesCSV, decisionsCSV, slaCSV []row, whole bool) {
	t.Helper()
	dayOf := func(iso string) int {
		at, err := time.Parse(time.RFC3339, iso)
		if err != nil {
			t.Fatalf("time %q: %v", iso, err)
		}
		i := int(at.Sub(f.Range.From) / dashboard.Day)
		if i < 0 || i >= len(f.Dates) {
			t.Fatalf("a CSV row at %s is outside the range %s..%s", iso, f.Range.FromString(), f.Range.ToString())
		}
		return i
	}
	n := len(f.Dates)
	check := func(what string, got, want int64) {
		t.Helper()
		if got != want {
			t.Errorf("%s: dashboard %d, CSV %d", what, got, want)
		}
	}

	// Cases received per day by provider: the cases report by created_at and provider.
	recv := map[string][]int64{}
	for _, r := range casesCSV {
		if recv[r["provider"]] == nil {
			recv[r["provider"]] = make([]int64, n)
		}
		recv[r["provider"]][dayOf(r["created_at"])]++
	}
	check("cases received", f.TotalReceived, int64(len(casesCSV)))
	for p, days := range recv {
		k := slices.Index(f.Providers, p)
		if k < 0 {
			t.Errorf("provider %s in the CSV, not on the dashboard", p)
			continue
		}
		for i := range days {
			check(fmt.Sprintf("received %s on %s", p, f.Dates[i].Format("2006-01-02")), f.Received[i][k], days[i])
		}
	}
	if len(recv) != len(f.Providers) {
		t.Errorf("providers: dashboard %v, CSV %d", f.Providers, len(recv))
	}

	// Outcomes per day, final decisions, breaches and medians: the decisions report.
	outcomes := make([][]int64, n)
	decided, breached := make([]int64, n), make([]int64, n)
	times := make([][]int64, n) // time to decision (s) of final decisions per day
	var all []int64
	actors := map[string]int64{}
	actorsByDay := map[string][]int64{}
	actorTimes := map[string][]int64{}
	for i := range outcomes {
		outcomes[i] = make([]int64, len(dashboard.Outcomes))
	}
	for _, r := range decisionsCSV {
		i := dayOf(r["at"])
		if k := slices.Index(dashboard.Outcomes, r["status_to"]); k >= 0 {
			outcomes[i][k]++
		} else {
			t.Errorf("decision row with status_to %q", r["status_to"])
		}
		actors[r["actor"]]++
		if actorsByDay[r["actor"]] == nil {
			actorsByDay[r["actor"]] = make([]int64, n)
		}
		actorsByDay[r["actor"]][i]++
		if r["final"] != "yes" {
			if r["sla_breached"] != "" {
				t.Errorf("a step that is not final has sla_breached %q", r["sla_breached"])
			}
			continue
		}
		decided[i]++
		if r["sla_breached"] == "yes" {
			breached[i]++
		}
		s, err := strconv.ParseInt(r["time_to_decision_s"], 10, 64)
		must(t, err)
		times[i] = append(times[i], s)
		all = append(all, s)
		actorTimes[r["actor"]] = append(actorTimes[r["actor"]], s)
	}
	check("decision steps", f.TotalDecisions, int64(len(decisionsCSV)))
	for i := range n {
		date := f.Dates[i].Format("2006-01-02")
		for k, o := range dashboard.Outcomes {
			check("outcome "+o+" on "+date, f.Outcomes[i][k], outcomes[i][k])
		}
		check("final decisions on "+date, f.Decided[i], decided[i])
		check("breached on "+date, f.Breached[i], breached[i])
		checkMedian(t, "median on "+date, f.Medians[i], times[i])
	}
	checkMedian(t, "median over the range", f.RangeMedian, all)

	// Decisions per person: the decisions report by actor, and the sla report's analyst rows.
	if len(f.Actors) != len(actors) {
		t.Errorf("people: dashboard %d, CSV %d", len(f.Actors), len(actors))
	}
	for _, a := range f.Actors {
		check("decisions by "+a.Actor, a.N, actors[a.Actor])
		for i := range n {
			check("decisions by "+a.Actor+" on "+f.Dates[i].Format("2006-01-02"), f.ActorsByDay[a.Actor][i], actorsByDay[a.Actor][i])
		}
	}
	var analystRows int
	for _, r := range slaCSV {
		if r["section"] != "analyst" {
			continue
		}
		analystRows++
		a := r["analyst"]
		got, _ := strconv.ParseInt(r["decisions"], 10, 64)
		check("sla report: decisions by "+a, got, actors[a])
		finals, _ := strconv.ParseInt(r["final_decisions"], 10, 64)
		check("sla report: final decisions by "+a, finals, int64(len(actorTimes[a])))
		// The sla report's median (the mean of the middle two when even) from the same times.
		want := ""
		if ts := slices.Sorted(slices.Values(actorTimes[a])); len(ts) > 0 {
			m := ts[len(ts)/2]
			if len(ts)%2 == 0 {
				m = (ts[len(ts)/2-1]*1000 + ts[len(ts)/2]*1000) / 2 / 1000
			}
			want = strconv.FormatInt(m, 10)
		}
		if got := r["median_time_to_decision_s"]; got != want && !closeSeconds(got, want) {
			t.Errorf("sla report: median of %s = %q, the decisions report's times give %q", a, got, want)
		}
	}
	if analystRows != len(actors) {
		t.Errorf("sla report: %d analyst rows, %d people in the decisions report", analystRows, len(actors))
	}

	if !whole {
		return
	}
	// Over a range holding every case: the backlog now, and open cases past due now (clock
	// running), from the cases report's status, assignee and sla_breached.
	backlog := make([]int64, len(dashboard.Queues))
	var overdue int64
	for _, r := range casesCSV {
		q := ""
		switch st := r["status"]; {
		case st == "new" && r["assignee"] == "":
			q = "unassigned"
		case st == "new" || st == "in_review":
			q = "assigned"
		case st == "escalated":
			q = "escalated"
		case st == "pending_info":
			q = "pending_info"
		case st == "awaiting_second_approval":
			q = "second_approval"
		}
		if q == "" {
			continue
		}
		backlog[slices.Index(dashboard.Queues, q)]++
		if q != "pending_info" && r["sla_breached"] == "yes" {
			overdue++
		}
	}
	for k, q := range dashboard.Queues {
		check("backlog "+q, f.Backlog[k], backlog[k])
	}
	check("open cases past due now", f.Overdue, overdue)
	if f.Overdue == 0 || f.TotalDecisions == 0 {
		t.Errorf("the whole range shows no overdue case or no decision: the comparison proves little")
	}
}

// checkMedian: the CSV's lower median (the ((n-1)/2)-th time, as the dashboard takes it)
// falls in the dashboard's median bucket, and both count the same decisions.
func checkMedian(t *testing.T, what string, m dashboard.Median, secs []int64) {
	t.Helper()
	if m.N != int64(len(secs)) {
		t.Errorf("%s: dashboard over %d decisions, CSV %d", what, m.N, len(secs))
		return
	}
	if len(secs) == 0 {
		return
	}
	s := slices.Sorted(slices.Values(secs))
	lower := time.Duration(s[(len(s)-1)/2]) * time.Second
	if b := dashboard.BucketOf(lower); b != m.Bucket {
		t.Errorf("%s: dashboard %s (bucket %d), CSV lower median %s (bucket %d)", what, m, m.Bucket, lower, b)
	}
}

// closeSeconds allows the sla report's even-count median (a mean of milliseconds, then cut
// to seconds) one second from the same mean taken over times already cut to seconds.
func closeSeconds(a, b string) bool {
	x, err1 := strconv.ParseInt(a, 10, 64)
	y, err2 := strconv.ParseInt(b, 10, 64)
	return err1 == nil && err2 == nil && x-y <= 1 && y-x <= 1
}

// pauseEdges adds three medium-risk cases (24 h SLA) whose pauses decide their breach, and
// returns what the cases report must say of each:
//   - paused 10 h, then decided 38 h after arrival: past sla_due (which the pause pushed to
//     34 h) though within due + pause again (44 h): breached, and so a double-counted pause
//     would show on the dashboard's breaches;
//   - asked for information 30 h after arrival, still waiting: it was late when paused;
//   - asked for information 1 h after arrival, still waiting 33 h on: not late, its clock stands.
func pauseEdges(t *testing.T, d *db.DB, sealer *crypto.Sealer, start time.Time) map[string]string {
	t.Helper()
	var ana cases.Actor
	must(t, d.Read.QueryRow(`SELECT id, email, role FROM users WHERE role = 'analyst' ORDER BY id LIMIT 1`).Scan(&ana.ID, &ana.Email, &ana.Role))
	g := reporttest.NewIngest(t, d, sealer, "edges", start)
	claim := func(id string) func(ctx context.Context, s *cases.Store) (*cases.Case, error) {
		return func(ctx context.Context, s *cases.Store) (*cases.Case, error) { return s.Claim(ctx, id, 0, ana) }
	}
	decide := func(id, decision, reason string) func(ctx context.Context, s *cases.Store) (*cases.Case, error) {
		return func(ctx context.Context, s *cases.Store) (*cases.Case, error) {
			return s.Decide(ctx, cases.DecisionInput{CaseID: id, By: ana, Decision: decision, ReasonCode: reason})
		}
	}

	t0 := start.AddDate(0, 0, 9).Add(2 * time.Hour)
	g.Now = t0
	resumed := g.Case(t, "edge-resumed", "Đỗ Minh Khang", cases.RiskMedium)
	g.At(t, t0.Add(10*time.Minute), claim(resumed))
	g.At(t, t0.Add(time.Hour), decide(resumed, cases.DecisionRequestInfo, "document_unreadable"))
	g.Now = t0.Add(11 * time.Hour)
	if _, err := g.Store.Apply(context.Background(), g.Src, 0, cases.Result{Reference: "edge-resumed", Round: "edge-resumed",
		OccurredAt: g.Now, Result: cases.ResultReview, RiskLevel: cases.RiskMedium,
		Applicant: cases.Applicant{FullName: "Đỗ Minh Khang"}}); err != nil {
		t.Fatal(err)
	}
	g.At(t, t0.Add(11*time.Hour+time.Minute), claim(resumed))
	c := g.At(t, t0.Add(38*time.Hour), decide(resumed, cases.DecisionApprove, "verified"))
	if c.Status != cases.StatusApproved || c.SLAPausedMS != (10*time.Hour).Milliseconds() || !c.SLADue.Equal(t0.Add(34*time.Hour)) {
		t.Fatalf("edge-resumed: status %s, paused %d ms, due %s", c.Status, c.SLAPausedMS, c.SLADue)
	}

	t1 := start.AddDate(0, 0, 10)
	g.Now = t1
	late := g.Case(t, "edge-paused-late", "Vũ Thị Lan", cases.RiskMedium)
	g.At(t, t1.Add(time.Minute), claim(late))
	g.At(t, t1.Add(30*time.Hour), decide(late, cases.DecisionRequestInfo, "document_missing"))

	t2 := start.AddDate(0, 0, 12)
	g.Now = t2
	early := g.Case(t, "edge-paused-early", "Hoàng Văn Nam", cases.RiskMedium)
	g.At(t, t2.Add(time.Minute), claim(early))
	g.At(t, t2.Add(time.Hour), decide(early, cases.DecisionRequestInfo, "selfie_unusable"))
	return map[string]string{"edge-resumed": "yes", "edge-paused-late": "yes", "edge-paused-early": "no"}
}

// reopenAndDecide gives up to five decided cases that had paused for information a new
// provider round on day (reopening them: round 2, paused time and due time start afresh),
// then has them claimed and rejected again by a lead, through the real actions. Their first
// decisions keep the SLA values of their round (migration 00014), which the case no longer
// has. It returns how many cases it reopened.
func reopenAndDecide(t *testing.T, d *db.DB, sealer *crypto.Sealer, day time.Time) int {
	t.Helper()
	ctx := context.Background()
	rows, err := d.Read.Query(`SELECT c.id, c.reference, c.risk_level, c.full_name, i.id, i.name, i.provider, i.queue
		FROM cases c JOIN integrations i ON i.id = c.integration_id
		WHERE c.status IN ('approved', 'rejected') AND c.sla_paused_ms > 0 ORDER BY c.created_at LIMIT 5`)
	must(t, err)
	type target struct {
		id, ref, risk, name string
		src                 cases.Source
	}
	var ts []target
	for rows.Next() {
		var x target
		must(t, rows.Scan(&x.id, &x.ref, &x.risk, &x.name, &x.src.IntegrationID, &x.src.IntegrationName, &x.src.Provider, &x.src.Queue))
		ts = append(ts, x)
	}
	must(t, rows.Err())
	rows.Close()
	var lead cases.Actor
	must(t, d.Read.QueryRow(`SELECT id, email, role FROM users WHERE role = 'lead' ORDER BY id LIMIT 1`).Scan(&lead.ID, &lead.Email, &lead.Role))
	clock := day
	store := &cases.Store{DB: d, Sealer: sealer, Now: func() time.Time { return clock }, Routing: cases.Routing{SLA: cases.DefaultSLA}}
	for i, x := range ts {
		clock = day.Add(time.Duration(i) * time.Hour)
		out, err := store.Apply(ctx, x.src, 0, cases.Result{Reference: x.ref, Round: x.ref + "-r2", OccurredAt: clock,
			Result: cases.ResultReview, ProviderStatus: "review", RiskLevel: x.risk,
			Applicant: cases.Applicant{FullName: x.name, ExternalID: x.ref}})
		must(t, err)
		if !out.Reopened {
			t.Fatalf("%s: a new round did not reopen the case: %+v", x.ref, out)
		}
		clock = clock.Add(30 * time.Minute)
		_, err = store.Claim(ctx, x.id, 0, lead)
		must(t, err)
		clock = clock.Add(2 * time.Hour)
		_, err = store.Decide(ctx, cases.DecisionInput{CaseID: x.id, By: lead, Decision: cases.DecisionReject,
			ReasonCode: "document_expired", Comment: "the second round shows an expired card"})
		must(t, err)
	}
	return len(ts)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
