package cases

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
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
	done bool
	few  bool   // at most SearchCountLimit candidates, listed in json
	json string // JSON array of the candidates' cases.rowid
}

// searchSlots bounds how many searches run at once, so that searches that must walk many
// cases (common words, see SearchCountLimit) never hold every connection of the read pool
// (db.Open: four on two cores) while plain queue pages and case pages wait behind them.
// It is the one piece of state shared by every Store value: Stores are made per request.
var searchSlots = make(chan struct{}, 2)

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
// every candidate is checked with globPattern's exact rule. A filter without a search, or
// whose words are all too short for the index, has no candidates (few is false): its page
// walks the queue's index and checks each case.
func (s *Store) candidates(ctx context.Context, f QueueFilter) (searchCandidates, error) {
	if f.cand == nil {
		return searchCandidates{}, nil
	}
	if f.cand.done {
		return *f.cand, nil
	}
	terms, err := s.searchTerms(ctx, f.words)
	if err != nil {
		return searchCandidates{}, err
	}
	c := searchCandidates{done: true}
	if len(terms) > 0 {
		// First the whole terms: the index streams one term's list, so this stops after
		// SearchCountLimit+1 however common the word. A prefix query ("term*") merges
		// the lists of every term it begins in full: it runs only when the words are
		// not common as whole words.
		exact := `"` + strings.Join(terms, `" "`) + `"`
		n, _, err := s.matchCandidates(ctx, exact)
		if err != nil {
			return searchCandidates{}, err
		}
		if n <= SearchCountLimit {
			n, json, err := s.matchCandidates(ctx, `"`+strings.Join(terms, `*" "`)+`*"`)
			if err != nil {
				return searchCandidates{}, err
			}
			c.few, c.json = n <= SearchCountLimit, json
		}
	}
	*f.cand = c
	return c, nil
}

// matchCandidates returns how many cases (at most SearchCountLimit+1) match the MATCH
// expression, and their rowids as a JSON array.
func (s *Store) matchCandidates(ctx context.Context, match string) (int, string, error) {
	rows, err := s.DB.Read.QueryContext(ctx, `SELECT docid FROM case_search WHERE case_search MATCH ? LIMIT ?`,
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

// walkSQL is the page query of f's walk: the queue's index in order from f's position, at
// most maxSearchWalk rows, each with whether it matches every search word (first column).
func (f QueueFilter) walkSQL() (string, []any) {
	var hit []string
	var hitArgs []any
	for _, p := range f.search {
		hit = append(hit, `(c.full_name GLOB ? OR c.reference GLOB ? OR c.external_id GLOB ?)`)
		hitArgs = append(hitArgs, p, p, p)
	}
	g := f
	g.search = nil
	q, args := g.pageSQL(` FROM cases c`, nil, maxSearchWalk)
	q = `SELECT (` + strings.Join(hit, " AND ") + `), ` + strings.TrimPrefix(q, `SELECT `)
	return q, append(hitArgs, args...)
}

// walkQueue is one page of a search that walks the queue: the first limit matches, or,
// when maxSearchWalk cases hold fewer, those found and a Next that continues the walk
// after the last case checked (Partial). Either way no case is skipped or repeated.
func (s *Store) walkQueue(ctx context.Context, f QueueFilter, limit int) (QueuePage, error) {
	q, args := f.walkSQL()
	rows, err := s.DB.Read.QueryContext(ctx, q, args...)
	if err != nil {
		return QueuePage{}, fmt.Errorf("queue %s: %w", f.Queue, err)
	}
	defer rows.Close()
	var page QueuePage
	var last QueueItem
	walked := 0
	for rows.Next() {
		var hit bool
		it, err := scanQueueItem(rows, &hit)
		if err != nil {
			return QueuePage{}, err
		}
		walked, last = walked+1, it
		if hit {
			page.Items = append(page.Items, it)
			if len(page.Items) > limit {
				break
			}
		}
	}
	if err := rows.Err(); err != nil {
		return QueuePage{}, err
	}
	switch {
	case len(page.Items) > limit:
		page.Items = page.Items[:limit]
		page.Next = s.sealQueueCursor(f.cursorAt(page.Items[limit-1]))
	case walked == maxSearchWalk:
		page.Next, page.Partial = s.sealQueueCursor(f.cursorAt(last)), len(page.Items) < limit
	}
	return page, nil
}
