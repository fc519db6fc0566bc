package cases

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/google/btree"

	"github.com/kycdesk/kycdesk/db"
)

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
// starting over when full. A needle held by more than exactBuildMax cases by its grams is
// not (checking them all would hold the index's lock for milliseconds, and its counts are
// not shown anyway: memCountLimit), nor one held by fewer than exactMin (a reference, an
// external id: checking its few cases costs less). The two are vars for the tests.
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
	switch {
	case f.cand != nil:
		cands, _ := s.memCandidates(f)
		c = x.m.inQueue(cands, f.Queue, f.UserID)
	case f.Queue != QueueMine && f.Risk == "" && f.Provider == "":
		c = x.m.queue[f.Queue] // the queue itself, only read: no copy per page
	default:
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
