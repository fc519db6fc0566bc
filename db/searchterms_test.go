package db

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
)

// sqlSearchTerms is the SQL that built case_search's terms before migration 00015: SearchTerms
// must give the same text, or searches would find old and new cases by different rules.
const sqlSearchTerms = `SELECT x.t || ' ' || coalesce((SELECT group_concat(substr(x.t, p.n,
        min(32, CASE instr(substr(x.t, p.n), ' ') WHEN 0 THEN 32 ELSE instr(substr(x.t, p.n), ' ') - 1 END)), ' ')
    FROM case_search_positions p
    WHERE p.n <= length(x.t) - 2 AND substr(x.t, p.n - 1, 1) <> ' ' AND instr(substr(x.t, p.n, 3), ' ') = 0), '')
FROM (SELECT ' ' || replace(replace(replace(? || ' ' || ? || ' ' || ?, 'đ', 'd'), 'Đ', 'D'), '-', ' ') AS t) x`

func TestSearchTermsMatchTheSQLTheyReplace(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	inputs := [][3]string{
		{"Nguyễn Thu Hương", "ref-1764777777-12", "cust-ref-1764777777-12"},
		{"Đặng Văn Đức", "A", ""},
		{"", "", ""},
		{"Lý", "ab", "x-y-z"},
		{"  two  spaces  ", "tab\there", "new\nline"},
		{strings.Repeat("Trần", 20), strings.Repeat("0123456789", 5), ""}, // words longer than 32
		{strings.Repeat("Phạm Minh ", 40), "late-words-past-position-256", "đđđđ"},
	}
	alphabet := []rune("aăưđĐễ- xX\t9")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 400 {
		var in [3]string
		for i := range in {
			r := make([]rune, rng.IntN(120))
			for j := range r {
				r[j] = alphabet[rng.IntN(len(alphabet))]
			}
			in[i] = string(r)
		}
		inputs = append(inputs, in)
	}
	for _, in := range inputs {
		var want string
		if err := d.Read.QueryRowContext(ctx, sqlSearchTerms, in[0], in[1], in[2]).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got := SearchTerms(in[0], in[1], in[2]); got != want {
			t.Fatalf("SearchTerms(%q, %q, %q)\n = %q\nwant %q", in[0], in[1], in[2], got, want)
		}
	}
	// Registered on every connection under the name the triggers call.
	var got string
	if err := d.Read.QueryRowContext(ctx, `SELECT kycdesk_search_terms('Lê Thị Hà', 'r-1', 'e-1')`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := SearchTerms("Lê Thị Hà", "r-1", "e-1"); got != want {
		t.Errorf("kycdesk_search_terms = %q, want %q", got, want)
	}
}

func BenchmarkSearchTerms(b *testing.B) {
	for b.Loop() {
		SearchTerms("Nguyễn Thu Hương", "burst-1764777777-12345", "cust-burst-1764777777-12345")
	}
}
