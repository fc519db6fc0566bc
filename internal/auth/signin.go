package auth

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/errs"
)

// Brute-force limits. An account is locked after LockoutFailures failed attempts within
// LockoutWindow (counted since its last successful sign-in); an address that failed
// AddressFailures times within the window is refused before any password is checked.
const (
	LockoutFailures = 10
	LockoutWindow   = 15 * time.Minute
	AddressFailures = 30
)

// ErrSignInFailed is the one answer to a wrong email, a wrong password, a disabled
// account or a locked one: which of them it was is for the audit trail, not for the
// person at the form.
var ErrSignInFailed = errs.E(errs.Unauthorized, "Email or password is wrong.")

// ErrCodeWrong is the answer to a wrong, reused or malformed second-factor code.
var ErrCodeWrong = errs.E(errs.Unauthorized, "That code is not right. Try the current code from your app, or a recovery code.")

// ErrTooManyAttempts refuses an address that failed too often.
var ErrTooManyAttempts = errs.E(errs.TooMany, "Too many failed sign-ins from your network. Wait 15 minutes and try again.")

// Failure reasons recorded in auth.login_failed entries.
const (
	reasonUnknownEmail  = "unknown_email"
	reasonWrongPassword = "wrong_password"
	reasonDisabled      = "disabled"
	reasonLocked        = "locked"
	reasonWrongCode     = "wrong_code"
)

// credentials is what sign-in reads of a user; never leaves the package.
type credentials struct {
	User
	passwordHash string
	totpSecret   []byte
	totpLastStep int64
}

func (u *Users) credentials(ctx context.Context, q queryRower, where string, arg any) (credentials, error) {
	var c credentials
	var role string
	var mfa int
	var disabled, locked sql.NullInt64
	var created int64
	err := q.QueryRowContext(ctx, `SELECT id, email, name, role, mfa_enabled, disabled_at, locked_at, created_at,
		password_hash, totp_secret, totp_last_step FROM users WHERE `+where, arg).
		Scan(&c.ID, &c.Email, &c.Name, &role, &mfa, &disabled, &locked, &created, &c.passwordHash, &c.totpSecret, &c.totpLastStep)
	if err != nil {
		return c, err
	}
	c.Role, c.MFAEnabled, c.CreatedAt = Role(role), mfa == 1, db.Time(created)
	if disabled.Valid {
		c.DisabledAt = db.Time(disabled.Int64)
	}
	if locked.Valid {
		c.LockedAt = db.Time(locked.Int64)
	}
	return c, nil
}

