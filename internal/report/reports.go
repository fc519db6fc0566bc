package report

import (
	"bytes"
	"context"
	"database/sql"
	"slices"
	"strconv"

	"github.com/kycdesk/kycdesk/internal/audit"
)

// slaCase is what the SLA columns need of a case.
type slaCase struct {
	status         string
	due, decidedAt sql.NullInt64
	pausedMS       int64
	pausedAt       sql.NullInt64
}

// decided is when the case was decided, if it is decided now.
func (c slaCase) decided() (int64, bool) {
	if (c.status == "approved" || c.status == "rejected") && c.decidedAt.Valid {
		return c.decidedAt.Int64, true
	}
	return 0, false
}

// paused is the SLA clock's paused time of the current round, a running pause included.
func (c slaCase) paused(now int64) int64 {
	p := c.pausedMS
	if c.pausedAt.Valid && now > c.pausedAt.Int64 {
		p += now - c.pausedAt.Int64
	}
	return p
}

// breached (the definition the dashboard shares, see Definitions): a decided case was
// decided after its SLA due time; an open case is past it now, on the SLA clock. sla_due
// already includes every finished pause of the round (a new result after request_info pushes
// it by the pause, internal/cases), so only a pause still running is added here: a case
// waiting for information is breached only if it was already late when it was paused.
func (c slaCase) breached(now int64) bool {
	end, ok := c.decided()
	if !ok {
		end = now
		if c.pausedAt.Valid && now > c.pausedAt.Int64 {
			end = c.pausedAt.Int64
		}
	}
	return c.due.Valid && end > c.due.Int64
}

// cases: one row per case created in the range, oldest first, each joined by SQLite into
// one value (casesFast) and written by appendFastRecord.
func (rp *Reporter) cases(ctx context.Context, r Range, t *table) error {
	integrations, err := cells(ctx, rp.Read, `SELECT id, name FROM integrations`)
	if err != nil {
		return err
	}
	users, err := cells(ctx, rp.Read, `SELECT CAST(id AS TEXT), email FROM users`)
	if err != nil {
		return err
	}
	if err := t.header("reference", "provider", "integration", "applicant_name", "risk", "status", "result", "assignee",
		"created_at", "first_decided_at", "decision", "reason_code", "sla_due", "sla_breached"); err != nil {
		return err
	}
	now := millis(rp.Now())
	// A case whose cells hold a unit separator is read again, packed without doubt.
	slow := `SELECT ` + casesRow(now) + ` FROM cases WHERE rowid = ?`
	newFormatter := func() func(rows *sql.Rows, buf *bytes.Buffer) error {
		var row sql.RawBytes // the driver's bytes, valid until the next row: used at once
		return func(rows *sql.Rows, buf *bytes.Buffer) error {
			if err := rows.Scan(&row); err != nil {
				return err
			}
			rec, rowid, ok, err := appendFastRecord(buf.AvailableBuffer(), row, integrations, users)
			if err == nil && !ok {
				var packed []byte
				if err = rp.Read.QueryRowContext(ctx, slow, rowid).Scan(&packed); err == nil {
					rec, err = appendCasesRecord(buf.AvailableBuffer(), packed, integrations, users)
				}
			}
			if err != nil {
				return err
			}
			_, err = buf.Write(rec)
			return err
		}
	}
	// The header goes out before the first chunk.
	if err := t.flush(); err != nil {
		return err
	}
	return rp.chunked(ctx, t, millis(r.From), millis(r.To), casesFast(now), "cases", newFormatter)
}

// cells loads a small lookup table (integrations, users) once per report as CSV cells
// ready to copy, instead of a join per row.
func cells(ctx context.Context, q *sql.DB, query string) (map[string][]byte, error) {
	m, err := names(ctx, q, query)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = appendCell(nil, []byte(v))
	}
	return out, nil
}

