package integration

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/id"
	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

// Store reads and changes integrations and their webhook secrets. Every change is
// audited in the transaction that makes it; secrets and the API key are sealed with
// associated data naming the integration, so a value copied onto another row never opens.
type Store struct {
	DB     *db.DB
	Sealer *crypto.Sealer
	Now    func() time.Time // nil means time.Now
}

// NewStore returns a store on d that seals with s.
func NewStore(d *db.DB, s *crypto.Sealer) *Store { return &Store{DB: d, Sealer: s} }

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Spec is what creating an integration takes (the `integration add` flags and the admin form).
type Spec struct {
	Name        string // "" means <provider>-<n>
	Provider    string
	AuthMode    string
	Secret      string // hmac: whsec_<base64>; token: the token. "" generates one
	TokenHeader string // "" means webhookauth.DefaultTokenHeader
	AllowIPs    []string
	JWTKeyPEM   string
	JWTIssuer   string // "" means webhookauth.DefaultFrankieIssuer
	APIURL      string
	APIKey      string
	CustomerID  string
	DataKey     string
	Queue       string // "" means "default"
	AutoApprove bool
	DecisionURL string // where decisions are POSTed ("" for none); a new outgoing secret comes with it
}

// APISettings are the provider API fields an admin may edit. APIKey "" keeps the stored key.
type APISettings struct {
	APIURL      string
	APIKey      string
	CustomerID  string
	DataKey     string
	TokenHeader string // token mode only; "" keeps it
	JWTKeyPEM   string // "" keeps it
}

// SecretInfo describes a stored webhook secret without its value, for the admin page.
type SecretInfo struct {
	ID        int64
	CreatedAt time.Time
	ExpiresAt time.Time // zero: valid until rotated away
}

// Active reports whether the secret still verifies deliveries at now.
func (si SecretInfo) Active(now time.Time) bool {
	return si.ExpiresAt.IsZero() || now.Before(si.ExpiresAt)
}

// UsesSecret reports whether an auth mode has a webhook secret or token (hmac, token).
func UsesSecret(authMode string) bool { return authMode == AuthHMAC || authMode == AuthToken }

// secretAD and apiKeyAD bind sealed values to their integration.
func secretAD(integrationID string) []byte { return []byte("integration-secret:" + integrationID) }
func apiKeyAD(integrationID string) []byte { return []byte("integration-api-key:" + integrationID) }

const maxNameLen = 100

// validate checks a spec and fills its defaults; errors are errs.Invalid with a one-line message.
func (sp *Spec) validate() error {
	sp.Name = strings.TrimSpace(sp.Name)
	switch sp.Provider {
	case FrankieOne, FPTAI, Generic:
	case "":
		return errs.E(errs.Invalid, "provider is required (frankieone, fptai or generic)")
	default:
		return errs.E(errs.Invalid, "provider must be frankieone, fptai or generic")
	}
	switch sp.AuthMode {
	case AuthHMAC, AuthToken, AuthJWT, AuthIP:
	case "":
		return errs.E(errs.Invalid, "auth is required (hmac, token, jwt or ip)")
	default:
		return errs.E(errs.Invalid, "auth must be hmac, token, jwt or ip")
	}
	if len(sp.Name) > maxNameLen {
		return errs.E(errs.Invalid, "name must be at most %d characters", maxNameLen)
	}
	if sp.Secret != "" && !UsesSecret(sp.AuthMode) {
		return errs.E(errs.Invalid, "a secret applies to auth hmac and token only")
	}
	switch sp.AuthMode {
	case AuthHMAC:
		if sp.Secret == "" {
			sp.Secret = webhookauth.NewSecret()
		} else if _, err := webhookauth.ParseSecret(sp.Secret); err != nil {
			return errs.E(errs.Invalid, "an hmac secret must be whsec_ followed by the base64 of at least 16 bytes")
		}
	case AuthToken:
		if sp.Secret == "" {
			sp.Secret = crypto.RandomToken(24)
		} else if len(sp.Secret) < 8 || strings.TrimSpace(sp.Secret) != sp.Secret {
			return errs.E(errs.Invalid, "a token must be at least 8 characters without surrounding spaces")
		}
	}
	if sp.TokenHeader == "" {
		sp.TokenHeader = webhookauth.DefaultTokenHeader
	} else if err := checkHeaderName(sp.TokenHeader); err != nil {
		return err
	}
	allow, err := cleanAllowlist(sp.AllowIPs)
	if err != nil {
		return err
	}
	sp.AllowIPs = allow
	if sp.JWTKeyPEM != "" {
		if _, err := webhookauth.ParseRSAPublicKeyPEM([]byte(sp.JWTKeyPEM)); err != nil {
			return errs.E(errs.Invalid, "jwt key: %s", err.Error())
		}
	}
	if sp.JWTIssuer == "" {
		sp.JWTIssuer = webhookauth.DefaultFrankieIssuer
	}
	if err := checkAPIURL(sp.APIURL); err != nil {
		return err
	}
	if sp.Queue == "" {
		sp.Queue = "default"
	}
	sp.DecisionURL = strings.TrimSpace(sp.DecisionURL)
	if err := checkDecisionURL(sp.DecisionURL); err != nil {
		return err
	}
	return nil
}

