// Package dashboard reads the figures of the leads' and auditors' home page (GET /dashboard)
// from the rollups of migration 00011, which triggers keep current: no request scans cases.
package dashboard

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/errs"
)

// Day is one UTC day; the rollups store it as whole days since 1970-01-01.
const Day = 24 * time.Hour

// DefaultDays is the range the page shows when none is given: the last 30 days, today included.
const DefaultDays = 30

// MaxDays bounds a range, so one request reads at most a year of daily rows.
const MaxDays = 366

const dateLayout = "2006-01-02"

// Range is an inclusive range of UTC days.
type Range struct {
	From, To time.Time // midnights, UTC
}

// ParseRange reads the from and to of a request (YYYY-MM-DD, either may be empty). An empty
// to is today; an empty from is DefaultDays before to. Errors are errs.Invalid with a message
// for the person at the form.
func ParseRange(from, to string, now time.Time) (Range, error) {
	var r Range
	today := now.UTC().Truncate(Day)
	r.To = today
	if to != "" {
		t, err := time.Parse(dateLayout, to)
		if err != nil {
			return r, errs.E(errs.Invalid, "to: %q is not a date: use YYYY-MM-DD, for example %s.", clip(to), today.Format(dateLayout))
		}
		r.To = t
	}
	r.From = r.To.AddDate(0, 0, -(DefaultDays - 1))
	if from != "" {
		f, err := time.Parse(dateLayout, from)
		if err != nil {
			return r, errs.E(errs.Invalid, "from: %q is not a date: use YYYY-MM-DD, for example %s.", clip(from), today.AddDate(0, 0, -(DefaultDays-1)).Format(dateLayout))
		}
		r.From = f
	}
	switch {
	case r.From.After(r.To):
		return r, errs.E(errs.Invalid, "from (%s) is after to (%s): the range must start on or before its end.", r.From.Format(dateLayout), r.To.Format(dateLayout))
	case r.Days() > MaxDays:
		return r, errs.E(errs.Invalid, "The range covers %d days: at most %d can be shown at once.", r.Days(), MaxDays)
	}
	return r, nil
}