// AddressThrottled reports whether ip has failed too many sign-ins lately.
func (u *Users) AddressThrottled(ctx context.Context, ip string) (bool, error) {
	var n int
	err := u.db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM login_attempts WHERE ip = ? AND at > ? AND success = 0`,
		ip, db.Millis(u.now().Add(-LockoutWindow))).Scan(&n)
	return n >= AddressFailures, err
}

// Authenticate checks an email and password (the first factor). It answers
// ErrSignInFailed for every kind of refusal, after the same argon2 work, and audits
// each failure with its reason. ip is the client address, for throttling and the trail.
func (u *Users) Authenticate(ctx context.Context, email, password, ip string) (User, error) {
	email = NormalizeEmail(email)
	if len(email) > 254 {
		email = email[:254]
	}
	if throttled, err := u.AddressThrottled(ctx, ip); err != nil {
		return User{}, err
	} else if throttled {
		return User{}, ErrTooManyAttempts
	}
	c, err := u.credentials(ctx, u.db.Read, "email = ?", email)
	if errors.Is(err, sql.ErrNoRows) {
		if err := u.hasher.DummyVerify(ctx); err != nil {
			return User{}, err
		}
		return User{}, u.recordFailure(ctx, email, ip, nil, reasonUnknownEmail)
	}
	if err != nil {
		return User{}, err
	}
	// The hash is checked even for a disabled or locked account, so that the time taken
	// does not tell those states apart from a wrong password.
	ok, err := u.hasher.Verify(ctx, c.passwordHash, password)
	if err != nil && !errors.Is(err, ErrMalformedHash) {
		return User{}, err
	}
	switch {
	case !ok:
		return User{}, u.recordFailure(ctx, email, ip, &c.User, reasonWrongPassword)
	case !c.DisabledAt.IsZero():
		return User{}, u.recordFailure(ctx, email, ip, &c.User, reasonDisabled)
	case !c.LockedAt.IsZero():
		return User{}, u.recordFailure(ctx, email, ip, &c.User, reasonLocked)
	}
	if u.hasher.NeedsRehash(c.passwordHash) {
		// Parameters were raised since this hash was made; the password is at hand now.
		if h, err := u.hasher.Hash(ctx, password); err == nil {
			_ = u.db.Tx(ctx, func(tx *sql.Tx) error {
				return exec(ctx, tx, `UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?`, h, c.ID, c.passwordHash)
			})
		}
	}
	return c.User, nil
}

// recordFailure stores a failed attempt, audits it, and locks the account when this
// failure is the LockoutFailures-th in the window. It returns the error to show.
func (u *Users) recordFailure(ctx context.Context, email, ip string, usr *User, reason string) error {
	now := u.now()
	err := u.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := exec(ctx, tx, `INSERT INTO login_attempts (email, ip, at, success) VALUES (?, ?, ?, 0)`, email, ip, db.Millis(now)); err != nil {
			return err
		}
		actor := email
		if usr == nil {
			actor = "anonymous"
		}
		if _, err := audit.Append(ctx, tx, audit.Entry{At: now, Actor: actor, Action: "auth.login_failed", Subject: email,
			Details: map[string]any{"reason": reason, "ip": ip}}); err != nil {
			return err
		}
		if usr == nil || !usr.LockedAt.IsZero() {
			return nil
		}
		since := now.Add(-LockoutWindow)
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM login_attempts WHERE email = ? AND success = 0 AND at > ?
			AND at > COALESCE((SELECT MAX(at) FROM login_attempts WHERE email = ? AND success = 1), 0)`,
			email, db.Millis(since), email).Scan(&n); err != nil {
			return err
		}
		if n < LockoutFailures {
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE users SET locked_at = ?, updated_at = ? WHERE id = ? AND locked_at IS NULL`,
			db.Millis(now), db.Millis(now), usr.ID)
		if err != nil {
			return err
		}
		if changed, _ := res.RowsAffected(); changed == 0 {
			return nil
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: "system", Action: "auth.locked", Subject: usr.Email,
			Details: map[string]any{"user_id": usr.ID, "failures": n, "window": LockoutWindow.String(), "ip": ip}})
		return err
	})
	if err != nil {
		return err
	}
	if reason == reasonWrongCode {
		return ErrCodeWrong
	}
	return ErrSignInFailed
}

// recordSuccess stores a completed sign-in and audits it, inside tx.
func (u *Users) recordSuccess(ctx context.Context, tx *sql.Tx, usr User, ip, method string, now time.Time) error {
	if err := exec(ctx, tx, `INSERT INTO login_attempts (email, ip, at, success) VALUES (?, ?, ?, 1)`, usr.Email, ip, db.Millis(now)); err != nil {
		return err
	}
	_, err := audit.Append(ctx, tx, audit.Entry{At: now, Actor: usr.Email, Action: "auth.login", Subject: usr.Email,
		Details: map[string]any{"method": method, "ip": ip}})
	return err
}

// SecondFactor is how a sign-in was completed.
type SecondFactor struct {
	Method    string // "totp" or "recovery_code"
	Remaining int    // recovery codes left, when one was used
}

// VerifySecondFactor completes the sign-in of a user whose password was verified, with a
// TOTP code or a recovery code. A TOTP step already used is refused (replay), a recovery
// code works once; both checks happen in the write transaction, so two requests racing
// with one code cannot both pass. Failures count towards the lock-out like wrong passwords.
func (u *Users) VerifySecondFactor(ctx context.Context, userID int64, code, ip string) (SecondFactor, error) {
	var result SecondFactor
	var failedUser *User
	err := u.db.Tx(ctx, func(tx *sql.Tx) error {
		c, err := u.credentials(ctx, tx, "id = ?", userID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrCodeWrong
		}
		if err != nil {
			return err
		}
		if !c.MFAEnabled || !c.DisabledAt.IsZero() || !c.LockedAt.IsZero() {
			failedUser = &c.User
			return ErrCodeWrong
		}
		now := u.now()
		if LooksLikeRecoveryCode(code) {
			res, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET used_at = ? WHERE id = (
				SELECT id FROM recovery_codes WHERE user_id = ? AND code_hash = ? AND used_at IS NULL LIMIT 1)`,
				db.Millis(now), c.ID, HashRecoveryCode(code))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				failedUser = &c.User
				return ErrCodeWrong
			}
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, c.ID).
				Scan(&result.Remaining); err != nil {
				return err
			}
			result.Method = "recovery_code"
			if _, err := audit.Append(ctx, tx, audit.Entry{At: now, Actor: c.Email, Action: "auth.recovery_code_used", Subject: c.Email,
				Details: map[string]any{"remaining": result.Remaining}}); err != nil {
				return err
			}
			return u.recordSuccess(ctx, tx, c.User, ip, result.Method, now)
		}
		secret, err := u.sealer.Open(c.totpSecret, totpAD(c.ID))
		if err != nil {
			return err
		}
		step, ok := ValidateTOTP(string(secret), code, now, c.totpLastStep)
		if !ok {
			failedUser = &c.User
			return ErrCodeWrong
		}
		res, err := tx.ExecContext(ctx, `UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`, step, c.ID, step)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			failedUser = &c.User
			return ErrCodeWrong
		}
		result.Method = "totp"
		return u.recordSuccess(ctx, tx, c.User, ip, result.Method, now)
	})
	if errors.Is(err, ErrCodeWrong) && failedUser != nil {
		return result, u.recordFailure(ctx, failedUser.Email, ip, failedUser, reasonWrongCode)
	}
	return result, err
}

