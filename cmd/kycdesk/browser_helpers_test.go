package main

// The harness of the browser journeys in browser_test.go: one kycdesk binary built per
// `go test` run, a real `kycdesk serve` child per test, and headless Chromium (chromedp).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

// stepTimeout bounds one browser step (a navigation, a wait for an element). Steps wait
// for events, never for time; the bound only turns a hang into a clear failure.
const stepTimeout = 20 * time.Second

// shutdownLimit is the graceful-shutdown contract of `kycdesk serve`: exit 0 within
// 10 s of SIGTERM.
const shutdownLimit = 10 * time.Second

// built is the kycdesk binary the journeys drive, built once per test run.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// TestMain ends the shared Chromium and removes the binary built for the browser
// journeys, if either was started.
func TestMain(m *testing.M) {
	code := m.Run()
	stopSharedChromium()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// kycdeskBinary builds ./cmd/kycdesk on first use: the journeys run the real binary, as
// an operator would, so flags, signals and stdout are part of what they check.
func kycdeskBinary(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		start := time.Now()
		if built.dir, built.err = os.MkdirTemp("", "kycdesk-bin-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "kycdesk")
		// go test puts its own toolchain first on PATH.
		if out, err := exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		t.Logf("built kycdesk in %v", time.Since(start).Round(time.Millisecond))
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// chromiumPath finds Chromium. Without it the journeys skip on a developer machine, and
// fail in CI (CI set), where a missing browser must not pass as green.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser journey: skipped with -short")
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "" {
		t.Skip("browser journey: Chromium is not installed (apt-get install chromium); with CI set this fails")
	}
	t.Fatal("CI is set and Chromium is not installed: the browser journeys cannot run (apt-get install chromium)")
	return ""
}

// kycdeskServer is a `kycdesk serve` child process on a loopback port and its own data dir.
type kycdeskServer struct {
	URL  string
	Data string

	bin     string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	log     lockedBuffer // stderr: the JSON log
}

// startServer runs `kycdesk serve --addr 127.0.0.1:0` and waits for its "listening" line.
// Cleanup sends SIGTERM and checks the shutdown contract.
func startServer(t testing.TB) *kycdeskServer {
	t.Helper()
	s := &kycdeskServer{bin: kycdeskBinary(t), Data: t.TempDir(), exited: make(chan struct{})}
	listening := &listenWatcher{found: make(chan string, 1)}
	s.cmd = exec.Command(s.bin, "serve", "--addr", "127.0.0.1:0", "--data", s.Data, "--insecure-cookies")
	s.cmd.Stdout, s.cmd.Stderr = listening, &s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start kycdesk serve: %v", err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() { s.stop(t) })
	select {
	case s.URL = <-listening.found:
	case <-s.exited:
		t.Fatalf("kycdesk serve exited before listening: %v\n%s", s.waitErr, s.log.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("kycdesk serve printed no \"kycdesk listening on\" line in 30s\n%s", s.log.String())
	}
	return s
}

// stop sends SIGTERM and requires exit status 0 within shutdownLimit.
func (s *kycdeskServer) stop(t testing.TB) {
	select {
	case <-s.exited:
		t.Errorf("kycdesk serve exited before the test ended: %v", s.waitErr)
		return
	default:
	}
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("SIGTERM kycdesk serve: %v", err)
	}
	select {
	case <-s.exited:
		took := time.Since(start).Round(time.Millisecond)
		if s.waitErr != nil {
			t.Errorf("kycdesk serve after SIGTERM: %v (want exit status 0)", s.waitErr)
		} else {
			t.Logf("kycdesk serve exited 0, %v after SIGTERM", took)
		}
	case <-time.After(shutdownLimit):
		t.Errorf("kycdesk serve still running %v after SIGTERM (contract: exit 0 within 10 s)", shutdownLimit)
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	if t.Failed() {
		t.Logf("kycdesk serve log, last lines:\n%s", lastLines(s.log.String(), 30))
	}
}

// cli runs a kycdesk subcommand on the server's data dir (as a second process, the way
// an operator would beside a running server) and returns its standard output.
func (s *kycdeskServer) cli(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(s.bin, append(args, "--data", s.Data)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("kycdesk %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// testUser is an account created with `kycdesk user create`, and the TOTP state the
// test keeps for it once it has enrolled.
type testUser struct {
	Email, Role, Name, Password string

	secret   string // read off #totp-secret at enrolment
	lastStep int64  // the newest TOTP step a code was sent for
}

// createUser runs `kycdesk user create` with the password on standard input.
func (s *kycdeskServer) createUser(t *testing.T, role, email, name string) *testUser {
	t.Helper()
	u := &testUser{Email: email, Role: role, Name: name, Password: "Quiet-Harbor-Lantern-7294-Velvet"}
	args := []string{"user", "create", "--email", email, "--role", role}
	if name != "" {
		args = append(args, "--name", name)
	}
	if out := s.cli(t, u.Password+"\n", args...); !strings.HasPrefix(out, "ok: created") {
		t.Fatalf("user create %s: unexpected output %q", email, out)
	}
	return u
}

const totpPeriod = 30 // seconds: what every authenticator app and kycdesk use

// nextCode is a TOTP code the server has not seen yet. A step once used (or any older
// one) is refused, so a second code in the same 30 s is made for the next step, which
// the server accepts (it allows one step of skew either side). Only if even that was
// used does this wait for the clock: never in these journeys, which use two codes at most.
func (u *testUser) nextCode(t *testing.T) string {
	t.Helper()
	if u.secret == "" {
		t.Fatalf("%s has no TOTP secret yet", u.Email)
	}
	now := time.Now()
	at := now
	if now.Unix()/totpPeriod <= u.lastStep {
		at = time.Unix((u.lastStep+1)*totpPeriod, 0)
	}
	if ahead := at.Unix()/totpPeriod - now.Unix()/totpPeriod; ahead > 1 {
		wait := time.Until(time.Unix((at.Unix()/totpPeriod-1)*totpPeriod, 0))
		t.Logf("waiting %v for a fresh TOTP step", wait.Round(time.Millisecond))
		time.Sleep(wait)
	}
	code, err := totp.GenerateCode(u.secret, at)
	if err != nil {
		t.Fatalf("TOTP code from the secret on /mfa/setup: %v", err)
	}
	u.lastStep = at.Unix() / totpPeriod
	return code
}

// screenshots is a test's folder of full-page PNGs, kept after the test so a failure
// can be looked at ("screenshots in DIR" is logged at the end).
type screenshots struct {
	mu  sync.Mutex
	dir string
	n   int
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func newScreenshots(t *testing.T) *screenshots {
	t.Helper()
	dir, err := os.MkdirTemp("", "kycdesk-browser-"+unsafeName.ReplaceAllString(t.Name(), "_")+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { t.Logf("screenshots in %s", dir) })
	return &screenshots{dir: dir}
}

func (s *screenshots) save(t *testing.T, name string, png []byte) {
	s.mu.Lock()
	s.n++
	file := filepath.Join(s.dir, fmt.Sprintf("%02d-%s.png", s.n, unsafeName.ReplaceAllString(name, "_")))
	s.mu.Unlock()
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Errorf("save screenshot: %v", err)
	}
}

// browser is one person's browser: a tab in its own browser context (its own cookies),
// so two browsers are two people.
type browser struct {
	t     *testing.T
	ctx   context.Context // the tab's chromedp context; the tab is already open
	base  string
	who   string // names the screenshots: "analyst", "admin"
	shots *screenshots
}

// chromium is the Chromium process the journeys share, started on first use and ended
// by TestMain: starting one costs seconds, a browser context in it milliseconds.
var chromium struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	err    error
}

// allocatorOptions start a headless Chromium with a fresh user-data-dir that chromedp
// removes when the process ends.
func allocatorOptions(exe string) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // as root (CI containers) Chromium refuses to start with its sandbox
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// Chromium's own background traffic goes to the internet, which this machine's
		// closed network refuses; it must not slow or break the page loads.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900),
	)
}

// startChromium starts a Chromium process and returns the context of its first tab.
// The first Run must not carry a step timeout, which would end the browser with it.
func startChromium(exe string) (context.Context, func(), error) {
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocatorOptions(exe)...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	stop := func() {
		cancel()
		cancelAlloc() // waits for the process to end
	}
	if err := chromedp.Do(ctx); err != nil {
		stop()
		return nil, nil, fmt.Errorf("start Chromium %s: %w", exe, err)
	}
	return ctx, stop, nil
}

func stopSharedChromium() {
	if chromium.cancel != nil {
		chromium.cancel()
	}
}

// newBrowser opens a tab for who in a new browser context of the shared Chromium.
func (s *kycdeskServer) newBrowser(t *testing.T, who string, shots *screenshots) *browser {
	t.Helper()
	exe := chromiumPath(t)
	chromium.once.Do(func() {
		chromium.ctx, chromium.cancel, chromium.err = startChromium(exe)
	})
	if chromium.err != nil {
		t.Fatal(chromium.err)
	}
	ctx, cancel := chromedp.NewContext(chromium.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel) // closes the tab and disposes of its browser context
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab for %s: %v", who, err)
	}
	return s.browserIn(t, ctx, who, shots)
}

// newSeparateBrowser starts a Chromium process of its own for who: another person on
// another machine, sharing nothing with the other browsers, not even the process.
func (s *kycdeskServer) newSeparateBrowser(t *testing.T, who string, shots *screenshots) *browser {
	t.Helper()
	ctx, stop, err := startChromium(chromiumPath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return s.browserIn(t, ctx, who, shots)
}

func (s *kycdeskServer) browserIn(t *testing.T, ctx context.Context, who string, shots *screenshots) *browser {
	b := &browser{t: t, ctx: ctx, base: s.URL, who: who, shots: shots}
	t.Cleanup(func() { // runs before the tab is closed
		if t.Failed() {
			b.shot("at-failure")
		}
	})
	return b
}

func (b *browser) fatalf(format string, args ...any) {
	b.t.Helper()
	b.t.Fatalf("[%s browser] "+format, append([]any{b.who}, args...)...)
}

func (b *browser) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, stepTimeout)
}

// shot saves a full-page PNG of what the browser shows now.
func (b *browser) shot(name string) {
	ctx, cancel := b.step()
	defer cancel()
	png, err := chromedp.Run(ctx, fullPagePNG)
	if err != nil {
		b.t.Logf("[%s browser] screenshot %s: %v", b.who, name, err)
		return
	}
	b.shots.save(b.t, b.who+"-"+name, png)
}

// fullPagePNG is chromedp.FullScreenshot(100) with optimizeForSpeed: at the default
// compression, encoding the PNG is most of a screenshot's cost on a busy 2-core machine.
func fullPagePNG(ctx context.Context, t *chromedp.Target) ([]byte, error) {
	yes := true
	res, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
		Format: page.CaptureScreenshotFormatPng, FromSurface: &yes, CaptureBeyondViewport: &yes, OptimizeForSpeed: &yes})
	return res.Data, err
}

