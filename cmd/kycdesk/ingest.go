package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/kycdesk/kycdesk/internal/config"
	"github.com/kycdesk/kycdesk/internal/ingest"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/metrics"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// startIngest starts the front half of ingestion: the integration cache (reloaded when
// another process such as `kycdesk integration add` changes the table), the inbox
// committer, and the separate metrics listener when --metrics-addr asks for one.
func (bg *background) startIngest(ctx context.Context, cfg config.Config, st *store, log *slog.Logger) error {
	bg.metrics = metrics.New()
	// The connection pools: go_sql_wait_count_total says when requests queue for a connection.
	bg.metrics.Registry.MustRegister(
		collectors.NewDBStatsCollector(st.db.Read, "read"), collectors.NewDBStatsCollector(st.db.Write, "write"),
		collectors.NewDBStatsCollector(st.inbox.Read, "inbox_read"), collectors.NewDBStatsCollector(st.inbox.Write, "inbox_write"))
	bg.integrations = integration.NewRegistry(integration.NewStore(st.db, st.sealer), log)
	if err := bg.integrations.Load(ctx); err != nil {
		return err
	}
	bg.inbox = ingest.New(st.inbox, st.db, st.sealer, bg.metrics, log, nil, ingest.Options{BatchMax: cfg.InboxBatchMax})

	bg.wg.Add(2)
	go func() {
		defer bg.wg.Done()
		bg.integrations.Run(ctx)
	}()
	go func() {
		defer bg.wg.Done()
		if err := bg.inbox.Run(ctx); err != nil {
			log.Error("inbox committer stopped", "err", err)
		}
	}()

	if cfg.MetricsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return usagef("listen on --metrics-addr %s: %v", cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", bg.metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	bg.wg.Add(2)
	go func() {
		defer bg.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	go func() {
		defer bg.wg.Done()
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	log.Info("metrics listening", "addr", ln.Addr().String())
	return nil
}
