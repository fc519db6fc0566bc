package handlers

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

func TestSignInHelper(t *testing.T) {
	env := newTestEnv(t)
	for _, role := range auth.Roles {
		c := env.signIn(role)
		if c.sessionCookie() == "" || c.csrf == "" {
			t.Fatalf("%s: no session or csrf after sign-in", role)
		}
		resp, body := c.get("/")
		if resp.StatusCode != 303 || resp.Header.Get("Location") != landing(role) {
			t.Errorf("%s: GET / = %d %s %s", role, resp.StatusCode, resp.Header.Get("Location"), body)
		}
		resp, body = c.get(landing(role))
		if resp.StatusCode != 200 || !strings.Contains(body, `id="sign-out"`) {
			t.Errorf("%s: landing %s = %d", role, landing(role), resp.StatusCode)
		}
	}
}

// auditActions returns the actions of the trail's entries about subject, oldest first.
func (e *testEnv) auditActions(subject string) []string {
	e.t.Helper()
	return testkit.AuditActions(e.t, e.db, subject)
}

// auditEntries returns the entries with action about subject.
func (e *testEnv) auditEntries(subject, action string) []audit.Entry {
	e.t.Helper()
	entries, err := audit.List(context.Background(), e.db.Read, audit.Filter{Subject: subject, Action: action, Asc: true, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []audit.Entry
	for _, en := range entries {
		if en.Action == action {
			out = append(out, en)
		}
	}
	return out
}

func wantStatus(t *testing.T, what string, resp *http.Response, status int, location string) {
	t.Helper()
	if resp.StatusCode != status || resp.Header.Get("Location") != location {
		t.Fatalf("%s: %d → %q, want %d → %q", what, resp.StatusCode, resp.Header.Get("Location"), status, location)
	}
}

var secretRe = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)

// TestEnrolmentFlow: password → /mfa/setup (one pending secret, its QR code from our
// own route) → wrong then right code → ten recovery codes once → signed in, with a new
// session id at each step.
func TestEnrolmentFlow(t *testing.T) {
	env := newTestEnv(t)
	u := env.newUser(auth.Lead)
	c := env.client()

	resp, body := c.get("/login")
	wantStatus(t, "GET /login", resp, 200, "")
	for _, want := range []string{`name="email"`, `autocomplete="username"`, `autocomplete="current-password"`, `name="_csrf"`, `autofocus`, `<label for="password">`} {
		if !strings.Contains(body, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	pre := c.sessionCookie()
	if pre == "" {
		t.Fatal("GET /login set no pre-session")
	}
	resp, _ = c.postForm("/login", url.Values{"email": {strings.ToUpper(u.Email)}, "password": {testPassword}})
	wantStatus(t, "POST /login", resp, 303, "/mfa/setup")
	afterPassword := c.sessionCookie()
	if afterPassword == "" || afterPassword == pre {
		t.Fatal("session id not changed at login")
	}

	// Only the MFA pages and sign-out are open now.
	resp, _ = c.get("/audit")
	wantStatus(t, "GET /audit before MFA", resp, 303, "/mfa/setup")
	resp, _ = c.get("/mfa")
	wantStatus(t, "GET /mfa when not enrolled", resp, 303, "/mfa/setup")

	resp, body = c.get("/mfa/setup")
	wantStatus(t, "GET /mfa/setup", resp, 200, "")
	m := secretRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no #totp-secret on the setup page: %s", body)
	}
	secret := m[1]
	for _, want := range []string{`src="/mfa/setup/qr.png"`, `autocomplete="one-time-code"`, `inputmode="numeric"`, `name="code"`} {
		if !strings.Contains(body, want) {
			t.Errorf("setup page lacks %s", want)
		}
	}
	_, again := c.get("/mfa/setup")
	if m2 := secretRe.FindStringSubmatch(again); m2 == nil || m2[1] != secret {
		t.Fatal("reloading /mfa/setup minted another secret")
	}
	resp, png := c.get("/mfa/setup/qr.png")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(png, "\x89PNG") ||
		resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("qr.png: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	resp, body = c.postForm("/mfa/setup", url.Values{"code": {"000000"}})
	if resp.StatusCode != 401 || !strings.Contains(body, `id="error-message"`) || !strings.Contains(body, secret) {
		t.Fatalf("wrong enrolment code: %d", resp.StatusCode)
	}
	resp, body = c.postForm("/mfa/setup", url.Values{"code": {env.totpCode(secret, 0)}})
	wantStatus(t, "POST /mfa/setup", resp, 200, "")
	codes := regexp.MustCompile(`<li><code>([0-9a-z]{5}-[0-9a-z]{5})</code></li>`).FindAllStringSubmatch(body, -1)
	if len(codes) != 10 || !strings.Contains(body, `id="recovery-codes"`) || !strings.Contains(body, `href="/audit"`) {
		t.Fatalf("recovery codes page: %d codes: %s", len(codes), body)
	}
	if c.sessionCookie() == afterPassword {
		t.Fatal("session id not changed after MFA")
	}
	resp, _ = c.get("/audit")
	wantStatus(t, "GET /audit after MFA", resp, 200, "")
	resp, _ = c.get("/mfa/setup")
	wantStatus(t, "GET /mfa/setup once signed in", resp, 303, landing(auth.Lead))

	want := []string{"user.created", "auth.login_failed", "auth.mfa_enrolled", "auth.login"}
	if got := env.auditActions(u.Email); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("audit trail %v, want %v", got, want)
	}
	// The secret is sealed at rest and the codes stored hashed.
	var sealed []byte
	env.db.Read.QueryRow(`SELECT totp_secret FROM users WHERE id = ?`, u.ID).Scan(&sealed)
	if len(sealed) == 0 || strings.Contains(string(sealed), secret) {
		t.Error("TOTP secret not sealed")
	}
	var plain int
	env.db.Read.QueryRow(`SELECT COUNT(*) FROM recovery_codes WHERE code_hash = ?`, codes[0][1]).Scan(&plain)
	if plain != 0 {
		t.Error("recovery code stored in plain")
	}
}

func TestSessionFixationAtMFA(t *testing.T) {
	env := newTestEnv(t)
	u, secret, _ := env.enrolledUser(auth.Auditor)
	c := env.client()
	c.get("/login")
	pre := c.sessionCookie()
	c.postForm("/login", url.Values{"email": {u.Email}, "password": {testPassword}})
	afterPassword := c.sessionCookie()
	c.get("/mfa")
	resp, _ := c.postForm("/mfa", url.Values{"code": {env.totpCode(secret, 0)}})
	wantStatus(t, "POST /mfa", resp, 303, landing(auth.Auditor))
	final := c.sessionCookie()
	if pre == afterPassword || afterPassword == final || pre == final {
		t.Fatalf("ids not all different: %q %q %q", pre, afterPassword, final)
	}
	// The ids of the earlier steps are dead: an attacker who planted or saw them gets nothing.
	for _, old := range []string{pre, afterPassword} {
		attacker := env.client()
		attacker.cookies[auth.SessionCookie] = old
		resp, _ := attacker.get("/audit")
		wantStatus(t, "old id", resp, 303, "/login")
	}
	var rows int
	env.db.Read.QueryRow(`SELECT COUNT(*) FROM sessions`).Scan(&rows)
	if rows != 1 {
		t.Errorf("%d session rows, want 1", rows)
	}
}

func TestSessionExpiry(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		env := newTestEnv(t)
		c := env.signIn(auth.Admin)
		for range 5 { // busy for 2.5 hours: each request keeps it alive
			env.advance(29 * time.Minute)
			resp, _ := c.get("/admin/users")
			wantStatus(t, "active session", resp, 200, "")
		}
		env.advance(30 * time.Minute)
		resp, _ := c.get("/admin/users")
		wantStatus(t, "after 30 idle minutes", resp, 303, "/login")
		if c.sessionCookie() != "" {
			t.Error("expired session's cookie not cleared")
		}
	})
	t.Run("absolute", func(t *testing.T) {
		env := newTestEnv(t)
		c := env.signIn(auth.Admin)
		for elapsed := 20 * time.Minute; elapsed < 12*time.Hour; elapsed += 20 * time.Minute {
			env.advance(20 * time.Minute)
			resp, _ := c.get("/admin/users")
			wantStatus(t, "within 12 h", resp, 200, "")
		}
		env.advance(20 * time.Minute)
		resp, _ := c.get("/admin/users")
		wantStatus(t, "after 12 h", resp, 303, "/login")
	})
	t.Run("last_seen written at most once a minute", func(t *testing.T) {
		env := newTestEnv(t)
		c := env.signIn(auth.Admin)
		seen := func() (ms int64) {
			env.db.Read.QueryRow(`SELECT last_seen_at FROM sessions`).Scan(&ms)
			return ms
		}
		before := seen()
		env.advance(30 * time.Second)
		c.get("/admin/users")
		if seen() != before {
			t.Error("last_seen_at written within the minute")
		}
		env.advance(31 * time.Second)
		c.get("/admin/users")
		if seen() != env.now.UnixMilli() {
			t.Error("last_seen_at not touched after a minute")
		}
	})
}

