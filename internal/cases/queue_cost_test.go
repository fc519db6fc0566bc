package cases_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/caseapi/caseapitest"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

// drop00009 removes what migration 00009 adds to every case write (tally and search
// triggers, filter indexes), leaving the schema as it was before.
var drop00009 = []string{
	`DROP TRIGGER cases_tally_insert`, `DROP TRIGGER cases_tally_update`, `DROP TRIGGER cases_tally_delete`,
	`DROP TRIGGER cases_search_insert`, `DROP TRIGGER cases_search_update`, `DROP TRIGGER cases_search_delete`,
	`DROP INDEX cases_open_risk_due`, `DROP INDEX cases_open_provider_due`, `DROP INDEX cases_open_risk_provider_due`,
	`DROP INDEX cases_mine_risk_due`, `DROP INDEX cases_mine_provider_due`, `DROP INDEX cases_mine_risk_provider_due`,
	`DROP INDEX cases_decided_risk`, `DROP INDEX cases_decided_provider`, `DROP INDEX cases_decided_risk_provider`,
	`DROP INDEX case_documents_list`,
}

// BenchmarkWriteCost00009 measures what migration 00009 costs a case write: 5,000 cases
// (four checks and two documents each, one transaction, the bulk INSERTs of caseapitest)
// into a fresh database with 00009's triggers and indexes, and with them dropped,
// alternating, so that both see the same machine load:
// go test -run '^$' -bench WriteCost00009 -benchtime 1x ./internal/cases/
func BenchmarkWriteCost00009(b *testing.B) {
	ctx := context.Background()
	const n, rounds = 5000, 4
	for b.Loop() {
		var with, without []time.Duration
		for r := range rounds {
			for _, drop := range []bool{false, true} {
				d, _ := testkit.Store(b)
				if drop {
					for _, q := range drop00009 {
						if _, err := d.Write.Exec(q); err != nil {
							b.Fatal(err)
						}
					}
				}
				t0 := time.Now()
				if _, err := caseapitest.Seed(ctx, d, n, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Minute, fmt.Sprint("r", r, "-")); err != nil {
					b.Fatal(err)
				}
				el := time.Since(t0)
				if drop {
					without = append(without, el)
				} else {
					with = append(with, el)
				}
				d.Close()
			}
		}
		slices.Sort(with)
		slices.Sort(without)
		mw, mo := with[rounds/2], without[rounds/2]
		b.ReportMetric(float64(mw.Microseconds())/n, "µs/case-with")
		b.ReportMetric(float64(mo.Microseconds())/n, "µs/case-without")
		b.Logf("5,000 cases: with 00009 %v (median of %d), without %v; +%.0f µs a case", mw, rounds, mo,
			float64((mw-mo).Microseconds())/n)
	}
}
