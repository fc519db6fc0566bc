package main

// Browser journeys: real Chromium (chromedp) against a real `kycdesk serve` child,
// through the routes and element ids of DESIGN.md. Run them with
// `CI=true go test -count=1 -run Browser -v ./cmd/kycdesk/`; screenshots of every page
// visited are kept in the folder each test logs.

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"

	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

// vietnameseName is written with the precomposed (NFC) letters a Vietnamese keyboard
// produces: the bytes must come back unchanged.
const vietnameseName = "Nguyễn Thị Thu Hương"

// journey checks for Chromium (skipping or failing as chromiumPath says) before it
// builds anything, then starts a server. Journeys run in parallel (go test's -parallel,
// GOMAXPROCS by default), each with its own server and its own browser contexts.
func journey(t *testing.T) (*kycdeskServer, *screenshots) {
	t.Helper()
	chromiumPath(t)
	return startServer(t), newScreenshots(t)
}

// passwordStep signs in with email and password: the first factor.
func (b *browser) passwordStep(u *testUser) *network.Response {
	b.t.Helper()
	b.open("/login")
	b.fill("#email", u.Email)
	b.fill("#password", u.Password)
	return b.clickThrough("#sign-in")
}

// enrolMFA completes /mfa/setup the way a person does: reads the key off #totp-secret
// (checking the QR code beside it loaded), confirms a code, sees ten recovery codes and
// continues. It returns the response of the landing page.
func (b *browser) enrolMFA(u *testUser) *network.Response {
	b.t.Helper()
	b.wantPath("/mfa/setup")
	u.secret = b.text("#totp-secret")
	b.wantImagesLoaded("img.qr", 1)
	b.fill("#code", u.nextCode(b.t))
	if resp := b.clickThrough("#confirm-code"); resp.Status != http.StatusOK {
		b.fatalf("confirm code: status %d, want 200", resp.Status)
	}
	codes := evaluate[[]string](b, `[...document.querySelectorAll("#recovery-codes li")].map(li => li.textContent.trim())`)
	seen := map[string]bool{}
	for _, c := range codes {
		if c == "" || seen[c] {
			b.fatalf("recovery codes %q: empty or repeated", codes)
		}
		seen[c] = true
	}
	if len(codes) != 10 {
		b.fatalf("%d recovery codes shown, want 10", len(codes))
	}
	return b.clickThrough("#continue")
}

// secondFactor answers /mfa with a fresh TOTP code.
func (b *browser) secondFactor(u *testUser) *network.Response {
	b.t.Helper()
	b.wantPath("/mfa")
	b.fill("#code", u.nextCode(b.t))
	return b.clickThrough("#verify-code")
}

// signIn signs a user in completely (enrolling MFA at the first sign-in) and checks
// they land on their role's page with their email in the header.
func (b *browser) signIn(u *testUser, landing string) {
	b.t.Helper()
	b.passwordStep(u)
	var resp *network.Response
	if u.secret == "" {
		resp = b.enrolMFA(u)
	} else {
		resp = b.secondFactor(u)
	}
	b.wantPath(landing)
	if resp.Status != http.StatusOK {
		b.fatalf("landing %s: status %d, want 200", landing, resp.Status)
	}
	if got := b.text("#signed-in-as"); got != u.Email {
		b.fatalf("header shows %q, want the user's email %q", got, u.Email)
	}
}

// Journey 1: a new analyst signs in, enrols an authenticator, lands on the queues, signs
// out, and signs in again with a fresh code.
func TestBrowserAnalystSignInWithMFA(t *testing.T) {
	t.Parallel()
	srv, shots := journey(t)
	ana := srv.createUser(t, "analyst", "thu.huong@example.com", vietnameseName)
	b := srv.newBrowser(t, "analyst", shots)

	if resp := b.passwordStep(ana); resp.Status != http.StatusOK {
		t.Fatalf("password step: status %d, want 200", resp.Status)
	}
	b.wantPath("/mfa/setup") // a new account must enrol before anything else
	b.enrolMFA(ana)
	b.wantPath("/queues")
	if got := b.text("#signed-in-as"); got != ana.Email {
		t.Fatalf("header shows %q, want %q", got, ana.Email)
	}

	b.clickThrough("#sign-out")
	b.wantPath("/login")
	b.open("/queues") // the session ended on the server, not only in the browser
	b.wantPath("/login")

	b.passwordStep(ana)
	b.wantPath("/mfa") // enrolled: the code step, not enrolment again
	b.open("/queues")  // a password-only session cannot skip its second factor
	b.wantPath("/mfa")
	if resp := b.secondFactor(ana); resp.Status != http.StatusOK {
		t.Fatalf("after the second factor: status %d, want 200", resp.Status)
	}
	b.wantPath("/queues")
	if got := b.text("#signed-in-as"); got != ana.Email {
		t.Fatalf("header shows %q after signing in again, want %q", got, ana.Email)
	}
}

