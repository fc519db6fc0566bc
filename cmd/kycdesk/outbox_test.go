package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/config"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

// TestServeWriteBack: a running `kycdesk serve` takes a FrankieOne verification from
// `kycdesk simulate`, and a decision on it goes out through the outbox worker serve starts:
// the simulator's FrankieOne API takes the status override, its echo is recognised (the case
// stays decided), and the integration's decision URL gets the signed case.decided event.
func TestServeWriteBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := config.Default()
	cfg.Addr, cfg.DataDir = "127.0.0.1:0", dir
	base := serveInProcess(t, cfg)

	// The customer backend: checks each delivery's signature with the decision secret.
	backend := newDecisionBackend(t)

	simDone := make(chan string, 1)
	go func() {
		code, out, errOut := runMain(t, "", nil, "simulate", "--target", base, "--provider", "frankieone", "--count", "1",
			"--mix", "review=1", "--data", dir, "--linger", "10s")
		simDone <- strings.Join([]string{string(rune('0' + code)), out, errOut}, "\n")
	}()

	st, err := openStore(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	integ := integration.NewStore(st.db, st.sealer)
	var caseID, reference string
	waitFor(t, 20*time.Second, "the simulator's case", func() bool {
		return st.db.Read.QueryRow(`SELECT id, reference FROM cases`).Scan(&caseID, &reference) == nil
	})
	in, err := integ.FindByName(context.Background(), "simulator-frankieone")
	if err != nil {
		t.Fatal(err)
	}
	secret, err := integ.SetDecisionURL(context.Background(), auth.CLIActor, in.ID, backend.URL+"/decisions")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := webhookauth.ParseSecret(secret)
	backend.trust(raw)

	// A lead claims and rejects it through the review actions (one transaction: the case row,
	// its audit entry, decision row and outbox row).
	if code, out, errOut := runMain(t, "Quiet-Harbor-Lantern-7294-Velvet\n", nil, "user", "create", "--email", "lead@example.com",
		"--role", "lead", "--data", dir); code != 0 {
		t.Fatalf("user create: %d %s %s", code, out, errOut)
	}
	lead := cases.Actor{Email: "lead@example.com", Role: cases.RoleLead}
	if err := st.db.Read.QueryRow(`SELECT id FROM users WHERE email = ?`, lead.Email).Scan(&lead.ID); err != nil {
		t.Fatal(err)
	}
	cs := &cases.Store{DB: st.db, Sealer: st.sealer}
	if _, err := cs.Claim(context.Background(), caseID, 0, lead); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Decide(context.Background(), cases.DecisionInput{CaseID: caseID, By: lead, Decision: cases.DecisionReject,
		ReasonCode: "document_fake", Comment: "hologram missing"}); err != nil {
		t.Fatal(err)
	}

	waitFor(t, 20*time.Second, "the override and the echo", func() bool {
		var n int
		_ = st.db.Read.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE subject = ? AND action = 'case.provider_confirmed'`, reference).Scan(&n)
		return n == 1
	})
	var status string
	var overrides, updates int
	if err := st.db.Read.QueryRow(`SELECT status, (SELECT COUNT(*) FROM provider_overrides WHERE case_id = cases.id),
		(SELECT COUNT(*) FROM audit_log WHERE subject = cases.reference AND action IN ('case.updated', 'case.reopened'))
		FROM cases WHERE id = ?`, caseID).Scan(&status, &overrides, &updates); err != nil {
		t.Fatal(err)
	}
	if status != cases.StatusRejected || overrides != 1 || updates != 0 {
		t.Errorf("after the echo: status %s, %d overrides kept, %d updates/reopens", status, overrides, updates)
	}
	waitFor(t, 10*time.Second, "the case.decided event", func() bool {
		events, _ := backend.received()
		return len(events) == 1
	})
	events, _ := backend.received()
	if !strings.Contains(events[0], `"type":"case.decided"`) || !strings.Contains(events[0], `"status":"rejected"`) ||
		!strings.Contains(events[0], `"reason_code":"document_fake"`) {
		t.Errorf("event %s", events[0])
	}

	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var metrics bytes.Buffer
	_, _ = metrics.ReadFrom(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`kycdesk_outbox_deliveries_total{destination="frankieone",integration="simulator-frankieone",outcome="delivered"} 1`,
		`kycdesk_outbox_deliveries_total{destination="decision_url",integration="simulator-frankieone",outcome="delivered"} 1`,
		`kycdesk_outbox_depth{integration="simulator-frankieone"} 0`,
		`kycdesk_outbox_oldest_pending_seconds{integration="simulator-frankieone"} 0`,
	} {
		if !strings.Contains(metrics.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if out := <-simDone; !strings.HasPrefix(out, "0\n") || !strings.Contains(out, "status override") {
		t.Errorf("simulate: %s", out)
	}
}
