package ingest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/metrics"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

// inboxEnv is an inbox on a real SQLite file whose committer the test starts when it
// wants to: deliveries queued before Run show exactly how batches form.
type inboxEnv struct {
	t       *testing.T
	db      *db.DB // the inbox file
	main    *db.DB // kycdesk.db: integrations, audit
	sealer  *crypto.Sealer
	metrics *metrics.Metrics
	inbox   *Inbox
	in      *integration.Integration
	now     time.Time
	stop    func()
}

func newInboxEnv(t *testing.T, opts Options) *inboxEnv {
	t.Helper()
	d, sealer := testkit.Store(t)
	e := &inboxEnv{t: t, db: testkit.Inbox(t, d), main: d, sealer: sealer, metrics: metrics.New(), now: time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)}
	store := &integration.Store{DB: d, Sealer: sealer, Now: func() time.Time { return e.now }}
	var err error
	if e.in, _, err = store.Create(context.Background(), "test", integration.Spec{Name: "acme", Provider: integration.Generic, AuthMode: integration.AuthHMAC}); err != nil {
		t.Fatal(err)
	}
	if opts.FlushEvery == 0 {
		opts.FlushEvery = time.Hour // counters are written with commits or Flush only, unless a test asks
	}
	e.inbox = New(e.db, d, sealer, e.metrics, nil, func() time.Time { return e.now }, opts)
	return e
}

// start runs the committer until the test ends (or stop is called).
func (e *inboxEnv) start() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = e.inbox.Run(ctx); close(done) }()
	var once sync.Once
	e.stop = func() { once.Do(func() { cancel(); <-done }) }
	e.t.Cleanup(e.stop)
}

func (e *inboxEnv) delivery(key string) Delivery {
	return Delivery{IntegrationID: e.in.ID, Integration: e.in.Name, Provider: e.in.Provider, DeliveryKey: key,
		Payload: []byte(`{"applicant":{"given_name":"Thu Hương"},"key":"` + key + `"}`), Sensitive: true}
}

type submitted struct {
	key string
	r   Receipt
	err error
}

