package db

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// TestSearchNeedleMatchesTheGlobRule: a search word matches the same cases it did when
// each word was a GLOB pattern over the name, reference and external id (the rule before
// migration 00016, kept below as globPattern), on Vietnamese names typed with and without
// marks, in either case, and on words with GLOB's metacharacters.
func TestSearchNeedleMatchesTheGlobRule(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []rune("aăâàằầảạấắẠĂÂeêềếễEÊỄiíìIoôơờớọộỢƠuưừứựƯyỳýYdđĐnNgGhHtTcC0123456789-*?[]' ")
	word := func(n int) string {
		r := make([]rune, n)
		for i := range r {
			r[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(r)
	}
	// A typed word: a piece of a field as it is, upper-cased, or stripped of its marks;
	// or a random word.
	typed := func(fields [3]string) string {
		f := []rune(fields[rng.IntN(3)])
		if len(f) == 0 || rng.IntN(4) == 0 {
			return word(1 + rng.IntN(4))
		}
		i := rng.IntN(len(f))
		w := string(f[i:min(len(f), i+1+rng.IntN(6))])
		switch rng.IntN(3) {
		case 0:
			w = strings.ToUpper(w)
		case 1:
			var b strings.Builder
			writeFolded(&b, w)
			w = b.String()
		}
		return w
	}
	checked := 0
	for range 3000 {
		fields := [3]string{word(rng.IntN(25)), word(rng.IntN(12)), word(rng.IntN(12))}
		for _, w := range strings.Fields(norm.NFC.String(typed(fields))) {
			p := "*" + globPattern(w) + "*"
			var want bool
			if err := d.Read.QueryRowContext(ctx, `SELECT ?1 GLOB ?4 OR ?2 GLOB ?4 OR ?3 GLOB ?4`,
				fields[0], fields[1], fields[2], p).Scan(&want); err != nil {
				t.Fatal(err)
			}
			var got bool
			if err := d.Read.QueryRowContext(ctx, `SELECT instr(kycdesk_search_text(?, ?, ?), ?) > 0`,
				fields[0], fields[1], fields[2], SearchNeedle(w)).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("word %q in %q: matches %v, the GLOB rule says %v (text %q, needle %q)",
					w, fields, got, want, SearchText(fields[0], fields[1], fields[2]), SearchNeedle(w))
			}
			checked++
		}
	}
	if checked < 2000 {
		t.Fatalf("only %d words checked", checked)
	}
	// Named cases.
	for _, tc := range []struct {
		word, name string
		want       bool
	}{
		{"Hương", "NGUYỄN THỊ THU HƯƠNG", true},
		{"hướng", "Trần Văn Hương", false}, // a typed tone mark is kept
		{"huong", "Trần Văn Hướng", true},  // none typed: every marked form
		{"duc", "Đặng Minh Đức", true},
		{"đức", "Dang Minh Duc", false},
		{"n\nd", "Minh\nDuc", false}, // never spans two lines (words hold no newline anyway)
	} {
		if got := strings.Contains(SearchText(tc.name, "", ""), SearchNeedle(tc.word)); got != tc.want {
			t.Errorf("%q in %q: %v, want %v", tc.word, tc.name, got, tc.want)
		}
	}
}

// globPattern is the rule searches used before migration 00016 (internal/cases), kept as
// the oracle above: a typed word (NFC) as a GLOB pattern that matches it ignoring case; a
// word typed with diacritics matches them exactly, one without matches every marked form.
func globPattern(word string) string {
	loose := !HasMarks(word)
	var b strings.Builder
	for _, r := range word {
		switch {
		case r == '*' || r == '?' || r == '[':
			b.WriteString("[" + string(r) + "]")
		case unicode.IsLetter(r):
			set := []rune{r, unicode.ToLower(r), unicode.ToUpper(r)}
			if loose {
				k := foldKey(r)
				for _, v := range latinLetters {
					if strings.HasPrefix(foldKey(v), k) {
						set = append(set, v)
					}
				}
			}
			b.WriteString("[" + string(dedupe(set)) + "]")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func foldKey(r rune) string {
	r = unicode.ToLower(r)
	if r == 'đ' {
		return "d\u0335"
	}
	return norm.NFD.String(string(r))
}

var latinLetters = func() []rune {
	var out []rune
	for _, rg := range [][2]rune{{'A', 'Z'}, {'a', 'z'}, {0xC0, 0x24F}, {0x1E00, 0x1EFF}} {
		for r := rg[0]; r <= rg[1]; r++ {
			if unicode.IsLetter(r) {
				out = append(out, r)
			}
		}
	}
	return out
}()

func dedupe(rs []rune) []rune {
	seen := map[rune]bool{}
	out := rs[:0:0]
	for _, r := range rs {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}
