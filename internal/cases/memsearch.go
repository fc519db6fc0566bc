package cases

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/google/btree"

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
// Memory: about 500 bytes per case (BENCHMARKS.md, "Queues from memory").
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
	applyChunk   = 64
)

// memCountLimit (a var for the tests): a search with at most this many possible matches (trigram candidates
// under the filters) has its tabs' counts checked case by case (about 0.1 µs each);
// beyond, the counts are not shown, unless the candidates are exact matches already.
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

// Ready reports whether searches are answered from the index.
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

// use reports whether searches can be answered from the index now, catching it up with
// the cases table first. An index never started is built here when the database is small,
// and in the background otherwise (this search then runs in SQLite).
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

// memCaseSQL reads what the index holds of each case; where and tail complete it.
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
	if _, err := scanMemCases(rows, m.put); err != nil {
		return nil, 0, fmt.Errorf("search index: %w", err)
	}
	return m, seq, nil
}

// catchUp applies the cases changed since the index last looked (change_seq order).
//
// Requests that arrive while a catch-up runs wait for it and then need one more, begun
// after they arrived; the first of them to get syncMu runs it for them all, so that a
// burst of requests costs two reads of the changes, not one each. Changes are applied a
// few at a time (applyChunk), the text's trigrams worked out beforehand, so that pages
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
		if _, err := scanMemCases(rows, func(r memRow) {
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

func scanMemCases(rows *sql.Rows, each func(memRow)) (int, error) {
	defer rows.Close()
	n := 0
	for rows.Next() {
		var r memRow
		sh := &r.shown
		if err := rows.Scan(&r.rowid, &r.seq, &r.id, &r.text, &r.status, &r.assignee, &r.risk, &r.provider,
			&r.due, &r.decided, &sh.reference, &sh.fullName, &sh.externalID, &sh.integrationID, &sh.result,
			&sh.riskDerived, &sh.fourEyes, &sh.round, &sh.decision, &sh.decidedAt, &sh.updatedAt); err != nil {
			return n, err
		}
		each(r)
		n++
	}
	return n, rows.Err()
}

// memCase is what the index holds of one case, at its rowid.
//
// It holds no pointer (its strings are spans of memState.arena, its small values codes):
// the collector never reads the million of them, nor the queues' B-trees of orderItem.
type memCase struct {
	id, text, reference, fullName, externalID    span
	due, decided, assignee, updatedAt, decidedAt int64
	round                                        int32
	integration, result, decision                uint16 // codes of memState.names
	status, risk, provider                       uint8  // codes of memState.vals
	riskDerived, fourEyes, hasDecidedAt, live    bool
}

// span is a string of memState.arena: its chunk, offset and length.
type span struct{ chunk, off, n uint32 }

// arenaChunk is the size of the arena's chunks: a chunk is never grown (a string of the
// arena stays where it is, and appending never copies the arena under the write lock).
const arenaChunk = 4 << 20

// orderItem is a case's place in a queue's B-tree: its sort key, then its id (read at its
// rowid, r) in the queue's direction.
type orderItem struct {
	key int64
	r   uint32
}

// Pivots for a walk from a cursor: an item at the cursor's key whose id sorts before
// every id of that key in the queue's direction ("" ascending, "\xff" descending).
const (
	pivotLow  = 0
	pivotHigh = 1<<32 - 1
)

// memState is the index's data; SearchIndex.mu guards it.
type memState struct {
	rows  []memCase // by rowid
	live  int
	vals  []string // the status, risk and provider values seen; a value's code is its index + 1
	codes map[string]uint8
	// names are the integration ids, results and decisions seen (a code is an index + 1).
	names     []string
	nameCodes map[string]uint16
	// arena holds every string of rows, appended to its last chunk, never changed in
	// place (spans, and strings handed out, point in). Chunk 0 is empty.
	arena [][]byte

	grams    map[uint64]*roaring.Bitmap          // trigram of folded text → cases
	queue    map[string]*roaring.Bitmap          // every queue but mine → its cases (sharedQueue)
	order    map[string]*btree.BTreeG[orderItem] // the same, in the queue's order
	risk     map[uint8]*roaring.Bitmap
	provider map[uint8]*roaring.Bitmap
	assignee map[int64]*roaring.Bitmap // by user id, any status

	// exact remembers, for the search words most asked for, the cases whose text holds
	// them (exactSet); readers add to it under exactMu, put keeps it current.
	exactMu sync.Mutex
	exact   map[string]*roaring.Bitmap
}

func newMemState() *memState {
	m := &memState{codes: map[string]uint8{}, nameCodes: map[string]uint16{}, grams: map[uint64]*roaring.Bitmap{},
		queue: map[string]*roaring.Bitmap{}, order: map[string]*btree.BTreeG[orderItem]{}, risk: map[uint8]*roaring.Bitmap{},
		provider: map[uint8]*roaring.Bitmap{}, assignee: map[int64]*roaring.Bitmap{}, exact: map[string]*roaring.Bitmap{}}
	for _, q := range Queues {
		if q != QueueMine {
			m.queue[q] = roaring.New()
			m.order[q] = btree.NewG(32, func(a, b orderItem) bool {
				if a.key != b.key || a.r == b.r {
					return before(q, memHit{key: a.key}, memHit{key: b.key})
				}
				return before(q, memHit{key: a.key, id: m.idOf(a.r)}, memHit{key: b.key, id: m.idOf(b.r)})
			})
		}
	}
	return m
}

// str is the string at s.
func (m *memState) str(s span) string {
	if s.n == 0 {
		return ""
	}
	return unsafe.String(&m.arena[s.chunk][s.off], int(s.n))
}

// keep is the span of v: was, when it holds v already, or v appended to the arena.
func (m *memState) keep(was span, v string) span {
	if m.str(was) == v {
		return was
	}
	if v == "" {
		return span{}
	}
	last := len(m.arena) - 1
	if last < 1 || cap(m.arena[last])-len(m.arena[last]) < len(v) {
		if len(m.arena) == 0 {
			m.arena = append(m.arena, nil)
		}
		m.arena = append(m.arena, make([]byte, 0, max(arenaChunk, len(v))))
		last = len(m.arena) - 1
	}
	s := span{uint32(last), uint32(len(m.arena[last])), uint32(len(v))}
	m.arena[last] = append(m.arena[last], v...)
	return s
}

// idOf is the id of the case at r, or a pivot's.
func (m *memState) idOf(r uint32) string {
	switch r {
	case pivotLow:
		return ""
	case pivotHigh:
		return "\xff"
	}
	return m.str(m.rows[r].id)
}

// nameCode is v's code in names, given one when new (0 past 65,535 values: shown as "").
func (m *memState) nameCode(v string) uint16 {
	if c, ok := m.nameCodes[v]; ok {
		return c
	}
	if len(m.names) == 1<<16-1 {
		return 0
	}
	m.names = append(m.names, v)
	c := uint16(len(m.names))
	m.nameCodes[v] = c
	return c
}

func (m *memState) name(code uint16) string {
	if code == 0 {
		return ""
	}
	return m.names[code-1]
}

// queueItem is case c's place at rowid r in queue ("": none).
func queueItem(queue string, r uint32, c memCase) orderItem {
	switch queue {
	case "":
		return orderItem{}
	case QueueDecided:
		return orderItem{key: c.decided, r: r}
	}
	return orderItem{key: c.due, r: r}
}

// sharedQueue is the queue other than "mine" that a case with status and assignee is in,
// "" for none (in review): queueWhere, case by case.
func sharedQueue(status string, assignee int64) string {
	switch status {
	case StatusNew:
		if assignee == 0 {
			return QueueUnassigned
		}
	case StatusEscalated:
		return QueueEscalated
	case StatusPendingInfo:
		return QueuePendingInfo
	case StatusAwaitingSecondApproval:
		return QueueSecondApproval
	case StatusApproved, StatusRejected:
		return QueueDecided
	}
	return ""
}

// val is the value of code (0: none).
func (m *memState) val(code uint8) string {
	if code == 0 {
		return ""
	}
	return m.vals[code-1]
}

// code is v's code, given one when new (0 when 255 values are taken: such a value is
// never in a filter or a queue, so it is left out of every bitmap of values).
func (m *memState) code(v string) uint8 {
	if c, ok := m.codes[v]; ok {
		return c
	}
	if len(m.vals) == 255 {
		return 0
	}
	m.vals = append(m.vals, v)
	c := uint8(len(m.vals))
	m.codes[v] = c
	return c
}

// put sets the case at r.rowid to r, moving it between the bitmaps it changes.
func (m *memState) put(r memRow) {
	if r.rowid < 1 || r.rowid >= pivotHigh {
		return // not a rowid SQLite gives a case (they count from 1)
	}
	i := uint32(r.rowid)
	if int(i) >= len(m.rows) {
		m.rows = slices.Grow(m.rows, int(i)+1-len(m.rows))[:max(int(i)+1, len(m.rows))]
	}
	old := m.rows[i]
	if !old.live {
		m.live++
		old = memCase{} // codes 0: in no bitmap
	}
	sh := &r.shown
	c := memCase{due: r.due, decided: r.decided, assignee: r.assignee, updatedAt: sh.updatedAt,
		decidedAt: sh.decidedAt.Int64, hasDecidedAt: sh.decidedAt.Valid, round: sh.round,
		integration: m.nameCode(sh.integrationID), result: m.nameCode(sh.result), decision: m.nameCode(sh.decision),
		status: m.code(r.status), risk: m.code(r.risk), provider: m.code(r.provider),
		riskDerived: sh.riskDerived, fourEyes: sh.fourEyes, live: true}
	c.id, c.text = m.keep(old.id, r.id), m.keep(old.text, r.text)
	c.reference, c.fullName, c.externalID = m.keep(old.reference, sh.reference), m.keep(old.fullName, sh.fullName),
		m.keep(old.externalID, sh.externalID)
	// The queues' B-trees order by id, read at the rowid: the row first (an id never changes).
	m.rows[i] = c
	was, now := sharedQueue(m.val(old.status), old.assignee), sharedQueue(r.status, c.assignee)
	if at, to := queueItem(was, i, old), queueItem(now, i, c); was != now || at != to {
		if was != "" {
			m.queue[was].Remove(i)
			m.order[was].Delete(at)
		}
		if now != "" {
			m.queue[now].Add(i)
			m.order[now].ReplaceOrInsert(to)
		}
	}
	moveBit(m.risk, old.risk, c.risk, i)
	moveBit(m.provider, old.provider, c.provider, i)
	if old.assignee != c.assignee {
		if old.assignee != 0 {
			m.assignee[old.assignee].Remove(i)
		}
		if c.assignee != 0 {
			b := m.assignee[c.assignee]
			if b == nil {
				b = roaring.New()
				m.assignee[c.assignee] = b
			}
			b.Add(i)
		}
	}
	if !old.live || old.text != c.text {
		var was []uint64
		if old.live {
			was = textGrams(nil, m.str(old.text))
		}
		now := r.grams
		if now == nil {
			now = textGrams(nil, r.text)
		}
		for _, g := range was {
			if _, keep := slices.BinarySearch(now, g); !keep {
				m.grams[g].Remove(i)
			}
		}
		for _, g := range now {
			if _, had := slices.BinarySearch(was, g); had {
				continue
			}
			b := m.grams[g]
			if b == nil {
				b = roaring.New()
				m.grams[g] = b
			}
			b.Add(i)
		}
		for needle, e := range m.exact {
			switch {
			case e == tooCommon:
			case strings.Contains(r.text, needle):
				e.Add(i)
			default:
				e.Remove(i)
			}
		}
	}
}

// moveBit moves i from the bitmap of value from to that of value to (code 0: none).
func moveBit(by map[uint8]*roaring.Bitmap, from, to uint8, i uint32) {
	if from == to {
		return
	}
	if from != 0 {
		by[from].Remove(i)
	}
	if to != 0 {
		b := by[to]
		if b == nil {
			b = roaring.New()
			by[to] = b
		}
		b.Add(i)
	}
}

// foldTable is db.FoldRune for the runes below 0x2000 (Latin with every Vietnamese letter):
// folding through the Unicode decomposition costs about 0.2 µs a rune, and the index
// folds about a hundred runes per case.
var foldTable = func() *[0x2000]rune {
	var t [0x2000]rune
	for r := range t {
		t[r] = db.FoldRune(rune(r))
	}
	return &t
}()

func fold(r rune) rune {
	if r >= 0 && int(r) < len(foldTable) {
		return foldTable[r]
	}
	return db.FoldRune(r)
}

// textGrams appends the trigrams and bigrams of s's folded runes (three runes in one
// uint64, 21 bits each; a bigram's third is bigramMark), sorted and without repeats. One
// with white space is left out: a search word holds none (strings.Fields cuts at
// unicode.IsSpace).
func textGrams(dst []uint64, s string) []uint64 {
	return grams(dst, s, true)
}

// needleGrams appends what a search word is looked up by: its trigrams, or, for a word of
// two runes, its bigram (none for one rune).
func needleGrams(dst []uint64, needle string) []uint64 {
	return grams(dst, needle, utf8.RuneCountInString(needle) == 2)
}

// bigramMark is a bigram's third rune: above every rune, so never a trigram's.
const bigramMark = 1<<21 - 1

func grams(dst []uint64, s string, bigrams bool) []uint64 {
	start := len(dst)
	var a, b rune = -1, -1
	for _, r := range s {
		if r < utf8.RuneSelf && asciiSpace[r] || r >= utf8.RuneSelf && unicode.IsSpace(r) {
			a, b = -1, -1
			continue
		}
		r = fold(r)
		if a >= 0 {
			dst = append(dst, uint64(a)<<42|uint64(b)<<21|uint64(r))
		}
		if bigrams && b >= 0 {
			dst = append(dst, uint64(b)<<42|uint64(r)<<21|bigramMark)
		}
		a, b = b, r
	}
	g := dst[start:]
	slices.Sort(g)
	return append(dst[:start], slices.Compact(g)...)
}

var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// memSearchable reports whether the index can narrow needles: one of them is two runes
// long or more.
func memSearchable(needles []string) bool {
	for _, n := range needles {
		if utf8.RuneCountInString(n) >= 2 {
			return true
		}
	}
	return false
}

// gramExact reports whether the cases holding needle's gram are exactly those that hold
// the needle: it is one gram already folded (an unmarked word of two or three letters).
func gramExact(needle string) bool {
	if k := utf8.RuneCountInString(needle); k < 2 || k > 3 || db.HasMarks(needle) {
		return false
	}
	for _, r := range needle {
		if fold(r) != r {
			return false
		}
	}
	return true
}

// Needles remembered with their exact sets (memState.exact): at most exactMax, the map
// starting over when full; a needle held by more than exactBuildMax cases by its grams is
// not (checking them all would hold the index's lock for milliseconds, and its counts are
// not shown anyway: memCountLimit).
// exactMin and exactBuildMax are vars for the tests. A needle held by fewer than exactMin cases by its
// grams (a reference, an external id) is not remembered either: checking them costs less.
const exactMax = 128

var exactMin, exactBuildMax uint64 = 1000, 100_000

// tooCommon marks, in memState.exact, a needle whose grams are held by more than
// exactBuildMax cases.
var tooCommon = roaring.New()

// exactSet is the cases whose text holds needle, remembered: nil when the needle is too
// short for a gram or too common. The caller holds the index's read lock; put keeps the
// remembered sets current under the write lock.
func (m *memState) exactSet(needle string) *roaring.Bitmap {
	m.exactMu.Lock()
	e, ok := m.exact[needle]
	m.exactMu.Unlock()
	if ok {
		if e == tooCommon {
			return nil
		}
		return e
	}
	gs := needleGrams(nil, needle)
	if len(gs) == 0 {
		return nil
	}
	c := m.andGrams(gs, nil)
	if n := c.GetCardinality(); n < exactMin {
		return nil // rare: checking its few cases costs less than remembering them
	} else if n > exactBuildMax {
		e = tooCommon
	} else if gramExact(needle) {
		e = c
	} else {
		e = roaring.New()
		for it := c.Iterator(); it.HasNext(); {
			if r := it.Next(); strings.Contains(m.str(m.rows[r].text), needle) {
				e.Add(r)
			}
		}
	}
	m.exactMu.Lock()
	if len(m.exact) >= exactMax {
		clear(m.exact)
	}
	m.exact[needle] = e
	m.exactMu.Unlock()
	if e == tooCommon {
		return nil
	}
	return e
}

// andGrams is the cases that hold every gram of gs and are in every bitmap of more, as a
// new bitmap (empty when a gram is held by none).
func (m *memState) andGrams(gs []uint64, more []*roaring.Bitmap) *roaring.Bitmap {
	bms := slices.Clone(more)
	for _, g := range gs {
		b := m.grams[g]
		if b == nil {
			return roaring.New()
		}
		bms = append(bms, b)
	}
	if len(bms) == 0 {
		return roaring.New()
	}
	slices.SortFunc(bms, func(a, b *roaring.Bitmap) int { return cmp.Compare(a.GetCardinality(), b.GetCardinality()) })
	c := bms[0].Clone()
	for _, b := range bms[1:] {
		if c.IsEmpty() {
			break
		}
		c.And(b)
	}
	return c
}

// candidates is the cases that may match needles, as a new bitmap: those in every needle's
// exact set, and holding every gram of the needles without one. loose is the needles the
// candidates must still be checked for (matches); none when the candidates are the
// matches. One needle at least is two runes long (memSearchable).
func (m *memState) candidates(needles []string) (c *roaring.Bitmap, loose []string) {
	var gs []uint64
	var sets []*roaring.Bitmap
	for _, n := range needles {
		if e := m.exactSet(n); e != nil {
			sets = append(sets, e)
			continue
		}
		gs = needleGrams(gs, n)
		if !gramExact(n) {
			loose = append(loose, n)
		}
	}
	return m.andGrams(gs, sets), loose
}

// matches is the exact rule: text holds every needle (instr in SQL).
func matches(text string, needles []string) bool {
	for _, n := range needles {
		if !strings.Contains(text, n) {
			return false
		}
	}
	return true
}

// bitmap is by[v]'s bitmap (empty when the value was never seen).
func (m *memState) bitmap(by map[uint8]*roaring.Bitmap, v string) *roaring.Bitmap {
	if c, ok := m.codes[v]; ok && by[c] != nil {
		return by[c]
	}
	return roaring.New()
}

// filter keeps in c the cases of f's risk and provider filters.
func (m *memState) filter(c *roaring.Bitmap, f QueueFilter) {
	if f.Risk != "" {
		c.And(m.bitmap(m.risk, f.Risk))
	}
	if f.Provider != "" {
		c.And(m.bitmap(m.provider, f.Provider))
	}
}

// inQueue is the cases of c (nil: every case) in queue, as viewed by user (queueWhere,
// in bitmaps), as a new bitmap.
func (m *memState) inQueue(c *roaring.Bitmap, queue string, user int64) *roaring.Bitmap {
	if queue != QueueMine {
		if c == nil {
			return m.queue[queue].Clone()
		}
		return roaring.And(c, m.queue[queue])
	}
	b := m.assignee[user]
	if b == nil {
		return roaring.New()
	}
	mine := roaring.AndNot(b, m.queue[QueueDecided])
	if c != nil {
		mine.And(c)
	}
	return mine
}

// inQueueCount is how many cases of c are in queue, as viewed by user.
func (m *memState) inQueueCount(c *roaring.Bitmap, queue string, user int64) int {
	if queue != QueueMine {
		return int(c.AndCardinality(m.queue[queue]))
	}
	b := m.assignee[user]
	if b == nil {
		return 0
	}
	mine := roaring.And(c, b)
	return int(mine.GetCardinality() - mine.AndCardinality(m.queue[QueueDecided]))
}

// memHit is a match's position in its queue's order.
type memHit struct {
	r   uint32
	key int64 // sla_due, or the decided queue's decidedKey
	id  string
}

// before reports whether a comes before b in queue's order: open queues by (sla_due, id),
// the decided queue by (decision time, id) newest first, as selectSQL orders them.
func before(queue string, a, b memHit) bool {
	if queue == QueueDecided {
		return a.key > b.key || a.key == b.key && a.id > b.id
	}
	return a.key < b.key || a.key == b.key && a.id < b.id
}

// firstHits returns the first k matches of f's search among c (cases of f's queue and
// filters that hold the search's trigrams) after f's cursor, in f's queue order. It
// either walks the queue in its order from the cursor, checking whether each case is in
// c, until it has k matches (about k × queue/c steps), or reads every case of c,
// keeping the best k (|c| steps): whichever is fewer.
func (m *memState) firstHits(f QueueFilter, c *roaring.Bitmap, k int) []memHit {
	n := c.GetCardinality()
	if n == 0 {
		return nil
	}
	if order := m.order[f.Queue]; order != nil && n*n > uint64(k)*uint64(order.Len()) {
		return m.walkHits(f, c, order, k)
	}
	return m.scanHits(f, c, k)
}

// walkHits is firstHits along the queue's order.
func (m *memState) walkHits(f QueueFilter, c *roaring.Bitmap, order *btree.BTreeG[orderItem], k int) []memHit {
	var hits []memHit
	var after memHit
	if f.after != nil {
		after = memHit{key: f.after.key, id: f.after.id}
	}
	visit := func(it orderItem) bool {
		h := memHit{r: it.r, key: it.key, id: m.idOf(it.r)}
		if f.after != nil && !before(f.Queue, after, h) {
			return true // at the cursor's key, not after its id
		}
		if c.Contains(h.r) && matches(m.str(m.rows[h.r].text), f.search) {
			hits = append(hits, h)
		}
		return len(hits) < k
	}
	switch {
	case f.after == nil:
		order.Ascend(visit)
	case f.Queue == QueueDecided:
		order.AscendGreaterOrEqual(orderItem{key: f.after.key, r: pivotHigh}, visit)
	default:
		order.AscendGreaterOrEqual(orderItem{key: f.after.key, r: pivotLow}, visit)
	}
	return hits
}

// scanHits is firstHits over c in rowid order, keeping the best k in a heap.
func (m *memState) scanHits(f QueueFilter, c *roaring.Bitmap, k int) []memHit {
	var after *memHit
	if f.after != nil {
		after = &memHit{key: f.after.key, id: f.after.id}
	}
	decided := f.Queue == QueueDecided
	// worst-first heap of the best k so far
	h := make([]memHit, 0, k)
	worse := func(i, j int) bool { return before(f.Queue, h[j], h[i]) }
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(h) {
				return
			}
			w := l
			if r := l + 1; r < len(h) && worse(r, l) {
				w = r
			}
			if !worse(w, i) {
				return
			}
			h[i], h[w] = h[w], h[i]
			i = w
		}
	}
	up := func(i int) {
		for i > 0 {
			p := (i - 1) / 2
			if !worse(i, p) {
				return
			}
			h[i], h[p] = h[p], h[i]
			i = p
		}
	}
	// Rowids grow with creation, and so, mostly, do both sort keys: the decided queue
	// (newest first) is read from the highest rowid down, so that its heap fills with
	// its page early and most cases are turned away by their key alone.
	var it roaring.IntIterable
	if decided {
		it = c.ReverseIterator()
	} else {
		it = c.Iterator()
	}
	for it.HasNext() {
		r := it.Next()
		row := &m.rows[r]
		hit := memHit{r: r, key: row.due, id: m.str(row.id)}
		if decided {
			hit.key = row.decided
		}
		if after != nil && !before(f.Queue, *after, hit) {
			continue
		}
		if len(h) == k && !before(f.Queue, hit, h[0]) {
			continue
		}
		if !matches(m.str(row.text), f.search) {
			continue
		}
		if len(h) < k {
			h = append(h, hit)
			up(len(h) - 1)
			continue
		}
		h[0] = hit
		down(0)
	}
	slices.SortFunc(h, func(a, b memHit) int {
		if before(f.Queue, a, b) {
			return -1
		}
		return 1
	})
	return h
}

