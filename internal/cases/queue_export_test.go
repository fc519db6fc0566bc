package cases

import "context"

// QueueSQL and CountSQL expose the queue queries to the plan test in cases_test.
func (f QueueFilter) QueueSQL(limit int) (string, []any) { return f.queueSQL(limit) }

// TallySQL and the candidate queries expose the count and search queries to the plan test.
func (f QueueFilter) TallySQL() (string, []any) { return f.tallySQL() }
func (f QueueFilter) CandidateSQL(c string, limit int) (string, []any) {
	return f.candidateSQL(c, limit)
}
func (f QueueFilter) CandidateCountSQL(c string) (string, []any) { return f.candidateCountSQL(c) }

// SearchCandidates reports what the full-text index proposes for f's search.
func (s *Store) SearchCandidates(f QueueFilter) (few bool, json string, err error) {
	c, err := s.candidates(context.Background(), f)
	return c.few, c.json, err
}

// ForceWalk makes f's search walk the queue's index, as a search with too many candidates does.
func (f QueueFilter) ForceWalk() QueueFilter {
	f.cand = &searchCandidates{done: true}
	return f
}

// Where exposes a queue's condition (for comparing tallies with COUNT(*)).
func (f QueueFilter) Where() (string, []any) { return f.where() }

// WalkPageSQL and WalkEndSQL expose the queries of a search that walks the queue.
func (f QueueFilter) WalkPageSQL(limit int) (string, []any) { return f.walkPageSQL(limit) }
func (f QueueFilter) WalkEndSQL() (string, []any)           { return f.walkEndSQL() }

// SetSearchWalk sets how many cases a walk checks per request, until restore is called.
func SetSearchWalk(n int) (restore func()) {
	old := maxSearchWalk
	maxSearchWalk = n
	return func() { maxSearchWalk = old }
}

// HoldSearchSlots takes every search slot until release is called.
func HoldSearchSlots() (release func()) {
	for range cap(searchSlots) {
		searchSlots <- struct{}{}
	}
	return func() {
		for range cap(searchSlots) {
			<-searchSlots
		}
	}
}

// SetMemLimits sets how many possible matches the in-memory index checks to count a
// search's tabs, and between how many it remembers a word's exact set, until restore is
// called.
func SetMemLimits(count int, exactFrom, exactTo uint64) (restore func()) {
	oldCount, oldFrom, oldTo := memCountLimit, exactMin, exactBuildMax
	memCountLimit, exactMin, exactBuildMax = count, exactFrom, exactTo
	return func() { memCountLimit, exactMin, exactBuildMax = oldCount, oldFrom, oldTo }
}

// SearchedInMemory reports whether f's search was answered from the in-memory index.
func (f QueueFilter) SearchedInMemory() bool { return f.cand != nil && f.cand.mem }

// The in-memory index's queries: its catch-up and a page's names.
const QueueNamesSQL = queueNamesSQL

var CatchUpSQL = catchUpSQL
