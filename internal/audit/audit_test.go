package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
)

// openDB is testkit.DB, which this in-package test cannot import: testkit imports audit.
func openDB(t *testing.T) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// appendN writes n entries, one per transaction, a second apart.
func appendN(t *testing.T, d *db.DB, n int) {
	t.Helper()
	ctx := context.Background()
	start := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	for i := range n {
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			_, err := Append(ctx, tx, Entry{At: start.Add(time.Duration(i) * time.Second), Actor: fmt.Sprintf("user%d@example.com", i%3),
				Action: []string{"auth.login", "user.created", "case.approved"}[i%3], Subject: fmt.Sprintf("subject-%d", i%4),
				Details: map[string]any{"i": i, "note": "Nguyễn"}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// tamper runs stmt with the append-only triggers out of the way, as an attacker with
// write access to the file would.
func tamper(t *testing.T, d *db.DB, stmt string, args ...any) {
	t.Helper()
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`} {
		if _, err := d.Write.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Write.Exec(stmt, args...); err != nil {
		t.Fatal(err)
	}
}

func TestAppendChainsAndVerifies(t *testing.T) {
	d := openDB(t)
	ctx := context.Background()
	if n, err := Verify(ctx, d.Read); n != 0 || err != nil {
		t.Fatalf("empty chain: %d, %v", n, err)
	}
	appendN(t, d, 5)
	n, err := Verify(ctx, d.Read)
	if n != 5 || err != nil {
		t.Fatalf("Verify = %d, %v", n, err)
	}
	entries, _ := List(ctx, d.Read, Filter{Asc: true})
	if entries[0].PrevHash != Genesis {
		t.Error("first entry not chained to the genesis hash")
	}
	for i := 1; i < len(entries); i++ {
		if entries[i].PrevHash != entries[i-1].Hash || entries[i].Seq != entries[i-1].Seq+1 {
			t.Fatalf("entry %d not chained to %d", entries[i].Seq, entries[i-1].Seq)
		}
	}
}

func TestAppendRollsBackWithItsTransaction(t *testing.T) {
	d := openDB(t)
	ctx := context.Background()
	boom := errors.New("the change failed")
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := Append(ctx, tx, Entry{Actor: "a@example.com", Action: "user.created"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if n, _ := Verify(ctx, d.Read); n != 0 {
		t.Fatalf("%d entries after a rolled-back change", n)
	}
	if _, err := Append(ctx, nil, Entry{Action: "x"}); err == nil {
		t.Error("an entry without actor was accepted")
	}
}

func TestTriggersRefuseChanges(t *testing.T) {
	d := openDB(t)
	appendN(t, d, 2)
	for _, q := range []string{`UPDATE audit_log SET actor = 'x' WHERE seq = 1`, `DELETE FROM audit_log WHERE seq = 2`} {
		if _, err := d.Write.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", q, err)
		}
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name       string
		stmt       string
		args       []any
		wantSeq    int64
		wantReason string
	}{
		{"edited actor", `UPDATE audit_log SET actor = 'someone-else@example.com' WHERE seq = 4`, nil, 4, "hash does not match"},
		{"edited details", `UPDATE audit_log SET details = '{"i":6}' WHERE seq = 7`, nil, 7, "hash does not match"},
		{"edited time", `UPDATE audit_log SET at = '2020-01-01T00:00:00.000Z' WHERE seq = 1`, nil, 1, "hash does not match"},
		// Rewriting a row's hash to match its new contents moves the break to the next entry.
		{"deleted row", `DELETE FROM audit_log WHERE seq = 3`, nil, 3, "entry missing"},
		{"deleted first row", `DELETE FROM audit_log WHERE seq = 1`, nil, 1, "entry missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := openDB(t)
			appendN(t, d, 8)
			tamper(t, d, tt.stmt, tt.args...)
			n, err := Verify(context.Background(), d.Read)
			var broken *BrokenError
			if !errors.As(err, &broken) {
				t.Fatalf("Verify = %d, %v; want a BrokenError", n, err)
			}
			if broken.Seq != tt.wantSeq || !strings.Contains(broken.Reason, tt.wantReason) {
				t.Errorf("got %q, want seq %d with %q", err, tt.wantSeq, tt.wantReason)
			}
			if want := fmt.Sprintf("broken at seq %d: ", tt.wantSeq); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("message %q does not start with %q", err, want)
			}
			if n != tt.wantSeq-1 {
				t.Errorf("%d entries verified before the break, want %d", n, tt.wantSeq-1)
			}
		})
	}
	t.Run("edited and rehashed", func(t *testing.T) {
		// Recomputing the edited row's own hash moves the break to the next entry.
		d := openDB(t)
		appendN(t, d, 8)
		e, _ := List(context.Background(), d.Read, Filter{Before: 6, Limit: 1})
		forged := hash(e[0].Seq, e[0].At.Format(TimeFormat), "forger@example.com", e[0].Action, e[0].Subject, e[0].DetailsJSON(), e[0].PrevHash)
		tamper(t, d, `UPDATE audit_log SET actor = 'forger@example.com', hash = ? WHERE seq = 5`, forged)
		_, err := Verify(context.Background(), d.Read)
		if err == nil || err.Error() != "broken at seq 6: prev_hash does not match the previous entry's hash" {
			t.Fatalf("Verify: %v", err)
		}
	})
	t.Run("deleted last row is not detectable from the chain alone", func(t *testing.T) {
		// Documented limit: truncating the newest entries leaves a valid, shorter chain;
		// exports and backups of the head hash are what catch that.
		d := openDB(t)
		appendN(t, d, 3)
		tamper(t, d, `DELETE FROM audit_log WHERE seq = 3`)
		if n, err := Verify(context.Background(), d.Read); n != 2 || err != nil {
			t.Fatalf("Verify = %d, %v", n, err)
		}
	})
}

func TestListFiltersAndKeyset(t *testing.T) {
	d := openDB(t)
	ctx := context.Background()
	appendN(t, d, 12)
	seqs := func(es []Entry) string {
		var s []string
		for _, e := range es {
			s = append(s, fmt.Sprint(e.Seq))
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		name string
		f    Filter
		want string
	}{
		{"newest first", Filter{Limit: 3}, "12,11,10"},
		{"before", Filter{Before: 10, Limit: 3}, "9,8,7"},
		{"actor", Filter{Actor: "user0@example.com"}, "10,7,4,1"},
		{"action prefix", Filter{Action: "user."}, "11,8,5,2"},
		{"action prefix with wildcard characters is literal", Filter{Action: "user%"}, ""},
		{"subject", Filter{Subject: "subject-1"}, "10,6,2"},
		{"combined with keyset", Filter{Actor: "user1@example.com", Before: 8}, "5,2"},
		{"ascending after", Filter{After: 9, Asc: true}, "10,11,12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := List(ctx, d.Read, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if seqs(got) != tt.want {
				t.Errorf("got %s, want %s", seqs(got), tt.want)
			}
		})
	}
	got, _ := List(ctx, d.Read, Filter{Limit: 1})
	if got[0].Details["note"] != "Nguyễn" || got[0].DetailsJSON() == "" {
		t.Errorf("details not read back: %+v", got[0])
	}
}
