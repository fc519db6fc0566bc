package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/config"
	"github.com/kycdesk/kycdesk/internal/crypto"
)

// testEnv is a real server on a real SQLite file in a temp dir, driven through
// the real Fiber router with app.Test: no mocks of our own code.
type testEnv struct {
	t      *testing.T
	srv    *Server
	app    *fiber.App
	db     *db.DB
	sealer *crypto.Sealer
	now    time.Time // the injected clock; advance it with env.advance
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	dir := t.TempDir()
	d, err := db.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	key, err := crypto.LoadMasterKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := crypto.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.InsecureCookies = true
	env := &testEnv{t: t, db: d, sealer: sealer, now: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)}
	env.srv = &Server{Config: cfg, DB: d, Sealer: sealer, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return env.now }}
	env.app = env.srv.App()
	return env
}

func (e *testEnv) advance(d time.Duration) { e.now = e.now.Add(d) }

// do sends req through the router and returns the response with its body read.
func (e *testEnv) do(req *http.Request) (*http.Response, string) {
	e.t.Helper()
	resp, err := e.app.Test(req, -1)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}
