package cases

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/id"
	"github.com/kycdesk/kycdesk/internal/integration"
)

// The work queues of GET /queues (DESIGN.md). Each is a view of the cases table by status
// and assignee, not a column: a case moves between queues by its state transitions alone.
const (
	QueueUnassigned     = "unassigned"      // new, nobody has claimed it
	QueueMine           = "mine"            // assigned to the viewer and not decided
	QueueEscalated      = "escalated"       // waiting for a lead
	QueuePendingInfo    = "pending_info"    // waiting for the applicant / provider
	QueueSecondApproval = "second_approval" // awaiting_second_approval (four-eyes)
	QueueDecided        = "decided"         // approved or rejected, newest decision first
)

// Queues lists the queues in the order the page's tabs show them.
var Queues = []string{QueueUnassigned, QueueMine, QueueEscalated, QueuePendingInfo, QueueSecondApproval, QueueDecided}

// RiskLevels and Providers are the values the queue filters accept.
var (
	RiskLevels = []string{RiskLow, RiskMedium, RiskHigh}
	Providers  = []string{integration.FrankieOne, integration.FPTAI, integration.Generic}
)

// MaxSearchRunes bounds the q filter: a name, a reference or an external id is far shorter.
const MaxSearchRunes = 100

// maxSearchWords bounds how many words of q are matched separately.
const maxSearchWords = 6

// QueueParams are a queue request's parameters as given (query string values); empty means
// not given.
type QueueParams struct {
	Queue    string
	Risk     string
	Provider string
	Q        string // the search text, as typed
	After    string // the Next of a previous page
}

// QueueFilter is a validated queue request. Build it with ParseQueueFilter.
type QueueFilter struct {
	Queue    string
	Risk     string // "" for any
	Provider string // "" for any
	Search   string // trimmed, NFC; "" for any
	UserID   int64  // the viewer: the "mine" queue is theirs

	after  *queueCursor
	search []string // what case_text must hold, one per word of Search (db.SearchNeedle)
	words  []string // the words of Search, for the full-text index
	cand   *searchCandidates
}

// Paged reports whether the filter continues from a cursor (not the first page).
func (f QueueFilter) Paged() bool { return f.after != nil }

// QueueItem is one row of a queue, with what the list shows and nothing sealed.
type QueueItem struct {
	ID              string
	Reference       string
	FullName        string
	ExternalID      string
	Provider        string
	IntegrationName string
	Status          string
	Result          string
	RiskLevel       string
	RiskDerived     bool
	FourEyes        bool
	Round           int
	SLADue          time.Time
	AssigneeEmail   string // "" when unassigned
	AssigneeName    string
	Decision        string
	DecidedAt       time.Time // zero while undecided
	UpdatedAt       time.Time
}

// QueuePage is one page of a queue; Next is the cursor of the following page, "" at the end.
type QueuePage struct {
	Items []QueueItem
	Next  string
	// Partial: a search's walk over the queue stopped after maxSearchWalk cases with fewer
	// than a page of matches. Items are the matches among those cases and Next continues
	// the walk after them (pages of a search may be short; together they list the same
	// cases in the same order). The page should suggest refining the search.
	Partial bool
}

