// Package db opens kycdesk's SQLite database the way acknowledged data needs it
// (WAL, synchronous=FULL, one writer, a read pool) and applies the embedded migrations.
package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

//go:embed migrations/*.sql
var migrations embed.FS

// pragmas run on every new connection, in this order: WAL first so that
// synchronous=FULL applies to WAL commits, then integrity settings.
var pragmas = []string{
	"PRAGMA journal_mode = WAL",
	"PRAGMA synchronous = FULL",
	"PRAGMA foreign_keys = ON",
	"PRAGMA busy_timeout = 10000",
	"PRAGMA temp_store = MEMORY",
	"PRAGMA cache_size = -32000",
	"PRAGMA wal_autocheckpoint = 0", // checkpoints run beside the writer: checkpoint.go
}

const driverName = "sqlite3_kycdesk"

var registerOnce sync.Once

func register() {
	registerOnce.Do(func() {
		sql.Register(driverName, &sqlite3.SQLiteDriver{
			ConnectHook: func(conn *sqlite3.SQLiteConn) error {
				if err := conn.RegisterFunc(searchTermsFunc, SearchTerms, true); err != nil {
					return fmt.Errorf("%s: %w", searchTermsFunc, err)
				}
				if err := conn.RegisterFunc(searchTextFunc, SearchText, true); err != nil {
					return fmt.Errorf("%s: %w", searchTextFunc, err)
				}
				for _, p := range pragmas {
					if _, err := conn.Exec(p, nil); err != nil {
						return fmt.Errorf("%s: %w", p, err)
					}
				}
				return nil
			},
		})
	})
}

// DB is the database: Write has exactly one connection, so writes never wait on
// SQLite's lock; Read is a pool for queries that run beside it under WAL.
type DB struct {
	Write *sql.DB
	Read  *sql.DB
	Path  string

	migrations fs.FS // the file's schema: migrations/ for kycdesk.db, inbox_migrations/ for inbox.db
	// searchQueue: the file has case_search_queue (kycdesk.db), which Tx flushes.
	searchQueue bool

	stopCheckpoints func() error
}

// FileName is the database file inside the data directory.
const FileName = "kycdesk.db"

// Open opens (creating if needed) the database in dataDir and applies migrations.
func Open(ctx context.Context, dataDir string) (*DB, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", dataDir, err)
	}
	return OpenFile(ctx, filepath.Join(dataDir, FileName))
}

// OpenFile opens the database at path and applies migrations.
func OpenFile(ctx context.Context, path string) (*DB, error) {
	d, err := openFile(ctx, path, mustSub(migrations, "migrations"))
	if err == nil {
		d.searchQueue = true
	}
	return d, err
}

func openFile(ctx context.Context, path string, schema fs.FS) (*DB, error) {
	register()
	// _txlock=immediate: a write transaction takes the lock at BEGIN, so it can never
	// fail half way with SQLITE_BUSY when upgrading from a read lock. _stmt_cache_size: the
	// writer keeps the statements it ran compiled (the audit append's among them), instead
	// of compiling them again for every row (BENCHMARKS.md, "Ingestion with the worker on").
	w, err := sql.Open(driverName, "file:"+path+"?_txlock=immediate&_stmt_cache_size=128")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r, err := sql.Open(driverName, "file:"+path+"?_txlock=deferred&_query_only=1")
	if err != nil {
		w.Close()
		return nil, err
	}
	// Readers run beside each other and the writer under WAL, and a request holds its
	// connection while Go code reads the rows: with 4 connections on 2 cores, pages queued
	// for a connection with cores to spare (BENCHMARKS.md, "Queues at a million cases").
	n := max(16, 8*runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	d := &DB{Write: w, Read: r, Path: path, migrations: schema}
	if err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	if err := d.startCheckpoints(path); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Migrate applies every embedded migration not yet applied, each in its own transaction.
func (d *DB) Migrate(ctx context.Context) error {
	_, err := d.MigrateReport(ctx)
	return err
}

// MigrateReport is Migrate, returning the versions it applied.
func (d *DB) MigrateReport(ctx context.Context) ([]int64, error) {
	applied, err := migrateUp(ctx, d.Write, d.migrations)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return applied, nil
}

// Close stops the checkpoints and closes both pools.
func (d *DB) Close() error {
	var err error
	if d.stopCheckpoints != nil {
		err = d.stopCheckpoints()
	}
	return errors.Join(err, d.Read.Close(), d.Write.Close())
}

// Tx runs fn in a write transaction on the single writer connection and commits it.
func (d *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.Write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if d.searchQueue {
		if err := FlushSearch(ctx, tx); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// FlushSearch moves the search terms of the cases written so far in tx (case_search_queue,
// migration 00015) into the full-text index, in one statement: FTS4 writes a segment per
// statement that adds to it, so a batch of new cases costs one segment, not one each. Tx
// does it before every commit on kycdesk.db; a search reads the queue too, so a case written
// elsewhere is found before its terms move.
func FlushSearch(ctx context.Context, tx *sql.Tx) error {
	var one int
	switch err := tx.QueryRowContext(ctx, `SELECT 1 FROM case_search_queue LIMIT 1`).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("search queue: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO case_search (docid, terms) SELECT docid, terms FROM case_search_queue`); err != nil {
		return fmt.Errorf("search queue: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM case_search_queue`); err != nil {
		return fmt.Errorf("search queue: %w", err)
	}
	return nil
}

// Ping reports whether the database answers a query (readiness).
func (d *DB) Ping(ctx context.Context) error {
	var one int
	return d.Read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Backup writes a consistent copy of the live database to dest using SQLite's
// online backup API, copying in steps so writers are not blocked for long.
func (d *DB) Backup(ctx context.Context, dest string) error {
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("%s already exists", dest)
	}
	return d.backup(ctx, dest, 256)
}

func sleepMillisecond(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Millisecond):
		return nil
	}
}

// Millis converts a time to the INTEGER unix milliseconds the schema stores.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// Time converts stored unix milliseconds back to a UTC time.
func Time(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
