package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/caseapi"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/metrics"
)

// Config wires the outbox worker. Zero tuning values mean the defaults.
type Config struct {
	DB           *db.DB
	Integrations *integration.Store // the provider API settings and the decision URL with its secret
	Cases        *caseapi.Reader    // the case object a case.decided event carries
	HTTP         *http.Client       // nil: a client with a 10 s timeout that follows no redirects
	Metrics      *metrics.Metrics   // nil: no metrics
	Log          *slog.Logger
	Now          func() time.Time

	Workers     int           // deliveries in flight at once (default 4)
	PollEvery   time.Duration // default 1 s
	RetryBase   time.Duration // first retry delay, doubled per attempt (default 10 s)
	RetryMax    time.Duration // longest retry delay (default 1 h)
	GiveUpAfter time.Duration // retries stop this long after the delivery was queued (default 24 h)
	Batch       int           // rows read per pass (default 64)
}

func (c Config) withDefaults() Config {
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.PollEvery <= 0 {
		c.PollEvery = time.Second
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 10 * time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = time.Hour
	}
	if c.GiveUpAfter <= 0 {
		c.GiveUpAfter = 24 * time.Hour
	}
	if c.Batch <= 0 {
		c.Batch = 64
	}
	if c.HTTP == nil {
		c.HTTP = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			// A redirect would resend the signed body elsewhere: the receiver's answer stands.
			return http.ErrUseLastResponse
		}}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Worker routes case.decided outbox rows to their destinations (one outbox_deliveries row
// each) and delivers them: a 2xx is delivered; a 4xx other than 408 and 429 is failed at
// once; anything else is retried with exponential backoff and jitter until GiveUpAfter,
// then dead. One destination failing never holds up or resends the other. Decisions on one
// case go to one destination in the order they were taken.
type Worker struct {
	cfg        Config
	store      *Store
	deliveries *prometheus.CounterVec
}

// New returns a worker; start it with Run. With cfg.Metrics it registers the outbox's
// collectors (kycdesk_outbox_*) on the server's registry.
func New(cfg Config) *Worker {
	cfg = cfg.withDefaults()
	w := &Worker{cfg: cfg, store: &Store{DB: cfg.DB, Now: cfg.Now}}
	w.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kycdesk_outbox_deliveries_total",
		Help: "Decision deliveries by integration, destination (frankieone, decision_url) and outcome (delivered, retry, failed, dead).",
	}, []string{"integration", "destination", "outcome"})
	if cfg.Metrics != nil {
		cfg.Metrics.Registry.MustRegister(w.deliveries, &gauges{db: cfg.DB, now: cfg.Now})
	}
	return w
}

