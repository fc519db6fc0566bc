package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Checkpoint names one entry of the chain by its seq and hash. Kept outside the database
// (printed by `kycdesk audit checkpoint`), it proves later that the chain still holds that
// entry unchanged: a chain rewritten from the start or cut back below it no longer does.
type Checkpoint struct {
	Seq     int64
	Hash    string // lowercase hex
	TakenAt time.Time
	TakenBy string
}

// String is the checkpoint's one-line form, SEQ:HASH.
func (c Checkpoint) String() string { return fmt.Sprintf("%d:%s", c.Seq, c.Hash) }

// ParseCheckpoint reads SEQ:HASH (a positive seq, 64 lowercase hex digits).
func ParseCheckpoint(s string) (Checkpoint, error) {
	seqText, h, ok := strings.Cut(strings.TrimSpace(s), ":")
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if !ok || err != nil || seq <= 0 {
		return Checkpoint{}, errors.New("a checkpoint is SEQ:HASH, e.g. 42:3f1a… (seq a positive number)")
	}
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		return Checkpoint{}, errors.New("the checkpoint's hash must be 64 lowercase hex digits")
	}
	return Checkpoint{Seq: seq, Hash: h}, nil
}

// TakeCheckpoint records, in tx, an audit entry saying who took a checkpoint, and returns
// that entry as the checkpoint: it is the chain's head once tx commits. The checkpoint is
// also kept in audit_checkpoints, so /audit/verify can list the last ones and check them.
func TakeCheckpoint(ctx context.Context, tx *sql.Tx, actor string, at time.Time) (Checkpoint, error) {
	e, err := Append(ctx, tx, Entry{At: at, Actor: actor, Action: "audit.checkpoint_taken", Subject: "audit",
		Details: map[string]any{"note": "this entry's seq:hash was printed to be kept outside the database"}})
	if err != nil {
		return Checkpoint{}, err
	}
	cp := Checkpoint{Seq: e.Seq, Hash: e.Hash, TakenAt: e.At, TakenBy: actor}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (seq, hash, taken_at, taken_by) VALUES (?, ?, ?, ?)`,
		cp.Seq, cp.Hash, cp.TakenAt.UnixMilli(), cp.TakenBy)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: record checkpoint: %w", err)
	}
	return cp, nil
}

// RecentCheckpoints returns the last limit checkpoints taken, newest first.
func RecentCheckpoints(ctx context.Context, db *sql.DB, limit int) ([]Checkpoint, error) {
	rows, err := db.QueryContext(ctx, `SELECT seq, hash, taken_at, taken_by FROM audit_checkpoints ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		var cp Checkpoint
		var ms int64
		if err := rows.Scan(&cp.Seq, &cp.Hash, &ms, &cp.TakenBy); err != nil {
			return nil, err
		}
		cp.TakenAt = time.UnixMilli(ms).UTC()
		out = append(out, cp)
	}
	return out, rows.Err()
}
