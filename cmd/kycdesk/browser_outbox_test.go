package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

// Journey: an admin gives an integration a decision URL on /admin/integrations and sees its
// signing secret once; decisions reach the customer backend signed with it; one the backend
// refuses shows on the page with its reason, and the admin's Replay sends it again.
func TestBrowserAdminDecisionWriteBack(t *testing.T) {
	t.Parallel()
	srv, shots := journey(t)
	ada := srv.createUser(t, "admin", "ada@example.com", "Ada Admin")
	var reg map[string]string
	if err := json.Unmarshal([]byte(srv.cli(t, "", "integration", "add", "--provider", "generic", "--auth", "hmac",
		"--name", "bank-onboarding", "--json")), &reg); err != nil {
		t.Fatal(err)
	}
	id := reg["id"]

	// The customer backend: verifies every signature, answers as told.
	backend := newDecisionBackend(t)

	b := srv.newBrowser(t, "admin", shots)
	b.signIn(ada, "/admin/users")
	b.open("/admin/integrations")
	panel := "#outbox-" + id
	if got := b.text(panel + ` [data-stat="outbox-pending"]`); got != "0" {
		b.fatalf("outbox depth %q on a new integration", got)
	}
	b.clickNoLoad(panel + " details summary")
	b.fill("#decision-url-"+id, backend.URL+"/kyc/decisions")
	b.clickThrough(panel + ` button[name="save-decision-url"]`)
	if got := b.text("#new-secret-title"); !strings.Contains(got, "decision signing secret") {
		b.fatalf("title %q", got)
	}
	shown := b.text("#new-secret")
	raw, err := webhookauth.ParseSecret(shown)
	if err != nil {
		b.fatalf("shown decision secret %q: %v", shown, err)
	}
	backend.trust(raw)
	b.open("/admin/integrations")
	if b.count("#new-secret") != 0 {
		b.fatalf("the decision secret is shown again after a reload")
	}

	// Two decided cases: the first the backend takes, the second it refuses with 400.
	key, _ := webhookauth.ParseSecret(reg["secret"])
	first := srv.decideGenericCase(t, b.base, id, key, "vrf-writeback-1")
	waitFor(t, 15*time.Second, "the first decision at the backend", func() bool {
		events, _ := backend.received()
		return len(events) == 1
	})
	events, _ := backend.received()
	if !strings.Contains(events[0], `"type":"case.decided"`) || !strings.Contains(events[0], `"id":"`+first+`"`) {
		t.Errorf("event %s", events[0])
	}
	backend.answer(http.StatusBadRequest)
	srv.decideGenericCase(t, b.base, id, key, "vrf-writeback-2")
	waitFor(t, 15*time.Second, "the refused decision", func() bool {
		events, _ := backend.received()
		return len(events) == 2
	})
	var row string
	waitFor(t, 10*time.Second, "the failed delivery on the page", func() bool {
		b.openQuiet("/admin/integrations")
		if b.count(panel+` tr[data-state="failed"]`) == 0 {
			return false
		}
		row = evaluate[string](b, `document.querySelector(`+jsString(panel+` tr[data-state="failed"]`)+`).id`)
		return true
	})
	b.shotHere()
	if got := b.text("#" + row); !strings.Contains(got, "vrf-writeback-2") || !strings.Contains(got, "400") {
		b.fatalf("failed row %q", got)
	}

	// Replay asks first (data-confirm), then sends again; the backend takes it this time.
	backend.answer(http.StatusOK)
	asked := b.acceptNextDialog()
	b.clickThrough("#" + row + ` button[name="replay-decision"]`)
	select {
	case msg := <-asked:
		if !strings.Contains(msg, "again") {
			t.Errorf("confirm dialog %q", msg)
		}
	default:
		t.Error("Replay asked no confirmation (data-confirm)")
	}
	if got := b.text("#main"); !strings.Contains(got, "will be sent again") {
		b.fatalf("no confirmation of the replay")
	}
	waitFor(t, 15*time.Second, "the replayed decision", func() bool {
		events, _ := backend.received()
		return len(events) == 3
	})
	waitFor(t, 10*time.Second, "the page to show nothing failed", func() bool {
		b.openQuiet("/admin/integrations")
		return b.text(panel+` [data-stat="outbox-failed"]`) == "0" && b.text(panel+` [data-stat="outbox-delivered"]`) == "2"
	})
	b.shotHere()
	if n, _ := strconv.Atoi(b.text(panel + ` [data-stat="outbox-pending"]`)); n != 0 {
		b.fatalf("outbox depth %d after everything went out", n)
	}
}

// clickNoLoad clicks an element that changes the page without loading another (a summary).
func (b *browser) clickNoLoad(sel string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)); err != nil {
		b.fatalf("click %s (on %s): %v", sel, b.path(), err)
	}
}

// decideGenericCase delivers a generic verification signed with the integration's secret,
// waits for its case, and has a lead claim and approve it through the review actions
// (cases.Store, beside the running server: the case row, its audit entry, decision row and
// case.decided outbox row in one transaction). It returns the case id.
func (s *kycdeskServer) decideGenericCase(t *testing.T, base, integrationID string, key []byte, reference string) string {
	t.Helper()
	body := []byte(`{"type":"verification.completed","occurred_at":"2026-11-20T08:14:41Z",` +
		`"applicant":{"given_name":"Thu Hương","family_name":"Nguyễn","nationality":"VNM"},` +
		`"verification":{"reference":"` + reference + `","result":"review","risk_level":"medium"}}`)
	resp, err := http.DefaultClient.Do(signedRequest(base+"/webhooks/generic/"+integrationID, key, "msg-"+reference, time.Now(), body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delivery of %s: %d", reference, resp.StatusCode)
	}
	st, err := openStore(context.Background(), s.Data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var caseID string
	waitFor(t, 15*time.Second, "the case of "+reference, func() bool {
		return st.db.Read.QueryRow(`SELECT id FROM cases WHERE reference = ?`, reference).Scan(&caseID) == nil
	})
	lead := reviewActor(t, s, st, "lead", "writeback.lead@example.com")
	cs := &cases.Store{DB: st.db, Sealer: st.sealer}
	if _, err := cs.Claim(context.Background(), caseID, 0, lead); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Decide(context.Background(), cases.DecisionInput{CaseID: caseID, By: lead, Decision: cases.DecisionApprove,
		ReasonCode: "verified"}); err != nil {
		t.Fatal(err)
	}
	return caseID
}

// reviewActor is the user email of role as the review actions see them, created through
// `kycdesk user create` the first time it is asked for.
func reviewActor(t *testing.T, s *kycdeskServer, st *store, role, email string) cases.Actor {
	t.Helper()
	a := cases.Actor{Email: email, Role: role}
	if st.db.Read.QueryRow(`SELECT id FROM users WHERE email = ?`, email).Scan(&a.ID) == nil {
		return a
	}
	s.createUser(t, role, email, "")
	if err := st.db.Read.QueryRow(`SELECT id FROM users WHERE email = ?`, email).Scan(&a.ID); err != nil {
		t.Fatal(err)
	}
	return a
}
