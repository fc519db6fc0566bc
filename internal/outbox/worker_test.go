package outbox_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/outbox"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

func TestDecisionDeliveredSigned(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, e.Now)
	in := e.genericIntegration("acme", rc.srv.URL+"/kyc/decisions?tenant=7")
	if !strings.HasPrefix(in.DecisionSecret, "whsec_") {
		t.Fatalf("decision secret %q", in.DecisionSecret)
	}
	rc.trust(in.DecisionSecret)
	caseID, outboxID := e.decidedCase(in, "vrf-1", cases.DecisionApprove)
	w := e.worker()
	e.drain(w)

	got := rc.received()
	if len(got) != 1 || rc.refused() != 0 {
		t.Fatalf("receiver got %d deliveries (%d refused), want 1 signed", len(got), rc.refused())
	}
	ev := got[0]
	if ev.ID != strconv.FormatInt(outboxID, 10) || ev.Event.Type != "case.decided" || ev.Case.ID != caseID ||
		ev.Case.Reference != "vrf-1" || ev.Case.Status != cases.StatusApproved || ev.Case.Decision == nil ||
		*ev.Case.Decision != "approve" || ev.Case.ReasonCode == nil || *ev.Case.ReasonCode != "verified" {
		t.Errorf("delivery %+v", ev)
	}
	if at, err := time.Parse(time.RFC3339, ev.Event.OccurredAt); err != nil || !at.Equal(e.Now()) {
		t.Errorf("occurred_at %q, want the decision's time %s", ev.Event.OccurredAt, e.Now())
	}
	if d := e.delivery(outboxID, outbox.DestDecisionURL); d.State != outbox.StateDelivered || d.Attempts != 1 || d.LastStatus != 200 {
		t.Errorf("delivery row %+v", d)
	}
	if n := e.count(`SELECT COUNT(*) FROM outbox WHERE id = ? AND state = 'done'`, outboxID); n != 1 {
		t.Errorf("outbox row not done")
	}
	// Only the decision URL applies to a generic integration: no FrankieOne delivery.
	if n := e.count(`SELECT COUNT(*) FROM outbox_deliveries WHERE outbox_id = ?`, outboxID); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
	if got := testkit.AuditActions(t, e.db, "vrf-1"); !slices.Contains(got, "outbox.delivered") {
		t.Errorf("audit %v: no outbox.delivered", got)
	}
	testkit.VerifyAudit(t, e.db)

	// Nothing is sent twice.
	e.Advance(time.Hour)
	e.drain(w)
	if n := len(rc.received()); n != 1 {
		t.Errorf("%d deliveries after a second drain, want 1", n)
	}
	if v := e.deliveriesCounted("acme", outbox.DestDecisionURL, outbox.StateDelivered); v != 1 {
		t.Errorf("kycdesk_outbox_deliveries_total{outcome=delivered} = %v", v)
	}
}