// ParseQueueFilter validates the parameters of a queue request. Every error is errs.Invalid
// and its message starts with the parameter's name, for the 400 page.
func (s *Store) ParseQueueFilter(p QueueParams, userID int64) (QueueFilter, error) {
	f := QueueFilter{Queue: p.Queue, Risk: p.Risk, Provider: p.Provider, UserID: userID}
	if f.Queue == "" {
		f.Queue = QueueUnassigned
	}
	if !slices.Contains(Queues, f.Queue) {
		return f, errs.E(errs.Invalid, "queue: must be one of %s.", strings.Join(Queues, ", "))
	}
	if f.Risk != "" && !slices.Contains(RiskLevels, f.Risk) {
		return f, errs.E(errs.Invalid, "risk: must be one of %s.", strings.Join(RiskLevels, ", "))
	}
	if f.Provider != "" && !slices.Contains(Providers, f.Provider) {
		return f, errs.E(errs.Invalid, "provider: must be one of %s.", strings.Join(Providers, ", "))
	}
	if !utf8.ValidString(p.Q) {
		return f, errs.E(errs.Invalid, "q: not valid text (UTF-8).")
	}
	f.Search = norm.NFC.String(strings.Join(strings.Fields(p.Q), " "))
	if utf8.RuneCountInString(f.Search) > MaxSearchRunes {
		return f, errs.E(errs.Invalid, "q: at most %d characters.", MaxSearchRunes)
	}
	words := strings.Fields(f.Search)
	if len(words) > maxSearchWords {
		return f, errs.E(errs.Invalid, "q: at most %d words.", maxSearchWords)
	}
	for _, w := range words {
		f.search = append(f.search, db.SearchNeedle(w))
	}
	f.words = words
	if len(words) > 0 {
		f.cand = &searchCandidates{}
	}
	if p.After != "" {
		c, err := s.openQueueCursor(p.After)
		switch {
		case err != nil:
			return f, errs.E(errs.Invalid, "after: not a page position this server issued (follow the page's Next link unchanged).")
		case c.queue != f.Queue:
			return f, errs.E(errs.Invalid, "after: this page position belongs to the %s queue, not %s.", c.queue, f.Queue)
		}
		f.after = &c
	}
	return f, nil
}

// notDecided is "not approved or rejected" as the partial index cases_open_assignee_due
// spells its WHERE clause: the planner uses a partial index only for the same words.
const notDecided = `c.status NOT IN ('approved', 'rejected')`

// queueWhere is each queue's condition. Each is written to match one index of
// 00003_queue_indexes.sql (and 00001's cases_status_due), so that a page is a range of that
// index read in order: no full scan, no sort. TestQueuePlans holds them to it.
var queueWhere = map[string]string{
	QueueUnassigned:     `c.status = 'new' AND c.assignee_id IS NULL`,
	QueueMine:           `c.assignee_id = ? AND ` + notDecided,
	QueueEscalated:      `c.status = 'escalated'`,
	QueuePendingInfo:    `c.status = 'pending_info'`,
	QueueSecondApproval: `c.status = 'awaiting_second_approval'`,
	QueueDecided:        `c.status IN ('approved', 'rejected')`,
}

// decidedKey orders the decided queue: the decision's time, or the last update for a
// decided case that has none recorded. The index cases_decided is on the same expression.
const decidedKey = `coalesce(c.decided_at, c.updated_at)`

// where builds the WHERE clause of f without the page position.
func (f QueueFilter) where() (string, []any) {
	conds := []string{queueWhere[f.Queue]}
	var args []any
	if f.Queue == QueueMine {
		args = append(args, f.UserID)
	}
	if (f.Risk != "" || f.Provider != "") && f.Queue != QueueMine && f.Queue != QueueDecided {
		// The open queues' filter indexes are partial on these words (00009).
		conds = append(conds, notDecided)
	}
	fc, fa := f.filterWhere()
	return strings.Join(append(conds, fc...), " AND "), append(args, fa...)
}

// filterWhere is the conditions of f's risk, provider and search filters.
func (f QueueFilter) filterWhere() ([]string, []any) {
	var conds []string
	var args []any
	if f.Risk != "" {
		conds, args = append(conds, `c.risk_level = ?`), append(args, f.Risk)
	}
	if f.Provider != "" {
		conds, args = append(conds, `c.provider = ?`), append(args, f.Provider)
	}
	return append(conds, f.searchConds()...), append(args, f.searchArgs()...)
}

// searchConds is the condition that t, the case's row of case_text (migration 00016),
// holds every word of f's search; searchArgs its arguments.
func (f QueueFilter) searchConds() []string {
	var conds []string
	for range f.search {
		conds = append(conds, `instr(t.t, ?) > 0`)
	}
	return conds
}

func (f QueueFilter) searchArgs() []any {
	var args []any
	for _, p := range f.search {
		args = append(args, p)
	}
	return args
}

