package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

// DecisionTarget is where an integration's decisions are POSTed as signed case.decided
// events (DESIGN.md, "Decisions going out"), with the secrets that sign them, opened.
type DecisionTarget struct {
	URL             string
	Secrets         [][]byte // the current secret first, then the previous one while its overlap lasts
	SecretCreatedAt time.Time
	PrevExpiresAt   time.Time // zero: no previous secret signs any more
}

// decisionSecretAD binds the sealed outgoing secret to its integration (a different
// purpose than the incoming webhook secret, so the two never open for each other).
func decisionSecretAD(integrationID string) []byte {
	return []byte("integration-decision-secret:" + integrationID)
}

const maxDecisionURLLen = 2000

// checkDecisionURL accepts an absolute http(s) URL without user info ("" clears).
func checkDecisionURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(s) > maxDecisionURLLen {
		return errs.E(errs.Invalid, "decision url must be an http or https URL")
	}
	if u.User != nil {
		return errs.E(errs.Invalid, "decision url must not carry a user name or password: the signature authenticates us")
	}
	return nil
}

// auditURL is the URL as the audit trail records it: no query or fragment, which may carry tokens.
func auditURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || s == "" {
		return ""
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

func insertDecisionTarget(ctx context.Context, tx *sql.Tx, sealer *crypto.Sealer, integrationID, rawURL, secret string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO integration_decision_targets (integration_id, url, secret,
		secret_created_at, updated_at) VALUES (?, ?, ?, ?, ?)`, integrationID, rawURL,
		sealer.Seal([]byte(secret), decisionSecretAD(integrationID)), db.Millis(now), db.Millis(now))
	if err != nil {
		return fmt.Errorf("insert decision target: %w", err)
	}
	return nil
}

// DecisionTarget returns where the integration's decisions go, secrets opened; nil when the
// integration has no decision URL. Prev secrets past their overlap are left out.
func (s *Store) DecisionTarget(ctx context.Context, integrationID string) (*DecisionTarget, error) {
	var t DecisionTarget
	var secret, prev []byte
	var created int64
	var prevEnds sql.NullInt64
	err := s.DB.Read.QueryRowContext(ctx, `SELECT url, secret, secret_created_at, prev_secret, prev_expires_at
		FROM integration_decision_targets WHERE integration_id = ?`, integrationID).Scan(&t.URL, &secret, &created, &prev, &prevEnds)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	t.SecretCreatedAt = db.Time(created)
	cur, err := s.Sealer.Open(secret, decisionSecretAD(integrationID))
	if err != nil {
		return nil, fmt.Errorf("integration %s: open decision secret: %w", integrationID, err)
	}
	raw, err := webhookauth.ParseSecret(string(cur))
	if err != nil {
		return nil, fmt.Errorf("integration %s: decision secret: %w", integrationID, err)
	}
	t.Secrets = [][]byte{raw}
	if len(prev) > 0 && prevEnds.Valid && s.now().Before(db.Time(prevEnds.Int64)) {
		p, err := s.Sealer.Open(prev, decisionSecretAD(integrationID))
		if err == nil {
			if raw, err := webhookauth.ParseSecret(string(p)); err == nil {
				t.Secrets = append(t.Secrets, raw)
				t.PrevExpiresAt = db.Time(prevEnds.Int64)
			}
		}
	}
	return &t, nil
}

// DecisionURL returns the integration's decision URL ("" for none), for pages.
func (s *Store) DecisionURL(ctx context.Context, integrationID string) (string, error) {
	var u string
	err := s.DB.Read.QueryRowContext(ctx, `SELECT url FROM integration_decision_targets WHERE integration_id = ?`,
		integrationID).Scan(&u)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return u, err
}

// SetDecisionURL sets (or, with "", removes) where the integration's decisions are sent. The
// first URL comes with a new outgoing secret, returned to be shown once; changing the URL
// keeps the secret and returns "". Removing it stops new deliveries; queued ones still go.
func (s *Store) SetDecisionURL(ctx context.Context, actor, integrationID, rawURL string) (string, error) {
	rawURL = strings.TrimSpace(rawURL)
	if err := checkDecisionURL(rawURL); err != nil {
		return "", err
	}
	var secret string
	err := s.change(ctx, actor, "integration.set_decision_url", integrationID, func(tx *sql.Tx, in *Integration, now time.Time) (map[string]any, error) {
		var before string
		err := tx.QueryRowContext(ctx, `SELECT url FROM integration_decision_targets WHERE integration_id = ?`, in.ID).Scan(&before)
		exists := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		switch {
		case rawURL == before:
			return nil, nil // nothing changed
		case rawURL == "":
			if _, err := tx.ExecContext(ctx, `DELETE FROM integration_decision_targets WHERE integration_id = ?`, in.ID); err != nil {
				return nil, err
			}
		case exists:
			if _, err := tx.ExecContext(ctx, `UPDATE integration_decision_targets SET url = ?, updated_at = ?
				WHERE integration_id = ?`, rawURL, db.Millis(now), in.ID); err != nil {
				return nil, err
			}
		default:
			secret = webhookauth.NewSecret()
			if err := insertDecisionTarget(ctx, tx, s.Sealer, in.ID, rawURL, secret, now); err != nil {
				return nil, err
			}
		}
		return map[string]any{"before": auditURL(before), "after": auditURL(rawURL), "secret_generated": secret != ""}, nil
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// RotateDecisionSecret makes a new outgoing secret, returned to be shown once. For overlap
// the previous secret signs too (a second v1 signature), so the receiver can switch at leisure.
func (s *Store) RotateDecisionSecret(ctx context.Context, actor, integrationID string, overlap time.Duration) (string, error) {
	if overlap < 0 {
		return "", errs.E(errs.Invalid, "the overlap cannot be negative")
	}
	secret := webhookauth.NewSecret()
	err := s.change(ctx, actor, "integration.rotate_decision_secret", integrationID, func(tx *sql.Tx, in *Integration, now time.Time) (map[string]any, error) {
		var cur []byte
		err := tx.QueryRowContext(ctx, `SELECT secret FROM integration_decision_targets WHERE integration_id = ?`, in.ID).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.E(errs.Invalid, "Set a decision URL first: the secret signs what is sent there.")
		}
		if err != nil {
			return nil, err
		}
		var prev []byte
		var prevEnds any
		if overlap > 0 {
			prev, prevEnds = cur, db.Millis(now.Add(overlap))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE integration_decision_targets SET secret = ?, secret_created_at = ?,
			prev_secret = ?, prev_expires_at = ?, updated_at = ? WHERE integration_id = ?`,
			s.Sealer.Seal([]byte(secret), decisionSecretAD(in.ID)), db.Millis(now), prev, prevEnds, db.Millis(now), in.ID); err != nil {
			return nil, err
		}
		return map[string]any{"overlap_seconds": int64(overlap / time.Second)}, nil
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}