func TestDecision4xxFailsAtOnceAndAdminReplays(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, e.Now, http.StatusBadRequest)
	in := e.genericIntegration("acme", rc.srv.URL)
	rc.trust(in.DecisionSecret)
	_, outboxID := e.decidedCase(in, "vrf-2", cases.DecisionReject)
	w := e.worker()
	e.drain(w)

	d := e.delivery(outboxID, outbox.DestDecisionURL)
	if d.State != outbox.StateFailed || d.Attempts != 1 || d.LastStatus != 400 || !strings.Contains(d.LastError, "400") {
		t.Fatalf("after a 400: %+v", d)
	}
	e.Advance(time.Hour)
	e.drain(w)
	if n := len(rc.received()); n != 1 {
		t.Fatalf("a failed delivery was retried: %d requests", n)
	}
	st := &outbox.Store{DB: e.db, Now: e.Now}
	h, err := st.Health(e.ctx, in.ID)
	if err != nil || h.Failed != 1 || h.Pending != 0 {
		t.Errorf("health %+v %v", h, err)
	}
	probs, err := st.Problems(e.ctx, in.ID, 20)
	if err != nil || len(probs) != 1 || probs[0].ID != d.ID || probs[0].Reference != "vrf-2" || probs[0].LastStatus != 400 {
		t.Fatalf("problems %+v %v", probs, err)
	}

	// Refused replays change nothing: another integration's row, an unknown row, a delivered row.
	other := e.genericIntegration("other", "")
	for _, tt := range []struct {
		name, integ string
		id          int64
	}{{"other integration", other.ID, d.ID}, {"unknown", in.ID, d.ID + 100}} {
		if err := st.Replay(e.ctx, "admin@example.com", tt.integ, tt.id); errs.Code(err) != errs.NotFound {
			t.Errorf("%s: replay %v, want not found", tt.name, err)
		}
	}
	if err := st.Replay(e.ctx, "admin@example.com", in.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	e.drain(w)
	if d := e.delivery(outboxID, outbox.DestDecisionURL); d.State != outbox.StateDelivered || d.Attempts != 1 {
		t.Errorf("after the replay: %+v", d)
	}
	if err := st.Replay(e.ctx, "admin@example.com", in.ID, d.ID); errs.Code(err) != errs.NotFound {
		t.Errorf("replay of a delivered row: %v", err)
	}
	got := testkit.AuditActions(t, e.db, "vrf-2")
	want := []string{"outbox.failed", "outbox.replay", "outbox.delivered"}
	if i := slices.Index(got, "outbox.failed"); i < 0 || !slices.Equal(got[i:], want) {
		t.Errorf("audit %v, want it to end with %v", got, want)
	}
	if v := e.deliveriesCounted("acme", outbox.DestDecisionURL, outbox.StateFailed); v != 1 {
		t.Errorf("failed counter %v", v)
	}
}

func TestDecisionRetriedWithBackoffThenDead(t *testing.T) {
	e := newEnv(t)
	script := []int{503, 408, 429, 500, 502}
	for range 100 {
		script = append(script, 503)
	}
	rc := newReceiver(t, e.Now, script...)
	in := e.genericIntegration("acme", rc.srv.URL)
	rc.trust(in.DecisionSecret)
	_, outboxID := e.decidedCase(in, "vrf-3", cases.DecisionApprove)
	w := e.worker()
	start := e.Now()
	e.drain(w)

	// 10 s base, doubled per attempt, half of it random: [5 s, 10 s], then [10 s, 20 s], ...
	d := e.delivery(outboxID, outbox.DestDecisionURL)
	if d.State != outbox.StatePending || d.Attempts != 1 || d.LastStatus != 503 ||
		d.NextAt.Before(start.Add(5*time.Second)) || d.NextAt.After(start.Add(10*time.Second)) {
		t.Fatalf("after a 503: %+v (now %s)", d, start)
	}
	// Not due yet: nothing is sent.
	e.Advance(4 * time.Second)
	e.drain(w)
	if n := len(rc.received()); n != 1 {
		t.Fatalf("%d requests before the retry was due", n)
	}
	e.Advance(d.NextAt.Sub(e.Now()))
	now := e.Now()
	e.drain(w)
	if d := e.delivery(outboxID, outbox.DestDecisionURL); d.State != outbox.StatePending || d.Attempts != 2 || d.LastStatus != 408 ||
		d.NextAt.Before(now.Add(10*time.Second)) || d.NextAt.After(now.Add(20*time.Second)) {
		t.Fatalf("after a 408: %+v", d)
	}
	// 429 with Retry-After: 120 waits at least that long.
	e.Advance(e.delivery(outboxID, outbox.DestDecisionURL).NextAt.Sub(e.Now()))
	now = e.Now()
	e.drain(w)
	if d := e.delivery(outboxID, outbox.DestDecisionURL); d.Attempts != 3 || d.LastStatus != 429 || d.NextAt.Before(now.Add(120*time.Second)) {
		t.Fatalf("after a 429 with Retry-After: %+v", d)
	}
	// Keep failing: the delay never exceeds an hour, and after 24 hours the delivery is dead.
	for i := 0; i < 60; i++ {
		d := e.delivery(outboxID, outbox.DestDecisionURL)
		if d.State != outbox.StatePending {
			break
		}
		if gap := d.NextAt.Sub(e.Now()); gap > time.Hour+time.Second {
			t.Fatalf("retry delay %s over an hour", gap)
		}
		e.Advance(d.NextAt.Sub(e.Now()))
		e.drain(w)
	}
	d = e.delivery(outboxID, outbox.DestDecisionURL)
	if d.State != outbox.StateDead || !strings.Contains(d.LastError, "gave up") {
		t.Fatalf("after 24 hours: %+v", d)
	}
	if e.Now().Sub(start) < 24*time.Hour || e.Now().Sub(start) > 24*time.Hour+time.Minute {
		t.Errorf("dead after %s, want 24 hours", e.Now().Sub(start))
	}
	if got := testkit.AuditActions(t, e.db, "vrf-3"); slices.Contains(got, "outbox.delivered") || !slices.Contains(got, "outbox.failed") {
		t.Errorf("audit %v", got)
	}
	if v := e.deliveriesCounted("acme", outbox.DestDecisionURL, "retry"); v < 10 {
		t.Errorf("retry counter %v", v)
	}
	if v := e.deliveriesCounted("acme", outbox.DestDecisionURL, outbox.StateDead); v != 1 {
		t.Errorf("dead counter %v", v)
	}
}

