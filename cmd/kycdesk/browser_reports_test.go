package main

import (
	"context"
	"encoding/csv"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/kycdesk/kycdesk/internal/audit"
)

// Journey: an auditor opens /reports, sees how many rows each report holds, and downloads
// each CSV through Chromium (a real download, saved to disk by the browser); every file
// parses with encoding/csv to the expected rows, and the audit export verifies link by
// link from the file alone.
func TestBrowserAuditorDownloadsReports(t *testing.T) {
	t.Parallel()
	srv, shots := journey(t)
	aud := srv.createUser(t, "auditor", "audrey@example.com", "Audrey Auditor")

	out := srv.cli(t, "", "integration", "add", "--provider", "generic", "--auth", "hmac", "--name", "reports-browser")
	webhookURL, secret := field(out, "webhook_url"), field(out, "secret")
	u, err := url.Parse(webhookURL)
	if webhookURL == "" || secret == "" || err != nil {
		t.Fatalf("integration add printed no webhook_url/secret:\n%s", out)
	}
	refs := []string{"vrf-rep-" + randomHex(3), "vrf-rep-" + randomHex(3), "vrf-rep-" + randomHex(3)}
	for _, ref := range refs {
		postGenericEvent(t, srv.URL+u.Path, secret, ref)
	}

	// A browser of its own: downloads go to a folder of the test's.
	b := srv.newSeparateBrowser(t, "auditor", shots)
	dir := t.TempDir()
	done := make(chan string, 8) // GUIDs of finished downloads
	names := map[string]string{} // GUID → suggested file name
	namesMu := make(chan struct{}, 1)
	finished := map[string]bool{}
	// Chromium reports downloads to the page's session or the browser's, by version: hear both, once.
	listen := func(ev any) {
		switch ev := ev.(type) {
		case *cdpbrowser.EventDownloadWillBegin:
			namesMu <- struct{}{}
			names[ev.GUID] = ev.SuggestedFilename
			<-namesMu
		case *cdpbrowser.EventDownloadProgress:
			namesMu <- struct{}{}
			first := ev.State == cdpbrowser.DownloadProgressStateCompleted && !finished[ev.GUID]
			finished[ev.GUID] = finished[ev.GUID] || first
			<-namesMu
			if first {
				done <- ev.GUID
			}
		}
	}
	if err := chromedp.Listen(b.ctx, listen); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.ListenBrowser(b.ctx, listen); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := b.step()
	yes := true
	if _, err := chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) (cdp.Empty, error) {
		return cdp.Call(ctx, t, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &yes})
	}); err != nil {
		t.Fatalf("set download behaviour: %v", err)
	}
	cancel()
	b.signIn(aud, "/dashboard") // leads and auditors land on the dashboard

	// The worker makes the cases soon after the acknowledgements: reload until the page counts them.
	deadline := time.Now().Add(30 * time.Second)
	for {
		b.openQuiet("/reports")
		if n, _ := strconv.Atoi(b.text(`tr[data-report="cases"] td[data-rows]`)); n >= len(refs) {
			break
		}
		if time.Now().After(deadline) {
			b.shotHere()
			t.Fatalf("/reports counts %q cases 30s after %d deliveries", b.text(`tr[data-report="cases"] td[data-rows]`), len(refs))
		}
		time.Sleep(300 * time.Millisecond)
	}
	b.shotHere()
	counts := map[string]int{}
	for _, name := range []string{"cases", "decisions", "audit", "sla"} {
		counts[name], _ = strconv.Atoi(b.text(`tr[data-report="` + name + `"] td[data-rows]`))
	}
	if b.count("#download-cases") != 1 || !strings.Contains(b.text("main"), "UTC") {
		b.fatalf("the page lacks the downloads or the word on UTC days")
	}

	download := func(name string) [][]string {
		t.Helper()
		ctx, cancel := b.step()
		defer cancel()
		if _, err := chromedp.Run(ctx, chromedp.Click(chromedp.CSS("#download-"+name))); err != nil {
			b.fatalf("click %s: %v", name, err)
		}
		var guid string
		select {
		case guid = <-done:
		case <-ctx.Done():
			b.fatalf("%s.csv: no download completed", name)
		}
		namesMu <- struct{}{}
		suggested := names[guid]
		<-namesMu
		if !strings.HasPrefix(suggested, "kycdesk-"+name+"-") || !strings.HasSuffix(suggested, ".csv") {
			t.Errorf("%s: the browser was offered the file name %q", name, suggested)
		}
		raw, err := os.ReadFile(filepath.Join(dir, guid))
		if err != nil {
			b.fatalf("%s.csv: %v", name, err)
		}
		if !strings.HasPrefix(string(raw), "\ufeff") {
			t.Errorf("%s.csv has no byte order mark", name)
		}
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(raw), "\ufeff"))).ReadAll()
		if err != nil || len(recs) < 1 {
			b.fatalf("%s.csv does not parse as CSV: %v\n%s", name, err, raw)
		}
		return recs
	}

	cases := download("cases")
	if len(cases)-1 != counts["cases"] || cases[0][0] != "reference" || cases[0][3] != "applicant_name" {
		t.Errorf("cases.csv: %d rows (page said %d), header %v", len(cases)-1, counts["cases"], cases[0])
	}
	got := map[string]string{}
	for _, rec := range cases[1:] {
		got[rec[0]] = rec[3]
	}
	for _, ref := range refs {
		if got[ref] != "Nguyễn Thu Hương" {
			t.Errorf("cases.csv: %s has the name %q, want Nguyễn Thu Hương", ref, got[ref])
		}
	}
	if decisions := download("decisions"); len(decisions)-1 != counts["decisions"] || decisions[0][0] != "at" {
		t.Errorf("decisions.csv: %d rows, page said %d", len(decisions)-1, counts["decisions"])
	}
	sla := download("sla")
	caseRows := 0
	for _, rec := range sla[1:] {
		if rec[0] == "case" {
			caseRows++
		}
	}
	if caseRows != counts["cases"] || sla[0][0] != "section" {
		t.Errorf("sla.csv: %d case rows, want %d", caseRows, counts["cases"])
	}

	// The audit export: at least the rows the page counted (the downloads above were
	// audited since), each hash recomputed from its row and linked to the row before.
	trail := download("audit")
	if len(trail)-1 < counts["audit"] || strings.Join(trail[0], ",") != "seq,at,actor,action,subject,details,prev_hash,hash" {
		t.Fatalf("audit.csv: %d rows (page said %d), header %v", len(trail)-1, counts["audit"], trail[0])
	}
	exports := 0
	for i, rec := range trail[1:] {
		for j := range rec {
			if strings.HasPrefix(rec[j], "'") {
				rec[j] = rec[j][1:] // undo the neutralization
			}
		}
		seq, _ := strconv.ParseInt(rec[0], 10, 64)
		if audit.EntryHash(seq, rec[1], rec[2], rec[3], rec[4], rec[5], rec[6]) != rec[7] {
			t.Fatalf("audit.csv row %d (seq %d): the hash does not match the row", i+1, seq)
		}
		if i > 0 && rec[6] != trail[i][7] {
			t.Fatalf("audit.csv row %d: prev_hash does not link to the row before", i+1)
		}
		if rec[3] == "report.exported" && rec[2] == aud.Email {
			exports++
		}
	}
	if exports != 3 {
		t.Errorf("audit.csv holds %d export entries by the auditor, want 3 (cases, decisions, sla)", exports)
	}
	b.open("/audit?action=report.exported")
	if n := b.count("#audit-entries tbody tr"); n != 4 {
		t.Errorf("/audit lists %d exports, want 4", n)
	}
}
