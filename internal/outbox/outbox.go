// Package outbox delivers kycdesk's decisions (DESIGN.md, "Decisions going out"): each
// case.decided outbox row goes to FrankieOne as the execution's status override and to the
// integration's decision URL as a Standard Webhooks-signed case.decided event.
package outbox

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/errs"
)

// Destinations, the destination column of outbox_deliveries and the label of the metrics.
const (
	DestFrankieOne  = "frankieone"   // the execution's status override
	DestDecisionURL = "decision_url" // the integration's case.decided webhook
)

// Delivery states.
const (
	StatePending   = "pending"
	StateDelivered = "delivered"
	StateFailed    = "failed" // refused (4xx) or not deliverable as configured: not retried, replayable
	StateDead      = "dead"   // retried for GiveUpAfter without success: replayable
)

// Actor is how the audit trail names the outbox worker.
const Actor = "system:outbox"

// EventType is the type of the event POSTed to decision URLs.
const EventType = "case.decided"

// Store reads the outbox's state for pages and metrics and replays failed deliveries.
type Store struct {
	DB  *db.DB
	Now func() time.Time // nil means time.Now
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Health is one integration's outgoing decisions, as /admin/integrations shows them.
type Health struct {
	Pending       int64     // deliveries waiting (first try or a retry), decisions not yet routed included
	OldestPending time.Time // zero when nothing waits
	Failed        int64     // refused or undeliverable: waiting for an admin's replay
	Dead          int64     // retried for 24 hours without success
	Delivered24h  int64
}

// The queries of the page and /metrics read ranges of outbox_deliveries_health (and the
// pending range of outbox_pending for rows not yet routed), as TestQueryPlans checks.
const (
	healthQuery = `SELECT
		(SELECT COUNT(*) FROM outbox_deliveries WHERE integration_id = ?1 AND state = 'pending'),
		(SELECT MIN(created_at) FROM outbox_deliveries WHERE integration_id = ?1 AND state = 'pending'),
		(SELECT COUNT(*) FROM outbox_deliveries WHERE integration_id = ?1 AND state = 'failed'),
		(SELECT COUNT(*) FROM outbox_deliveries WHERE integration_id = ?1 AND state = 'dead'),
		(SELECT COUNT(*) FROM outbox_deliveries WHERE integration_id = ?1 AND state = 'delivered' AND created_at >= ?2)`
	unroutedQuery = `SELECT COUNT(*), MIN(o.created_at) FROM outbox o JOIN cases c ON c.id = o.case_id
		WHERE o.state = 'pending' AND c.integration_id = ?`
	problemsQuery = `SELECT d.id, d.outbox_id, d.case_id, c.reference, d.destination, d.state, d.attempts, d.last_status,
		d.last_error, d.created_at, d.finished_at FROM outbox_deliveries d JOIN cases c ON c.id = d.case_id
		WHERE d.integration_id = ? AND d.state IN ('failed', 'dead') ORDER BY d.created_at DESC, d.id DESC LIMIT ?`
)

// Health reads the integration's outbox state.
func (s *Store) Health(ctx context.Context, integrationID string) (Health, error) {
	var h Health
	var oldest sql.NullInt64
	since := db.Millis(s.now().Add(-24 * time.Hour))
	if err := s.DB.Read.QueryRowContext(ctx, healthQuery, integrationID, since).
		Scan(&h.Pending, &oldest, &h.Failed, &h.Dead, &h.Delivered24h); err != nil {
		return h, err
	}
	var unrouted int64
	var unroutedOldest sql.NullInt64
	if err := s.DB.Read.QueryRowContext(ctx, unroutedQuery, integrationID).Scan(&unrouted, &unroutedOldest); err != nil {
		return h, err
	}
	h.Pending += unrouted
	if unroutedOldest.Valid && (!oldest.Valid || unroutedOldest.Int64 < oldest.Int64) {
		oldest = unroutedOldest
	}
	if oldest.Valid {
		h.OldestPending = db.Time(oldest.Int64)
	}
	return h, nil
}

// Problem is a failed or dead delivery, shown with a Replay button.
type Problem struct {
	ID          int64
	OutboxID    int64
	CaseID      string
	Reference   string
	Destination string
	State       string
	Attempts    int
	LastStatus  int // HTTP status of the last answer, 0 for none
	LastError   string
	CreatedAt   time.Time
	FinishedAt  time.Time
}

// Problems lists the integration's failed and dead deliveries, newest first.
func (s *Store) Problems(ctx context.Context, integrationID string, limit int) ([]Problem, error) {
	rows, err := s.DB.Read.QueryContext(ctx, problemsQuery, integrationID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Problem
	for rows.Next() {
		var p Problem
		var created int64
		var finished sql.NullInt64
		if err := rows.Scan(&p.ID, &p.OutboxID, &p.CaseID, &p.Reference, &p.Destination, &p.State, &p.Attempts,
			&p.LastStatus, &p.LastError, &created, &finished); err != nil {
			return nil, err
		}
		p.CreatedAt = db.Time(created)
		if finished.Valid {
			p.FinishedAt = db.Time(finished.Int64)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Replay puts a failed or dead delivery of the integration back in the queue, due now, with
// a fresh 24 hours of retries. Audited (outbox.replay) in the same transaction. A delivery
// that is not the integration's, or not failed or dead, is errs.NotFound.
func (s *Store) Replay(ctx context.Context, actor, integrationID string, deliveryID int64) error {
	now := s.now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var caseID, reference, destination, state string
		err := tx.QueryRowContext(ctx, `SELECT d.case_id, c.reference, d.destination, d.state FROM outbox_deliveries d
			JOIN cases c ON c.id = d.case_id WHERE d.id = ? AND d.integration_id = ?`, deliveryID, integrationID).
			Scan(&caseID, &reference, &destination, &state)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && state != StateFailed && state != StateDead) {
			return errs.E(errs.NotFound, "There is no such failed delivery.")
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE outbox_deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?,
			created_at = ?, finished_at = NULL WHERE id = ?`, db.Millis(now), db.Millis(now), deliveryID); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: actor, Action: "outbox.replay", Subject: reference,
			Details: map[string]any{"case_id": caseID, "delivery_id": strconv.FormatInt(deliveryID, 10),
				"destination": destination, "was": state, "integration_id": integrationID}})
		return err
	})
}
