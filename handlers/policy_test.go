package handlers

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/internal/auth"
)

// who is one kind of caller of the policy table.
type who string

const (
	anonymous   who = "anonymous"
	passwordNew who = "password only, not enrolled"
	passwordMFA who = "password only, enrolled"
)

var everyone = []who{anonymous, passwordNew, passwordMFA, who(auth.Analyst), who(auth.Lead), who(auth.Admin), who(auth.Auditor)}

// identityFor is the identity the session middleware gives each kind of caller.
func identityFor(w who) *auth.Identity {
	switch w {
	case anonymous:
		return nil
	case passwordNew:
		return &auth.Identity{UserID: 1, Role: auth.Admin}
	case passwordMFA:
		return &auth.Identity{UserID: 1, Role: auth.Admin, HasMFA: true}
	}
	return &auth.Identity{UserID: 1, Role: auth.Role(w), MFAPassed: true, HasMFA: true}
}

// TestPolicyExpectations pins the key rows of the table by hand (from DESIGN.md's route
// table), so that a mistaken edit of policy.go fails here. Rows for routes not built
// yet are skipped until they appear in the table.
func TestPolicyExpectations(t *testing.T) {
	type row = map[who]bool
	only := func(roles ...auth.Role) row {
		r := row{}
		for _, x := range roles {
			r[who(x)] = true
		}
		return r
	}
	password := row{passwordNew: true, passwordMFA: true, who(auth.Analyst): true, who(auth.Lead): true, who(auth.Admin): true, who(auth.Auditor): true}
	all := row{anonymous: true}
	for w := range password {
		all[w] = true
	}
	want := map[string]row{
		"GET /login":                        all,
		"POST /login":                       all,
		"GET /healthz":                      all,
		"GET /mfa":                          password,
		"POST /mfa":                         password,
		"GET /mfa/setup":                    password,
		"POST /mfa/setup":                   password,
		"GET /mfa/setup/qr.png":             password,
		"POST /logout":                      password,
		"GET /audit":                        only(auth.Lead, auth.Auditor, auth.Admin),
		"GET /audit/verify":                 only(auth.Lead, auth.Auditor, auth.Admin),
		"GET /admin/users":                  only(auth.Admin),
		"POST /admin/users":                 only(auth.Admin),
		"POST /admin/users/:id/role":        only(auth.Admin),
		"POST /admin/users/:id/disable":     only(auth.Admin),
		"POST /admin/users/:id/enable":      only(auth.Admin),
		"POST /admin/users/:id/reset-mfa":   only(auth.Admin),
		"POST /admin/users/:id/unlock":      only(auth.Admin),
		"GET /queues":                       only(auth.Analyst, auth.Lead, auth.Auditor),
		"POST /queues/next":                 only(auth.Analyst, auth.Lead),
		"GET /cases/:id":                    only(auth.Analyst, auth.Lead, auth.Auditor),
		"POST /cases/:id/claim":             only(auth.Analyst, auth.Lead),
		"POST /cases/:id/assign":            only(auth.Lead),
		"POST /cases/:id/notes":             only(auth.Analyst, auth.Lead),
		"POST /cases/:id/decision":          only(auth.Analyst, auth.Lead),
		"POST /cases/:id/escalate":          only(auth.Analyst, auth.Lead),
		"POST /cases/:id/second-approval":   only(auth.Lead),
		"GET /cases/:id/documents/:doc":     only(auth.Analyst, auth.Lead, auth.Auditor),
		"GET /reports":                      only(auth.Lead, auth.Auditor),
		"GET /reports/:name.csv":            only(auth.Lead, auth.Auditor),
		"GET /admin/integrations":           only(auth.Admin),
		"GET /admin/api-tokens":             only(auth.Admin),
		"POST /admin/api-tokens":            only(auth.Admin),
		"POST /admin/api-tokens/:id/revoke": only(auth.Admin),
	}
	for key, expect := range want {
		a, ok := policy[key]
		if !ok {
			continue
		}
		for _, w := range everyone {
			if got := a.allows(identityFor(w)); got != expect[w] {
				t.Errorf("%s for %s: allowed=%v, want %v", key, w, got, expect[w])
			}
		}
	}
	// Whatever else the table holds: only sign-in and machine routes skip the session,
	// and no role-guarded route is open to a session that has not passed MFA.
	for key, a := range policy {
		if len(a.Roles) > 0 {
			for _, w := range []who{anonymous, passwordNew, passwordMFA} {
				if a.allows(identityFor(w)) {
					t.Errorf("%s is open to %s", key, w)
				}
			}
		}
		if a.Password && !(strings.Contains(key, " /mfa") || key == "POST /logout") {
			t.Errorf("%s is open to password-only sessions: only MFA pages and sign-out may be", key)
		}
	}
}

