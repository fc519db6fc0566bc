package cases_test

import (
	"context"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/caseapi/caseapitest"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

// BenchmarkReviewActions measures review actions on a database of 100,000 cases (a seventh
// of them new): Next (pick by index, then claim: one transaction with its timeline, audit
// and version bump) followed by Release, a claim and release by id, and a note.
//
//	go test ./internal/cases/ -run '^$' -bench ReviewActions -benchtime 2000x
func BenchmarkReviewActions(b *testing.B) {
	ctx := context.Background()
	d, sealer := testkit.Store(b)
	seeded, err := caseapitest.Seed(ctx, d, 100_000, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Second, "vrf-")
	if err != nil {
		b.Fatal(err)
	}
	store := &cases.Store{DB: d, Sealer: sealer}
	res, err := d.Write.ExecContext(ctx, `INSERT INTO users (email, name, role, password_hash, created_at, updated_at)
		VALUES ('ana@example.com', 'Ana', 'analyst', 'x', 0, 0)`)
	if err != nil {
		b.Fatal(err)
	}
	uid, _ := res.LastInsertId()
	ana := cases.Actor{ID: uid, Email: "ana@example.com", Role: cases.RoleAnalyst}
	var newID string
	for _, c := range seeded {
		if c.Status == cases.StatusNew {
			newID = c.ID
			break
		}
	}
	b.Run("next+release", func(b *testing.B) {
		for b.Loop() {
			c, err := store.Next(ctx, ana)
			if err != nil || c == nil {
				b.Fatal(err, c)
			}
			if _, err := store.Release(ctx, c.ID, c.Version, ana); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("claim+release", func(b *testing.B) {
		for b.Loop() {
			c, err := store.Claim(ctx, newID, 0, ana)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := store.Release(ctx, c.ID, c.Version, ana); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("note", func(b *testing.B) {
		for b.Loop() {
			if _, err := store.Note(ctx, newID, ana, "checked"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