func checkHeaderName(h string) error {
	if len(h) > 100 {
		return errs.E(errs.Invalid, "token header name is too long")
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return errs.E(errs.Invalid, "token header must be a header name (letters, digits, - and _)")
		}
	}
	return nil
}

func checkAPIURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errs.E(errs.Invalid, "api url must be an http or https URL")
	}
	return nil
}

// cleanAllowlist trims, drops empty entries and checks every CIDR or address.
func cleanAllowlist(in []string) ([]string, error) {
	out := []string{}
	for _, s := range in {
		for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == ' ' || r == '\r' || r == '\t' }) {
			out = append(out, part)
		}
	}
	if _, err := webhookauth.ParseAllowlist(out); err != nil {
		return nil, errs.E(errs.Invalid, "%s", err.Error())
	}
	return out, nil
}

// Create registers an integration and returns it with its webhook secret or token
// ("" for ip and jwt). actor is the admin's email or "cli".
func (s *Store) Create(ctx context.Context, actor string, spec Spec) (*Integration, string, error) {
	if err := spec.validate(); err != nil {
		return nil, "", err
	}
	now := s.now()
	in := &Integration{
		ID: id.Short(), Name: spec.Name, Provider: spec.Provider, AuthMode: spec.AuthMode,
		TokenHeader: spec.TokenHeader, AllowIPs: spec.AllowIPs, JWTKeyPEM: spec.JWTKeyPEM, JWTIssuer: spec.JWTIssuer,
		APIURL: spec.APIURL, APIKey: spec.APIKey, CustomerID: spec.CustomerID, DataKey: spec.DataKey,
		Queue: spec.Queue, AutoApprove: spec.AutoApprove,
		CreatedAt: db.Time(db.Millis(now)), UpdatedAt: db.Time(db.Millis(now)),
	}
	allow, _ := json.Marshal(in.AllowIPs)
	var apiKey []byte
	if in.APIKey != "" {
		apiKey = s.Sealer.Seal([]byte(in.APIKey), apiKeyAD(in.ID))
	}
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if in.Name == "" {
			name, err := nextName(ctx, tx, in.Provider)
			if err != nil {
				return err
			}
			in.Name = name
		}
		taken, err := nameTaken(ctx, tx, in.Name)
		if err != nil {
			return err
		}
		if taken {
			return errs.E(errs.Conflict, "an integration named %q already exists", in.Name)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO integrations (id, name, provider, auth_mode, token_header, allow_ips,
			jwt_key_pem, jwt_issuer, api_url, api_key, customer_id, data_key, queue, auto_approve, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			in.ID, in.Name, in.Provider, in.AuthMode, in.TokenHeader, string(allow), in.JWTKeyPEM, in.JWTIssuer,
			in.APIURL, apiKey, in.CustomerID, in.DataKey, in.Queue, in.AutoApprove, db.Millis(now), db.Millis(now))
		if err != nil {
			return fmt.Errorf("insert integration: %w", err)
		}
		if UsesSecret(in.AuthMode) {
			if err := insertSecret(ctx, tx, s.Sealer, in.ID, spec.Secret, now); err != nil {
				return err
			}
		}
		if spec.DecisionURL != "" {
			in.DecisionSecret = webhookauth.NewSecret()
			if err := insertDecisionTarget(ctx, tx, s.Sealer, in.ID, spec.DecisionURL, in.DecisionSecret, now); err != nil {
				return err
			}
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: actor, Action: "integration.create", Subject: in.Name,
			Details: map[string]any{"id": in.ID, "provider": in.Provider, "auth": in.AuthMode, "allow_ips": in.AllowIPs,
				"api_url": in.APIURL, "api_key_set": in.APIKey != "", "customer_id": in.CustomerID, "data_key": in.DataKey,
				"decision_url": auditURL(spec.DecisionURL)}})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	secret := ""
	if UsesSecret(in.AuthMode) {
		secret = spec.Secret
	}
	return in, secret, nil
}

