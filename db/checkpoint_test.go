package db

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A commit never copies the WAL into the database file (an acknowledgement would wait for
// it); the DB's own checkpointer does, within about CheckpointEvery.
func TestCheckpointsRunBesideTheWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	d, err := OpenFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	if _, err := d.Write.ExecContext(ctx, `CREATE TABLE filler (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	before := size()
	const rows, each = 2000, 4000 // ~8 MB: 2,000 pages, twice SQLite's autocheckpoint size
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		for range rows {
			if _, err := tx.ExecContext(ctx, `INSERT INTO filler (b) VALUES (?)`, bytes.Repeat([]byte{7}, each)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := size(); got > before+rows*each/4 {
		t.Fatalf("the commit checkpointed: database file %d bytes right after it (was %d)", got, before)
	}
	deadline := time.Now().Add(5 * CheckpointEvery)
	for size() < rows*each {
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint within %s: database file %d bytes", 5*CheckpointEvery, size())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
