package handlers

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/internal/auth"
)

// TestCrossOriginRefused: a state-changing request with a valid session and CSRF token is
// still refused when the browser says another site sent it (Origin, Sec-Fetch-Site), as
// net/http's CrossOriginProtection does; same-origin requests and requests without either
// header (not from a browser) pass, and so do the machine paths.
func TestCrossOriginRefused(t *testing.T) {
	env := newTestEnv(t)
	admin := env.signIn(auth.Admin)
	audited := func() (n int) {
		t.Helper()
		if err := env.db.Read.QueryRow(`SELECT COUNT(*) FROM audit_log`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	tests := []struct {
		name    string
		headers map[string]string
		refused bool
	}{
		{"no Origin, no Sec-Fetch-Site", nil, false},
		{"same origin", map[string]string{"Origin": "http://kycdesk.test"}, false},
		{"same origin by Sec-Fetch-Site", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://kycdesk.test"}, false},
		{"typed by the user", map[string]string{"Sec-Fetch-Site": "none"}, false},
		{"the public URL's origin (behind a proxy)", map[string]string{"Origin": "http://127.0.0.1:8080"}, false},
		{"another site's Origin", map[string]string{"Origin": "https://evil.example"}, true},
		{"another port is another origin", map[string]string{"Origin": "http://kycdesk.test:8443"}, true},
		{"Origin null", map[string]string{"Origin": "null"}, true},
		{"Sec-Fetch-Site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}, true},
		{"Sec-Fetch-Site same-site", map[string]string{"Sec-Fetch-Site": "same-site"}, true},
		{"the attack as reported", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"_csrf": {admin.csrf}, "email": {fmt.Sprintf("new%d@example.com", i)}, "role": {"analyst"},
				"password": {testPassword}}
			req := httptestRequest("POST", "/admin/users", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			before := audited()
			resp, body := admin.do(req)
			changed := audited() != before
			if tt.refused {
				if resp.StatusCode != 403 || !strings.Contains(body, "came from another site") || changed {
					t.Fatalf("status %d, changed %v; want 403 with the reason and no change", resp.StatusCode, changed)
				}
				return
			}
			if resp.StatusCode != 303 || !changed {
				t.Fatalf("same-origin request: status %d, changed %v; want 303 and the user created", resp.StatusCode, changed)
			}
		})
	}

	// Webhooks are machine paths: a cross-site header does not stop them before their own
	// authentication (which refuses this unsigned request with its own answer).
	req := httptestRequest("POST", "/webhooks/generic/nope", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	if resp, body := env.do(req); strings.Contains(body, "came from another site") {
		t.Errorf("webhook refused as cross-origin: %d", resp.StatusCode)
	}
	// So is the sign-in form: a login CSRF from another site is refused too.
	c := env.client()
	c.get("/login")
	form := url.Values{"_csrf": {c.csrf}, "email": {admin.user.Email}, "password": {testPassword}}
	req = httptestRequest("POST", "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if resp, _ := c.do(req); resp.StatusCode != 403 {
		t.Errorf("cross-site sign-in: %d, want 403", resp.StatusCode)
	}
}