// A receiver that is down: the network error is retried, and its text names no URL (the
// decision URL may carry a token).
func TestDecisionNetworkErrorRetried(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, e.Now)
	url := rc.srv.URL + "/hook?token=sekrit"
	in := e.genericIntegration("acme", url)
	rc.srv.Close()
	_, outboxID := e.decidedCase(in, "vrf-4", cases.DecisionApprove)
	e.drain(e.worker())
	d := e.delivery(outboxID, outbox.DestDecisionURL)
	if d.State != outbox.StatePending || d.Attempts != 1 || !strings.Contains(d.LastError, "network error") || strings.Contains(d.LastError, "sekrit") {
		t.Errorf("after a refused connection: %+v", d)
	}
}

// Decisions on one case go out in order; a rotation signs with both secrets during the overlap.
func TestDecisionOrderAndRotation(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, e.Now, 500)
	in := e.genericIntegration("acme", rc.srv.URL)
	caseID, first := e.decidedCase(in, "vrf-5", cases.DecisionReject)
	second := e.decide(caseID, cases.DecisionApprove)
	// The receiver knows only the old secret until it switches; the new one signs too.
	newSecret, err := e.integ.RotateDecisionSecret(e.ctx, "admin@example.com", in.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	rc.trust(in.DecisionSecret)
	w := e.worker()
	e.drain(w)
	if d := e.delivery(second, outbox.DestDecisionURL); d.Attempts != 0 {
		t.Fatalf("the second decision went out before the first: %+v", d)
	}
	e.Advance(e.delivery(first, outbox.DestDecisionURL).NextAt.Sub(e.Now()))
	e.drain(w)
	got := rc.received()
	if len(got) != 3 || got[1].ID != strconv.FormatInt(first, 10) || got[2].ID != strconv.FormatInt(second, 10) {
		t.Fatalf("deliveries %+v", got)
	}
	// After the overlap only the new secret signs.
	e.Advance(2 * time.Hour)
	_, third := e.decidedCase(in, "vrf-6", cases.DecisionApprove)
	e.drain(w)
	if d := e.delivery(third, outbox.DestDecisionURL); d.State != outbox.StateFailed || d.LastStatus != 401 {
		t.Errorf("signed with the expired secret only? %+v", d)
	}
	rc.trust(newSecret)
	st := &outbox.Store{DB: e.db, Now: e.Now}
	if err := st.Replay(e.ctx, "admin@example.com", in.ID, e.delivery(third, outbox.DestDecisionURL).ID); err != nil {
		t.Fatal(err)
	}
	e.drain(w)
	if d := e.delivery(third, outbox.DestDecisionURL); d.State != outbox.StateDelivered {
		t.Errorf("with the new secret: %+v", d)
	}
}

