// Package audit keeps kycdesk's tamper-evident trail: an append-only table in which every
// entry carries the SHA-256 of the one before it, so editing any row breaks the chain.
package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Genesis is the prev_hash of the first entry.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// TimeFormat is the fixed-width text form of Entry.At, part of the hashed encoding.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// Entry is one audit record. Actor and Subject are readable without joins: a user's
// email, "system:<integration>", a case's reference.
type Entry struct {
	Seq      int64
	At       time.Time
	Actor    string
	Action   string
	Subject  string
	Details  map[string]any
	PrevHash string
	Hash     string

	details string // the canonical JSON as stored and hashed
}

// DetailsJSON returns the details exactly as stored.
func (e Entry) DetailsJSON() string { return e.details }

// Append writes e in tx, chained to the newest entry. Call it in the same transaction
// as the change it records, so the two commit or roll back together.
func Append(ctx context.Context, tx *sql.Tx, e Entry) (Entry, error) {
	if e.Actor == "" || e.Action == "" {
		return e, errors.New("audit: actor and action are required")
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = e.At.UTC().Truncate(time.Millisecond)
	details, err := canonicalDetails(e.Details)
	if err != nil {
		return e, err
	}
	e.details = details
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&e.Seq, &e.PrevHash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		e.Seq, e.PrevHash = 0, Genesis
	case err != nil:
		return e, fmt.Errorf("audit: read chain head: %w", err)
	}
	e.Seq++
	e.Hash = hash(e.Seq, e.At.Format(TimeFormat), e.Actor, e.Action, e.Subject, e.details, e.PrevHash)
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.Seq, e.At.Format(TimeFormat), e.Actor, e.Action, e.Subject, e.details, e.PrevHash, e.Hash)
	if err != nil {
		return e, fmt.Errorf("audit: append: %w", err)
	}
	return e, nil
}

func canonicalDetails(d map[string]any) (string, error) {
	if len(d) == 0 {
		return "{}", nil
	}
	// encoding/json sorts map keys, which makes the encoding canonical.
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("audit: details: %w", err)
	}
	return string(b), nil
}

// Filter selects entries for the audit page and exports.
type Filter struct {
	Actor   string // exact
	Subject string // exact
	// Action is exact ("case.decided"), or an area when it ends with a dot ("case.": every
	// case.* action). Either is a range of one index in seq order.
	Action string
	// From and To (exclusive) select the entries written in that period, as the seq range
	// SeqRange finds: contiguous, by index, in the trail's order.
	From   time.Time
	To     time.Time
	Before int64 // keyset: entries with seq < Before (0: newest first from the top)
	After  int64 // keyset for ascending exports: seq > After
	Limit  int
	Asc    bool
}

// List returns entries matching f, newest first unless f.Asc.
func List(ctx context.Context, db *sql.DB, f Filter) ([]Entry, error) {
	var where []string
	var args []any
	if f.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, f.Actor)
	}
	if f.Subject != "" {
		where, args = append(where, "subject = ?"), append(args, f.Subject)
	}
	switch {
	case strings.HasSuffix(f.Action, "."):
		// The expression of the audit_log_area index, written the same way so it is used.
		where, args = append(where, "substr(action, 1, instr(action, '.')) = ?"), append(args, f.Action)
	case f.Action != "":
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if !f.From.IsZero() || !f.To.IsZero() {
		from, to := f.From, f.To
		if to.IsZero() {
			to = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		lo, hi, err := SeqRange(ctx, db, from, to)
		if err != nil {
			return nil, err
		}
		where, args = append(where, "seq >= ? AND seq < ?"), append(args, lo, hi)
	}
	if f.Before > 0 {
		where, args = append(where, "seq < ?"), append(args, f.Before)
	}
	if f.After > 0 {
		where, args = append(where, "seq > ?"), append(args, f.After)
	}
	q := `SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Asc {
		q += " ORDER BY seq ASC"
	} else {
		q += " ORDER BY seq DESC"
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q += fmt.Sprintf(" LIMIT %d", f.Limit)
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at string
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Subject, &e.details, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		e.At, _ = time.Parse(TimeFormat, at)
		_ = json.Unmarshal([]byte(e.details), &e.Details)
		out = append(out, e)
	}
	return out, rows.Err()
}
