package main

import (
	"context"
	"database/sql"
	"time"

	"github.com/kycdesk/kycdesk/internal/audit"
)

// auditCheckpoint records a checkpoint entry (actor "cli") and prints it, the chain's new
// head, as one line SEQ:HASH: the copy kept outside the database is what later proves,
// with `audit verify --checkpoint`, that the chain was neither rewritten nor cut back.
func (m *Main) auditCheckpoint(ctx context.Context, args []string) error {
	f := newFlags("audit checkpoint")
	data := m.dataFlag(f)
	if err := f.parse(args); err != nil {
		return err
	}
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	var cp audit.Checkpoint
	err = st.db.Tx(ctx, func(tx *sql.Tx) error {
		cp, err = audit.TakeCheckpoint(ctx, tx, "cli", time.Now())
		return err
	})
	if err != nil {
		return err
	}
	m.printf("%s\n", cp)
	return nil
}
