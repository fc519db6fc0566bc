package cases

import (
	"context"
	"database/sql"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/errs"
)

// ReasonCode is one reason a decision can give. Codes are never deleted, only retired: a
// retired code stays on the decisions that used it and is no longer offered.
type ReasonCode struct {
	Action    string // approve, reject, request_info
	Code      string
	Label     string
	Retired   bool
	CreatedAt time.Time
}

// ReasonActions are the decisions that take a reason code, in the order pages list them.
var ReasonActions = []string{DecisionApprove, DecisionReject, DecisionRequestInfo}

var codePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// ReasonCodes lists the codes of every action (retired ones too when asked), by action and age.
func (s *Store) ReasonCodes(ctx context.Context, withRetired bool) ([]ReasonCode, error) {
	q := `SELECT action, code, label, retired_at IS NOT NULL, created_at FROM reason_codes`
	if !withRetired {
		q += ` WHERE retired_at IS NULL`
	}
	rows, err := s.DB.Read.QueryContext(ctx, q+` ORDER BY CASE action WHEN 'approve' THEN 0 WHEN 'reject' THEN 1 ELSE 2 END,
		created_at, code`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ReasonCode
	for rows.Next() {
		var r ReasonCode
		var created int64
		if err := rows.Scan(&r.Action, &r.Code, &r.Label, &r.Retired, &created); err != nil {
			return nil, err
		}
		r.CreatedAt = db.Time(created)
		out = append(out, r)
	}
	return out, rows.Err()
}

func validReasonAction(action string) error {
	for _, a := range ReasonActions {
		if a == action {
			return nil
		}
	}
	return errs.E(errs.Invalid, "action: must be approve, reject or request_info.")
}

// AddReasonCode adds a code for an action (an admin's action, audited).
func (s *Store) AddReasonCode(ctx context.Context, by, action, code, label string) error {
	code, label = strings.TrimSpace(code), strings.TrimSpace(label)
	if err := validReasonAction(action); err != nil {
		return err
	}
	switch {
	case !codePattern.MatchString(code):
		return errs.E(errs.Invalid, "code: 2 to 40 characters: lower-case letters, digits and _, starting with a letter.")
	case !utf8.ValidString(label) || label == "":
		return errs.E(errs.Invalid, "label: say in a few words what the code means.")
	case utf8.RuneCountInString(label) > 100:
		return errs.E(errs.Invalid, "label: at most 100 characters.")
	}
	now := s.now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM reason_codes WHERE action = ? AND code = ?`, action, code).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errs.E(errs.Conflict, "The code %s already exists for %s (a retired code is not reused).", code, action)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO reason_codes (action, code, label, created_at) VALUES (?, ?, ?, ?)`,
			action, code, label, db.Millis(now)); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: now, Actor: by, Action: "reason_code.added", Subject: action + "/" + code,
			Details: map[string]any{"action": action, "code": code, "label": label}})
		return err
	})
}

// RetireReasonCode stops offering a code; decisions that used it keep it.
func (s *Store) RetireReasonCode(ctx context.Context, by, action, code string) error {
	if err := validReasonAction(action); err != nil {
		return err
	}
	now := s.now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE reason_codes SET retired_at = ? WHERE action = ? AND code = ? AND retired_at IS NULL`,
			db.Millis(now), action, code)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "There is no active reason code %s for %s.", code, action)
		}
		var left int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM reason_codes WHERE action = ? AND retired_at IS NULL`, action).Scan(&left); err != nil {
			return err
		}
		if left == 0 {
			return errs.E(errs.Conflict, "%s is the last active code for %s: add another before retiring it.", code, action)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: by, Action: "reason_code.retired", Subject: action + "/" + code,
			Details: map[string]any{"action": action, "code": code}})
		return err
	})
}