// Run routes and delivers until ctx ends. A delivery in flight when it ends is left pending
// (its answer unrecorded) and is sent again at the next start: receivers deduplicate on
// webhook-id, and a repeated FrankieOne override sets the same status.
func (w *Worker) Run(ctx context.Context) error {
	ticker := time.NewTicker(w.cfg.PollEvery)
	defer ticker.Stop()
	for {
		w.pass(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// Drain routes every pending decision and delivers everything due now, until nothing due is
// left (delivered, failed, dead or waiting for a later retry). Tests and tools use it.
func (w *Worker) Drain(ctx context.Context) error {
	for ctx.Err() == nil {
		if n := w.pass(ctx); n == 0 {
			return nil
		}
	}
	return ctx.Err()
}

// pass routes and delivers one batch; it returns how many rows it handled.
func (w *Worker) pass(ctx context.Context) int {
	routed, err := w.route(ctx)
	if err != nil && ctx.Err() == nil {
		w.cfg.Log.Warn("routing decisions failed", "err", err)
	}
	sent, err := w.deliverDue(ctx)
	if err != nil && ctx.Err() == nil {
		w.cfg.Log.Warn("delivering decisions failed", "err", err)
	}
	return routed + sent
}

// --- routing: one outbox row → one delivery per destination ---------------------------------

const qUnrouted = `SELECT o.id, o.case_id, o.payload, c.integration_id, c.provider, c.reference, c.round, c.round_key
	FROM outbox o INDEXED BY outbox_pending JOIN cases c ON c.id = o.case_id
	WHERE o.state = 'pending' AND o.next_attempt_at <= ? AND o.kind = ? ORDER BY o.next_attempt_at, o.id LIMIT ?`

type unrouted struct {
	id            int64
	caseID        string
	payload       string
	integrationID string
	provider      string
	reference     string
	round         int
	roundKey      string
}

// frankieBody is what a frankieone delivery holds: the execution and the override to write.
type frankieBody struct {
	EntityID    string `json:"entity_id"`
	ExecutionID string `json:"execution_id"`
	Status      string `json:"status"`
	Comment     string `json:"comment"`
}

// Event is the body POSTed to a decision URL.
type Event struct {
	Type       string          `json:"type"`
	OccurredAt string          `json:"occurred_at"`
	Case       json.RawMessage `json:"case"`
}

func (w *Worker) route(ctx context.Context) (int, error) {
	rows, err := w.cfg.DB.Read.QueryContext(ctx, qUnrouted, db.Millis(w.cfg.Now()), cases.OutboxKindDecided, w.cfg.Batch)
	if err != nil {
		return 0, err
	}
	var list []unrouted
	for rows.Next() {
		var u unrouted
		if err := rows.Scan(&u.id, &u.caseID, &u.payload, &u.integrationID, &u.provider, &u.reference, &u.round, &u.roundKey); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, u := range list {
		if err := w.routeOne(ctx, u); err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			w.cfg.Log.Warn("routing a decision failed", "outbox_id", u.id, "case_id", u.caseID, "err", err)
			w.postponeRouting(ctx, u.id, err)
		}
	}
	return len(list), nil
}

// routeOne works out the destinations of one decision and, in one transaction, queues a
// delivery for each and marks the outbox row done.
func (w *Worker) routeOne(ctx context.Context, u unrouted) error {
	var d cases.OutboxDecision
	if err := json.Unmarshal([]byte(u.payload), &d); err != nil {
		return w.markDead(ctx, u.id, "payload is not a case.decided decision")
	}
	in, err := w.cfg.Integrations.Get(ctx, u.integrationID)
	if errs.Code(err) == errs.NotFound {
		return w.markDead(ctx, u.id, "the integration no longer exists")
	}
	if err != nil {
		return err
	}
	type queued struct{ dest, body string }
	var out []queued
	if u.provider == integration.FrankieOne && in.APIURL != "" && in.HasAPIKey {
		if status := frankieStatus(d); status != "" {
			fb := frankieBody{EntityID: u.reference, ExecutionID: u.roundKey, Status: status, Comment: frankieComment(d)}
			if d.Round != 0 && d.Round != u.round {
				// The case has moved on to a new execution since: the decided one is not known here.
				fb.ExecutionID = ""
			}
			b, _ := json.Marshal(fb)
			out = append(out, queued{DestFrankieOne, string(b)})
		}
	}
	target, err := w.cfg.Integrations.DecisionTarget(ctx, u.integrationID)
	if err != nil {
		return err
	}
	if target != nil && customerVisible(d) {
		obj, err := w.cfg.Cases.Get(ctx, u.caseID)
		if err != nil {
			return err
		}
		at := d.At
		if at == "" {
			at = w.cfg.Now().UTC().Format(caseapi.TimeFormat)
		}
		b, err := json.Marshal(Event{Type: EventType, OccurredAt: at, Case: obj})
		if err != nil {
			return err
		}
		out = append(out, queued{DestDecisionURL, string(b)})
	}
	now := db.Millis(w.cfg.Now())
	return w.cfg.DB.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET state = 'done', sent_at = ? WHERE id = ? AND state = 'pending'`, now, u.id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // routed meanwhile
		}
		for _, q := range out {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO outbox_deliveries (outbox_id, case_id, integration_id,
				destination, body, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				u.id, u.caseID, u.integrationID, q.dest, q.body, now, now); err != nil {
				return fmt.Errorf("queue delivery: %w", err)
			}
		}
		return nil
	})
}

// postponeRouting retries routing a row later (the integration or the case could not be read).
func (w *Worker) postponeRouting(ctx context.Context, outboxID int64, cause error) {
	next := db.Millis(w.cfg.Now().Add(w.cfg.RetryBase))
	if _, err := w.cfg.DB.Write.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?,
		last_error = ? WHERE id = ? AND state = 'pending'`, next, clip(cause.Error()), outboxID); err != nil && ctx.Err() == nil {
		w.cfg.Log.Warn("postponing a decision failed", "outbox_id", outboxID, "err", err)
	}
}

func (w *Worker) markDead(ctx context.Context, outboxID int64, reason string) error {
	_, err := w.cfg.DB.Write.ExecContext(ctx, `UPDATE outbox SET state = 'dead', last_error = ? WHERE id = ? AND state = 'pending'`,
		reason, outboxID)
	return err
}

// frankieStatus is the override a decision writes to FrankieOne: a final decision only.
// request_info and a first approval awaiting its second one leave FrankieOne's status alone.
func frankieStatus(d cases.OutboxDecision) string {
	switch {
	case d.Status == cases.StatusApproved || d.Status == "" && d.Decision == cases.DecisionApprove:
		return "APPROVED"
	case d.Status == cases.StatusRejected || d.Status == "" && d.Decision == cases.DecisionReject:
		return "REJECTED"
	}
	return ""
}

// customerVisible reports whether the customer backend hears of a step: a decision
// (approved, rejected) or a request for information; a first approval waiting for its
// second one, or a step back to review, is kycdesk's own business.
func customerVisible(d cases.OutboxDecision) bool {
	switch d.Status {
	case cases.StatusApproved, cases.StatusRejected, cases.StatusPendingInfo:
		return true
	case "":
		return d.Decision == cases.DecisionApprove || d.Decision == cases.DecisionReject || d.Decision == "request_info"
	}
	return false
}

// frankieComment is the override's comment: the decision and its reason, then the
// reviewer's comment. The reviewer's name stays in kycdesk.
func frankieComment(d cases.OutboxDecision) string {
	s := "kycdesk: " + d.Decision
	if d.ReasonCode != "" {
		s += " (" + d.ReasonCode + ")"
	}
	if c := strings.TrimSpace(d.Comment); c != "" {
		s += ": " + c
	}
	return s
}

// --- delivering ------------------------------------------------------------------------------

// qDue lists deliveries due now, leaving out any with an older unfinished delivery of the same
// case to the same destination: that one goes first (and the rows it holds back do not fill
// the page, starving everything due after them).
const qDue = `SELECT d.id, d.outbox_id, d.case_id, c.reference, d.integration_id, d.destination, d.body, d.attempts,
	d.created_at FROM outbox_deliveries d INDEXED BY outbox_deliveries_due JOIN cases c ON c.id = d.case_id
	WHERE d.state = 'pending' AND d.next_attempt_at <= ?
	AND NOT EXISTS (SELECT 1 FROM outbox_deliveries p INDEXED BY outbox_deliveries_case
		WHERE p.case_id = d.case_id AND p.destination = d.destination AND p.state = 'pending' AND p.id < d.id)
	ORDER BY d.next_attempt_at, d.id LIMIT ?`

type delivery struct {
	id            int64
	outboxID      int64
	caseID        string
	reference     string
	integrationID string
	destination   string
	body          string
	attempts      int
	createdAt     time.Time
}

func (w *Worker) deliverDue(ctx context.Context) (int, error) {
	rows, err := w.cfg.DB.Read.QueryContext(ctx, qDue, db.Millis(w.cfg.Now()), w.cfg.Batch)
	if err != nil {
		return 0, err
	}
	var due []delivery
	for rows.Next() {
		var d delivery
		var created int64
		if err := rows.Scan(&d.id, &d.outboxID, &d.caseID, &d.reference, &d.integrationID, &d.destination, &d.body,
			&d.attempts, &created); err != nil {
			rows.Close()
			return 0, err
		}
		d.createdAt = db.Time(created)
		due = append(due, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	ready := due

	jobs := make(chan delivery)
	var wg sync.WaitGroup
	for range min(w.cfg.Workers, len(ready)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range jobs {
				w.deliver(ctx, d)
			}
		}()
	}
	n := 0
	for _, d := range ready {
		if ctx.Err() != nil {
			break
		}
		jobs <- d
		n++
	}
	close(jobs)
	wg.Wait()
	return n, nil
}

// deliver makes one attempt and records its outcome.
func (w *Worker) deliver(ctx context.Context, d delivery) {
	var res result
	in, err := w.cfg.Integrations.Get(ctx, d.integrationID)
	switch {
	case err != nil && ctx.Err() != nil:
		return
	case err != nil:
		res = result{outcome: StateFailed, msg: "the integration cannot be read: " + err.Error()}
	case d.destination == DestFrankieOne:
		res = w.sendFrankie(ctx, in, d)
	case d.destination == DestDecisionURL:
		res = w.sendDecisionURL(ctx, in, d)
	default:
		res = result{outcome: StateFailed, msg: "unknown destination " + d.destination}
	}
	if ctx.Err() != nil {
		return // stopping: the answer (if any) is not recorded; the next start sends again
	}
	name := d.integrationID
	if in != nil {
		name = in.Name
	}
	if err := w.record(ctx, d, name, res); err != nil && ctx.Err() == nil {
		w.cfg.Log.Warn("recording a delivery failed", "delivery_id", d.id, "err", err)
	}
}

// result is one attempt's outcome: delivered, retry, failed (at once) or dead.
type result struct {
	outcome    string // StateDelivered, "retry", StateFailed
	status     int    // HTTP status, 0 for none
	msg        string // why it failed; never a secret, a body or PII
	retryAfter time.Duration
	requestID  string // FrankieOne's requestId of the override
}

const outcomeRetry = "retry"

// classify applies the design's rule to an HTTP status.
func classify(status int) string {
	switch {
	case status >= 200 && status < 300:
		return StateDelivered
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests:
		return outcomeRetry
	case status >= 400 && status < 500:
		return StateFailed
	}
	return outcomeRetry
}

// record writes an attempt's outcome; a delivered or failed decision also gets its audit
// entry (and a FrankieOne override its requestId), in the same transaction.
func (w *Worker) record(ctx context.Context, d delivery, integrationName string, res result) error {
	now := w.cfg.Now()
	attempts := d.attempts + 1
	state, next := res.outcome, int64(0)
	if state == outcomeRetry {
		giveUp := d.createdAt.Add(w.cfg.GiveUpAfter)
		if !now.Before(giveUp) {
			state = StateDead
			res.msg = fmt.Sprintf("gave up after %d attempts in %s: %s", attempts, w.cfg.GiveUpAfter, res.msg)
		} else {
			at := now.Add(max(w.backoff(attempts), min(res.retryAfter, w.cfg.RetryMax)))
			if at.After(giveUp) {
				at = giveUp // one last try at the end of the window
			}
			next = db.Millis(at)
		}
	}
	w.deliveries.WithLabelValues(integrationName, d.destination, state).Inc()
	err := w.cfg.DB.Tx(ctx, func(tx *sql.Tx) error {
		var finished any
		dbState := state
		if state == outcomeRetry {
			dbState = StatePending
		} else {
			finished = db.Millis(now)
		}
		res2, err := tx.ExecContext(ctx, `UPDATE outbox_deliveries SET state = ?, attempts = ?, next_attempt_at = ?,
			last_status = ?, last_error = ?, finished_at = ? WHERE id = ? AND state = 'pending'`,
			dbState, attempts, next, res.status, clip(res.msg), finished, d.id)
		if err != nil {
			return err
		}
		if n, _ := res2.RowsAffected(); n == 0 {
			return nil // replayed or finished meanwhile
		}
		if state == StateDelivered && d.destination == DestFrankieOne && res.requestID != "" {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO provider_overrides (request_id, case_id, created_at)
				VALUES (?, ?, ?)`, res.requestID, d.caseID, db.Millis(now)); err != nil {
				return err
			}
		}
		if state == outcomeRetry {
			return nil
		}
		action := "outbox.delivered"
		if state != StateDelivered {
			action = "outbox.failed"
		}
		details := map[string]any{"case_id": d.caseID, "outbox_id": d.outboxID, "delivery_id": d.id,
			"destination": d.destination, "integration": integrationName, "attempts": attempts, "state": state}
		if res.status != 0 {
			details["http_status"] = res.status
		}
		if res.msg != "" {
			details["error"] = clip(res.msg)
		}
		if res.requestID != "" {
			details["provider_request_id"] = res.requestID
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: Actor, Action: action, Subject: d.reference, Details: details})
		return err
	})
	log := w.cfg.Log.With("delivery_id", d.id, "case_id", d.caseID, "destination", d.destination, "integration", integrationName,
		"attempts", attempts, "http_status", res.status)
	switch state {
	case StateDelivered:
		log.Info("decision delivered", "provider_request_id", res.requestID)
	case outcomeRetry:
		log.Info("decision delivery will be retried", "next_attempt_at", db.Time(next).Format(time.RFC3339), "err", res.msg)
	default:
		log.Warn("decision delivery failed", "state", state, "err", res.msg)
	}
	return err
}

// backoff is RetryBase·2^(attempt−1), capped at RetryMax, with "equal jitter" (half fixed,
// half random) so deliveries that failed together do not come back together.
func (w *Worker) backoff(attempt int) time.Duration {
	d := w.cfg.RetryBase
	for i := 1; i < attempt && d < w.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, w.cfg.RetryMax)
	return d/2 + rand.N(d/2+1)
}

// clip keeps stored error texts short.
func clip(s string) string {
	if len(s) > 500 {
		return s[:500]
	}
	return s
}
