package outbox_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/caseapi"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/metrics"
	"github.com/kycdesk/kycdesk/internal/outbox"
	"github.com/kycdesk/kycdesk/internal/testkit"
	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

// env is the outbox on a real SQLite file: the real integration and case stores, the JSON
// API's reader, and the worker under test with an injected clock.
type env struct {
	t       testing.TB
	ctx     context.Context
	db      *db.DB
	sealer  *crypto.Sealer
	integ   *integration.Store
	cases   *cases.Store
	metrics *metrics.Metrics

	*testkit.Clock
}

func newEnv(t testing.TB) *env {
	t.Helper()
	d, sealer := testkit.Store(t)
	e := &env{t: t, ctx: context.Background(), db: d, sealer: sealer,
		Clock: testkit.NewClock(time.Now().UTC().Truncate(time.Millisecond)), metrics: metrics.New()}
	e.integ = integration.NewStore(d, sealer)
	e.integ.Now = e.Now
	e.cases = &cases.Store{DB: d, Sealer: sealer, Now: e.Now, Routing: cases.Routing{SLA: cases.DefaultSLA}}
	return e
}

// worker returns the outbox worker on e's clock and metrics registry (registered once).
func (e *env) worker(tune ...func(*outbox.Config)) *outbox.Worker {
	cfg := outbox.Config{DB: e.db, Integrations: e.integ, Cases: &caseapi.Reader{DB: e.db, Sealer: e.sealer},
		Metrics: e.metrics, Log: slog.New(slog.DiscardHandler), Now: e.Now}
	for _, f := range tune {
		f(&cfg)
	}
	return outbox.New(cfg)
}

func (e *env) drain(w *outbox.Worker) { testkit.Drain(e.t, e.ctx, w) }

// genericIntegration registers a generic integration sending its decisions to decisionURL.
func (e *env) genericIntegration(name, decisionURL string) *integration.Integration {
	e.t.Helper()
	in, _, err := e.integ.Create(e.ctx, "test", integration.Spec{Name: name, Provider: integration.Generic,
		AuthMode: integration.AuthHMAC, DecisionURL: decisionURL})
	if err != nil {
		e.t.Fatal(err)
	}
	return in
}

// decidedCase opens a case on in and decides it as a review action would: the case row
// approved or rejected and one case.decided outbox row in the documented shape.
func (e *env) decidedCase(in *integration.Integration, reference, decision string) (caseID string, outboxID int64) {
	e.t.Helper()
	out, err := e.cases.Apply(e.ctx, cases.Source{IntegrationID: in.ID, IntegrationName: in.Name, Provider: in.Provider},
		0, cases.Result{Reference: reference, Round: reference, OccurredAt: e.Now().Add(-time.Minute),
			Result: cases.ResultReview, RiskLevel: cases.RiskMedium,
			Applicant: cases.Applicant{FullName: "Nguyễn Thu Hương", ExternalID: "cust-42"}})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.CaseID, e.decide(out.CaseID, decision)
}