// Journey 2: an analyst who types the admin URL gets the 403 page, not the user list.
func TestBrowserAnalystForbiddenAdminPage(t *testing.T) {
	t.Parallel()
	srv, shots := journey(t)
	ana := srv.createUser(t, "analyst", "ana@example.com", "")
	b := srv.newBrowser(t, "analyst", shots)
	b.signIn(ana, "/queues")
	if n := b.count(`nav a[href="/admin/users"]`); n != 0 {
		t.Errorf("analyst's navigation links to /admin/users")
	}

	resp := b.open("/admin/users")
	if resp.Status != http.StatusForbidden {
		t.Errorf("GET /admin/users as analyst: status %d, want 403", resp.Status)
	}
	b.wantPath("/admin/users") // refused in place, not redirected
	if msg := b.text("#error-message"); msg == "" {
		t.Error("403 page: #error-message is empty")
	} else {
		t.Logf("403 page says: %s", msg)
	}
	if n := b.count("#users"); n != 0 {
		t.Error("403 page shows the user table")
	}
}

// Journey 3: with the analyst signed in in one browser, the admin disables them in
// another (a separate Chromium process and profile); the analyst's next click finds
// them signed out.
func TestBrowserAdminDisablesSignedInAnalyst(t *testing.T) {
	t.Parallel()
	srv, shots := journey(t)
	adm := srv.createUser(t, "admin", "admin@example.com", "Ada Admin")
	ana := srv.createUser(t, "analyst", "thu.huong@example.com", vietnameseName)
	admin := srv.newBrowser(t, "admin", shots)
	analyst := srv.newSeparateBrowser(t, "analyst", shots)

	admin.signIn(adm, "/admin/users")
	analyst.signIn(ana, "/queues")

	admin.open("/admin/users")
	row := `#users tr[data-email="` + ana.Email + `"]`
	if got := admin.text(row + " td:nth-child(2)"); got != vietnameseName {
		t.Errorf("admin list shows the analyst's name as %q (% x), want %q", got, got, vietnameseName)
	}

	// The disable form carries data-confirm: app.js asks with window.confirm. Accept it
	// the way a person would, and check what it asked.
	asked := admin.acceptNextDialog()
	if resp := admin.clickThrough(row + ` button[name="disable"]`); resp.Status != http.StatusOK {
		t.Fatalf("disable: status %d, want 200", resp.Status)
	}
	select {
	case msg := <-asked:
		if !strings.Contains(msg, ana.Email) {
			t.Errorf("confirm dialog %q does not name %s", msg, ana.Email)
		}
	default:
		t.Error("disabling asked no confirmation (data-confirm)")
	}
	admin.wantPath("/admin/users")
	if status := evaluate[string](admin, `document.querySelector(`+jsString(row+" [data-status]")+`).dataset.status`); status != "disabled" {
		t.Errorf("analyst's status after disable: %q, want disabled", status)
	}

	// The analyst's browser still shows the queues; any click now meets the ended session.
	analyst.clickThrough(`nav a[href="/queues"]`)
	analyst.wantPath("/login")
	if n := analyst.count("#signed-in-as"); n != 0 {
		t.Error("disabled analyst still shown as signed in")
	}
	// And the password no longer works, with the same message as any failed sign-in.
	if resp := analyst.passwordStep(ana); resp.Status != http.StatusUnauthorized {
		t.Errorf("disabled analyst's sign-in: status %d, want 401", resp.Status)
	}
	analyst.wantPath("/login")
}

