package cases

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/kycdesk/kycdesk/db"
)

// SearchCountLimit bounds the work of a search: when the full-text index proposes at most
// this many cases, the page and the tabs' counts are computed from them alone (each looked
// up, checked against the exact rule, sorted). When it proposes more, the words are common
// enough that walking the queue's index in order finds a page quickly, and the counts are
// not shown (counting would mean checking every one of them on every request).
const SearchCountLimit = 2000

// Tokens shorter than this narrow nothing (nearly every name holds "ng" or "an") and make
// the index merge the lists of every term they begin: they are checked by the exact rule only.
const minSearchTokenRunes = 3

// maxSearchTokenRunes is the longest suffix case_search holds (00009): a longer token is
// looked up by its first runes.
const maxSearchTokenRunes = 32

// searchCandidates is what the full-text index says about a filter's search, worked out
// once per request (ListQueue and QueueCounts share it through the filter).
type searchCandidates struct {
	planned bool
	picked  []string // the terms to ask the index for (pickTerms)
	rare    bool     // one of them is held by fewer than termProbe cases: the search is cheap
	done    bool
	few     bool   // at most SearchCountLimit candidates, listed in json
	json    string // JSON array of the candidates' cases.rowid

	memTried bool            // memUsable has looked
	mem      bool            // the search is answered from the in-memory index (Store.Search)
	memCands *roaring.Bitmap // memCandidates
	memLoose []string
}

// searchSlots bounds how many costly searches run at once (those that read long lists of
// the index or walk the queue), so that they never take every core and connection while
// plain queue pages and case pages wait behind them. A rare search (a reference, an
// external id: a term held by fewer than termProbe cases) costs what a plain page does and
// takes no slot, so it never queues behind the costly ones (planSearch). Four of the 16
// read connections: with two, searches queued for seconds in some loaded runs, and four
// did not slow plain pages (BENCHMARKS.md, "Searches that read no case row").
// It is one of the two pieces of state shared by every Store value (with commonTerms):
// Stores are made per request.
var searchSlots = make(chan struct{}, 4)

// searchGate plans f's search and, unless it is rare, waits for a search slot; release
// what it returns when the request's work is done. Without a search it does nothing.
func (s *Store) searchGate(ctx context.Context, f QueueFilter) (release func(), err error) {
	if len(f.search) == 0 {
		return func() {}, nil
	}
	if err := s.planSearch(ctx, f); err != nil {
		return nil, err
	}
	if f.cand != nil && f.cand.rare {
		return func() {}, nil
	}
	return searchSlot(ctx)
}

