package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

// Journey 8: the review workflow in Chromium. An analyst presses Next, the case opens with
// every image loaded, a note is added, the case is escalated; a lead decides it. A high-risk
// case approved by one lead waits for a second lead: the first cannot approve it twice (and
// is told why), the second can.
func TestBrowserReviewWorkflow(t *testing.T) {
	t.Parallel()
	srv, shots := journey(t)
	ana := srv.createUser(t, "analyst", "ana.review@example.com", "An Nguyễn")
	lead1 := srv.createUser(t, "lead", "linh.lead@example.com", "Linh Trần")
	lead2 := srv.createUser(t, "lead", "minh.lead@example.com", "Minh Lê")

	out := srv.cli(t, "", "integration", "add", "--provider", "generic", "--auth", "hmac", "--name", "review-journey")
	webhookURL, secret := field(out, "webhook_url"), field(out, "secret")
	u, err := url.Parse(webhookURL)
	if err != nil || secret == "" {
		t.Fatalf("integration add: %v\n%s", err, out)
	}
	plainRef, highRef := "vrf-review-plain-"+randomHex(3), "vrf-review-high-"+randomHex(3)
	postReviewEvent(t, srv.URL+u.Path, secret, plainRef, "medium")
	postReviewEvent(t, srv.URL+u.Path, secret, highRef, "high")

	a := srv.newBrowser(t, "analyst", shots)
	a.signIn(ana, "/queues")
	deadline := time.Now().Add(30 * time.Second)
	for a.count("#queue-cases tbody tr") < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the two verifications did not become cases within 30 s")
		}
		time.Sleep(250 * time.Millisecond)
		a.openQuiet("/queues?queue=unassigned")
	}
	highID := evaluate[string](a, `[...document.querySelectorAll("#queue-cases tbody tr")].find(tr =>
		tr.querySelector("a.ref").textContent.trim() === `+jsString(highRef)+`).dataset.caseId`)

	// Next: the most urgent case the analyst may decide, which is never the high-risk one
	// (due sooner), and it opens with its images.
	if resp := a.clickThrough("#next-case-button"); resp.Status != http.StatusOK {
		t.Fatalf("Next: status %d", resp.Status)
	}
	if got := a.text("#case-reference"); got != plainRef {
		t.Fatalf("Next opened %s, want %s (the high-risk case is a lead's)", got, plainRef)
	}
	plainPath := a.path()
	a.wantImagesLoaded("#documents img", 2)
	if got := a.text("#case-holder"); !strings.Contains(got, ana.Email) {
		t.Errorf("holder line %q does not name the analyst", got)
	}

	const note = "Gọi điện cho khách hàng: ảnh chụp lại."
	a.fill("#note-body", note)
	a.clickThrough("#add-note")
	if got := a.text("#timeline"); !strings.Contains(got, note) {
		t.Errorf("the note is not on the timeline: %q", got)
	}
	a.fill("#escalate-comment", "The selfie looks edited; please decide.")
	a.clickThrough("#escalate")
	if got := a.text("#case-status"); got != "Escalated" {
		t.Fatalf("status after escalating %q, want Escalated", got)
	}
	if a.count("#decision-form") != 0 {
		t.Error("the analyst is still offered a decision on the escalated case")
	}

	// A lead decides the escalated case.
	l1 := srv.newBrowser(t, "lead1", shots)
	l1.signIn(lead1, "/dashboard")
	l1.open(plainPath)
	l1.fill("#reason_code", "verified_manual_check")
	l1.fill("#decision-comment", "Selfie checked against the card by hand.")
	l1.clickThrough("#decide")
	if got := l1.text("#case-status"); got != "Approved" {
		t.Fatalf("status after the lead's decision %q, want Approved", got)
	}

	// Four-eyes: the first lead's approval of the high-risk case waits for a second lead.
	l1.open("/cases/" + highID)
	l1.clickThrough("#claim-form button")
	l1.fill("#reason_code", "verified")
	l1.clickThrough("#decide")
	if got := l1.text("#case-status"); got != "Awaiting 2nd approval" {
		t.Fatalf("status after the first approval %q, want Awaiting 2nd approval", got)
	}
	if l1.count("#second-approval-form") != 0 {
		t.Fatal("the first approver is offered the second approval")
	}
	if got := l1.text("#not-allowed"); !strings.Contains(got, "different lead") {
		t.Errorf("the first approver is not told why: %q", got)
	}
	// The same lead sends the second approval anyway (as an old tab would): refused, clearly.
	version := evaluate[string](l1, `document.querySelector("#case-actions input[name=version]").value`)
	csrf := evaluate[string](l1, `document.querySelector("input[name=_csrf]").value`)
	evaluate[bool](l1, `(() => { const f = document.createElement("form"); f.method = "post";
		f.action = "/cases/`+highID+`/second-approval";
		for (const [k, v] of Object.entries({decision: "approve", version: `+jsString(version)+`, _csrf: `+jsString(csrf)+`})) {
			const i = document.createElement("input"); i.type = "hidden"; i.name = k; i.value = v; f.appendChild(i); }
		document.body.appendChild(f); f.submit(); return true; })()`)
	waitForElement(t, l1, "#case-actions .flash.error")
	if got := l1.text("#case-actions .flash.error"); !strings.Contains(got, "second approval must come from a different lead") {
		t.Errorf("the same lead's second approval: message %q", got)
	}
	l1.shotHere()

	l2 := srv.newBrowser(t, "lead2", shots)
	l2.signIn(lead2, "/dashboard")
	l2.open("/cases/" + highID)
	l2.fill("#second-comment", "Four-eyes: agreed.")
	l2.clickThrough("#second-approval")
	if got := l2.text("#case-status"); got != "Approved" {
		t.Fatalf("status after the second approval %q, want Approved", got)
	}
	if got := l2.text("#timeline"); !strings.Contains(got, lead1.Email) || !strings.Contains(got, lead2.Email) {
		t.Errorf("the timeline does not name both approvers: %q", got)
	}
}