// memUsable reports whether f's page (and, with a search, its counts) is answered from
// s.Search, catching the index up once per request. A search needs a word of a trigram
// or more; a page without a search is listed from the index whenever it is ready.
func (s *Store) memUsable(ctx context.Context, f QueueFilter) bool {
	if s.Search == nil {
		return false
	}
	if f.cand == nil {
		return s.Search.use(ctx)
	}
	if !f.cand.memTried {
		f.cand.memTried = true
		f.cand.mem = memSearchable(f.search) && s.Search.use(ctx)
	}
	return f.cand.mem
}

// memCandidates is the cases under f's filters that may match f's search (candidates),
// and the words they must still be checked for, worked out once per request (ListQueue
// and QueueCounts share them); s.Search.mu must be read-locked. The bitmap is never
// changed: its users make new ones from it.
func (s *Store) memCandidates(f QueueFilter) (*roaring.Bitmap, []string) {
	if f.cand.memCands == nil {
		c, loose := s.Search.m.candidates(f.search)
		s.Search.m.filter(c, f)
		f.cand.memCands, f.cand.memLoose = c, loose
	}
	return f.cand.memCands, f.cand.memLoose
}

// memListQueue is ListQueue from the index: the page's cases found, ordered and read in
// memory, as of the catch-up at the request's start; only the names of their assignees
// and integrations are read from SQLite.
func (s *Store) memListQueue(ctx context.Context, f QueueFilter, limit int) (QueuePage, error) {
	x := s.Search
	x.mu.RLock()
	var c *roaring.Bitmap
	if f.cand != nil {
		cands, _ := s.memCandidates(f)
		c = x.m.inQueue(cands, f.Queue, f.UserID)
	} else {
		c = x.m.inQueue(nil, f.Queue, f.UserID)
		x.m.filter(c, f)
	}
	hits := x.m.firstHits(f, c, limit+1)
	var page QueuePage
	n := min(len(hits), limit)
	owners := make([]itemOwners, 0, n)
	for _, h := range hits[:n] {
		page.Items = append(page.Items, x.m.item(h.r))
		row := &x.m.rows[h.r]
		owners = append(owners, itemOwners{row.assignee, x.m.name(row.integration)})
	}
	x.mu.RUnlock()

	if err := s.nameItems(ctx, page.Items, owners); err != nil {
		return QueuePage{}, err
	}
	if len(hits) > limit {
		last := hits[limit-1]
		page.Next = s.sealQueueCursor(queueCursor{queue: f.Queue, key: last.key, id: last.id})
	}
	return page, nil
}

