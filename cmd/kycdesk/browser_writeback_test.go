package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

// Journey: write-back as a user sees it. A verification from the FrankieOne simulator becomes
// a case; a lead claims and rejects it in Chromium; the outbox worker of the running server
// sends the decision to the simulator's FrankieOne API as a status override with the comment
// (the simulator says so when it exits) and to the integration's decision URL as a Standard
// Webhooks-signed case.decided event (the receiver checks the signature); the echo webhook
// the simulator then sends is recognised and changes nothing (the case page still says
// Rejected, nothing was updated or reopened); the JSON API shows the decision, the reason
// code and the decided time.
func TestBrowserWriteBack(t *testing.T) {
	t.Parallel()
	srv, shots := journey(t)
	lead := srv.createUser(t, "lead", "lan.writeback@example.com", "Lan Phạm")

	// The customer backend behind the decision URL.
	backend := newDecisionBackend(t)

	simDone := make(chan string, 1)
	go func() {
		code, out, errOut := runMain(t, "", nil, "simulate", "--target", srv.URL, "--provider", "frankieone", "--count", "1",
			"--mix", "review=1", "--data", srv.Data, "--linger", "25s")
		simDone <- strings.Join([]string{string(rune('0' + code)), out, errOut}, "\n")
	}()

	st, err := openStore(context.Background(), srv.Data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var caseID, reference string
	waitFor(t, 30*time.Second, "the simulator's case", func() bool {
		return st.db.Read.QueryRow(`SELECT id, reference FROM cases`).Scan(&caseID, &reference) == nil
	})
	integ := integration.NewStore(st.db, st.sealer)
	var in *integration.Integration
	waitFor(t, 10*time.Second, "the simulator's integration", func() bool {
		in, err = integ.FindByName(context.Background(), "simulator-frankieone")
		return err == nil
	})
	secret, err := integ.SetDecisionURL(context.Background(), auth.CLIActor, in.ID, backend.URL+"/kyc/decisions")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := webhookauth.ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	backend.trust(raw)

	b := srv.newBrowser(t, "lead", shots)
	b.signIn(lead, "/dashboard")
	b.open("/cases/" + caseID)
	if got := b.text("#case-reference"); got != reference {
		b.fatalf("case page shows %q, want %s", got, reference)
	}
	b.clickThrough("#claim-form button")
	b.clickNoLoad("#decision-reject")
	b.fill("#reason_code", "document_fake")
	const comment = "Hologram missing; ảnh thẻ bị chỉnh sửa."
	b.fill("#decision-comment", comment)
	b.clickThrough("#decide")
	if got := b.text("#case-status"); got != "Rejected" {
		b.fatalf("status after the decision %q, want Rejected", got)
	}
	b.shotHere()

	// The override reaches the simulator, whose echo webhook comes back and is recognised.
	waitFor(t, 30*time.Second, "the override's echo recognised", func() bool {
		var n int
		_ = st.db.Read.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE subject = ? AND action = 'case.provider_confirmed'`, reference).Scan(&n)
		return n == 1
	})
	waitFor(t, 15*time.Second, "the signed case.decided event", func() bool {
		events, _ := backend.received()
		return len(events) == 1
	})
	events, refused := backend.received()
	var ev struct {
		Type string `json:"type"`
		Data struct {
			ID         string `json:"id"`
			Status     string `json:"status"`
			Decision   string `json:"decision"`
			ReasonCode string `json:"reason_code"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(events[0]), &ev); err != nil || ev.Type != "case.decided" ||
		!strings.Contains(events[0], `"reason_code":"document_fake"`) || !strings.Contains(events[0], `"status":"rejected"`) ||
		!strings.Contains(events[0], caseID) {
		t.Errorf("case.decided event %s (%v)", events[0], err)
	}
	if refused != 0 {
		t.Errorf("%d deliveries failed the signature check", refused)
	}

	// The echo changed nothing: still rejected, on the page and in the database.
	b.open("/cases/" + caseID)
	if got := b.text("#case-status"); got != "Rejected" {
		b.fatalf("status after the echo %q, want Rejected", got)
	}
	if got := b.text("#timeline"); !strings.Contains(got, comment) && !strings.Contains(got, "document_fake") {
		t.Errorf("the timeline does not show the decision: %q", got)
	}
	b.shotHere()
	var status, decision, reason string
	var overrides, updates int
	if err := st.db.Read.QueryRow(`SELECT status, decision, reason_code,
		(SELECT COUNT(*) FROM provider_overrides WHERE case_id = cases.id),
		(SELECT COUNT(*) FROM audit_log WHERE subject = cases.reference AND action IN ('case.updated', 'case.reopened'))
		FROM cases WHERE id = ?`, caseID).Scan(&status, &decision, &reason, &overrides, &updates); err != nil {
		t.Fatal(err)
	}
	if status != "rejected" || decision != "reject" || reason != "document_fake" || overrides != 1 || updates != 0 {
		t.Errorf("after the echo: %s %s %s, %d overrides, %d updates or reopens", status, decision, reason, overrides, updates)
	}

	// The JSON API, as a customer backend that polls sees it.
	token := field(srv.cli(t, "", "apitoken", "create", "--name", "writeback-journey"), "token")
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/cases/"+caseID, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Status     string     `json:"status"`
		Decision   *string    `json:"decision"`
		ReasonCode *string    `json:"reason_code"`
		DecidedAt  *time.Time `json:"decided_at"`
	}
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/cases/%s: %d %v", caseID, resp.StatusCode, err)
	}
	if got.Status != "rejected" || got.Decision == nil || *got.Decision != "reject" || got.ReasonCode == nil ||
		*got.ReasonCode != "document_fake" || got.DecidedAt == nil || time.Since(*got.DecidedAt) > 5*time.Minute {
		t.Errorf("API: %+v", got)
	}

	// The simulator took the override (its FrankieOne API says so as it exits).
	select {
	case out := <-simDone:
		if !strings.HasPrefix(out, "0\n") || !strings.Contains(out, "status override") {
			t.Errorf("simulate: %s", out)
		}
	case <-time.After(60 * time.Second):
		t.Error("the simulator did not exit")
	}
}
