package ingest

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/lowprio"
)

// opKind is what the committer writes for a processed row.
type opKind int

const (
	opApply   opKind = iota // apply the result: the case store writes the case and marks the row done
	opDone                  // mark the row done without a case change (note says why)
	opRetry                 // try again at nextAt; attempts counted
	opDead                  // dead-letter with the reason in note
	opDefer                 // the integration rests (credentials refused): the row waits for it, attempts not counted
	opAbandon               // the worker is stopping: nothing is written, the row stays pending
)

// commitOp is one processed row on its way to the committer and back to the claimer.
type commitOp struct {
	id          int64
	key         string
	kind        opKind
	prepared    *cases.Prepared
	integration string // name, for logs
	note        string // last_error: the reason of a retry or dead letter, or why a done row changed nothing
	attempts    int    // the row's attempts after this one
	nextAt      time.Time
	noWrite     bool // nothing to write (the row finished elsewhere, or its state is unknown)
	started     time.Time

	outcome cases.Outcome
}

const maxLastError = 500

// commitLoop is the one goroutine that writes processed rows: it takes whatever is waiting
// (up to BatchMax) into one transaction, so the sync to disk is paid once per batch; while a
// batch commits, the next one gathers by itself.
//
// A batch commits on one of two lanes (see floorLanes): on a thread of lowered priority
// (lowprio), so acknowledgements and pages go first for the cores; or, while the worker has
// made fewer than FloorRows rows in the last second and acknowledgements are not strained
// (pace.go), on this goroutine at the process's priority, so that arrivals the server takes
// in easily can never starve it. Acknowledgements come first: while they are strained the
// worker stays lowered whatever its rate.
func (w *Worker) commitLoop(ctx context.Context, commits <-chan *commitOp, done chan<- *commitOp) {
	lanes := newFloorLanes(w.cfg.Nice, w.cfg.FloorRows, w.pace.strainedNow)
	defer lanes.close()
	batch := make([]*commitOp, 0, w.cfg.BatchMax)
	for {
		select {
		case <-ctx.Done():
			return
		case op := <-commits:
			batch = append(batch[:0], op)
		gather:
			for len(batch) < w.cfg.BatchMax {
				select {
				case op := <-commits:
					batch = append(batch, op)
				default:
					break gather
				}
			}
			batch = w.linger(ctx, commits, batch)
			lanes.run(len(batch), func() { w.commit(ctx, batch) })
			for _, op := range batch {
				w.logOutcome(op)
				if w.cfg.Metrics != nil && op.kind != opAbandon && !op.noWrite {
					w.cfg.Metrics.InboxProcessing.Observe(time.Since(op.started).Seconds())
				}
				done <- op
			}
		}
	}
}

// commitLinger is how long a paced worker gathers rows before committing them: paced, it
// finishes a row every millisecond or two, and committing each alone would sync kycdesk.db
// hundreds of times a second on the disk the inbox syncs on. 100 ms (about ten syncs a
// second) rather than 25: a real serve's burst p99 was within 25 ms in 6 of 8 runs against
// 2 of 7 (BENCHMARKS.md, "Background work behind requests").
const commitLinger = 100 * time.Millisecond

// linger adds the rows that finish within commitLinger while the worker is paced (pace.go).
func (w *Worker) linger(ctx context.Context, commits <-chan *commitOp, batch []*commitOp) []*commitOp {
	if len(batch) >= w.cfg.BatchMax || !w.pace.active() {
		return batch
	}
	t := time.NewTimer(commitLinger)
	defer t.Stop()
	for len(batch) < w.cfg.BatchMax {
		select {
		case op := <-commits:
			batch = append(batch, op)
		case <-t.C:
			return batch
		case <-ctx.Done():
			return batch
		}
	}
	return batch
}

