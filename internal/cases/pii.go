package cases

import (
	"context"
	"database/sql"

	"github.com/kycdesk/kycdesk/internal/audit"
)

// ActionPIIRevealed is the audit action of a reviewer unmasking a case's ID number and date of birth.
const ActionPIIRevealed = "case.pii_revealed"

// RevealPII records, in the audit trail, that actor is shown the case's ID number and date
// of birth. The entry commits before the caller shows anything: personal data nobody can
// account for is never shown. An unknown or malformed id is errs.NotFound.
func (s *Store) RevealPII(ctx context.Context, caseID, actor string) error {
	c, err := s.Get(ctx, caseID)
	if err != nil {
		return err
	}
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		_, err := audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: actor, Action: ActionPIIRevealed, Subject: c.Reference,
			Details: map[string]any{"case_id": c.ID, "round": c.Round, "fields": []string{"id_number", "date_of_birth"}}})
		return err
	})
}