// shotHere names the screenshot after the page the browser is on.
func (b *browser) shotHere() {
	name := strings.Trim(b.path(), "/")
	if i := strings.IndexByte(name, '?'); i >= 0 {
		name = name[:i]
	}
	if name == "" {
		name = "root"
	}
	b.shot(strings.ReplaceAll(name, "/", "-"))
}

// open loads path in the tab and returns the HTTP response of the document it ends on
// (after redirects).
func (b *browser) open(path string) *network.Response {
	b.t.Helper()
	resp := b.openQuiet(path)
	b.shotHere()
	return resp
}

// openQuiet is open without a screenshot, for polling.
func (b *browser) openQuiet(path string) *network.Response {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.fatalf("open %s: %v", path, err)
	}
	return resp
}

// clickThrough clicks the element, which loads a page (a link, a form's submit button),
// and returns the response of the document it ends on.
func (b *browser) clickThrough(sel string) *network.Response {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.fatalf("click %s (on %s): %v", sel, b.path(), err)
	}
	b.shotHere()
	return resp
}

// fill sets a form field's value.
func (b *browser) fill(sel, value string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(sel), value, chromedp.NodeVisible)); err != nil {
		b.fatalf("fill %s (on %s): %v", sel, b.path(), err)
	}
}

// text waits for the element to be visible and returns its text, trimmed.
func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		b.fatalf("text of %s (on %s): %v", sel, b.path(), err)
	}
	return strings.TrimSpace(s)
}

