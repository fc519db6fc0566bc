package main

import (
	"context"
	"errors"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/audit"
)

func (m *Main) migrate(ctx context.Context, args []string) error {
	f := newFlags("migrate")
	data := m.dataFlag(f)
	if err := f.parse(args); err != nil {
		return err
	}
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	// openStore applied everything pending; say where the schema stands.
	var version int64
	if err := st.db.Read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&version); err != nil {
		return err
	}
	m.printf("ok: schema version %d\n", version)
	return nil
}

func (m *Main) backup(ctx context.Context, args []string) error {
	f := newFlags("backup")
	data := m.dataFlag(f)
	to := f.String("to", "", "destination file: one SQLite file, kycdesk.db with the inbox (inbox.db) in it; restore it as kycdesk.db in a data dir without inbox.db")
	if err := f.parse(args); err != nil {
		return err
	}
	if *to == "" {
		return usagef("backup: --to FILE is required")
	}
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	// One file: kycdesk.db's copy with the inbox file's rows in it (db.BackupAll).
	if err := db.BackupAll(ctx, st.db, st.inbox, *to); err != nil {
		return err
	}
	m.printf("ok: backup written to %s\n", *to)
	return nil
}

func (m *Main) auditVerify(ctx context.Context, args []string) error {
	f := newFlags("audit verify")
	data := m.dataFlag(f)
	checkpoint := f.String("checkpoint", "", "SEQ:HASH printed by `kycdesk audit checkpoint`: also prove the chain still holds that entry")
	if err := f.parse(args); err != nil {
		return err
	}
	var cps []audit.Checkpoint
	if *checkpoint != "" {
		cp, err := audit.ParseCheckpoint(*checkpoint)
		if err != nil {
			return usagef("audit verify: --checkpoint: %v", err)
		}
		cps = append(cps, cp)
	}
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := audit.VerifyAgainst(ctx, st.db.Read, cps...)
	var broken *audit.BrokenError
	if errors.As(err, &broken) {
		m.printf("broken at seq %d: %s\n", broken.Seq, broken.Reason)
		return exitError{1}
	}
	if err != nil {
		return err
	}
	m.printf("ok: %d entries\n", n)
	return nil
}