// nextName finds the first free "<provider>-<n>".
func nextName(ctx context.Context, tx *sql.Tx, provider string) (string, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM integrations WHERE provider = ?`, provider).Scan(&n); err != nil {
		return "", err
	}
	for i := n + 1; ; i++ {
		name := fmt.Sprintf("%s-%d", provider, i)
		taken, err := nameTaken(ctx, tx, name)
		if err != nil {
			return "", err
		}
		if !taken {
			return name, nil
		}
	}
}

// nameTaken reports whether an integration already has name.
func nameTaken(ctx context.Context, tx *sql.Tx, name string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM integrations WHERE name = ?`, name).Scan(&n)
	return n > 0, err
}

func insertSecret(ctx context.Context, tx *sql.Tx, sealer *crypto.Sealer, integrationID, secret string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO integration_secrets (integration_id, secret, created_at) VALUES (?, ?, ?)`,
		integrationID, sealer.Seal([]byte(secret), secretAD(integrationID)), db.Millis(now))
	if err != nil {
		return fmt.Errorf("insert secret: %w", err)
	}
	return nil
}

const selectIntegration = `SELECT id, name, provider, auth_mode, token_header, allow_ips, jwt_key_pem, jwt_issuer,
	api_url, api_key, customer_id, data_key, queue, auto_approve, unhealthy_reason, unhealthy_until, created_at, updated_at
	FROM integrations`

type rowScanner interface{ Scan(dest ...any) error }

// scan reads one integration row; the API key is opened only when openKey is set.
func (s *Store) scan(r rowScanner, openKey bool) (*Integration, error) {
	var in Integration
	var allow string
	var apiKey []byte
	var until, created, updated int64
	if err := r.Scan(&in.ID, &in.Name, &in.Provider, &in.AuthMode, &in.TokenHeader, &allow, &in.JWTKeyPEM, &in.JWTIssuer,
		&in.APIURL, &apiKey, &in.CustomerID, &in.DataKey, &in.Queue, &in.AutoApprove, &in.UnhealthyReason, &until,
		&created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(allow), &in.AllowIPs); err != nil {
		return nil, fmt.Errorf("integration %s: allow_ips: %w", in.ID, err)
	}
	if until > 0 {
		in.UnhealthyUntil = db.Time(until)
	}
	in.CreatedAt, in.UpdatedAt = db.Time(created), db.Time(updated)
	in.HasAPIKey = len(apiKey) > 0
	if openKey && len(apiKey) > 0 {
		key, err := s.Sealer.Open(apiKey, apiKeyAD(in.ID))
		if err != nil {
			return nil, fmt.Errorf("integration %s: open api key: %w", in.ID, err)
		}
		in.APIKey = string(key)
	}
	return &in, nil
}

// Get returns the integration with its API key opened (for the worker). Unknown id: errs.NotFound.
func (s *Store) Get(ctx context.Context, integrationID string) (*Integration, error) {
	in, err := s.scan(s.DB.Read.QueryRowContext(ctx, selectIntegration+` WHERE id = ?`, integrationID), true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "There is no such integration.")
	}
	return in, err
}

// FindByName returns the integration named name, API key opened. Unknown name: errs.NotFound.
func (s *Store) FindByName(ctx context.Context, name string) (*Integration, error) {
	in, err := s.scan(s.DB.Read.QueryRowContext(ctx, selectIntegration+` WHERE name = ?`, name), true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "There is no integration named %q.", name)
	}
	return in, err
}

// List returns every integration by name, API keys not opened.
func (s *Store) List(ctx context.Context) ([]*Integration, error) {
	rows, err := s.DB.Read.QueryContext(ctx, selectIntegration+` ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Integration
	for rows.Next() {
		in, err := s.scan(rows, false)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// Secrets describes the integration's stored secrets, newest first, without their values.
func (s *Store) Secrets(ctx context.Context, integrationID string) ([]SecretInfo, error) {
	rows, err := s.DB.Read.QueryContext(ctx, `SELECT id, created_at, expires_at FROM integration_secrets
		WHERE integration_id = ? ORDER BY id DESC`, integrationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SecretInfo
	for rows.Next() {
		var si SecretInfo
		var created int64
		var expires sql.NullInt64
		if err := rows.Scan(&si.ID, &created, &expires); err != nil {
			return nil, err
		}
		si.CreatedAt = db.Time(created)
		if expires.Valid {
			si.ExpiresAt = db.Time(expires.Int64)
		}
		out = append(out, si)
	}
	return out, rows.Err()
}

// change runs fn on the integration in one write transaction, bumps updated_at (strictly,
// so the registry's change marker moves even within one millisecond) and audits the change.
func (s *Store) change(ctx context.Context, actor, action, integrationID string,
	fn func(tx *sql.Tx, in *Integration, now time.Time) (details map[string]any, err error)) error {
	now := s.now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		in, err := s.scan(tx.QueryRowContext(ctx, selectIntegration+` WHERE id = ?`, integrationID), false)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "There is no such integration.")
		}
		if err != nil {
			return err
		}
		details, err := fn(tx, in, now)
		if err != nil {
			return err
		}
		if details == nil {
			return nil // nothing changed: no audit entry
		}
		if _, err := tx.ExecContext(ctx, `UPDATE integrations SET updated_at = MAX(?, updated_at + 1) WHERE id = ?`,
			db.Millis(now), integrationID); err != nil {
			return err
		}
		details["id"] = in.ID
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: actor, Action: action, Subject: in.Name, Details: details})
		return err
	})
}

