package main

// Journey: the case page's review aids (issue 11) in Chromium: the queue by keyboard, the
// images in the viewer (zoom, rotate, watermark), the keyboard help, the duplicates, the
// consistency checks and revealing the masked ID number.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// key presses keys in the page (to the focused element, as a person typing).
func (b *browser) key(keys string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.KeyEvent(keys)); err != nil {
		b.fatalf("key %q: %v", keys, err)
	}
}

// waitFor waits until the JavaScript expression is truthy (on animation frames, not on time).
func (b *browser) waitFor(what, js string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(stepTimeout))); err != nil {
		b.shotHere()
		b.fatalf("waiting for %s (%s): %v", what, js, err)
	}
}

func TestBrowserCasePageReviewAids(t *testing.T) {
	t.Parallel()
	srv, shots := journey(t)
	skipWithoutCaseRoutes(t, srv)
	ana := srv.createUser(t, "analyst", "ana.casepage@example.com", "")

	// Two verifications of the same person (the same ID number) through one integration.
	out := srv.cli(t, "", "integration", "add", "--provider", "generic", "--auth", "hmac", "--name", "casepage-test")
	webhookURL, secret := field(out, "webhook_url"), field(out, "secret")
	u, err := url.Parse(webhookURL)
	if webhookURL == "" || secret == "" || err != nil {
		t.Fatalf("integration add printed no webhook_url/secret (%v):\n%s", err, out)
	}
	refA, refB := "vrf-cp-a-"+randomHex(3), "vrf-cp-b-"+randomHex(3)
	postGenericEvent(t, srv.URL+u.Path, secret, refA)
	postGenericEvent(t, srv.URL+u.Path, secret, refB)

	b := srv.newBrowser(t, "analyst", shots)
	b.signIn(ana, "/queues")
	deadline := time.Now().Add(30 * time.Second)
	for n := 0; n < 2; n = b.count("#queue-cases tbody tr") {
		if time.Now().After(deadline) {
			b.shotHere()
			t.Fatalf("the queue lists %d cases 30s after 2 verifications, want 2", n)
		}
		time.Sleep(250 * time.Millisecond) // a person pressing reload; the page has no push
		b.openQuiet("/queues?queue=unassigned")
	}

	// The queue by keyboard: typing in the search box moves nothing; j, j, k highlight rows;
	// Enter opens the highlighted one.
	current := func() string {
		return evaluate[string](b, `(document.querySelector("#queue-cases tr.kb-current") || {dataset: {}}).dataset.caseId || ""`)
	}
	ids := evaluate[[]string](b, `[...document.querySelectorAll("#queue-cases tbody tr")].map(tr => tr.dataset.caseId)`)
	ctx, cancel := b.step()
	if err := chromedp.Do(ctx, chromedp.Focus(chromedp.CSS("#q")), chromedp.KeyEvent("j")); err != nil {
		b.fatalf("type in the search box: %v", err)
	}
	cancel()
	if got := current(); got != "" {
		t.Errorf("typing j in the search box highlighted row %s", got)
	}
	if v := evaluate[string](b, `document.querySelector("#q").value`); v != "j" {
		t.Errorf("search box holds %q after typing j", v)
	}
	evaluate[bool](b, `(document.activeElement.blur(), true)`)
	b.key("j")
	if got := current(); got != ids[0] {
		t.Errorf("j: highlighted %q, want the first row %q", got, ids[0])
	}
	b.key("j")
	if got := current(); got != ids[1] {
		t.Errorf("j j: highlighted %q, want the second row %q", got, ids[1])
	}
	b.key("k")
	if got := current(); got != ids[0] {
		t.Errorf("j j k: highlighted %q, want the first row %q", got, ids[0])
	}
	b.shot("queue-highlighted")
	ctx, cancel = b.step()
	resp, err := chromedp.RunResponse(ctx, chromedp.KeyEvent(kb.Enter))
	cancel()
	if err != nil || resp.Status != http.StatusOK {
		b.fatalf("Enter on the highlighted row: %v %v", resp, err)
	}
	b.wantPath("/cases/" + ids[0])
	caseRef := b.text("#case-reference")
	otherRef := map[string]string{refA: refB, refB: refA}[caseRef]
	if otherRef == "" {
		t.Fatalf("opened case %q, want %s or %s", caseRef, refA, refB)
	}

	// Anything the page's scripts do that the CSP refuses (an inline style, an inline script)
	// is recorded here and checked at the end.
	evaluate[bool](b, `(window.cspViolations = [], document.addEventListener("securitypolicyviolation",
		e => window.cspViolations.push(e.violatedDirective + " " + e.blockedURI)), true)`)

	// Every image loads; each carries the watermark with the viewer's email.
	b.wantImagesLoaded("#documents figure.doc img", 2)
	marks := evaluate[[]string](b, `[...document.querySelectorAll("#documents figure.doc .watermark")].map(w => w.textContent)`)
	if len(marks) < 2 {
		t.Errorf("%d watermarks over %d+ images", len(marks), 2)
	}
	for _, m := range marks {
		if !strings.HasPrefix(m, ana.Email+" · ") || !strings.HasSuffix(m, " UTC") {
			t.Errorf("watermark %q, want the viewer's email and the time", m)
		}
	}
	visible := evaluate[bool](b, `(() => { const w = document.querySelector("#documents .watermark"); const r = w.getBoundingClientRect();
		const img = w.parentElement.querySelector("img").getBoundingClientRect();
		return getComputedStyle(w).display !== "none" && r.width > 0 && r.left < img.right && r.right > img.left && r.top < img.bottom && r.bottom > img.top; })()`)
	if !visible {
		t.Error("the watermark is not laid over the image")
	}

	// Masked by default; the duplicate is linked; the generic applicant's digits are checked.
	if got := b.text("#applicant"); strings.Contains(got, "079195001234") || !strings.Contains(got, "•••••••••234") {
		t.Errorf("applicant panel before reveal: %q", got)
	}
	if got := b.text("#duplicate-cases a.ref"); got != otherRef {
		t.Errorf("duplicates list %q, want %q", got, otherRef)
	}
	if got := evaluate[string](b, `document.querySelector('#consistency-checks tr[data-key="cccd_birth_year"]').dataset.status`); got != "pass" {
		t.Errorf("birth-year check %q, want pass", got)
	}
	b.shot("case-masked")

	// ? shows the help as an overlay; Esc hides it.
	b.key("?")
	b.waitFor("the help overlay", `document.querySelector("#shortcuts.open") && getComputedStyle(document.querySelector("#shortcuts")).position === "fixed"`)
	b.shot("case-help")
	b.key(kb.Escape)
	b.waitFor("the help to close", `getComputedStyle(document.querySelector("#shortcuts")).display === "none"`)

	// ] picks the first image, v opens it in the viewer: a copy of the loaded image (no second
	// fetch, which would be another audited view), with the watermark.
	b.key("]")
	if n := b.count("figure.doc.kb-current"); n != 1 {
		t.Errorf("] marks %d images current, want 1", n)
	}
	viewsBefore := strings.Count(srv.log.String(), `"msg":"document viewed"`)
	b.key("v")
	b.waitFor("the viewer", `document.body.classList.contains("viewer-open") && (() => { const i = document.querySelector(".viewer-canvas img"); return i && i.complete && i.naturalWidth > 0; })()`)
	if src := evaluate[string](b, `document.querySelector(".viewer-canvas img").src.slice(0, 22)`); src != "data:image/png;base64," {
		t.Errorf("the viewer shows %q, want the page's copy (data:image/png)", src)
	}
	if got := evaluate[string](b, `(document.querySelector(".viewer-watermark") || {}).textContent || ""`); !strings.HasPrefix(got, ana.Email+" · ") {
		t.Errorf("viewer watermark %q", got)
	}
	type view struct {
		Transform string  `json:"transform"`
		Width     float64 `json:"width"`
	}
	state := func() view {
		return evaluate[view](b, `(() => { const i = document.querySelector(".viewer-canvas img"); return {transform: i.style.transform, width: parseFloat(i.style.width)}; })()`)
	}
	before := state()
	b.key("r")
	b.waitFor("rotation", `document.querySelector(".viewer-canvas img").style.transform.includes("rotate(90deg)")`)
	rotated := state()
	if rotated.Transform == before.Transform {
		t.Errorf("transform %q unchanged by r", before.Transform)
	}
	b.key("+")
	b.key("+")
	// viewerjs zooms by the image's own width (the rotation is a transform on top of it).
	if after := state(); after.Width <= rotated.Width || !strings.Contains(after.Transform, "rotate(90deg)") {
		t.Errorf("width %.1f → %.1f (transform %q) after + +, want larger and still rotated", rotated.Width, after.Width, after.Transform)
	}
	b.shot("case-viewer-zoomed-rotated")
	// Full screen keeps the watermark over the image.
	b.key("f")
	b.waitFor("full screen", `document.fullscreenElement !== null`)
	if got := evaluate[bool](b, `(() => { const w = document.querySelector(".viewer-watermark"); const r = w.getBoundingClientRect();
		return document.fullscreenElement.contains(w) && getComputedStyle(w).display !== "none" && r.width > 0 && r.height > 0; })()`); !got {
		t.Error("the watermark is not shown in full screen")
	}
	b.key("f")
	b.waitFor("full screen to end", `document.fullscreenElement === null`)
	b.key("0") // fit
	b.waitFor("fit", `!document.querySelector(".viewer-canvas img").style.transform.includes("rotate(90deg)")`)
	b.key(kb.ArrowRight) // the next image, in the viewer
	b.waitFor("the next image", `(() => { const i = document.querySelector(".viewer-canvas img"); return i && i.alt.startsWith("Selfie"); })()`)
	b.shot("case-viewer-selfie")
	b.key(kb.Escape)
	b.waitFor("the viewer to close", `!document.body.classList.contains("viewer-open")`)
	if views := strings.Count(srv.log.String(), `"msg":"document viewed"`); views != viewsBefore {
		t.Errorf("the viewer fetched documents again: %d audited views before it opened, %d after", viewsBefore, views)
	}

	// d / e / n go to the action bar's forms (#decision-form, #escalate-form, #note-form, built
	// with the review actions); where the user has no such form, they say so.
	b.key("d")
	b.waitFor("a note about the missing form", `((document.querySelector(".kb-toast:not([hidden])") || {}).textContent || "").startsWith("No decision form")`)
	evaluate[bool](b, `(document.querySelector("#timeline").insertAdjacentHTML("beforeend",
		'<form id="escalate-form"><select name="x"><option>a</option></select><textarea name="comment"></textarea></form>' +
		'<form id="note-form"><textarea name="body"></textarea></form>'), true)`)
	for _, tc := range []struct{ key, form string }{{"e", "escalate-form"}, {"n", "note-form"}} {
		evaluate[bool](b, `(document.activeElement.blur(), true)`)
		b.key(tc.key)
		if got := evaluate[string](b, `document.activeElement.tagName + "@" + (document.activeElement.form || {}).id`); got != "TEXTAREA@"+tc.form {
			t.Errorf("%s focused %s, want the textarea of #%s", tc.key, got, tc.form)
		}
	}
	// Typing in the note is typing, not shortcuts: "?" and "j" go into the text.
	b.key("j?]")
	if got := evaluate[string](b, `document.querySelector("#note-form textarea").value`); got != "j?]" {
		t.Errorf("note text %q after typing j?], want it typed", got)
	}
	if evaluate[bool](b, `document.querySelector("#shortcuts").classList.contains("open")`) {
		t.Error("? typed in the note opened the help")
	}
	evaluate[bool](b, `(document.activeElement.blur(), true)`)

	if v := evaluate[[]string](b, `window.cspViolations`); len(v) != 0 {
		t.Errorf("the CSP refused what the page's scripts did: %q", v)
	}

	// Reveal: the page itself answers the POST, with the number shown.
	resp = b.clickThrough("#reveal-pii")
	if resp.Status != http.StatusOK {
		b.fatalf("reveal: status %d", resp.Status)
	}
	b.wantPath("/cases/" + ids[0] + "/reveal")
	if got := b.text("#applicant"); !strings.Contains(got, "079195001234") || !strings.Contains(got, "1995-09-02") {
		t.Errorf("applicant panel after reveal: %q", got)
	}
	if cc := header(resp, "Cache-Control"); cc != "no-store" {
		t.Errorf("revealed page Cache-Control %q", cc)
	}
	b.text("#pii-revealed")
}
