package cases

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kycdesk/kycdesk/db"
)

// OutboxKindDecided is the kind of the outbox row each decision writes (DESIGN.md, "Decisions
// going out"). internal/outbox delivers it: to FrankieOne as the execution's status override
// and to the integration's decision URL as a signed case.decided event.
const OutboxKindDecided = "case.decided"

// OutboxDecision is the payload of a case.decided outbox row: the decision as it was taken,
// in the same transaction as the state change and the audit entry.
type OutboxDecision struct {
	CaseID        string `json:"case_id"`
	IntegrationID string `json:"integration_id"`
	Reference     string `json:"reference"`
	Round         int    `json:"round"`
	Decision      string `json:"decision"` // approve, reject, request_info (second approvals: approve)
	Status        string `json:"status"`   // the case's status after the step
	ReasonCode    string `json:"reason_code"`
	Comment       string `json:"comment"`
	Actor         string `json:"actor"` // email, or system:<integration>
	At            string `json:"at"`    // RFC 3339 with milliseconds, UTC
}

// enqueueDecision writes one outbox row for a decision inside the caller's transaction.
func enqueueDecision(ctx context.Context, tx *sql.Tx, d OutboxDecision, now time.Time) error {
	if d.At == "" {
		d.At = now.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	payload, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (case_id, kind, payload, state, next_attempt_at, created_at)
		VALUES (?, ?, ?, 'pending', 0, ?)`, d.CaseID, OutboxKindDecided, string(payload), db.Millis(now)); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}
