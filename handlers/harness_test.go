package handlers

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/pquerna/otp/totp"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/config"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/ingest"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/metrics"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

// testEnv is a real server on a real SQLite file in a temp dir, driven through
// the real Fiber router with app.Test: no mocks of our own code.
type testEnv struct {
	t      *testing.T
	srv    *Server
	app    *fiber.App
	db     *db.DB
	ib     *db.DB // the inbox file
	sealer *crypto.Sealer
	now    time.Time // the injected clock; advance it with env.advance
	users  int       // accounts made by newUser, for unique emails
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	dir := t.TempDir()
	d, sealer := testkit.StoreAt(t, dir)
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.InsecureCookies = true
	env := &testEnv{t: t, db: d, ib: testkit.Inbox(t, d), sealer: sealer, now: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)}
	env.srv = &Server{Config: cfg, DB: d, Sealer: sealer, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return env.now },
		Hasher: auth.NewHasherWithCost(0, 64, 1)} // argon2 cost is tested in internal/auth, not on every sign-in here
	env.startIngest()
	env.app = env.srv.App()
	return env
}

// startIngest starts what cmd/kycdesk's startBackground starts for ingestion (metrics,
// integration cache, inbox committer) on the env clock, and stops it before the db closes.
func (e *testEnv) startIngest() {
	ctx, cancel := context.WithCancel(context.Background())
	clock := func() time.Time { return e.now }
	store := &integration.Store{DB: e.db, Sealer: e.sealer, Now: clock}
	e.srv.Metrics = metrics.New()
	e.srv.Integrations = integration.NewRegistry(store, e.srv.Log)
	if err := e.srv.Integrations.Load(ctx); err != nil {
		e.t.Fatal(err)
	}
	e.srv.Inbox = ingest.New(e.ib, e.db, e.sealer, e.srv.Metrics, e.srv.Log, clock, ingest.Options{})
	done := make(chan struct{}, 2)
	go func() { e.srv.Integrations.Run(ctx); done <- struct{}{} }()
	go func() { _ = e.srv.Inbox.Run(ctx); done <- struct{}{} }()
	e.t.Cleanup(func() { cancel(); <-done; <-done })
}

func (e *testEnv) advance(d time.Duration) { e.now = e.now.Add(d) }

// do sends req through the router and returns the response with its body read.
func (e *testEnv) do(req *http.Request) (*http.Response, string) {
	e.t.Helper()
	resp, err := e.app.Test(req, -1)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// testPassword passes the password policy; every account newUser makes has it.
const testPassword = "Quiet-Harbor-Lantern-77"

// newUser creates an account with the role, its email unique in env (analyst1@example.com, ...).
func (e *testEnv) newUser(role auth.Role) auth.User {
	e.t.Helper()
	e.users++
	u, err := e.srv.Users.Create(context.Background(), "test", auth.NewUser{
		Email: fmt.Sprintf("%s%d@example.com", role, e.users), Name: fmt.Sprintf("Test %s %d", role, e.users),
		Role: role, Password: testPassword})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// totpCode is the code of secret at the env clock shifted by offset.
func (e *testEnv) totpCode(secret string, offset time.Duration) string {
	e.t.Helper()
	code, err := totp.GenerateCode(secret, e.now.Add(offset))
	if err != nil {
		e.t.Fatal(err)
	}
	return code
}

// enrolledUser creates an account with TOTP enrolled (through the store, with the code
// of the previous 30-second step, so the current step is still free for signing in)
// and returns it with its secret and recovery codes.
func (e *testEnv) enrolledUser(role auth.Role) (auth.User, string, []string) {
	e.t.Helper()
	u := e.newUser(role)
	key, err := auth.NewTOTPKey("kycdesk", u.Email)
	if err != nil {
		e.t.Fatal(err)
	}
	codes, err := e.srv.Users.EnrollTOTP(context.Background(), u.ID, key.Secret(), e.totpCode(key.Secret(), -30*time.Second), "192.0.2.1")
	if err != nil {
		e.t.Fatal(err)
	}
	u.MFAEnabled = true
	return u, key.Secret(), codes
}

// signIn creates a user with the role and TOTP enrolled, signs them in through the real
// /login and /mfa forms, and returns a client carrying the session cookie and CSRF token.
func (e *testEnv) signIn(role auth.Role) *testClient {
	e.t.Helper()
	u, secret, codes := e.enrolledUser(role)
	c := e.client()
	c.user, c.secret, c.recoveryCodes = u, secret, codes
	c.signIn(u.Email, testPassword, e.totpCode(secret, 0))
	return c
}

// testClient is a browser in miniature: a cookie jar and the page's CSRF token, kept
// up to date from every response. Redirects are not followed: check Location.
type testClient struct {
	env           *testEnv
	cookies       map[string]string
	csrf          string    // the _csrf of the last page that had a form
	user          auth.User // set by signIn
	secret        string    // the user's TOTP secret, set by signIn
	recoveryCodes []string  // set by signIn
}

// client returns a client with no session yet.
func (e *testEnv) client() *testClient { return &testClient{env: e, cookies: map[string]string{}} }

// signIn fetches the sign-in form, posts the password, then the code; fails the test
// unless it lands signed in.
func (c *testClient) signIn(email, password, code string) {
	c.env.t.Helper()
	c.get("/login")
	resp, body := c.postForm("/login", url.Values{"email": {email}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/mfa" {
		c.env.t.Fatalf("POST /login: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	c.get("/mfa") // the new session's form and token
	resp, body = c.postForm("/mfa", url.Values{"code": {code}})
	if resp.StatusCode != http.StatusSeeOther {
		c.env.t.Fatalf("POST /mfa: %d %s", resp.StatusCode, body)
	}
	c.get(resp.Header.Get("Location")) // picks up the new session's CSRF token
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// do sends req with the jar's cookies and takes cookies and the CSRF token from the answer.
func (c *testClient) do(req *http.Request) (*http.Response, string) {
	c.env.t.Helper()
	for name, value := range c.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	resp, body := c.env.do(req)
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	if m := csrfField.FindStringSubmatch(body); m != nil {
		c.csrf = html.UnescapeString(m[1])
	}
	return resp, body
}

// get fetches path.
func (c *testClient) get(path string) (*http.Response, string) {
	c.env.t.Helper()
	return c.do(httptestRequest("GET", path, nil))
}

// postForm posts form to path, adding the CSRF token unless the form has a _csrf already.
func (c *testClient) postForm(path string, form url.Values) (*http.Response, string) {
	c.env.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, set := form["_csrf"]; !set {
		form.Set("_csrf", c.csrf)
	}
	req := httptestRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// sessionCookie is the client's session id, "" when it has none.
func (c *testClient) sessionCookie() string { return c.cookies[auth.SessionCookie] }

func httptestRequest(method, target string, body io.Reader) *http.Request {
	req, err := http.NewRequest(method, "http://kycdesk.test"+target, body)
	if err != nil {
		panic(err)
	}
	req.RemoteAddr = "192.0.2.10:1234"
	return req
}