// decisions: every decision-like step (decisions, escalations and their outcome, second
// approvals and returns) taken in the range, oldest first, with the definitions the
// dashboard shares (see Definitions): time to decision excludes the time paused waiting for
// information, and a final decision (status_to approved or rejected) is breached when taken
// after the SLA due time. Both use the SLA values the step kept (migration 00014), or the
// case's for rows written before it.
func (rp *Reporter) decisions(ctx context.Context, r Range, t *table) error {
	if err := t.header("at", "reference", "round", "kind", "decision", "reason_code", "comment", "actor",
		"status_from", "status_to", "round_started_at", "time_to_decision_s", "paused_s", "final", "sla_due", "sla_breached"); err != nil {
		return err
	}
	rows, err := rp.Read.QueryContext(ctx, `SELECT d.at, COALESCE(c.reference, ''), d.round, d.kind, d.decision, d.reason_code,
		d.comment, d.actor, d.status_from, d.status_to, d.round_started_at,
		COALESCE(d.paused_ms, c.sla_paused_ms, 0), COALESCE(d.sla_due, c.sla_due)
		FROM case_decisions d LEFT JOIN cases c ON c.id = d.case_id
		WHERE d.at >= ? AND d.at < ? ORDER BY d.at, d.id`, millis(r.From), millis(r.To))
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		at, round, started, paused                            int64
		due                                                   sql.NullInt64
		ref, kind, decision, reason, comment, actor, from, to string
		cells                                                 = make([]string, 16)
	)
	for rows.Next() {
		if err := rows.Scan(&at, &ref, &round, &kind, &decision, &reason, &comment, &actor, &from, &to, &started,
			&paused, &due); err != nil {
			return err
		}
		final := Final(to)
		cells[0], cells[1], cells[2], cells[3] = Time(sql.NullInt64{Int64: at, Valid: true}), ref, strconv.FormatInt(round, 10), kind
		cells[4], cells[5], cells[6], cells[7], cells[8], cells[9] = decision, reason, comment, actor, from, to
		cells[10], cells[11] = Time(sql.NullInt64{Int64: started, Valid: true}), seconds(TimeToDecision(at, started, paused))
		cells[12], cells[13], cells[14], cells[15] = seconds(paused), yesNo(final), Time(due), ""
		if final {
			cells[15] = yesNo(due.Valid && at > due.Int64)
		}
		if err := t.row(cells); err != nil {
			return err
		}
	}
	return rows.Err()
}

