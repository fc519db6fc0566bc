package cases

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kycdesk/kycdesk/db"
)

// SearchIndex lists the queues, searched or not, from memory. Through SQLite alone, a
// search for a common name cost a full-text list read from the file, or a walk of up to
// maxSearchWalk entries of the queue's index with a lookup in case_text each (5 to 10 ms
// at a million cases), and a plain page read 50 wide rows scattered over the file: at 300
// pages/s beside 1,000 deliveries/s, pages took most of the machine and searches queued
// for seconds (BENCHMARKS.md, "Queues from memory").
//
// The index is a projection of the cases table. Per case (memCase, by rowid) it holds the
// search text (case_text.t, migration 00016), what its queue row shows (QueueItem, but
// for the assignee's and integration's names) and what its queues are made of (status,
// assignee, risk, provider, sort keys). Beside them, compressed bitmaps of cases
// (roaring): per bigram and trigram of the folded text, per queue, risk, provider and
// assignee; per queue, its cases in the queue's order (a B-tree); and, for the search
// words most asked for, the cases whose text holds them exactly (exactSet).
//
// A page ANDs the bitmaps of its words, queue and filters, then either walks the queue's
// order from the cursor to the first cases in that set or, when the set is small, reads
// it all and keeps the best: whichever is fewer steps (firstHits). A case is checked
// against the exact rule (db.SearchNeedle, as instr does in SQL) unless its words' sets
// are exact already. No walk is bounded: a page of a search is never partial, and its
// tabs are counted exactly whenever the words are remembered or the candidates few
// (memCountLimit).
//
// The index follows the cases table by change_seq (migration 00005 numbers every write
// to a case in commit order): each request first reads the cases changed since the index
// last looked (catchUp), so it lists every change committed before it began. Until the
// index is built (a read of every case at start: about 20 s at a million) and for a
// search whose every word is one letter, pages are read from SQLite as before.
//
// Memory: about 400 bytes per case (BENCHMARKS.md, "Queues from memory").
type SearchIndex struct {
	db *db.DB

	startMu sync.Mutex
	state   int // indexIdle, indexBuilding or indexReady
	wg      sync.WaitGroup

	syncMu   sync.Mutex   // one catch-up at a time
	begun    atomic.Int64 // catch-ups begun
	doneFrom atomic.Int64 // the number (begun) of the last one ended without error

	mu  sync.RWMutex
	seq int64     // the highest change_seq applied
	m   *memState // nil until built
}

const (
	indexIdle = iota
	indexBuilding
	indexReady
)

// inlineBuildMax: a database with at most this many cases is indexed by the first search
// that needs it, before it answers (milliseconds); a larger one in the background.
const inlineBuildMax = 50_000

// catchUpBatch is how many changed cases one read of a catch-up applies; applyChunk how
// many of them one hold of the write lock does.
const (
	catchUpBatch = 5000
	applyChunk   = 16
)

// memCountLimit (a var for the tests): a search with at most this many possible matches
// under its filters (memCandidates) has its tabs' counts checked case by case (about
// 0.1 µs each); beyond, the counts are not shown, unless the candidates are exact already
// (every word remembered, or one gram: exactSet, gramExact).
var memCountLimit = 20_000

// NewSearchIndex returns the index of d's cases, empty: Start builds it in the background,
// or the first search does.
func NewSearchIndex(d *db.DB) *SearchIndex { return &SearchIndex{db: d} }

// Start builds the index in the background, then, when every is above zero, keeps it
// caught up with the cases table that often until ctx ends (so that a search after a quiet
// hour does not read an hour of changes). Wait waits for it to stop.
func (x *SearchIndex) Start(ctx context.Context, every time.Duration) {
	x.startMu.Lock()
	defer x.startMu.Unlock()
	if x.state != indexIdle {
		return
	}
	x.state = indexBuilding
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		if !x.buildAndPublish(ctx) || every <= 0 {
			return
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_ = x.catchUp(ctx) // a failure is tried again at the next tick or search
			}
		}
	}()
}

// Wait waits for Start's goroutine to end (after its ctx ended).
func (x *SearchIndex) Wait() { x.wg.Wait() }

// Ready reports whether queue pages are answered from the index.
func (x *SearchIndex) Ready() bool {
	x.startMu.Lock()
	defer x.startMu.Unlock()
	return x.state == indexReady
}

// Cases is how many cases the index holds (0 until it is built).
func (x *SearchIndex) Cases() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.m == nil {
		return 0
	}
	return x.m.live
}

// buildAndPublish builds the index and makes it the one searches use; on failure the
// index goes back to idle, for a later search or Start to try again.
func (x *SearchIndex) buildAndPublish(ctx context.Context) bool {
	m, seq, err := x.build(ctx)
	x.startMu.Lock()
	defer x.startMu.Unlock()
	if err != nil {
		x.state = indexIdle
		return false
	}
	x.mu.Lock()
	x.m, x.seq = m, seq
	x.mu.Unlock()
	x.state = indexReady
	return true
}

