package handlers

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/auth"
)

var newTokenShown = regexp.MustCompile(`<p class="secret" id="new-token">(kyc_[A-Za-z0-9_-]{43})</p>`)

// An admin creates a token (shown once, with a copy button and a warning), the token opens
// the API and its use shows on the list, and revoking it closes the API at once.
func TestAdminAPITokens(t *testing.T) {
	env := newTestEnv(t)
	admin := env.signIn(auth.Admin)

	resp, body := admin.get("/admin/api-tokens")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="no-tokens"`) || !strings.Contains(body, `action="/admin/api-tokens"`) {
		t.Fatalf("empty list: %d %s", resp.StatusCode, body)
	}

	resp, body = admin.postForm("/admin/api-tokens", url.Values{"name": {"Onboarding backend <prod>"}})
	m := newTokenShown.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	token := m[1]
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the page with the token is cacheable: %q", resp.Header.Get("Cache-Control"))
	}
	for _, want := range []string{`data-copy="new-token"`, "only time it is shown", "Onboarding backend &lt;prod&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("created page lacks %s", want)
		}
	}
	entries := env.auditEntries("Onboarding backend <prod>", "apitoken.create")
	if len(entries) != 1 || entries[0].Actor != admin.user.Email || strings.Contains(entries[0].DetailsJSON(), token[4:]) {
		t.Fatalf("audit %+v", entries)
	}
	// Shown once: the list never shows it again.
	_, body = admin.get("/admin/api-tokens")
	if strings.Contains(body, token) || strings.Contains(body, token[4:]) {
		t.Fatal("the list shows the token again")
	}
	row := tokenRow(t, body, "Onboarding backend &lt;prod&gt;")
	for _, want := range []string{"2026-11-20 08:00 UTC", html.EscapeString(admin.user.Email), "never", `data-status="active"`, "data-confirm="} {
		if !strings.Contains(row, want) {
			t.Errorf("row lacks %s: %s", want, row)
		}
	}

	env.advance(90 * time.Second)
	if resp, body := env.apiGet(token, "/api/v1/cases"); resp.StatusCode != 200 {
		t.Fatalf("new token refused: %d %s", resp.StatusCode, body)
	}
	_, body = admin.get("/admin/api-tokens")
	if row := tokenRow(t, body, "Onboarding backend &lt;prod&gt;"); !strings.Contains(row, "2026-11-20 08:01 UTC") || strings.Contains(row, "never") {
		t.Errorf("last use not shown: %s", row)
	}

	id := regexp.MustCompile(`action="/admin/api-tokens/(\d+)/revoke"`).FindStringSubmatch(body)
	if id == nil {
		t.Fatal("no revoke form")
	}
	resp, _ = admin.postForm("/admin/api-tokens/"+id[1]+"/revoke", nil)
	wantStatus(t, "revoke", resp, 303, "/admin/api-tokens")
	if resp, body := env.apiGet(token, "/api/v1/cases"); resp.StatusCode != 401 {
		t.Errorf("revoked token still opens the API: %d %s", resp.StatusCode, body)
	}
	_, body = admin.get("/admin/api-tokens")
	row = tokenRow(t, body, "Onboarding backend &lt;prod&gt;")
	if !strings.Contains(body, "Revoked the API token") || !strings.Contains(row, `data-status="revoked"`) || strings.Contains(row, "/revoke") {
		t.Errorf("after revoke: %s", row)
	}
	entries = env.auditEntries("Onboarding backend <prod>", "apitoken.revoke")
	if len(entries) != 1 || entries[0].Actor != admin.user.Email {
		t.Errorf("revoke audit %+v", entries)
	}
	// Revoking again changes nothing; an unknown id is 404.
	resp, _ = admin.postForm("/admin/api-tokens/"+id[1]+"/revoke", nil)
	wantStatus(t, "revoke again", resp, 303, "/admin/api-tokens")
	if n := len(env.auditEntries("Onboarding backend <prod>", "apitoken.revoke")); n != 1 {
		t.Errorf("%d revoke entries", n)
	}
	for _, bad := range []string{"999", "abc", "-1"} {
		if resp, _ := admin.postForm("/admin/api-tokens/"+bad+"/revoke", nil); resp.StatusCode != 404 {
			t.Errorf("revoke %s: %d", bad, resp.StatusCode)
		}
	}
}

// tokenRow returns the list's table row of the token named name (HTML-escaped).
func tokenRow(t *testing.T, body, name string) string {
	t.Helper()
	i := strings.Index(body, `data-name="`+name+`"`)
	if i < 0 {
		t.Fatalf("no row for %s", name)
	}
	end := strings.Index(body[i:], "</tr>")
	return body[i : i+end]
}

func TestAdminAPITokenCreateRefusesBadNames(t *testing.T) {
	env := newTestEnv(t)
	admin := env.signIn(auth.Admin)
	for _, name := range []string{"", "   ", strings.Repeat("x", 81)} {
		resp, body := admin.postForm("/admin/api-tokens", url.Values{"name": {name}})
		if resp.StatusCode != 400 || newTokenShown.MatchString(body) || !strings.Contains(body, "name of 1 to 80 characters") {
			t.Errorf("name %q: %d", name, resp.StatusCode)
		}
	}
	list, _ := env.srv.apiTokens().List(t.Context())
	if len(list) != 0 {
		t.Errorf("%d tokens made from bad names", len(list))
	}
}

// Only admins manage tokens; every form needs its CSRF token.
func TestAdminAPITokensAccess(t *testing.T) {
	env := newTestEnv(t)
	admin := env.signIn(auth.Admin)
	admin.postForm("/admin/api-tokens", url.Values{"name": {"erp"}})
	list, _ := env.srv.apiTokens().List(t.Context())
	if len(list) != 1 {
		t.Fatal("setup: no token")
	}
	revoke := fmt.Sprintf("/admin/api-tokens/%d/revoke", list[0].ID)
	for _, role := range []auth.Role{auth.Analyst, auth.Lead, auth.Auditor} {
		c := env.signIn(role)
		if resp, _ := c.get("/admin/api-tokens"); resp.StatusCode != 403 {
			t.Errorf("%s GET: %d", role, resp.StatusCode)
		}
		if resp, body := c.postForm("/admin/api-tokens", url.Values{"name": {"mine"}}); resp.StatusCode != 403 || newTokenShown.MatchString(body) {
			t.Errorf("%s create: %d", role, resp.StatusCode)
		}
		if resp, _ := c.postForm(revoke, nil); resp.StatusCode != 403 {
			t.Errorf("%s revoke: %d", role, resp.StatusCode)
		}
	}
	if resp, _ := env.client().get("/admin/api-tokens"); resp.StatusCode != 303 || resp.Header.Get("Location") != "/login" {
		t.Errorf("visitor: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := admin.postForm(revoke, url.Values{"_csrf": {"forged"}}); resp.StatusCode != 403 {
		t.Errorf("revoke without CSRF token: %d", resp.StatusCode)
	}
	if resp, _ := admin.postForm("/admin/api-tokens", url.Values{"_csrf": {""}, "name": {"x"}}); resp.StatusCode != 403 {
		t.Errorf("create without CSRF token: %d", resp.StatusCode)
	}
	list, _ = env.srv.apiTokens().List(t.Context())
	if len(list) != 1 || !list[0].Active() {
		t.Errorf("tokens changed by refused requests: %+v", list)
	}
}
