package main

import (
	"context"
	"log/slog"

	"github.com/kycdesk/kycdesk/internal/caseapi"
	"github.com/kycdesk/kycdesk/internal/config"
	"github.com/kycdesk/kycdesk/internal/outbox"
)

// startOutbox starts the outbox worker, which sends each decision to FrankieOne (the
// execution's status override) and to the integration's decision URL. When ctx ends it
// stops; a delivery in flight is sent again at the next start (receivers deduplicate).
func (bg *background) startOutbox(ctx context.Context, _ config.Config, st *store, log *slog.Logger) error {
	w := outbox.New(outbox.Config{
		DB: st.db, Integrations: bg.integrations.Store(), Cases: &caseapi.Reader{DB: st.db, Sealer: st.sealer},
		Metrics: bg.metrics, Log: log.With("component", "outbox"),
	})
	bg.wg.Add(1)
	go func() {
		defer bg.wg.Done()
		if err := w.Run(ctx); err != nil {
			log.Error("outbox worker stopped", "err", err)
		}
	}()
	return nil
}
