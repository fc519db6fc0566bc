package integration

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/testkit"
	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

type fixture struct {
	store *Store
	db    *db.DB
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	d, sealer := testkit.Store(t)
	f := &fixture{db: d, now: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)}
	f.store = &Store{DB: d, Sealer: sealer, Now: func() time.Time { return f.now }}
	return f
}

func publicKeyPEM(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestCreateValidation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, _, err := f.store.Create(ctx, "cli", Spec{Name: "taken", Provider: Generic, AuthMode: AuthHMAC}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		spec Spec
		code string // "" accepted
	}{
		{"generic hmac, generated secret", Spec{Provider: Generic, AuthMode: AuthHMAC}, ""},
		{"given whsec secret", Spec{Provider: Generic, AuthMode: AuthHMAC, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, ""},
		{"fptai token with allowlist", Spec{Provider: FPTAI, AuthMode: AuthToken, AllowIPs: []string{"203.0.113.0/24", "198.51.100.7"}}, ""},
		{"frankieone ip", Spec{Provider: FrankieOne, AuthMode: AuthIP, AllowIPs: []string{"203.0.113.0/24"}}, ""},
		{"frankieone jwt", Spec{Provider: FrankieOne, AuthMode: AuthJWT, JWTKeyPEM: publicKeyPEM(t)}, ""},
		{"api settings", Spec{Provider: FrankieOne, AuthMode: AuthIP, APIURL: "https://api.uat.frankie.one/v2", APIKey: "k", CustomerID: "c"}, ""},
		{"no provider", Spec{AuthMode: AuthHMAC}, errs.Invalid},
		{"unknown provider", Spec{Provider: "onfido", AuthMode: AuthHMAC}, errs.Invalid},
		{"unknown auth", Spec{Provider: Generic, AuthMode: "basic"}, errs.Invalid},
		{"secret not in whsec form", Spec{Provider: Generic, AuthMode: AuthHMAC, Secret: "hunter2"}, errs.Invalid},
		{"secret too short", Spec{Provider: Generic, AuthMode: AuthHMAC, Secret: "whsec_c2hvcnQ="}, errs.Invalid},
		{"token too short", Spec{Provider: FPTAI, AuthMode: AuthToken, Secret: "abc"}, errs.Invalid},
		{"secret with ip auth", Spec{Provider: FrankieOne, AuthMode: AuthIP, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, errs.Invalid},
		{"bad CIDR", Spec{Provider: FrankieOne, AuthMode: AuthIP, AllowIPs: []string{"10.0.0.0/33"}}, errs.Invalid},
		{"bad jwt key", Spec{Provider: FrankieOne, AuthMode: AuthJWT, JWTKeyPEM: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}, errs.Invalid},
		{"api url not http", Spec{Provider: FrankieOne, AuthMode: AuthIP, APIURL: "ftp://example.com"}, errs.Invalid},
		{"bad token header", Spec{Provider: FPTAI, AuthMode: AuthToken, TokenHeader: "X Token"}, errs.Invalid},
		{"name taken", Spec{Name: "taken", Provider: Generic, AuthMode: AuthHMAC}, errs.Conflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, secret, err := f.store.Create(ctx, "cli", tt.spec)
			if tt.code != "" {
				if errs.Code(err) != tt.code {
					t.Fatalf("err = %v, want code %s", err, tt.code)
				}
				if strings.Contains(errs.Message(err), "\n") {
					t.Fatalf("message is not one line: %q", errs.Message(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch tt.spec.AuthMode {
			case AuthHMAC:
				if _, err := webhookauth.ParseSecret(secret); err != nil || !strings.HasPrefix(secret, "whsec_") {
					t.Fatalf("secret %q is not in whsec form", secret)
				}
				if tt.spec.Secret != "" && secret != tt.spec.Secret {
					t.Fatal("the given secret was not kept")
				}
			case AuthToken:
				if len(secret) < 24 {
					t.Fatalf("token %q", secret)
				}
			default:
				if secret != "" {
					t.Fatalf("auth %s returned a secret", tt.spec.AuthMode)
				}
			}
			if !strings.HasPrefix(in.WebhookPath(), "/webhooks/"+tt.spec.Provider+"/") {
				t.Fatalf("webhook path %s", in.WebhookPath())
			}
		})
	}
}

func TestCreateDefaultNames(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var names []string
	for _, p := range []string{FPTAI, Generic, FPTAI} {
		in, _, err := f.store.Create(ctx, "cli", Spec{Provider: p, AuthMode: AuthToken})
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, in.Name)
	}
	if strings.Join(names, " ") != "fptai-1 generic-1 fptai-2" {
		t.Fatalf("names %v", names)
	}
	// A name taken by hand is skipped.
	if _, _, err := f.store.Create(ctx, "cli", Spec{Name: "generic-2", Provider: FPTAI, AuthMode: AuthToken}); err != nil {
		t.Fatal(err)
	}
	in, _, err := f.store.Create(ctx, "cli", Spec{Provider: Generic, AuthMode: AuthToken})
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != "generic-3" {
		t.Fatalf("name %s, want generic-3", in.Name)
	}
}

// TestSealedAtRest: neither the webhook secret nor the API key is readable in the
// database or the audit trail, and a sealed value copied onto another integration does not open.
func TestSealedAtRest(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, secretA, err := f.store.Create(ctx, "cli", Spec{Provider: Generic, AuthMode: AuthHMAC, APIKey: "api-key-of-a-123", APIURL: "http://127.0.0.1:9000"})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := f.store.Create(ctx, "cli", Spec{Provider: Generic, AuthMode: AuthHMAC, APIKey: "api-key-of-b-456"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.store.Get(ctx, a.ID)
	if err != nil || got.APIKey != "api-key-of-a-123" || !got.HasAPIKey {
		t.Fatalf("Get: %+v %v", got, err)
	}
	if list, _ := f.store.List(ctx); len(list) != 2 || list[0].APIKey != "" || !list[0].HasAPIKey {
		t.Fatalf("List must not open API keys: %+v", list)
	}

	// Search every stored byte for the secret, its raw key and the API key.
	raw, _ := webhookauth.ParseSecret(secretA)
	for _, q := range []string{`SELECT secret FROM integration_secrets`, `SELECT COALESCE(api_key, '') FROM integrations`,
		`SELECT details FROM audit_log`, `SELECT subject FROM audit_log`} {
		rows, err := f.db.Read.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v []byte
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			for _, plain := range [][]byte{[]byte(secretA), raw, []byte("api-key-of-a-123"), []byte(strings.TrimPrefix(secretA, "whsec_"))} {
				if bytes.Contains(v, plain) {
					t.Fatalf("%s holds a secret in the clear", q)
				}
			}
		}
		rows.Close()
	}

	// Copy A's sealed API key onto B: it must not open there.
	if _, err := f.db.Write.Exec(`UPDATE integrations SET api_key = (SELECT api_key FROM integrations WHERE id = ?) WHERE id = ?`, a.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Get(ctx, b.ID); err == nil {
		t.Fatal("a sealed API key opened on another integration")
	}
	if n, err := audit.Verify(ctx, f.db.Read); err != nil || n != 2 {
		t.Fatalf("audit: %d entries, %v", n, err)
	}
}

func TestRotateAndEdit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in, first, err := f.store.Create(ctx, "cli", Spec{Provider: FPTAI, AuthMode: AuthToken})
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	second, err := f.store.RotateSecret(ctx, "admin@example.com", in.ID, 24*time.Hour)
	if err != nil || second == first || second == "" {
		t.Fatalf("rotate: %q %v", second, err)
	}
	secrets, err := f.store.Secrets(ctx, in.ID)
	if err != nil || len(secrets) != 2 {
		t.Fatalf("secrets %+v %v", secrets, err)
	}
	if !secrets[0].ExpiresAt.IsZero() || !secrets[1].ExpiresAt.Equal(f.now.Add(24*time.Hour)) {
		t.Fatalf("expiry: new %v old %v", secrets[0].ExpiresAt, secrets[1].ExpiresAt)
	}

	// A second rotation with a shorter overlap pulls every end in; one past its end is dropped.
	f.now = f.now.Add(25 * time.Hour)
	third, err := f.store.RotateSecret(ctx, "admin@example.com", in.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	secrets, _ = f.store.Secrets(ctx, in.ID)
	if len(secrets) != 2 || !secrets[1].ExpiresAt.Equal(f.now.Add(time.Hour)) {
		t.Fatalf("after the second rotation: %+v", secrets)
	}

	// The registry verifies with exactly the active tokens at the moment of the request.
	reg := NewRegistry(f.store, nil)
	if err := reg.Load(ctx); err != nil {
		t.Fatal(err)
	}
	ep, err := reg.Lookup(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(token string, at time.Time) error {
		h := http.Header{}
		h.Set("X-Webhook-Token", token)
		return ep.Verify(Request{Header: h.Get, ClientIP: netip.MustParseAddr("192.0.2.1")}, at)
	}
	if verify(first, f.now) == nil {
		t.Error("the first token, past its end, still verifies")
	}
	if verify(second, f.now) != nil || verify(third, f.now) != nil {
		t.Error("tokens of the overlap do not verify")
	}
	if verify(second, f.now.Add(time.Hour)) == nil || verify(third, f.now.Add(time.Hour)) != nil {
		t.Error("at the end of the overlap only the newest token may verify")
	}

	if _, err := f.store.RotateSecret(ctx, "admin@example.com", in.ID, -time.Hour); errs.Code(err) != errs.Invalid {
		t.Errorf("negative overlap: %v", err)
	}
	ipOnly, _, _ := f.store.Create(ctx, "cli", Spec{Provider: FrankieOne, AuthMode: AuthIP})
	if _, err := f.store.RotateSecret(ctx, "admin@example.com", ipOnly.ID, 0); errs.Code(err) != errs.Invalid {
		t.Errorf("rotating an ip integration: %v", err)
	}

	if err := f.store.SetAllowlist(ctx, "admin@example.com", in.ID, []string{"203.0.113.0/24\n198.51.100.7"}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetAllowlist(ctx, "admin@example.com", in.ID, []string{"not-an-ip"}); errs.Code(err) != errs.Invalid {
		t.Fatalf("bad allowlist: %v", err)
	}
	if err := f.store.UpdateAPI(ctx, "admin@example.com", in.ID, APISettings{APIURL: "https://ekyc.example.vn", APIKey: "new-key-789", DataKey: "ekyc_result"}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.UpdateAPI(ctx, "admin@example.com", in.ID, APISettings{APIURL: "https://ekyc.example.vn", CustomerID: "c1"}); err != nil {
		t.Fatal(err)
	}
	got, _ := f.store.Get(ctx, in.ID)
	if got.APIKey != "new-key-789" || got.CustomerID != "c1" || got.DataKey != "" || strings.Join(got.AllowIPs, ",") != "203.0.113.0/24,198.51.100.7" {
		t.Fatalf("after edits: %+v", got)
	}

	entries, err := audit.List(ctx, f.db.Read, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Actor+" "+e.Action+" "+e.Subject)
		if strings.Contains(e.DetailsJSON(), "new-key-789") || strings.Contains(e.DetailsJSON(), second) {
			t.Fatalf("audit details carry a secret: %s", e.DetailsJSON())
		}
	}
	want := []string{"cli integration.create " + in.Name, "admin@example.com integration.rotate_secret " + in.Name}
	for _, w := range want {
		if !strings.Contains(strings.Join(actions, "\n"), w) {
			t.Errorf("audit lacks %q in %v", w, actions)
		}
	}
}

func TestHealthMarks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in, _, err := f.store.Create(ctx, "cli", Spec{Name: "acme-frankie", Provider: FrankieOne, AuthMode: AuthIP})
	if err != nil {
		t.Fatal(err)
	}
	until := f.now.Add(15 * time.Minute)
	for range 3 { // repeated marks while unhealthy are audited once
		if err := f.store.MarkUnhealthy(ctx, in.ID, "provider API answered 401", until); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := f.store.Get(ctx, in.ID)
	if got.UnhealthyReason != "provider API answered 401" || !got.UnhealthyUntil.Equal(until) {
		t.Fatalf("unhealthy state %q %v", got.UnhealthyReason, got.UnhealthyUntil)
	}
	if err := f.store.MarkHealthyBy(ctx, "admin@example.com", in.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.store.MarkHealthy(ctx, in.ID); err != nil { // already healthy: no write
		t.Fatal(err)
	}
	got, _ = f.store.Get(ctx, in.ID)
	if got.UnhealthyReason != "" || !got.UnhealthyUntil.IsZero() {
		t.Fatalf("still unhealthy: %+v", got)
	}
	entries, _ := audit.List(ctx, f.db.Read, audit.Filter{})
	slices.SortFunc(entries, func(a, b audit.Entry) int { return cmp.Compare(a.Seq, b.Seq) })
	var lines []string
	for _, e := range entries {
		lines = append(lines, e.Actor+" "+e.Action)
	}
	if strings.Join(lines, ",") != "cli integration.create,system:acme-frankie integration.mark_unhealthy,admin@example.com integration.mark_healthy" {
		t.Fatalf("audit %v", lines)
	}
	if err := f.store.MarkUnhealthy(ctx, "nosuchid0000", "x", until); errs.Code(err) != errs.NotFound {
		t.Fatalf("unknown id: %v", err)
	}
}

// TestRegistryReload: a change by another store (another process) is seen after Refresh,
// which the server's poll runs every PollEvery; an unknown id is looked up once.
func TestRegistryReload(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	reg := NewRegistry(f.store, nil)
	if err := reg.Load(ctx); err != nil {
		t.Fatal(err)
	}
	other := &Store{DB: f.store.DB, Sealer: f.store.Sealer, Now: f.store.Now}
	in, _, err := other.Create(ctx, "cli", Spec{Provider: FrankieOne, AuthMode: AuthIP, AllowIPs: []string{"192.0.2.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Lookup(ctx, in.ID); err != nil {
		t.Fatalf("a new integration is not found on a miss: %v", err)
	}
	if _, err := reg.Lookup(ctx, "0000000000zz"); errs.Code(err) != errs.NotFound {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := reg.Lookup(ctx, "../../etc"); errs.Code(err) != errs.NotFound {
		t.Fatalf("malformed id: %v", err)
	}
	// Two edits in the same millisecond (the clock does not move) still move the marker.
	for i, cidr := range []string{"192.0.2.2", "192.0.2.3"} {
		if err := other.SetAllowlist(ctx, "cli", in.ID, []string{cidr}); err != nil {
			t.Fatal(err)
		}
		if err := reg.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		ep, _ := reg.Lookup(ctx, in.ID)
		if err := ep.Verify(Request{Header: http.Header{}.Get, ClientIP: netip.MustParseAddr(cidr)}, f.now); err != nil {
			t.Fatalf("edit %d not seen: %v", i, err)
		}
	}
}