func TestSessionRevocation(t *testing.T) {
	tests := []struct {
		name   string
		revoke func(env *testEnv, admin, victim *testClient) *http.Response
	}{
		{"logout", func(env *testEnv, _, victim *testClient) *http.Response {
			resp, _ := victim.postForm("/logout", nil)
			return resp
		}},
		{"disable", func(env *testEnv, admin, victim *testClient) *http.Response {
			resp, _ := admin.postForm(userPath(victim.user.ID, "disable"), nil)
			return resp
		}},
		{"reset-mfa", func(env *testEnv, admin, victim *testClient) *http.Response {
			resp, _ := admin.postForm(userPath(victim.user.ID, "reset-mfa"), nil)
			return resp
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			admin := env.signIn(auth.Admin)
			victim := env.signIn(auth.Lead)
			stolen := victim.sessionCookie()
			resp := tt.revoke(env, admin, victim)
			if resp.StatusCode != 303 {
				t.Fatalf("revoke: %d", resp.StatusCode)
			}
			replay := env.client()
			replay.cookies[auth.SessionCookie] = stolen
			resp, _ = replay.get("/audit")
			wantStatus(t, "the revoked session", resp, 303, "/login")
			var n int
			env.db.Read.QueryRow(`SELECT COUNT(*) FROM sessions WHERE user_id = ?`, victim.user.ID).Scan(&n)
			if n != 0 {
				t.Errorf("%d session rows left for the user", n)
			}
		})
	}
}

