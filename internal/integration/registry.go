package integration

import (
	"context"
	"crypto/rsa"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/id"
	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

// PollEvery is how often the registry looks for integrations changed by another process
// (`kycdesk integration add` on the data dir of a running server).
const PollEvery = 500 * time.Millisecond

// Registry is the webhook endpoints' in-memory view of every integration with its parsed
// verifier, so a delivery costs no database read. It reloads when the change marker moves
// (polled every PollEvery) and, on an unknown id, reads that one id once before refusing.
type Registry struct {
	store *Store
	log   *slog.Logger

	mu     sync.RWMutex
	byID   map[string]*Endpoint
	marker marker
}

// marker changes whenever an integration or its secrets change: every change bumps the
// row's updated_at strictly (see Store.change), so the sum moves even within a millisecond.
type marker struct {
	count int64
	sum   int64
}

// Endpoint is one integration as its webhook endpoint sees it. It holds opened secrets:
// never log or render it.
type Endpoint struct {
	Integration *Integration // APIKey not opened

	secrets []secret
	allow   *webhookauth.Allowlist
	jwtKey  *rsa.PublicKey
	loadErr error // a stored value that would not parse: the endpoint refuses everything
}

type secret struct {
	value   string // whsec_… or the token, as stored
	hmacKey []byte // the decoded HMAC key (hmac mode)
	expires time.Time
}

// NewRegistry returns an empty registry over store; call Load, then Run.
func NewRegistry(store *Store, log *slog.Logger) *Registry {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Registry{store: store, log: log, byID: map[string]*Endpoint{}}
}

// Store is the store the registry reads.
func (r *Registry) Store() *Store { return r.store }

// Load reads every integration and swaps the cache in one step.
func (r *Registry) Load(ctx context.Context) error {
	m, err := r.store.readMarker(ctx)
	if err != nil {
		return err
	}
	list, err := r.store.List(ctx)
	if err != nil {
		return err
	}
	secrets, err := r.store.allSecrets(ctx)
	if err != nil {
		return err
	}
	byID := make(map[string]*Endpoint, len(list))
	for _, in := range list {
		byID[in.ID] = buildEndpoint(in, secrets[in.ID])
	}
	r.mu.Lock()
	r.byID, r.marker = byID, m
	r.mu.Unlock()
	return nil
}

// Run reloads the cache whenever the change marker moves, until ctx ends.
func (r *Registry) Run(ctx context.Context) {
	t := time.NewTicker(PollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := r.Refresh(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("integration reload failed", "err", err)
		}
	}
}

// Refresh reloads when the change marker moved since the last load. The admin handlers
// call it after a change so the page they redirect to shows it at once.
func (r *Registry) Refresh(ctx context.Context) error {
	m, err := r.store.readMarker(ctx)
	if err != nil {
		return err
	}
	r.mu.RLock()
	same := r.marker == m
	r.mu.RUnlock()
	if same {
		return nil
	}
	return r.Load(ctx)
}

// Lookup returns the endpoint of an integration id. An id not in the cache is read from
// the database once (it may have been added a moment ago by another process) before the
// answer is errs.NotFound; malformed ids never reach the database.
func (r *Registry) Lookup(ctx context.Context, integrationID string) (*Endpoint, error) {
	r.mu.RLock()
	ep := r.byID[integrationID]
	r.mu.RUnlock()
	if ep != nil {
		return ep, nil
	}
	notFound := errs.E(errs.NotFound, "There is no integration at this address.")
	if !id.Valid(integrationID) {
		return nil, notFound
	}
	in, err := r.store.scan(r.store.DB.Read.QueryRowContext(ctx, selectIntegration+` WHERE id = ?`, integrationID), false)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	secrets, err := r.store.secretsOf(ctx, integrationID)
	if err != nil {
		return nil, err
	}
	ep = buildEndpoint(in, secrets)
	r.mu.Lock()
	if cur := r.byID[integrationID]; cur != nil {
		ep = cur // a reload got there first
	} else {
		byID := make(map[string]*Endpoint, len(r.byID)+1)
		for k, v := range r.byID {
			byID[k] = v
		}
		byID[integrationID] = ep
		r.byID = byID
	}
	r.mu.Unlock()
	return ep, nil
}

// Name returns an integration's name from the cache, "" when unknown.
func (r *Registry) Name(integrationID string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if ep := r.byID[integrationID]; ep != nil {
		return ep.Integration.Name
	}
	return ""
}

func buildEndpoint(in *Integration, secrets []secret) *Endpoint {
	ep := &Endpoint{Integration: in}
	var err error
	if ep.allow, err = webhookauth.ParseAllowlist(in.AllowIPs); err != nil {
		ep.loadErr = err
	}
	if in.AuthMode == AuthJWT && in.JWTKeyPEM != "" {
		if ep.jwtKey, err = webhookauth.ParseRSAPublicKeyPEM([]byte(in.JWTKeyPEM)); err != nil {
			ep.loadErr = err
		}
	}
	for _, s := range secrets {
		if in.AuthMode == AuthHMAC {
			key, err := webhookauth.ParseSecret(s.value)
			if err != nil {
				ep.loadErr = err
				continue
			}
			s.hmacKey = key
		}
		ep.secrets = append(ep.secrets, s)
	}
	return ep
}

// Request is what a verifier looks at: headers, the raw body and the client address.
type Request struct {
	Header   func(name string) string // fiber's c.Get, http.Header.Get
	Body     []byte
	ClientIP netip.Addr
}

// Verify checks that the request comes from the integration's sender with the configured
// method. An integration without configured authentication (ip without an allowlist, hmac
// without a secret, jwt without a key) refuses everything. The error is a
// *webhookauth.AuthError whose Reason is safe to log and count.
func (ep *Endpoint) Verify(req Request, now time.Time) error {
	if ep.loadErr != nil {
		return &webhookauth.AuthError{Reason: webhookauth.ReasonNotConfigured}
	}
	in := ep.Integration
	// The allowlist applies in every mode once set; in ip mode it is the only check.
	if len(in.AllowIPs) > 0 || in.AuthMode == AuthIP {
		if err := ep.allow.Verify(req.ClientIP); err != nil {
			return err
		}
	}
	clock := func() time.Time { return now }
	switch in.AuthMode {
	case AuthIP:
		return nil
	case AuthHMAC:
		keys := make([][]byte, 0, len(ep.secrets))
		for _, s := range ep.secrets {
			if s.expires.IsZero() || now.Before(s.expires) {
				keys = append(keys, s.hmacKey)
			}
		}
		return (&webhookauth.HMACVerifier{Secrets: keys, Now: clock}).Verify(req.Header, req.Body)
	case AuthToken:
		tokens := make([]string, 0, len(ep.secrets))
		for _, s := range ep.secrets {
			if s.expires.IsZero() || now.Before(s.expires) {
				tokens = append(tokens, s.value)
			}
		}
		return (&webhookauth.TokenVerifier{Header: in.TokenHeader, Tokens: tokens}).Verify(req.Header)
	case AuthJWT:
		if ep.jwtKey == nil {
			return &webhookauth.AuthError{Reason: webhookauth.ReasonNotConfigured}
		}
		return (&webhookauth.JWTVerifier{PublicKey: ep.jwtKey, Issuer: in.JWTIssuer, Now: clock}).Verify(req.Header("Authorization"))
	}
	return &webhookauth.AuthError{Reason: webhookauth.ReasonNotConfigured}
}

func (s *Store) readMarker(ctx context.Context) (marker, error) {
	var m marker
	err := s.DB.Read.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(updated_at), 0) FROM integrations`).Scan(&m.count, &m.sum)
	return m, err
}

// allSecrets opens every stored secret, grouped by integration. Expiry is checked when a
// delivery is verified, against that moment's clock (rotation deletes long-expired ones).
func (s *Store) allSecrets(ctx context.Context) (map[string][]secret, error) {
	return s.querySecrets(ctx, `SELECT integration_id, secret, expires_at FROM integration_secrets ORDER BY id DESC`)
}

func (s *Store) secretsOf(ctx context.Context, integrationID string) ([]secret, error) {
	m, err := s.querySecrets(ctx, `SELECT integration_id, secret, expires_at FROM integration_secrets
		WHERE integration_id = ? ORDER BY id DESC`, integrationID)
	return m[integrationID], err
}

func (s *Store) querySecrets(ctx context.Context, query string, args ...any) (map[string][]secret, error) {
	rows, err := s.DB.Read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]secret{}
	for rows.Next() {
		var integrationID string
		var sealed []byte
		var expires sql.NullInt64
		if err := rows.Scan(&integrationID, &sealed, &expires); err != nil {
			return nil, err
		}
		plain, err := s.Sealer.Open(sealed, secretAD(integrationID))
		if err != nil {
			return nil, fmt.Errorf("integration %s: open secret: %w", integrationID, err)
		}
		sec := secret{value: string(plain)}
		if expires.Valid {
			sec.expires = time.UnixMilli(expires.Int64)
		}
		out[integrationID] = append(out[integrationID], sec)
	}
	return out, rows.Err()
}