func TestDecisionURLSettings(t *testing.T) {
	e := newEnv(t)
	in := e.genericIntegration("acme", "")
	if in.DecisionSecret != "" {
		t.Fatalf("a secret without a decision URL")
	}
	for _, bad := range []string{"ftp://x.example", "not a url", "https://user:pw@x.example/hook", "/relative"} {
		if _, err := e.integ.SetDecisionURL(e.ctx, "admin@example.com", in.ID, bad); errs.Code(err) != errs.Invalid {
			t.Errorf("%q: %v, want invalid", bad, err)
		}
	}
	if _, err := e.integ.RotateDecisionSecret(e.ctx, "admin@example.com", in.ID, 0); errs.Code(err) != errs.Invalid {
		t.Errorf("rotate without a URL: %v", err)
	}
	secret, err := e.integ.SetDecisionURL(e.ctx, "admin@example.com", in.ID, "https://backend.example/kyc?token=abc")
	if err != nil || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("first URL: %q %v", secret, err)
	}
	if again, err := e.integ.SetDecisionURL(e.ctx, "admin@example.com", in.ID, "https://backend.example/v2"); err != nil || again != "" {
		t.Errorf("changing the URL made a new secret: %q %v", again, err)
	}
	tgt, err := e.integ.DecisionTarget(e.ctx, in.ID)
	if err != nil || tgt == nil || tgt.URL != "https://backend.example/v2" || len(tgt.Secrets) != 1 {
		t.Fatalf("target %+v %v", tgt, err)
	}
	if _, err := e.integ.SetDecisionURL(e.ctx, "admin@example.com", in.ID, ""); err != nil {
		t.Fatal(err)
	}
	if tgt, err := e.integ.DecisionTarget(e.ctx, in.ID); tgt != nil || err != nil {
		t.Errorf("after removal: %+v %v", tgt, err)
	}
	// The audit trail records the URLs without their query (tokens) and never a secret.
	var details string
	if err := e.db.Read.QueryRow(`SELECT group_concat(details) FROM audit_log WHERE subject = 'acme'`).Scan(&details); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(details, "token=abc") || strings.Contains(details, "whsec_") || !strings.Contains(details, "backend.example") {
		t.Errorf("audit details %s", details)
	}
	testkit.VerifyAudit(t, e.db)
}

// Which steps go where: final decisions to both destinations; a request for information to
// the customer backend only (FrankieOne's status stays); a first approval waiting for its
// second one to neither.
func TestWhichStepsGoOut(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, e.Now)
	in, _, err := e.integ.Create(e.ctx, "test", integration.Spec{Name: "frankie-au", Provider: integration.FrankieOne,
		AuthMode: integration.AuthIP, APIURL: rc.srv.URL + "/v2", APIKey: "k", CustomerID: "c", DecisionURL: rc.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	w := e.worker()
	for _, tt := range []struct {
		status, decision string
		want             []string
	}{
		{cases.StatusApproved, cases.DecisionApprove, []string{outbox.DestDecisionURL, outbox.DestFrankieOne}},
		{cases.StatusRejected, cases.DecisionReject, []string{outbox.DestDecisionURL, outbox.DestFrankieOne}},
		{cases.StatusPendingInfo, "request_info", []string{outbox.DestDecisionURL}},
		{cases.StatusAwaitingSecondApproval, cases.DecisionApprove, nil},
	} {
		t.Run(tt.status, func(t *testing.T) {
			ref := "ent-" + tt.status
			out, err := e.cases.Apply(e.ctx, cases.Source{IntegrationID: in.ID, IntegrationName: in.Name, Provider: in.Provider},
				0, cases.Result{Reference: ref, Round: "exec-1", OccurredAt: e.Now(), Result: cases.ResultReview, RiskLevel: cases.RiskHigh})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.cases.EnqueueOutboxDecision(e.ctx, cases.OutboxDecision{CaseID: out.CaseID, IntegrationID: in.ID,
				Reference: ref, Round: 1, Decision: tt.decision, Status: tt.status, ReasonCode: "other", Actor: "a@example.com"}); err != nil {
				t.Fatal(err)
			}
			e.drain(w)
			var got []string
			rows, err := e.db.Read.Query(`SELECT destination FROM outbox_deliveries WHERE case_id = ? ORDER BY destination`, out.CaseID)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var d string
				_ = rows.Scan(&d)
				got = append(got, d)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("destinations %v, want %v", got, tt.want)
			}
			if n := e.count(`SELECT COUNT(*) FROM outbox WHERE case_id = ? AND state = 'done'`, out.CaseID); n != 1 {
				t.Errorf("outbox row not done")
			}
		})
	}
}

