package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/errs"
)

// User is an account as the admin pages and the sign-in flow see it.
type User struct {
	ID          int64
	Email       string
	Name        string
	Role        Role
	MFAEnabled  bool
	DisabledAt  time.Time // zero: active
	LockedAt    time.Time // zero: not locked out
	LastLoginAt time.Time // zero: never signed in
	CreatedAt   time.Time
}

// Status is what the admin list shows: disabled wins over locked.
func (u User) Status() string {
	switch {
	case !u.DisabledAt.IsZero():
		return "disabled"
	case !u.LockedAt.IsZero():
		return "locked"
	}
	return "active"
}

// Users is the user store and the sign-in rules built on it: password and second-factor
// checks, lock-out, and the admin actions, each audited in the transaction of its change.
type Users struct {
	db     *db.DB
	hasher *Hasher
	sealer *crypto.Sealer
	now    func() time.Time
	// Issuer is the name authenticator apps show beside the account.
	Issuer string
}

// NewUsers returns the store; now is the clock of lock-out windows, TOTP and audit times.
func NewUsers(d *db.DB, h *Hasher, s *crypto.Sealer, now func() time.Time) *Users {
	if now == nil {
		now = time.Now
	}
	return &Users{db: d, hasher: h, sealer: s, now: now, Issuer: "kycdesk"}
}

// CLIActor is the audit actor of changes made with the command line.
const CLIActor = "cli"

// NewUser is what creating an account takes.
type NewUser struct {
	Email    string
	Name     string
	Role     Role
	Password string
}

const maxNameRunes = 200

// NormalizeEmail trims and lower-cases an address, the form stored and looked up.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func validEmail(email string) bool {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || len(email) > 254 {
		return false
	}
	for _, r := range email {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '<' || r == '>' || r == '"' {
			return false
		}
	}
	return true
}