// candidatesFrom reads a JSON array of case rowids, each case's search text and then,
// for those whose text holds every word, its row: a candidate that does not match costs
// no read of the cases table.
const candidatesFrom = candidateTextFrom + ` CROSS JOIN cases c ON c.rowid = j.value`

// candidateTextFrom reads a JSON array of case rowids and each case's search text.
const candidateTextFrom = ` FROM json_each(?) j CROSS JOIN case_text t ON t.rid = j.value`

const queueColumns = `c.id, c.reference, c.full_name, c.external_id, c.provider, i.name, c.status, c.result,
	c.risk_level, c.risk_derived, c.four_eyes, c.round, c.sla_due, u.email, u.name, c.decision, c.decided_at,
	c.updated_at`

const queueJoins = `
	JOIN integrations i ON i.id = c.integration_id
	LEFT JOIN users u ON u.id = c.assignee_id`

// decidedIndex is the index the decided queue reads under f's filters (00003, 00009).
func (f QueueFilter) decidedIndex() string {
	switch {
	case f.Risk != "" && f.Provider != "":
		return "cases_decided_risk_provider"
	case f.Risk != "":
		return "cases_decided_risk"
	case f.Provider != "":
		return "cases_decided_provider"
	}
	return "cases_decided"
}

// queueSQL is the page query of f, limit rows: a range of the queue's index in order,
// each row checked against the search words (when there are any).
func (f QueueFilter) queueSQL(limit int) (string, []any) {
	return f.selectSQL(queueColumns, ` FROM cases c`, f.textJoin()+queueJoins, nil, limit)
}

// textJoin joins each case's search text (case_text, 00016) after cases c when f has a
// search to check; it is empty otherwise.
func (f QueueFilter) textJoin() string {
	if len(f.search) == 0 {
		return ""
	}
	return ` CROSS JOIN case_text t ON t.rid = c.rowid`
}

// candidateSQL is the page query of f over the search's candidates only (a JSON array of
// case rowids from the full-text index): at most searchCandidateLimit rows looked up,
// checked and sorted, however large the queue.
func (f QueueFilter) candidateSQL(candidates string, limit int) (string, []any) {
	return f.pageSQL(candidatesFrom, []any{candidates}, limit)
}

func (f QueueFilter) pageSQL(from string, fromArgs []any, limit int) (string, []any) {
	return f.selectSQL(queueColumns, from, queueJoins, fromArgs, limit)
}

// selectSQL is pageSQL with its own select list and joins (after from and its index).
func (f QueueFilter) selectSQL(cols, from, joins string, fromArgs []any, limit int) (string, []any) {
	where, args := f.where()
	args = append(fromArgs, args...)
	order := ` ORDER BY c.sla_due, c.id`
	if f.after != nil && f.Queue != QueueDecided {
		where += ` AND (c.sla_due, c.id) > (?, ?)`
		args = append(args, f.after.key, f.after.id)
	}
	if f.Queue == QueueUnassigned && f.Risk == "" && f.Provider == "" && fromArgs == nil {
		// The planner would rather read 00001's cases_status_due and each case's row for
		// its assignee; this index holds the queue alone (00016), so a search's walk reads
		// no row.
		from += ` INDEXED BY cases_unassigned_due`
	}
	if f.Queue == QueueDecided {
		// Without statistics SQLite prefers an index on status for the IN list and sorts
		// the whole decided history for every page; the partial index is the right one.
		// The plain range before the row value is what lets it seek rather than scan.
		if fromArgs == nil {
			from += ` INDEXED BY ` + f.decidedIndex()
		}
		order = ` ORDER BY ` + decidedKey + ` DESC, c.id DESC`
		if f.after != nil {
			where += ` AND ` + decidedKey + ` <= ? AND (` + decidedKey + `, c.id) < (?, ?)`
			args = append(args, f.after.key, f.after.key, f.after.id)
		}
	}
	return `SELECT ` + cols + from + joins + ` WHERE ` + where + order + ` LIMIT ?`, append(args, limit)
}