// searchSlot waits for a free search slot; release it when done.
func searchSlot(ctx context.Context) (release func(), err error) {
	select {
	case searchSlots <- struct{}{}:
		return func() { <-searchSlots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// dStroke writes đ as d, as case_search's terms do (Unicode gives đ no diacritic to drop).
var dStroke = strings.NewReplacer("đ", "d", "Đ", "D")

// candidates asks case_search which cases may match f's search. It never decides a match:
// every candidate is checked with the exact rule (db.SearchNeedle). A filter without a search, or
// whose words are all too short for the index, has no candidates (few is false): its page
// walks the queue's index and checks each case.
func (s *Store) candidates(ctx context.Context, f QueueFilter) (searchCandidates, error) {
	if f.cand == nil {
		return searchCandidates{}, nil
	}
	if f.cand.done {
		return *f.cand, nil
	}
	if err := s.planSearch(ctx, f); err != nil {
		return searchCandidates{}, err
	}
	c := *f.cand
	c.done = true
	if picked := c.picked; len(picked) > 0 {
		// The picked words' prefixes, all required: a superset of the exact matches
		// (every word of the search must match, so any of them narrows soundly). The
		// other words are left to the exact rule, as every candidate's are.
		n, json, err := s.matchCandidates(ctx, `"`+strings.Join(picked, `*" "`)+`*"`)
		if err != nil {
			return searchCandidates{}, err
		}
		c.few, c.json = n <= SearchCountLimit, json
		if c.few && n > 0 {
			// Only those whose text holds every word: the page and the tabs' counts then
			// read those alone, rather than each checking every candidate again.
			q := `SELECT json_group_array(j.value)` + candidateTextFrom + ` WHERE ` + strings.Join(f.searchConds(), " AND ")
			if err := s.DB.Read.QueryRowContext(ctx, q, append([]any{json}, f.searchArgs()...)...).Scan(&c.json); err != nil {
				return searchCandidates{}, fmt.Errorf("search: %w", err)
			}
		}
	}
	*f.cand = c
	return c, nil
}

// planSearch works out which terms of f's search to ask the index for, and whether the
// search is rare, once per request: a few short reads of the index (pickTerms's probes).
func (s *Store) planSearch(ctx context.Context, f QueueFilter) error {
	if f.cand == nil || f.cand.planned {
		return nil
	}
	terms, err := s.searchTerms(ctx, f.words)
	if err != nil {
		return err
	}
	f.cand.picked, f.cand.rare = s.pickTerms(ctx, terms)
	f.cand.planned = true
	return nil
}

// termProbe: a term held by fewer cases than this is rare (a reference, an external id):
// its candidates are all the index needs, and the search costs what a plain page does.
const termProbe = 100

// maxPickedTermCases: a term in more cases than this is never asked of the index (FTS4
// reads the whole list of every term of a query: "nguyen", in 44 % of cases, alone costs
// about 40 ms at a million); the exact rule checks it on the candidates of the others.
const maxPickedTermCases = 150_000

// checkCostInEntries is what checking one candidate costs (a lookup in case_text, an
// instr per word), counted in entries of a term's list the index reads: about 1 µs
// against 0.1 µs at a million cases (BENCHMARKS.md, "Searches that read no case row").
const checkCostInEntries = 10

// pickTerms chooses which terms to ask the index for: the rarest first, then the next
// rarest while the expected number of cases holding all of them is above half of
// SearchCountLimit, the next term is not too common to read (maxPickedTermCases), and
// reading its list costs less than checking the candidates it would remove. None
// when even those are expected to hold more than SearchCountLimit cases: the search then
// walks the queue (bounded by maxSearchWalk). A term's count is that of its prefix query,
// as the index will read it ("thu*" is also every Thuỷ and Thương), counted up to
// maxPickedTermCases+1 and remembered for a minute (commonTerms); an estimate from where
// a sample's last case fell among the rowids was off by more than twice ("thu": 89,000
// against 230,000). rare reports that the one term picked is held by fewer than
// termProbe cases (the search is cheap).
func (s *Store) pickTerms(ctx context.Context, terms []string) (picked []string, rare bool) {
	if len(terms) == 0 {
		return nil, false
	}
	var total float64
	if err := s.DB.Read.QueryRowContext(ctx, `SELECT coalesce(max(rowid), 0) FROM cases`).Scan(&total); err != nil || total < 1 {
		return terms, false
	}
	type est struct {
		term string
		n    float64
	}
	// Longest first: a long term (the digits of a reference, a full word) is the likeliest
	// to be rare, and one held by fewer than termProbe cases is all the index needs.
	terms = slices.Clone(terms)
	slices.SortStableFunc(terms, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	ests := make([]est, 0, len(terms))
	for _, t := range terms {
		n, err := commonTerms.count(ctx, s.DB, t, func() (n float64, err error) {
			err = s.DB.Read.QueryRowContext(ctx, `SELECT count(*) FROM
				(SELECT docid FROM case_search WHERE case_search MATCH ? LIMIT ?)`, `"`+t+`*"`, maxPickedTermCases+1).Scan(&n)
			return n, err
		})
		if err != nil {
			return terms, false // ask for them all, as a search without counts would
		}
		if n < termProbe {
			return []string{t}, true
		}
		ests = append(ests, est{t, n})
	}
	slices.SortStableFunc(ests, func(a, b est) int { return cmp.Compare(a.n, b.n) })
	picked, expect := []string{ests[0].term}, ests[0].n
	for _, e := range ests[1:] {
		if expect <= SearchCountLimit/2 || e.n > maxPickedTermCases || e.n > checkCostInEntries*expect*(1-e.n/total) {
			break
		}
		picked, expect = append(picked, e.term), expect*e.n/total
	}
	if expect > 2*SearchCountLimit {
		return nil, false
	}
	return picked, false
}

// commonTerms remembers pickTerms's counts of the terms held by at least termProbe cases:
// counting such a term costs the index's reading of its whole list (FTS4 reads a term's
// list in full even for LIMIT 100: about 1.6 ms for "nguyen" at a million cases, several
// times that under load) and a step per case, and the same common words come back search
// after search. A count only steers how a search is run, never what it finds; a rarer term
// is always counted afresh (about 0.2 ms), so a new case's reference is never taken for a
// common word.
//
// A term is counted by one request at a time: after a restart the first searches all ask
// for the same few words at once, and each counting them for itself took every core for
// seconds (BENCHMARKS.md, "The first seconds after a start"). Requests wait for a first
// count; once a count is older than termCacheTTL, the request that finds it so counts
// again while the others go on with the old one.
var commonTerms = termCache{m: map[termKey]*termEstimate{}}

const (
	termCacheTTL = time.Minute
	termCacheMax = 4096 // entries; the cache starts over when full
)

type termKey struct {
	db   *db.DB
	term string
}

type termEstimate struct {
	n        float64
	at       time.Time     // when n was counted; zero until the first count ends
	counting chan struct{} // closed when the count under way ends; nil when none is
}

type termCache struct {
	mu sync.Mutex
	m  map[termKey]*termEstimate
}

// count returns how many cases hold term: remembered, or counted by countNow (by this
// request, or by the one already counting it, which this one waits for).
func (c *termCache) count(ctx context.Context, d *db.DB, term string, countNow func() (float64, error)) (float64, error) {
	key := termKey{d, term}
	c.mu.Lock()
	e := c.m[key]
	if e != nil && !e.at.IsZero() && (e.counting != nil || time.Since(e.at) <= termCacheTTL) {
		n := e.n // fresh, or being counted again: good enough to plan with
		c.mu.Unlock()
		return n, nil
	}
	if e != nil && e.counting != nil { // the first count is under way
		done := e.counting
		c.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		c.mu.Lock()
		e := c.m[key]
		c.mu.Unlock()
		if e != nil && !e.at.IsZero() {
			return e.n, nil
		}
		return countNow() // it failed, or the term is rare (never remembered)
	}
	// None, or too old: this request counts.
	if len(c.m) >= termCacheMax {
		clear(c.m)
	}
	mine := &termEstimate{counting: make(chan struct{})}
	if e != nil {
		mine.n, mine.at = e.n, e.at
	}
	c.m[key] = mine
	c.mu.Unlock()

	n, err := countNow()
	c.mu.Lock()
	switch {
	case c.m[key] != mine: // the cache started over meanwhile
	case err == nil && n >= termProbe:
		c.m[key] = &termEstimate{n: n, at: time.Now()}
	case err != nil && !mine.at.IsZero():
		c.m[key] = &termEstimate{n: mine.n, at: mine.at} // keep the old count; the next request tries again
	default:
		delete(c.m, key)
	}
	c.mu.Unlock()
	close(mine.counting)
	return n, err
}

// matchCandidates returns how many cases (at most SearchCountLimit+1) match the MATCH
// expression, and their rowids as a JSON array. The cases whose terms still wait to enter
// the index (case_search_queue, migration 00015: written outside db.DB.Tx, which moves them
// before it commits) are candidates too, so none is missed; the queue is empty otherwise.
func (s *Store) matchCandidates(ctx context.Context, match string) (int, string, error) {
	rows, err := s.DB.Read.QueryContext(ctx, `SELECT docid FROM case_search_queue UNION ALL
		SELECT docid FROM case_search WHERE case_search MATCH ? LIMIT ?`,
		match, SearchCountLimit+1)
	if err != nil {
		return 0, "", fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	b := make([]byte, 0, 256)
	b = append(b, '[')
	n := 0
	for rows.Next() {
		var docid int64
		if err := rows.Scan(&docid); err != nil {
			return 0, "", err
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, docid, 10)
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, "", fmt.Errorf("search: %w", err)
	}
	return n, string(append(b, ']')), nil
}

// searchTerms are the tokens of words as case_search's tokenizer cuts and folds them, each
// to be matched as a prefix, all required. A word typed from the middle of a name finds it
// because case_search also holds every suffix of every word. None when no token is long
// enough to narrow the search.
func (s *Store) searchTerms(ctx context.Context, words []string) ([]string, error) {
	rows, err := s.DB.Read.QueryContext(ctx, `SELECT token FROM case_search_tokens WHERE input = ?`,
		dStroke.Replace(strings.Join(words, " ")))
	if err != nil {
		return nil, fmt.Errorf("search tokens: %w", err)
	}
	defer rows.Close()
	var terms []string
	seen := map[string]bool{}
	for rows.Next() {
		var tok string
		if err := rows.Scan(&tok); err != nil {
			return nil, err
		}
		if utf8.RuneCountInString(tok) < minSearchTokenRunes {
			continue
		}
		if r := []rune(tok); len(r) > maxSearchTokenRunes {
			tok = string(r[:maxSearchTokenRunes])
		}
		if !seen[tok] {
			seen[tok] = true
			// A token holds letters and digits only, so quoting it needs no escape.
			terms = append(terms, tok)
		}
	}
	return terms, rows.Err()
}

// maxSearchWalk bounds how many cases of the queue one request checks against a search's
// words when the full-text index cannot narrow them (every word common, or too short):
// each costs a read of its row, and words that are common alone but rare together
// ("Hoàng Yến" at a million cases: 71 of 120,000 unassigned) would otherwise check the
// whole queue for one page. A var for the tests.
var maxSearchWalk = 1500

// SearchWalkLimit is how many cases of the queue one page of a common search checks (the
// queue page says so when a page comes back short: QueuePage.Partial).
func SearchWalkLimit() int { return maxSearchWalk }

// walkSQL is the walk of f's search: the queue's index in order from f's position, at most
// maxSearchWalk rows, each with whether it matches every search word (hit), its position
// (k and id: sort key and case id) and its rowid (r). The index holds all but the match,
// which is looked up in case_text, a narrow table: a case that does not match costs no
// read of its row.
func (f QueueFilter) walkSQL() (string, []any) {
	g := f
	g.search = nil
	q, args := g.selectSQL(`(`+strings.Join(f.searchConds(), " AND ")+`) AS hit, `+f.sortKey()+` AS k, c.id AS id, c.rowid AS r`,
		` FROM cases c`, f.textJoin(), nil, maxSearchWalk)
	return q, append(f.searchArgs(), args...)
}

// walkPageSQL is the query of a walk's matches: the rowids of the first limit cases of
// walkSQL that match, in the queue's order. SQLite stops walking at the last of them.
func (f QueueFilter) walkPageSQL(limit int) (string, []any) {
	walk, args := f.walkSQL()
	return `SELECT r FROM (` + walk + `) WHERE hit LIMIT ?`, append(args, limit)
}

// walkEndSQL is the query of the position of the last case a full walk checks (the
// maxSearchWalk-th from f's position), read from the queue's index alone; no row when the
// queue ends before.
func (f QueueFilter) walkEndSQL() (string, []any) {
	g := f
	g.search = nil
	q, args := g.selectSQL(f.sortKey()+`, c.id`, ` FROM cases c`, ``, nil, 1)
	return q + ` OFFSET ?`, append(args, maxSearchWalk-1)
}

// sortKey is the first column of f's queue order.
func (f QueueFilter) sortKey() string {
	if f.Queue == QueueDecided {
		return decidedKey
	}
	return `c.sla_due`
}

// walkQueue is one page of a search that walks the queue: the first limit matches, or,
// when maxSearchWalk cases hold fewer, those found and a Next that continues the walk
// after the last case checked (Partial). Either way no case is skipped or repeated. The
// walk is filtered inside SQLite (a case that does not match never reaches Go), it stops
// at the page's last match, and the page's rows are read for the matches alone, in the
// same read transaction.
func (s *Store) walkQueue(ctx context.Context, f QueueFilter, limit int) (QueuePage, error) {
	tx, err := s.DB.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return QueuePage{}, err
	}
	defer tx.Rollback() //nolint:errcheck // read only: nothing to keep
	q, args := f.walkPageSQL(limit + 1)
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return QueuePage{}, fmt.Errorf("queue %s: %w", f.Queue, err)
	}
	var hits []int64
	for rows.Next() {
		var rowid int64
		if err := rows.Scan(&rowid); err != nil {
			rows.Close()
			return QueuePage{}, err
		}
		hits = append(hits, rowid)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return QueuePage{}, err
	}
	var page QueuePage
	if len(hits) > 0 {
		ids, _ := json.Marshal(hits)
		q, args := f.candidateSQL(string(ids), limit+1)
		if page.Items, err = queryQueueItems(ctx, tx, f, q, args); err != nil {
			return QueuePage{}, err
		}
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = s.sealQueueCursor(f.cursorAt(page.Items[limit-1]))
		return page, nil
	}
	// Fewer than a page: the walk ended with the queue, or after maxSearchWalk cases; then
	// the next page continues after the last of them.
	q, args = f.walkEndSQL()
	last := queueCursor{queue: f.Queue}
	switch err := tx.QueryRowContext(ctx, q, args...).Scan(&last.key, &last.id); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return QueuePage{}, fmt.Errorf("queue %s: %w", f.Queue, err)
	default:
		page.Next, page.Partial = s.sealQueueCursor(last), len(page.Items) < limit
	}
	return page, nil
}
