package report

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/kycdesk/kycdesk/internal/lowprio"
)

// The cases report is the one that runs to a million rows, so it is read and formatted by
// a few workers at once, each on its own read connection, in chunks of chunkRows cases in
// (created_at, id) order; the chunks go out in order. Chunk bounds come from hops along
// the cases_created index (one OFFSET step per chunk, in SQLite, no row read in Go), and at
// most a few chunks are in flight: memory stays a few megabytes whatever the range.
// created_at never changes, so chunks read at slightly different moments neither skip nor
// repeat a case; each row is the case as it was when its chunk was read.

const chunkRows = 4096

// bufs holds the chunks' buffers for the next chunk (a chunk is about 650 KB of CSV):
// growing fresh ones cost a few percent of an export's CPU in clearing memory.
var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// exportSlot lets one cases export at a time read and format: each takes up to Workers
// cores, and the server's other work (webhooks are acknowledged while an export runs)
// keeps the rest. A second export waits for the first to finish, or for its own context.
var exportSlot = make(chan struct{}, 1)

// key is a position in the cases_created index.
type key struct {
	at int64
	id string
}

type chunk struct {
	lo   key
	hi   *key // nil: up to the end of the range
	buf  *bytes.Buffer
	rows int64
	err  error
	done chan struct{}
}

// chunked streams the rows of [from, to) in created_at order: each chunk selects cols
// from tables (cases, perhaps joined to others through their keys), and format appends one
// case's CSV record, line end included, from the row.
func (rp *Reporter) chunked(ctx context.Context, t *table, from, to int64, cols, tables string,
	newFormatter func() func(rows *sql.Rows, buf *bytes.Buffer) error) error {
	select {
	case exportSlot <- struct{}{}:
		defer func() { <-exportSlot }()
	case <-ctx.Done():
		return ctx.Err()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := rp.Workers
	if workers <= 0 {
		// Every core: the workers run at idle priority (below), so the scheduler gives the webhook
		// handlers and pages the CPU first and the export takes what is left. With one
		// core left idle a 2-core server exported 226,000 rows/s, with both 370,000/s
		// (BENCHMARKS.md, "Faster cases export").
		workers = max(1, min(runtime.NumCPU(), lowprio.Spare))
	}
	nice := rp.Nice
	jobs := make(chan *chunk)
	order := make(chan *chunk, workers+1)

	// Bounds: hop chunkRows entries along the index at a time.
	boundsErr := make(chan error, 1)
	go func() {
		defer close(order)
		defer close(jobs)
		lo := key{at: from, id: ""}
		for {
			var hi key
			err := rp.Read.QueryRowContext(ctx, `SELECT created_at, id FROM cases
				WHERE (created_at, id) > (?, ?) AND created_at < ? ORDER BY created_at, id LIMIT 1 OFFSET ?`,
				lo.at, lo.id, to, chunkRows-1).Scan(&hi.at, &hi.id)
			last := errors.Is(err, sql.ErrNoRows)
			if err != nil && !last {
				boundsErr <- err
				return
			}
			c := &chunk{lo: lo, buf: bufs.Get().(*bytes.Buffer), done: make(chan struct{})}
			if !last {
				h := hi
				c.hi = &h
			}
			select {
			case order <- c:
			case <-ctx.Done():
				boundsErr <- ctx.Err()
				return
			}
			select {
			case jobs <- c:
			case <-ctx.Done():
				close(c.done)
				boundsErr <- ctx.Err()
				return
			}
			if last {
				boundsErr <- nil
				return
			}
			lo = hi
		}
	}()

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// By default on a thread of the SCHED_IDLE policy (lowprio.Idle): the server's
			// other work (webhooks are acknowledged while an export runs) preempts it at
			// once, and it takes the cores left. It holds read connections only, so a starved
			// worker blocks no one. BENCHMARKS.md, "Acknowledgement beside an export".
			switch {
			case nice == 0:
				lowprio.Idle()
			case nice > 0:
				lowprio.Lower(nice)
			}
			format := newFormatter()
			for c := range jobs {
				began := time.Now()
				c.err = rp.readChunk(ctx, c, to, cols, tables, format)
				close(c.done)
				rp.rest(ctx, time.Since(began))
			}
		}()
	}

	var err error
	for c := range order {
		<-c.done
		if err == nil {
			err = c.err
		}
		if err == nil {
			if _, werr := t.sink.Write(c.buf.Bytes()); werr != nil {
				err = werr
			} else {
				t.rows += c.rows
				err = t.sink.Flush()
			}
		}
		c.buf.Reset()
		bufs.Put(c.buf)
		if err != nil {
			cancel() // stop the bounds and the workers; keep draining order
		}
	}
	wg.Wait()
	if berr := <-boundsErr; err == nil && berr != nil {
		err = berr
	}
	return err
}

// rest waits restRatio times worked while deliveries arrive fast (Reporter.Busy), or until
// ctx ends.
func (rp *Reporter) rest(ctx context.Context, worked time.Duration) {
	if rp.Busy == nil || !rp.Busy() {
		return
	}
	t := time.NewTimer(restRatio * worked)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (rp *Reporter) readChunk(ctx context.Context, c *chunk, to int64, cols, tables string, format func(*sql.Rows, *bytes.Buffer) error) error {
	// Both ends must be bounds of the index range: with `created_at < to` beside the upper
	// row value, SQLite bounds the range by that instead and walks on to the end of the
	// range for every chunk (TestReportQueriesUseIndexes holds the plan).
	args := []any{c.lo.at, c.lo.id, to}
	if c.hi != nil {
		args = []any{c.lo.at, c.lo.id, c.hi.at, c.hi.id}
	}
	rows, err := rp.Read.QueryContext(ctx, chunkQuery(cols, tables, c.hi != nil), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := format(rows, c.buf); err != nil {
			return err
		}
		c.rows++
	}
	return rows.Err()
}

// chunkQuery reads a chunk: from (created_at, id) > (?, ?) up to the range's end
// (created_at < ?), or, bounded, up to (created_at, id) <= (?, ?).
func chunkQuery(cols, tables string, bounded bool) string {
	q := `SELECT ` + cols + ` FROM ` + tables + ` WHERE (cases.created_at, cases.id) > (?, ?) AND cases.created_at < ?`
	if bounded {
		q = `SELECT ` + cols + ` FROM ` + tables + ` WHERE (cases.created_at, cases.id) > (?, ?) AND (cases.created_at, cases.id) <= (?, ?)`
	}
	return q + ` ORDER BY cases.created_at, cases.id`
}
