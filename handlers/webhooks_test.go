package handlers

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kycdesk/kycdesk/internal/ingest"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/testkit"
	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

// addIntegration registers an integration through the store, as the CLI does, and
// returns it with its secret or token.
func (e *testEnv) addIntegration(spec integration.Spec) (*integration.Integration, string) {
	e.t.Helper()
	in, secret, err := e.srv.Integrations.Store().Create(context.Background(), "test", spec)
	if err != nil {
		e.t.Fatal(err)
	}
	e.refresh() // what the poll would do within PollEvery
	return in, secret
}

// refresh makes the integration cache pick up changes made through the store at once
// (the server's poll would within PollEvery).
func (e *testEnv) refresh() {
	e.t.Helper()
	if err := e.srv.Integrations.Refresh(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// flush commits the inbox's pending counters.
func (e *testEnv) flush() {
	e.t.Helper()
	if err := e.srv.Inbox.Flush(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// webhookReq is a JSON POST to path with extra headers.
func webhookReq(path string, body []byte, headers map[string]string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return req
}

// signed returns the Standard Webhooks headers for body, signed with secret at ts.
func signed(t *testing.T, secret, msgID string, ts time.Time, body []byte) map[string]string {
	t.Helper()
	key, err := webhookauth.ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"webhook-id":        msgID,
		"webhook-timestamp": strconv.FormatInt(ts.Unix(), 10),
		"webhook-signature": webhookauth.Sign(key, msgID, ts, body),
	}
}

// inboxRow is one stored delivery as the tests inspect it.
type inboxRow struct {
	id        int64
	key, path string
	payload   []byte
	encrypted bool
}

func (e *testEnv) inboxRows(integrationID string) []inboxRow {
	e.t.Helper()
	rows, err := e.ib.Read.Query(`SELECT id, delivery_key, path_param, payload, encrypted FROM inbox
		WHERE integration_id = ? ORDER BY id`, integrationID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []inboxRow
	for rows.Next() {
		var r inboxRow
		if err := rows.Scan(&r.id, &r.key, &r.path, &r.payload, &r.encrypted); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// stat is a delivery_stats count of the last hour bucket written for the integration.
func (e *testEnv) stat(integrationID, outcome string) int64 {
	e.t.Helper()
	var n int64
	if err := e.ib.Read.QueryRow(`SELECT COALESCE(SUM(n), 0) FROM delivery_stats WHERE integration_id = ? AND outcome = ?`,
		integrationID, outcome).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func fixture(t *testing.T, name string) []byte { return testkit.Fixture(t, name) }

var genericBody = []byte(`{"type":"verification.completed","occurred_at":"2026-11-20T08:14:41Z",
 "applicant":{"given_name":"Thu Hương","family_name":"Nguyễn","id_number":"079195001234"},
 "verification":{"reference":"vrf-2026-000187","result":"review","risk_level":"high"}}`)

func TestWebhookHMAC(t *testing.T) {
	env := newTestEnv(t)
	in, secret := env.addIntegration(integration.Spec{Provider: integration.Generic, AuthMode: integration.AuthHMAC})
	other := webhookauth.NewSecret()
	path := in.WebhookPath()
	now := env.now

	tests := []struct {
		name    string
		headers map[string]string
		body    []byte
		want    int
	}{
		{"valid", signed(t, secret, "msg_valid", now, genericBody), genericBody, 202},
		{"wrong secret", signed(t, other, "msg_wrong", now, genericBody), genericBody, 401},
		{"stale timestamp", signed(t, secret, "msg_stale", now.Add(-6*time.Minute), genericBody), genericBody, 401},
		{"future timestamp", signed(t, secret, "msg_future", now.Add(6*time.Minute), genericBody), genericBody, 401},
		{"body changed", signed(t, secret, "msg_changed", now, genericBody), bytes.Replace(genericBody, []byte("review"), []byte("pass"), 1), 401},
		{"no signature", map[string]string{"webhook-id": "msg_none", "webhook-timestamp": strconv.FormatInt(now.Unix(), 10)}, genericBody, 401},
		{"several signatures, one valid", func() map[string]string {
			h := signed(t, secret, "msg_several", now, genericBody)
			h["webhook-signature"] = signed(t, other, "msg_several", now, genericBody)["webhook-signature"] + " " + h["webhook-signature"]
			return h
		}(), genericBody, 202},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := env.do(webhookReq(path, tt.body, tt.headers))
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
			}
			_, stored, err := env.srv.Inbox.Stored(context.Background(), in.ID, tt.headers["webhook-id"])
			if err != nil {
				t.Fatal(err)
			}
			if stored != (tt.want == 202) {
				t.Fatalf("stored = %v after %d", stored, resp.StatusCode)
			}
		})
	}
	env.flush()
	if got := env.stat(in.ID, "auth_failed"); got != 5 {
		t.Errorf("auth_failed = %d, want 5", got)
	}
	if got := env.stat(in.ID, "accepted"); got != 2 {
		t.Errorf("accepted = %d, want 2", got)
	}
}

func TestWebhookHMACRotation(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	in, oldSecret := env.addIntegration(integration.Spec{Provider: integration.Generic, AuthMode: integration.AuthHMAC})
	newSecret, err := env.srv.Integrations.Store().RotateSecret(ctx, "admin@example.com", in.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	env.refresh()
	n := 0
	send := func(secret string) int {
		n++
		id := fmt.Sprintf("msg_rot_%d", n)
		resp, _ := env.do(webhookReq(in.WebhookPath(), genericBody, signed(t, secret, id, env.now, genericBody)))
		return resp.StatusCode
	}
	if got := send(oldSecret); got != 202 {
		t.Errorf("old secret during overlap: %d", got)
	}
	if got := send(newSecret); got != 202 {
		t.Errorf("new secret during overlap: %d", got)
	}
	env.advance(time.Hour) // the overlap ends exactly now
	if got := send(oldSecret); got != 401 {
		t.Errorf("old secret after the overlap: %d", got)
	}
	if got := send(newSecret); got != 202 {
		t.Errorf("new secret after the overlap: %d", got)
	}

	// Rotating with no overlap ends the current secret at once.
	newest, err := env.srv.Integrations.Store().RotateSecret(ctx, "admin@example.com", in.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	env.refresh()
	if got := send(newSecret); got != 401 {
		t.Errorf("rotated away with no overlap: %d", got)
	}
	if got := send(newest); got != 202 {
		t.Errorf("newest: %d", got)
	}
}

func TestWebhookToken(t *testing.T) {
	env := newTestEnv(t)
	plain, token := env.addIntegration(integration.Spec{Provider: integration.FPTAI, AuthMode: integration.AuthToken, TokenHeader: "X-FPT-Token"})
	fenced, fencedToken := env.addIntegration(integration.Spec{Provider: integration.FPTAI, AuthMode: integration.AuthToken,
		AllowIPs: []string{"203.0.113.0/24"}})
	body := fixture(t, "fptai/callback_success.json")
	// app.Test's peer is 0.0.0.0: it plays the proxy in the trusted cases.
	proxy := []netip.Prefix{netip.MustParsePrefix("0.0.0.0/32")}

	tests := []struct {
		name    string
		in      *integration.Integration
		trusted []netip.Prefix
		headers map[string]string
		want    int
	}{
		{"right token in the configured header", plain, nil, map[string]string{"X-FPT-Token": token}, 202},
		{"wrong token", plain, nil, map[string]string{"X-FPT-Token": token + "x"}, 401},
		{"token in the default header", plain, nil, map[string]string{"X-Webhook-Token": token}, 401},
		{"missing token", plain, nil, nil, 401},
		{"allowlist: peer not allowed", fenced, nil, map[string]string{"X-Webhook-Token": fencedToken}, 401},
		{"allowlist: X-Forwarded-For from an untrusted peer is ignored", fenced, nil,
			map[string]string{"X-Webhook-Token": fencedToken, "X-Forwarded-For": "203.0.113.9"}, 401},
		{"allowlist: X-Forwarded-For from a trusted proxy", fenced, proxy,
			map[string]string{"X-Webhook-Token": fencedToken, "X-Forwarded-For": "203.0.113.9"}, 202},
		{"allowlist: trusted proxy, client outside the list", fenced, proxy,
			map[string]string{"X-Webhook-Token": fencedToken, "X-Forwarded-For": "198.51.100.9"}, 401},
		{"allowlist: allowed address, wrong token", fenced, proxy,
			map[string]string{"X-Webhook-Token": "nope-nope-nope", "X-Forwarded-For": "203.0.113.9"}, 401},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.srv.Config.TrustedProxies = tt.trusted
			// A fresh uuid per case so each accepted one is a new delivery.
			b := bytes.Replace(body, []byte("b6d8f1c2-4e7a-4c3b-9f0d-2a1e5c7b9d10"), []byte(fmt.Sprintf("uuid-token-%d", i)), 1)
			resp, out := env.do(webhookReq(tt.in.WebhookPath(), b, tt.headers))
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, out)
			}
		})
	}
}

func TestWebhookIPAndJWT(t *testing.T) {
	env := newTestEnv(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)

	ipOnly, _ := env.addIntegration(integration.Spec{Provider: integration.FrankieOne, AuthMode: integration.AuthIP, AllowIPs: []string{"0.0.0.0/32"}})
	ipNone, _ := env.addIntegration(integration.Spec{Provider: integration.FrankieOne, AuthMode: integration.AuthIP})
	jwtOnly, _ := env.addIntegration(integration.Spec{Provider: integration.FrankieOne, AuthMode: integration.AuthJWT, JWTKeyPEM: pubPEM})
	jwtFenced, _ := env.addIntegration(integration.Spec{Provider: integration.FrankieOne, AuthMode: integration.AuthJWT, JWTKeyPEM: pubPEM,
		AllowIPs: []string{"203.0.113.0/24"}})
	jwtNoKey, _ := env.addIntegration(integration.Spec{Provider: integration.FrankieOne, AuthMode: integration.AuthJWT})

	token := func(k *rsa.PrivateKey, iss string, iat time.Time) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": iss, "iat": iat.Unix()}).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := token(key, webhookauth.DefaultFrankieIssuer, env.now.Add(-time.Hour))
	body := fixture(t, "frankieone/webhook_workflow_complete.json")

	tests := []struct {
		name string
		in   *integration.Integration
		auth string
		want int
	}{
		{"ip: allowed peer", ipOnly, "", 202},
		{"ip: empty allowlist refuses everything", ipNone, "", 401},
		{"jwt: Bearer", jwtOnly, "Bearer " + good, 202},
		{"jwt: Bearer with FrankieOne's colon", jwtOnly, "Bearer: " + good, 202},
		{"jwt: missing", jwtOnly, "", 401},
		{"jwt: signed with another key", jwtOnly, "Bearer " + token(otherKey, webhookauth.DefaultFrankieIssuer, env.now), 401},
		{"jwt: wrong issuer", jwtOnly, "Bearer " + token(key, "someone.else", env.now), 401},
		{"jwt: iat older than 13 h", jwtOnly, "Bearer " + token(key, webhookauth.DefaultFrankieIssuer, env.now.Add(-14*time.Hour)), 401},
		{"jwt: iat in the future", jwtOnly, "Bearer " + token(key, webhookauth.DefaultFrankieIssuer, env.now.Add(10*time.Minute)), 401},
		{"jwt: valid token from outside the allowlist", jwtFenced, "Bearer " + good, 401},
		{"jwt: no key configured", jwtNoKey, "Bearer " + good, 401},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Replace(body, []byte("01HZX3KA0DQJ8W2N5P7R9T1V3X"), []byte(fmt.Sprintf("req-jwt-%d", i)), 1)
			h := map[string]string{}
			if tt.auth != "" {
				h["Authorization"] = tt.auth
			}
			resp, out := env.do(webhookReq(tt.in.WebhookPath()+"/path-req-"+strconv.Itoa(i), b, h))
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, out)
			}
		})
	}
}

