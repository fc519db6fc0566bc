// Package apitoken issues and checks the bearer tokens that customer backends use for the
// read-only JSON API: random, shown once, stored only as a hash, revocable at once.
package apitoken

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/errs"
)

// Prefix starts every token, so that one pasted into the wrong place (a log, a ticket, a
// repository) is recognisable and secret scanners can be taught to find it.
const Prefix = "kyc_"

// secretBytes is the token's randomness: 256 bits.
const secretBytes = 32

// tokenLen is the length of Prefix plus 32 bytes in unpadded base64url.
var tokenLen = len(Prefix) + len(crypto.RandomToken(secretBytes))

// MaxNameLen bounds a token's name, which is shown in lists and the audit trail.
const MaxNameLen = 80

// touchEvery is how stale last_used_at may get: a busy client must not turn every API
// read into a write on the database's single writer connection.
const touchEvery = time.Minute

// Token is an API token's record; the token itself is never stored.
type Token struct {
	ID         int64
	Name       string
	CreatedBy  string // the admin's email, or "cli"
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never used
	RevokedAt  time.Time // zero: active
}

// Active reports whether the token still opens the API.
func (t Token) Active() bool { return t.RevokedAt.IsZero() }

// Store keeps API tokens in the api_tokens table. Nothing is cached: a revoked token
// fails on its very next request, whichever process revoked it.
type Store struct {
	DB  *db.DB
	Now func() time.Time
	Log *slog.Logger // for the best-effort last-used update; nil: discard
}

// ErrRefused is Authenticate's answer for any token that does not open the API. The
// reasons (malformed, unknown, revoked) are deliberately not told apart.
var ErrRefused = errs.E(errs.Unauthorized, "The API token is not valid: it is unknown or was revoked.")

// Create makes a token named name and returns its record and the token, which the caller
// shows once. The audit entry (by actor) names the token, never its value.
func (s *Store) Create(ctx context.Context, name, actor string) (Token, string, error) {
	name = strings.TrimSpace(name)
	if err := checkName(name); err != nil {
		return Token{}, "", err
	}
	secret := Prefix + crypto.RandomToken(secretBytes)
	t := Token{Name: name, CreatedBy: actor, CreatedAt: s.now()}
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (name, token_hash, created_by, created_at) VALUES (?, ?, ?, ?)`,
			t.Name, crypto.HashToken(secret), t.CreatedBy, db.Millis(t.CreatedAt))
		if err != nil {
			return fmt.Errorf("apitoken: insert: %w", err)
		}
		if t.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: t.CreatedAt, Actor: actor, Action: "apitoken.create", Subject: t.Name,
			Details: map[string]any{"token_id": t.ID}})
		return err
	})
	if err != nil {
		return Token{}, "", err
	}
	return t, secret, nil
}

func checkName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > MaxNameLen || !utf8.ValidString(name) ||
		strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return errs.E(errs.Invalid, "Give the token a name of 1 to %d characters, for example the system that will use it.", MaxNameLen)
	}
	return nil
}

// Authenticate returns the active token whose value is secret, or ErrRefused. It records
// the use at most once a minute per token.
func (s *Store) Authenticate(ctx context.Context, secret string) (Token, error) {
	if len(secret) != tokenLen || !strings.HasPrefix(secret, Prefix) {
		return Token{}, ErrRefused // not one of ours: no need to ask the database
	}
	// Looking the row up by the token's SHA-256 leaks nothing through timing: how far the
	// index comparison gets depends on the hash, which a guesser cannot steer.
	t, err := scan(s.DB.Read.QueryRowContext(ctx, `SELECT `+columns+` FROM api_tokens WHERE token_hash = ?`, crypto.HashToken(secret)))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, ErrRefused
	}
	if err != nil {
		return Token{}, fmt.Errorf("apitoken: look up: %w", err)
	}
	if !t.Active() {
		return Token{}, ErrRefused
	}
	now := s.now()
	if now.Sub(t.LastUsedAt) >= touchEvery {
		s.touch(ctx, t.ID, now)
		t.LastUsedAt = now
	}
	return t, nil
}

// touchWait bounds how long a request waits for the single writer connection to record a
// use; the ingest worker may hold it for a batch.
const touchWait = 250 * time.Millisecond

// touch records a use. It is best effort: a busy writer must not fail or stall an API
// read. The WHERE clause keeps concurrent requests from writing more than once a minute.
func (s *Store) touch(ctx context.Context, id int64, now time.Time) {
	ctx, cancel := context.WithTimeout(ctx, touchWait)
	defer cancel()
	_, err := s.DB.Write.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ?
		WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`,
		db.Millis(now), id, db.Millis(now.Add(-touchEvery)))
	if err != nil && s.Log != nil {
		s.Log.Warn("api token: last use not recorded", "token_id", id, "err", err)
	}
}

// List returns every token, active ones first, newest first.
func (s *Store) List(ctx context.Context) ([]Token, error) {
	rows, err := s.DB.Read.QueryContext(ctx, `SELECT `+columns+` FROM api_tokens
		ORDER BY revoked_at IS NOT NULL, created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("apitoken: list: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Revoke ends the token with the given id at once; actor is audited. Revoking a revoked
// token changes nothing and returns it as it is.
func (s *Store) Revoke(ctx context.Context, id int64, actor string) (Token, error) {
	var t Token
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = scan(tx.QueryRowContext(ctx, `SELECT `+columns+` FROM api_tokens WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "There is no API token with this id.")
		}
		if err != nil || !t.Active() {
			return err
		}
		t.RevokedAt = s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ?`, db.Millis(t.RevokedAt), id); err != nil {
			return fmt.Errorf("apitoken: revoke: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: t.RevokedAt, Actor: actor, Action: "apitoken.revoke", Subject: t.Name,
			Details: map[string]any{"token_id": t.ID}})
		return err
	})
	return t, err
}

// columns are what scan reads, in its order.
const columns = `id, name, created_by, created_at, last_used_at, revoked_at`

type scanner interface{ Scan(...any) error }

func scan(row scanner) (Token, error) {
	var t Token
	var created int64
	var used, revoked sql.NullInt64
	if err := row.Scan(&t.ID, &t.Name, &t.CreatedBy, &created, &used, &revoked); err != nil {
		return t, err
	}
	t.CreatedAt = db.Time(created)
	if used.Valid {
		t.LastUsedAt = db.Time(used.Int64)
	}
	if revoked.Valid {
		t.RevokedAt = db.Time(revoked.Int64)
	}
	return t, nil
}

func (s *Store) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}
