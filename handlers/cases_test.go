package handlers

import (
	"bytes"
	"context"
	"database/sql"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/provider/fptai"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

// Seeding for the review workspace tests: cases are opened through the case store's Apply,
// from hand-built results or the provider adapters' mapping of /work/shared fixtures, as the
// ingest worker would; review states that later actions will set are set with UPDATE.

// caseSource returns the integration "acme-<provider>", creating it on first use.
func (e *testEnv) caseSource(provider string) cases.Source {
	e.t.Helper()
	ctx := context.Background()
	st := integration.NewStore(e.db, e.sealer)
	in, err := st.FindByName(ctx, "acme-"+provider)
	if err != nil {
		in, _, err = st.Create(ctx, "test", integration.Spec{Name: "acme-" + provider, Provider: provider,
			AuthMode: integration.AuthToken})
		if err != nil {
			e.t.Fatal(err)
		}
		if err := e.srv.Integrations.Refresh(ctx); err != nil {
			e.t.Fatal(err)
		}
	}
	return cases.Source{IntegrationID: in.ID, IntegrationName: in.Name, Provider: in.Provider, Queue: in.Queue}
}

// applyResult opens or updates a case from r and returns the case id.
func (e *testEnv) applyResult(src cases.Source, r cases.Result) string {
	e.t.Helper()
	out, err := e.srv.caseStore().Apply(context.Background(), src, 0, r)
	if err != nil {
		e.t.Fatalf("Apply %s: %v", r.Reference, err)
	}
	return out.CaseID
}

// applyMany opens one case per result in a single transaction (fast for hundreds).
func (e *testEnv) applyMany(src cases.Source, rs []cases.Result) []string {
	e.t.Helper()
	ctx, store := context.Background(), e.srv.caseStore()
	ids := make([]string, len(rs))
	err := e.db.Tx(ctx, func(tx *sql.Tx) error {
		for i, r := range rs {
			p, err := store.Prepare(cases.Input{Source: src, Result: r})
			if err != nil {
				return err
			}
			out, err := store.ApplyPrepared(ctx, tx, p)
			if err != nil {
				return err
			}
			ids[i] = out.CaseID
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return ids
}

// setCase puts a case into a review state directly (status, assignee, decision).
func (e *testEnv) setCase(caseID, status string, assignee int64) {
	e.t.Helper()
	var a, decision, decidedAt any
	if assignee != 0 {
		a = assignee
	}
	if cases.Decided(status) {
		decision = map[string]string{cases.StatusApproved: cases.DecisionApprove, cases.StatusRejected: cases.DecisionReject}[status]
		decidedAt = db.Millis(e.now)
	}
	if _, err := e.db.Write.Exec(`UPDATE cases SET status = ?, assignee_id = ?, decision = ?, decided_at = ?,
		reason_code = CASE WHEN ? IS NULL THEN NULL ELSE 'test_reason' END WHERE id = ?`,
		status, a, decision, decidedAt, decision, caseID); err != nil {
		e.t.Fatal(err)
	}
}

func (e *testEnv) exec(q string, args ...any) {
	e.t.Helper()
	if _, err := e.db.Write.Exec(q, args...); err != nil {
		e.t.Fatal(err)
	}
}

// testImage is a real encoded image (PNG or JPEG) of w×h in one colour.
func testImage(t *testing.T, format string, w, h int, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&b, img)
	} else {
		err = jpeg.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func ptr(v float64) *float64 { return &v }

// genericResult is the design's generic sample: a high-risk review with a PEP hit, two
// documents and a selfie, Vietnamese names.
func genericResult(t *testing.T, ref string, at time.Time) cases.Result {
	return cases.Result{
		Reference: ref, Round: ref, OccurredAt: at, Result: cases.ResultReview, ProviderStatus: "review",
		RiskLevel: cases.RiskHigh, RiskScore: ptr(71),
		RiskFactors: []cases.RiskFactor{{Factor: "pep_match", Value: "POTENTIAL_MATCH", Score: ptr(30), Description: "Potential PEP match"}},
		Issues:      []cases.Issue{{Category: "AML", Issue: "PEP", Severity: "HIGH"}},
		Applicant: cases.Applicant{ExternalID: "cust-42", FullName: "Nguyễn Thu Hương", GivenName: "Thu Hương",
			FamilyName: "Nguyễn", DateOfBirth: "1995-09-02", Nationality: "VNM", IDNumber: "079195001234",
			Address: "123 Lê Lợi, Quận 1, TP. Hồ Chí Minh"},
		Checks: []cases.Check{
			{Kind: cases.KindDocument, Result: cases.CheckPass, Score: ptr(0.97)},
			{Kind: cases.KindLiveness, Result: cases.CheckPass, Score: ptr(0.98)},
			{Kind: cases.KindFaceMatch, Result: cases.CheckPass, Score: ptr(0.91)},
			{Kind: cases.KindPEP, Result: cases.CheckHit, Details: []byte(`{"matched_name":"NGUYEN THU HUONG","level":"tier 2"}`)},
			{Kind: cases.KindDatabase, Result: cases.CheckError, Code: "E503", Message: "registry unavailable"},
		},
		Documents: []cases.DocumentRef{
			{ProviderID: "front", Kind: cases.DocIDFront, Data: testImage(t, "jpeg", 64, 40, color.RGBA{200, 180, 150, 255})},
			{ProviderID: "back", Kind: cases.DocIDBack, Data: testImage(t, "png", 64, 40, color.RGBA{150, 180, 200, 255})},
			{ProviderID: "selfie", Kind: cases.DocSelfie, Data: testImage(t, "png", 40, 50, color.RGBA{90, 90, 90, 255})},
		},
	}
}

// fptaiResult maps an FPT.AI fixture through the adapter, with images standing in for the
// ones the worker would have fetched from the fixture's URLs.
func fptaiResult(t *testing.T, fixture string, at time.Time) cases.Result {
	t.Helper()
	cb, err := fptai.Parse(testkit.Fixture(t, "fptai/"+fixture), "")
	if err != nil {
		t.Fatal(err)
	}
	r := cb.Result(fptai.Options{ReceivedAt: at})
	for i := range r.Documents {
		r.Documents[i].Data = testImage(t, "jpeg", 48, 30, color.RGBA{uint8(40 * i), 120, 160, 255})
		r.Documents[i].URL = ""
	}
	return r
}

var (
	imgSrc   = regexp.MustCompile(`<img src="/cases/([0-9A-Za-z]+)/documents/([0-9A-Za-z]+)"`)
	caseRows = regexp.MustCompile(`data-case-id="([^"]+)"`)
)

func TestCasePageShowsTheCase(t *testing.T) {
	env := newTestEnv(t)
	analyst := env.signIn(auth.Analyst)
	caseID := env.applyResult(env.caseSource(integration.Generic), genericResult(t, "vrf-2026-000187", env.now))
	env.setCase(caseID, cases.StatusInReview, analyst.user.ID)
	env.exec(`UPDATE cases SET sla_due = ? WHERE id = ?`, env.now.Add(-time.Hour).UnixMilli(), caseID)

	resp, body := analyst.get("/cases/" + caseID)
	if resp.StatusCode != 200 {
		t.Fatalf("GET case: %d", resp.StatusCode)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", resp.Header.Get("Cache-Control"))
	}
	for _, want := range []string{
		`<meta charset="utf-8">`,
		`id="case-reference">vrf-2026-000187<`,
		`id="applicant-name">Nguyễn Thu Hương<`, // exactly as the provider spelt it
		"123 Lê Lợi, Quận 1, TP. Hồ Chí Minh",
		"•••••••••234", "cust-42", // ID number and date of birth masked until revealed (case_review_aids_test.go)
		`class="badge status in_review"`, "overdue by 1 h", analyst.user.Email,
		"four-eyes", "acme-generic",
		// checks: score as %, details, error code and message
		"97%", "91%", "NGUYEN THU HUONG", "tier 2", "E503", "registry unavailable",
		// risk factors and issues
		"Potential PEP match", "POTENTIAL_MATCH",
		// timeline
		"Result received",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
	docs, err := env.srv.caseStore().Documents(context.Background(), caseID)
	if err != nil || len(docs) != 3 {
		t.Fatalf("documents: %v %v", docs, err)
	}
	linked := map[string]bool{}
	for _, m := range imgSrc.FindAllStringSubmatch(body, -1) {
		if m[1] != caseID {
			t.Errorf("image of another case linked: %s", m[0])
		}
		linked[m[2]] = true
	}
	for _, d := range docs {
		if !linked[d.ID] {
			t.Errorf("document %s (%s) not shown", d.ID, d.Kind)
		}
	}
	// ID documents and the selfie side by side: the front comes before the back, the selfie after both.
	front, back, selfie := strings.Index(body, `data-kind="id_front"`), strings.Index(body, `data-kind="id_back"`), strings.Index(body, `data-kind="selfie"`)
	if front < 0 || back < front || selfie < back {
		t.Errorf("document order front %d back %d selfie %d", front, back, selfie)
	}
	if !strings.Contains(body, `<script src="/static/viewer.js" defer>`) {
		t.Error("viewer script not included")
	}
	if strings.Contains(body, " style=") || strings.Contains(body, "<script>") {
		t.Error("inline style or script: the CSP forbids them")
	}
}

func TestCasePageFromFPTAIFixtures(t *testing.T) {
	env := newTestEnv(t)
	auditor := env.signIn(auth.Auditor)
	src := env.caseSource(integration.FPTAI)
	okID := env.applyResult(src, fptaiResult(t, "callback_success.json", env.now))
	lowID := env.applyResult(src, fptaiResult(t, "callback_spoof_lowconf.json", env.now))
	errID := env.applyResult(src, fptaiResult(t, "callback_error.json", env.now))

	_, body := auditor.get("/cases/" + okID)
	for _, want := range []string{"NGUYỄN THỊ THU HƯƠNG", "123 LÊ LỢI, PHƯỜNG BẾN THÀNH, QUẬN 1, TP. HỒ CHÍ MINH",
		`data-group="front"`, `data-group="back"`, "FPT.AI", "acme-fptai"} {
		if !strings.Contains(body, want) {
			t.Errorf("success case lacks %q", want)
		}
	}
	if n := len(imgSrc.FindAllString(body, -1)); n != 3 {
		t.Errorf("%d images shown, want front, back and selfie", n)
	}

	resp, body := auditor.get("/cases/" + lowID)
	if resp.StatusCode != 200 {
		t.Fatalf("GET low-confidence case: %d", resp.StatusCode)
	}
	if strings.Contains(body, "N/A") {
		i := strings.Index(body, "N/A")
		t.Errorf("N/A printed: …%s…", body[max(0, i-200):i+20])
	}
	if !strings.Contains(body, `class="muted missing">missing<`) {
		t.Error("a missing value is not shown as missing")
	}
	if !strings.Contains(body, `<tr class="low`) {
		t.Error("low-confidence fields are not highlighted")
	}
	if !strings.Contains(body, "low confidence") {
		t.Error("the low-confidence flag is not shown")
	}

	_, body = auditor.get("/cases/" + errID)
	for _, want := range []string{"E102", "303"} {
		if !strings.Contains(body, "<code>"+want+"</code>") {
			t.Errorf("error case lacks provider code %s", want)
		}
	}
}

func TestCasePageAcrossRounds(t *testing.T) {
	env := newTestEnv(t)
	lead := env.signIn(auth.Lead)
	src := env.caseSource(integration.Generic)
	r := genericResult(t, "vrf-2026-000200", env.now)
	r.RiskLevel = "" // the provider gave none: derived
	caseID := env.applyResult(src, r)
	env.setCase(caseID, cases.StatusApproved, lead.user.ID)
	env.advance(10 * time.Minute) // within the session's idle timeout
	older := r
	older.OccurredAt = env.now.Add(-2 * time.Hour)
	env.applyResult(src, older) // a late older result: ignored, on the timeline
	r2 := genericResult(t, "vrf-2026-000200", env.now)
	r2.Round = "second-session"
	r2.RiskLevel = "" // still none: derived again
	r2.Documents[0].Data = testImage(t, "jpeg", 64, 40, color.RGBA{10, 20, 30, 255})
	env.applyResult(src, r2) // a new round reopens the decided case

	_, body := lead.get("/cases/" + caseID)
	for _, want := range []string{`id="case-round">2<`, `id="earlier-decisions"`, "Round 1:", "Approved", "test_reason",
		"Reopened", "Older result ignored", "Round 1 documents", "Earlier rounds' checks", "derived"} {
		if !strings.Contains(body, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
	// Newest event first.
	if strings.Index(body, ">Reopened<") > strings.Index(body, ">Result received<") {
		t.Error("timeline is not newest first")
	}
}

func TestCasePageNotFound(t *testing.T) {
	env := newTestEnv(t)
	analyst := env.signIn(auth.Analyst)
	for _, path := range []string{"/cases/01JD0000000000000000000000", "/cases/not-an-id", "/cases/%2e%2e", "/cases/" + strings.Repeat("A", 300)} {
		resp, body := analyst.get(path)
		if resp.StatusCode != 404 || !strings.Contains(body, `id="error-message"`) {
			t.Errorf("GET %s: %d, want the 404 page", path, resp.StatusCode)
		}
	}
}

func TestReviewWorkspaceAccess(t *testing.T) {
	env := newTestEnv(t)
	caseID := env.applyResult(env.caseSource(integration.Generic), genericResult(t, "vrf-access", env.now))
	docs, _ := env.srv.caseStore().Documents(context.Background(), caseID)
	paths := []string{"/queues", "/cases/" + caseID, "/cases/" + caseID + "/documents/" + docs[0].ID}
	tests := []struct {
		role auth.Role
		want int
	}{
		{auth.Analyst, 200}, {auth.Lead, 200}, {auth.Auditor, 200}, {auth.Admin, 403},
	}
	for _, tt := range tests {
		c := env.signIn(tt.role)
		for _, p := range paths {
			if resp, _ := c.get(p); resp.StatusCode != tt.want {
				t.Errorf("%s GET %s: %d, want %d", tt.role, p, resp.StatusCode, tt.want)
			}
		}
	}
	for _, p := range paths {
		resp, _ := env.client().get(p)
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/login" {
			t.Errorf("anonymous GET %s: %d → %s, want the sign-in page", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if landing(auth.Analyst) != "/queues" {
		t.Errorf("analyst lands on %s, want /queues", landing(auth.Analyst))
	}
}

func caseIDsOf(body string) []string {
	var out []string
	for _, m := range caseRows.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func refsOf(env *testEnv, ids []string) []string {
	var out []string
	for _, id := range ids {
		c, err := env.srv.caseStore().Get(context.Background(), id)
		if err != nil {
			env.t.Fatal(err)
		}
		out = append(out, c.Reference)
	}
	return out
}