// item is the queue row of the case at r, without the names nameItems adds.
func (m *memState) item(r uint32) QueueItem {
	c := &m.rows[r]
	it := QueueItem{ID: m.str(c.id), Reference: m.str(c.reference), FullName: m.str(c.fullName),
		ExternalID: m.str(c.externalID), Provider: m.val(c.provider), Status: m.val(c.status), Result: m.name(c.result),
		RiskLevel: m.val(c.risk), RiskDerived: c.riskDerived, FourEyes: c.fourEyes, Round: int(c.round),
		SLADue: db.Time(c.due), Decision: m.name(c.decision), UpdatedAt: db.Time(c.updatedAt)}
	if c.hasDecidedAt {
		it.DecidedAt = db.Time(c.decidedAt)
	}
	return it
}

// queueNamesSQL reads the users and integrations of a page (two JSON arrays of ids).
const queueNamesSQL = `SELECT 'u', id, email, name FROM users WHERE id IN (SELECT value FROM json_each(?))
	UNION ALL SELECT 'i', id, name, '' FROM integrations WHERE id IN (SELECT value FROM json_each(?))`

// itemOwners is a queue item's assignee (0: none) and integration, by id.
type itemOwners struct {
	assignee    int64
	integration string
}

// nameItems gives each item its integration's name and its assignee's email and name (by
// owners, one per item), read from SQLite: both tables are small, and a name changed a
// moment ago shows.
func (s *Store) nameItems(ctx context.Context, items []QueueItem, owners []itemOwners) error {
	if len(items) == 0 {
		return nil
	}
	var assignees []int64
	var integrations []string
	for _, o := range owners {
		if o.assignee != 0 {
			assignees = append(assignees, o.assignee)
		}
		integrations = append(integrations, o.integration)
	}
	ua, _ := json.Marshal(assignees)
	ia, _ := json.Marshal(integrations)
	rows, err := s.DB.Read.QueryContext(ctx, queueNamesSQL, string(ua), string(ia))
	if err != nil {
		return fmt.Errorf("queue names: %w", err)
	}
	defer rows.Close()
	type name struct{ a, b string }
	users, ints := map[string]name{}, map[string]name{}
	for rows.Next() {
		var kind, id string
		var n name
		if err := rows.Scan(&kind, &id, &n.a, &n.b); err != nil {
			return err
		}
		if kind == "u" {
			users[id] = n
		} else {
			ints[id] = n
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("queue names: %w", err)
	}
	for i, o := range owners {
		items[i].IntegrationName = ints[o.integration].a
		if o.assignee != 0 {
			u := users[strconv.FormatInt(o.assignee, 10)]
			items[i].AssigneeEmail, items[i].AssigneeName = u.a, u.b
		}
	}
	return nil
}

// memQueueCounts is QueueCounts from the index: exact, or nil when the search has more
// than memCountLimit possible matches that would each need checking.
func (s *Store) memQueueCounts(f QueueFilter) map[string]int {
	x := s.Search
	x.mu.RLock()
	c, loose := s.memCandidates(f)
	if len(loose) > 0 {
		if c.GetCardinality() > uint64(memCountLimit) {
			x.mu.RUnlock()
			return nil
		}
		// The candidates' texts are checked outside the lock (a string never changes; a
		// case renamed meanwhile is counted as it was): a catch-up waiting for the lock
		// would hold every other request behind it.
		type cand struct {
			r    uint32
			text string
		}
		cands := make([]cand, 0, c.GetCardinality())
		for it := c.Iterator(); it.HasNext(); {
			r := it.Next()
			cands = append(cands, cand{r, x.m.str(x.m.rows[r].text)})
		}
		x.mu.RUnlock()
		exact := roaring.New()
		for _, k := range cands {
			if matches(k.text, loose) {
				exact.Add(k.r)
			}
		}
		c = exact
		x.mu.RLock()
	}
	defer x.mu.RUnlock()
	out := make(map[string]int, len(Queues))
	for _, q := range Queues {
		out[q] = x.m.inQueueCount(c, q, f.UserID)
	}
	return out
}
