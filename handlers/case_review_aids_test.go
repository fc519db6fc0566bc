package handlers

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

// personalData is how the FPT.AI sample card's ID number and date of birth can appear on the
// page: the number, the date as on the card, as ISO, in the MRZ and in the QR code.
var personalData = []string{"079195001234", "02/09/1995", "1995-09-02", "9509023F", "02091995"}

// revealEntries are the case.pii_revealed audit entries of subject.
func revealEntries(t *testing.T, env *testEnv, subject string) []audit.Entry {
	t.Helper()
	entries, err := audit.List(context.Background(), env.db.Read, audit.Filter{Subject: subject, Asc: true, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Entry
	for _, e := range entries {
		if e.Action == cases.ActionPIIRevealed {
			out = append(out, e)
		}
	}
	return out
}

func TestCasePIIMaskedAndRevealed(t *testing.T) {
	env := newTestEnv(t)
	src := env.caseSource(integration.FPTAI)
	r := fptaiResult(t, "callback_success.json", env.now)
	caseID := env.applyResult(src, r)
	ref := r.Reference
	analyst := env.signIn(auth.Analyst)

	// Masked by default: the ID number and date of birth appear nowhere on the page.
	resp, body := analyst.get("/cases/" + caseID)
	if resp.StatusCode != 200 {
		t.Fatalf("GET case: %d", resp.StatusCode)
	}
	for _, pii := range personalData {
		if strings.Contains(body, pii) {
			i := strings.Index(body, pii)
			t.Errorf("masked page shows %q: …%s…", pii, body[max(0, i-150):i+20])
		}
	}
	for _, want := range []string{`id="pii-masked"`, `id="reveal-form"`, `action="/cases/` + caseID + `/reveal"`,
		`name="_csrf"`, "•••••••••234", "••••-••-••"} {
		if !strings.Contains(body, want) {
			t.Errorf("masked page lacks %q", want)
		}
	}
	if n := len(revealEntries(t, env, ref)); n != 0 {
		t.Fatalf("%d reveal entries before any reveal", n)
	}
	// Nor does any tab of the queue.
	for _, q := range []string{"unassigned", "mine", "escalated", "decided"} {
		_, body := analyst.get("/queues?queue=" + q)
		for _, pii := range personalData {
			if strings.Contains(body, pii) {
				t.Errorf("queue %s shows %q", q, pii)
			}
		}
	}

	// Refused: no CSRF token, an unknown or malformed case, an admin. None is audited.
	for _, tc := range []struct {
		name   string
		client *testClient
		path   string
		form   url.Values
		want   int
	}{
		{"no csrf", analyst, "/cases/" + caseID + "/reveal", url.Values{"_csrf": {""}}, 403},
		{"wrong csrf", analyst, "/cases/" + caseID + "/reveal", url.Values{"_csrf": {"forged"}}, 403},
		{"unknown case", analyst, "/cases/01JZZZZZZZZZZZZZZZZZZZZZZZ/reveal", nil, 404},
		{"malformed case id", analyst, "/cases/..%2Fetc/reveal", nil, 404},
		{"admin", env.signIn(auth.Admin), "/cases/" + caseID + "/reveal", nil, 403},
	} {
		resp, body := tc.client.postForm(tc.path, tc.form)
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
		if strings.Contains(body, "079195001234") {
			t.Errorf("%s: the answer shows the ID number", tc.name)
		}
	}
	if n := len(revealEntries(t, env, ref)); n != 0 {
		t.Fatalf("refused reveals wrote %d audit entries", n)
	}

	// Revealed: the page itself (no redirect that would put it in the history), not cached,
	// with the number and date, and one audit entry naming who and which case.
	_, _ = analyst.get("/cases/" + caseID) // a fresh CSRF token, as a browser would have
	resp, body = analyst.postForm("/cases/"+caseID+"/reveal", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Location") != "" {
		t.Fatalf("reveal: %d (Location %q)", resp.StatusCode, resp.Header.Get("Location"))
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("reveal Cache-Control = %q", cc)
	}
	for _, want := range append([]string{`id="pii-revealed"`, `id="case-reference">` + ref + `<`}, personalData[:3]...) {
		if !strings.Contains(body, want) {
			t.Errorf("revealed page lacks %q", want)
		}
	}
	entries := revealEntries(t, env, ref)
	if len(entries) != 1 {
		t.Fatalf("%d reveal entries, want 1", len(entries))
	}
	if e := entries[0]; e.Actor != analyst.user.Email || e.Subject != ref || !strings.Contains(e.DetailsJSON(), caseID) {
		t.Errorf("reveal entry %+v %s", e, e.DetailsJSON())
	}
	if strings.Contains(entries[0].DetailsJSON(), "079195001234") {
		t.Error("the audit entry holds the ID number it records the view of")
	}

	// Masked again on the next plain view; a lead and an auditor may reveal too.
	if _, body := analyst.get("/cases/" + caseID); strings.Contains(body, "079195001234") {
		t.Error("the number stays shown after the revealed page")
	}
	for _, role := range []auth.Role{auth.Lead, auth.Auditor} {
		c := env.signIn(role)
		c.get("/cases/" + caseID)
		if resp, body := c.postForm("/cases/"+caseID+"/reveal", nil); resp.StatusCode != 200 || !strings.Contains(body, "079195001234") {
			t.Errorf("%s reveal: %d", role, resp.StatusCode)
		}
	}
	if n := len(revealEntries(t, env, ref)); n != 3 {
		t.Errorf("%d reveal entries after three reveals", n)
	}
	testkit.VerifyAudit(t, env.db)
}

func TestCasePageConsistencyDuplicatesWatermark(t *testing.T) {
	env := newTestEnv(t)
	analyst := env.signIn(auth.Analyst)
	fptID := env.applyResult(env.caseSource(integration.FPTAI), fptaiResult(t, "callback_success.json", env.now))
	// The same ID number through another provider and integration, and a third person.
	genID := env.applyResult(env.caseSource(integration.Generic), genericResult(t, "vrf-dup-1", env.now))
	other := genericResult(t, "vrf-other", env.now)
	other.Applicant.IDNumber = "001095009999"
	otherID := env.applyResult(env.caseSource(integration.Generic), other)

	_, body := analyst.get("/cases/" + fptID)
	for _, want := range []string{
		// Every check of the sample card passes.
		`data-key="cccd_province" data-status="pass"`, `data-key="cccd_century_sex" data-status="pass"`,
		`data-key="cccd_birth_year" data-status="pass"`, `data-key="mrz_check_digits" data-status="pass"`,
		`data-key="mrz_name" data-status="pass"`, `data-key="document_expiry" data-status="pass"`,
		// The generic case with the same number, linked.
		`id="duplicate-cases"`, `<a class="ref" href="/cases/` + genID + `">vrf-dup-1</a>`, "acme-generic",
		// The watermark over the images: who looks, and when.
		`class="watermark"`, analyst.user.Email + " · 2026-11-20 08:00 UTC",
		// The help, reachable without scripts.
		`id="shortcuts"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("FPT.AI case page lacks %q", want)
		}
	}
	if strings.Contains(body, otherID) {
		t.Error("a case with another number is listed as a duplicate")
	}
	if n := strings.Count(body, `class="watermark"`); n != 3 {
		t.Errorf("%d watermarks, want one per image (3)", n)
	}

	// The generic case: no place of origin or MRZ, so those checks say why they were not made.
	_, body = analyst.get("/cases/" + genID)
	for _, want := range []string{`data-key="cccd_province" data-status="not_checkable"`, "no place of origin was read",
		`data-key="mrz_check_digits" data-status="not_checkable"`, `data-key="cccd_birth_year" data-status="pass"`,
		`href="/cases/` + fptID + `"`} {
		if !strings.Contains(body, want) {
			t.Errorf("generic case page lacks %q", want)
		}
	}
	_, body = analyst.get("/cases/" + otherID)
	if !strings.Contains(body, `id="no-duplicates"`) {
		t.Error("a case without duplicates does not say so")
	}
	if strings.Contains(body, " style=") || strings.Contains(body, "<script>") {
		t.Error("inline style or script: the CSP forbids them")
	}

	// The queue page carries the keyboard help and its script.
	_, body = analyst.get("/queues")
	if !strings.Contains(body, `id="shortcuts"`) || !strings.Contains(body, `<script src="/static/keys.js" defer>`) {
		t.Error("queue page lacks the shortcuts help or script")
	}
}
