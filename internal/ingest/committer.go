package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/metrics"
)

// stmts are the committer's statements, prepared once on the single writer connection.
type stmts struct {
	insert, stat *sql.Stmt
}

const insertDelivery = `INSERT INTO inbox (integration_id, provider, delivery_key, path_param, received_at, payload, encrypted, next_attempt_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (integration_id, delivery_key) DO NOTHING`

// Run is the committer: the one goroutine that writes deliveries. It takes whatever is
// waiting (up to BatchMax), writes it in one transaction, commits once and answers every
// waiting Submit. No timer holds a batch back: while one commit waits on the disk the
// next batch gathers by itself, so batches grow with the load. When ctx ends, Run commits
// what is already queued and the counters, then returns.
func (ib *Inbox) Run(ctx context.Context) error {
	// Commits run on a context that outlives ctx: handlers waiting on a batch get their answer.
	wctx := context.WithoutCancel(ctx)
	defer close(ib.stopped)
	var st stmts
	var err error
	if st.insert, err = ib.db.Write.PrepareContext(wctx, insertDelivery); err != nil {
		ib.closed.Store(true)
		return fmt.Errorf("inbox: prepare: %w", err)
	}
	defer st.insert.Close()
	if st.stat, err = ib.db.Write.PrepareContext(wctx, upsertStat); err != nil {
		ib.closed.Store(true)
		return fmt.Errorf("inbox: prepare: %w", err)
	}
	defer st.stat.Close()
	ticker := time.NewTicker(ib.opts.FlushEvery)
	defer ticker.Stop()
	batch := make([]*pending, 0, ib.opts.BatchMax)
	var last time.Time // when the last commit of deliveries began
	busy := false      // it carried more than one
	for {
		select {
		case p := <-ib.queue:
			batch = append(batch[:0], p)
			batch = ib.gather(batch)
			if busy {
				batch = ib.space(batch, last)
			}
			last, busy = time.Now(), len(batch) > 1
			ib.commit(wctx, st, batch, ib.gatherMarks(nil))
		case m := <-ib.marks:
			ib.commit(wctx, st, ib.gather(batch[:0]), ib.gatherMarks([]*mark{m}))
		case <-ticker.C:
			if ib.stats.dirty() {
				ib.commit(wctx, st, nil, nil)
			}
		case done := <-ib.flush:
			ib.drain(wctx, st, batch)
			close(done)
		case <-ctx.Done():
			ib.closed.Store(true)
			ib.drain(wctx, st, batch)
			return nil
		}
	}
}

// Flush returns once everything submitted before it and every counter gathered so far
// is committed (tests and shutdown use it).
func (ib *Inbox) Flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case ib.flush <- done:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drain commits everything queued and the marks waiting, then the counters.
func (ib *Inbox) drain(ctx context.Context, st stmts, batch []*pending) {
	for {
		batch = ib.gather(batch[:0])
		marks := ib.gatherMarks(nil)
		if len(batch) == 0 && len(marks) == 0 {
			break
		}
		ib.commit(ctx, st, batch, marks)
	}
	ib.commit(ctx, st, nil, nil)
}

// gather adds what is waiting, without blocking, up to BatchMax.
func (ib *Inbox) gather(batch []*pending) []*pending {
	for len(batch) < ib.opts.BatchMax {
		select {
		case p := <-ib.queue:
			batch = append(batch, p)
		default:
			return batch
		}
	}
	return batch
}

// space adds the deliveries that arrive until CommitGap after the last commit began (up to
// BatchMax). Every commit costs about 300 µs of CPU in the kernel's sync of the file, rows
// or not (about 450 µs for one row, 760 µs for 16: BENCHMARKS.md, "The worker's cost per
// case, and what a commit costs"), and
// the cores it takes are the ones the handlers and the worker need: without a gap, 3,000
// deliveries/s made some 750 commits/s of 4 each. Run spaces only while the last commit
// carried more than one delivery, so a lone delivery is never held back.
func (ib *Inbox) space(batch []*pending, last time.Time) []*pending {
	wait := time.Until(last.Add(ib.opts.CommitGap))
	if ib.opts.CommitGap < 0 || wait <= 0 || len(batch) >= ib.opts.BatchMax {
		return batch
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	for len(batch) < ib.opts.BatchMax {
		select {
		case p := <-ib.queue:
			batch = append(batch, p)
		case <-t.C:
			return batch
		}
	}
	return batch
}

// commit writes batch, the worker's marks and the pending counters in one transaction,
// then answers.
func (ib *Inbox) commit(ctx context.Context, st stmts, batch []*pending, marks []*mark) {
	counts := ib.stats.take()
	if len(batch) == 0 && len(counts) == 0 && len(marks) == 0 {
		return
	}
	receipts := make([]Receipt, len(batch))
	var markErrs []error
	err := ib.db.Tx(ctx, func(tx *sql.Tx) error {
		insert := tx.StmtContext(ctx, st.insert)
		for i, p := range batch {
			res, err := insert.ExecContext(ctx, p.d.IntegrationID, p.d.Provider, p.d.DeliveryKey, p.d.PathParam,
				p.at, p.payload, p.d.Sensitive, p.at)
			if err != nil {
				return fmt.Errorf("inbox insert: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n == 0 {
				receipts[i] = Receipt{Duplicate: true}
				continue
			}
			if receipts[i].ID, err = res.LastInsertId(); err != nil {
				return err
			}
		}
		var err error
		if markErrs, err = runMarks(ctx, tx, marks); err != nil {
			return err
		}
		all := counts.clone()
		for i, p := range batch {
			all.add(p.d.IntegrationID, hourOf(p.at), outcomeOf(receipts[i]), 1)
		}
		return all.write(ctx, tx.StmtContext(ctx, st.stat))
	})
	answerMarks(marks, markErrs, err)
	if err != nil {
		ib.stats.merge(counts) // not written: keep them for the next commit
		ib.log.Error("inbox commit failed", "deliveries", len(batch), "err", err)
		for _, p := range batch {
			ib.Count(p.d.IntegrationID, p.d.Integration, metrics.Busy)
			p.done <- result{err: ErrBusy}
		}
		return
	}
	if len(batch) > 0 {
		ib.arrivals.waited(time.Since(batch[0].queued)) // the batch's oldest
	}
	if len(batch) > 1 {
		ib.arrivals.busyAt.Store(time.Now().UnixNano())
	}
	if len(batch) > 0 && ib.metrics != nil {
		ib.metrics.CommitBatchSize.Observe(float64(len(batch))) // before the answers: a caller may read it next
	}
	fresh := false
	for i, p := range batch {
		if ib.metrics != nil {
			ib.metrics.WebhookDeliveries.WithLabelValues(p.d.Integration, outcomeOf(receipts[i])).Inc()
		}
		fresh = fresh || !receipts[i].Duplicate
		p.done <- result{r: receipts[i]}
	}
	if fresh {
		ib.wake()
	}
}

func outcomeOf(r Receipt) string {
	if r.Duplicate {
		return metrics.Duplicate
	}
	return metrics.Accepted
}

func appendAudit(ctx context.Context, tx *sql.Tx, at time.Time, actor, action, subject string, details map[string]any) error {
	_, err := audit.Append(ctx, tx, audit.Entry{At: at, Actor: actor, Action: action, Subject: subject, Details: details})
	return err
}

// hourOf truncates unix ms to the hour, the delivery_stats bucket.
func hourOf(ms int64) int64 { return ms - ms%int64(time.Hour/time.Millisecond) }
