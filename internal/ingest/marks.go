package ingest

import (
	"context"
	"database/sql"
	"fmt"
)

// The worker's writes to the inbox file (rows done, retried, dead) ride on the committer's
// transactions instead of taking the inbox writer for transactions of their own: one sync
// to disk covers a batch of deliveries and the worker's marks, and a delivery never waits
// for the writer behind a worker transaction. Each mark runs under its own savepoint, so a
// mark that fails is rolled back alone and never costs a delivery its acknowledgement.

// mark is one write the worker asks the committer to make.
type mark struct {
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan error
}

// Mark runs fn in the committer's next transaction and returns once that committed (nil),
// or fn's error (fn's writes then rolled back alone), or ErrBusy when the committer has
// stopped. Without a running committer (Run) it waits for ctx.
func (ib *Inbox) Mark(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	m := &mark{fn: fn, done: make(chan error, 1)}
	select {
	case ib.marks <- m:
	case <-ib.stopped:
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
	// The committer answers every mark it took, even while stopping.
	return <-m.done
}

// gatherMarks adds the marks waiting, without blocking.
func (ib *Inbox) gatherMarks(marks []*mark) []*mark {
	for len(marks) < ib.opts.BatchMax {
		select {
		case m := <-ib.marks:
			marks = append(marks, m)
		default:
			return marks
		}
	}
	return marks
}

// runMarks runs the marks in tx, each under a savepoint; it returns each mark's own error
// and an error only when the transaction itself can no longer go on.
func runMarks(ctx context.Context, tx *sql.Tx, marks []*mark) ([]error, error) {
	errs := make([]error, len(marks))
	for i, m := range marks {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT worker_mark`); err != nil {
			return nil, err
		}
		if errs[i] = m.fn(ctx, tx); errs[i] != nil {
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO worker_mark`); err != nil {
				return nil, fmt.Errorf("roll back a failed mark: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `RELEASE worker_mark`); err != nil {
			return nil, err
		}
	}
	return errs, nil
}

func answerMarks(marks []*mark, errs []error, err error) {
	for i, m := range marks {
		switch {
		case err != nil:
			m.done <- err
		default:
			m.done <- errs[i]
		}
	}
}
