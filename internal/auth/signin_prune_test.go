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