// ListQueue returns one page of f's queue: open queues by SLA due time (soonest first, the
// overdue on top), the decided queue by decision time, newest first. Paging with Next
// neither repeats nor skips a case that stays where it was; a case that changes queue or
// SLA while someone pages shows up where it now belongs. The page comes from the in-memory
// index when s has one and it is built (memListQueue), from SQLite otherwise.
func (s *Store) ListQueue(ctx context.Context, f QueueFilter, limit int) (QueuePage, error) {
	if limit < 1 {
		limit = 50
	}
	if s.memUsable(ctx, f) {
		return s.memListQueue(ctx, f, limit)
	}
	release, err := s.searchGate(ctx, f)
	if err != nil {
		return QueuePage{}, err
	}
	defer release()
	cand, err := s.candidates(ctx, f)
	if err != nil {
		return QueuePage{}, err
	}
	if len(f.search) > 0 && !cand.few {
		return s.walkQueue(ctx, f, limit)
	}
	q, args := f.queueSQL(limit + 1) // one more tells whether a next page exists
	if cand.few {
		q, args = f.candidateSQL(cand.json, limit+1)
	}
	items, err := queryQueueItems(ctx, s.DB.Read, f, q, args)
	if err != nil {
		return QueuePage{}, err
	}
	page := QueuePage{Items: items}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = s.sealQueueCursor(f.cursorAt(page.Items[limit-1]))
	}
	return page, nil
}

// queryQueueItems runs a page query of f (queueColumns) on db or a transaction.
func queryQueueItems(ctx context.Context, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, f QueueFilter, q string, args []any) ([]QueueItem, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("queue %s: %w", f.Queue, err)
	}
	defer rows.Close()
	var items []QueueItem
	for rows.Next() {
		it, err := scanQueueItem(rows)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, rows.Err()
}

// scanQueueItem reads one row of queueColumns (after dest, columns before them).
func scanQueueItem(rows *sql.Rows, dest ...any) (QueueItem, error) {
	var it QueueItem
	var email, name, decision sql.NullString
	var decidedAt sql.NullInt64
	var due, updated int64
	if err := rows.Scan(append(dest, &it.ID, &it.Reference, &it.FullName, &it.ExternalID, &it.Provider,
		&it.IntegrationName, &it.Status, &it.Result, &it.RiskLevel, &it.RiskDerived, &it.FourEyes, &it.Round, &due,
		&email, &name, &decision, &decidedAt, &updated)...); err != nil {
		return QueueItem{}, err
	}
	it.SLADue, it.UpdatedAt = db.Time(due), db.Time(updated)
	it.AssigneeEmail, it.AssigneeName, it.Decision = email.String, name.String, decision.String
	if decidedAt.Valid {
		it.DecidedAt = db.Time(decidedAt.Int64)
	}
	return it, nil
}

// cursorAt is the position of it in f's queue order.
func (f QueueFilter) cursorAt(it QueueItem) queueCursor {
	c := queueCursor{queue: f.Queue, key: db.Millis(it.SLADue), id: it.ID}
	if f.Queue == QueueDecided {
		c.key = db.Millis(it.UpdatedAt)
		if !it.DecidedAt.IsZero() {
			c.key = db.Millis(it.DecidedAt)
		}
	}
	return c
}

// tallySQL answers every queue's count under f's risk and provider filters from
// queue_tallies (kept by the triggers of 00009): a few rows of its primary key per queue,
// the same cost at a hundred cases or ten million.
func (f QueueFilter) tallySQL() (string, []any) {
	filter, fargs := "", []any{}
	if f.Risk != "" {
		filter, fargs = filter+` AND risk_level = ?`, append(fargs, f.Risk)
	}
	if f.Provider != "" {
		filter, fargs = filter+` AND provider = ?`, append(fargs, f.Provider)
	}
	q := `SELECT queue, sum(n) FROM queue_tallies WHERE queue IN ('unassigned', 'escalated', 'pending_info',
		'second_approval', 'decided') AND assignee_id = 0` + filter + ` GROUP BY queue
		UNION ALL SELECT 'mine', coalesce(sum(n), 0) FROM queue_tallies WHERE queue = 'mine' AND assignee_id = ?` + filter
	args := append(slices.Clone(fargs), f.UserID)
	return q, append(args, fargs...)
}