// A decision of an integration that no longer exists is dead at once, not retried forever.
func TestDecisionOfRemovedIntegration(t *testing.T) {
	e := newEnv(t)
	in := e.genericIntegration("acme", "")
	caseID, outboxID := e.decidedCase(in, "vrf-9", cases.DecisionApprove)
	e.exec(`PRAGMA foreign_keys = OFF`)
	e.exec(`UPDATE cases SET integration_id = 'gone' WHERE id = ?`, caseID)
	e.drain(e.worker())
	if n := e.count(`SELECT COUNT(*) FROM outbox WHERE id = ? AND state = 'dead' AND last_error LIKE '%no longer exists%'`, outboxID); n != 1 {
		t.Errorf("outbox row of a removed integration is not dead")
	}
}

// A decision not yet routed counts in the depth and the oldest pending age already.
func TestGaugesCountUnrouted(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, e.Now)
	in := e.genericIntegration("acme", rc.srv.URL)
	rc.trust(in.DecisionSecret)
	w := e.worker()
	e.decidedCase(in, "vrf-10", cases.DecisionApprove)
	e.Advance(30 * time.Second)
	if v := e.metric("kycdesk_outbox_depth", map[string]string{"integration": "acme"}); v != 1 {
		t.Errorf("depth %v before routing, want 1", v)
	}
	if v := e.metric("kycdesk_outbox_oldest_pending_seconds", map[string]string{"integration": "acme"}); v < 30 {
		t.Errorf("oldest pending %v before routing, want at least 30", v)
	}
	e.drain(w)
	if v := e.metric("kycdesk_outbox_depth", map[string]string{"integration": "acme"}); v != 0 {
		t.Errorf("depth %v after delivery", v)
	}
	if v := e.metric("kycdesk_outbox_oldest_pending_seconds", map[string]string{"integration": "acme"}); v != 0 {
		t.Errorf("oldest pending %v after delivery", v)
	}
}

// Deliveries held back behind an older one of their case never starve the rest.
func TestHeldBackDeliveriesDoNotStarveOthers(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, e.Now, http.StatusServiceUnavailable)
	in := e.genericIntegration("acme", rc.srv.URL)
	rc.trust(in.DecisionSecret)
	caseA, a1 := e.decidedCase(in, "vrf-a", cases.DecisionReject)
	w := e.worker(func(c *outbox.Config) { c.Batch = 1 })
	e.drain(w) // a1: 503, retried later
	a2 := e.decide(caseA, cases.DecisionApprove)
	_, b1 := e.decidedCase(in, "vrf-b", cases.DecisionApprove)
	e.drain(w)
	if d := e.delivery(b1, outbox.DestDecisionURL); d.State != outbox.StateDelivered {
		t.Errorf("b1 behind a held-back a2: %+v", d)
	}
	if d := e.delivery(a2, outbox.DestDecisionURL); d.Attempts != 0 {
		t.Errorf("a2 went before a1: %+v", d)
	}
	e.Advance(e.delivery(a1, outbox.DestDecisionURL).NextAt.Sub(e.Now()))
	e.drain(w)
	if d1, d2 := e.delivery(a1, outbox.DestDecisionURL), e.delivery(a2, outbox.DestDecisionURL); d1.State != outbox.StateDelivered || d2.State != outbox.StateDelivered {
		t.Errorf("after the retry: %+v %+v", d1, d2)
	}
}