// commit writes the batch: first the case changes in kycdesk.db, one transaction with each
// row under its own savepoint (a row whose write fails is rolled back alone and turned into a
// retry); then every row's new state in the inbox file, one transaction. Between the two a
// crash leaves applied rows pending: inbox_applied (written with each case change) makes
// their next run a no-op that only marks them done.
func (w *Worker) commit(ctx context.Context, batch []*commitOp) {
	now := w.cfg.Now()
	err := w.applyCases(ctx, batch, now)
	if err == nil {
		err = w.inboxTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			for _, op := range batch {
				if op.noWrite {
					continue
				}
				if err := w.write(ctx, tx, op, now); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err == nil {
		return
	}
	// Nothing of the batch was marked in the inbox: every row is still pending as it was
	// (the cases of an applied batch are kept; the next try only marks their rows done).
	stopping := ctx.Err() != nil
	if !stopping {
		w.cfg.Log.Error("worker commit failed", "rows", len(batch), "err", err)
	}
	for _, op := range batch {
		op.prepared, op.outcome = nil, cases.Outcome{}
		if stopping {
			op.kind = opAbandon
			continue
		}
		op.kind, op.noWrite, op.nextAt, op.note = opRetry, true, now.Add(w.cfg.RetryBase), err.Error()
	}
}

// inboxTx runs fn in a transaction on the inbox file: the committer's (Marks) or its own.
func (w *Worker) inboxTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if w.cfg.Marks != nil {
		return w.cfg.Marks(ctx, fn)
	}
	return w.cfg.Inbox.Tx(ctx, func(tx *sql.Tx) error { return fn(ctx, tx) })
}

// applyCases writes the batch's case changes in one kycdesk.db transaction. A row whose
// apply fails becomes a retry (its inbox write comes in the second transaction).
func (w *Worker) applyCases(ctx context.Context, batch []*commitOp, now time.Time) error {
	if !slices.ContainsFunc(batch, func(op *commitOp) bool { return op.kind == opApply && !op.noWrite }) {
		return nil
	}
	// The statements run on a context that cannot be cancelled: go-sqlite3 runs each
	// statement of a cancellable one on a goroutine of its own and waits for it, which
	// costs a handoff between threads per statement (a fifth of the worker's CPU), and takes
	// the work off this goroutine's lowered thread (lowprio). Stopping is checked between rows.
	stop := ctx
	ctx = context.WithoutCancel(ctx)
	return w.cfg.DB.Tx(ctx, func(tx *sql.Tx) error {
		for _, op := range batch {
			if op.noWrite || op.kind != opApply {
				continue
			}
			if err := stop.Err(); err != nil {
				return err // rolled back: the rows are abandoned, and resume at the next start
			}
			if _, err := tx.ExecContext(ctx, `SAVEPOINT inbox_row`); err != nil {
				return err
			}
			var err error
			if op.outcome, err = w.cfg.Cases.ApplyPrepared(ctx, tx, op.prepared); err != nil {
				if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO inbox_row`); rerr != nil {
					return rerr
				}
				if stop.Err() != nil {
					return stop.Err()
				}
				w.cfg.Log.Error("applying inbox row failed", "inbox_id", op.id, "err", err)
				op.note, op.prepared, op.outcome = "applying the result failed: "+err.Error(), nil, cases.Outcome{}
				w.retry(op, now, 0)
			}
			if _, err := tx.ExecContext(ctx, `RELEASE inbox_row`); err != nil {
				return err
			}
		}
		return nil
	})
}

// write writes one row's new state in the inbox file.
func (w *Worker) write(ctx context.Context, tx *sql.Tx, op *commitOp, now time.Time) error {
	note := op.note
	if len(note) > maxLastError {
		note = note[:maxLastError]
	}
	var err error
	switch op.kind {
	case opApply: // applied in kycdesk.db already (applyCases)
		_, err = tx.ExecContext(ctx, `UPDATE inbox SET state = 'done', processed_at = ?, case_id = ?, last_error = ''
			WHERE id = ? AND state = 'pending'`, db.Millis(now), op.outcome.CaseID, op.id)
	case opDone:
		_, err = tx.ExecContext(ctx, `UPDATE inbox SET state = 'done', processed_at = ?, last_error = ?
			WHERE id = ? AND state = 'pending'`, db.Millis(now), note, op.id)
	case opRetry:
		_, err = tx.ExecContext(ctx, `UPDATE inbox SET attempts = ?, next_attempt_at = ?, last_error = ?
			WHERE id = ? AND state = 'pending'`, op.attempts, db.Millis(op.nextAt), note, op.id)
	case opDead:
		_, err = tx.ExecContext(ctx, `UPDATE inbox SET state = 'dead', attempts = ?, last_error = ?, processed_at = ?
			WHERE id = ? AND state = 'pending'`, op.attempts, note, db.Millis(now), op.id)
	case opDefer:
		// The row keeps its due time: what holds it back is its integration's rest.
		_, err = tx.ExecContext(ctx, `UPDATE inbox SET last_error = ? WHERE id = ? AND state = 'pending'`, note, op.id)
	}
	return err
}

// floorLanes runs the worker's commits on a lowered thread, except while the worker is
// below its floor rate.
type floorLanes struct {
	low      chan func()
	lowEnd   chan struct{}
	floor    int
	strained func() bool // acknowledgements first: no floor while true
	made     []madeAt    // batches of the last second
}

type madeAt struct {
	at   time.Time
	rows int
}

func newFloorLanes(nice, floor int, strained func() bool) *floorLanes {
	l := &floorLanes{floor: floor, strained: strained}
	if nice <= 0 {
		return l // no lowered lane: every commit runs on the caller
	}
	l.low, l.lowEnd = make(chan func()), make(chan struct{})
	go func() {
		defer close(l.lowEnd)
		lowprio.Lower(nice) // this goroutine's thread ends with it
		for f := range l.low {
			f()
		}
	}()
	return l
}

// run runs commit (of rows rows) on the lowered lane, or on the caller's while fewer than
// floor rows were made in the last second and acknowledgements are not strained, and
// returns when it is done.
func (l *floorLanes) run(rows int, commit func()) {
	now := time.Now()
	i := 0
	for i < len(l.made) && now.Sub(l.made[i].at) > time.Second {
		i++
	}
	l.made = l.made[i:]
	recent := 0
	for _, m := range l.made {
		recent += m.rows
	}
	if l.low == nil || recent < l.floor && !l.strained() {
		commit()
	} else {
		finished := make(chan struct{})
		l.low <- func() { commit(); close(finished) }
		<-finished
	}
	l.made = append(l.made, madeAt{at: time.Now(), rows: rows})
}

func (l *floorLanes) close() {
	if l.low != nil {
		close(l.low)
		<-l.lowEnd
	}
}
