package ingest

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/lowprio"
	"github.com/kycdesk/kycdesk/internal/metrics"
	"github.com/kycdesk/kycdesk/internal/provider/fptai"
	"github.com/kycdesk/kycdesk/internal/provider/frankieone"
)

// Integrations is what the worker needs of the integration store (*integration.Store).
type Integrations interface {
	Get(ctx context.Context, integrationID string) (*integration.Integration, error)
	MarkUnhealthy(ctx context.Context, integrationID, reason string, until time.Time) error
	MarkHealthy(ctx context.Context, integrationID string) error
}

// WorkerConfig wires the inbox worker. Zero tuning values mean the defaults.
type WorkerConfig struct {
	DB           *db.DB // kycdesk.db: cases, and inbox_applied, the idempotency key of the worker's effects
	Inbox        *db.DB // the inbox file (db.OpenInbox): the rows to process, marked done there
	Sealer       *crypto.Sealer
	Cases        *cases.Store
	Integrations Integrations
	HTTP         *http.Client // provider API and document fetches; nil means NewFetchClient()
	Metrics      *metrics.Metrics
	Log          *slog.Logger
	Now          func() time.Time
	// Wake signals that new inbox rows were committed (Inbox.Notify); the worker also polls.
	Wake <-chan struct{}
	// Arrivals counts submitted deliveries (Inbox.Arrivals): while they come faster than
	// 500/s the worker paces itself to PaceRows, so acknowledgements keep the cores they
	// need (pace.go). nil: no pacing.
	Arrivals func() int64
	AckWait  func() time.Duration // Inbox.AckWait: acknowledgements strained, the worker slows to 600 rows/s
	PaceRows float64              // rows/s while deliveries arrive fast (default 1,000; negative: no pacing)
	// Nice is the niceness of the thread the case transactions run on (Linux): requests
	// and acknowledgements go first for the cores (internal/lowprio; the process should
	// have called lowprio.Reserve). 0 means lowprio.Nice, below 0 the process's own. The
	// processing goroutines (parsing, fetches) keep the process's: a lowered thread per
	// goroutine costs a thread handoff per row, and starves the commits.
	Nice int
	// FloorRows is the rows/s the worker makes whatever else wants the cores, as long as
	// acknowledgements are not strained: while it has made fewer in the last second, its
	// commits run at the process's priority (default 550: the 500 cases/s it must keep up
	// with, and a margin).
	FloorRows int
	// Marks writes the rows' new states with the inbox committer's next transaction
	// (Inbox.Mark). nil: the worker writes them in transactions of its own on Inbox.
	Marks func(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error

	Workers       int           // rows processed at once, each on its own key (default 8: fetches are I/O)
	MaxAttempts   int           // failed tries before a row is dead-lettered (default 8)
	LowConfidence float64       // FPT.AI OCR confidence threshold (0: the adapter's default)
	PollEvery     time.Duration // default 250 ms
	AuthBackoff   time.Duration // how long an integration whose credentials were refused rests (default 15 min)
	RetryBase     time.Duration // first retry delay, doubled per attempt (default 10 s)
	RetryMax      time.Duration // longest retry delay (default 1 h)
	BatchMax      int           // rows committed per transaction (default 64)
	MaxTracked    int           // pending rows held in memory for ordering (default 20,000)
}

func (c WorkerConfig) withDefaults() WorkerConfig {
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.PollEvery <= 0 {
		c.PollEvery = 250 * time.Millisecond
	}
	if c.AuthBackoff <= 0 {
		c.AuthBackoff = 15 * time.Minute
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 10 * time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = time.Hour
	}
	if c.BatchMax <= 0 {
		c.BatchMax = 64
	}
	if c.MaxTracked <= 0 {
		c.MaxTracked = 20000
	}
	if c.PaceRows == 0 {
		c.PaceRows = 1000
	}
	if c.Nice == 0 {
		c.Nice = lowprio.Nice
	}
	if c.FloorRows <= 0 {
		c.FloorRows = 550
	}
	if c.HTTP == nil {
		c.HTTP = NewFetchClient()
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Worker turns inbox rows into cases. One claimer goroutine reads pending rows in id order
// and keeps, per case key (integration + the provider's reference), a queue of its rows: a
// key has at most one row in flight and its rows run in arrival order, while different
// keys run on Workers goroutines at once (fetches are I/O). Results are committed by one
// committer goroutine, many rows per transaction, each under a savepoint, so a row's case
// changes, audit entry and inbox_applied record commit together and the disk is synced once
// per batch; then the rows are marked done in the inbox file (a second transaction there:
// a row applied but not yet marked is recognised by inbox_applied and not applied again).
type Worker struct {
	cfg   WorkerConfig
	integ *integrationCache
	pace  *pacer
}

// NewWorker returns a worker; start it with Run.
func NewWorker(cfg WorkerConfig) *Worker {
	cfg = cfg.withDefaults()
	return &Worker{cfg: cfg, integ: newIntegrationCache(cfg.Integrations, cfg.Now), pace: newPacer(cfg.Arrivals, cfg.AckWait, cfg.PaceRows)}
}

// Run processes inbox rows until ctx ends. Rows being fetched or committed when it ends are
// abandoned unmarked: they are still pending, and the next start resumes them. Run must not
// be called twice at once.
func (w *Worker) Run(ctx context.Context) error {
	w.loop(ctx, false)
	return nil
}

// Drain processes every row that is due now and returns when none is left: due rows done,
// dead or waiting for a later retry. Tests and one-shot tools use it; like Run, it starts
// from the database's state, so it also shows what a restart does.
func (w *Worker) Drain(ctx context.Context) error {
	w.loop(ctx, true)
	return ctx.Err()
}

// entry is one pending row the claimer knows.
type entry struct {
	id            int64
	key           string
	integrationID string
	nextAt        int64 // unix ms: not before
}

// keyQueue is the pending rows of one case key, oldest first.
type keyQueue struct {
	rows    []*entry
	busy    bool // the head is in flight
	waiting bool // in run.waiting: the head is not due yet
	ready   bool // in run.ready
}

// run is the claimer's state for one Run or Drain; only the claimer goroutine touches it.
type run struct {
	w        *Worker
	ctx      context.Context
	known    map[int64]*entry
	keys     map[string]*keyQueue
	ready    []string // keys whose head may go now, roughly in arrival order
	waiting  map[string]bool
	cursor   int64 // highest id tracked: new rows are above it
	inflight int
	jobs     chan job
	rescanAt time.Time // last rescan below the cursor (replayed dead letters)
	full     bool      // the last scan filled its page: more rows wait
}

type job struct {
	id  int64
	key string
}

const scanPage = 512

// The claimer's queries name their access path: the planner's own choice flips with the
// table's statistics, and the wrong one reads the whole inbox on every wake-up.
const (
	// qScanNew reads rows committed after the cursor: a range of the primary key, so its
	// cost is the new rows, however long the inbox's history.
	qScanNew = `SELECT id, integration_id, delivery_key, payload, encrypted, next_attempt_at
		FROM inbox NOT INDEXED WHERE id > ? AND state = 'pending' ORDER BY id LIMIT ?`
	// qPendingBelow lists pending rows at or below the cursor from the pending index: the
	// backlog, never the done rows.
	qPendingBelow = `SELECT id FROM inbox INDEXED BY inbox_pending WHERE state = 'pending' AND id <= ?`
	qPendingRow   = `SELECT id, integration_id, delivery_key, payload, encrypted, next_attempt_at
		FROM inbox WHERE id = ? AND state = 'pending'`
)

func (w *Worker) loop(ctx context.Context, untilIdle bool) {
	if err := w.cfg.Cases.PrepareStatements(ctx); err != nil && ctx.Err() == nil {
		w.cfg.Log.Warn("preparing the case statements failed: running unprepared", "err", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	// Rows in flight: processing, waiting in a commit's linger (100 ms when paced), being
	// committed, or waiting for their marks in the inbox. With one batch's worth (80) the worker
	// made at most 80 rows per cycle of about 150–200 ms while deliveries arrived at 3,000/s:
	// 370–470 cases/s with cores idle. Three batches' worth keep the next batch gathering
	// while one commits (BENCHMARKS.md, "The worker's cost per case, and what a commit costs").
	maxInflight := 2*w.cfg.Workers + 3*w.cfg.BatchMax
	r := &run{w: w, ctx: ctx, known: map[int64]*entry{}, keys: map[string]*keyQueue{}, waiting: map[string]bool{},
		jobs: make(chan job, maxInflight)}
	commits := make(chan *commitOp, maxInflight)
	done := make(chan *commitOp, maxInflight)

	var wg sync.WaitGroup
	for range w.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.processLoop(ctx, r.jobs, commits, done)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.commitLoop(ctx, commits, done)
	}()
	defer func() {
		cancel()
		wg.Wait()
	}()

	wake := w.cfg.Wake
	if untilIdle {
		wake = nil
	}
	ticker := time.NewTicker(w.cfg.PollEvery)
	defer ticker.Stop()

	// Start from the inbox's end and read the backlog through the pending index; rows that
	// come later are read by the cursor.
	if err := w.cfg.Inbox.Read.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM inbox`).Scan(&r.cursor); err != nil {
		r.logScanError(err)
	}
	r.rescan()
	r.scan()
	r.recheckWaiting()
	for {
		r.dispatch(maxInflight)
		// Idle: nothing in flight or ready, and no unread rows (or no room to read them:
		// every row held waits for a later retry).
		if untilIdle && r.inflight == 0 && len(r.ready) == 0 && (!r.full || len(r.known) >= w.cfg.MaxTracked) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
			r.scan()
		case <-ticker.C:
			r.scan()
			if time.Since(r.rescanAt) >= time.Second {
				r.rescan()
			}
			// Rows wait on the clock or on their integration's health: both change slowly.
			r.recheckWaiting()
		case op := <-done:
			r.complete(op)
			if r.full && r.inflight < maxInflight/2 {
				r.scan()
			}
		}
	}
}

// scan tracks rows committed since the last scan (ids above the cursor).
func (r *run) scan() {
	r.full = false
	if len(r.known) >= r.w.cfg.MaxTracked {
		r.full = true
		return
	}
	rows, err := r.w.cfg.Inbox.Read.QueryContext(r.ctx, qScanNew, r.cursor, scanPage)
	if err != nil {
		r.logScanError(err)
		return
	}
	n := r.trackRows(rows)
	r.full = n == scanPage
}

// rescan finds pending rows below the cursor that the claimer does not know: dead letters an
// admin replayed, rows left over when tracking was full.
func (r *run) rescan() {
	r.rescanAt = time.Now()
	ids, err := r.untracked()
	if err != nil {
		r.logScanError(err)
		return
	}
	slices.Sort(ids) // the index gives them by due time; a key's rows must queue by arrival
	for _, id := range ids {
		if len(r.known) >= r.w.cfg.MaxTracked {
			return
		}
		rows, err := r.w.cfg.Inbox.Read.QueryContext(r.ctx, qPendingRow, id)
		if err != nil {
			r.logScanError(err)
			return
		}
		r.trackRows(rows)
	}
}

func (r *run) untracked() ([]int64, error) {
	rows, err := r.w.cfg.Inbox.Read.QueryContext(r.ctx, qPendingBelow, r.cursor)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if r.known[id] == nil {
			out = append(out, id)
		}
	}
	return out, rows.Err()
}

func (r *run) logScanError(err error) {
	if r.ctx.Err() == nil {
		r.w.cfg.Log.Error("inbox scan failed", "err", err)
	}
}

func (r *run) trackRows(rows *sql.Rows) int {
	defer rows.Close()
	n := 0
	for rows.Next() {
		var e entry
		var deliveryKey string
		var payload []byte
		var encrypted bool
		if err := rows.Scan(&e.id, &e.integrationID, &deliveryKey, &payload, &encrypted, &e.nextAt); err != nil {
			r.logScanError(err)
			return n
		}
		n++
		if e.id > r.cursor {
			r.cursor = e.id
		}
		if r.known[e.id] != nil {
			continue
		}
		e.key = r.w.partitionKey(r.ctx, e.id, e.integrationID, deliveryKey, payload, encrypted)
		r.track(&e)
	}
	if err := rows.Err(); err != nil {
		r.logScanError(err)
	}
	return n
}

func (r *run) track(e *entry) {
	r.known[e.id] = e
	q := r.keys[e.key]
	if q == nil {
		q = &keyQueue{}
		r.keys[e.key] = q
	}
	// Rows arrive in id order except replayed ones found by rescan: keep the queue sorted,
	// behind a head that is already in flight.
	i := len(q.rows)
	for i > 0 && q.rows[i-1].id > e.id && !(i == 1 && q.busy) {
		i--
	}
	q.rows = append(q.rows, nil)
	copy(q.rows[i+1:], q.rows[i:])
	q.rows[i] = e
	r.place(e.key, q)
}

// place puts a key that is not in flight into ready or waiting, by its head row.
func (r *run) place(key string, q *keyQueue) {
	if q.busy || q.ready || len(q.rows) == 0 {
		return
	}
	if r.due(q.rows[0]) {
		if q.waiting {
			delete(r.waiting, key)
			q.waiting = false
		}
		q.ready = true
		r.ready = append(r.ready, key)
		return
	}
	if !q.waiting {
		q.waiting = true
		r.waiting[key] = true
	}
}

// due reports whether a row may be processed now: its own retry time has come and its
// integration is not resting (credentials refused). The rest is the integration's state in
// the database, not the row's, so an admin's "mark healthy" frees every row at once, and a
// restart keeps the rest.
func (r *run) due(e *entry) bool {
	now := r.w.cfg.Now()
	if r.w.integ.restingUntil(r.ctx, e.integrationID).After(now) {
		return false
	}
	return e.nextAt <= db.Millis(now)
}

func (r *run) recheckWaiting() {
	for key := range r.waiting {
		q := r.keys[key]
		if q == nil || len(q.rows) == 0 || q.busy {
			delete(r.waiting, key)
			if q != nil {
				q.waiting = false
			}
			continue
		}
		if r.due(q.rows[0]) {
			delete(r.waiting, key)
			q.waiting = false
			r.place(key, q)
		}
	}
}

func (r *run) dispatch(maxInflight int) {
	for r.inflight < maxInflight && len(r.ready) > 0 {
		key := r.ready[0]
		r.ready = r.ready[1:]
		q := r.keys[key]
		if q == nil {
			continue
		}
		q.ready = false
		if q.busy || len(q.rows) == 0 {
			continue
		}
		if !r.due(q.rows[0]) { // the integration started resting since the key became ready
			r.place(key, q)
			continue
		}
		q.busy = true
		r.inflight++
		r.jobs <- job{id: q.rows[0].id, key: key}
	}
	if len(r.ready) == 0 {
		r.ready = nil // let the backing array go
	}
}

// complete records a finished row: done or dead rows leave the key's queue; a row to retry
// stays at its head, so the key's later rows wait behind it.
func (r *run) complete(op *commitOp) {
	r.inflight--
	e := r.known[op.id]
	q := r.keys[op.key]
	if e == nil || q == nil {
		return
	}
	q.busy = false
	switch op.kind {
	case opApply, opDone, opDead:
		delete(r.known, op.id)
		if i := slices.Index(q.rows, e); i >= 0 {
			q.rows = slices.Delete(q.rows, i, i+1)
		}
		if len(q.rows) == 0 {
			delete(r.keys, op.key)
			if q.waiting {
				delete(r.waiting, op.key)
			}
			return
		}
	case opRetry:
		e.nextAt = db.Millis(op.nextAt)
	}
	r.place(op.key, q)
}

// partitionKey is the case a row belongs to: integration + the provider's reference for it.
// A row whose payload cannot be read gets a key of its own, and processing dead-letters it.
func (w *Worker) partitionKey(ctx context.Context, rowID int64, integrationID, deliveryKey string, payload []byte, encrypted bool) string {
	own := "row:" + strconv.FormatInt(rowID, 10)
	body, err := OpenPayload(w.cfg.Sealer, integrationID, deliveryKey, payload, encrypted)
	if err != nil {
		return own
	}
	in, err := w.integ.get(ctx, integrationID)
	if err != nil {
		return own
	}
	var ref string
	switch in.Provider {
	case integration.Generic:
		var ev struct {
			Verification struct {
				Reference string `json:"reference"`
			} `json:"verification"`
		}
		if json.Unmarshal(body, &ev) == nil {
			ref = ev.Verification.Reference
		}
	case integration.FPTAI:
		if cb, err := fptai.Parse(body, in.DataKey); err == nil {
			ref = cb.Reference()
		}
	case integration.FrankieOne:
		if n, err := frankieone.ParseNotification(body); err == nil {
			ref = n.EntityID
		}
	}
	if ref == "" {
		return own
	}
	return integrationID + "\x00" + ref
}

// integrationCache keeps integrations for a second, so the claimer and the workers do not
// read (and unseal the API key of) the integration for every row, while an admin's change
// (new credentials, "mark healthy") still takes effect within a second.
type integrationCache struct {
	store Integrations
	now   func() time.Time
	ttl   time.Duration

	mu   sync.Mutex
	byID map[string]cachedIntegration
}

type cachedIntegration struct {
	in      *integration.Integration
	err     error
	fetched time.Time
}

func newIntegrationCache(store Integrations, now func() time.Time) *integrationCache {
	return &integrationCache{store: store, now: now, ttl: time.Second, byID: map[string]cachedIntegration{}}
}

func (c *integrationCache) get(ctx context.Context, integrationID string) (*integration.Integration, error) {
	c.mu.Lock()
	ci, ok := c.byID[integrationID]
	c.mu.Unlock()
	// The TTL runs on the wall clock: the injected clock of a test may stand still.
	if ok && time.Since(ci.fetched) < c.ttl {
		return ci.in, ci.err
	}
	in, err := c.store.Get(ctx, integrationID)
	if err != nil && errs.Code(err) != errs.NotFound {
		return nil, err // a transient read error is not remembered
	}
	c.mu.Lock()
	c.byID[integrationID] = cachedIntegration{in: in, err: err, fetched: time.Now()}
	c.mu.Unlock()
	return in, err
}

// forget drops an integration after the worker changed its health, so the next look is fresh.
func (c *integrationCache) forget(integrationID string) {
	c.mu.Lock()
	delete(c.byID, integrationID)
	c.mu.Unlock()
}

// restingUntil is when an unhealthy integration may be tried again (zero when healthy).
func (c *integrationCache) restingUntil(ctx context.Context, integrationID string) time.Time {
	in, err := c.get(ctx, integrationID)
	if err != nil || in == nil || in.UnhealthyReason == "" {
		return time.Time{}
	}
	return in.UnhealthyUntil
}
