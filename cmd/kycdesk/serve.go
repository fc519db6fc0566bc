package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/kycdesk/kycdesk/handlers"
	"github.com/kycdesk/kycdesk/internal/config"
	"github.com/kycdesk/kycdesk/internal/lowprio"
)

// serveFlags parses the serve command line into a Config. Each flag's default comes from
// its environment twin (env.go), so `serve -h` lists both.
func (m *Main) serveFlags(name string, args []string) (config.Config, error) {
	cfg := config.Default()
	f := newFlags(name)
	var err error
	f.StringVar(&cfg.Addr, "addr", m.envString("addr", cfg.Addr), withEnv("listen address", "addr"))
	data := m.dataFlag(f)
	publicURL := f.String("public-url", m.envString("public-url", ""),
		withEnv("base URL of webhook URLs shown to admins (default: http://ADDR)", "public-url"))
	if cfg.InsecureCookies, err = m.envBool("insecure-cookies", false); err != nil {
		return cfg, err
	}
	f.BoolVar(&cfg.InsecureCookies, "insecure-cookies", cfg.InsecureCookies, withEnv("send cookies without Secure (plain HTTP)", "insecure-cookies"))
	f.StringVar(&cfg.MetricsAddr, "metrics-addr", m.envString("metrics-addr", ""),
		withEnv("serve /metrics on this address instead of --addr", "metrics-addr"))
	var proxies multi
	f.Var(&proxies, "trusted-proxy", withEnv("CIDR of a proxy whose X-Forwarded-For is trusted (repeatable; env: comma-separated)", "trusted-proxy"))
	if cfg.SessionIdle, err = m.envDuration("session-idle", cfg.SessionIdle); err != nil {
		return cfg, err
	}
	f.DurationVar(&cfg.SessionIdle, "session-idle", cfg.SessionIdle, withEnv("session idle timeout", "session-idle"))
	if cfg.SessionLifetime, err = m.envDuration("session-lifetime", cfg.SessionLifetime); err != nil {
		return cfg, err
	}
	f.DurationVar(&cfg.SessionLifetime, "session-lifetime", cfg.SessionLifetime, withEnv("session absolute lifetime", "session-lifetime"))
	if cfg.NoWorker, err = m.envBool("no-worker", false); err != nil {
		return cfg, err
	}
	f.BoolVar(&cfg.NoWorker, "no-worker", cfg.NoWorker,
		withEnv("take deliveries into the inbox without processing them (another server processes; tests)", "no-worker"))
	if cfg.AutoAssign, err = m.envBool("auto-assign", false); err != nil {
		return cfg, err
	}
	f.BoolVar(&cfg.AutoAssign, "auto-assign", cfg.AutoAssign,
		withEnv("give each new case round-robin to an available analyst or lead", "auto-assign"))
	if err := f.parse(args); err != nil {
		return cfg, err
	}
	if len(proxies) == 0 {
		proxies = m.envList("trusted-proxy")
	}
	cfg.DataDir = *data
	if cfg.TrustedProxies, err = parsePrefixes(proxies); err != nil {
		return cfg, err
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return cfg, usagef("%s: bad --addr %q", name, cfg.Addr)
	}
	cfg.PublicURL = *publicURL
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + cfg.Addr
	}
	return cfg, nil
}

func (m *Main) serve(ctx context.Context, args []string) error {
	cfg, err := m.serveFlags("serve", args)
	if err != nil {
		return err
	}
	return m.runServer(ctx, cfg, nil)
}

// runServer serves until ctx ends, then finishes in-flight requests and stops.
// started, when not nil, receives the listening base URL once requests are accepted.
func (m *Main) runServer(ctx context.Context, cfg config.Config, started func(baseURL string)) error {
	// The inbox worker and exports run on lowered threads; spare Ps keep them from holding
	// the ones requests need (internal/lowprio).
	lowprio.Reserve(os.Getenv)
	lowprio.TuneGC(os.Getenv)
	st, err := openStore(ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	log := newLogger(m.Stderr, cfg.Demo)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return usagef("listen on %s: %v", cfg.Addr, err)
	}
	base := "http://" + ln.Addr().String()
	if cfg.PublicURL == "http://"+cfg.Addr {
		cfg.PublicURL = base // --addr with port 0: show the real port
	}

	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	bg, err := startBackground(bgCtx, cfg, st, log)
	if err != nil {
		stopBackground()
		ln.Close()
		return err
	}
	srv := &handlers.Server{Config: cfg, DB: st.db, Sealer: st.sealer, Log: log}
	bg.wire(srv)
	app := srv.App()

	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }()
	m.printf("kycdesk listening on %s\n", base)
	log.Info("listening", "addr", ln.Addr().String(), "data", cfg.DataDir)
	if started != nil {
		started(base)
	}

	select {
	case err := <-errc:
		stopBackground()
		bg.wait()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutdownErr := app.ShutdownWithTimeout(cfg.ShutdownTimeout)
	stopBackground()
	waitOrTimeout(bg.wait, backgroundStopLimit, log)
	if shutdownErr != nil && !errors.Is(shutdownErr, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	log.Info("stopped")
	return nil
}

// backgroundStopLimit bounds the wait for background work after the HTTP server drained.
// With cfg.ShutdownTimeout it must stay under the 10 s in which DESIGN.md says serve exits.
const backgroundStopLimit = 2 * time.Second

func waitOrTimeout(wait func(), d time.Duration, log *slog.Logger) {
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		log.Warn("background work did not stop in time")
	}
}
