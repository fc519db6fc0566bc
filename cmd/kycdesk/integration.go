package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/config"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/integration"
)

// integrationAdd registers an integration on a data dir, which a server may be running on:
// the database is WAL, so this just writes, and the server's cache sees it within a second.
func (m *Main) integrationAdd(ctx context.Context, args []string) error {
	f := newFlags("integration add")
	data := m.dataFlag(f)
	var spec integration.Spec
	f.StringVar(&spec.Provider, "provider", "", "frankieone, fptai or generic")
	f.StringVar(&spec.AuthMode, "auth", "", "hmac, token, jwt or ip")
	f.StringVar(&spec.Name, "name", "", "unique name (default <provider>-<n>)")
	f.StringVar(&spec.Secret, "secret", "", "hmac: whsec_<base64>; token: the token (default: generated)")
	f.StringVar(&spec.TokenHeader, "token-header", "", "header carrying the token (default X-Webhook-Token)")
	var allow multi
	f.Var(&allow, "allow-ip", "CIDR or address allowed to send (repeatable)")
	f.StringVar(&spec.APIURL, "api-url", "", "provider API base URL (FrankieOne: the v2 base)")
	f.StringVar(&spec.APIKey, "api-key", "", "provider API key")
	f.StringVar(&spec.CustomerID, "customer-id", "", "FrankieOne X-Frankie-CustomerID")
	jwtKey := f.String("jwt-key", "", "PEM file of FrankieOne's RS256 public key")
	f.StringVar(&spec.JWTIssuer, "jwt-issuer", "", "expected iss of FrankieOne's JWT (default io.frankiefinancial.kycaml)")
	f.StringVar(&spec.DataKey, "data-key", "", "FPT.AI callback data key the result is wrapped in")
	f.StringVar(&spec.DecisionURL, "decision-url", "", "where decisions are POSTed as signed case.decided events (prints decision_secret)")
	publicURL := f.String("public-url", m.defaultPublicURL(), "base of the webhook URL printed")
	asJSON := f.Bool("json", false, "print one JSON object")
	if err := f.parse(args); err != nil {
		return err
	}
	spec.AllowIPs = allow
	if *jwtKey != "" {
		b, err := os.ReadFile(*jwtKey)
		if err != nil {
			return usagef("integration add: --jwt-key: %v", err)
		}
		spec.JWTKeyPEM = string(b)
	}
	base := strings.TrimRight(*publicURL, "/")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return usagef("integration add: --public-url must start with http:// or https://")
	}

	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	in, secret, err := integration.NewStore(st.db, st.sealer).Create(ctx, auth.CLIActor, spec)
	if err != nil {
		if code := errs.Code(err); code == errs.Invalid || code == errs.Conflict {
			return usagef("integration add: %s", errs.Message(err))
		}
		return err
	}
	if in.AuthMode == integration.AuthIP && len(in.AllowIPs) == 0 ||
		in.AuthMode == integration.AuthJWT && in.JWTKeyPEM == "" {
		m.warnf("warning: %s has no %s configured: every delivery is refused until one is set\n",
			in.Name, map[string]string{integration.AuthIP: "allowlist", integration.AuthJWT: "JWT public key"}[in.AuthMode])
	}

	url := base + in.WebhookPath()
	if *asJSON {
		out := map[string]string{"id": in.ID, "name": in.Name, "provider": in.Provider, "auth": in.AuthMode, "webhook_url": url}
		if secret != "" {
			out["secret"] = secret
		}
		if in.DecisionSecret != "" {
			out["decision_url"], out["decision_secret"] = strings.TrimSpace(spec.DecisionURL), in.DecisionSecret
		}
		enc := json.NewEncoder(m.Stdout)
		return enc.Encode(out)
	}
	m.printf("webhook_url: %s\n", url)
	if secret != "" {
		m.printf("secret: %s\n", secret)
	}
	if in.DecisionSecret != "" {
		m.printf("decision_secret: %s\n", in.DecisionSecret)
	}
	return nil
}

// defaultPublicURL is what serve uses without --public-url: http:// and the listen address.
func (m *Main) defaultPublicURL() string {
	if addr := m.env("KYCDESK_ADDR", ""); addr != "" {
		return "http://" + addr
	}
	return config.Default().PublicURL
}

func (m *Main) warnf(format string, args ...any) {
	if m.Stderr != nil {
		fmt.Fprintf(m.Stderr, format, args...)
	}
}
