package outbox_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/ingest"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/outbox"
	"github.com/kycdesk/kycdesk/internal/provider/frankieone"
	"github.com/kycdesk/kycdesk/internal/simulator"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

// lockedBuffer collects the simulator's log lines (one per status override it accepts).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) overrides() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), "status override")
}

// frankieEnv is the FrankieOne round trip: the simulator's API and notifications, a webhook
// endpoint that stores notifications in the real inbox as kycdesk's does, and the real
// ingest worker that turns them into cases.
type frankieEnv struct {
	*env
	sim      *simulator.Server
	simLog   *lockedBuffer
	inbox    *ingest.Inbox
	ingest   *ingest.Worker
	in       *integration.Integration
	received chan struct{}
}

func newFrankieEnv(t *testing.T, decisionURL string) *frankieEnv {
	e := &frankieEnv{env: newEnv(t), simLog: &lockedBuffer{}, received: make(chan struct{}, 16)}
	e.sim = simulator.NewServer(simulator.ServerConfig{Out: e.simLog})
	if _, err := e.sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.sim.Close)
	in, _, err := e.integ.Create(e.ctx, "test", integration.Spec{Name: "frankie-au", Provider: integration.FrankieOne,
		AuthMode: integration.AuthIP, AllowIPs: []string{"127.0.0.1/32"}, APIURL: e.sim.BaseURL() + "/v2",
		APIKey: e.sim.APIKey(), CustomerID: e.sim.CustomerID(), DecisionURL: decisionURL})
	if err != nil {
		t.Fatal(err)
	}
	e.in = in
	ctx, cancel := context.WithCancel(context.Background())
	ib := testkit.Inbox(t, e.db)
	e.inbox = ingest.New(ib, e.db, e.sealer, nil, nil, nil, ingest.Options{})
	done := make(chan struct{})
	go func() { defer close(done); _ = e.inbox.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	e.ingest = ingest.NewWorker(ingest.WorkerConfig{DB: e.db, Inbox: ib, Marks: e.inbox.Mark, Sealer: e.sealer, Cases: e.cases, Integrations: e.integ,
		Log: slog.New(slog.DiscardHandler)})

	// The webhook endpoint: /webhooks/frankieone/{integrationID}/{requestID}.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n, err := frankieone.ParseNotification(body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		requestID := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		key := n.DeliveryID()
		if key == "" {
			key = requestID
		}
		if _, err := e.inbox.Submit(r.Context(), ingest.Delivery{IntegrationID: in.ID, Integration: in.Name,
			Provider: in.Provider, DeliveryKey: key, PathParam: requestID, Payload: body}); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		e.received <- struct{}{}
	}))
	t.Cleanup(hook.Close)

	ctx2, cancel2 := context.WithTimeout(e.ctx, 60*time.Second)
	defer cancel2()
	if _, err := simulator.Run(ctx2, simulator.Options{Provider: simulator.FrankieOne, Count: 1, Mix: "review=1",
		Seed: 42, Auth: simulator.Auth{WebhookURL: hook.URL + in.WebhookPath()}}, e.sim); err != nil {
		t.Fatal(err)
	}
	for len(e.received) > 0 {
		<-e.received // the verification's own notifications: the tests wait for later ones
	}
	e.drainIngest()
	return e
}

func (e *frankieEnv) drainIngest() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 60*time.Second)
	defer cancel()
	if err := e.ingest.Drain(ctx); err != nil {
		e.t.Fatal(err)
	}
}