// submitAll submits the keys concurrently and waits until all of them are queued.
func (e *inboxEnv) submitAll(keys []string) chan submitted {
	out := make(chan submitted, len(keys))
	for _, k := range keys {
		go func() {
			r, err := e.inbox.Submit(context.Background(), e.delivery(k))
			out <- submitted{k, r, err}
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(e.inbox.queue) < len(keys) {
		if time.Now().After(deadline) {
			e.t.Fatalf("only %d of %d queued", len(e.inbox.queue), len(keys))
		}
		time.Sleep(time.Millisecond)
	}
	return out
}

func (e *inboxEnv) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Read.QueryRow(q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func keys(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

func TestGroupCommit(t *testing.T) {
	e := newInboxEnv(t, Options{Wait: 10 * time.Second})
	// 200 deliveries and two duplicates of one of them wait before the committer starts.
	ks := append(keys("d", 200), "d-7", "d-7")
	results := e.submitAll(ks)
	e.start()

	ids := map[int64]bool{}
	dups := 0
	for range ks {
		s := <-results
		if s.err != nil {
			t.Fatalf("%s: %v", s.key, s.err)
		}
		if s.r.Duplicate {
			dups++
			continue
		}
		if s.r.ID == 0 || ids[s.r.ID] {
			t.Fatalf("%s: id %d", s.key, s.r.ID)
		}
		ids[s.r.ID] = true
	}
	if len(ids) != 200 || dups != 2 {
		t.Fatalf("%d new, %d duplicates", len(ids), dups)
	}
	if n := e.count(`SELECT COUNT(*) FROM inbox`); n != 200 {
		t.Fatalf("%d rows", n)
	}
	// All of it in one transaction: one observation of the batch size, 202 deliveries.
	h := histogram(t, e.metrics, "kycdesk_webhook_commit_batch_size")
	if h.count != 1 || h.sum != 202 {
		t.Fatalf("batches: %d of total %v, want 1 of 202", h.count, h.sum)
	}
	if got := counter(t, e.metrics, "acme", "accepted"); got != 200 {
		t.Fatalf("accepted metric %v", got)
	}
	if got := counter(t, e.metrics, "acme", "duplicate"); got != 2 {
		t.Fatalf("duplicate metric %v", got)
	}
	// The counters went into the same transaction.
	if n := e.count(`SELECT n FROM delivery_stats WHERE outcome = 'accepted'`); n != 200 {
		t.Fatalf("accepted stat %d", n)
	}
	if n := e.count(`SELECT n FROM delivery_stats WHERE outcome = 'duplicate'`); n != 2 {
		t.Fatalf("duplicate stat %d", n)
	}
	// Sealed at rest, bound to the row.
	var payload []byte
	var key string
	if err := e.db.Read.QueryRow(`SELECT delivery_key, payload FROM inbox WHERE encrypted = 1 LIMIT 1`).Scan(&key, &payload); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(payload), "Hương") {
		t.Fatal("payload stored in the clear")
	}
	plain, err := OpenPayload(e.sealer, e.in.ID, key, payload, true)
	if err != nil || !strings.Contains(string(plain), `"key":"`+key+`"`) {
		t.Fatalf("open: %q %v", plain, err)
	}
}

// TestBatchMaxOne is the baseline mode: one transaction per delivery.
func TestBatchMaxOne(t *testing.T) {
	e := newInboxEnv(t, Options{BatchMax: 1, Wait: 10 * time.Second})
	results := e.submitAll(keys("b", 10))
	e.start()
	for range 10 {
		if s := <-results; s.err != nil || s.r.Duplicate {
			t.Fatalf("%+v", s)
		}
	}
	if h := histogram(t, e.metrics, "kycdesk_webhook_commit_batch_size"); h.count != 10 || h.sum != 10 {
		t.Fatalf("batches: %d of total %v, want 10 of 10", h.count, h.sum)
	}
}

// TestCommitGapSpacesBusyCommits: while commits carry more than one delivery, the next one
// begins no sooner than CommitGap after the last began (fewer syncs, the same deliveries); a
// delivery after a lone one is committed at once.
func TestCommitGapSpacesBusyCommits(t *testing.T) {
	const gap = 300 * time.Millisecond
	e := newInboxEnv(t, Options{CommitGap: gap, Wait: 10 * time.Second})
	first := e.submitAll(keys("busy", 3)) // queued before Run: the first commit carries all three
	if e.inbox.Busy() {
		t.Fatal("busy before any commit")
	}
	e.start()
	began := time.Now()
	for range 3 {
		if s := <-first; s.err != nil {
			t.Fatal(s.err)
		}
	}
	answered := time.Now() // Busy's clock started before the answers
	if !e.inbox.Busy() {
		t.Fatal("not busy after a commit of three deliveries")
	}
	submit := func(key string) time.Duration {
		t.Helper()
		t0 := time.Now()
		if _, err := e.inbox.Submit(context.Background(), e.delivery(key)); err != nil {
			t.Fatal(err)
		}
		return time.Since(t0)
	}
	submit("spaced")
	if waited := time.Since(began); waited < gap-20*time.Millisecond {
		t.Fatalf("the commit after a busy one came %s after it began, want at least the gap %s", waited, gap)
	}
	// That commit carried one delivery: the next is not held back.
	if took := submit("alone"); took >= gap-20*time.Millisecond {
		t.Fatalf("a delivery after a lone one took %s: held back by the gap", took)
	}
	if h := histogram(t, e.metrics, "kycdesk_webhook_commit_batch_size"); h.count != 3 || h.sum != 5 {
		t.Fatalf("batches: %d of total %v, want 3 of 5", h.count, h.sum)
	}
	// Lone commits since: Busy ends a quarter second after the last commit of several.
	if wait := time.Until(answered.Add(busyFor + 10*time.Millisecond)); wait > 0 {
		time.Sleep(wait)
	}
	if e.inbox.Busy() {
		t.Fatal("still busy after lone commits only")
	}
}

// TestCountersWithoutWrites: refused deliveries are counted in memory and written with
// the next commit, not one write each.
func TestCountersWithoutWrites(t *testing.T) {
	e := newInboxEnv(t, Options{})
	e.start()
	for range 1000 {
		e.inbox.Count(e.in.ID, e.in.Name, metrics.AuthFailed)
	}
	e.inbox.Count(e.in.ID, e.in.Name, metrics.Busy) // a metric only
	if n := e.count(`SELECT COUNT(*) FROM delivery_stats`); n != 0 {
		t.Fatalf("%d stats rows written before any commit", n)
	}
	if _, err := e.inbox.Submit(context.Background(), e.delivery("x")); err != nil {
		t.Fatal(err)
	}
	if n := e.count(`SELECT n FROM delivery_stats WHERE outcome = 'auth_failed'`); n != 1000 {
		t.Fatalf("auth_failed %d after the next commit", n)
	}
	e.advance(time.Hour) // a new hour bucket
	e.inbox.Count(e.in.ID, e.in.Name, metrics.AuthFailed)
	if err := e.inbox.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := e.count(`SELECT COUNT(*) FROM delivery_stats WHERE outcome = 'auth_failed'`); n != 2 {
		t.Fatalf("%d auth_failed hour rows, want 2", n)
	}
	if n := e.count(`SELECT COUNT(*) FROM delivery_stats WHERE outcome = 'busy'`); n != 0 {
		t.Fatal("busy went to delivery_stats")
	}
	if got := counter(t, e.metrics, "acme", "busy"); got != 1 {
		t.Fatalf("busy metric %v", got)
	}
}

func (e *inboxEnv) advance(d time.Duration) { e.now = e.now.Add(d) }

// TestCountersFlushOnTimer: with no delivery to carry them, counters are written within FlushEvery.
func TestCountersFlushOnTimer(t *testing.T) {
	e := newInboxEnv(t, Options{FlushEvery: 20 * time.Millisecond})
	e.start()
	e.inbox.Count(e.in.ID, e.in.Name, metrics.Malformed)
	deadline := time.Now().Add(5 * time.Second)
	for e.count(`SELECT COUNT(*) FROM delivery_stats WHERE outcome = 'malformed'`) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("counter never written")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestShutdownAnswersQueued: deliveries queued when the server stops are committed and answered.
func TestShutdownAnswersQueued(t *testing.T) {
	e := newInboxEnv(t, Options{BatchMax: 8, Wait: 10 * time.Second})
	results := e.submitAll(keys("s", 50))
	e.start()
	e.stop()
	for range 50 {
		if s := <-results; s.err != nil {
			t.Fatalf("%s: %v", s.key, s.err)
		}
	}
	if n := e.count(`SELECT COUNT(*) FROM inbox`); n != 50 {
		t.Fatalf("%d rows", n)
	}
	if _, err := e.inbox.Submit(context.Background(), e.delivery("late")); err != ErrBusy {
		t.Fatalf("after stop: %v", err)
	}
}

func TestNotify(t *testing.T) {
	e := newInboxEnv(t, Options{})
	e.start()
	if _, err := e.inbox.Submit(context.Background(), e.delivery("n1")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.inbox.Notify():
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up after a new row")
	}
	if r, err := e.inbox.Submit(context.Background(), e.delivery("n1")); err != nil || !r.Duplicate {
		t.Fatalf("%+v %v", r, err)
	}
	select {
	case <-e.inbox.Notify():
		t.Fatal("a duplicate woke the worker")
	default:
	}
}

func TestSubmitRefusesBadKeys(t *testing.T) {
	e := newInboxEnv(t, Options{})
	for _, k := range []string{"", strings.Repeat("k", MaxDeliveryKeyLen+1)} {
		if _, err := e.inbox.Submit(context.Background(), e.delivery(k)); errs.Code(err) != errs.Invalid {
			t.Fatalf("key of %d bytes: %v", len(k), err)
		}
	}
}

func TestReplayAndHealth(t *testing.T) {
	e := newInboxEnv(t, Options{})
	e.start()
	ctx := context.Background()
	for _, k := range keys("h", 4) {
		if _, err := e.inbox.Submit(ctx, e.delivery(k)); err != nil {
			t.Fatal(err)
		}
	}
	e.inbox.Count(e.in.ID, e.in.Name, metrics.AuthFailed)
	e.advance(90 * time.Second)
	if err := e.inbox.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// The worker's doing, by hand: one done, one dead after 8 attempts.
	if _, err := e.db.Write.Exec(`UPDATE inbox SET state = 'done' WHERE delivery_key = 'h-0'`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Write.Exec(`UPDATE inbox SET state = 'dead', attempts = 8, last_error = 'provider API answered 404' WHERE delivery_key = 'h-1'`); err != nil {
		t.Fatal(err)
	}
	h, err := e.inbox.Health(ctx, e.in.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := Health{LastDelivery: e.now.Add(-90 * time.Second), Deliveries24h: 4, AuthFailures24h: 1, Pending: 2,
		OldestPending: e.now.Add(-90 * time.Second), Dead: 1}
	if h != want {
		t.Fatalf("health\n got %+v\nwant %+v", h, want)
	}
	dead, err := e.inbox.DeadLetters(ctx, e.in.ID, 10)
	if err != nil || len(dead) != 1 || dead[0].Reason != "provider API answered 404" || dead[0].Attempts != 8 {
		t.Fatalf("dead letters %+v %v", dead, err)
	}

	// The gauges see the same inbox.
	g := gather(t, e.metrics)
	if g["kycdesk_inbox_depth"] != 2 || g["kycdesk_worker_lag_seconds"] != 90 {
		t.Fatalf("gauges %v", g)
	}

	if err := e.inbox.Replay(ctx, "admin@example.com", e.in.ID, dead[0].ID); err != nil {
		t.Fatal(err)
	}
	var state string
	var attempts int
	var next int64
	if err := e.db.Read.QueryRow(`SELECT state, attempts, next_attempt_at FROM inbox WHERE id = ?`, dead[0].ID).Scan(&state, &attempts, &next); err != nil {
		t.Fatal(err)
	}
	if state != "pending" || attempts != 0 || next != db.Millis(e.now) {
		t.Fatalf("after replay: %s %d %d", state, attempts, next)
	}
	if err := e.inbox.Replay(ctx, "admin@example.com", e.in.ID, dead[0].ID); errs.Code(err) != errs.NotFound {
		t.Fatalf("replaying twice: %v", err)
	}
	if err := e.inbox.Replay(ctx, "admin@example.com", "otherintegr", dead[0].ID); errs.Code(err) != errs.NotFound {
		t.Fatalf("replay through another integration: %v", err)
	}
	entries, _ := audit.List(ctx, e.main.Read, audit.Filter{Action: "inbox.replay"})
	if len(entries) != 1 || entries[0].Actor != "admin@example.com" || entries[0].Subject != "acme" {
		t.Fatalf("audit %+v", entries)
	}
}

type histo struct {
	count uint64
	sum   float64
}

func histogram(t *testing.T, m *metrics.Metrics, name string) histo {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			h := mf.GetMetric()[0].GetHistogram()
			return histo{h.GetSampleCount(), h.GetSampleSum()}
		}
	}
	t.Fatalf("no %s", name)
	return histo{}
}

func gather(t *testing.T, m *metrics.Metrics) map[string]float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if g := mf.GetMetric()[0].GetGauge(); g != nil {
			out[mf.GetName()] = g.GetValue()
		}
	}
	return out
}

func counter(t *testing.T, m *metrics.Metrics, integrationName, outcome string) float64 {
	t.Helper()
	var pb dto.Metric
	if err := m.WebhookDeliveries.WithLabelValues(integrationName, outcome).Write(&pb); err != nil {
		t.Fatal(err)
	}
	return pb.GetCounter().GetValue()
}

// TestQueryPlans: every query of the health page and /metrics searches an index; none
// scans the inbox or delivery_stats, which grow with every delivery.
func TestQueryPlans(t *testing.T) {
	e := newInboxEnv(t, Options{})
	for name, tt := range map[string]struct {
		q    string
		args []any
	}{
		"health stats": {healthStatsQuery, []any{"i", 0}},
		"health inbox": {healthInboxQuery, []any{"i"}},
		"dead letters": {deadLettersQuery, []any{"i", 20}},
		"depth":        {depthQuery, nil},
		"oldest":       {oldestQuery, []any{"i"}},
		"replay":       {replayQuery, []any{1, "i"}},
	} {
		plan := testkit.QueryPlan(t, e.db, tt.q, tt.args...)
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN inbox") || strings.HasPrefix(step, "SCAN delivery_stats") || strings.HasPrefix(step, "SCAN x") {
				t.Errorf("%s scans a table:\n%s", name, strings.Join(plan, "\n"))
			}
		}
	}
}
