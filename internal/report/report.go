// Package report writes the CSV reports leads and auditors take away (cases, decisions,
// audit, sla): streamed row by row from the read pool, in constant memory.
package report

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/dashboard"
	"github.com/kycdesk/kycdesk/internal/errs"
)

// Names are the reports, in the order the page lists them.
var Names = []string{"cases", "decisions", "audit", "sla"}

// Valid reports whether name is a report.
func Valid(name string) bool {
	for _, n := range Names {
		if n == name {
			return true
		}
	}
	return false
}

// DateLayout is the form of the from and to parameters.
const DateLayout = "2006-01-02"

// DefaultDays is the range shown when none is asked for: the last 30 days, today included.
const DefaultDays = 30

// Range is a run of whole UTC days: From is the first day's midnight, To the midnight
// after the last day (exclusive).
type Range struct {
	From, To time.Time
}

// FirstDay and LastDay are the range's days as YYYY-MM-DD, as the form shows them.
func (r Range) FirstDay() string { return r.From.Format(DateLayout) }
func (r Range) LastDay() string  { return r.To.AddDate(0, 0, -1).Format(DateLayout) }

// ParseRange reads from and to (YYYY-MM-DD, inclusive UTC days). An empty value takes its
// default: to is today, from is DefaultDays-1 days before to.
func ParseRange(from, to string, now time.Time) (Range, error) {
	day := func(name, s string) (time.Time, error) {
		t, err := time.Parse(DateLayout, s)
		if err != nil {
			return t, errs.E(errs.Invalid, "The %s date must be a date as YYYY-MM-DD, e.g. %s.", name, now.UTC().Format(DateLayout))
		}
		return t, nil
	}
	last := now.UTC().Truncate(24 * time.Hour)
	var err error
	if to = strings.TrimSpace(to); to != "" {
		if last, err = day("to", to); err != nil {
			return Range{}, err
		}
	}
	first := last.AddDate(0, 0, -(DefaultDays - 1))
	if from = strings.TrimSpace(from); from != "" {
		if first, err = day("from", from); err != nil {
			return Range{}, err
		}
	}
	if first.After(last) {
		return Range{}, errs.E(errs.Invalid, "The from date (%s) is after the to date (%s): choose a from date on or before the to date.",
			first.Format(DateLayout), last.Format(DateLayout))
	}
	return Range{From: first, To: last.AddDate(0, 0, 1)}, nil
}

// Sink is where a report goes: Flush pushes what was written on to the reader (an HTTP
// response streams as the rows are read).
type Sink interface {
	io.Writer
	Flush() error
}

// flushEvery is how many rows go out between flushes.
const flushEvery = 2000

// Reporter writes reports from the read pool: an export never takes the writer.
type Reporter struct {
	Read *sql.DB
	Now  func() time.Time
	// Workers read and format the cases report's chunks side by side; 0 means one per
	// CPU (at most four), niced.
	Workers int
	// Nice is the niceness of the cases report's workers (Linux: their threads alone);
	// 0 means the SCHED_IDLE policy (lowprio.Idle), below 0 the server's own priority.
	Nice int
	// Busy reports whether webhook deliveries are arriving fast (ingest.Inbox.Busy); nil:
	// never. While it is true the cases report's workers rest after each chunk, restRatio
	// times as long as the chunk took: an export can wait where a provider's delivery should
	// not, and even at idle priority it shares the cores' caches and the Go runtime with the
	// handlers (beside an export, acknowledgements ran at 0.77–1.21 of their rate alone, too
	// noisy on the development machine to show a cost or the rest's effect: BENCHMARKS.md,
	// "Export over HTTP beside acknowledgements").
	Busy func() bool
}

// restRatio is how much longer than its work a cases report's worker rests while Busy: about
// a fifth of its speed (over HTTP beside 5,000 deliveries/s, 32,000–41,000 rows/s instead of
// 89,000–143,000).
const restRatio = 4

