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

// Brute-force limits. An email is locked out after LockoutFailures failed attempts within
// LockoutWindow (counted since its last successful sign-in), whether or not an account
// has it; an address that failed AddressFailures times within the window is refused
// before any password is checked. Attempts are kept for AttemptRetention, then pruned.
const (
	LockoutFailures  = 10
	LockoutWindow    = 15 * time.Minute
	AddressFailures  = 30
	AttemptRetention = 24 * time.Hour
	// pruneBatch bounds the rows one sign-in write deletes, so pruning never holds the
	// writer for long; each write prunes, so the table stays small.
	pruneBatch = 100
)

// login_attempts.success values.
const (
	attemptFailed  = 0 // counts towards the email's lock-out and the address's throttle
	attemptSuccess = 1
	attemptRefused = 2 // refused while locked out: counts for the address only, so waiting is enough
)

// ErrSignInFailed is the one answer to a wrong email, a wrong password, a disabled
// account or a locked one: which of them it was is for the audit trail, not for the
// person at the form.
var ErrSignInFailed = errs.E(errs.Unauthorized, "Email or password is wrong.")

// ErrCodeWrong is the answer to a wrong, reused or malformed second-factor code.
var ErrCodeWrong = errs.E(errs.Unauthorized, "That code is not right. Try the current code from your app, or a recovery code.")

// ErrLockedOut is the answer to every sign-in for an email that failed too often, even
// with the right password, and the same for an email no account has: the person learns
// why and what to do, and the answer never tells whether the account exists.
var ErrLockedOut = errs.E(errs.TooMany, "too many failed sign-ins for this email: wait 15 minutes or ask an administrator")

// ErrTooManyAttempts refuses an address that failed too often.
var ErrTooManyAttempts = errs.E(errs.TooMany, "Too many failed sign-ins from your network. Wait 15 minutes and try again.")

// Failure reasons recorded in auth.login_failed entries.
const (
	reasonUnknownEmail  = "unknown_email"
	reasonWrongPassword = "wrong_password"
	reasonDisabled      = "disabled"
	reasonLocked        = "locked"
	reasonThrottled     = "unknown_email_locked"
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
	err := u.db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM login_attempts WHERE ip = ? AND at > ? AND success != ?`,
		ip, db.Millis(u.now().Add(-LockoutWindow)), attemptSuccess).Scan(&n)
	return n >= AddressFailures, err
}

// emailFailures counts the failed attempts for email within the lock-out window since
// its last successful sign-in. It reads the same rows whether or not an account has the
// email.
func (u *Users) emailFailures(ctx context.Context, q queryRower, email string, now time.Time) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM login_attempts WHERE email = ? AND success = ? AND at > ?
		AND id > COALESCE((SELECT MAX(id) FROM login_attempts WHERE email = ? AND success = ?), 0)`,
		email, attemptFailed, db.Millis(now.Add(-LockoutWindow)), email, attemptSuccess).Scan(&n)
	return n, err
}

