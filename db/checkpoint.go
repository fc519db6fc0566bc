package db

import (
	"context"
	"database/sql"
	"time"
)

// Checkpoints run beside the writer, never inside a commit. SQLite's default is for the
// connection whose commit takes the WAL past 1,000 pages to copy the WAL into the database
// file and sync it, there and then: that commit (an acknowledgement's, on the inbox file)
// then waits for megabytes of writes and a sync of the database file. Here every connection
// has wal_autocheckpoint=0 and a goroutine of the DB's own runs a PASSIVE checkpoint, on a
// connection of its own, every CheckpointEvery: at most one sync of the database file a
// second however fast commits come (SQLite's default made several a second in a burst), and
// a WAL of at most about a second of writes. PASSIVE never waits for the writer or for
// readers; frames a reader still needs are copied by a later round.
const CheckpointEvery = time.Second

// startCheckpoints opens the checkpointer's connection and starts its loop; Close stops it.
func (d *DB) startCheckpoints(path string) error {
	c, err := sql.Open(driverName, "file:"+path)
	if err != nil {
		return err
	}
	c.SetMaxOpenConns(1)
	c.SetMaxIdleConns(1)
	c.SetConnMaxLifetime(0)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	d.stopCheckpoints = func() error {
		stop()
		<-done
		return c.Close()
	}
	go func() {
		defer close(done)
		t := time.NewTicker(CheckpointEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				// Best effort: a failed round leaves the frames for the next one.
				_, _ = c.ExecContext(context.WithoutCancel(ctx), "PRAGMA wal_checkpoint(PASSIVE)")
			}
		}
	}()
	return nil
}