// Journey 4: a session that passed only the password is held at its MFA step, and
// assets do not disturb an enrolment in progress.
func TestBrowserPasswordOnlySession(t *testing.T) {
	t.Parallel()
	srv, shots := journey(t)
	adm := srv.createUser(t, "admin", "admin@example.com", "")
	b := srv.newBrowser(t, "admin", shots)

	b.passwordStep(adm)
	b.wantPath("/mfa/setup")
	secret := b.text("#totp-secret")

	for _, path := range []string{"/admin/users", "/queues", "/"} {
		resp := b.open(path)
		b.wantPath("/mfa/setup")
		if resp.Status != http.StatusOK {
			t.Errorf("GET %s before MFA ends on /mfa/setup with status %d, want 200", path, resp.Status)
		}
		if n := b.count("#users"); n != 0 {
			t.Fatalf("GET %s before MFA shows the user table", path)
		}
	}

	resp := b.open("/favicon.ico")
	if resp.Status != http.StatusOK {
		t.Errorf("GET /favicon.ico: status %d, want 200", resp.Status)
	}
	b.open("/mfa/setup")
	if got := b.text("#totp-secret"); got != secret {
		t.Fatalf("secret changed after /favicon.ico and reloads: %q, was %q", got, secret)
	}
	// The secret read before the detours is the one the server enrols.
	b.enrolMFA(adm)
	b.wantPath("/admin/users")
	if n := b.count("#users"); n != 1 {
		t.Error("admin's landing page has no user table")
	}
}

// Journey 5: a failed sign-in says the same for a wrong password and an unknown email,
// so the form cannot be used to find out who has an account.
func TestBrowserSignInErrorsAreGeneric(t *testing.T) {
	t.Parallel()
	srv, shots := journey(t)
	ana := srv.createUser(t, "analyst", "ana@example.com", "")
	b := srv.newBrowser(t, "visitor", shots)

	resp := b.open("/login")
	if ct := header(resp, "Content-Type"); !strings.Contains(strings.ToLower(strings.ReplaceAll(ct, " ", "")), "charset=utf-8") {
		t.Errorf("GET /login Content-Type %q, want charset=utf-8", ct)
	}
	if cs := evaluate[string](b, `document.characterSet`); cs != "UTF-8" {
		t.Errorf("document.characterSet = %q, want UTF-8", cs)
	}

	wrongStatus, wrongMsg := b.refusedSignIn(ana.Email, "Not-The-Right-Password-42")
	unknownStatus, unknownMsg := b.refusedSignIn("nobody-here@example.com", "Not-The-Right-Password-42")
	t.Logf("failed sign-in says: %q (status %d)", wrongMsg, wrongStatus)
	if wrongStatus != http.StatusUnauthorized || unknownStatus != wrongStatus {
		t.Errorf("statuses: wrong password %d, unknown email %d; want 401 for both", wrongStatus, unknownStatus)
	}
	if wrongMsg == "" || wrongMsg != unknownMsg {
		t.Errorf("messages differ: wrong password %q, unknown email %q", wrongMsg, unknownMsg)
	}
	for _, leak := range []string{ana.Email, "nobody-here", "exist", "unknown", "no account", "not found"} {
		if strings.Contains(strings.ToLower(wrongMsg), leak) {
			t.Errorf("failed sign-in message %q mentions %q", wrongMsg, leak)
		}
	}
}

