package handlers

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestEveryRouteHasPolicy(t *testing.T) {
	env := newTestEnv(t)
	for _, r := range env.app.GetRoutes(true) {
		if r.Method == "HEAD" || r.Path == "/" && r.Method == "USE" {
			continue
		}
		if r.Method == "USE" {
			continue
		}
		if _, ok := policy[r.Method+" "+r.Path]; !ok {
			t.Errorf("route %s %s has no policy entry", r.Method, r.Path)
		}
	}
}

func TestSecurityHeadersAndNotFound(t *testing.T) {
	env := newTestEnv(t)
	resp, body := env.do(httptest.NewRequest("GET", "/no-such-page", nil))
	if resp.StatusCode != 404 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	if !strings.Contains(body, `<meta charset="utf-8">`) || !strings.Contains(body, resp.Header.Get("X-Request-Id")) {
		t.Errorf("404 page lacks charset or request id")
	}
	resp, body = env.do(httptest.NewRequest("GET", "/api/v1/nothing", nil))
	if resp.StatusCode != 404 || !strings.HasPrefix(body, `{"error":`) {
		t.Errorf("api 404: %d %s", resp.StatusCode, body)
	}
}

func TestHealthAndFavicon(t *testing.T) {
	env := newTestEnv(t)
	for _, path := range []string{"/healthz", "/readyz", "/favicon.ico", "/static/app.css"} {
		resp, _ := env.do(httptest.NewRequest("GET", path, nil))
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
}

// HEAD answers like GET without a body, under the same policy (curl -I, uptime checks).
func TestHeadFollowsGetPolicy(t *testing.T) {
	env := newTestEnv(t)
	for _, tt := range []struct {
		path string
		want int
	}{
		{"/healthz", 200},
		{"/login", 200},
		{"/admin/users", 303}, // anonymous: to the sign-in page, as for GET
	} {
		resp, body := env.do(httptest.NewRequest("HEAD", tt.path, nil))
		if resp.StatusCode != tt.want || body != "" {
			t.Errorf("HEAD %s: %d with %d bytes, want %d and no body", tt.path, resp.StatusCode, len(body), tt.want)
		}
	}
}
