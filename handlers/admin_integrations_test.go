package handlers

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

var shownSecret = regexp.MustCompile(`id="new-secret">([^<]+)<`)

// secretOnPage returns the secret shown once on a page, "" when none is.
func secretOnPage(body string) string {
	if m := shownSecret.FindStringSubmatch(body); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}

func TestAdminIntegrationsAccess(t *testing.T) {
	env := newTestEnv(t)
	for _, role := range []auth.Role{auth.Analyst, auth.Lead, auth.Auditor} {
		c := env.signIn(role)
		if resp, _ := c.get("/admin/integrations"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: GET %d", role, resp.StatusCode)
		}
		if resp, _ := c.postForm("/admin/integrations", url.Values{"provider": {"generic"}, "auth": {"hmac"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: POST %d", role, resp.StatusCode)
		}
	}
	if resp, _ := env.client().get("/admin/integrations"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("signed out: %d", resp.StatusCode)
	}
	if n := env.countRows(`SELECT COUNT(*) FROM integrations`); n != 0 {
		t.Fatalf("%d integrations created by non-admins", n)
	}
}

// execInbox runs a statement on the inbox file.
func (e *testEnv) execInbox(q string, args ...any) {
	e.t.Helper()
	if _, err := e.ib.Write.Exec(q, args...); err != nil {
		e.t.Fatal(err)
	}
}

func (e *testEnv) countRows(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Read.QueryRow(q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestAdminIntegrationCreateAndRotate: the page creates an integration whose secret is shown
// once and works at once; a rotation keeps the old secret for the chosen overlap.
func TestAdminIntegrationCreateAndRotate(t *testing.T) {
	env := newTestEnv(t)
	admin := env.signIn(auth.Admin)

	resp, body := admin.postForm("/admin/integrations", url.Values{"provider": {"generic"}, "auth": {"hmac"}, "name": {"acme-onboarding"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	secret := secretOnPage(body)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("no whsec secret shown: %q", secret)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Error("a page showing a secret may be cached")
	}
	in, err := env.srv.Integrations.Store().FindByName(context.Background(), "acme-onboarding")
	if err != nil {
		t.Fatal(err)
	}
	wantURL := env.srv.Config.PublicURL + "/webhooks/generic/" + in.ID
	if !strings.Contains(body, wantURL) || !strings.Contains(body, `data-copy="url-`+in.ID+`"`) {
		t.Fatalf("webhook URL %s with its copy button not on the page", wantURL)
	}
	// Works at once, without waiting for the cache's poll.
	if resp, out := env.do(webhookReq(in.WebhookPath(), genericBody, signed(t, secret, "msg_page_1", env.now, genericBody))); resp.StatusCode != 202 {
		t.Fatalf("delivery with the shown secret: %d %s", resp.StatusCode, out)
	}
	// Shown once: the page does not show it again.
	if _, body := admin.get("/admin/integrations"); secretOnPage(body) != "" || strings.Contains(body, secret) {
		t.Fatal("the secret is shown again")
	}

	resp, body = admin.postForm("/admin/integrations/"+in.ID+"/rotate", url.Values{"overlap": {"24h"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("rotate: %d %s", resp.StatusCode, body)
	}
	rotated := secretOnPage(body)
	if rotated == "" || rotated == secret {
		t.Fatalf("rotated secret %q", rotated)
	}
	if resp, _ := admin.postForm("/admin/integrations/"+in.ID+"/rotate", url.Values{"overlap": {"forever"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown overlap: %d", resp.StatusCode)
	}
	send := func(s, id string) int {
		resp, _ := env.do(webhookReq(in.WebhookPath(), genericBody, signed(t, s, id, env.now, genericBody)))
		return resp.StatusCode
	}
	if send(secret, "msg_page_2") != 202 || send(rotated, "msg_page_3") != 202 {
		t.Fatal("during the overlap both secrets must work")
	}
	env.advance(24*time.Hour + time.Second)
	if send(secret, "msg_page_4") != 401 || send(rotated, "msg_page_5") != 202 {
		t.Fatal("after the overlap only the new secret may work")
	}

	// Audited with the admin as actor and the integration as subject; never the secret.
	entries, err := audit.List(context.Background(), env.db.Read, audit.Filter{Subject: "acme-onboarding", Asc: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Actor+" "+e.Action)
		if strings.Contains(e.DetailsJSON(), secret) || strings.Contains(e.DetailsJSON(), rotated) ||
			strings.Contains(e.DetailsJSON(), strings.TrimPrefix(rotated, "whsec_")) {
			t.Fatalf("audit details carry a secret: %s", e.DetailsJSON())
		}
	}
	joined := strings.Join(actions, "\n")
	for _, want := range []string{admin.user.Email + " integration.create", admin.user.Email + " integration.rotate_secret"} {
		if !strings.Contains(joined, want) {
			t.Errorf("audit lacks %q: %v", want, actions)
		}
	}
}

func TestAdminIntegrationCreateRefused(t *testing.T) {
	env := newTestEnv(t)
	admin := env.signIn(auth.Admin)
	tests := []struct {
		name string
		form url.Values
		want int
	}{
		{"bad allowlist", url.Values{"provider": {"frankieone"}, "auth": {"ip"}, "allow_ips": {"10.0.0.0/33"}}, 400},
		{"bad provider", url.Values{"provider": {"onfido"}, "auth": {"hmac"}}, 400},
		{"bad secret", url.Values{"provider": {"generic"}, "auth": {"hmac"}, "secret": {"hunter2"}}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := admin.postForm("/admin/integrations", tt.form)
			if resp.StatusCode != tt.want || !strings.Contains(body, `class="flash error"`) {
				t.Fatalf("%d, want %d with the form and its error", resp.StatusCode, tt.want)
			}
			if strings.Contains(body, "hunter2") {
				t.Fatal("the typed secret is sent back")
			}
		})
	}
	if n := env.countRows(`SELECT COUNT(*) FROM integrations`); n != 0 {
		t.Fatalf("%d integrations created", n)
	}
	// Without the CSRF token nothing is created.
	if resp, _ := admin.postForm("/admin/integrations", url.Values{"_csrf": {"forged"}, "provider": {"generic"}, "auth": {"hmac"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forged CSRF token: %d", resp.StatusCode)
	}
}

func TestAdminIntegrationEdits(t *testing.T) {
	env := newTestEnv(t)
	admin := env.signIn(auth.Admin)
	in, token := env.addIntegration(integration.Spec{Name: "fpt-vn", Provider: integration.FPTAI, AuthMode: integration.AuthToken})
	body := []byte(strings.Replace(string(fixture(t, "fptai/callback_success.json")), "b6d8f1c2-4e7a-4c3b-9f0d-2a1e5c7b9d10", "uuid-edit-1", 1))
	send := func(uuid string) int {
		b := []byte(strings.Replace(string(body), "uuid-edit-1", uuid, 1))
		resp, _ := env.do(webhookReq(in.WebhookPath(), b, map[string]string{"X-Webhook-Token": token}))
		return resp.StatusCode
	}
	if send("uuid-edit-1") != 202 {
		t.Fatal("before the allowlist")
	}

	_, page := admin.get("/admin/integrations")
	if !strings.Contains(page, "dynamic token") || !strings.Contains(page, "not supported yet") {
		t.Error("the page does not say FPT.AI's dynamic token mode is unsupported")
	}

	// app.Test's peer is 0.0.0.0: an allowlist without it refuses, one with it lets through.
	resp, _ := admin.postForm("/admin/integrations/"+in.ID+"/allowlist", url.Values{"allow_ips": {"203.0.113.0/24"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("allowlist: %d", resp.StatusCode)
	}
	if send("uuid-edit-2") != 401 {
		t.Fatal("the allowlist is not applied at once")
	}
	admin.postForm("/admin/integrations/"+in.ID+"/allowlist", url.Values{"allow_ips": {"203.0.113.0/24\n0.0.0.0/32"}})
	if send("uuid-edit-3") != 202 {
		t.Fatal("the widened allowlist is not applied")
	}
	if resp, body := admin.postForm("/admin/integrations/"+in.ID+"/allowlist", url.Values{"allow_ips": {"nonsense"}}); resp.StatusCode != 400 || !strings.Contains(body, "nonsense") {
		t.Fatalf("bad allowlist: %d", resp.StatusCode)
	}

	resp, _ = admin.postForm("/admin/integrations/"+in.ID+"/api", url.Values{"api_url": {"https://ekyc.example.vn"},
		"api_key": {"fpt-api-key-1234"}, "data_key": {"ekyc_result"}, "token_header": {"X-FPT-Token"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("api settings: %d", resp.StatusCode)
	}
	got, err := env.srv.Integrations.Store().Get(context.Background(), in.ID)
	if err != nil || got.APIURL != "https://ekyc.example.vn" || got.APIKey != "fpt-api-key-1234" || got.DataKey != "ekyc_result" || got.TokenHeader != "X-FPT-Token" {
		t.Fatalf("after saving: %+v %v", got, err)
	}
	_, page = admin.get("/admin/integrations")
	if strings.Contains(page, "fpt-api-key-1234") || strings.Contains(page, token) {
		t.Fatal("the page shows the API key or the token")
	}
	// An empty key field keeps the stored key.
	admin.postForm("/admin/integrations/"+in.ID+"/api", url.Values{"api_url": {"https://ekyc2.example.vn"}, "data_key": {""}})
	if got, _ := env.srv.Integrations.Store().Get(context.Background(), in.ID); got.APIKey != "fpt-api-key-1234" || got.APIURL != "https://ekyc2.example.vn" {
		t.Fatalf("empty key field: %+v", got)
	}
	if resp, _ := admin.postForm("/admin/integrations/nosuchid0000/api", url.Values{"api_url": {""}}); resp.StatusCode != 404 {
		t.Fatalf("unknown integration: %d", resp.StatusCode)
	}
	if actions := env.auditActions("fpt-vn"); !strings.Contains(strings.Join(actions, ","), "integration.set_allowlist") ||
		!strings.Contains(strings.Join(actions, ","), "integration.set_api") {
		t.Fatalf("audit %v", actions)
	}
}

// TestAdminIntegrationHealth: the page shows deliveries, failures, depth and dead letters;
// a dead letter can be replayed and an unhealthy integration marked healthy.
func TestAdminIntegrationHealth(t *testing.T) {
	env := newTestEnv(t)
	admin := env.signIn(auth.Admin)
	in, secret := env.addIntegration(integration.Spec{Name: "acme-generic", Provider: integration.Generic, AuthMode: integration.AuthHMAC})
	for i, s := range []string{secret, secret, secret, webhookauth.NewSecret(), webhookauth.NewSecret()} {
		env.do(webhookReq(in.WebhookPath(), genericBody, signed(t, s, "msg_h_"+string(rune('a'+i)), env.now, genericBody)))
	}
	env.flush()
	rows := env.inboxRows(in.ID)
	env.execInbox(`UPDATE inbox SET state = 'done' WHERE id = ?`, rows[0].id)
	env.execInbox(`UPDATE inbox SET state = 'dead', attempts = 8, last_error = 'provider API answered 404' WHERE id = ?`, rows[1].id)
	if err := env.srv.Integrations.Store().MarkUnhealthy(context.Background(), in.ID, "provider API answered 401", env.now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	env.advance(5 * time.Minute)

	_, page := admin.get("/admin/integrations")
	for stat, want := range map[string]string{"deliveries": "3", "auth-failures": "2", "pending": "1", "dead": "1", "oldest": "5 min"} {
		if !strings.Contains(page, `data-stat="`+stat+`">`+want+`<`) {
			t.Errorf("%s is not %s on the page", stat, want)
		}
	}
	if !strings.Contains(page, "provider API answered 404") || !strings.Contains(page, `data-health="unhealthy"`) {
		t.Fatal("dead letter or unhealthy state not shown")
	}

	resp, _ := admin.postForm("/admin/integrations/"+in.ID+"/dead/"+itoa(rows[1].id)+"/replay", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("replay: %d", resp.StatusCode)
	}
	var n int
	if err := env.ib.Read.QueryRow(`SELECT COUNT(*) FROM inbox WHERE id = ? AND state = 'pending' AND attempts = 0`, rows[1].id).Scan(&n); err != nil || n != 1 {
		t.Fatal("the dead letter is not pending again")
	}
	if resp, _ := admin.postForm("/admin/integrations/"+in.ID+"/dead/"+itoa(rows[1].id)+"/replay", nil); resp.StatusCode != 404 {
		t.Fatalf("replaying a row that is not dead: %d", resp.StatusCode)
	}
	resp, _ = admin.postForm("/admin/integrations/"+in.ID+"/healthy", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("mark healthy: %d", resp.StatusCode)
	}
	_, page = admin.get("/admin/integrations")
	if !strings.Contains(page, `data-health="healthy"`) || !strings.Contains(page, "is back in the queue") && !strings.Contains(page, "marked healthy") {
		t.Fatal("not healthy after Mark healthy")
	}
	actions := strings.Join(env.auditActions("acme-generic"), ",")
	for _, want := range []string{"inbox.replay", "integration.mark_healthy", "integration.mark_unhealthy"} {
		if !strings.Contains(actions, want) {
			t.Errorf("audit lacks %s: %s", want, actions)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