// Journey 6: provider results become cases an analyst can open: the simulator and a
// hand-signed generic event feed the server, the queue lists the cases, and the case
// workspace shows the document images and the applicant's Vietnamese name.
func TestBrowserQueueAndCase(t *testing.T) {
	t.Parallel()
	srv, shots := journey(t)
	skipWithoutCaseRoutes(t, srv)
	ana := srv.createUser(t, "analyst", "ana@example.com", "")

	// The simulator registers its own integration; it lingers so the worker can fetch
	// the pictures from its provider API.
	var simOut lockedBuffer
	sim := exec.Command(srv.bin, "simulate", "--target", srv.URL, "--provider", "generic", "--count", "5", "--rate", "20",
		"--seed", "20261120", "--data", srv.Data, "--linger", "5s")
	sim.Stdout, sim.Stderr = &simOut, &simOut
	if err := sim.Start(); err != nil {
		t.Fatalf("start kycdesk simulate: %v", err)
	}
	simDone := make(chan error, 1)
	go func() { simDone <- sim.Wait() }()
	t.Cleanup(func() { // before the server stops: the simulator must have finished cleanly
		select {
		case err := <-simDone:
			if err != nil {
				t.Errorf("kycdesk simulate: %v\n%s", err, simOut.String())
			}
		case <-time.After(20 * time.Second):
			t.Errorf("kycdesk simulate still running 20s after the journey\n%s", simOut.String())
			_ = sim.Process.Kill()
			<-simDone
		}
	})

	// A hand-made generic event, signed as DESIGN.md says, with a name in Vietnamese.
	out := srv.cli(t, "", "integration", "add", "--provider", "generic", "--auth", "hmac", "--name", "browser-test")
	webhookURL, secret := field(out, "webhook_url"), field(out, "secret")
	if webhookURL == "" || secret == "" {
		t.Fatalf("integration add printed no webhook_url/secret:\n%s", out)
	}
	ref := "vrf-browser-" + randomHex(4)
	u, err := url.Parse(webhookURL)
	if err != nil {
		t.Fatalf("webhook_url %q: %v", webhookURL, err)
	}
	// The printed host is the configured public URL; callers use its path.
	postGenericEvent(t, srv.URL+u.Path, secret, ref)

	b := srv.newBrowser(t, "analyst", shots)
	b.signIn(ana, "/queues")

	// Six verifications were sent; poll the queue page until the worker made the cases.
	const want = 6
	deadline := time.Now().Add(30 * time.Second)
	for n := 0; n < want; n = b.count("#queue-cases tbody tr") {
		if time.Now().After(deadline) {
			b.shotHere()
			t.Fatalf("the unassigned queue lists %d cases 30s after %d verifications were acknowledged, want %d", n, want, want)
		}
		time.Sleep(250 * time.Millisecond) // a person pressing reload; the page has no push
		b.openQuiet("/queues?queue=unassigned")
	}
	b.shotHere()

	// Each row: case id, reference and the applicant's name (without the external id under it).
	rows := evaluate[[]queueRow](b, `[...document.querySelectorAll("#queue-cases tbody tr")].map(tr => {
		const cell = tr.querySelector("td.applicant").cloneNode(true);
		cell.querySelectorAll(".sub").forEach(e => e.remove());
		return {id: tr.dataset.caseId, reference: tr.querySelector("a.ref").textContent.trim(), name: cell.textContent.trim()};
	})`)
	var mine, simulated queueRow
	for _, r := range rows {
		switch {
		case r.Reference == ref:
			mine = r
		case simulated.ID == "" && strings.ContainsFunc(r.Name, func(c rune) bool { return c > 0x7f }):
			simulated = r // a simulated Vietnamese applicant
		}
	}
	const wantName = "Nguyễn Thu Hương" // family name first for a VNM applicant, as DESIGN.md shows
	switch {
	case mine.ID == "":
		t.Fatalf("the queue lists no case %s: %+v", ref, rows)
	case mine.Name != wantName:
		t.Errorf("queue row of %s shows applicant %q (% x), want %q", ref, mine.Name, mine.Name, wantName)
	}

	b.clickThrough(`#queue-cases tr[data-case-id="` + mine.ID + `"] a.ref`)
	b.wantPath("/cases/" + mine.ID)
	if got := b.text("#case-reference"); got != ref {
		t.Errorf("case page reference %q, want %q", got, ref)
	}
	if got := b.text("#applicant-name"); got != wantName {
		t.Errorf("case page applicant %q (% x), want %q", got, got, wantName)
	}
	imgs := b.wantImagesLoaded("#documents img", 2) // the ID card front and the selfie
	t.Logf("case %s images: %+v", ref, imgs)
	b.shotHere()

	// A simulated case: its pictures were fetched by URL from the simulator's provider
	// API, and its name was drawn from Vietnamese name lists.
	if simulated.ID == "" {
		t.Fatalf("the queue lists no simulated case with a Vietnamese name: %+v", rows)
	}
	b.open("/cases/" + simulated.ID)
	if got := b.text("#applicant-name"); got != simulated.Name {
		t.Errorf("simulated case %s: applicant %q on the case page, %q in the queue", simulated.Reference, got, simulated.Name)
	}
	imgs = b.wantImagesLoaded("#documents img", 1)
	t.Logf("simulated case %s (%s) images: %+v", simulated.Reference, simulated.Name, imgs)
	b.shotHere()
}

// queueRow is one row of the queue table as the page shows it.
type queueRow struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
	Name      string `json:"name"`
}