func TestLogoutClearsCookieAndIsAudited(t *testing.T) {
	env := newTestEnv(t)
	c := env.signIn(auth.Analyst)
	resp, _ := c.postForm("/logout", nil)
	wantStatus(t, "POST /logout", resp, 303, "/login")
	var cleared bool
	for _, ck := range resp.Cookies() {
		cleared = cleared || ck.Name == auth.SessionCookie && ck.Value == "" && (ck.MaxAge < 0 || ck.Expires.Before(time.Unix(2, 0)))
	}
	if !cleared {
		t.Error("logout did not clear the cookie")
	}
	if got := env.auditEntries(c.user.Email, "auth.logout"); len(got) != 1 || got[0].Actor != c.user.Email {
		t.Errorf("logout audit: %+v", got)
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	for _, insecure := range []bool{true, false} {
		env := newTestEnv(t)
		env.srv.Config.InsecureCookies = insecure
		env.srv.Sessions = nil
		env.app = env.srv.App()
		resp, _ := env.client().get("/login")
		raw := resp.Header.Get("Set-Cookie")
		lower := strings.ToLower(raw) // attribute names are case-insensitive (RFC 6265)
		for _, want := range []string{auth.SessionCookie + "=", "path=/", "httponly", "samesite=lax"} {
			if !strings.Contains(lower, strings.ToLower(want)) {
				t.Errorf("Set-Cookie %q lacks %s", raw, want)
			}
		}
		if len(resp.Header.Values("Set-Cookie")) != 1 {
			t.Errorf("%d Set-Cookie headers", len(resp.Header.Values("Set-Cookie")))
		}
		if strings.Contains(lower, "secure") == insecure {
			t.Errorf("insecure=%v: Set-Cookie %q", insecure, raw)
		}
		if strings.Contains(lower, "max-age") || strings.Contains(lower, "expires") {
			t.Errorf("session cookie should end with the browser session: %q", raw)
		}
	}
}

func TestForgedCookie(t *testing.T) {
	env := newTestEnv(t)
	env.signIn(auth.Admin) // a live session exists, but not this one
	for _, forged := range []string{"x", strings.Repeat("A", 43), strings.Repeat("z", 500), "../../etc"} {
		c := env.client()
		c.cookies[auth.SessionCookie] = forged
		resp, _ := c.get("/admin/users")
		wantStatus(t, "forged "+forged, resp, 303, "/login")
		if c.sessionCookie() != "" {
			t.Errorf("forged cookie %q not cleared", forged)
		}
		// On the sign-in page the stale cookie is replaced: one Set-Cookie, the new session.
		c.cookies[auth.SessionCookie] = forged
		resp, _ = c.get("/login")
		if n := len(resp.Header.Values("Set-Cookie")); n != 1 || c.sessionCookie() == "" || c.sessionCookie() == forged {
			t.Errorf("forged %q then /login: %d Set-Cookie, session %q", forged, n, c.sessionCookie())
		}
	}
}

func TestCSRF(t *testing.T) {
	env := newTestEnv(t)
	admin := env.signIn(auth.Admin)
	other := env.signIn(auth.Admin) // a valid token, of another session
	form := func(token string, set bool) url.Values {
		v := url.Values{"email": {"new@example.com"}, "role": {"analyst"}, "password": {testPassword}}
		if set {
			v.Set("_csrf", token)
		}
		return v
	}
	tests := []struct {
		name   string
		form   url.Values
		header string
		want   int
	}{
		{"missing", form("", true), "", 403},
		{"wrong", form("not-the-token", true), "", 403},
		{"another session's token", form(other.csrf, true), "", 403},
		{"header instead of field", form("", true), admin.csrf, 303},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptestRequest("POST", "/admin/users", strings.NewReader(tt.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.header != "" {
				req.Header.Set("X-CSRF-Token", tt.header)
			}
			resp, body := admin.do(req)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == 403 && !strings.Contains(body, "Your form expired, reload and try again") {
				t.Errorf("403 page does not say the form expired")
			}
		})
	}
	resp, _ := admin.postForm("/admin/users", url.Values{"email": {"right@example.com"}, "role": {"analyst"}, "password": {testPassword}})
	wantStatus(t, "right token", resp, 303, "/admin/users")

	// The sign-in form needs its pre-session's token too.
	resp, _ = env.client().postForm("/login", url.Values{"email": {admin.user.Email}, "password": {testPassword}})
	if resp.StatusCode != 403 {
		t.Errorf("POST /login without a pre-session: %d", resp.StatusCode)
	}
	// Webhooks and the API authenticate each request themselves: no CSRF token there.
	for _, path := range []string{"/webhooks/generic/nosuchintegration", "/api/v1/cases"} {
		req := httptestRequest("POST", path, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		resp, body := env.do(req)
		if strings.Contains(body, "Your form expired") {
			t.Errorf("%s answered with the CSRF refusal (%d)", path, resp.StatusCode)
		}
	}
}

func TestTOTPReplayRefused(t *testing.T) {
	env := newTestEnv(t)
	u, secret, _ := env.enrolledUser(auth.Lead)
	code := env.totpCode(secret, 0)
	first := env.client()
	first.signIn(u.Email, testPassword, code)

	second := env.client()
	second.get("/login")
	second.postForm("/login", url.Values{"email": {u.Email}, "password": {testPassword}})
	second.get("/mfa")
	resp, body := second.postForm("/mfa", url.Values{"code": {code}})
	if resp.StatusCode != 401 || !strings.Contains(body, `id="error-message"`) {
		t.Fatalf("replayed code: %d", resp.StatusCode)
	}
	// The next step's code still works.
	resp, _ = second.postForm("/mfa", url.Values{"code": {env.totpCode(secret, 30*time.Second)}})
	wantStatus(t, "next code", resp, 303, landing(auth.Lead))
	if n := len(env.auditEntries(u.Email, "auth.login_failed")); n != 1 {
		t.Errorf("%d auth.login_failed entries, want 1", n)
	}
}

func TestRecoveryCodeWorksOnce(t *testing.T) {
	env := newTestEnv(t)
	u, _, codes := env.enrolledUser(auth.Analyst)
	signInWith := func(code string) (*http.Response, string) {
		c := env.client()
		c.get("/login")
		c.postForm("/login", url.Values{"email": {u.Email}, "password": {testPassword}})
		c.get("/mfa")
		return c.postForm("/mfa", url.Values{"code": {code}})
	}
	// Typed in capitals with a space: still the same code.
	resp, _ := signInWith(strings.ToUpper(strings.Replace(codes[3], "-", " ", 1)))
	wantStatus(t, "first use", resp, 303, landing(auth.Analyst))
	resp, _ = signInWith(codes[3])
	if resp.StatusCode != 401 {
		t.Fatalf("second use: %d", resp.StatusCode)
	}
	used := env.auditEntries(u.Email, "auth.recovery_code_used")
	if len(used) != 1 || used[0].Details["remaining"] != float64(9) {
		t.Errorf("recovery audit: %+v", used)
	}
}

// failLogin posts a wrong password and checks the generic refusal.
func failLogin(t *testing.T, env *testEnv, email, password string) {
	t.Helper()
	c := env.client()
	c.get("/login")
	resp, body := c.postForm("/login", url.Values{"email": {email}, "password": {password}})
	if resp.StatusCode != 401 || !strings.Contains(body, "Email or password is wrong.") {
		t.Fatalf("login %s: %d, want 401 with the generic message", email, resp.StatusCode)
	}
}

// lockedOutLogin posts a sign-in and checks the lock-out answer: 429, the message that
// says why and what to do, and a Retry-After.
func lockedOutLogin(t *testing.T, env *testEnv, email, password string) {
	t.Helper()
	c := env.client()
	c.get("/login")
	resp, body := c.postForm("/login", url.Values{"email": {email}, "password": {password}})
	if resp.StatusCode != 429 || !strings.Contains(body, auth.ErrLockedOut.Message) || resp.Header.Get("Retry-After") != "900" {
		t.Fatalf("login %s: %d (Retry-After %q), want 429 with the lock-out message", email, resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if !strings.Contains(body, `id="error-message"`) || !strings.Contains(body, `name="email"`) {
		t.Fatal("the lock-out is not shown on the sign-in form")
	}
}

func TestLockout(t *testing.T) {
	env := newTestEnv(t)
	admin := env.signIn(auth.Admin)
	u, secret, _ := env.enrolledUser(auth.Lead)
	for i := range auth.LockoutFailures - 1 {
		env.advance(time.Minute) // ten failures within 15 minutes
		failLogin(t, env, u.Email, "wrong password "+string(rune('a'+i)))
	}
	env.advance(time.Minute)
	lockedOutLogin(t, env, u.Email, "wrong password j") // the 10th failure tells the person at once
	locked := env.auditEntries(u.Email, "auth.locked")
	if len(locked) != 1 || locked[0].Actor != "system" {
		t.Fatalf("lock-out audit: %+v", locked)
	}
	// The right password now gets the lock-out answer too; the reason is in the trail.
	lockedOutLogin(t, env, u.Email, testPassword)
	fails := env.auditEntries(u.Email, "auth.login_failed")
	if last := fails[len(fails)-1]; last.Details["reason"] != "locked" {
		t.Errorf("last failure reason %v", last.Details["reason"])
	}
	for _, f := range fails {
		if strings.Contains(f.DetailsJSON(), testPassword) || strings.Contains(f.DetailsJSON(), "wrong password") {
			t.Fatal("a password reached the audit trail")
		}
	}

	// Admins see it and lift it.
	_, body := admin.get("/admin/users")
	if !strings.Contains(body, `data-status="locked"`) || !strings.Contains(body, "/unlock") {
		t.Fatal("the admin list does not show the lock-out")
	}
	resp, _ := admin.postForm(userPath(u.ID, "unlock"), nil)
	wantStatus(t, "unlock", resp, 303, "/admin/users")
	if n := len(env.auditEntries(u.Email, "user.unlocked")); n != 1 {
		t.Errorf("%d user.unlocked entries", n)
	}
	c := env.client()
	c.signIn(u.Email, testPassword, env.totpCode(secret, 0))
	resp, _ = c.get("/audit")
	wantStatus(t, "signed in after unlock", resp, 200, "")
}

// TestLockoutLiftsAfterWindow: "wait 15 minutes" is true. Attempts while locked out do
// not push the end further away, and the right password then signs in.
func TestLockoutLiftsAfterWindow(t *testing.T) {
	env := newTestEnv(t)
	u, secret, _ := env.enrolledUser(auth.Analyst)
	for i := range auth.LockoutFailures - 1 {
		failLogin(t, env, u.Email, "wrong password "+string(rune('a'+i)))
	}
	lockedOutLogin(t, env, u.Email, "wrong password j")
	for range 5 {
		env.advance(2 * time.Minute)
		lockedOutLogin(t, env, u.Email, testPassword)
	}
	env.advance(auth.LockoutWindow - 10*time.Minute + time.Second)
	c := env.client()
	c.signIn(u.Email, testPassword, env.totpCode(secret, 0))
	resp, _ := c.get("/queues")
	wantStatus(t, "signed in after the window", resp, 200, "")
	if n := len(env.auditEntries(u.Email, "auth.lock_expired")); n != 1 {
		t.Errorf("%d auth.lock_expired entries", n)
	}
}

// TestLockoutUnknownEmailLooksAlike: an email no account has is locked out after the same
// number of failures, with the same status, message and headers, for the same time, so
// the form never tells whether an account exists.
func TestLockoutUnknownEmailLooksAlike(t *testing.T) {
	env := newTestEnv(t)
	known := env.newUser(auth.Analyst)
	unknown := "nobody-here@example.com"
	for i := range auth.LockoutFailures - 1 {
		failLogin(t, env, known.Email, "wrong password "+string(rune('a'+i)))
		failLogin(t, env, unknown, "wrong password "+string(rune('a'+i)))
	}
	answer := func(email, password string) (int, string) {
		c := env.client()
		c.get("/login")
		resp, body := c.postForm("/login", url.Values{"email": {email}, "password": {password}})
		// The page differs only by the email echoed into the form.
		return resp.StatusCode, strings.ReplaceAll(body, email, "EMAIL") + "|" + resp.Header.Get("Retry-After")
	}
	for _, step := range []struct{ name, password string }{
		{"10th failure", "wrong password j"},
		{"right password while locked out", testPassword},
	} {
		ks, kb := answer(known.Email, step.password)
		us, ub := answer(unknown, step.password)
		if ks != 429 || us != ks || stripCSRF(kb) != stripCSRF(ub) {
			t.Fatalf("%s: known %d, unknown %d; bodies:\n%s\n%s", step.name, ks, us, stripCSRF(kb), stripCSRF(ub))
		}
	}
	env.advance(auth.LockoutWindow + time.Second)
	failLogin(t, env, unknown, testPassword) // over for the unknown email too
	if fails := env.auditEntries(unknown, "auth.login_failed"); fails[len(fails)-2].Details["reason"] != "unknown_email_locked" {
		t.Errorf("reason %v", fails[len(fails)-2].Details["reason"])
	}
}

// stripCSRF removes what differs per request from a page: the CSRF token and the request id.
func stripCSRF(body string) string {
	body = csrfValue.ReplaceAllString(body, `value="CSRF"`)
	return requestIDText.ReplaceAllString(body, "request ID")
}

var (
	csrfValue     = regexp.MustCompile(`name="_csrf" value="[^"]*"`)
	requestIDText = regexp.MustCompile(`request [A-Za-z0-9_-]+`)
)

func TestLockoutWindow(t *testing.T) {
	env := newTestEnv(t)
	u := env.newUser(auth.Lead)
	for i := range 2 * auth.LockoutFailures {
		env.advance(2 * time.Minute) // 20 failures, but never 10 within 15 minutes
		failLogin(t, env, u.Email, "wrong password "+string(rune('a'+i)))
	}
	if got, _ := env.srv.Users.Get(context.Background(), u.ID); got.Status() != "active" {
		t.Fatalf("status %s after spread-out failures", got.Status())
	}
}

func TestSignInRefusalsLookAlike(t *testing.T) {
	env := newTestEnv(t)
	admin := env.signIn(auth.Admin)
	disabled := env.newUser(auth.Analyst)
	if resp, _ := admin.postForm(userPath(disabled.ID, "disable"), nil); resp.StatusCode != 303 {
		t.Fatal("disable failed")
	}
	tests := []struct{ name, email, password, reason string }{
		{"unknown email", "nobody@example.com", testPassword, "unknown_email"},
		{"wrong password", admin.user.Email, "Quiet-Harbor-Lantern-78", "wrong_password"},
		{"disabled user, right password", disabled.Email, testPassword, "disabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			failLogin(t, env, tt.email, tt.password)
			fails := env.auditEntries(tt.email, "auth.login_failed")
			if len(fails) == 0 || fails[len(fails)-1].Details["reason"] != tt.reason {
				t.Errorf("audit: %+v", fails)
			}
		})
	}
}

func TestAddressThrottle(t *testing.T) {
	env := newTestEnv(t)
	u := env.newUser(auth.Lead)
	for i := range auth.AddressFailures {
		failLogin(t, env, strings.Repeat("x", i+1)+"@example.com", testPassword)
	}
	c := env.client()
	c.get("/login")
	resp, body := c.postForm("/login", url.Values{"email": {u.Email}, "password": {testPassword}})
	if resp.StatusCode != 429 || !strings.Contains(body, "Too many failed sign-ins") {
		t.Fatalf("31st attempt from one address: %d", resp.StatusCode)
	}
	env.advance(auth.LockoutWindow + time.Second)
	resp, _ = c.postForm("/login", url.Values{"email": {u.Email}, "password": {testPassword}})
	wantStatus(t, "after the window", resp, 303, "/mfa/setup")
}
