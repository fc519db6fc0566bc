package db

import "strings"

// searchTermsFunc is the SQL name of SearchTerms, registered on every connection: the
// triggers that keep case_search (migration 00015) call it.
const searchTermsFunc = "kycdesk_search_terms"

// Bounds of the suffixes case_search holds (migration 00009): suffixes start within the
// first searchPositions characters and keep at most searchSuffixRunes of them.
const (
	searchPositions   = 256
	searchSuffixRunes = 32
)

var searchFold = strings.NewReplacer("đ", "d", "Đ", "D", "-", " ")

// SearchTerms is the text case_search indexes for a case: its name, reference and external
// id (đ written d, hyphens as spaces), then every suffix of at least 3 characters of every
// word, cut at 32, so that a search for part of a word finds it by prefix. It is exactly
// what the SQL of migration 00009 computed, character for character, in about 4 µs
// (BenchmarkSearchTerms; BENCHMARKS.md, "The worker's cost per case, and what a commit costs").
func SearchTerms(fullName, reference, externalID string) string {
	t := " " + searchFold.Replace(fullName+" "+reference+" "+externalID)
	// starts[i] is the byte offset of character i+1 (SQL counts from 1); one past the end last.
	starts := make([]int, 0, len(t)+1)
	for i := range t {
		starts = append(starts, i)
	}
	n := len(starts)
	starts = append(starts, len(t))
	var b strings.Builder
	b.Grow(3 * len(t))
	b.WriteString(t)
	b.WriteByte(' ')
	first := true
	// p is a 1-based character position, as in the SQL: substr(t, p.n, ...).
	for p := 2; p <= min(searchPositions, n-2); p++ {
		if t[starts[p-2]] == ' ' || strings.IndexByte(t[starts[p-1]:starts[p+2]], ' ') >= 0 {
			continue // the word begins here (the whole word is in t), or has fewer than 3 characters left
		}
		end := p - 1
		for end < n && end < p-1+searchSuffixRunes && t[starts[end]] != ' ' {
			end++
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		b.WriteString(t[starts[p-1]:starts[end]])
	}
	return b.String()
}
