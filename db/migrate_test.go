package db

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// TestMigrateUp: versions apply in order, once; goose's bookkeeping is kept, so a data dir
// migrated by goose carries on; a pending migration older than an applied one is refused;
// a failing migration changes nothing.
func TestMigrateUp(t *testing.T) {
	ctx := context.Background()
	register()
	w, err := sql.Open(driverName, "file:"+filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	file := func(up string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("-- +goose Up\n" + up + "\n-- +goose Down\nDROP TABLE nothing;\n")}
	}
	fsys := fstest.MapFS{
		"00001_a.sql": file("CREATE TABLE a (x);\n-- +goose StatementBegin\nCREATE TRIGGER a_t AFTER INSERT ON a BEGIN SELECT 1; END;\n-- +goose StatementEnd"),
		"00002_b.sql": file("CREATE TABLE b (x); INSERT INTO b VALUES (1);"),
		"README.md":   &fstest.MapFile{Data: []byte("not a migration")},
	}
	if got, err := migrateUp(ctx, w, fsys); err != nil || !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("first run: %v %v", got, err)
	}
	if got, err := migrateUp(ctx, w, fsys); err != nil || len(got) != 0 {
		t.Fatalf("second run: %v %v", got, err)
	}
	fsys["00004_d.sql"] = file("CREATE TABLE d (x);")
	if got, err := migrateUp(ctx, w, fsys); err != nil || !slices.Equal(got, []int64{4}) {
		t.Fatalf("new migration: %v %v", got, err)
	}
	fsys["00003_c.sql"] = file("CREATE TABLE c (x);")
	if _, err := migrateUp(ctx, w, fsys); err == nil || !strings.Contains(err.Error(), "out of order") {
		t.Fatalf("out of order: %v", err)
	}
	delete(fsys, "00003_c.sql")
	fsys["00005_e.sql"] = file("CREATE TABLE e (x); CREATE TABLE e (x);")
	if _, err := migrateUp(ctx, w, fsys); err == nil {
		t.Fatal("a failing migration passed")
	}
	var n int
	if err := w.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'e'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the failed migration left table e behind (%d, %v)", n, err)
	}
	var version int64
	if err := w.QueryRow(`SELECT MAX(version_id) FROM goose_db_version WHERE is_applied`).Scan(&version); err != nil || version != 4 {
		t.Fatalf("goose_db_version says %d (%v)", version, err)
	}
}
