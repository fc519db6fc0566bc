package audit

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// SeqRange returns the seq bounds [lo, hi) of the entries written from `from` until `to`
// (exclusive), found with two lookups in the audit_log_at index however long the trail.
// Entries are written in time order, so the range holds exactly the entries of the period
// (an entry stamped out of order by a clock step sits where it was written), and it is a
// contiguous run of the chain: an export of it can be verified link by link.
func SeqRange(ctx context.Context, db *sql.DB, from, to time.Time) (lo, hi int64, err error) {
	// The first entry at or after t, and not before seq min: the end of the range is looked
	// for after its start, so one entry stamped far off by a clock step cannot empty it.
	first := func(t time.Time, min int64) (int64, error) {
		var seq int64
		err := db.QueryRowContext(ctx, `SELECT seq FROM audit_log WHERE at >= ? AND seq >= ? ORDER BY at, seq LIMIT 1`,
			t.UTC().Format(TimeFormat), min).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			err = db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log`).Scan(&seq)
			seq = max(seq, min)
		}
		return seq, err
	}
	if lo, err = first(from, 0); err != nil {
		return 0, 0, err
	}
	if hi, err = first(to, lo); err != nil {
		return 0, 0, err
	}
	return lo, hi, nil
}
