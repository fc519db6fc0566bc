package handlers

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/report/reporttest"
)

func TestReportsPageAndDownloads(t *testing.T) {
	env := newTestEnv(t)
	g := reporttest.NewIngest(t, env.db, env.sealer, "acme", env.now)
	names := []string{"=1+2", "Nguyễn Thu Hương", "Lê, \"Tám\"\nVăn"}
	for i, n := range names {
		g.Now = env.now.Add(time.Duration(i) * time.Minute)
		g.Case(t, fmt.Sprintf("vrf-%d", i), n, "low")
	}
	g.Now = env.now.AddDate(0, 0, -40) // outside the default range
	g.Case(t, "vrf-old", "Old", "low")
	auditor := env.signIn(auth.Auditor)

	resp, body := auditor.get("/reports")
	if resp.StatusCode != 200 || !strings.Contains(body, `href="/reports/cases.csv?from=2026-10-22&amp;to=2026-11-20"`) ||
		!strings.Contains(body, `data-report="cases"`) || !strings.Contains(body, "UTC") {
		t.Fatalf("/reports: %d\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `data-rows="3"`) {
		t.Errorf("/reports does not say the cases report holds 3 rows")
	}

	resp, body = auditor.get("/reports/cases.csv?from=2026-11-20&to=2026-11-20")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `attachment; filename="kycdesk-cases-2026-11-20-to-2026-11-20.csv"`) {
		t.Fatalf("cases.csv: %d %v", resp.StatusCode, resp.Header)
	}
	if !strings.HasPrefix(body, "\ufeff") {
		t.Fatal("no byte order mark")
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil || len(recs) != 4 || recs[1][3] != "'=1+2" || recs[2][3] != "Nguyễn Thu Hương" || recs[3][3] != "Lê, \"Tám\"\nVăn" {
		t.Fatalf("cases.csv: %v %q", err, recs)
	}
	// The export is in the trail, written after the rows: who, which report, the days, the rows.
	es, err := audit.List(t.Context(), env.db.Read, audit.Filter{Action: "report.exported", Limit: 1})
	if err != nil || len(es) != 1 {
		t.Fatalf("no export entry: %v", err)
	}
	e := es[0]
	if e.Actor != auditor.user.Email || e.Subject != "report:cases" || e.Details["rows"] != float64(3) || e.Details["from"] != "2026-11-20" ||
		e.Details["to"] != "2026-11-20" || e.Details["complete"] != true {
		t.Errorf("export entry %+v", e)
	}

	for _, name := range []string{"decisions", "audit", "sla"} {
		resp, body := auditor.get("/reports/" + name + ".csv")
		recs, err := csv.NewReader(bytes.NewReader([]byte(strings.TrimPrefix(body, "\ufeff")))).ReadAll()
		if resp.StatusCode != 200 || err != nil || len(recs) < 1 {
			t.Errorf("%s.csv: %d %v", name, resp.StatusCode, err)
		}
	}

	tests := []struct {
		path, want string
		status     int
	}{
		{"/reports/cases.csv?from=2026-13-01", "The from date must be a date as YYYY-MM-DD", 400},
		{"/reports/cases.csv?to=yesterday", "The to date must be a date as YYYY-MM-DD", 400},
		{"/reports/sla.csv?from=2026-11-21&to=2026-11-20", "The from date (2026-11-21) is after the to date (2026-11-20)", 400},
		{"/reports?from=2026-11-21&to=2026-11-20", "is after the to date", 400},
		{"/reports/secrets.csv", "There is no report", 404},
	}
	var before int64
	env.db.Read.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'report.exported'`).Scan(&before)
	for _, tt := range tests {
		resp, body := auditor.get(tt.path)
		if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d, want %d with %q", tt.path, resp.StatusCode, tt.status, tt.want)
		}
	}
	var after int64
	env.db.Read.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'report.exported'`).Scan(&after)
	if after != before {
		t.Errorf("a refused export was audited as an export")
	}

	lead := env.signIn(auth.Lead)
	if resp, _ := lead.get("/reports/decisions.csv"); resp.StatusCode != 200 {
		t.Errorf("lead: %d", resp.StatusCode)
	}
	for _, role := range []auth.Role{auth.Analyst, auth.Admin} {
		c := env.signIn(role)
		for _, p := range []string{"/reports", "/reports/cases.csv"} {
			if resp, _ := c.get(p); resp.StatusCode != 403 {
				t.Errorf("%s on %s: %d", role, p, resp.StatusCode)
			}
		}
	}
}