// path is the path and query of the page the tab shows.
func (b *browser) path() string {
	ctx, cancel := b.step()
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	u, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	return u.RequestURI()
}

// wantPath fails unless the tab shows path (ignoring the query).
func (b *browser) wantPath(path string) {
	b.t.Helper()
	got := b.path()
	if i := strings.IndexByte(got, '?'); i >= 0 {
		got = got[:i]
	}
	if got != path {
		b.fatalf("on %s, want %s", got, path)
	}
}

// count is how many elements match the CSS selector now.
func (b *browser) count(sel string) int {
	b.t.Helper()
	return evaluate[int](b, `document.querySelectorAll(`+jsString(sel)+`).length`)
}

// evaluate runs a JavaScript expression in the page and decodes its value.
func evaluate[T any](b *browser, js string, opts ...chromedp.EvaluateOption) T {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, opts...))
	if err != nil {
		b.fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// loadedImage is what the page knows about an <img> once it loaded or failed.
type loadedImage struct {
	Src    string `json:"src"`
	Width  int    `json:"width"` // naturalWidth: 0 when the image failed to load or decode
	Height int    `json:"height"`
}

// images loads every <img> matching sel (lazy ones too, by making them eager) and
// reports their natural sizes. It waits on each image's own load (decode), not on time.
func (b *browser) images(sel string) []loadedImage {
	b.t.Helper()
	js := `(async () => {
		const imgs = [...document.querySelectorAll(` + jsString(sel) + `)];
		for (const img of imgs) { img.loading = "eager"; }
		await Promise.all(imgs.map(img => img.decode().catch(() => null)));
		return imgs.map(img => ({src: img.currentSrc || img.src, width: img.naturalWidth, height: img.naturalHeight}));
	})()`
	return evaluate[[]loadedImage](b, js, chromedp.EvalAwaitPromise)
}

// wantImagesLoaded fails unless at least min images match sel and every one of them
// loaded with a natural width.
func (b *browser) wantImagesLoaded(sel string, min int) []loadedImage {
	b.t.Helper()
	imgs := b.images(sel)
	if len(imgs) < min {
		b.fatalf("on %s: %d images match %s, want at least %d", b.path(), len(imgs), sel, min)
	}
	for _, img := range imgs {
		if img.Width <= 0 {
			b.fatalf("on %s: image %s did not load (naturalWidth 0)", b.path(), img.Src)
		}
	}
	return imgs
}

func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// header reads a response header case-insensitively.
func header(resp *network.Response, name string) string {
	for k, v := range resp.Headers {
		if strings.EqualFold(k, name) {
			return fmt.Sprint(v)
		}
	}
	return ""
}

// lockedBuffer is a bytes.Buffer written by a child process and read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// listenWatcher is the server's stdout: it hands over the base URL of the first
// "kycdesk listening on URL" line.
type listenWatcher struct {
	mu    sync.Mutex
	line  []byte
	sent  bool
	found chan string
}

func (w *listenWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.line = append(w.line, p...)
	for {
		i := bytes.IndexByte(w.line, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(w.line[:i])
		w.line = w.line[i+1:]
		if u, ok := strings.CutPrefix(line, "kycdesk listening on "); ok && !w.sent {
			w.sent = true
			w.found <- strings.TrimSpace(u)
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// signedRequest is a POST of body to target, signed as Standard Webhooks with key at now.
func signedRequest(target string, key []byte, msgID string, now time.Time, body []byte) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", msgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", webhookauth.Sign(key, msgID, now, body))
	return req
}

// postSignedUntilAccepted sends body signed with key (one message id, signed afresh on
// each try) until the server answers 2xx: it retries for 5 s while the server has not
// yet loaded a new integration (it reloads them on a timer), then fails the test.
func postSignedUntilAccepted(t testing.TB, target string, key []byte, msgID string, body []byte, what string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := client.Do(signedRequest(target, key, msgID, time.Now(), body))
		if err != nil {
			t.Fatalf("POST %s: %v", what, err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("POST %s: status %d 5s after integration add, want 2xx", what, resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// acceptNextDialog accepts the next JavaScript dialog of b's page (data-confirm's
// window.confirm) the way a person would, and hands what it asked to the channel.
func (b *browser) acceptNextDialog() <-chan string {
	ctx, stop := context.WithCancel(b.ctx)
	b.t.Cleanup(stop)
	asked := make(chan string, 1)
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			asked <- ev.Message
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			return
		}
	}()
	return asked
}

// refusedSignIn fills the sign-in form with email and password, expects to stay on
// /login signed out, and returns the answer's status and the message the form shows.
func (b *browser) refusedSignIn(email, password string) (int64, string) {
	b.t.Helper()
	b.open("/login")
	b.fill("#email", email)
	b.fill("#password", password)
	resp := b.clickThrough("#sign-in")
	b.wantPath("/login")
	if n := b.count("#signed-in-as"); n != 0 {
		b.t.Fatalf("signed in as %s, want the sign-in refused", email)
	}
	return resp.Status, b.text("#error-message")
}

// skipWithoutCaseRoutes skips a journey that needs the queue and case pages when this
// build does not serve them (404).
func skipWithoutCaseRoutes(t *testing.T, srv *kycdeskServer) {
	t.Helper()
	for _, path := range []string{"/queues", "/cases/01JBROWSERPROBE0000000000"} {
		if status := statusNoRedirect(t, srv.URL+path); status == http.StatusNotFound {
			t.Skipf("%s is not a route of this build yet (404): the queue/case journey needs it", path)
		}
	}
}