// EnrollTOTP confirms a pending TOTP secret with a code from the user's app, stores it
// sealed, and returns the user's new recovery codes (shown once, stored hashed). It
// completes the sign-in: the entry auth.login follows auth.mfa_enrolled.
func (u *Users) EnrollTOTP(ctx context.Context, userID int64, secret, code, ip string) ([]string, error) {
	now := u.now()
	step, ok := ValidateTOTP(secret, code, now, 0)
	if !ok {
		usr, err := u.Get(ctx, userID)
		if err != nil {
			return nil, ErrCodeWrong
		}
		return nil, u.recordFailure(ctx, usr.Email, ip, &usr, reasonWrongCode)
	}
	codes := NewRecoveryCodes(DefaultRecoveryCodes)
	err := u.db.Tx(ctx, func(tx *sql.Tx) error {
		c, err := u.credentials(ctx, tx, "id = ?", userID)
		if errors.Is(err, sql.ErrNoRows) {
			return errNoUser
		}
		if err != nil {
			return err
		}
		if c.MFAEnabled {
			return errs.E(errs.Conflict, "Two-step sign-in is already set up for this account.")
		}
		if !c.DisabledAt.IsZero() || !c.LockedAt.IsZero() {
			return ErrSignInFailed
		}
		sealed := u.sealer.Seal([]byte(secret), totpAD(c.ID))
		if err := exec(ctx, tx, `UPDATE users SET totp_secret = ?, totp_last_step = ?, mfa_enabled = 1, updated_at = ? WHERE id = ?`,
			sealed, step, db.Millis(now), c.ID); err != nil {
			return err
		}
		if err := exec(ctx, tx, `DELETE FROM recovery_codes WHERE user_id = ?`, c.ID); err != nil {
			return err
		}
		for _, code := range codes {
			if err := exec(ctx, tx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)`, c.ID, HashRecoveryCode(code)); err != nil {
				return err
			}
		}
		if _, err := audit.Append(ctx, tx, audit.Entry{At: now, Actor: c.Email, Action: "auth.mfa_enrolled", Subject: c.Email,
			Details: map[string]any{"recovery_codes": len(codes)}}); err != nil {
			return err
		}
		return u.recordSuccess(ctx, tx, c.User, ip, "totp_enrolment", now)
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// Logout ends the session whose cookie value is sessionID and audits the sign-out, in
// one transaction.
func (u *Users) Logout(ctx context.Context, usr *Identity, sessionID, ip string) error {
	return u.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := exec(ctx, tx, `DELETE FROM sessions WHERE id_hash = ?`, crypto.HashToken(sessionID)); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: u.now(), Actor: usr.Email, Action: "auth.logout", Subject: usr.Email,
			Details: map[string]any{"ip": ip}})
		return err
	})
}