// audit: the trail's entries written in the range, a contiguous run of the chain with seq,
// prev_hash and hash, details as stored: each row's hash can be recomputed from the row
// (see internal/audit) and each prev_hash checked against the row before.
func (rp *Reporter) audit(ctx context.Context, r Range, t *table) error {
	lo, hi, err := audit.SeqRange(ctx, rp.Read, r.From, r.To)
	if err != nil {
		return err
	}
	if err := t.header("seq", "at", "actor", "action", "subject", "details", "prev_hash", "hash"); err != nil {
		return err
	}
	rows, err := rp.Read.QueryContext(ctx, `SELECT seq, at, actor, action, subject, details, prev_hash, hash
		FROM audit_log WHERE seq >= ? AND seq < ? ORDER BY seq`, lo, hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	var seq int64
	cells := make([]string, 8)
	for rows.Next() {
		if err := rows.Scan(&seq, &cells[1], &cells[2], &cells[3], &cells[4], &cells[5], &cells[6], &cells[7]); err != nil {
			return err
		}
		cells[0] = strconv.FormatInt(seq, 10)
		if err := t.row(cells); err != nil {
			return err
		}
	}
	return rows.Err()
}

// sla: first one "case" row per case created in the range (due, decided, paused time,
// breached), then one "analyst" row per person who took decision steps in the range: how
// many steps of each decision, how many were final decisions, and the median time to
// decision of those final decisions (see Definitions). The medians need each analyst's
// times in memory: 8 bytes per final decision in the range (8 MB per million), the one part
// of an export that grows with the range.
func (rp *Reporter) sla(ctx context.Context, r Range, t *table) error {
	if err := t.header("section", "reference", "sla_due", "decided_at", "paused_s", "sla_breached",
		"analyst", "decisions", "approved", "rejected", "info_requested", "escalated", "returned", "final_decisions",
		"median_time_to_decision_s"); err != nil {
		return err
	}
	now := millis(rp.Now())
	rows, err := rp.Read.QueryContext(ctx, `SELECT reference, status, sla_due, decided_at, sla_paused_ms, sla_paused_at
		FROM cases WHERE created_at >= ? AND created_at < ? ORDER BY created_at, id`, millis(r.From), millis(r.To))
	if err != nil {
		return err
	}
	defer rows.Close()
	var ref string
	var c slaCase
	cells := make([]string, 15)
	for rows.Next() {
		if err := rows.Scan(&ref, &c.status, &c.due, &c.decidedAt, &c.pausedMS, &c.pausedAt); err != nil {
			return err
		}
		clear(cells)
		cells[0], cells[1], cells[2] = "case", ref, Time(c.due)
		if at, ok := c.decided(); ok {
			cells[3] = Time(sql.NullInt64{Int64: at, Valid: true})
		}
		cells[4], cells[5] = seconds(c.paused(now)), yesNo(c.breached(now))
		if err := t.row(cells); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	stats, err := analystStats(ctx, rp.Read, r)
	if err != nil {
		return err
	}
	for _, s := range stats {
		clear(cells)
		cells[0], cells[6] = "analyst", s.actor
		for i, n := range []int64{s.total, s.approved, s.rejected, s.infoRequested, s.escalated, s.returned, int64(len(s.times))} {
			cells[7+i] = strconv.FormatInt(n, 10)
		}
		if m, ok := s.median(); ok {
			cells[14] = seconds(m)
		}
		if err := t.row(cells); err != nil {
			return err
		}
	}
	return nil
}

// AnalystStats is one person's decision steps in a range.
type analystStat struct {
	actor                                                         string
	total, approved, rejected, infoRequested, escalated, returned int64
	times                                                         []int64 // time to decision (ms) of final decisions
}

func (s *analystStat) median() (int64, bool) {
	if len(s.times) == 0 {
		return 0, false
	}
	slices.Sort(s.times)
	n := len(s.times)
	if n%2 == 1 {
		return s.times[n/2], true
	}
	return (s.times[n/2-1] + s.times[n/2]) / 2, true
}

// analystStats reads the range's decision steps in time order (the case_decisions_at
// index) and tallies them per actor, sorted by actor.
func analystStats(ctx context.Context, q *sql.DB, r Range) ([]*analystStat, error) {
	rows, err := q.QueryContext(ctx, `SELECT d.actor, d.decision, d.status_to, d.at, d.round_started_at,
		COALESCE(d.paused_ms, c.sla_paused_ms, 0)
		FROM case_decisions d LEFT JOIN cases c ON c.id = d.case_id
		WHERE d.at >= ? AND d.at < ? ORDER BY d.at, d.id`, millis(r.From), millis(r.To))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	by := map[string]*analystStat{}
	var actor, decision, to string
	var at, started, paused int64
	for rows.Next() {
		if err := rows.Scan(&actor, &decision, &to, &at, &started, &paused); err != nil {
			return nil, err
		}
		s := by[actor]
		if s == nil {
			s = &analystStat{actor: actor}
			by[actor] = s
		}
		s.total++
		switch decision {
		case "approve":
			s.approved++
		case "reject":
			s.rejected++
		case "request_info":
			s.infoRequested++
		case "escalate":
			s.escalated++
		case "return":
			s.returned++
		}
		if Final(to) {
			s.times = append(s.times, TimeToDecision(at, started, paused))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]*analystStat, 0, len(by))
	for _, s := range by {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *analystStat) int {
		switch {
		case a.actor < b.actor:
			return -1
		case a.actor > b.actor:
			return 1
		}
		return 0
	})
	return out, nil
}