// RotateSecret stores a freshly generated secret (hmac) or token (token mode) and returns it,
// to be shown once. The secrets valid so far stay valid for overlap (0: they stop now).
func (s *Store) RotateSecret(ctx context.Context, actor, integrationID string, overlap time.Duration) (string, error) {
	if overlap < 0 {
		return "", errs.E(errs.Invalid, "the overlap cannot be negative")
	}
	var secret string
	err := s.change(ctx, actor, "integration.rotate_secret", integrationID, func(tx *sql.Tx, in *Integration, now time.Time) (map[string]any, error) {
		switch in.AuthMode {
		case AuthHMAC:
			secret = webhookauth.NewSecret()
		case AuthToken:
			secret = crypto.RandomToken(24)
		default:
			return nil, errs.E(errs.Invalid, "This integration authenticates with %s: it has no secret to rotate.", in.AuthMode)
		}
		ends := db.Millis(now.Add(overlap))
		// Secrets already past their end are of no use to anyone: drop them.
		if _, err := tx.ExecContext(ctx, `DELETE FROM integration_secrets WHERE integration_id = ? AND expires_at <= ?`,
			in.ID, db.Millis(now)); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE integration_secrets SET expires_at = ?
			WHERE integration_id = ? AND (expires_at IS NULL OR expires_at > ?)`, ends, in.ID, ends); err != nil {
			return nil, err
		}
		if err := insertSecret(ctx, tx, s.Sealer, in.ID, secret, now); err != nil {
			return nil, err
		}
		return map[string]any{"overlap_seconds": int64(overlap / time.Second)}, nil
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// SetAllowlist replaces the IP allowlist (CIDRs or addresses; an empty list allows nobody
// in ip mode and adds no check in the other modes).
func (s *Store) SetAllowlist(ctx context.Context, actor, integrationID string, cidrs []string) error {
	allow, err := cleanAllowlist(cidrs)
	if err != nil {
		return err
	}
	return s.change(ctx, actor, "integration.set_allowlist", integrationID, func(tx *sql.Tx, in *Integration, now time.Time) (map[string]any, error) {
		b, _ := json.Marshal(allow)
		if _, err := tx.ExecContext(ctx, `UPDATE integrations SET allow_ips = ? WHERE id = ?`, string(b), in.ID); err != nil {
			return nil, err
		}
		return map[string]any{"before": in.AllowIPs, "after": allow}, nil
	})
}

// UpdateAPI changes the provider API settings. The API key is never written to the audit trail.
func (s *Store) UpdateAPI(ctx context.Context, actor, integrationID string, set APISettings) error {
	if err := checkAPIURL(set.APIURL); err != nil {
		return err
	}
	if set.TokenHeader != "" {
		if err := checkHeaderName(set.TokenHeader); err != nil {
			return err
		}
	}
	if set.JWTKeyPEM != "" {
		if _, err := webhookauth.ParseRSAPublicKeyPEM([]byte(set.JWTKeyPEM)); err != nil {
			return errs.E(errs.Invalid, "jwt key: %s", err.Error())
		}
	}
	return s.change(ctx, actor, "integration.set_api", integrationID, func(tx *sql.Tx, in *Integration, now time.Time) (map[string]any, error) {
		header, pem := in.TokenHeader, in.JWTKeyPEM
		if set.TokenHeader != "" {
			header = set.TokenHeader
		}
		if set.JWTKeyPEM != "" {
			pem = set.JWTKeyPEM
		}
		if _, err := tx.ExecContext(ctx, `UPDATE integrations SET api_url = ?, customer_id = ?, data_key = ?,
			token_header = ?, jwt_key_pem = ? WHERE id = ?`,
			set.APIURL, set.CustomerID, set.DataKey, header, pem, in.ID); err != nil {
			return nil, err
		}
		if set.APIKey != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE integrations SET api_key = ? WHERE id = ?`,
				s.Sealer.Seal([]byte(set.APIKey), apiKeyAD(in.ID)), in.ID); err != nil {
				return nil, err
			}
		}
		return map[string]any{"api_url": set.APIURL, "customer_id": set.CustomerID, "data_key": set.DataKey,
			"token_header": header, "jwt_key_changed": pem != in.JWTKeyPEM, "api_key_changed": set.APIKey != ""}, nil
	})
}