// waitForElement waits until an element matching sel is in the page (after a navigation started
// by script rather than a click).
func waitForElement(t *testing.T, b *browser, sel string) {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for b.count(sel) == 0 {
		if time.Now().After(deadline) {
			b.fatalf("no %s on %s after %v", sel, b.path(), stepTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// postReviewEvent sends one signed generic event of the given risk level with an ID card
// front and a selfie; a high risk carries a PEP hit (four-eyes).
func postReviewEvent(t *testing.T, target, secret, ref, risk string) {
	t.Helper()
	key, err := webhookauth.ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	checks := []map[string]any{{"kind": "document", "result": "pass", "score": 0.97}, {"kind": "face_match", "result": "pass", "score": 0.9}}
	if risk == "high" {
		checks = append(checks, map[string]any{"kind": "pep", "result": "hit"})
	}
	body, _ := json.Marshal(map[string]any{
		"type": "verification.completed", "occurred_at": time.Now().UTC().Format(time.RFC3339),
		"applicant": map[string]any{"external_id": "cust-" + ref, "given_name": "Thu Hương", "family_name": "Nguyễn",
			"date_of_birth": "1995-09-02", "nationality": "VNM", "id_number": "079195001234"},
		"verification": map[string]any{"reference": ref, "result": "review", "risk_level": risk, "checks": checks,
			"documents": []map[string]any{
				{"id": "front", "kind": "id_front", "content_type": "image/png", "data_base64": testPicture(t, 320, 200)},
				{"id": "selfie", "kind": "selfie", "content_type": "image/png", "data_base64": testPicture(t, 200, 240)},
			}},
	})
	postSignedUntilAccepted(t, target, key, "msg_review_"+randomHex(8), body, "generic event "+ref)
}