func TestWebhookNoAuthConfigured(t *testing.T) {
	env := newTestEnv(t)
	in, secret := env.addIntegration(integration.Spec{Provider: integration.Generic, AuthMode: integration.AuthHMAC})
	// An hmac integration whose secrets are gone: nothing to verify against, so nothing passes.
	if _, err := env.db.Write.Exec(`DELETE FROM integration_secrets WHERE integration_id = ?`, in.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := env.db.Write.Exec(`UPDATE integrations SET updated_at = updated_at + 1 WHERE id = ?`, in.ID); err != nil {
		t.Fatal(err)
	}
	env.refresh()
	resp, body := env.do(webhookReq(in.WebhookPath(), genericBody, signed(t, secret, "msg_1", env.now, genericBody)))
	if resp.StatusCode != 401 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if rows := env.inboxRows(in.ID); len(rows) != 0 {
		t.Fatalf("%d rows stored", len(rows))
	}
}

func TestWebhookDedup(t *testing.T) {
	env := newTestEnv(t)
	in, secret := env.addIntegration(integration.Spec{Provider: integration.Generic, AuthMode: integration.AuthHMAC})
	h := signed(t, secret, "msg_dup", env.now, genericBody)

	resp, body := env.do(webhookReq(in.WebhookPath(), genericBody, h))
	if resp.StatusCode != 202 {
		t.Fatalf("first: %d %s", resp.StatusCode, body)
	}
	var accepted struct {
		Status string `json:"status"`
		ID     int64  `json:"id"`
	}
	if err := json.Unmarshal([]byte(body), &accepted); err != nil || accepted.Status != "accepted" || accepted.ID == 0 {
		t.Fatalf("first answer %s", body)
	}
	resp, body = env.do(webhookReq(in.WebhookPath(), genericBody, h))
	if resp.StatusCode != 200 || !strings.Contains(body, `"status":"duplicate"`) {
		t.Fatalf("second: %d %s", resp.StatusCode, body)
	}
	rows := env.inboxRows(in.ID)
	if len(rows) != 1 || rows[0].id != accepted.ID {
		t.Fatalf("rows %+v, want one with id %d", rows, accepted.ID)
	}
	env.flush()
	if env.stat(in.ID, "duplicate") != 1 || env.stat(in.ID, "accepted") != 1 {
		t.Fatalf("stats: accepted %d duplicate %d", env.stat(in.ID, "accepted"), env.stat(in.ID, "duplicate"))
	}
}

func TestWebhookRefusedBodies(t *testing.T) {
	env := newTestEnv(t)
	gen, secret := env.addIntegration(integration.Spec{Provider: integration.Generic, AuthMode: integration.AuthHMAC})
	fpt, token := env.addIntegration(integration.Spec{Provider: integration.FPTAI, AuthMode: integration.AuthToken})
	fk, _ := env.addIntegration(integration.Spec{Provider: integration.FrankieOne, AuthMode: integration.AuthIP, AllowIPs: []string{"0.0.0.0/32"}})

	tests := []struct {
		name        string
		in          *integration.Integration
		path        string // default: the integration's webhook path
		body        []byte
		contentType string
		auth        func(body []byte) map[string]string
		want        int
		outcome     string // the delivery_stats outcome counted, "" for none
	}{
		{"invalid JSON", gen, "", []byte(`{"type":`), "", nil, 400, "malformed"},
		{"JSON array", gen, "", []byte(`[]`), "", nil, 400, "malformed"},
		{"generic: no reference", gen, "", []byte(`{"type":"verification.completed","occurred_at":"2026-11-20T08:14:41Z","verification":{"result":"pass"}}`), "", nil, 400, "malformed"},
		{"wrong content type", gen, "", genericBody, "text/plain", nil, 415, "malformed"},
		{"fptai: no uuid", fpt, "", []byte(`{"liveness":{"is_live":"true"}}`), "", nil, 400, "malformed"},
		{"frankieone: no requestId field", fk, fk.WebhookPath() + "/req-1", []byte(`{"entityId":"e1","function":"WorkflowComplete"}`), "", nil, 400, "malformed"},
		{"unknown integration", gen, "/webhooks/generic/0000000000zz", genericBody, "", nil, 404, ""},
		{"malformed integration id", gen, "/webhooks/generic/..%2F..", genericBody, "", nil, 404, ""},
		{"provider mismatch", gen, "/webhooks/fptai/" + gen.ID, genericBody, "", nil, 404, ""},
		{"frankieone without requestID", fk, fk.WebhookPath(), fixture(t, "frankieone/webhook_workflow_complete.json"), "", nil, 404, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = tt.in.WebhookPath()
			}
			var h map[string]string
			switch tt.in.AuthMode {
			case integration.AuthHMAC:
				h = signed(t, secret, fmt.Sprintf("msg_bad_%d", i), env.now, tt.body)
			case integration.AuthToken:
				h = map[string]string{"X-Webhook-Token": token}
			}
			req := webhookReq(path, tt.body, h)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			before := 0
			if tt.outcome != "" {
				env.flush()
				before = int(env.stat(tt.in.ID, tt.outcome))
			}
			resp, body := env.do(req)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			var e struct {
				Error string `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
				t.Fatalf("answer is not a JSON error: %q", body)
			}
			if rows := env.inboxRows(tt.in.ID); len(rows) != 0 {
				t.Fatalf("%d rows stored", len(rows))
			}
			if tt.outcome != "" {
				env.flush()
				if got := int(env.stat(tt.in.ID, tt.outcome)); got != before+1 {
					t.Fatalf("%s count %d, want %d", tt.outcome, got, before+1)
				}
			}
		})
	}
}

// serve runs the app on a loopback listener (for what app.Test cannot show: a real TCP
// peer, fasthttp's own body limit) and returns its base URL.
func (e *testEnv) serve() string {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	go func() { _ = e.app.Listener(ln) }()
	e.t.Cleanup(func() { _ = e.app.ShutdownWithTimeout(5 * time.Second) })
	return "http://" + ln.Addr().String()
}

// TestWebhookOverHTTP: the body limit answers 413 as JSON and is counted; the allowlist
// sees the real TCP peer, and X-Forwarded-For from an untrusted peer changes nothing.
func TestWebhookOverHTTP(t *testing.T) {
	env := newTestEnv(t)
	gen, secret := env.addIntegration(integration.Spec{Provider: integration.Generic, AuthMode: integration.AuthHMAC})
	local, _ := env.addIntegration(integration.Spec{Provider: integration.FrankieOne, AuthMode: integration.AuthIP, AllowIPs: []string{"127.0.0.1/32"}})
	remote, _ := env.addIntegration(integration.Spec{Provider: integration.FrankieOne, AuthMode: integration.AuthIP, AllowIPs: []string{"203.0.113.0/24"}})
	base := env.serve()
	post := func(path string, body []byte, h map[string]string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	big := bytes.Repeat([]byte("a"), env.srv.Config.BodyLimit+1)
	status, body := post(gen.WebhookPath(), big, signed(t, secret, "msg_big", env.now, big))
	if status != 413 || !strings.Contains(body, `"error"`) {
		t.Fatalf("oversized body: %d %q", status, body)
	}
	env.flush()
	if n := env.stat(gen.ID, "too_large"); n != 1 {
		t.Fatalf("too_large counted %d times", n)
	}

	notification := fixture(t, "frankieone/webhook_workflow_complete.json")
	if status, body := post(local.WebhookPath()+"/r1", notification, nil); status != 202 {
		t.Fatalf("allowlisted loopback peer: %d %s", status, body)
	}
	if status, body := post(remote.WebhookPath()+"/r1", notification, map[string]string{"X-Forwarded-For": "203.0.113.7"}); status != 401 {
		t.Fatalf("forged X-Forwarded-For from an untrusted peer: %d %s", status, body)
	}
}

// TestWebhookFixtures posts every shared sample to its endpoint: each is accepted and
// stored, sealed when it carries personal data.
func TestWebhookFixtures(t *testing.T) {
	env := newTestEnv(t)
	fpt, token := env.addIntegration(integration.Spec{Provider: integration.FPTAI, AuthMode: integration.AuthToken})
	wrapped, wrappedToken := env.addIntegration(integration.Spec{Provider: integration.FPTAI, AuthMode: integration.AuthToken, DataKey: "ekyc_result"})
	fk, _ := env.addIntegration(integration.Spec{Provider: integration.FrankieOne, AuthMode: integration.AuthIP, AllowIPs: []string{"0.0.0.0/32"}})
	gen, secret := env.addIntegration(integration.Spec{Provider: integration.Generic, AuthMode: integration.AuthHMAC})
	designExample, err := os.ReadFile("../internal/provider/generic/testdata/event_design_example.json")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		file      string
		in        *integration.Integration
		body      []byte
		headers   map[string]string
		path      string
		key       string // the delivery identity stored
		sealed    bool
		plaintext string // personal data that must not appear in the stored bytes
	}{
		{"fptai/callback_success.json", fpt, nil, map[string]string{"X-Webhook-Token": token}, "", "b6d8f1c2-4e7a-4c3b-9f0d-2a1e5c7b9d10", true, "NGUYỄN THỊ THU HƯƠNG"},
		{"fptai/callback_spoof_lowconf.json", fpt, nil, map[string]string{"X-Webhook-Token": token}, "", "0c4e9a7b-2d15-4f6e-8a3b-5d7c9e1f2a40", true, "TRẦN VĂN ĐỨC"},
		{"fptai/callback_error.json", fpt, nil, map[string]string{"X-Webhook-Token": token}, "", "7a1b3c5d-9e2f-4a6b-8c0d-1e3f5a7b9c2d", true, "face is not matching"},
		{"fptai/callback_wrapped.json", wrapped, nil, map[string]string{"X-Webhook-Token": wrappedToken}, "", "5e2d8c1a-7b3f-4d9e-a0c6-3f1b2e4d6a88", true, "LÊ MINH KHOA"},
		{"frankieone/webhook_workflow_complete.json", fk, nil, nil, "/01HZX3KA0DQJ8W2N5P7R9T1V3X", "01HZX3KA0DQJ8W2N5P7R9T1V3X", false, ""},
		{"frankieone/webhook_status_changed_echo.json", fk, nil, nil, "/req-from-path-77", "01HZX4B1C2D3E4F5G6H7J8K9LM", false, ""},
		{"generic design example", gen, designExample, nil, "", "msg_design_example", true, "Thu Hương"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := tt.body
			if body == nil {
				body = fixture(t, tt.file)
			}
			h := tt.headers
			if tt.in.AuthMode == integration.AuthHMAC {
				h = signed(t, secret, tt.key, env.now, body)
			}
			resp, out := env.do(webhookReq(tt.in.WebhookPath()+tt.path, body, h))
			if resp.StatusCode != 202 {
				t.Fatalf("status %d: %s", resp.StatusCode, out)
			}
			rowID, ok, err := env.srv.Inbox.Stored(context.Background(), tt.in.ID, tt.key)
			if err != nil || !ok {
				t.Fatalf("delivery %s not stored (%v)", tt.key, err)
			}
			var r inboxRow
			for _, row := range env.inboxRows(tt.in.ID) {
				if row.id == rowID {
					r = row
				}
			}
			if r.encrypted != tt.sealed {
				t.Fatalf("encrypted = %v, want %v", r.encrypted, tt.sealed)
			}
			if tt.sealed && (bytes.Contains(r.payload, []byte(tt.plaintext)) || bytes.Contains(r.payload, []byte(`"uuid"`))) {
				t.Fatal("the stored bytes carry the plaintext")
			}
			if tt.path != "" && r.path != tt.path[1:] {
				t.Fatalf("path_param %q, want %q", r.path, tt.path[1:])
			}
			plain, err := ingest.OpenPayload(env.sealer, tt.in.ID, r.key, r.payload, r.encrypted)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(plain, body) {
				t.Fatal("the stored payload is not the body as received")
			}
			if tt.sealed {
				// Bound to its row: under another delivery key it does not open.
				if _, err := ingest.OpenPayload(env.sealer, tt.in.ID, r.key+"x", r.payload, true); err == nil {
					t.Fatal("the sealed payload opens under another delivery key")
				}
			}
		})
	}
}

// TestWebhookBusy: past capacity the answer is 503 with Retry-After, never a hang.
func TestWebhookBusy(t *testing.T) {
	env := newTestEnv(t)
	in, secret := env.addIntegration(integration.Spec{Provider: integration.Generic, AuthMode: integration.AuthHMAC})
	// An inbox whose committer never runs: the one queue slot fills, the wait runs out.
	env.srv.Inbox = ingest.New(env.ib, env.db, env.sealer, nil, env.srv.Log, func() time.Time { return env.now },
		ingest.Options{QueueSize: 1, Wait: 20 * time.Millisecond})
	for i, what := range []string{"commit does not come in time", "queue full"} {
		start := time.Now()
		resp, body := env.do(webhookReq(in.WebhookPath(), genericBody, signed(t, secret, fmt.Sprintf("msg_busy_%d", i), env.now, genericBody)))
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("%s: status %d Retry-After %q: %s", what, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("%s: answered after %s", what, d)
		}
	}
}

// TestWebhookNewIntegrationWithoutRestart: an integration written by another process (the
// CLI) is found on the first delivery, before the cache's next poll.
func TestWebhookNewIntegrationWithoutRestart(t *testing.T) {
	env := newTestEnv(t)
	other := &integration.Store{DB: env.db, Sealer: env.sealer} // a second store: not the cache's
	in, secret, err := other.Create(context.Background(), "cli", integration.Spec{Provider: integration.Generic, AuthMode: integration.AuthHMAC})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := env.do(webhookReq(in.WebhookPath(), genericBody, signed(t, secret, "msg_new", env.now, genericBody)))
	if resp.StatusCode != 202 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	env := newTestEnv(t)
	in, secret := env.addIntegration(integration.Spec{Name: "acme-generic", Provider: integration.Generic, AuthMode: integration.AuthHMAC})
	env.do(webhookReq(in.WebhookPath(), genericBody, signed(t, secret, "msg_m1", env.now, genericBody)))
	env.do(webhookReq(in.WebhookPath(), genericBody, signed(t, secret, "msg_m1", env.now, genericBody)))
	env.do(webhookReq(in.WebhookPath(), genericBody, signed(t, webhookauth.NewSecret(), "msg_m2", env.now, genericBody)))

	resp, body := env.do(httptest.NewRequest("GET", "/metrics", nil))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{
		`kycdesk_webhook_deliveries_total{integration="acme-generic",outcome="accepted"} 1`,
		`kycdesk_webhook_deliveries_total{integration="acme-generic",outcome="duplicate"} 1`,
		`kycdesk_webhook_deliveries_total{integration="acme-generic",outcome="auth_failed"} 1`,
		"kycdesk_inbox_depth 1",
		"kycdesk_worker_lag_seconds",
		"kycdesk_inbox_processing_seconds_bucket",
		"kycdesk_webhook_commit_batch_size_bucket",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	env.srv.Config.MetricsAddr = "127.0.0.1:9464"
	if resp, _ := env.do(httptest.NewRequest("GET", "/metrics", nil)); resp.StatusCode != 404 {
		t.Fatalf("with --metrics-addr the main listener answers %d", resp.StatusCode)
	}
}