var routeParam = regexp.MustCompile(`:[A-Za-z]+|\*`)

// TestPolicyThroughRouter sends every registered route, as every kind of caller, through
// the real router and checks that the guard lets through exactly what the table allows.
// A refusal is the guard's: a redirect to sign-in or MFA, 401, or the 403 page.
func TestPolicyThroughRouter(t *testing.T) {
	env := newTestEnv(t)
	clients := map[who]func() *testClient{
		anonymous: func() *testClient { c := env.client(); c.get("/login"); return c },
		passwordNew: func() *testClient {
			u := env.newUser(auth.Admin)
			c := env.client()
			c.get("/login")
			c.postForm("/login", url.Values{"email": {u.Email}, "password": {testPassword}})
			c.get("/mfa/setup")
			return c
		},
		passwordMFA: func() *testClient {
			u, _, _ := env.enrolledUser(auth.Admin)
			c := env.client()
			c.get("/login")
			c.postForm("/login", url.Values{"email": {u.Email}, "password": {testPassword}})
			c.get("/mfa")
			return c
		},
	}
	for _, r := range auth.Roles {
		clients[who(r)] = func() *testClient { return env.signIn(r) }
	}
	seen := 0
	for _, r := range env.app.GetRoutes(true) {
		key := r.Method + " " + r.Path
		a, ok := policy[key]
		if !ok || a.Webhook || a.APIToken || r.Path == "/metrics" {
			continue // machine routes authenticate per request, not by session
		}
		seen++
		path := routeParam.ReplaceAllString(r.Path, "999999")
		for _, w := range everyone {
			c := clients[w]() // a fresh caller each time: some routes end the session
			var status int
			var location, body string
			if r.Method == "GET" {
				resp, b := c.get(path)
				status, location, body = resp.StatusCode, resp.Header.Get("Location"), b
			} else {
				resp, b := c.postForm(path, url.Values{})
				status, location, body = resp.StatusCode, resp.Header.Get("Location"), b
			}
			refused := guardRefused(w, key, r.Method, status, location, body)
			if allowed := a.allows(identityFor(w)); refused == allowed {
				t.Errorf("%s as %s: %d → %q; policy allows=%v", key, w, status, location, allowed)
			}
		}
	}
	if seen < 15 {
		t.Fatalf("only %d routes checked", seen)
	}
}

// guardRefused tells the guard's refusal (deny in policy.go) from a handler's own answer.
// Routes of the sign-in flow redirect on their own to where deny would send a caller,
// so for them a redirect is not taken as a refusal.
func guardRefused(w who, key, method string, status int, location, body string) bool {
	flow := map[string]bool{"GET /": true, "GET /login": true, "GET /mfa": true, "GET /mfa/setup": true}
	switch {
	case status == 401 && strings.Contains(body, "Sign in to continue"):
		return true
	case status == 403 && strings.Contains(body, "Your role does not give access"):
		return true
	case method != "GET" || status != 303:
		return false
	case w == anonymous:
		return location == "/login" && key != "GET /"
	case w == passwordNew || w == passwordMFA:
		return (location == "/mfa" || location == "/mfa/setup") && !flow[key]
	}
	return false
}
