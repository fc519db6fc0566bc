package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/dashboard/dashboardtest"
)

// Journey: a lead signs in and lands on the dashboard; every chart draws bars or points for
// cases and decisions of the last days; the range picker narrows the range; a bad date is
// a 400 that says what to fix. The screenshots are kept as the test's artefacts.
func TestBrowserDashboard(t *testing.T) {
	t.Parallel()
	srv, shots := journey(t)
	if status := statusNoRedirect(t, srv.URL+"/dashboard"); status == http.StatusNotFound {
		t.Skip("/dashboard is not a route of this build (404)")
	}

	// Ten days of cases received through the case store (beside the running server, as the
	// worker would write them) and worked by reviewers.
	today := time.Now().UTC().Truncate(24 * time.Hour)
	w := seedDashboardWorkload(t, srv.Data, today.AddDate(0, 0, -9))

	lead := srv.createUser(t, "lead", "lan.lead@example.com", vietnameseName)
	b := srv.newBrowser(t, "lead", shots)
	b.signIn(lead, "/dashboard")

	if cs := evaluate[string](b, `document.characterSet`); cs != "UTF-8" {
		t.Errorf("document.characterSet = %q, want UTF-8", cs)
	}
	for _, sel := range []string{"#chart-received rect.bar", "#chart-outcomes rect.bar", "#chart-sla rect.bar",
		"#chart-actors rect.bar", "#chart-backlog rect.bar", "#chart-median circle.point"} {
		if n := b.count(sel); n == 0 {
			t.Errorf("%s: no marks drawn", sel)
		}
	}
	// Drawn, not only present: the received chart's bars have a real size on the page.
	if h := evaluate[float64](b, `Math.max(...[...document.querySelectorAll("#chart-received rect.bar")].map(r => r.getBoundingClientRect().height))`); h < 5 {
		t.Errorf("tallest received bar is %.1f px high", h)
	}
	// Cases received in the range (all ten days are in the last 30) match what was created.
	if got := b.text("#sum-received"); got != strconv.Itoa(w.Cases) {
		t.Errorf("cases received shows %s, want %d", got, w.Cases)
	}
	// Each chart has its numbers in a table too.
	if n := b.count("#chart-received-table tbody tr"); n != 30 {
		t.Errorf("received table has %d day rows, want 30", n)
	}
	b.shot("dashboard")

	// The range picker: three days.
	from, to := today.AddDate(0, 0, -5).Format("2006-01-02"), today.AddDate(0, 0, -3).Format("2006-01-02")
	b.fill("#from", from)
	b.fill("#to", to)
	if resp := b.clickThrough(`#range-form button[type="submit"]`); resp.Status != http.StatusOK {
		t.Fatalf("range form: status %d", resp.Status)
	}
	if p := b.path(); p != "/dashboard?from="+from+"&to="+to {
		t.Errorf("range form went to %s", p)
	}
	if got := b.text("#dashboard-range"); !strings.HasPrefix(got, from+" to "+to) {
		t.Errorf("range shown as %q, want %s to %s", got, from, to)
	}
	if n := b.count("#chart-received-table tbody tr"); n != 3 {
		t.Errorf("received table has %d day rows after picking 3 days", n)
	}
	if n := b.count("#chart-received rect.bar"); n == 0 {
		t.Errorf("no received bars for %s..%s", from, to)
	}
	b.shot("dashboard-3-days")

	if resp := b.open("/dashboard?from=2026-13-01"); resp.Status != http.StatusBadRequest {
		t.Errorf("bad date: status %d, want 400", resp.Status)
	}
	if got := b.text("#error-message"); !strings.Contains(got, `from: "2026-13-01" is not a date`) {
		t.Errorf("bad date message %q", got)
	}
}

// seedWorkload writes a generated history into the server's data dir and returns it.
func seedDashboardWorkload(t *testing.T, dir string, start time.Time) dashboardtest.Workload {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	key, err := crypto.LoadMasterKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := crypto.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	w, err := dashboardtest.Generate(ctx, d, sealer, start, 10, 6, 11)
	if err != nil {
		t.Fatal(err)
	}
	return w
}
