package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestHashInputMatchesJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnl\ncr\rbs\bff\f",
		"\x00\x01\x1f\x7f", "Nguyễn Thu Hương", "line\u2028para\u2029", "bad \xff utf-8 \xc3", "emoji 🙂"} {
		checkHashInput(t, 42, s)
	}
}

func FuzzHashInput(f *testing.F) {
	f.Add(int64(1), "Nguyễn <b>&", `{"a":"b"}`)
	f.Add(int64(-7), "\xff\u2028", "\x00")
	f.Fuzz(func(t *testing.T, seq int64, a, b string) {
		checkHashInput(t, seq, a)
		want, _ := json.Marshal([]any{seq, a, b, a, b, a, b})
		if got := hashInput(nil, seq, []byte(a), []byte(b), []byte(a), []byte(b), []byte(a), []byte(b)); string(got) != string(want) {
			t.Fatalf("got %s, want %s", got, want)
		}
	})
}

func checkHashInput(t *testing.T, seq int64, s string) {
	t.Helper()
	want, _ := json.Marshal([]any{seq, s, "actor", s, "subject", "{}", s})
	got := hashInput(nil, seq, []byte(s), []byte("actor"), []byte(s), []byte("subject"), []byte("{}"), []byte(s))
	if string(got) != string(want) {
		t.Errorf("%q: got %s, want %s", s, got, want)
	}
}

