package auth

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestLoginAttemptsPruned: attempts older than AttemptRetention go, a bounded batch per
// sign-in write, except each email's latest successful sign-in (the admin list shows it).
func TestLoginAttemptsPruned(t *testing.T) {
	u, clk := newTestUsers(t)
	ctx := context.Background()
	ana := mustCreate(t, u, "ana@example.com", Analyst)
	key, _ := NewTOTPKey("kycdesk", ana.Email)
	if _, err := u.EnrollTOTP(ctx, ana.ID, key.Secret(), code(t, key.Secret(), clk.t), "ip"); err != nil {
		t.Fatal(err) // ana's one successful sign-in
	}
	signedIn := clk.t
	for i := range pruneBatch + 20 { // spread over many emails and addresses: no lock-out, no throttle
		clk.advance(time.Second)
		u.Authenticate(ctx, fmt.Sprintf("guess%d@example.com", i), "wrong", fmt.Sprintf("10.0.%d.%d", i/200, i%200))
	}
	count := func() (n int) {
		t.Helper()
		if err := u.db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM login_attempts`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != pruneBatch+21 {
		t.Fatalf("%d attempts before pruning", n)
	}
	clk.advance(AttemptRetention + time.Minute)
	u.Authenticate(ctx, "late@example.com", "wrong", "10.9.9.9") // prunes one batch
	if n := count(); n != 20+1+1 {
		t.Fatalf("%d attempts after one pruning write, want the 20 not yet pruned, ana's sign-in and the new one", n)
	}
	u.Authenticate(ctx, "late@example.com", "wrong", "10.9.9.9") // prunes the rest
	if n := count(); n != 1+2 {
		t.Fatalf("%d attempts left", n)
	}
	got, err := u.Get(ctx, ana.ID)
	if err != nil || !got.LastLoginAt.Equal(signedIn.Truncate(time.Millisecond)) {
		t.Fatalf("last sign-in %v (%v), want %v", got.LastLoginAt, err, signedIn)
	}
}

// TestLockoutEndsAndComesBack: admins see a lock-out while it lasts; after LockoutWindow
// it is over (shown active, the right password works), and ten new failures lock the
// account again, with a second auth.locked entry.
func TestLockoutEndsAndComesBack(t *testing.T) {
	u, clk := newTestUsers(t)
	ctx := context.Background()
	ana := mustCreate(t, u, "ana@example.com", Analyst)
	lockOut := func() {
		t.Helper()
		var err error
		for range LockoutFailures {
			clk.advance(time.Second)
			_, err = u.Authenticate(ctx, ana.Email, "wrong", "ip")
		}
		if err != ErrLockedOut {
			t.Fatalf("10th failure: %v, want ErrLockedOut", err)
		}
		if got, _ := u.Get(ctx, ana.ID); got.Status() != "locked" {
			t.Fatalf("status %s right after the lock-out", got.Status())
		}
	}
	lockOut()
	clk.advance(LockoutWindow)
	if got, _ := u.Get(ctx, ana.ID); got.Status() != "active" {
		t.Errorf("status %s after the window", got.Status())
	}
	lockOut() // without a sign-in in between: the old mark was never cleared
	n := 0
	if err := u.db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'auth.locked'`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d auth.locked entries (%v), want 2", n, err)
	}
	clk.advance(LockoutWindow)
	if _, err := u.Authenticate(ctx, ana.Email, pw, "ip"); err != nil {
		t.Fatalf("right password after the second window: %v", err)
	}
	if got, _ := u.Get(ctx, ana.ID); got.Status() != "active" || !got.LockedAt.IsZero() {
		t.Errorf("after sign-in: %s", got.Status())
	}
}
