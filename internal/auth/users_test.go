package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

func newTestUsers(t *testing.T) (*Users, *clock) {
	t.Helper()
	d := testkit.DB(t)
	sealer, err := crypto.NewSealer(make([]byte, crypto.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)}
	return NewUsers(d, cheapHasher(2), sealer, clk.now), clk
}

const pw = "Quiet-Harbor-Lantern-77"

func mustCreate(t *testing.T, u *Users, email string, role Role) User {
	t.Helper()
	usr, err := u.Create(context.Background(), CLIActor, NewUser{Email: email, Role: role, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	return usr
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCreateValidates(t *testing.T) {
	u, _ := newTestUsers(t)
	ctx := context.Background()
	mustCreate(t, u, "ana@example.com", Analyst)
	tests := []struct {
		name string
		nu   NewUser
		code string
	}{
		{"duplicate, other case", NewUser{Email: " ANA@example.com ", Role: Lead, Password: pw}, errs.Conflict},
		{"bad role", NewUser{Email: "b@example.com", Role: "root", Password: pw}, errs.Invalid},
		{"bad email", NewUser{Email: "b example.com", Role: Lead, Password: pw}, errs.Invalid},
		{"short password", NewUser{Email: "b@example.com", Role: Lead, Password: "short"}, errs.Invalid},
		{"common password", NewUser{Email: "b@example.com", Role: Lead, Password: "password1234"}, errs.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := u.Create(ctx, CLIActor, tt.nu); errs.Code(err) != tt.code {
				t.Errorf("err = %v, want code %s", err, tt.code)
			}
		})
	}
}

func TestAuthenticate(t *testing.T) {
	u, _ := newTestUsers(t)
	ctx := context.Background()
	ana := mustCreate(t, u, "ana@example.com", Analyst)
	if got, err := u.Authenticate(ctx, "  Ana@Example.com", pw, "192.0.2.1"); err != nil || got.ID != ana.ID {
		t.Fatalf("right password: %v", err)
	}
	for _, tt := range []struct{ email, password string }{{"ana@example.com", pw + "x"}, {"bob@example.com", pw}, {"ana@example.com", ""}} {
		if _, err := u.Authenticate(ctx, tt.email, tt.password, "192.0.2.1"); err != ErrSignInFailed {
			t.Errorf("%s/%q: %v", tt.email, tt.password, err)
		}
	}
}

func TestSecondFactor(t *testing.T) {
	u, clk := newTestUsers(t)
	ctx := context.Background()
	ana := mustCreate(t, u, "ana@example.com", Analyst)
	key, _ := NewTOTPKey("kycdesk", ana.Email)
	if _, err := u.EnrollTOTP(ctx, ana.ID, key.Secret(), "123", "ip"); !errors.Is(err, ErrCodeWrong) {
		t.Fatalf("enrol with a bad code: %v", err)
	}
	enrolCode := code(t, key.Secret(), clk.t)
	codes, err := u.EnrollTOTP(ctx, ana.ID, key.Secret(), enrolCode, "ip")
	if err != nil || len(codes) != DefaultRecoveryCodes {
		t.Fatalf("enrol: %d codes, %v", len(codes), err)
	}
	if _, err := u.EnrollTOTP(ctx, ana.ID, key.Secret(), code(t, key.Secret(), clk.t.Add(30*time.Second)), "ip"); errs.Code(err) != errs.Conflict {
		t.Errorf("second enrolment: %v", err)
	}

	tests := []struct {
		name    string
		advance time.Duration
		code    func() string
		ok      bool
	}{
		{"enrolment code replayed", 0, func() string { return enrolCode }, false},
		{"next step", 30 * time.Second, func() string { return code(t, key.Secret(), clk.t) }, true},
		{"same code again", 0, func() string { return code(t, key.Secret(), clk.t) }, false},
		{"older step after a newer one", 0, func() string { return code(t, key.Secret(), clk.t.Add(-30*time.Second)) }, false},
		{"recovery code", 0, func() string { return codes[0] }, true},
		{"recovery code again", 0, func() string { return codes[0] }, false},
		{"another recovery code", 0, func() string { return codes[1] }, true},
		{"garbage", 0, func() string { return "abc" }, false},
		{"two steps ahead", 0, func() string { return code(t, key.Secret(), clk.t.Add(61*time.Second)) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.advance(tt.advance)
			_, err := u.VerifySecondFactor(ctx, ana.ID, tt.code(), "ip")
			if (err == nil) != tt.ok {
				t.Errorf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestLockoutCountsSinceLastSuccess(t *testing.T) {
	u, clk := newTestUsers(t)
	ctx := context.Background()
	ana := mustCreate(t, u, "ana@example.com", Analyst)
	key, _ := NewTOTPKey("kycdesk", ana.Email)
	if _, err := u.EnrollTOTP(ctx, ana.ID, key.Secret(), code(t, key.Secret(), clk.t), "ip"); err != nil {
		t.Fatal(err)
	}
	fail := func(n int) {
		for range n {
			clk.advance(10 * time.Second)
			u.Authenticate(ctx, ana.Email, "wrong", "ip")
		}
	}
	fail(9)
	clk.advance(time.Minute)
	if _, err := u.VerifySecondFactor(ctx, ana.ID, code(t, key.Secret(), clk.t), "ip"); err != nil {
		t.Fatal(err) // a completed sign-in starts the count again
	}
	fail(9)
	if got, _ := u.Get(ctx, ana.ID); got.Status() != "active" {
		t.Fatalf("locked after 9 failures since the last sign-in")
	}
	// Wrong second-factor codes count like wrong passwords.
	if _, err := u.VerifySecondFactor(ctx, ana.ID, "000000", "ip"); !errors.Is(err, ErrCodeWrong) {
		t.Fatal(err)
	}
	got, _ := u.Get(ctx, ana.ID)
	if got.Status() != "locked" {
		t.Fatalf("status %s after the 10th failure", got.Status())
	}
	if _, err := u.Authenticate(ctx, ana.Email, pw, "ip"); err != ErrLockedOut {
		t.Errorf("locked user signed in: %v", err)
	}
	admin := &Identity{UserID: 99, Email: "admin@example.com"}
	if _, err := u.Unlock(ctx, admin, ana.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Authenticate(ctx, ana.Email, pw, "ip"); err != nil {
		t.Errorf("after unlock: %v", err)
	}
}