// decide marks the case decided and enqueues its outbox row.
func (e *env) decide(caseID, decision string) int64 {
	e.t.Helper()
	status := map[string]string{cases.DecisionApprove: cases.StatusApproved, cases.DecisionReject: cases.StatusRejected}[decision]
	reason := map[string]string{cases.DecisionApprove: "verified", cases.DecisionReject: "document_fake"}[decision]
	e.exec(`UPDATE cases SET status = ?, decision = ?, reason_code = ?, decided_at = ?, updated_at = ? WHERE id = ?`,
		status, decision, reason, db.Millis(e.Now()), db.Millis(e.Now()), caseID)
	var ref, integrationID string
	var round int
	if err := e.db.Read.QueryRow(`SELECT reference, integration_id, round FROM cases WHERE id = ?`, caseID).Scan(&ref, &integrationID, &round); err != nil {
		e.t.Fatal(err)
	}
	if err := e.cases.EnqueueOutboxDecision(e.ctx, cases.OutboxDecision{CaseID: caseID, IntegrationID: integrationID,
		Reference: ref, Round: round, Decision: decision, Status: status, ReasonCode: reason, Comment: "checked twice",
		Actor: "lead@example.com", At: e.Now().Format(caseapi.TimeFormat)}); err != nil {
		e.t.Fatal(err)
	}
	var id int64
	if err := e.db.Read.QueryRow(`SELECT MAX(id) FROM outbox WHERE case_id = ?`, caseID).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

type deliveryRow struct {
	ID         int64
	State      string
	Attempts   int
	NextAt     time.Time
	LastStatus int
	LastError  string
}

func (e *env) delivery(outboxID int64, dest string) deliveryRow {
	e.t.Helper()
	var r deliveryRow
	var next int64
	if err := e.db.Read.QueryRow(`SELECT id, state, attempts, next_attempt_at, last_status, last_error FROM outbox_deliveries
		WHERE outbox_id = ? AND destination = ?`, outboxID, dest).Scan(&r.ID, &r.State, &r.Attempts, &next, &r.LastStatus, &r.LastError); err != nil {
		e.t.Fatalf("delivery of outbox row %d to %s: %v", outboxID, dest, err)
	}
	r.NextAt = db.Time(next)
	return r
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Read.QueryRow(q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) exec(q string, args ...any) {
	e.t.Helper()
	if _, err := e.db.Write.Exec(q, args...); err != nil {
		e.t.Fatal(err)
	}
}

// receiver is a customer backend: it verifies each delivery's Standard Webhooks signature
// with the decision secret and answers with the next status of its script (then 200).
type receiver struct {
	t        testing.TB
	srv      *httptest.Server
	verifier *webhookauth.HMACVerifier

	mu       sync.Mutex
	script   []int
	got      []received
	badSigns int
}

type received struct {
	ID    string
	Event outbox.Event
	Case  caseapi.Case
}

func newReceiver(t testing.TB, now func() time.Time, script ...int) *receiver {
	r := &receiver{t: t, script: script, verifier: &webhookauth.HMACVerifier{Now: now}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// trust sets the secrets the receiver verifies with (whsec_ form).
func (r *receiver) trust(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.verifier.Secrets = nil
	for _, s := range secrets {
		raw, err := webhookauth.ParseSecret(s)
		if err != nil {
			r.t.Fatal(err)
		}
		r.verifier.Secrets = append(r.verifier.Secrets, raw)
	}
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.verifier.Verify(req.Header.Get, body); err != nil || req.Method != http.MethodPost ||
		!strings.HasPrefix(req.Header.Get("Content-Type"), "application/json") {
		r.badSigns++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev outbox.Event
	var c caseapi.Case
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		r.t.Errorf("event: %v", err)
	}
	cd := json.NewDecoder(strings.NewReader(string(ev.Case)))
	cd.DisallowUnknownFields()
	if err := cd.Decode(&c); err != nil {
		r.t.Errorf("event's case object: %v", err)
	}
	r.got = append(r.got, received{ID: req.Header.Get("webhook-id"), Event: ev, Case: c})
	status := http.StatusOK
	if len(r.script) > 0 {
		status, r.script = r.script[0], r.script[1:]
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "120")
	}
	w.WriteHeader(status)
}

func (r *receiver) received() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func (r *receiver) refused() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.badSigns
}

// deliveriesCounted reads kycdesk_outbox_deliveries_total{integration,destination,outcome}
// from the registry /metrics serves.
func (e *env) deliveriesCounted(integration, destination, outcome string) float64 {
	e.t.Helper()
	return e.metric("kycdesk_outbox_deliveries_total", map[string]string{"integration": integration,
		"destination": destination, "outcome": outcome})
}

// metric returns the value of the series of name with labels, -1 when it is absent.
func (e *env) metric(name string, labels map[string]string) float64 {
	e.t.Helper()
	families, err := e.metrics.Registry.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue series
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}
