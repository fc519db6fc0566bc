package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/kycdesk/kycdesk/handlers"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/config"
	"github.com/kycdesk/kycdesk/internal/ingest"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/metrics"
)

// background is the work a server runs beside HTTP: the inbox worker, the stats
// flusher, the integration reloader. wire hands the HTTP layer what it shares with them.
type background struct {
	wg sync.WaitGroup

	// Ingestion (ingest.go): metrics registry, integration cache, inbox committer.
	metrics      *metrics.Metrics
	integrations *integration.Registry
	inbox        *ingest.Inbox

	// The inbox worker (worker.go) and the case store it writes through.
	cases *cases.Store
}

func startBackground(ctx context.Context, cfg config.Config, st *store, log *slog.Logger) (*background, error) {
	bg := &background{}
	if err := bg.startIngest(ctx, cfg, st, log); err != nil {
		return nil, err
	}
	bg.startBackfill(ctx, st, log) // duplicates lookup (backfill.go)
	if cfg.NoWorker {
		return bg, nil
	}
	if err := bg.startWorker(ctx, cfg, st, log); err != nil {
		return nil, err
	}
	// Decisions going out (outbox.go).
	if err := bg.startOutbox(ctx, cfg, st, log); err != nil {
		return nil, err
	}
	return bg, nil
}

func (bg *background) wire(srv *handlers.Server) {
	srv.Metrics, srv.Integrations, srv.Inbox = bg.metrics, bg.integrations, bg.inbox
}

func (bg *background) wait() { bg.wg.Wait() }
