package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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

	// The queues' in-memory index (pages and searches), built at start and kept caught up.
	search *cases.SearchIndex
}

func startBackground(ctx context.Context, cfg config.Config, st *store, log *slog.Logger) (*background, error) {
	bg := &background{}
	if err := bg.startIngest(ctx, cfg, st, log); err != nil {
		return nil, err
	}
	bg.startBackfill(ctx, st, log) // duplicates lookup (backfill.go)
	bg.startSearchIndex(ctx, st)
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
	srv.Metrics, srv.Integrations, srv.Inbox, srv.Search = bg.metrics, bg.integrations, bg.inbox, bg.search
}

// searchIndexCatchUp is how often the queue index reads the cases changed since it last
// looked, requests or not: each queue page catches it up too, so this only keeps a quiet
// spell's changes from piling up for the next page to read.
const searchIndexCatchUp = time.Second

// startSearchIndex builds the queues' in-memory index in the background (pages are read
// from SQLite until it is ready: about 20 s at a million cases) and keeps it caught up.
// /metrics says when it is ready and how many cases it holds.
func (bg *background) startSearchIndex(ctx context.Context, st *store) {
	bg.search = cases.NewSearchIndex(st.db)
	bg.search.Start(ctx, searchIndexCatchUp)
	bg.wg.Add(1)
	go func() {
		defer bg.wg.Done()
		<-ctx.Done()
		bg.search.Wait()
	}()
	bg.metrics.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kycdesk_search_index_ready",
			Help: "1 when queue pages and searches are answered from the in-memory index, 0 while it is built."},
			func() float64 { return b2f(bg.search.Ready()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kycdesk_search_index_cases",
			Help: "Cases held by the queues' in-memory index."},
			func() float64 { return float64(bg.search.Cases()) }))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (bg *background) wait() { bg.wg.Wait() }
