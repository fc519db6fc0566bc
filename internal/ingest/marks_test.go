package ingest

import (
	"context"
	"database/sql"
	"errors"
	"testing"
)

// TestMarksRideOnTheCommitterAndFailAlone: the worker's marks commit in the committer's
// transactions; a failing mark is rolled back alone, and the deliveries committed beside it
// are still acknowledged; once the committer has stopped, Mark answers ErrBusy.
func TestMarksRideOnTheCommitterAndFailAlone(t *testing.T) {
	e := newInboxEnv(t, Options{})
	ctx := context.Background()

	// Deliveries queued and a mark waiting before the committer starts: one transaction
	// takes them all. The mark writes and then fails: its write is undone, the deliveries
	// are stored and acknowledged.
	results := e.submitAll(keys("m-batch", 20))
	boom := errors.New("boom")
	failed := make(chan error, 1)
	go func() {
		failed <- e.inbox.Mark(ctx, func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE inbox SET last_error = 'half-written'`); err != nil {
				return err
			}
			return boom
		})
	}()
	e.start()
	if err := <-failed; !errors.Is(err, boom) {
		t.Errorf("failing mark: %v, want boom", err)
	}
	for range 20 {
		if s := <-results; s.err != nil || s.r.ID == 0 {
			t.Errorf("delivery %s beside a failing mark: %+v %v", s.key, s.r, s.err)
		}
	}
	if n := e.count(`SELECT COUNT(*) FROM inbox WHERE last_error = 'half-written'`); n != 0 {
		t.Error("a failed mark's write was kept")
	}

	var id int64
	if err := e.db.Read.QueryRow(`SELECT MIN(id) FROM inbox`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	done := func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE inbox SET state = 'done' WHERE id = ?`, id)
		return err
	}
	if err := e.inbox.Mark(ctx, done); err != nil {
		t.Fatalf("Mark: %v", err)
	}
	if n := e.count(`SELECT COUNT(*) FROM inbox WHERE id = ? AND state = 'done'`, id); n != 1 {
		t.Fatal("the mark was not committed")
	}

	e.stop()
	if err := e.inbox.Mark(ctx, done); !errors.Is(err, ErrBusy) {
		t.Errorf("Mark after the committer stopped: %v, want ErrBusy", err)
	}
}