// clip keeps an echoed bad value short.
func clip(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

// Days is how many days the range covers.
func (r Range) Days() int { return int(r.To.Sub(r.From)/Day) + 1 }

// FromString and ToString are the range as the form shows it.
func (r Range) FromString() string { return r.From.Format(dateLayout) }
func (r Range) ToString() string   { return r.To.Format(dateLayout) }

// first and last are the range as rollup day numbers.
func (r Range) first() int64 { return dayNumber(r.From) }
func (r Range) last() int64  { return dayNumber(r.To) }

func dayNumber(t time.Time) int64 { return db.Millis(t) / int64(Day/time.Millisecond) }

// Queues of the backlog, in the order the page shows them (see migration 00011).
var Queues = []string{"unassigned", "assigned", "escalated", "pending_info", "second_approval"}

// Outcomes are the statuses a decision can lead to, in the order the page shows them.
var Outcomes = []string{"approved", "rejected", "pending_info", "escalated", "awaiting_second_approval", "in_review"}

// OverdueGroups are the open cases whose SLA clock runs, grouped as the backlog's queues
// allow (new and in_review together fill the unassigned and assigned queues).
// pending_info is left out because its clock is paused.
var OverdueGroups = []OverdueGroup{
	{Key: "review", Statuses: [2]string{"new", "in_review"}, Queues: []string{"unassigned", "assigned"}},
	{Key: "escalated", Statuses: [2]string{"escalated", "escalated"}, Queues: []string{"escalated"}},
	{Key: "second_approval", Statuses: [2]string{"awaiting_second_approval", "awaiting_second_approval"}, Queues: []string{"second_approval"}},
}

// OverdueGroup is a set of statuses (one repeated when alone) and the backlog queues that
// hold exactly the open cases of those statuses.
type OverdueGroup struct {
	Key      string
	Statuses [2]string
	Queues   []string
}

// overdueCap bounds how many index entries one count of overdue cases walks before it
// counts the other side of now instead (see overdue).
var overdueCap = 5000

// The queries the page runs; each reads a primary-key range of a rollup, or (overdue) an
// index range (plan_test.go checks every one).
const (
	QReceived = `SELECT day, provider, n FROM dash_received WHERE day BETWEEN ? AND ? ORDER BY day, provider`
	QOutcomes = `SELECT day, outcome, n FROM dash_outcomes WHERE day BETWEEN ? AND ? ORDER BY day, outcome`
	QActors   = `SELECT day, actor, n FROM dash_actors WHERE day BETWEEN ? AND ? ORDER BY day, actor`
	QFinals   = `SELECT day, decided, breached FROM dash_finals WHERE day BETWEEN ? AND ? ORDER BY day`
	// A median takes two reads: the coarse histogram of the range (at most 54 rows a day),
	// which tells which coarse bucket holds each median, then the fine buckets within just
	// those coarse buckets, one key range per (day, first, last) target given as JSON.
	QCoarse = `SELECT day, cbucket, n FROM dash_durations_coarse WHERE day BETWEEN ? AND ? ORDER BY day, cbucket`
	QFineIn = `SELECT f.day, f.bucket, f.n FROM json_each(?) AS t JOIN dash_durations AS f
		ON f.day = json_extract(t.value, '$[0]') AND f.bucket BETWEEN json_extract(t.value, '$[1]') AND json_extract(t.value, '$[2]')`
	QBacklog = `SELECT queue, n FROM dash_backlog`
	// Open cases past due now depend on the clock, so they are counted on the
	// cases_status_due index, bounded by now: the side before now, or (when that side is
	// long) the side after now, taken from the group's backlog tally.
	QOverdueCapped = `SELECT count(*) FROM (SELECT 1 FROM cases WHERE status IN (?1, ?2) AND sla_due < ?3 LIMIT ?4)`
	QNotDueCapped  = `SELECT count(*) FROM (SELECT 1 FROM cases WHERE status IN (?1, ?2) AND sla_due >= ?3 LIMIT ?4)`
	QOverdue       = `SELECT count(*) FROM cases WHERE status IN (?1, ?2) AND sla_due < ?3`
)

// Figures is everything the page shows for a range.
type Figures struct {
	Range Range
	Now   time.Time
	Dates []time.Time // one per day of the range

	Providers []string  // providers with cases in the range, sorted
	Received  [][]int64 // [day][provider]

	Outcomes [][]int64 // [day][outcome], outcomes in the order of Outcomes

	Decided  []int64 // final decisions (approved or rejected) per day
	Breached []int64 // of those, decided after the case's SLA due time

	Medians     []Median // median time to a final decision, per day
	RangeMedian Median   // over the whole range

	Actors []ActorCount // decisions per person over the range, most first

	Backlog        []int64          // open cases now, per queue in the order of Queues
	Overdue        int64            // open cases (clock running) past their due time now
	OverdueBy      map[string]int64 // per OverdueGroup key
	ActorsByDay    map[string][]int64
	TotalReceived  int64
	TotalDecisions int64 // every case_decisions row in the range
}

// ActorCount is how many decision steps (case_decisions rows) one person took in the range.
type ActorCount struct {
	Actor string
	N     int64
}

// Empty reports whether nothing happened in the range (the page's empty state).
func (f *Figures) Empty() bool { return f.TotalReceived == 0 && f.TotalDecisions == 0 }

// Load reads the figures of r from the rollups on q (the read pool).
func Load(ctx context.Context, pool *sql.DB, r Range, now time.Time) (*Figures, error) {
	// One read transaction: every figure comes from the same snapshot, so the backlog tally
	// and the overdue counts taken beside it agree.
	q, err := pool.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	defer q.Rollback()
	n := r.Days()
	f := &Figures{Range: r, Now: now, Dates: make([]time.Time, n), OverdueBy: map[string]int64{}, ActorsByDay: map[string][]int64{}}
	for i := range f.Dates {
		f.Dates[i] = r.From.AddDate(0, 0, i)
	}
	first, last := r.first(), r.last()
	idx := func(day int64) int { return int(day - first) }

	// Received, by provider: providers are known only once read.
	recv := map[string][]int64{}
	err = each(ctx, q, QReceived, []any{first, last}, func(rows *sql.Rows) error {
		var day, cnt int64
		var p string
		if err := rows.Scan(&day, &p, &cnt); err != nil {
			return err
		}
		if recv[p] == nil {
			recv[p] = make([]int64, n)
		}
		recv[p][idx(day)] += cnt
		f.TotalReceived += cnt
		return nil
	})
	if err != nil {
		return nil, err
	}
	for p := range recv {
		f.Providers = append(f.Providers, p)
	}
	sort.Strings(f.Providers)
	f.Received = make([][]int64, n)
	for i := range f.Received {
		f.Received[i] = make([]int64, len(f.Providers))
		for j, p := range f.Providers {
			f.Received[i][j] = recv[p][i]
		}
	}

	f.Outcomes = matrix(n, len(Outcomes))
	err = each(ctx, q, QOutcomes, []any{first, last}, func(rows *sql.Rows) error {
		var day, cnt int64
		var o string
		if err := rows.Scan(&day, &o, &cnt); err != nil {
			return err
		}
		if k := slices.Index(Outcomes, o); k >= 0 {
			f.Outcomes[idx(day)][k] += cnt
		}
		f.TotalDecisions += cnt
		return nil
	})
	if err != nil {
		return nil, err
	}

	f.Decided, f.Breached = make([]int64, n), make([]int64, n)
	err = each(ctx, q, QFinals, []any{first, last}, func(rows *sql.Rows) error {
		var day, dec, br int64
		if err := rows.Scan(&day, &dec, &br); err != nil {
			return err
		}
		f.Decided[idx(day)], f.Breached[idx(day)] = dec, br
		return nil
	})
	if err != nil {
		return nil, err
	}

	if err := f.loadMedians(ctx, q, first, last); err != nil {
		return nil, err
	}

	totals := map[string]int64{}
	err = each(ctx, q, QActors, []any{first, last}, func(rows *sql.Rows) error {
		var day, cnt int64
		var a string
		if err := rows.Scan(&day, &a, &cnt); err != nil {
			return err
		}
		totals[a] += cnt
		if f.ActorsByDay[a] == nil {
			f.ActorsByDay[a] = make([]int64, n)
		}
		f.ActorsByDay[a][idx(day)] += cnt
		return nil
	})
	if err != nil {
		return nil, err
	}
	for a, c := range totals {
		f.Actors = append(f.Actors, ActorCount{Actor: a, N: c})
	}
	sort.Slice(f.Actors, func(i, j int) bool {
		if f.Actors[i].N != f.Actors[j].N {
			return f.Actors[i].N > f.Actors[j].N
		}
		return f.Actors[i].Actor < f.Actors[j].Actor
	})

	f.Backlog = make([]int64, len(Queues))
	err = each(ctx, q, QBacklog, nil, func(rows *sql.Rows) error {
		var queue string
		var cnt int64
		if err := rows.Scan(&queue, &cnt); err != nil {
			return err
		}
		if k := slices.Index(Queues, queue); k >= 0 {
			f.Backlog[k] = cnt
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	for _, g := range OverdueGroups {
		var open int64
		for _, queue := range g.Queues {
			open += f.Backlog[slices.Index(Queues, queue)]
		}
		n, err := overdue(ctx, q, g, now, open)
		if err != nil {
			return nil, err
		}
		f.OverdueBy[g.Key] = n
		f.Overdue += n
	}
	return f, nil
}

func matrix(rows, cols int) [][]int64 {
	m := make([][]int64, rows)
	for i := range m {
		m[i] = make([]int64, cols)
	}
	return m
}

// each runs query and calls fn for every row.
func each(ctx context.Context, q querier, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("dashboard: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	return nil
}

// Counts are row counts a report of the same range holds, read from the rollups (constant time
// in the number of cases): for the /reports page.
type Counts struct {
	Cases     int64 // cases created in the range (cases.created_at)
	Decisions int64 // case_decisions rows in the range (case_decisions.at)
	Finals    int64 // of those, final decisions (status_to approved or rejected)
	Actors    int64 // distinct people (or system actors) who took those steps
}

// QCounts reads Counts from four rollups' key ranges (days × providers, outcomes or actors:
// small, whatever the number of cases).
const QCounts = `SELECT
		(SELECT coalesce(sum(n), 0) FROM dash_received WHERE day BETWEEN ?1 AND ?2),
		(SELECT coalesce(sum(n), 0) FROM dash_outcomes WHERE day BETWEEN ?1 AND ?2),
		(SELECT coalesce(sum(decided), 0) FROM dash_finals WHERE day BETWEEN ?1 AND ?2),
		(SELECT count(DISTINCT actor) FROM dash_actors WHERE day BETWEEN ?1 AND ?2)`

// CountRange reads Counts for r.
func CountRange(ctx context.Context, q *sql.DB, r Range) (Counts, error) {
	var c Counts
	err := q.QueryRowContext(ctx, QCounts, r.first(), r.last()).Scan(&c.Cases, &c.Decisions, &c.Finals, &c.Actors)
	if err != nil {
		return c, fmt.Errorf("dashboard counts: %w", err)
	}
	return c, nil
}

// Rebuild recomputes every rollup from the base tables, with the statements migrations 00011
// and 00014 ran to fill them. It scans cases and case_decisions: a repair (or a bulk load's last step),
// never a page's work.
func Rebuild(ctx context.Context, d *db.DB) error {
	stmts, err := db.MigrationSection("00011_dashboard_rollups.sql", "rebuild")
	if err != nil {
		return err
	}
	// 00014 recomputes the final decisions' tallies with the SLA values each step kept.
	finals, err := db.MigrationSection("00014_decision_sla.sql", "rebuild")
	if err != nil {
		return err
	}
	stmts += finals
	return d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, stmts); err != nil {
			return fmt.Errorf("dashboard rebuild: %w", err)
		}
		return nil
	})
}

// loadMedians fills Medians and RangeMedian from the coarse and then the fine histograms.
func (f *Figures) loadMedians(ctx context.Context, q querier, first, last int64) error {
	n := len(f.Dates)
	coarse := make([][coarseBuckets]int64, n)
	var all [coarseBuckets]int64
	err := each(ctx, q, QCoarse, []any{first, last}, func(rows *sql.Rows) error {
		var day, cb, cnt int64
		if err := rows.Scan(&day, &cb, &cnt); err != nil {
			return err
		}
		coarse[day-first][cb] += cnt
		all[cb] += cnt
		return nil
	})
	if err != nil {
		return err
	}

	// Per day: the coarse bucket of each day's median, then that bucket's fine counts.
	f.Medians = make([]Median, n)
	type pick struct {
		total, rank int64
		fine        []int64 // counts of the coarse bucket's fine buckets, in order
		first       int
	}
	picks := make([]*pick, n)
	var targets [][3]int64
	for i := range coarse {
		total, cb, rank, ok := coarseMedian(&coarse[i])
		if !ok {
			continue
		}
		lo, hi := FineRange(cb)
		picks[i] = &pick{total: total, rank: rank, fine: make([]int64, hi-lo+1), first: lo}
		targets = append(targets, [3]int64{first + int64(i), int64(lo), int64(hi)})
	}
	if err := fineCounts(ctx, q, targets, func(day int64, bucket int, cnt int64) {
		p := picks[day-first]
		p.fine[bucket-p.first] += cnt
	}); err != nil {
		return err
	}
	for i, p := range picks {
		if p != nil {
			f.Medians[i] = medianAt(p.total, p.first+rankBucket(p.fine, p.rank))
		}
	}

	// The range: the same over the sum of the days' histograms.
	total, cb, rank, ok := coarseMedian(&all)
	if !ok {
		return nil
	}
	lo, hi := FineRange(cb)
	targets = targets[:0]
	for i := range coarse {
		if coarse[i][cb] > 0 {
			targets = append(targets, [3]int64{first + int64(i), int64(lo), int64(hi)})
		}
	}
	fine := make([]int64, hi-lo+1)
	if err := fineCounts(ctx, q, targets, func(_ int64, bucket int, cnt int64) { fine[bucket-lo] += cnt }); err != nil {
		return err
	}
	f.RangeMedian = medianAt(total, lo+rankBucket(fine, rank))
	return nil
}

// fineCounts reads the fine buckets of each (day, first, last) target.
func fineCounts(ctx context.Context, q querier, targets [][3]int64, fn func(day int64, bucket int, n int64)) error {
	if len(targets) == 0 {
		return nil
	}
	arg, _ := json.Marshal(targets)
	return each(ctx, q, QFineIn, []any{string(arg)}, func(rows *sql.Rows) error {
		var day, bucket, cnt int64
		if err := rows.Scan(&day, &bucket, &cnt); err != nil {
			return err
		}
		fn(day, int(bucket), cnt)
		return nil
	})
}

// rankBucket is the index of the bucket holding the rank-th (0-based) count.
func rankBucket(counts []int64, rank int64) int {
	var seen int64
	for i, c := range counts {
		seen += c
		if seen > rank {
			return i
		}
	}
	return len(counts) - 1 // the rollups disagree with themselves: show the last rather than fail
}

// querier is a read pool or a read transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// overdue counts the open cases of group g due before now. It walks at most overdueCap index
// entries on the near side of now; past that it counts the side after now (also capped) and
// subtracts it from open, the group's backlog tally. Only when both sides are long does it
// count the whole range before now, so the cost follows the shorter side, not the backlog.
func overdue(ctx context.Context, q querier, g OverdueGroup, now time.Time, open int64) (int64, error) {
	at := db.Millis(now)
	var n int64
	if err := q.QueryRowContext(ctx, QOverdueCapped, g.Statuses[0], g.Statuses[1], at, overdueCap).Scan(&n); err != nil {
		return 0, fmt.Errorf("dashboard overdue: %w", err)
	}
	if n < int64(overdueCap) {
		return n, nil
	}
	var notDue int64
	if err := q.QueryRowContext(ctx, QNotDueCapped, g.Statuses[0], g.Statuses[1], at, overdueCap).Scan(&notDue); err != nil {
		return 0, fmt.Errorf("dashboard overdue: %w", err)
	}
	if notDue < int64(overdueCap) {
		return open - notDue, nil
	}
	if err := q.QueryRowContext(ctx, QOverdue, g.Statuses[0], g.Statuses[1], at).Scan(&n); err != nil {
		return 0, fmt.Errorf("dashboard overdue: %w", err)
	}
	return n, nil
}
