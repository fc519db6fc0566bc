package db

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mattn/go-sqlite3"
)

//go:embed inbox_migrations/*.sql
var inboxMigrations embed.FS

// InboxFileName is the inbox's own database file inside the data directory: webhook
// deliveries and their counters, with their own WAL and writer, so an acknowledgement never
// waits behind a case transaction in kycdesk.db.
const InboxFileName = "inbox.db"

// OpenInbox opens (creating if needed) the inbox file in dataDir beside main, applies its
// migrations and adopts what main still holds of an inbox: deliveries stored before the inbox
// had its own file, or restored from a backup (`kycdesk backup` writes them into main's old
// inbox tables, so a backup is one file).
func OpenInbox(ctx context.Context, dataDir string, main *DB) (*DB, error) {
	return OpenInboxFile(ctx, filepath.Join(dataDir, InboxFileName), main)
}

// OpenInboxFile is OpenInbox with the inbox file's path.
func OpenInboxFile(ctx context.Context, path string, main *DB) (*DB, error) {
	d, err := openFile(ctx, path, mustSub(inboxMigrations, "inbox_migrations"))
	if err != nil {
		return nil, err
	}
	if err := d.adopt(ctx, main); err != nil {
		d.Close()
		return nil, fmt.Errorf("inbox %s: %w", path, err)
	}
	return d, nil
}

const inboxColumns = `integration_id, provider, delivery_key, path_param, received_at, payload, encrypted,
	state, attempts, next_attempt_at, last_error, processed_at, case_id`

// adopt moves main's old inbox and delivery_stats rows into the inbox file, then keeps the
// inbox's id sequence above every id main's inbox_applied knows, so that a new delivery never
// takes the id of one already applied (after a restore of an older inbox, say).
//
// The move is one transaction over both files (main attached). SQLite commits each file
// atomically but not both together: after a crash in between, the rows are in both and the
// next start moves them again, where the (integration_id, delivery_key) key drops the
// repeats (the counters of that one move would count twice).
func (d *DB) adopt(ctx context.Context, main *DB) error {
	var legacy bool
	err := main.Read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM inbox) OR EXISTS (SELECT 1 FROM delivery_stats)`).Scan(&legacy)
	if err != nil {
		return fmt.Errorf("read the old inbox: %w", err)
	}
	if legacy {
		if err := d.moveFrom(ctx, main.Path); err != nil {
			return err
		}
	}
	var applied int64
	if err := main.Read.QueryRowContext(ctx, `SELECT COALESCE(MAX(inbox_id), 0) FROM inbox_applied`).Scan(&applied); err != nil {
		return err
	}
	if applied == 0 {
		return nil
	}
	var seq int64
	err = d.Read.QueryRowContext(ctx, `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'inbox'), 0)`).Scan(&seq)
	if err != nil || seq >= applied {
		return err // the usual case: no write, so opening beside a running server does not wait for its writer
	}
	return d.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sqlite_sequence SET seq = max(seq, ?1) WHERE name = 'inbox'`, applied)
		if err == nil {
			_, err = tx.ExecContext(ctx, `INSERT INTO sqlite_sequence (name, seq) SELECT 'inbox', ?1
				WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'inbox')`, applied)
		}
		return err
	})
}

func (d *DB) moveFrom(ctx context.Context, mainPath string) error {
	conn, err := d.Write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS legacy`, "file:"+mainPath); err != nil {
		return fmt.Errorf("attach %s: %w", mainPath, err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DETACH DATABASE legacy`) //nolint:errcheck // closing anyway
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
	var empty bool
	if err := tx.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT 1 FROM main.inbox)`).Scan(&empty); err != nil {
		return err
	}
	// Into an empty inbox the rows keep their ids (the audit trail names them); beside rows
	// already there they take new ones, in the same order.
	move := `INSERT INTO main.inbox (` + inboxColumns + `) SELECT ` + inboxColumns + ` FROM legacy.inbox ORDER BY id
		ON CONFLICT (integration_id, delivery_key) DO NOTHING`
	if empty {
		move = `INSERT INTO main.inbox (id, ` + inboxColumns + `) SELECT id, ` + inboxColumns + ` FROM legacy.inbox ORDER BY id`
	}
	for _, q := range []string{
		move,
		`INSERT INTO main.delivery_stats (integration_id, hour, outcome, n)
			SELECT integration_id, hour, outcome, n FROM legacy.delivery_stats WHERE true
			ON CONFLICT (integration_id, hour, outcome) DO UPDATE SET n = n + excluded.n`,
		`DELETE FROM legacy.inbox`,
		`DELETE FROM legacy.delivery_stats`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("move the old inbox: %w", err)
		}
	}
	return tx.Commit()
}

// BackupAll writes one consistent file holding both databases: main's copy, with the inbox
// file's rows put back into main's old inbox tables. Opening that file as a data dir's
// kycdesk.db (with no inbox.db beside it) moves them out again (OpenInbox).
//
// The inbox is copied first, main second: a delivery applied in between has its case (and
// its inbox_applied row) in the copy while its inbox row there is still pending, so after a
// restore the worker marks it done without applying it twice. The other order would keep
// inbox rows marked done whose cases the copy lacks.
func BackupAll(ctx context.Context, main, inbox *DB, dest string) error {
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("%s already exists", dest)
	}
	tmp := dest + ".inbox-part"
	for _, f := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
		defer os.Remove(f)
	}
	// One step (-1): a copy in steps restarts whenever the committer writes in between, and
	// under steady deliveries it might never finish; in WAL mode one step blocks no writer.
	if err := inbox.backup(ctx, tmp, -1); err != nil {
		return fmt.Errorf("copy the inbox: %w", err)
	}
	if err := main.Backup(ctx, dest); err != nil {
		return err
	}
	register()
	dst, err := sql.Open(driverName, "file:"+dest)
	if err != nil {
		return err
	}
	defer dst.Close()
	conn, err := dst.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// The copy's integrations are main's, a moment later: an inbox row never names one
	// that main lacks, but the rows are copied as they are whatever the foreign keys say.
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS part`, "file:"+tmp); err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
	for _, q := range []string{
		`INSERT INTO main.inbox (id, ` + inboxColumns + `) SELECT id, ` + inboxColumns + ` FROM part.inbox ORDER BY id`,
		`INSERT INTO main.delivery_stats (integration_id, hour, outcome, n) SELECT integration_id, hour, outcome, n FROM part.delivery_stats`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("put the inbox into the backup: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, `DETACH DATABASE part`)
	return err
}

// backup copies the database to dest with SQLite's online backup API, pages steps at a
// time (-1: all in one step).
func (d *DB) backup(ctx context.Context, dest string, pages int) error {
	register()
	dst, err := sql.Open(driverName, "file:"+dest)
	if err != nil {
		return err
	}
	defer dst.Close()
	dconn, err := dst.Conn(ctx)
	if err != nil {
		return err
	}
	defer dconn.Close()
	sconn, err := d.Read.Conn(ctx)
	if err != nil {
		return err
	}
	defer sconn.Close()
	return dconn.Raw(func(dc any) error {
		return sconn.Raw(func(sc any) error {
			b, err := dc.(*sqlite3.SQLiteConn).Backup("main", sc.(*sqlite3.SQLiteConn), "main")
			if err != nil {
				return err
			}
			for {
				done, err := b.Step(pages)
				if err != nil {
					b.Close()
					return err
				}
				if done {
					return b.Close()
				}
				if err := sleepMillisecond(ctx); err != nil {
					b.Close()
					return err
				}
			}
		})
	})
}
