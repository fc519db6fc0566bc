package db

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// searchTextFunc is the SQL name of SearchText, registered on every connection: the
// triggers that keep case_text (migration 00016) call it.
const searchTextFunc = "kycdesk_search_text"

// SearchText is what a queue search checks a case against (case_text, migration 00016):
// its name, reference and external id lower-cased (NFC), then the same three folded
// (every letter to its base letter, đ to d), one per line. A search word is looked for in
// it with instr (SearchNeedle): a few hundred nanoseconds from a narrow table, where
// matching the case's own columns with GLOB cost a read of its row and a pattern per
// column (BENCHMARKS.md, "Searches that read no case row").
func SearchText(fullName, reference, externalID string) string {
	var b strings.Builder
	fields := [3]string{fullName, reference, externalID}
	b.Grow(2 * (len(fullName) + len(reference) + len(externalID) + 3))
	for i, f := range fields {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strings.ToLower(norm.NFC.String(f)))
	}
	for _, f := range fields {
		b.WriteByte('\n')
		writeFolded(&b, norm.NFC.String(f))
	}
	return b.String()
}

// SearchNeedle is what SearchText must contain for a case to match one typed word (NFC,
// no spaces). A word typed with diacritics matches them exactly as typed, in either case:
// in Vietnamese a missing tone mark is itself a tone, so "Hương" must not find "Hướng";
// it is looked for lower-cased, among the lower-cased fields (the folded ones hold no
// marked letter, so it never matches there). A word typed without any (as on a keyboard
// without a Vietnamese layout) matches every marked form of its letters: folded, it is
// found among the folded fields ("huong" finds Hương and Hướng, "duc" finds Đức). Either
// way it never spans two fields: the words of a search hold no newline.
func SearchNeedle(word string) string {
	if HasMarks(word) {
		return strings.ToLower(word)
	}
	var b strings.Builder
	writeFolded(&b, word)
	return b.String()
}

// HasMarks reports whether a word carries any diacritic (đ counts): whether a letter of it
// is not its own base letter.
func HasMarks(word string) bool {
	for _, r := range word {
		if r > unicode.MaxASCII && unicode.IsLetter(r) && foldRune(r) != unicode.ToLower(r) {
			return true
		}
	}
	return false
}

// writeFolded writes s with every letter lower-cased and reduced to its base letter.
func writeFolded(b *strings.Builder, s string) {
	for _, r := range s {
		if r <= unicode.MaxASCII {
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(foldRune(r))
	}
}

// FoldRune is r as the folded fields of SearchText hold it: lower-cased and without its
// marks. Folding rune by rune keeps every substring a substring: when a needle is in
// SearchText, its folded runes are in SearchText's folded runes (the in-memory search
// index of internal/cases narrows by that).
func FoldRune(r rune) rune {
	if r <= unicode.MaxASCII {
		return unicode.ToLower(r)
	}
	return foldRune(r)
}

// foldRune is r lower-cased and without its marks: the first rune of its decomposition
// (NFD) for a letter, đ as d (Unicode gives đ no mark to drop), anything else unchanged.
func foldRune(r rune) rune {
	r = unicode.ToLower(r)
	switch {
	case r == 'đ':
		return 'd'
	case !unicode.IsLetter(r):
		return r
	}
	var buf [utf8.UTFMax]byte
	d := norm.NFD.Append(nil, buf[:utf8.EncodeRune(buf[:], r)]...)
	base, _ := utf8.DecodeRune(d)
	return base
}