// entries reads the whole chain, oldest first.
func entries(t *testing.T, d *sql.DB) []Entry {
	t.Helper()
	es, err := List(context.Background(), d, Filter{Asc: true, Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// forge replaces the whole chain with es, each entry rehashed and chained again from the
// genesis hash: what an attacker with the file and this source code can do.
func forge(t *testing.T, raw *sql.DB, es []Entry) {
	t.Helper()
	edit(t, raw, `DELETE FROM audit_log`)
	prev := Genesis
	for i, e := range es {
		seq := int64(i + 1)
		at := e.At.UTC().Format(TimeFormat)
		h := hash(seq, at, e.Actor, e.Action, e.Subject, e.details, prev)
		if _, err := raw.Exec(`INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			seq, at, e.Actor, e.Action, e.Subject, e.details, prev, h); err != nil {
			t.Fatal(err)
		}
		prev = h
	}
}

// TestTamperKinds edits the trail behind kycdesk's back (triggers dropped, as an attacker
// with the file would) in each way the issue names, and checks what Verify says with and
// without a checkpoint of the head taken before the edit.
func TestTamperKinds(t *testing.T) {
	const size = 10
	tests := []struct {
		name string
		edit func(t *testing.T, w *sql.DB)
		// want without a checkpoint, and with one of the pre-edit head; "" means it verifies.
		plain, withCheckpoint string
	}{
		{"update a row", func(t *testing.T, w *sql.DB) {
			edit(t, w, `UPDATE audit_log SET details = '{"i":99}' WHERE seq = 4`)
		}, "broken at seq 4: hash does not match", "broken at seq 4: hash does not match"},
		{"update a row and rehash it", func(t *testing.T, w *sql.DB) {
			es := entries(t, w)
			e := es[3]
			h := hash(e.Seq, e.At.Format(TimeFormat), "mallory@example.com", e.Action, e.Subject, e.details, e.PrevHash)
			edit(t, w, `UPDATE audit_log SET actor = 'mallory@example.com', hash = ? WHERE seq = 4`, h)
		}, "broken at seq 5: prev_hash does not match", "broken at seq 5: prev_hash does not match"},
		{"delete a row", func(t *testing.T, w *sql.DB) {
			edit(t, w, `DELETE FROM audit_log WHERE seq = 6`)
		}, "broken at seq 6: entry missing", "broken at seq 6: entry missing"},
		{"insert a row in the middle", func(t *testing.T, w *sql.DB) {
			// Make room at seq 5 by renumbering the rows after it (in reverse, for the key).
			edit(t, w, `UPDATE audit_log SET seq = seq + 100 WHERE seq >= 5`)
			if _, err := w.Exec(`UPDATE audit_log SET seq = seq - 99 WHERE seq >= 105`); err != nil {
				t.Fatal(err)
			}
			es := entries(t, w)
			at := es[3].At.Add(time.Millisecond).Format(TimeFormat)
			h := hash(5, at, "mallory@example.com", "case.approved", "vrf-x", "{}", es[3].Hash)
			if _, err := w.Exec(`INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) VALUES (5, ?, 'mallory@example.com', 'case.approved', 'vrf-x', '{}', ?, ?)`, at, es[3].Hash, h); err != nil {
				t.Fatal(err)
			}
		}, "broken at seq 6: prev_hash does not match", "broken at seq 6: prev_hash does not match"},
		{"insert a row at the end without its hash", func(t *testing.T, w *sql.DB) {
			es := entries(t, w)
			if _, err := w.Exec(`INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) VALUES (?, '2026-11-21T00:00:00.000Z', 'mallory@example.com', 'case.approved', 'vrf-x', '{}', ?, 'feed')`, size+1, es[size-1].Hash); err != nil {
				t.Fatal(err)
			}
		}, "broken at seq 11: hash does not match", "broken at seq 11: hash does not match"},
		{"truncate the end", func(t *testing.T, w *sql.DB) {
			edit(t, w, `DELETE FROM audit_log WHERE seq > 7`)
		}, "", "broken at seq 10: entry missing: the chain ends at seq 7, before the checkpoint 10:"},
		{"rewrite the whole chain", func(t *testing.T, w *sql.DB) {
			es := entries(t, w)
			es[2].Actor = "mallory@example.com"
			forge(t, w, es)
		}, "", "broken at seq 10: hash differs from the checkpoint 10:"},
		{"rewrite the chain from the start, longer", func(t *testing.T, w *sql.DB) {
			es := entries(t, w)
			es = append(es[:1], es...) // one entry duplicated: every seq after it moves
			forge(t, w, es)
		}, "", "broken at seq 10: hash differs from the checkpoint 10:"},
	}
	for _, tt := range tests {
		for _, withCP := range []bool{false, true} {
			for _, k := range []int64{1, 2, 3} {
				t.Run(fmt.Sprintf("%s/checkpoint=%v/ranges=%d", tt.name, withCP, k), func(t *testing.T) {
					d := openDB(t)
					appendN(t, d, size)
					var cps []Checkpoint
					if withCP {
						head := entries(t, d.Read)[size-1]
						cp, err := ParseCheckpoint(fmt.Sprintf("%d:%s", head.Seq, head.Hash))
						if err != nil {
							t.Fatal(err)
						}
						cps = append(cps, cp)
						if _, err := VerifyAgainst(context.Background(), d.Read, cps...); err != nil {
							t.Fatalf("before the edit: %v", err)
						}
					}
					tt.edit(t, d.Write)
					// The ranges are laid over the chain as it was, as a walk started just before the edit would.
					_, err := verifyParts(context.Background(), d.Read, size, k, cps)
					want := tt.plain
					if withCP {
						want = tt.withCheckpoint
					}
					switch {
					case want == "" && err != nil:
						t.Fatalf("Verify: %v, want it to pass (the limit a checkpoint closes)", err)
					case want != "" && (err == nil || !strings.HasPrefix(err.Error(), want)):
						t.Fatalf("Verify: %v, want %q…", err, want)
					}
					var broken *BrokenError
					if want != "" && !errors.As(err, &broken) {
						t.Fatalf("%T is not a *BrokenError", err)
					}
				})
			}
		}
	}
}

func TestCheckpoint(t *testing.T) {
	d := openDB(t)
	ctx := context.Background()
	appendN(t, d, 3)
	var cp Checkpoint
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		cp, err = TakeCheckpoint(ctx, tx, "cli", time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	head := entries(t, d.Read)[3]
	if cp.Seq != 4 || cp.Hash != head.Hash || head.Action != "audit.checkpoint_taken" || head.Actor != "cli" {
		t.Fatalf("checkpoint %v, head %+v", cp, head)
	}
	parsed, err := ParseCheckpoint(cp.String())
	if err != nil || parsed.Seq != cp.Seq || parsed.Hash != cp.Hash {
		t.Fatalf("ParseCheckpoint(%q) = %v, %v", cp.String(), parsed, err)
	}
	recent, err := RecentCheckpoints(ctx, d.Read, 5)
	if err != nil || len(recent) != 1 || recent[0].String() != cp.String() || recent[0].TakenBy != "cli" {
		t.Fatalf("RecentCheckpoints = %v, %v", recent, err)
	}
	if n, err := VerifyAgainst(ctx, d.Read, recent...); n != 4 || err != nil {
		t.Fatalf("VerifyAgainst = %d, %v", n, err)
	}
	for _, bad := range []string{"", "4", "0:" + cp.Hash, "-1:" + cp.Hash, "x:" + cp.Hash, "4:" + strings.ToUpper(cp.Hash), "4:abc", "4:" + cp.Hash + "0"} {
		if _, err := ParseCheckpoint(bad); err == nil {
			t.Errorf("ParseCheckpoint(%q) accepted", bad)
		}
	}
}

// edit runs stmt on the writer with the append-only triggers dropped first.
func edit(t *testing.T, w *sql.DB, stmt string, args ...any) {
	t.Helper()
	for _, q := range []string{`DROP TRIGGER IF EXISTS audit_log_no_update`, `DROP TRIGGER IF EXISTS audit_log_no_delete`, stmt} {
		a := args
		if q != stmt {
			a = nil
		}
		if _, err := w.Exec(q, a...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
