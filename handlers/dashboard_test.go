package handlers

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/dashboard/dashboardtest"
)

// TestDashboard: leads and auditors land on the dashboard, whose charts and numbers come
// from the rollups for the chosen range; bad ranges are a 400 that says what to fix.
func TestDashboard(t *testing.T) {
	env := newTestEnv(t)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	w, err := dashboardtest.Generate(context.Background(), env.db, env.sealer, start, 10, 8, 3)
	if err != nil {
		t.Fatal(err)
	}
	// Today is the last day cases arrive: steps taken after it are outside the default range.
	env.now = time.Date(2026, 11, 10, 10, 0, 0, 0, time.UTC)

	for _, r := range []auth.Role{auth.Lead, auth.Auditor} {
		c := env.signIn(r)
		resp, _ := c.get("/")
		wantStatus(t, string(r)+" GET /", resp, 303, "/dashboard")
	}
	for _, r := range []auth.Role{auth.Analyst, auth.Admin} {
		if resp, _ := env.signIn(r).get("/dashboard"); resp.StatusCode != 403 {
			t.Errorf("%s GET /dashboard = %d, want 403", r, resp.StatusCode)
		}
	}

	lead := env.signIn(auth.Lead)
	resp, body := lead.get("/dashboard")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "charset=utf-8") {
		t.Fatalf("GET /dashboard = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The default range is the last 30 days, today included.
	if !strings.Contains(body, `value="2026-10-12"`) || !strings.Contains(body, `value="2026-11-10"`) {
		t.Errorf("default range not 2026-10-12..2026-11-10")
	}
	if got := dashText(t, body, "sum-received"); got != strconv.Itoa(w.Cases) {
		t.Errorf("cases received = %s, want %d", got, w.Cases)
	}
	// Steps taken after today (the generator runs ahead of the clock) are outside the range.
	var steps int
	if err := env.db.Read.QueryRow(`SELECT count(*) FROM case_decisions WHERE at < ?`,
		time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC).UnixMilli()).Scan(&steps); err != nil {
		t.Fatal(err)
	}
	if got := dashText(t, body, "sum-decisions"); got != strconv.Itoa(steps) || steps >= w.Steps {
		t.Errorf("decision steps = %s, want %d (of %d)", got, steps, w.Steps)
	}
	for _, id := range []string{"chart-received", "chart-outcomes", "chart-sla", "chart-actors", "chart-backlog", "chart-overdue"} {
		svg := dashElement(t, body, `<svg class="chart" id="`+id+`"`, "</svg>")
		if !strings.Contains(svg, `class="bar"`) {
			t.Errorf("%s has no bars", id)
		}
		if !strings.Contains(body, `id="`+id+`-table"`) {
			t.Errorf("%s has no table of its numbers", id)
		}
	}
	if svg := dashElement(t, body, `<svg class="chart" id="chart-median"`, "</svg>"); !strings.Contains(svg, "<circle") {
		t.Errorf("median chart has no points")
	}

	// A chosen range: three days, three rows in each day table.
	resp, body = lead.get("/dashboard?from=2026-11-03&to=2026-11-05")
	if resp.StatusCode != 200 {
		t.Fatalf("range: %d", resp.StatusCode)
	}
	table := dashElement(t, body, `id="chart-received-table"`, "</table>")
	if n := strings.Count(table, `<th scope="row">`); n != 3 {
		t.Errorf("received table has %d day rows, want 3", n)
	}
	if !strings.Contains(table, "2026-11-04") || strings.Contains(table, "2026-11-06") {
		t.Errorf("received table shows the wrong days")
	}

	// Nothing in the range: the empty state, and still the open work of now.
	_, body = lead.get("/dashboard?from=2025-01-01&to=2025-01-31")
	if !strings.Contains(body, `id="dashboard-empty"`) || !strings.Contains(body, `id="chart-backlog"`) {
		t.Errorf("empty range: no empty state or no backlog")
	}

	for _, tt := range []struct{ query, want string }{
		{"from=2026-13-01", `from: &#34;2026-13-01&#34; is not a date`},
		{"to=12/11/2026", `to: &#34;12/11/2026&#34; is not a date`},
		{"from=2026-11-10&to=2026-11-01", "from (2026-11-10) is after to (2026-11-01)"},
		{"from=2020-01-01&to=2026-01-01", "at most 366"},
	} {
		resp, body := lead.get("/dashboard?" + tt.query)
		if resp.StatusCode != 400 || !strings.Contains(body, tt.want) {
			t.Errorf("GET /dashboard?%s = %d, want 400 with %q", tt.query, resp.StatusCode, tt.want)
		}
	}
}

// text returns the text content of the element with the given id.
func dashText(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`id="` + id + `">([^<]*)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no element %s", id)
	}
	return strings.TrimSpace(m[1])
}

// element returns body from the first occurrence of start to the next end.
func dashElement(t *testing.T, body, start, end string) string {
	t.Helper()
	i := strings.Index(body, start)
	if i < 0 {
		t.Fatalf("no %s in the page", start)
	}
	j := strings.Index(body[i:], end)
	if j < 0 {
		t.Fatalf("%s not closed", start)
	}
	return body[i : i+j]
}