// statusNoRedirect is the status of a GET without following redirects: a route that
// exists answers a visitor with 303 to /login, a missing one with 404.
func statusNoRedirect(t *testing.T, u string) int {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// field is the value of a "name: value" line of a command's output.
func field(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// postGenericEvent sends one Standard Webhooks signed generic event with two inline
// images, retrying while the server has not yet loaded the new integration (it reloads
// within a second).
func postGenericEvent(t *testing.T, target, secret, ref string) {
	t.Helper()
	key, err := webhookauth.ParseSecret(secret)
	if err != nil {
		t.Fatalf("secret printed by integration add: %v", err)
	}
	event := map[string]any{
		"type":        "verification.completed",
		"occurred_at": time.Now().UTC().Format(time.RFC3339),
		"applicant": map[string]any{
			"external_id": "cust-browser", "given_name": "Thu Hương", "family_name": "Nguyễn",
			"date_of_birth": "1995-09-02", "nationality": "VNM", "id_number": "079195001234",
			"address": "123 Lê Lợi, Quận 1, TP. Hồ Chí Minh",
		},
		"verification": map[string]any{
			"reference": ref, "result": "review", "risk_level": "medium", "risk_score": 41,
			"checks": []map[string]any{
				{"kind": "document", "result": "pass", "score": 0.97},
				{"kind": "face_match", "result": "pass", "score": 0.91},
			},
			"documents": []map[string]any{
				{"id": "front", "kind": "id_front", "content_type": "image/png", "data_base64": testPicture(t, 320, 200)},
				{"id": "selfie", "kind": "selfie", "content_type": "image/png", "data_base64": testPicture(t, 200, 240)},
			},
		},
	}
	body, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	postSignedUntilAccepted(t, target, key, "msg_browser_"+randomHex(8), body, "generic event")
}

// testPicture is a w×h PNG in base64: a coloured card with a darker band, so a broken
// image and a real one look different in the screenshots.
func testPicture(t *testing.T, w, h int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{R: 90, G: 140, B: 200, A: 255}
			if y > h/3 && y < h/2 {
				c = color.RGBA{R: 30, G: 60, B: 110, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Journey 7: an admin adds a generic integration on /admin/integrations, is shown its secret
// once with the webhook URL to copy, and the secret works: a delivery signed with it is
// accepted, and the page then counts it.
func TestBrowserAdminAddsIntegration(t *testing.T) {
	t.Parallel()
	srv, shots := journey(t)
	ada := srv.createUser(t, "admin", "ada@example.com", "Ada Admin")
	b := srv.newBrowser(t, "admin", shots)
	b.signIn(ada, "/admin/users")

	b.open("/admin/integrations")
	if b.count("#no-integrations") != 1 {
		b.fatalf("a fresh server should say it has no integrations yet")
	}
	b.fill("#int-name", "bank-onboarding")
	b.fill("#int-provider", "generic")
	b.fill("#int-auth", "hmac")
	b.clickThrough("#create-integration-button")
	secret := b.text("#new-secret")
	if !strings.HasPrefix(secret, "whsec_") {
		b.fatalf("new secret %q is not a Standard Webhooks secret", secret)
	}
	hookURL := evaluate[string](b, `document.querySelector("[data-webhook-url]").textContent.trim()`)
	if !strings.Contains(hookURL, "/webhooks/generic/") {
		b.fatalf("webhook URL %q", hookURL)
	}

	// Shown once: reloading the page does not show it again.
	b.open("/admin/integrations")
	if b.count("#new-secret") != 0 {
		b.fatalf("the secret is shown again after a reload")
	}

	// The secret and URL work for a real delivery.
	path := hookURL[strings.Index(hookURL, "/webhooks/"):]
	key, err := webhookauth.ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"verification.completed","occurred_at":"2026-11-20T08:14:41Z",` +
		`"applicant":{"given_name":"Thu Hương","family_name":"Nguyễn","nationality":"VNM"},` +
		`"verification":{"reference":"vrf-admin-journey","result":"pass","risk_level":"low"}}`)
	resp, err := http.DefaultClient.Do(signedRequest(b.base+path, key, "msg-admin-journey", time.Now(), body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delivery with the page's secret: %d, want 202", resp.StatusCode)
	}
	b.open("/admin/integrations")
	if got := b.text("#main"); !strings.Contains(got, "bank-onboarding") {
		b.fatalf("the integration is not listed")
	}
}
