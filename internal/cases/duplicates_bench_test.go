package cases_test

import (
	"context"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/caseapi/caseapitest"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

// BenchmarkDuplicates times the case page's duplicates lookup on 100,000 cases, each with its
// own ID number hash but 10 (1 in 10,000) sharing one:
// go test -run '^$' -bench Duplicates ./internal/cases/
func BenchmarkDuplicates(b *testing.B) {
	ctx := context.Background()
	d, sealer := testkit.Store(b)
	ids, err := caseapitest.Seed(ctx, d, 100_000, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Minute, "vrf-")
	if err != nil {
		b.Fatal(err)
	}
	shared := sealer.LookupHash("id_number", "079195001234")
	if _, err := d.Write.ExecContext(ctx, `UPDATE cases SET id_number_hash = CASE WHEN rowid % 10000 = 0 THEN ? ELSE randomblob(32) END`, shared); err != nil {
		b.Fatal(err)
	}
	store := &cases.Store{DB: d, Sealer: sealer}
	for b.Loop() {
		dups, _, err := store.Duplicates(ctx, ids[0].ID, "079195001234", 20)
		if err != nil || len(dups) != 10 {
			b.Fatalf("%d duplicates, %v; want 10", len(dups), err)
		}
	}
}
