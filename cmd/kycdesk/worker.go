package main

import (
	"context"
	"log/slog"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/config"
	"github.com/kycdesk/kycdesk/internal/ingest"
)

// startWorker starts the back half of ingestion: the inbox worker, which turns committed
// deliveries into cases. It needs startIngest's inbox (for its wake-up) and integrations.
// When ctx ends it abandons what it holds unmarked; those rows resume at the next start.
func (bg *background) startWorker(ctx context.Context, cfg config.Config, st *store, log *slog.Logger) error {
	bg.cases = &cases.Store{DB: st.db, Sealer: st.sealer, Routing: cases.Routing{SLA: cfg.SLA},
		AutoAssign: cfg.AutoAssign}
	w := ingest.NewWorker(ingest.WorkerConfig{
		DB: st.db, Inbox: st.inbox, Sealer: st.sealer, Cases: bg.cases, Integrations: bg.integrations.Store(),
		Metrics: bg.metrics, Log: log.With("component", "worker"), Wake: bg.inbox.Notify(), Arrivals: bg.inbox.Arrivals, AckWait: bg.inbox.AckWait, Marks: bg.inbox.Mark, PaceRows: cfg.WorkerPaceRows,
		MaxAttempts: cfg.InboxMaxAttempts, LowConfidence: cfg.LowConfidence,
	})
	bg.wg.Add(1)
	go func() {
		defer bg.wg.Done()
		if err := w.Run(ctx); err != nil {
			log.Error("inbox worker stopped", "err", err)
		}
	}()
	return nil
}
