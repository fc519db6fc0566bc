package db

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// migrateUp applies the migrations in fsys (goose-format SQL files, NNNNN_name.sql, with
// "-- +goose Up" and "-- +goose Down" sections) that are not yet applied, each in its own
// transaction, and returns the versions it applied. It keeps goose's own bookkeeping table
// (goose_db_version), so data dirs made with goose carry on unchanged: kycdesk used
// pressly/goose, whose go.mod brings every database driver it supports (and with them the
// cloud SDKs of Azure, YDB, OpenTelemetry, gRPC) into kycdesk's module graph, for the
// forty lines it needed. Like goose, it refuses a pending migration older than the newest
// applied one, rather than apply it out of order.
func migrateUp(ctx context.Context, w *sql.DB, fsys fs.FS) ([]int64, error) {
	files, err := readMigrations(fsys)
	if err != nil {
		return nil, err
	}
	// One write transaction, begun IMMEDIATE (the writer's _txlock), so the write lock is
	// waited for at BEGIN under the busy timeout: as autocommit statements these read first
	// and then ask for it, and under WAL that upgrade fails at once when another connection
	// committed in between (opening the database beside a running server).
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS goose_db_version (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		version_id INTEGER NOT NULL,
		is_applied INTEGER NOT NULL,
		tstamp TIMESTAMP DEFAULT (datetime('now')))`); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO goose_db_version (version_id, is_applied)
		SELECT 0, 1 WHERE NOT EXISTS (SELECT 1 FROM goose_db_version)`); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	applied, err := appliedVersions(ctx, w)
	if err != nil {
		return nil, err
	}
	var newest int64
	for v := range applied {
		newest = max(newest, v)
	}
	var done []int64
	for _, m := range files {
		if applied[m.version] {
			continue
		}
		if m.version < newest {
			return done, fmt.Errorf("migration %d is pending but %d is already applied: found out of order", m.version, newest)
		}
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			return done, err
		}
		if _, err := tx.ExecContext(ctx, m.up); err != nil {
			_ = tx.Rollback()
			return done, fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)`, m.version); err != nil {
			_ = tx.Rollback()
			return done, err
		}
		if err := tx.Commit(); err != nil {
			return done, fmt.Errorf("migration %s: %w", m.name, err)
		}
		done = append(done, m.version)
	}
	return done, nil
}

// appliedVersions reads goose's table: the latest row of each version says whether it is
// applied (a rollback adds a row with is_applied = 0).
func appliedVersions(ctx context.Context, w *sql.DB) (map[int64]bool, error) {
	rows, err := w.QueryContext(ctx, `SELECT version_id, is_applied FROM goose_db_version WHERE version_id > 0 ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	applied := map[int64]bool{}
	for rows.Next() {
		var v int64
		var ok bool
		if err := rows.Scan(&v, &ok); err != nil {
			return nil, err
		}
		applied[v] = ok
	}
	for v, ok := range applied {
		if !ok {
			delete(applied, v)
		}
	}
	return applied, rows.Err()
}

type migration struct {
	version int64
	name    string
	up      string
}

// readMigrations lists the .sql files of fsys in version order with their Up sections.
func readMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []migration
	seen := map[int64]string{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || path.Ext(name) != ".sql" {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: the name must start with a version number and _", name)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s have the same version", other, name)
		}
		seen[v] = name
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		up, err := upSection(string(b))
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		out = append(out, migration{version: v, name: name, up: up})
	}
	slices.SortFunc(out, func(a, b migration) int { return int(a.version - b.version) })
	return out, nil
}

// upSection is the SQL between "-- +goose Up" and "-- +goose Down" (or the end). The
// StatementBegin/End markers goose needs to split triggers are comments to SQLite, which
// runs the whole section as one script.
func upSection(src string) (string, error) {
	var up strings.Builder
	in := false
	found := false
	for line := range strings.Lines(src) {
		switch t := strings.TrimSpace(line); {
		case strings.HasPrefix(t, "-- +goose Up"):
			in, found = true, true
			continue
		case strings.HasPrefix(t, "-- +goose Down"):
			in = false
			continue
		case strings.HasPrefix(t, "-- +goose NO TRANSACTION"), strings.HasPrefix(t, "-- +goose ENVSUB"):
			return "", fmt.Errorf("%q is not supported", t)
		}
		if in {
			up.WriteString(line)
		}
	}
	if !found {
		return "", fmt.Errorf("no -- +goose Up section")
	}
	return up.String(), nil
}
