package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/config"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/simulator"
)

// demoUser is one of the accounts the demo creates (one per role, and a second lead).
type demoUser struct {
	role     auth.Role
	email    string
	name     string
	password string
}

// demoFeed is how much each simulated provider sends in the first minute: about 200
// cases in all, a realistic mix, then a trickle.
var demoFeed = []struct {
	provider string
	count    int
	rate     float64
}{
	{simulator.FPTAI, 80, 6},
	{simulator.FrankieOne, 60, 5},
	{simulator.Generic, 60, 5},
}

// demo runs a throwaway kycdesk with demo users and the provider simulator feeding it.
func (m *Main) demo(ctx context.Context, args []string) error {
	cfg := config.Default()
	f := newFlags("demo")
	f.StringVar(&cfg.Addr, "addr", m.env("KYCDESK_ADDR", cfg.Addr), "listen address")
	keep := f.Bool("keep", false, "keep the demo's data dir when it stops")
	trickle := f.Duration("trickle", 20*time.Second, "after the first wave, one new verification per provider this often (0: none)")
	if err := f.parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "kycdesk-demo-")
	if err != nil {
		return err
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	cfg.DataDir, cfg.InsecureCookies, cfg.Demo = dir, true, true
	cfg.PublicURL = "http://" + cfg.Addr

	users := []demoUser{
		{auth.Analyst, "analyst@demo.kycdesk.test", "An Nguyễn (analyst)", ""},
		{auth.Lead, "lead@demo.kycdesk.test", "Linh Trần (lead)", ""},
		// A second lead: a four-eyes case needs two different leads to approve it.
		{auth.Lead, "lead2@demo.kycdesk.test", "Minh Lê (second lead)", ""},
		{auth.Admin, "admin@demo.kycdesk.test", "Ada Admin", ""},
		{auth.Auditor, "auditor@demo.kycdesk.test", "Audrey Auditor", ""},
	}
	sims, err := prepareDemo(ctx, dir, users)
	if err != nil {
		return err
	}
	defer func() {
		for _, s := range sims {
			s.srv.Close()
		}
	}()

	var feeders sync.WaitGroup
	feedCtx, stopFeed := context.WithCancel(ctx)
	defer func() { stopFeed(); feeders.Wait() }()
	started := func(base string) {
		m.printDemoBanner(base, dir, users, *keep)
		for _, s := range sims {
			feeders.Add(1)
			go func() {
				defer feeders.Done()
				s.feed(feedCtx, base, *trickle)
			}()
		}
	}
	return m.runServer(ctx, cfg, started)
}

// demoSim is one simulated provider with the integration it sends through.
type demoSim struct {
	provider string
	count    int
	rate     float64
	srv      *simulator.Server
	in       *integration.Integration
	secret   string
}

// prepareDemo creates the demo users and one simulated provider (with its
// integration) per provider, before the server starts.
func prepareDemo(ctx context.Context, dir string, users []demoUser) ([]*demoSim, error) {
	st, err := openStore(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	accounts := auth.NewUsers(st.db, auth.NewHasher(0), st.sealer, nil)
	for i := range users {
		users[i].password = "demo-" + crypto.RandomToken(9)
		_, err := accounts.Create(ctx, "demo", auth.NewUser{Email: users[i].email, Name: users[i].name, Role: users[i].role, Password: users[i].password})
		if err != nil {
			return nil, fmt.Errorf("demo user %s: %w", users[i].email, err)
		}
	}
	store := integration.NewStore(st.db, st.sealer)
	var sims []*demoSim
	for _, feed := range demoFeed {
		srv := simulator.NewServer(simulator.ServerConfig{Out: io.Discard})
		base, err := srv.Start("127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		in, secret, err := store.Create(ctx, "demo", simulatorSpec(feed.provider, base, srv))
		if err != nil {
			srv.Close()
			return nil, err
		}
		sims = append(sims, &demoSim{provider: feed.provider, count: feed.count, rate: feed.rate, srv: srv, in: in, secret: secret})
	}
	return sims, nil
}

// feed sends the first wave, then one verification every trickle until ctx ends.
func (s *demoSim) feed(ctx context.Context, base string, trickle time.Duration) {
	opts := simulator.Options{
		Target: base, Provider: s.provider, Rate: s.rate, Count: s.count,
		Duplicates: 0.05, OutOfOrder: 0.05, Mix: "demo", Out: io.Discard,
		Auth: simulator.Auth{WebhookURL: base + s.in.WebhookPath(), Secret: s.secret, Token: s.secret},
	}
	if _, err := simulator.Run(ctx, opts, s.srv); err != nil || trickle <= 0 {
		return
	}
	_, _ = simulator.RunTrickle(ctx, opts, s.srv, trickle)
}

func (m *Main) printDemoBanner(base, dir string, users []demoUser, keep bool) {
	m.printf("\nkycdesk demo is running at %s\n\n", base)
	m.printf("Sign in as (each account enrols an authenticator app at first sign-in):\n")
	for _, u := range users {
		m.printf("  %-8s %-28s password: %s\n", u.role, u.email, u.password)
	}
	m.printf("\nSimulated FrankieOne, FPT.AI and generic providers are sending about 200 verifications now,\n")
	m.printf("then a new one every little while. Data: %s", dir)
	if !keep {
		m.printf(" (removed on exit; --keep keeps it)")
	}
	m.printf("\nStop with Ctrl-C.\n\n")
}