// Create adds an account after checking the email, role and password policy; actor is
// the admin's email or CLIActor.
func (u *Users) Create(ctx context.Context, actor string, nu NewUser) (User, error) {
	nu.Email = NormalizeEmail(nu.Email)
	nu.Name = strings.TrimSpace(nu.Name)
	switch {
	case !validEmail(nu.Email):
		return User{}, errs.E(errs.Invalid, "Enter a valid email address.")
	case !nu.Role.Valid():
		return User{}, errs.E(errs.Invalid, "Choose a role: analyst, lead, admin or auditor.")
	case utf8.RuneCountInString(nu.Name) > maxNameRunes || !utf8.ValidString(nu.Name):
		return User{}, errs.E(errs.Invalid, "The name is too long.")
	}
	if err := CheckPassword(nu.Password, nu.Email); err != nil {
		return User{}, errs.Wrap(err, errs.Invalid, err.Error())
	}
	hash, err := u.hasher.Hash(ctx, nu.Password)
	if err != nil {
		return User{}, err
	}
	now := u.now()
	user := User{Email: nu.Email, Name: nu.Name, Role: nu.Role, CreatedAt: now}
	err = u.db.Tx(ctx, func(tx *sql.Tx) error {
		var exists int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE email = ?`, nu.Email).Scan(&exists); err != nil {
			return err
		}
		if exists > 0 {
			return errs.E(errs.Conflict, "A user with this email already exists.")
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO users (email, name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			nu.Email, nu.Name, string(nu.Role), hash, db.Millis(now), db.Millis(now))
		if err != nil {
			return err
		}
		if user.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: actor, Action: "user.created", Subject: nu.Email,
			Details: map[string]any{"role": string(nu.Role), "user_id": user.ID}})
		return err
	})
	if err != nil {
		return User{}, err
	}
	return user, nil
}

const userColumns = `u.id, u.email, u.name, u.role, u.mfa_enabled, u.disabled_at, u.locked_at, u.created_at,
	(SELECT MAX(a.at) FROM login_attempts a WHERE a.email = u.email AND a.success = 1)`

const userColumnsNoLastLogin = `u.id, u.email, u.name, u.role, u.mfa_enabled, u.disabled_at, u.locked_at, u.created_at, NULL`

type rowScanner interface{ Scan(...any) error }

func scanUser(r rowScanner) (User, error) {
	var usr User
	var role string
	var mfa int
	var disabled, locked, last sql.NullInt64
	var created int64
	if err := r.Scan(&usr.ID, &usr.Email, &usr.Name, &role, &mfa, &disabled, &locked, &created, &last); err != nil {
		return usr, err
	}
	usr.Role, usr.MFAEnabled, usr.CreatedAt = Role(role), mfa == 1, db.Time(created)
	if disabled.Valid {
		usr.DisabledAt = db.Time(disabled.Int64)
	}
	if locked.Valid {
		usr.LockedAt = db.Time(locked.Int64)
	}
	if last.Valid {
		usr.LastLoginAt = db.Time(last.Int64)
	}
	return usr, nil
}

var errNoUser = errs.E(errs.NotFound, "There is no such user.")

// queryRower is the read pool or a transaction.
type queryRower interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// oneUser reads the user matching where (a condition on users u with one argument);
// errs.NotFound when there is none.
func oneUser(ctx context.Context, q queryRower, columns, where string, arg any) (User, error) {
	usr, err := scanUser(q.QueryRowContext(ctx, `SELECT `+columns+` FROM users u WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return usr, errNoUser
	}
	return usr, err
}

// Get returns the user with id; errs.NotFound when there is none.
func (u *Users) Get(ctx context.Context, id int64) (User, error) {
	usr, err := oneUser(ctx, u.db.Read, userColumns, "u.id = ?", id)
	u.lockOver(&usr)
	return usr, err
}

// lockOver clears, in what admins are shown, a lock-out mark older than LockoutWindow:
// the failures that caused it have aged out and the email is no longer refused (the mark
// itself goes at the account's next sign-in, or when an admin lifts it).
func (u *Users) lockOver(usr *User) {
	if !usr.LockedAt.IsZero() && u.now().Sub(usr.LockedAt) >= LockoutWindow {
		usr.LockedAt = time.Time{}
	}
}

// Current returns the user with id as every signed-in request needs it: Get without
// LastLoginAt, which costs a look into login_attempts that a page view does not need.
func (u *Users) Current(ctx context.Context, id int64) (User, error) {
	return oneUser(ctx, u.db.Read, userColumnsNoLastLogin, "u.id = ?", id)
}

// ByEmail returns the user with this email (any case); errs.NotFound when there is none.
func (u *Users) ByEmail(ctx context.Context, email string) (User, error) {
	return oneUser(ctx, u.db.Read, userColumns, "u.email = ?", NormalizeEmail(email))
}

// List returns every user by email; a desk has tens of users, not thousands.
func (u *Users) List(ctx context.Context) ([]User, error) {
	rows, err := u.db.Read.QueryContext(ctx, `SELECT `+userColumns+` FROM users u ORDER BY u.email`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		usr, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		u.lockOver(&usr)
		out = append(out, usr)
	}
	return out, rows.Err()
}

// change runs an admin action on user id in one transaction with its audit entry.
// apply returns the audit details, or an error to roll back.
func (u *Users) change(ctx context.Context, by *Identity, id int64, action string,
	apply func(tx *sql.Tx, target User, now time.Time) (map[string]any, error)) (User, error) {
	if by == nil || by.Email == "" {
		return User{}, errs.E(errs.Unauthorized, "Sign in to continue.")
	}
	var target User
	err := u.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if target, err = oneUser(ctx, tx, userColumns, "u.id = ?", id); err != nil {
			return err
		}
		now := u.now()
		details, err := apply(tx, target, now)
		if err != nil {
			return err
		}
		if details == nil {
			details = map[string]any{}
		}
		details["user_id"] = target.ID
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Email, Action: action, Subject: target.Email, Details: details})
		return err
	})
	if err != nil {
		return User{}, err
	}
	return u.Get(ctx, id)
}

func exec(ctx context.Context, tx *sql.Tx, q string, args ...any) error {
	_, err := tx.ExecContext(ctx, q, args...)
	return err
}

// SetRole changes a user's role. An admin cannot demote themselves: the desk must not
// lose its last admin by a slip, and a role change is for someone else to make.
func (u *Users) SetRole(ctx context.Context, by *Identity, id int64, role Role) (User, error) {
	if !role.Valid() {
		return User{}, errs.E(errs.Invalid, "Choose a role: analyst, lead, admin or auditor.")
	}
	return u.change(ctx, by, id, "user.role_changed", func(tx *sql.Tx, t User, now time.Time) (map[string]any, error) {
		if t.ID == by.UserID && role != t.Role {
			return nil, errs.E(errs.Forbidden, "You cannot change your own role. Ask another admin.")
		}
		if t.Role == role {
			return nil, errs.E(errs.Invalid, "%s already has the role %s.", t.Email, role)
		}
		return map[string]any{"from": string(t.Role), "to": string(role)},
			exec(ctx, tx, `UPDATE users SET role = ?, updated_at = ? WHERE id = ?`, string(role), db.Millis(now), t.ID)
	})
}

