package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/caseapi"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/outbox"
)

// TestAdminDecisionURL: an admin sets the decision URL (its signing secret shown once),
// rotates the secret, and a refused URL changes nothing.
func TestAdminDecisionURL(t *testing.T) {
	env := newTestEnv(t)
	admin := env.signIn(auth.Admin)
	in, _ := env.addIntegration(integration.Spec{Name: "acme", Provider: integration.Generic, AuthMode: integration.AuthHMAC})
	path := "/admin/integrations/" + in.ID

	resp, body := admin.postForm(path+"/decision-url", url.Values{"decision_url": {"https://backend.example/kyc/decisions"}})
	secret := secretOnPage(body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(secret, "whsec_") || !strings.Contains(body, "New decision signing secret") {
		t.Fatalf("set decision URL: %d, secret %q", resp.StatusCode, secret)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Error("a page showing a secret may be cached")
	}
	tgt, err := env.srv.Integrations.Store().DecisionTarget(context.Background(), in.ID)
	if err != nil || tgt == nil || tgt.URL != "https://backend.example/kyc/decisions" {
		t.Fatalf("target %+v %v", tgt, err)
	}
	_, body = admin.get("/admin/integrations")
	if secretOnPage(body) != "" || strings.Contains(body, secret) || !strings.Contains(body, `data-decision-url>https://backend.example/kyc/decisions<`) {
		t.Fatal("the page must show the decision URL and never the secret again")
	}

	// Refused: not http(s), credentials in the URL. Nothing changes.
	for _, bad := range []string{"javascript:alert(1)", "https://u:p@backend.example/"} {
		if resp, _ := admin.postForm(path+"/decision-url", url.Values{"decision_url": {bad}}); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%q: %d", bad, resp.StatusCode)
		}
	}
	if tgt, _ := env.srv.Integrations.Store().DecisionTarget(context.Background(), in.ID); tgt.URL != "https://backend.example/kyc/decisions" {
		t.Errorf("a refused URL changed it: %s", tgt.URL)
	}

	// Changing the URL keeps the secret (nothing shown); rotating shows a new one.
	resp, _ = admin.postForm(path+"/decision-url", url.Values{"decision_url": {"https://backend.example/v2/decisions"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("change URL: %d", resp.StatusCode)
	}
	resp, body = admin.postForm(path+"/decision-secret", url.Values{"overlap": {"1h"}})
	rotated := secretOnPage(body)
	if resp.StatusCode != http.StatusOK || rotated == "" || rotated == secret || !strings.Contains(body, "also signs until") {
		t.Fatalf("rotate: %d %q", resp.StatusCode, rotated)
	}
	if tgt, _ := env.srv.Integrations.Store().DecisionTarget(context.Background(), in.ID); len(tgt.Secrets) != 2 {
		t.Errorf("during the overlap both secrets sign: %d", len(tgt.Secrets))
	}
	if resp, _ := admin.postForm(path+"/decision-secret", url.Values{"overlap": {"forever"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown overlap: %d", resp.StatusCode)
	}

	// Other roles may do none of it.
	for _, role := range []auth.Role{auth.Analyst, auth.Lead, auth.Auditor} {
		c := env.signIn(role)
		if resp, _ := c.postForm(path+"/decision-url", url.Values{"decision_url": {"https://evil.example/"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: set URL %d", role, resp.StatusCode)
		}
		if resp, _ := c.postForm(path+"/decision-secret", url.Values{"overlap": {"0s"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: rotate %d", role, resp.StatusCode)
		}
	}
	got := env.auditActions("acme")
	for _, want := range []string{"integration.set_decision_url", "integration.rotate_decision_secret"} {
		if !slices.Contains(got, want) {
			t.Errorf("audit %v lacks %s", got, want)
		}
	}
}

// TestAdminOutboxReplay: a decision the receiver refused shows on the page with its reason
// and the outbox's numbers; an admin's Replay sends it again (audited).
func TestAdminOutboxReplay(t *testing.T) {
	env := newTestEnv(t)
	status := http.StatusBadRequest
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
	defer rcv.Close()
	src := env.caseSource(integration.Generic)
	if _, err := env.srv.Integrations.Store().SetDecisionURL(context.Background(), "test", src.IntegrationID, rcv.URL); err != nil {
		t.Fatal(err)
	}
	caseID := env.applyResult(src, simpleResult("vrf-out-1", "Nguyễn Văn A", cases.RiskLow, env.now.Add(-time.Minute)))
	env.setCase(caseID, cases.StatusApproved, 0)
	if err := env.srv.caseStore().EnqueueOutboxDecision(context.Background(), cases.OutboxDecision{CaseID: caseID,
		IntegrationID: src.IntegrationID, Reference: "vrf-out-1", Round: 1, Decision: cases.DecisionApprove,
		Status: cases.StatusApproved, ReasonCode: "verified", Actor: "lead@example.com"}); err != nil {
		t.Fatal(err)
	}
	w := outbox.New(outbox.Config{DB: env.db, Integrations: env.srv.Integrations.Store(),
		Cases: &caseapi.Reader{DB: env.db, Sealer: env.sealer}, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return env.now }})
	if err := w.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	var deliveryID int64
	if err := env.db.Read.QueryRow(`SELECT id FROM outbox_deliveries WHERE case_id = ? AND state = 'failed'`, caseID).Scan(&deliveryID); err != nil {
		t.Fatalf("no failed delivery: %v", err)
	}

	admin := env.signIn(auth.Admin)
	_, body := admin.get("/admin/integrations")
	row := `id="outbox-delivery-` + strconv.FormatInt(deliveryID, 10) + `" data-state="failed"`
	if !strings.Contains(body, row) || !strings.Contains(body, "the receiver answered 400") ||
		!strings.Contains(body, `data-stat="outbox-failed">1<`) || !strings.Contains(body, `data-stat="outbox-pending">0<`) {
		t.Fatalf("the failed delivery is not on the page")
	}
	replay := "/admin/integrations/" + src.IntegrationID + "/outbox/" + strconv.FormatInt(deliveryID, 10) + "/replay"
	for _, role := range []auth.Role{auth.Analyst, auth.Lead, auth.Auditor} {
		if resp, _ := env.signIn(role).postForm(replay, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: replay %d", role, resp.StatusCode)
		}
	}
	for _, bad := range []string{"/outbox/999999/replay", "/outbox/x/replay"} {
		if resp, _ := admin.postForm("/admin/integrations/"+src.IntegrationID+bad, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", bad, resp.StatusCode)
		}
	}
	if resp, _ := admin.postForm(replay, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("replay: %d", resp.StatusCode)
	}
	_, body = admin.get("/admin/integrations")
	if !strings.Contains(body, "will be sent again") || !strings.Contains(body, `data-stat="outbox-pending">1<`) {
		t.Error("after the replay the page shows no pending delivery")
	}
	status = http.StatusOK
	if err := w.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := env.countRows(`SELECT COUNT(*) FROM outbox_deliveries WHERE id = ? AND state = 'delivered'`, deliveryID); n != 1 {
		t.Error("the replayed delivery was not delivered")
	}
	entries := env.auditEntries("vrf-out-1", "outbox.replay")
	if len(entries) != 1 || entries[0].Actor != admin.user.Email {
		t.Errorf("replay audit %+v", entries)
	}
}
