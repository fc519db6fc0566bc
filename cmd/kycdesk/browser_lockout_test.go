package main

import (
	"net/http"
	"testing"
)

// lockoutMessage is DESIGN.md's answer to a locked-out sign-in ("Users and roles").
const lockoutMessage = "too many failed sign-ins for this email: wait 15 minutes or ask an administrator"

// Journey: after ten wrong passwords the person at the form is told why and what to do,
// even when they then type the right password; an email without an account gets the
// very same answer, so the form still does not tell who has an account.
func TestBrowserLockedOutSignInSaysWhy(t *testing.T) {
	t.Parallel()
	srv, shots := journey(t)
	ana := srv.createUser(t, "analyst", "ana@example.com", "")
	b := srv.newBrowser(t, "visitor", shots)

	for _, email := range []string{ana.Email, "nobody-here@example.com"} {
		for i := 1; i < 10; i++ {
			if status, _ := b.refusedSignIn(email, "Not-The-Right-Password-42"); status != http.StatusUnauthorized {
				t.Fatalf("%s: failure %d answered %d, want 401", email, i, status)
			}
		}
		for _, password := range []string{"Not-The-Right-Password-42", ana.Password} {
			status, msg := b.refusedSignIn(email, password)
			if status != http.StatusTooManyRequests || msg != lockoutMessage {
				t.Errorf("%s locked out: %d %q, want 429 %q", email, status, msg, lockoutMessage)
			}
		}
	}
}
