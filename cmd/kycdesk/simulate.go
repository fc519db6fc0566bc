package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/simulator"
)

// probability is a flag value in 0..1; "5%" and values in (1, 100] are read as percent.
type probability float64

func (p *probability) String() string { return strconv.FormatFloat(float64(*p), 'g', -1, 64) }
func (p *probability) Set(s string) error {
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || v < 0 || v > 100 {
		return errors.New("want a probability such as 0.05 or 5%")
	}
	if pct || v > 1 {
		v /= 100
	}
	*p = probability(v)
	return nil
}

// simulate plays a provider against a running kycdesk (DESIGN.md, "Provider simulator").
func (m *Main) simulate(ctx context.Context, args []string) error {
	f := newFlags("simulate")
	target := f.String("target", "", "kycdesk base URL, e.g. http://127.0.0.1:8080")
	provider := f.String("provider", "", "frankieone, fptai or generic")
	rate := f.Float64("rate", 50, "deliveries per second")
	count := f.Int("count", 100, "distinct verifications (new cases)")
	var dup, ooo probability
	f.Var(&dup, "duplicates", "probability that a delivery is sent again (0..1 or N%)")
	f.Var(&ooo, "out-of-order", "probability that an older result arrives after a newer one")
	mix := f.String("mix", "", "outcome mix: a preset (demo, clean, risky) or name=weight,...")
	linger := f.Duration("linger", 30*time.Second, "keep serving the provider API this long after the last delivery")
	data := f.String("data", "", "the target server's data dir: register simulator-<provider> there")
	integ := f.String("integration", "", "without --data: the integration id to post to")
	secret := f.String("secret", "", "without --data: the hmac secret (whsec_...)")
	token := f.String("token", "", "without --data: the fptai token")
	tokenHeader := f.String("token-header", "", "without --data: the token header (default X-Webhook-Token)")
	dataKey := f.String("data-key", "", "fptai: wrap each callback under this key")
	apiAddr := f.String("api-addr", "127.0.0.1:0", "where the simulated provider API listens")
	seed := f.Int64("seed", 0, "random seed (0: from the clock)")
	if err := f.parse(args); err != nil {
		return err
	}
	switch {
	case *target == "":
		return usagef("simulate: --target URL is required")
	case *provider != simulator.FrankieOne && *provider != simulator.FPTAI && *provider != simulator.Generic:
		return usagef("simulate: --provider must be frankieone, fptai or generic")
	case *count < 1:
		return usagef("simulate: --count must be at least 1")
	case *rate <= 0:
		return usagef("simulate: --rate must be positive")
	case *data == "" && *integ == "":
		return usagef("simulate: give --data DIR (registers its own integration) or --integration ID")
	}
	if _, err := simulator.ParseMix(*provider, *mix); err != nil {
		return usagef("simulate: --mix: %v", err)
	}
	base := strings.TrimRight(*target, "/")

	srv := simulator.NewServer(simulator.ServerConfig{Out: m.Stderr})
	apiBase, err := srv.Start(*apiAddr)
	if err != nil {
		return usagef("simulate: listen on %s: %v", *apiAddr, err)
	}
	defer srv.Close()

	send := simulator.Auth{Secret: *secret, Token: *token, TokenHeader: *tokenHeader, DataKey: *dataKey}
	if *data != "" {
		in, sec, err := registerSimulator(ctx, *data, *provider, apiBase, srv, *dataKey)
		if err != nil {
			return err
		}
		*integ, send.Secret, send.Token = in.ID, sec, sec
	}
	send.WebhookURL = base + "/webhooks/" + *provider + "/" + *integ

	stats, err := simulator.Run(ctx, simulator.Options{
		Target: base, Provider: *provider, Rate: *rate, Count: *count,
		Duplicates: float64(dup), OutOfOrder: float64(ooo), Mix: *mix, Linger: *linger,
		Seed: *seed, Auth: send, Out: m.Stdout,
	}, srv)
	if err != nil {
		return err
	}
	if stats.Failed > 0 || stats.Rejected4xx > 0 {
		return fmt.Errorf("simulate: %d deliveries failed, %d refused", stats.Failed, stats.Rejected4xx)
	}
	return nil
}

// registerSimulator creates or refreshes the integration simulator-<provider> in the
// target's data dir, pointing its provider API at this run's simulated API. It returns
// the secret (hmac) or token (fptai) to send with.
func registerSimulator(ctx context.Context, dataDir, provider, apiBase string, srv *simulator.Server, dataKey string) (*integration.Integration, string, error) {
	st, err := openStore(ctx, dataDir)
	if err != nil {
		return nil, "", err
	}
	defer st.Close()
	store := integration.NewStore(st.db, st.sealer)
	return ensureSimulatorIntegration(ctx, store, provider, apiBase, srv, dataKey)
}

// simulatorSpec is the integration a simulated provider sends through: hmac for
// generic, a token for FPT.AI, the loopback allowlist for FrankieOne, whose API is the
// simulator's own.
func simulatorSpec(provider, apiBase string, srv *simulator.Server) integration.Spec {
	spec := integration.Spec{Name: "simulator-" + provider, Provider: provider, APIURL: apiBase}
	switch provider {
	case simulator.Generic:
		spec.AuthMode = integration.AuthHMAC
	case simulator.FPTAI:
		spec.AuthMode = integration.AuthToken
	case simulator.FrankieOne:
		spec.AuthMode, spec.AllowIPs = integration.AuthIP, []string{"127.0.0.1/32"}
		spec.APIURL, spec.APIKey, spec.CustomerID = apiBase+"/v2", srv.APIKey(), srv.CustomerID()
	}
	return spec
}

func ensureSimulatorIntegration(ctx context.Context, store *integration.Store, provider, apiBase string, srv *simulator.Server, dataKey string) (*integration.Integration, string, error) {
	const actor = auth.CLIActor
	spec := simulatorSpec(provider, apiBase, srv)
	spec.DataKey = dataKey
	in, err := store.FindByName(ctx, spec.Name)
	if errs.Code(err) == errs.NotFound {
		return store.Create(ctx, actor, spec)
	}
	if err != nil {
		return nil, "", err
	}
	// Known from an earlier run: point it at this run's API and, where there is a
	// secret, issue a fresh one (the earlier run's stays valid for an hour).
	api := integration.APISettings{APIURL: spec.APIURL, APIKey: spec.APIKey, CustomerID: spec.CustomerID, DataKey: dataKey}
	if err := store.UpdateAPI(ctx, actor, in.ID, api); err != nil {
		return nil, "", err
	}
	var secret string
	if integration.UsesSecret(in.AuthMode) {
		if secret, err = store.RotateSecret(ctx, actor, in.ID, time.Hour); err != nil {
			return nil, "", err
		}
	}
	// A running server reloads changed integrations within a second.
	time.Sleep(1200 * time.Millisecond)
	return in, secret, nil
}
