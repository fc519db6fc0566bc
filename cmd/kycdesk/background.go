package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/kycdesk/kycdesk/handlers"
	"github.com/kycdesk/kycdesk/internal/config"
)

// background is the work a server runs beside HTTP: the inbox worker, the stats
// flusher, the integration reloader. wire hands the HTTP layer what it shares with them.
type background struct {
	wg sync.WaitGroup
}

func startBackground(ctx context.Context, cfg config.Config, st *store, log *slog.Logger) (*background, error) {
	bg := &background{}
	return bg, nil
}

func (bg *background) wire(srv *handlers.Server) {}

func (bg *background) wait() { bg.wg.Wait() }
