package cases

import (
	"context"
	"database/sql"
)

// EnqueueOutboxDecision writes one case.decided outbox row in its own transaction, for a
// decision taken outside a review action (tools, tests). Review actions write theirs in the
// transaction of the state change instead.
func (s *Store) EnqueueOutboxDecision(ctx context.Context, d OutboxDecision) error {
	return s.DB.Tx(ctx, func(tx *sql.Tx) error { return enqueueDecision(ctx, tx, d, s.now()) })
}