// MarkUnhealthy records that the provider API refused the integration's credentials (or
// failed otherwise): the worker backs off its fetches until `until`. Audited (actor
// system:<name>) only when the integration was healthy, so a worker retrying does not flood the trail.
func (s *Store) MarkUnhealthy(ctx context.Context, integrationID, reason string, until time.Time) error {
	if len(reason) > 500 {
		reason = reason[:500]
	}
	now := s.now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		name, before, err := healthOf(ctx, tx, integrationID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE integrations SET unhealthy_reason = ?, unhealthy_until = ?,
			updated_at = MAX(?, updated_at + 1) WHERE id = ?`, reason, db.Millis(until), db.Millis(now), integrationID); err != nil {
			return err
		}
		if before != "" {
			return nil
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: "system:" + name, Action: "integration.mark_unhealthy",
			Subject: name, Details: map[string]any{"id": integrationID, "reason": reason, "until": until.UTC().Format(time.RFC3339)}})
		return err
	})
}

// healthOf reads the integration's name and its unhealthy reason ("" when healthy) in tx.
func healthOf(ctx context.Context, tx *sql.Tx, integrationID string) (name, reason string, err error) {
	err = tx.QueryRowContext(ctx, `SELECT name, unhealthy_reason FROM integrations WHERE id = ?`, integrationID).Scan(&name, &reason)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", errs.E(errs.NotFound, "There is no such integration.")
	}
	return name, reason, err
}

// MarkHealthy clears the unhealthy state, as the worker does after a successful fetch.
// It writes nothing when the integration is already healthy.
func (s *Store) MarkHealthy(ctx context.Context, integrationID string) error {
	return s.markHealthy(ctx, "", integrationID)
}

// MarkHealthyBy is MarkHealthy done by an admin (the "Mark healthy" button), audited with actor.
func (s *Store) MarkHealthyBy(ctx context.Context, actor, integrationID string) error {
	return s.markHealthy(ctx, actor, integrationID)
}

func (s *Store) markHealthy(ctx context.Context, actor, integrationID string) error {
	now := s.now()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		name, before, err := healthOf(ctx, tx, integrationID)
		if err != nil {
			return err
		}
		if before == "" {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE integrations SET unhealthy_reason = '', unhealthy_until = 0,
			updated_at = MAX(?, updated_at + 1) WHERE id = ?`, db.Millis(now), integrationID); err != nil {
			return err
		}
		if actor == "" {
			actor = "system:" + name
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: actor, Action: "integration.mark_healthy",
			Subject: name, Details: map[string]any{"id": integrationID, "was": before}})
		return err
	})
}