// Write streams report name for r into w and returns the number of data rows written.
func (rp *Reporter) Write(ctx context.Context, name string, r Range, w Sink) (int64, error) {
	out := newTable(w)
	var err error
	switch name {
	case "cases":
		err = rp.cases(ctx, r, out)
	case "decisions":
		err = rp.decisions(ctx, r, out)
	case "audit":
		err = rp.audit(ctx, r, out)
	case "sla":
		err = rp.sla(ctx, r, out)
	default:
		return 0, errs.E(errs.NotFound, "There is no report %q.", name)
	}
	if err == nil {
		err = out.flush()
	}
	return out.rows, err
}

// table writes a CSV: a UTF-8 byte order mark (so that Excel reads Vietnamese names as
// UTF-8), a header row, then records with RFC 4180 quoting (encoding/csv).
type table struct {
	sink  Sink
	csv   *csv.Writer
	rows  int64
	began bool
}

func newTable(w Sink) *table { return &table{sink: w, csv: csv.NewWriter(w)} }

func (t *table) header(cols ...string) error {
	if _, err := io.WriteString(t.sink, "\ufeff"); err != nil {
		return err
	}
	t.began = true
	return t.csv.Write(cols)
}

// row writes one record, each cell neutralized, and flushes every flushEvery rows.
func (t *table) row(cells []string) error {
	for i, c := range cells {
		cells[i] = Neutralize(c)
	}
	if err := t.csv.Write(cells); err != nil {
		return err
	}
	t.rows++
	if t.rows%flushEvery == 0 {
		return t.flush()
	}
	return nil
}

func (t *table) flush() error {
	t.csv.Flush()
	if err := t.csv.Error(); err != nil {
		return err
	}
	return t.sink.Flush()
}

// Neutralize defuses a cell a spreadsheet would run as a formula (one beginning with =, +,
// -, @, tab or carriage return) by putting a ' before it. A cell that already begins with '
// gets one too, so the rule can be undone without doubt: drop one leading ' from any cell
// that has one (which is how an audit export's rows are checked against their hashes).
func Neutralize(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '\'':
		return "'" + s
	}
	return s
}

// Time formats unix milliseconds as ISO 8601 in UTC with its zone; NULL is empty.
func Time(ms sql.NullInt64) string {
	if !ms.Valid {
		return ""
	}
	return time.UnixMilli(ms.Int64).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func millis(t time.Time) int64 { return db.Millis(t) }

// names loads a small lookup table (integrations, users) once per report, instead of a
// join per row.
func names(ctx context.Context, q *sql.DB, query string) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// Counts says how many data rows each report would hold for r. Cases, decisions and the
// sla report's rows come from the dashboard's daily rollups (internal/dashboard.CountRange:
// cases per day of created_at, case_decisions rows and their actors per day of at, the very
// rows the reports hold; agreement_test.go checks they agree), the audit rows from the seq
// bounds of the range: no count walks a range that grows with the data.
func (rp *Reporter) Counts(ctx context.Context, r Range) (map[string]int64, error) {
	c, err := dashboard.CountRange(ctx, rp.Read, dashboard.Range{From: r.From, To: r.To.AddDate(0, 0, -1)})
	if err != nil {
		return nil, err
	}
	lo, hi, err := audit.SeqRange(ctx, rp.Read, r.From, r.To)
	if err != nil {
		return nil, err
	}
	return map[string]int64{"cases": c.Cases, "decisions": c.Decisions, "audit": hi - lo, "sla": c.Cases + c.Actors}, nil
}

// RecordExport writes the audit entry of an export: who took which report, for which
// days, and how many rows went out. It is written after the stream ends, since the row
// count is known only then; complete is false when the stream broke off (the client went
// away, or a read failed), and rows is what had been written by then.
func RecordExport(ctx context.Context, d *db.DB, actor, name string, r Range, rows int64, complete bool, at time.Time) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		_, err := audit.Append(ctx, tx, audit.Entry{At: at, Actor: actor, Action: "report.exported", Subject: "report:" + name,
			Details: map[string]any{"report": name, "from": r.FirstDay(), "to": r.LastDay(), "rows": rows, "complete": complete}})
		return err
	})
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func seconds(ms int64) string { return fmt.Sprintf("%d", ms/1000) }