// candidateCountSQL counts, for each queue, the search's candidates (a JSON array of case
// rowids) that match f's filters and every search word exactly. The columns are in the
// order of Queues.
func (f QueueFilter) candidateCountSQL(candidates string) (string, []any) {
	conds, args := f.filterWhere()
	var sums []string
	var sumArgs []any
	for _, q := range Queues {
		cond := queueWhere[q]
		if q == QueueMine {
			sumArgs = append(sumArgs, f.UserID)
		}
		sums = append(sums, `coalesce(sum(`+cond+`), 0)`)
	}
	q := `SELECT ` + strings.Join(sums, ", ") + candidatesFrom + ` WHERE ` +
		strings.Join(append(conds, "1"), " AND ")
	return q, append(append(sumArgs, candidates), args...)
}

// QueueCounts returns how many cases each queue holds under f's risk, provider and search
// filters (the tabs' numbers), keyed by queue name. Without a search they come from the
// tallies. With one they come from the in-memory index (s.Search; memQueueCounts), or,
// while it is built, from SQLite: exact when the search has at most SearchCountLimit
// possible matches there (memCountLimit in memory, unless its words' exact sets are
// remembered), and not counted (nil, nil) when it has more: counting those would cost a
// check of every possible match on every request.
func (s *Store) QueueCounts(ctx context.Context, f QueueFilter) (map[string]int, error) {
	if f.cand != nil && s.memUsable(ctx, f) {
		return s.memQueueCounts(f), nil
	}
	out := make(map[string]int, len(Queues))
	if len(f.search) > 0 {
		release, err := s.searchGate(ctx, f)
		if err != nil {
			return nil, err
		}
		defer release()
		cand, err := s.candidates(ctx, f)
		if err != nil || !cand.few {
			return nil, err
		}
		q, args := f.candidateCountSQL(cand.json)
		n := make([]int, len(Queues))
		dest := make([]any, len(Queues))
		for i := range n {
			dest[i] = &n[i]
		}
		if err := s.DB.Read.QueryRowContext(ctx, q, args...).Scan(dest...); err != nil {
			return nil, fmt.Errorf("queue counts: %w", err)
		}
		for i, name := range Queues {
			out[name] = n[i]
		}
		return out, nil
	}
	q, args := f.tallySQL()
	rows, err := s.DB.Read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("queue counts: %w", err)
	}
	defer rows.Close()
	for _, name := range Queues {
		out[name] = 0
	}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		out[name] = n
	}
	return out, rows.Err()
}

// A queue cursor is the last row's position in its queue's order (sort key, id), sealed
// with the master key so that clients can neither read nor forge it. It names its queue:
// a position in one order means nothing in another.
type queueCursor struct {
	queue string
	key   int64 // sla_due, or the decision time (unix ms)
	id    string
}

var queueCursorAD = []byte("kycdesk queue cursor")

const queueCursorVersion = 1

func (s *Store) sealQueueCursor(c queueCursor) string {
	b := []byte{queueCursorVersion, byte(slices.Index(Queues, c.queue))}
	b = binary.BigEndian.AppendUint64(b, uint64(c.key))
	b = append(b, c.id...)
	return base64.RawURLEncoding.EncodeToString(s.Sealer.Seal(b, queueCursorAD))
}

func (s *Store) openQueueCursor(v string) (queueCursor, error) {
	bad := fmt.Errorf("cases: bad queue cursor")
	if len(v) > 256 {
		return queueCursor{}, bad
	}
	ct, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return queueCursor{}, bad
	}
	b, err := s.Sealer.Open(ct, queueCursorAD)
	if err != nil || len(b) < 10 || b[0] != queueCursorVersion || int(b[1]) >= len(Queues) {
		return queueCursor{}, bad
	}
	c := queueCursor{queue: Queues[b[1]], key: int64(binary.BigEndian.Uint64(b[2:10])), id: string(b[10:])}
	if !id.Valid(c.id) {
		return queueCursor{}, bad
	}
	return c, nil
}