// Disable blocks a user from signing in and ends their sessions at once.
func (u *Users) Disable(ctx context.Context, by *Identity, id int64) (User, error) {
	return u.change(ctx, by, id, "user.disabled", func(tx *sql.Tx, t User, now time.Time) (map[string]any, error) {
		if t.ID == by.UserID {
			return nil, errs.E(errs.Forbidden, "You cannot disable your own account. Ask another admin.")
		}
		if !t.DisabledAt.IsZero() {
			return nil, errs.E(errs.Invalid, "%s is already disabled.", t.Email)
		}
		n, err := endSessions(ctx, tx, t.ID)
		if err != nil {
			return nil, err
		}
		return map[string]any{"sessions_ended": n},
			exec(ctx, tx, `UPDATE users SET disabled_at = ?, updated_at = ? WHERE id = ?`, db.Millis(now), db.Millis(now), t.ID)
	})
}

// Enable lets a disabled user sign in again.
func (u *Users) Enable(ctx context.Context, by *Identity, id int64) (User, error) {
	return u.change(ctx, by, id, "user.enabled", func(tx *sql.Tx, t User, now time.Time) (map[string]any, error) {
		if t.DisabledAt.IsZero() {
			return nil, errs.E(errs.Invalid, "%s is not disabled.", t.Email)
		}
		return nil, exec(ctx, tx, `UPDATE users SET disabled_at = NULL, updated_at = ? WHERE id = ?`, db.Millis(now), t.ID)
	})
}

// ResetMFA removes a user's TOTP secret and recovery codes and ends their sessions: at
// the next sign-in they enrol a new authenticator.
func (u *Users) ResetMFA(ctx context.Context, by *Identity, id int64) (User, error) {
	return u.change(ctx, by, id, "user.mfa_reset", func(tx *sql.Tx, t User, now time.Time) (map[string]any, error) {
		n, err := endSessions(ctx, tx, t.ID)
		if err != nil {
			return nil, err
		}
		if err := exec(ctx, tx, `DELETE FROM recovery_codes WHERE user_id = ?`, t.ID); err != nil {
			return nil, err
		}
		return map[string]any{"sessions_ended": n, "was_enrolled": t.MFAEnabled},
			exec(ctx, tx, `UPDATE users SET totp_secret = NULL, totp_last_step = 0, mfa_enabled = 0, updated_at = ? WHERE id = ?`, db.Millis(now), t.ID)
	})
}

// Unlock lifts a lock-out. The failures that caused it are forgotten, or the next
// single mistake would lock the account again.
func (u *Users) Unlock(ctx context.Context, by *Identity, id int64) (User, error) {
	return u.change(ctx, by, id, "user.unlocked", func(tx *sql.Tx, t User, now time.Time) (map[string]any, error) {
		if t.LockedAt.IsZero() {
			return nil, errs.E(errs.Invalid, "%s is not locked out.", t.Email)
		}
		if err := exec(ctx, tx, `DELETE FROM login_attempts WHERE email = ? AND success = 0`, t.Email); err != nil {
			return nil, err
		}
		return map[string]any{"locked_at": t.LockedAt.Format(time.RFC3339)},
			exec(ctx, tx, `UPDATE users SET locked_at = NULL, updated_at = ? WHERE id = ?`, db.Millis(now), t.ID)
	})
}

func endSessions(ctx context.Context, tx *sql.Tx, userID int64) (int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// totpAD binds a sealed TOTP secret to its user: a secret copied to another user's row
// does not open.
func totpAD(userID int64) []byte { return []byte("totp:" + strconv.FormatInt(userID, 10)) }

// pendingTOTPAD binds a secret waiting for confirmation, kept sealed in the session.
func pendingTOTPAD(userID int64) []byte {
	return []byte("totp-pending:" + strconv.FormatInt(userID, 10))
}

// SealPendingTOTP seals a new, unconfirmed secret for keeping in the user's session.
func (u *Users) SealPendingTOTP(userID int64, secret string) []byte {
	return u.sealer.Seal([]byte(secret), pendingTOTPAD(userID))
}

// OpenPendingTOTP opens what SealPendingTOTP sealed for the same user.
func (u *Users) OpenPendingTOTP(userID int64, sealed []byte) (string, error) {
	b, err := u.sealer.Open(sealed, pendingTOTPAD(userID))
	if err != nil {
		return "", fmt.Errorf("pending TOTP secret: %w", err)
	}
	return string(b), nil
}
