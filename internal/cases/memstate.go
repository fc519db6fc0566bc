package cases

import (
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/google/btree"

	"github.com/kycdesk/kycdesk/db"
)

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

// arenaChunk is the size of the arena's chunks (the first ones smaller): a chunk is never
// grown (a string of the arena stays where it is, and appending never copies the arena
// under the write lock).
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

	grams    map[uint64]*roaring.Bitmap          // bigram or trigram of folded text → cases
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
		size := 64 << 10 // the first chunks small, for a small database
		if last >= 1 {
			size = min(arenaChunk, 2*cap(m.arena[last]))
		} else {
			m.arena = append(m.arena[:0], nil)
		}
		m.arena = append(m.arena, make([]byte, 0, max(size, len(v))))
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
