// Package ingest is the way in for provider webhooks: a durable, deduplicated inbox that
// acknowledges only committed deliveries (group commit), and the worker that turns them into cases.
package ingest

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/metrics"
)

// Delivery is one verified webhook delivery to store.
type Delivery struct {
	IntegrationID string
	Integration   string // the integration's name: the metrics label
	Provider      string
	DeliveryKey   string // the provider's identity of the delivery: duplicates share it
	PathParam     string // FrankieOne's appended requestID, "" otherwise
	Payload       []byte // the raw body; Submit copies it
	Sensitive     bool   // the body carries personal data: stored sealed
}

// Receipt is what the inbox answers for a committed delivery.
type Receipt struct {
	ID        int64 // inbox row id; 0 for a duplicate
	Duplicate bool  // the delivery key was already stored: no new work
}

// ErrBusy means the delivery was not acknowledged in time (queue full or commit too slow).
// It may or may not have been stored; the sender retries and deduplication absorbs it.
var ErrBusy = errs.E(errs.Unavailable, "The server is busy. Retry the delivery later.")

// MaxDeliveryKeyLen bounds the provider's delivery identity: it is a key, not a payload.
const MaxDeliveryKeyLen = 256

// Options tune the committer. The zero value means the defaults.
type Options struct {
	// BatchMax is the most deliveries one transaction commits (default 256). 1 turns group
	// commit off: one transaction per delivery, the baseline `kycdesk bench ingest` compares with.
	BatchMax int
	// QueueSize bounds the deliveries waiting for the committer (default 8192); past it Submit answers ErrBusy at once.
	QueueSize int
	// Wait is how long Submit waits for the commit before answering ErrBusy (default 2 s).
	Wait time.Duration
	// FlushEvery is how often counters are written when no delivery comes to carry them (default 1 s).
	FlushEvery time.Duration
	// CommitGap spaces commits while deliveries arrive faster than one per commit (default
	// 4 ms; negative: no spacing): see Inbox.space.
	CommitGap time.Duration
}

func (o Options) withDefaults() Options {
	if o.BatchMax <= 0 {
		o.BatchMax = 256
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 8192
	}
	if o.Wait <= 0 {
		o.Wait = 2 * time.Second
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = time.Second
	}
	if o.CommitGap == 0 {
		o.CommitGap = 4 * time.Millisecond
	}
	return o
}

// Inbox stores webhook deliveries durably. HTTP handlers call Submit from many goroutines;
// one committer goroutine (Run) batches whatever is waiting into a single write
// transaction, commits once with synchronous=FULL, and only then answers every waiting
// handler, so an acknowledgement always means the delivery survives a crash.
type Inbox struct {
	db      *db.DB // the inbox file (db.OpenInbox): deliveries, delivery_stats
	main    *db.DB // kycdesk.db: integrations, the audit trail
	sealer  *crypto.Sealer
	metrics *metrics.Metrics
	log     *slog.Logger
	now     func() time.Time
	opts    Options

	queue    chan *pending
	marks    chan *mark    // the worker's writes, committed with the next batch (marks.go)
	stopped  chan struct{} // closed when Run returns
	flush    chan chan struct{}
	notify   chan struct{}
	stats    *Stats
	closed   atomic.Bool
	arrivals arrivals // for the worker's pacing (pace.go)
}

type pending struct {
	d       Delivery
	payload []byte    // sealed or copied: owned by the inbox
	at      int64     // received_at, unix ms
	queued  time.Time // on the monotonic clock: how long the acknowledgement waited (pace.go)
	done    chan result
}

type result struct {
	r   Receipt
	err error
}

// New returns an inbox on d, the inbox file (db.OpenInbox), beside main, the database whose
// integrations and audit trail it names. m and log may be nil; now nil means time.Now.
// Start its committer with Run.
func New(d, main *db.DB, sealer *crypto.Sealer, m *metrics.Metrics, log *slog.Logger, now func() time.Time, opts Options) *Inbox {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts = opts.withDefaults()
	ib := &Inbox{
		db: d, main: main, sealer: sealer, metrics: m, log: log, now: now, opts: opts,
		queue:   make(chan *pending, opts.QueueSize),
		marks:   make(chan *mark),
		stopped: make(chan struct{}),
		flush:   make(chan chan struct{}),
		notify:  make(chan struct{}, 1),
		stats:   newStats(),
	}
	if m != nil {
		m.Registry.MustRegister(&gauges{db: d, main: main, now: now})
	}
	return ib
}

// Notify delivers a value after a commit that stored at least one new row (and after a
// replay). Values coalesce: one wake-up may stand for many rows, so the worker claims
// until the inbox has nothing due, and still polls on a timer for retries that fall due.
// There is one channel: meant for one worker loop.
func (ib *Inbox) Notify() <-chan struct{} { return ib.notify }

func (ib *Inbox) wake() {
	select {
	case ib.notify <- struct{}{}:
	default:
	}
}

