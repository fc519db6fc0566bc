package main

import (
	"context"
	"log/slog"

	"github.com/kycdesk/kycdesk/internal/cases"
)

// startBackfill fills cases.id_number_hash for cases stored before it existed (migration
// 00007), in the background: the duplicates panel of those cases is complete once it is done.
// After the first start it finds nothing and ends at once.
func (bg *background) startBackfill(ctx context.Context, st *store, log *slog.Logger) {
	bg.wg.Add(1)
	go func() {
		defer bg.wg.Done()
		n, err := (&cases.Store{DB: st.db, Sealer: st.sealer}).BackfillIDNumberHashes(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("id number hash backfill stopped", "err", err, "cases", n)
		case n > 0:
			log.Info("id number hashes backfilled", "cases", n)
		}
	}()
}