// onlyCase returns the one case the simulator's verification made.
func (e *frankieEnv) onlyCase() *cases.Case {
	e.t.Helper()
	var id string
	if err := e.db.Read.QueryRow(`SELECT id FROM cases`).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	c, err := e.cases.Get(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// TestFrankieOneWriteBackEcho: a decision reaches the simulator's FrankieOne API as the
// execution's status override; the EntityStatusChanged notification that follows is
// recognised as our own echo and changes nothing; the decision URL failing meanwhile is
// retried without resending the override.
func TestFrankieOneWriteBackEcho(t *testing.T) {
	rc := newReceiver(t, time.Now, http.StatusInternalServerError)
	e := newFrankieEnv(t, rc.srv.URL)
	rc.verifier.Now = e.Now
	rc.trust(e.in.DecisionSecret)
	c := e.onlyCase()
	if c.Status != cases.StatusNew || c.RoundKey == "" {
		t.Fatalf("case %s round key %q", c.Status, c.RoundKey)
	}
	outboxID := e.decide(c.ID, cases.DecisionReject)
	w := e.worker()
	e.drain(w)

	if n := e.simLog.overrides(); n != 1 {
		t.Fatalf("the simulator saw %d status overrides, want 1", n)
	}
	fd := e.delivery(outboxID, outbox.DestFrankieOne)
	if fd.State != outbox.StateDelivered {
		t.Fatalf("FrankieOne delivery %+v", fd)
	}
	var requestID string
	if err := e.db.Read.QueryRow(`SELECT request_id FROM provider_overrides WHERE case_id = ?`, c.ID).Scan(&requestID); err != nil || requestID == "" {
		t.Fatalf("the override's requestId was not kept: %v", err)
	}
	if d := e.delivery(outboxID, outbox.DestDecisionURL); d.State != outbox.StatePending || d.LastStatus != 500 {
		t.Fatalf("decision URL delivery %+v", d)
	}

	// The echo arrives, is fetched, and is recognised: the case stays rejected, same round.
	select {
	case <-e.received:
	case <-time.After(10 * time.Second):
		t.Fatal("no echo notification from the simulator")
	}
	e.drainIngest()
	after := e.onlyCase()
	if after.Status != cases.StatusRejected || after.Round != c.Round || after.RoundKey != c.RoundKey {
		t.Errorf("after the echo: status %s round %d (%s), want rejected in round %d", after.Status, after.Round, after.RoundKey, c.Round)
	}
	got := testkit.AuditActions(t, e.db, c.Reference)
	if !slices.Contains(got, "case.provider_confirmed") || slices.Contains(got, "case.updated") || slices.Contains(got, "case.reopened") {
		t.Errorf("audit %v: want the echo confirmed and nothing updated", got)
	}

	// The decision URL's retry does not resend the override.
	e.Advance(time.Minute)
	e.drain(w)
	if d := e.delivery(outboxID, outbox.DestDecisionURL); d.State != outbox.StateDelivered || d.Attempts != 2 {
		t.Errorf("decision URL after the retry: %+v", d)
	}
	if n := e.simLog.overrides(); n != 1 {
		t.Errorf("the override was sent %d times", n)
	}
	if got := rc.received(); len(got) != 2 || got[1].Case.Status != cases.StatusRejected {
		t.Errorf("receiver got %+v", got)
	}
	testkit.VerifyAudit(t, e.db)

	// /metrics: depth 0 and nothing failed for the integration; two deliveries counted.
	if v := e.metric("kycdesk_outbox_depth", map[string]string{"integration": "frankie-au"}); v != 0 {
		t.Errorf("depth %v", v)
	}
	if v := e.metric("kycdesk_outbox_oldest_pending_seconds", map[string]string{"integration": "frankie-au"}); v != 0 {
		t.Errorf("oldest pending %v", v)
	}
	if v := e.deliveriesCounted("frankie-au", outbox.DestFrankieOne, outbox.StateDelivered); v != 1 {
		t.Errorf("frankieone delivered counter %v", v)
	}
}

// A FrankieOne API that refuses the key fails the override at once; the decision URL, down,
// keeps its delivery pending: the gauges show both.
func TestFrankieOneRefusedAndGauges(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	e := newFrankieEnv(t, down.URL)
	c := e.onlyCase()
	if err := e.integ.UpdateAPI(e.ctx, "admin@example.com", e.in.ID, integration.APISettings{APIURL: e.in.APIURL,
		APIKey: "wrong-key", CustomerID: e.in.CustomerID}); err != nil {
		t.Fatal(err)
	}
	outboxID := e.decide(c.ID, cases.DecisionApprove)
	e.drain(e.worker())
	if d := e.delivery(outboxID, outbox.DestFrankieOne); d.State != outbox.StateFailed || d.LastStatus != 401 {
		t.Errorf("with a refused key: %+v", d)
	}
	if n := e.simLog.overrides(); n != 0 {
		t.Errorf("%d overrides with a wrong key", n)
	}
	if d := e.delivery(outboxID, outbox.DestDecisionURL); d.State != outbox.StatePending {
		t.Errorf("decision URL down: %+v", d)
	}
	e.Advance(90 * time.Second)
	if v := e.metric("kycdesk_outbox_depth", map[string]string{"integration": "frankie-au"}); v != 1 {
		t.Errorf("depth %v, want 1", v)
	}
	if v := e.metric("kycdesk_outbox_oldest_pending_seconds", map[string]string{"integration": "frankie-au"}); v < 90 {
		t.Errorf("oldest pending %v s, want at least 90", v)
	}
	if v := e.metric("kycdesk_outbox_failed", map[string]string{"integration": "frankie-au"}); v != 1 {
		t.Errorf("failed gauge %v", v)
	}
	h, err := (&outbox.Store{DB: e.db, Now: e.Now}).Health(e.ctx, e.in.ID)
	if err != nil || h.Pending != 1 || h.Failed != 1 || e.Now().Sub(h.OldestPending) < 90*time.Second {
		t.Errorf("health %+v %v", h, err)
	}
}