// use reports whether a page can be answered from the index now, catching it up with the
// cases table first. An index never started is built here when the database is small, and
// in the background otherwise (this page is then read from SQLite).
func (x *SearchIndex) use(ctx context.Context) bool {
	x.startMu.Lock()
	state := x.state
	if state == indexIdle {
		var n int64
		if err := x.db.Read.QueryRowContext(ctx, `SELECT coalesce(max(rowid), 0) FROM cases`).Scan(&n); err != nil {
			x.startMu.Unlock()
			return false
		}
		if n > inlineBuildMax {
			x.startMu.Unlock()
			x.Start(context.WithoutCancel(ctx), 0)
			return false
		}
		x.state = indexBuilding
		x.startMu.Unlock()
		if !x.buildAndPublish(ctx) {
			return false
		}
		state = indexReady
		x.startMu.Lock()
	}
	x.startMu.Unlock()
	return state == indexReady && x.catchUp(ctx) == nil
}

// memCaseSQL reads what the index holds of each case, from cases (with indexedBy) where
// where says.
func memCaseSQL(indexedBy, where string) string {
	return `SELECT c.rowid, coalesce(c.change_seq, 0), c.id, coalesce(t.t, ''), c.status,
		coalesce(c.assignee_id, 0), c.risk_level, c.provider, c.sla_due, ` + decidedKey + `,
		c.reference, c.full_name, c.external_id, c.integration_id, c.result, c.risk_derived, c.four_eyes,
		c.round, coalesce(c.decision, ''), c.decided_at, c.updated_at
		FROM cases c` + indexedBy + ` LEFT JOIN case_text t ON t.rid = c.rowid` + where
}

// build reads every case in one read transaction, and the change_seq it saw them at.
func (x *SearchIndex) build(ctx context.Context) (*memState, int64, error) {
	tx, err := x.db.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback() //nolint:errcheck // read only
	var seq int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(change_seq), 0) FROM cases`).Scan(&seq); err != nil {
		return nil, 0, fmt.Errorf("search index: %w", err)
	}
	rows, err := tx.QueryContext(ctx, memCaseSQL(``, ` ORDER BY c.rowid`))
	if err != nil {
		return nil, 0, fmt.Errorf("search index: %w", err)
	}
	m := newMemState()
	if err := scanMemCases(rows, m.put); err != nil {
		return nil, 0, fmt.Errorf("search index: %w", err)
	}
	return m, seq, nil
}

// catchUp applies the cases changed since the index last looked (change_seq order).
//
// Requests that arrive while a catch-up runs wait for it and then need one more, begun
// after they arrived; the first of them to get syncMu runs it for them all, so that a
// burst of requests costs two reads of the changes, not one each. Changes are applied a
// few at a time (applyChunk), the text's grams worked out beforehand, so that pages
// being read wait a fraction of a millisecond at most for a commit of many cases: a
// reader may see some cases of a commit before the others, each case whole.
func (x *SearchIndex) catchUp(ctx context.Context) (err error) {
	arrived := x.begun.Load()
	x.syncMu.Lock()
	defer x.syncMu.Unlock()
	if x.doneFrom.Load() > arrived {
		return nil // a catch-up begun after this request arrived has ended
	}
	round := x.begun.Add(1)
	defer func() {
		if err == nil {
			x.doneFrom.Store(round)
		}
	}()
	for {
		x.mu.RLock()
		seq := x.seq
		x.mu.RUnlock()
		rows, err := x.db.Read.QueryContext(ctx, catchUpSQL, seq)
		if err != nil {
			return fmt.Errorf("search index: %w", err)
		}
		var batch []memRow
		if err := scanMemCases(rows, func(r memRow) {
			r.grams = textGrams(nil, r.text)
			batch = append(batch, r)
		}); err != nil {
			return fmt.Errorf("search index: %w", err)
		}
		for chunk := range slices.Chunk(batch, applyChunk) {
			x.mu.Lock()
			for _, r := range chunk {
				x.m.put(r)
			}
			x.seq = chunk[len(chunk)-1].seq
			x.mu.Unlock()
		}
		if len(batch) < catchUpBatch {
			return nil
		}
	}
}

// catchUpSQL reads the cases changed after a change_seq, in its order, from its index
// (00005's cases_change).
var catchUpSQL = memCaseSQL(` INDEXED BY cases_change`,
	` WHERE c.change_seq > ? ORDER BY c.change_seq LIMIT `+strconv.Itoa(catchUpBatch))

// memRow is one case as memCaseSQL reads it.
type memRow struct {
	rowid, seq             int64
	id, text               string
	status, risk, provider string
	assignee, due, decided int64
	shown                  memShown
	grams                  []uint64 // textGrams(text), when worked out before put
}

// memShown is what a queue row shows of a case besides what the index orders and
// filters by (QueueItem; the assignee's and integration's names are read per page).
type memShown struct {
	reference, fullName, externalID string
	integrationID, result, decision string
	riskDerived, fourEyes           bool
	round                           int32
	decidedAt                       sql.NullInt64
	updatedAt                       int64
}

// scanMemCases reads rows of memCaseSQL, handing each to each.
func scanMemCases(rows *sql.Rows, each func(memRow)) error {
	defer rows.Close()
	for rows.Next() {
		var r memRow
		sh := &r.shown
		if err := rows.Scan(&r.rowid, &r.seq, &r.id, &r.text, &r.status, &r.assignee, &r.risk, &r.provider,
			&r.due, &r.decided, &sh.reference, &sh.fullName, &sh.externalID, &sh.integrationID, &sh.result,
			&sh.riskDerived, &sh.fourEyes, &sh.round, &sh.decision, &sh.decidedAt, &sh.updatedAt); err != nil {
			return err
		}
		each(r)
	}
	return rows.Err()
}