// PayloadAD is the associated data a sealed inbox payload is bound to: its integration
// and delivery key, so a payload copied onto another row does not open.
func PayloadAD(integrationID, deliveryKey string) []byte {
	return []byte("inbox:" + integrationID + ":" + deliveryKey)
}

// OpenPayload returns the raw body of an inbox row, opening it when the row is encrypted.
func OpenPayload(s *crypto.Sealer, integrationID, deliveryKey string, payload []byte, encrypted bool) ([]byte, error) {
	if !encrypted {
		return payload, nil
	}
	return s.Open(payload, PayloadAD(integrationID, deliveryKey))
}

// Submit stores d and returns once it is committed: a new row, or a duplicate of one
// already stored. ErrBusy when the queue is full or the commit does not come within
// Options.Wait. The caller may reuse d.Payload as soon as Submit returns.
func (ib *Inbox) Submit(ctx context.Context, d Delivery) (Receipt, error) {
	if d.DeliveryKey == "" || len(d.DeliveryKey) > MaxDeliveryKeyLen {
		return Receipt{}, errs.E(errs.Invalid, "delivery identity missing or longer than %d bytes", MaxDeliveryKeyLen)
	}
	if ib.closed.Load() {
		ib.Count(d.IntegrationID, d.Integration, metrics.Busy)
		return Receipt{}, ErrBusy
	}
	p := &pending{d: d, at: db.Millis(ib.now()), queued: time.Now(), done: make(chan result, 1)}
	// The payload is sealed or copied here, in the handler's goroutine: the committer stays
	// free for I/O, and the row never aliases the HTTP server's reused request buffer.
	if d.Sensitive {
		p.payload = ib.sealer.Seal(d.Payload, PayloadAD(d.IntegrationID, d.DeliveryKey))
	} else {
		p.payload = append([]byte(nil), d.Payload...)
	}
	p.d.Payload = nil

	select {
	case ib.queue <- p:
		ib.arrivals.n.Add(1)
	default:
		ib.Count(d.IntegrationID, d.Integration, metrics.Busy)
		return Receipt{}, ErrBusy
	}
	timer := time.NewTimer(ib.opts.Wait)
	defer timer.Stop()
	select {
	case res := <-p.done:
		return res.r, res.err
	case <-timer.C:
	case <-ctx.Done():
	}
	ib.Count(d.IntegrationID, d.Integration, metrics.Busy)
	return Receipt{}, ErrBusy
}

// Count records an outcome that stores no delivery (auth_failed, malformed, too_large,
// busy): in memory, written to delivery_stats with the next commit or within FlushEvery,
// so a flood of forged requests costs no write each. busy is only a metric.
func (ib *Inbox) Count(integrationID, integrationName, outcome string) {
	if ib.metrics != nil {
		ib.metrics.WebhookDeliveries.WithLabelValues(integrationName, outcome).Inc()
	}
	if outcome != metrics.Busy {
		ib.stats.add(integrationID, hourOf(db.Millis(ib.now())), outcome, 1)
	}
}

const replayQuery = `SELECT delivery_key, attempts, last_error FROM inbox
	WHERE id = ? AND integration_id = ? AND state = 'dead'`

// Replay puts a dead-lettered row back in the queue (state pending, attempts 0, due now),
// audited. actor is the admin's email. The audit entry (kycdesk.db) and the row (the inbox
// file) are two files: the row changes inside the audit's transaction, which commits
// second, so a failure leaves neither; only a crash between the two commits could leave a
// replay unaudited.
func (ib *Inbox) Replay(ctx context.Context, actor, integrationID string, inboxID int64) error {
	now := ib.now()
	var name string
	err := ib.main.Read.QueryRowContext(ctx, `SELECT name FROM integrations WHERE id = ?`, integrationID).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.E(errs.NotFound, "There is no such dead letter: it may have been replayed already.")
	}
	if err != nil {
		return err
	}
	err = ib.main.Tx(ctx, func(mtx *sql.Tx) error {
		return ib.db.Tx(ctx, func(tx *sql.Tx) error {
			var key, lastError string
			var attempts int
			err := tx.QueryRowContext(ctx, replayQuery, inboxID, integrationID).Scan(&key, &attempts, &lastError)
			if errors.Is(err, sql.ErrNoRows) {
				return errs.E(errs.NotFound, "There is no such dead letter: it may have been replayed already.")
			}
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE inbox SET state = 'pending', attempts = 0, next_attempt_at = ?
				WHERE id = ?`, db.Millis(now), inboxID); err != nil {
				return err
			}
			return appendAudit(ctx, mtx, now, actor, "inbox.replay", name, map[string]any{
				"inbox_id": inboxID, "integration_id": integrationID, "delivery_key": key,
				"attempts": attempts, "last_error": lastError})
		})
	})
	if err == nil {
		ib.wake()
	}
	return err
}