// Authenticate checks an email and password (the first factor). A wrong email, a wrong
// password and a disabled account all answer ErrSignInFailed, after the same argon2 work;
// an email locked out answers ErrLockedOut, with or without an account and even with the
// right password, after the same (no argon2) work. Each refusal is audited with its
// reason. ip is the client address, for throttling and the trail.
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
	failures, err := u.emailFailures(ctx, u.db.Read, email, u.now())
	if err != nil {
		return User{}, err
	}
	c, err := u.credentials(ctx, u.db.Read, "email = ?", email)
	known := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return User{}, err
	}
	if failures >= LockoutFailures {
		if known {
			return User{}, u.recordRefusal(ctx, email, ip, &c.User, reasonLocked)
		}
		return User{}, u.recordRefusal(ctx, email, ip, nil, reasonThrottled)
	}
	if !known {
		if err := u.hasher.DummyVerify(ctx); err != nil {
			return User{}, err
		}
		return User{}, u.recordFailure(ctx, email, ip, nil, reasonUnknownEmail)
	}
	// The hash is checked even for a disabled account, so that the time taken does not
	// tell that state apart from a wrong password.
	ok, err := u.hasher.Verify(ctx, c.passwordHash, password)
	if err != nil && !errors.Is(err, ErrMalformedHash) {
		return User{}, err
	}
	switch {
	case !ok:
		return User{}, u.recordFailure(ctx, email, ip, &c.User, reasonWrongPassword)
	case !c.DisabledAt.IsZero():
		return User{}, u.recordFailure(ctx, email, ip, &c.User, reasonDisabled)
	}
	if !c.LockedAt.IsZero() {
		// The failures that locked the account have left the window: the lock-out is over.
		if err := u.lockExpired(ctx, &c.User); err != nil {
			return User{}, err
		}
		c.LockedAt = time.Time{}
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

// lockExpired clears the lock-out mark of an account whose failures have aged out of the
// window, and audits it.
func (u *Users) lockExpired(ctx context.Context, usr *User) error {
	now := u.now()
	return u.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET locked_at = NULL, updated_at = ? WHERE id = ? AND locked_at IS NOT NULL`,
			db.Millis(now), usr.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: "system", Action: "auth.lock_expired", Subject: usr.Email,
			Details: map[string]any{"user_id": usr.ID, "locked_at": usr.LockedAt.UTC().Format(time.RFC3339)}})
		return err
	})
}

// recordRefusal stores and audits an attempt refused because the email is locked out.
// It does not count towards the lock-out (waiting LockoutWindow is enough), only
// towards the address's throttle. It returns ErrLockedOut.
func (u *Users) recordRefusal(ctx context.Context, email, ip string, usr *User, reason string) error {
	now := u.now()
	err := u.db.Tx(ctx, func(tx *sql.Tx) error {
		return writeAttempt(ctx, tx, email, ip, usr, reason, attemptRefused, now)
	})
	if err != nil {
		return err
	}
	return ErrLockedOut
}

// writeAttempt stores an unsuccessful sign-in attempt of the given kind, audits it as
// auth.login_failed (actor "anonymous" for an email no account has) and prunes old attempts,
// all in the caller's transaction.
func writeAttempt(ctx context.Context, tx *sql.Tx, email, ip string, usr *User, reason string, kind int, now time.Time) error {
	if err := exec(ctx, tx, `INSERT INTO login_attempts (email, ip, at, success) VALUES (?, ?, ?, ?)`,
		email, ip, db.Millis(now), kind); err != nil {
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
	return pruneAttempts(ctx, tx, now)
}

// pruneAttempts deletes up to pruneBatch attempts older than AttemptRetention, keeping
// each email's latest successful sign-in (the admin list's "last sign-in"). It reads the
// login_attempts_at index, so it costs next to nothing when there is nothing to prune.
func pruneAttempts(ctx context.Context, tx *sql.Tx, now time.Time) error {
	return exec(ctx, tx, `DELETE FROM login_attempts WHERE id IN (
		SELECT a.id FROM login_attempts a INDEXED BY login_attempts_at WHERE a.at < ?
		AND (a.success != ? OR EXISTS (SELECT 1 FROM login_attempts b WHERE b.email = a.email AND b.success = ? AND b.at > a.at))
		ORDER BY a.at LIMIT ?)`,
		db.Millis(now.Add(-AttemptRetention)), attemptSuccess, attemptSuccess, pruneBatch)
}

// recordFailure stores a failed attempt, audits it, and locks the email out when this
// failure is the LockoutFailures-th in the window (an account with that email gets
// locked_at, shown to admins). It returns the error to show.
func (u *Users) recordFailure(ctx context.Context, email, ip string, usr *User, reason string) error {
	now := u.now()
	lockedOut := false
	err := u.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := writeAttempt(ctx, tx, email, ip, usr, reason, attemptFailed, now); err != nil {
			return err
		}
		n, err := u.emailFailures(ctx, tx, email, now)
		if err != nil {
			return err
		}
		if n < LockoutFailures {
			return nil
		}
		lockedOut = true
		// Attempts while locked out are refused before they count, so this failure is the
		// one that crossed the threshold (more only when two raced): a new lock-out, even
		// when an older one's mark was never cleared.
		if usr == nil || n > LockoutFailures {
			return nil
		}
		if err := exec(ctx, tx, `UPDATE users SET locked_at = ?, updated_at = ? WHERE id = ?`,
			db.Millis(now), db.Millis(now), usr.ID); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: "system", Action: "auth.locked", Subject: usr.Email,
			Details: map[string]any{"user_id": usr.ID, "failures": n, "window": LockoutWindow.String(), "ip": ip}})
		return err
	})
	switch {
	case err != nil:
		return err
	case reason == reasonWrongCode:
		return ErrCodeWrong
	case lockedOut:
		return ErrLockedOut
	}
	return ErrSignInFailed
}

// recordSuccess stores a completed sign-in and audits it, inside tx.
func (u *Users) recordSuccess(ctx context.Context, tx *sql.Tx, usr User, ip, method string, now time.Time) error {
	if err := exec(ctx, tx, `INSERT INTO login_attempts (email, ip, at, success) VALUES (?, ?, ?, ?)`,
		usr.Email, ip, db.Millis(now), attemptSuccess); err != nil {
		return err
	}
	if err := pruneAttempts(ctx, tx, now); err != nil {
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
