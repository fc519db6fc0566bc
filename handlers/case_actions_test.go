package handlers

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

// plainResult is a medium-risk review without hits: a case an analyst decides alone.
func plainResult(t *testing.T, ref string, e *testEnv) cases.Result {
	r := genericResult(t, ref, e.now)
	r.RiskLevel = cases.RiskMedium
	r.Checks = r.Checks[:3]
	return r
}

// reviewCase opens a case and puts it in review, held by holder (0: nobody, status new).
func (e *testEnv) reviewCase(ref string, holder int64, high bool) *cases.Case {
	e.t.Helper()
	r := plainResult(e.t, ref, e)
	if high {
		r = genericResult(e.t, ref, e.now)
	}
	id := e.applyResult(e.caseSource(integration.Generic), r)
	if holder != 0 {
		e.setCase(id, cases.StatusInReview, holder)
	}
	c, err := e.srv.caseStore().Get(e.t.Context(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *testEnv) caseNow(id string) *cases.Case {
	e.t.Helper()
	c, err := e.srv.caseStore().Get(e.t.Context(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

var errorMessage = regexp.MustCompile(`(?s)class="flash error" role="alert">([^<]*)<|id="error-message">([^<]*)<`)

// pageError is the error message a page shows (the action bar's or the error page's).
func pageError(body string) string {
	m := errorMessage.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1] + m[2])
}

// TestCaseActionAuthorization sends every case action route, as each role and as a visitor,
// against a case in review held by another analyst, through the real router: who may act
// succeeds, everyone else is refused with a reason and the case is unchanged.
func TestCaseActionAuthorization(t *testing.T) {
	env := newTestEnv(t)
	holder := env.newUser(auth.Analyst)
	third := env.newUser(auth.Lead)
	clients := map[string]*testClient{"anonymous": env.client()}
	clients["anonymous"].get("/login")
	for _, r := range auth.Roles {
		clients[string(r)] = env.signIn(r)
	}
	type route struct {
		name string
		path func(c *cases.Case, doc string) string
		form func(c *cases.Case) url.Values
	}
	v := func(c *cases.Case) string { return strconv.FormatInt(c.Version, 10) }
	routes := []route{
		{"claim", func(c *cases.Case, _ string) string { return "/cases/" + c.ID + "/claim" }, func(*cases.Case) url.Values { return nil }},
		{"release", func(c *cases.Case, _ string) string { return "/cases/" + c.ID + "/release" }, func(*cases.Case) url.Values { return nil }},
		{"assign", func(c *cases.Case, _ string) string { return "/cases/" + c.ID + "/assign" },
			func(*cases.Case) url.Values { return url.Values{"assignee": {third.Email}} }},
		{"notes", func(c *cases.Case, _ string) string { return "/cases/" + c.ID + "/notes" },
			func(*cases.Case) url.Values { return url.Values{"body": {"a note"}} }},
		{"decision", func(c *cases.Case, _ string) string { return "/cases/" + c.ID + "/decision" },
			func(c *cases.Case) url.Values {
				return url.Values{"decision": {"approve"}, "reason_code": {"verified"}, "version": {v(c)}}
			}},
		{"escalate", func(c *cases.Case, _ string) string { return "/cases/" + c.ID + "/escalate" },
			func(c *cases.Case) url.Values { return url.Values{"comment": {"look"}, "version": {v(c)}} }},
		{"second-approval", func(c *cases.Case, _ string) string { return "/cases/" + c.ID + "/second-approval" },
			func(c *cases.Case) url.Values { return url.Values{"decision": {"approve"}, "version": {v(c)}} }},
		{"document review", func(c *cases.Case, doc string) string { return "/cases/" + c.ID + "/documents/" + doc + "/review" },
			func(c *cases.Case) url.Values {
				return url.Values{"verdict": {"reject"}, "reason": {"blurred"}, "version": {v(c)}}
			}},
	}
	// want: the status each role gets on a plain case in review held by someone else.
	want := map[string]map[string]int{
		"claim":           {"analyst": 409, "lead": 409},
		"release":         {"analyst": 403, "lead": 303},
		"assign":          {"analyst": 403, "lead": 303},
		"notes":           {"analyst": 303, "lead": 303},
		"decision":        {"analyst": 403, "lead": 303},
		"escalate":        {"analyst": 403, "lead": 303},
		"second-approval": {"analyst": 403, "lead": 409},
		"document review": {"analyst": 403, "lead": 303},
	}
	n := 0
	for _, rt := range routes {
		for _, who := range []string{"analyst", "lead", "admin", "auditor", "anonymous"} {
			n++
			c := env.reviewCase(fmt.Sprintf("vrf-authz-%d", n), holder.ID, false)
			docs, _ := env.srv.caseStore().Documents(t.Context(), c.ID)
			cl := clients[who]
			cl.get("/queues") // a page with a form: the client's CSRF token
			resp, body := cl.postForm(rt.path(c, docs[0].ID), rt.form(c))
			expect, ok := want[rt.name][who]
			switch {
			case who == "anonymous":
				expect = 401
			case !ok:
				expect = 403
			}
			if resp.StatusCode != expect {
				t.Errorf("%s as %s: %d (%s), want %d", rt.name, who, resp.StatusCode, pageError(body), expect)
				continue
			}
			after := env.caseNow(c.ID)
			if expect != 303 {
				if msg := pageError(body); msg == "" && expect != 401 {
					t.Errorf("%s as %s: refused without a message", rt.name, who)
				}
				if after.Version != c.Version || after.Status != c.Status || after.AssigneeID != c.AssigneeID {
					t.Errorf("%s as %s: refused, yet the case changed: %+v", rt.name, who, after)
				}
				continue
			}
			if loc := resp.Header.Get("Location"); loc != "/cases/"+c.ID {
				t.Errorf("%s as %s: redirect to %q", rt.name, who, loc)
			}
			actions := testkit.AuditActions(t, env.db, c.Reference)
			if len(actions) < 2 { // case.created, then this action
				t.Errorf("%s as %s: audit entries %v, want the action's", rt.name, who, actions)
			}
		}
	}
	testkit.VerifyAudit(t, env.db)
}

// TestCaseActionsRace sends the same decision from two browsers at once through the real
// router: exactly one wins, the other is told what happened, and the decision is written once.
func TestCaseActionsRace(t *testing.T) {
	env := newTestEnv(t)
	lead1, lead2 := env.signIn(auth.Lead), env.signIn(auth.Lead)
	for round := range 5 {
		c := env.reviewCase(fmt.Sprintf("vrf-race-%d", round), lead1.user.ID, false)
		lead1.get("/cases/" + c.ID)
		lead2.get("/cases/" + c.ID)
		form := func(cl *testClient, decision string) *http.Request {
			f := url.Values{"decision": {decision}, "reason_code": {map[string]string{"approve": "verified", "reject": "other"}[decision]},
				"comment": {"race"}, "version": {strconv.FormatInt(c.Version, 10)}, "_csrf": {cl.csrf}}
			req := httptestRequest("POST", "/cases/"+c.ID+"/decision", strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for name, value := range cl.cookies {
				req.AddCookie(&http.Cookie{Name: name, Value: value})
			}
			return req
		}
		reqs := []*http.Request{form(lead1, "approve"), form(lead2, "reject")}
		statuses := make([]int, 2)
		bodies := make([]string, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, req := range reqs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				resp, err := env.app.Test(req, -1)
				if err != nil {
					statuses[i] = -1
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				statuses[i], bodies[i] = resp.StatusCode, string(b)
			}()
		}
		close(start)
		wg.Wait()
		slices.Sort(statuses)
		if !slices.Equal(statuses, []int{303, 409}) {
			t.Fatalf("round %d: statuses %v, want one 303 and one 409", round, statuses)
		}
		loser := bodies[0] + bodies[1]
		if !strings.Contains(loser, "This case changed after you opened it") {
			t.Errorf("round %d: the refused browser is not told what happened: %s", round, pageError(loser))
		}
		var outbox int
		if err := env.db.Read.QueryRow(`SELECT count(*) FROM outbox WHERE case_id = ?`, c.ID).Scan(&outbox); err != nil {
			t.Fatal(err)
		}
		if after := env.caseNow(c.ID); outbox != 1 || after.Version != c.Version+1 || !cases.Decided(after.Status) {
			t.Errorf("round %d: %d outbox rows, case %s v%d; want one decision applied once", round, outbox, after.Status, after.Version)
		}
	}
}

// TestCaseReviewJourneyThroughRouter drives the action bar's forms: the analyst claims from
// the queue (Next), adds a note, rejects a document (which blocks approval), escalates; a
// lead approves the four-eyes case once, cannot give the second approval, a second lead can.
func TestCaseReviewJourneyThroughRouter(t *testing.T) {
	env := newTestEnv(t)
	ana, lead1, lead2 := env.signIn(auth.Analyst), env.signIn(auth.Lead), env.signIn(auth.Lead)
	high := env.reviewCase("vrf-journey-high", 0, true)
	plain := env.reviewCase("vrf-journey-plain", 0, false)

	// Next gives the analyst the plain case, never the high-risk one.
	ana.get("/queues")
	resp, _ := ana.postForm("/queues/next", nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != 303 || loc != "/cases/"+plain.ID {
		t.Fatalf("Next: %d → %q, want /cases/%s", resp.StatusCode, loc, plain.ID)
	}
	resp, body := ana.get("/cases/" + plain.ID)
	for _, id := range []string{`id="decision-form"`, `id="escalate-form"`, `id="release-form"`, `id="note-form"`,
		`id="doc-review-`, `name="version" value="`, "You hold vrf-journey-plain now"} {
		if !strings.Contains(body, id) {
			t.Errorf("case page for its holder lacks %s", id)
		}
	}
	if strings.Contains(body, `id="second-approval-form"`) || strings.Contains(body, `id="claim-form"`) {
		t.Error("case page offers the holder a claim or a second approval")
	}
	ana.postForm("/cases/"+plain.ID+"/notes", url.Values{"body": {"Phoned the applicant: photo retaken."}})
	c := env.caseNow(plain.ID)
	docs, _ := env.srv.caseStore().Documents(t.Context(), c.ID)
	resp, body = ana.postForm("/cases/"+c.ID+"/documents/"+docs[0].ID+"/review",
		url.Values{"verdict": {"reject"}, "reason": {"glare"}, "version": {strconv.FormatInt(c.Version, 10)}})
	if resp.StatusCode != 303 {
		t.Fatalf("document review: %d %s", resp.StatusCode, pageError(body))
	}
	c = env.caseNow(plain.ID)
	resp, body = ana.postForm("/cases/"+c.ID+"/decision", url.Values{"decision": {"approve"}, "reason_code": {"verified"},
		"comment": {"typed text kept"}, "version": {strconv.FormatInt(c.Version, 10)}})
	if resp.StatusCode != 409 || !strings.Contains(pageError(body), "glare") || !strings.Contains(body, "typed text kept") {
		t.Fatalf("approve with a rejected document: %d %q", resp.StatusCode, pageError(body))
	}
	// A stale form (the version before the document review) is refused, saying what happened.
	resp, body = ana.postForm("/cases/"+c.ID+"/escalate", url.Values{"comment": {"x"}, "version": {strconv.FormatInt(c.Version-1, 10)}})
	if resp.StatusCode != 409 || !strings.Contains(pageError(body), ana.user.Email+": rejected the "+strings.ReplaceAll(docs[0].Kind, "_", " ")+": glare") {
		t.Fatalf("stale escalate: %d %q", resp.StatusCode, pageError(body))
	}
	resp, _ = ana.postForm("/cases/"+c.ID+"/escalate", url.Values{"comment": {"unsure about the photo"}, "version": {strconv.FormatInt(c.Version, 10)}})
	if resp.StatusCode != 303 || env.caseNow(c.ID).Status != cases.StatusEscalated {
		t.Fatalf("escalate: %d %s", resp.StatusCode, env.caseNow(c.ID).Status)
	}
	_, body = ana.get("/cases/" + c.ID)
	if !strings.Contains(body, "Phoned the applicant: photo retaken.") || !strings.Contains(body, `id="not-allowed"`) {
		t.Error("the note is not on the timeline, or the analyst is not told why nothing is possible now")
	}

	// The lead decides the escalated case.
	c = env.caseNow(c.ID)
	resp, body = lead1.postForm("/cases/"+c.ID+"/decision", url.Values{"decision": {"reject"}, "reason_code": {"document_fake"},
		"comment": {"edited photo"}, "version": {strconv.FormatInt(c.Version, 10)}})
	if resp.StatusCode != 303 || env.caseNow(c.ID).Status != cases.StatusRejected {
		t.Fatalf("lead decides: %d %s", resp.StatusCode, pageError(body))
	}

	// Four-eyes: lead1 approves the high-risk case once; lead1 again is refused; lead2 completes it.
	lead1.get("/queues")
	resp, _ = lead1.postForm("/cases/"+high.ID+"/claim", nil)
	if resp.StatusCode != 303 {
		t.Fatalf("lead claim: %d", resp.StatusCode)
	}
	c = env.caseNow(high.ID)
	resp, body = lead1.postForm("/cases/"+c.ID+"/decision", url.Values{"decision": {"approve"}, "reason_code": {"verified_manual_check"},
		"version": {strconv.FormatInt(c.Version, 10)}})
	if resp.StatusCode != 303 || env.caseNow(c.ID).Status != cases.StatusAwaitingSecondApproval {
		t.Fatalf("first approval: %d %s", resp.StatusCode, pageError(body))
	}
	c = env.caseNow(c.ID)
	_, body = lead1.get("/cases/" + c.ID)
	if strings.Contains(body, `id="second-approval-form"`) || !strings.Contains(body, "must come from a different lead") {
		t.Error("the first approver is offered the second approval, or not told why not")
	}
	resp, body = lead1.postForm("/cases/"+c.ID+"/second-approval", url.Values{"decision": {"approve"}, "version": {strconv.FormatInt(c.Version, 10)}})
	if resp.StatusCode != 403 || !strings.Contains(pageError(body), "different lead") {
		t.Fatalf("same lead: %d %q", resp.StatusCode, pageError(body))
	}
	_, body = lead2.get("/cases/" + c.ID)
	if !strings.Contains(body, `id="second-approval-form"`) {
		t.Fatal("the second lead is not offered the second approval")
	}
	resp, _ = lead2.postForm("/cases/"+c.ID+"/second-approval", url.Values{"decision": {"approve"}, "version": {strconv.FormatInt(c.Version, 10)}})
	if resp.StatusCode != 303 || env.caseNow(c.ID).Status != cases.StatusApproved {
		t.Fatalf("second approval: %d", resp.StatusCode)
	}
	got := testkit.AuditActions(t, env.db, high.Reference)
	for _, want := range []string{"case.claimed", "case.first_approved", "case.second_approved"} {
		if !slices.Contains(got, want) {
			t.Errorf("audit of %s: %v lacks %s", high.Reference, got, want)
		}
	}
	var actor string
	if err := env.db.Read.QueryRow(`SELECT actor FROM audit_log WHERE subject = ? AND action = 'case.second_approved'`, high.Reference).Scan(&actor); err != nil || actor != lead2.user.Email {
		t.Errorf("second approval audited as %q (%v), want %s", actor, err, lead2.user.Email)
	}
	testkit.VerifyAudit(t, env.db)
}

func TestQueueBulkAssignAndAvailability(t *testing.T) {
	env := newTestEnv(t)
	lead, ana := env.signIn(auth.Lead), env.signIn(auth.Analyst)
	a := env.reviewCase("vrf-bulk-1", 0, false)
	b := env.reviewCase("vrf-bulk-2", 0, true)
	_, body := lead.get("/queues")
	if !strings.Contains(body, `id="bulk-assign"`) || !strings.Contains(body, `form="bulk-assign"`) || !strings.Contains(body, `id="next-case"`) {
		t.Fatal("the lead's queue page has no bulk assignment or Next button")
	}
	if _, body := ana.get("/queues"); strings.Contains(body, `id="bulk-assign"`) || !strings.Contains(body, `id="next-case"`) {
		t.Error("the analyst's queue page: bulk assignment shown, or Next missing")
	}
	resp, _ := lead.postForm("/queues/assign", url.Values{"case": {a.ID, b.ID}, "assignee": {ana.user.Email}, "queue": {"unassigned"}})
	if resp.StatusCode != 303 {
		t.Fatalf("bulk assign: %d", resp.StatusCode)
	}
	if env.caseNow(a.ID).AssigneeID != ana.user.ID || env.caseNow(b.ID).AssigneeID != ana.user.ID {
		t.Error("bulk assignment did not assign both cases")
	}
	_, body = lead.get("/queues")
	if !strings.Contains(body, "Assigned 2 case(s).") {
		t.Error("no message after the bulk assignment")
	}
	resp, _ = ana.postForm("/me/availability", url.Values{"until": {env.now.Add(48 * 60 * 60 * 1e9).Format("2006-01-02T15:04")}})
	if resp.StatusCode != 303 {
		t.Fatalf("availability: %d", resp.StatusCode)
	}
	if _, body := ana.get("/queues"); !strings.Contains(body, "Unavailable until") {
		t.Error("the queue page does not show the analyst as unavailable")
	}
	ana.postForm("/me/availability", url.Values{"until": {"yesterday"}})
	if _, body := ana.get("/queues"); !strings.Contains(body, "until: not a date") {
		t.Error("a bad availability time is not explained")
	}
}

func TestAdminReasonCodes(t *testing.T) {
	env := newTestEnv(t)
	adm := env.signIn(auth.Admin)
	_, body := adm.get("/admin/reason-codes")
	if !strings.Contains(body, "face_mismatch") {
		t.Fatal("default reason codes not listed")
	}
	resp, body := adm.postForm("/admin/reason-codes", url.Values{"action": {"reject"}, "code": {"Bad code!"}, "label": {"x"}})
	if resp.StatusCode != 400 || !strings.Contains(body, "Bad code!") {
		t.Fatalf("bad code: %d", resp.StatusCode)
	}
	resp, _ = adm.postForm("/admin/reason-codes", url.Values{"action": {"reject"}, "code": {"address_unverifiable"}, "label": {"Address cannot be verified"}})
	if resp.StatusCode != 303 {
		t.Fatalf("add: %d", resp.StatusCode)
	}
	adm.get("/admin/reason-codes")
	resp, _ = adm.postForm("/admin/reason-codes/reject/address_unverifiable/retire", nil)
	if resp.StatusCode != 303 {
		t.Fatalf("retire: %d", resp.StatusCode)
	}
	if got := testkit.AuditActions(t, env.db, "reject/address_unverifiable"); !slices.Equal(got, []string{"reason_code.added", "reason_code.retired"}) {
		t.Errorf("audit %v", got)
	}
}

// TestReviewPolicyRows pins the policy rows of the review routes (DESIGN.md's route table).
func TestReviewPolicyRows(t *testing.T) {
	want := map[string][]auth.Role{
		"POST /queues/next":                             {auth.Analyst, auth.Lead},
		"POST /queues/assign":                           {auth.Lead},
		"POST /me/availability":                         {auth.Analyst, auth.Lead},
		"POST /cases/:id/claim":                         {auth.Analyst, auth.Lead},
		"POST /cases/:id/release":                       {auth.Analyst, auth.Lead},
		"POST /cases/:id/assign":                        {auth.Lead},
		"POST /cases/:id/notes":                         {auth.Analyst, auth.Lead},
		"POST /cases/:id/decision":                      {auth.Analyst, auth.Lead},
		"POST /cases/:id/escalate":                      {auth.Analyst, auth.Lead},
		"POST /cases/:id/second-approval":               {auth.Lead},
		"POST /cases/:id/documents/:doc/review":         {auth.Analyst, auth.Lead},
		"GET /admin/reason-codes":                       {auth.Admin},
		"POST /admin/reason-codes":                      {auth.Admin},
		"POST /admin/reason-codes/:action/:code/retire": {auth.Admin},
	}
	for key, roles := range want {
		a, ok := policy[key]
		if !ok {
			t.Errorf("%s: no policy entry", key)
			continue
		}
		for _, w := range everyone {
			if got, exp := a.allows(identityFor(w)), slices.Contains(roles, auth.Role(w)); got != exp {
				t.Errorf("%s for %s: allowed=%v, want %v", key, w, got, exp)
			}
		}
	}
}

// TestCaseActionBadInput: every malformed form is a 400 with a message naming the field,
// and the case is unchanged.
func TestCaseActionBadInput(t *testing.T) {
	env := newTestEnv(t)
	ana := env.signIn(auth.Analyst)
	c := env.reviewCase("vrf-bad-input", ana.user.ID, false)
	docs, _ := env.srv.caseStore().Documents(t.Context(), c.ID)
	v := strconv.FormatInt(c.Version, 10)
	long := strings.Repeat("x", cases.MaxCommentRunes+1)
	for _, tc := range []struct {
		path  string
		form  url.Values
		field string
	}{
		{"decision", url.Values{"decision": {"approve"}, "reason_code": {"verified"}, "version": {"abc"}}, "version"},
		{"decision", url.Values{"decision": {"approve"}, "reason_code": {"verified"}}, "version"},
		{"decision", url.Values{"decision": {"approve!"}, "reason_code": {"verified"}, "version": {v}}, "decision"},
		{"decision", url.Values{"decision": {"approve"}, "reason_code": {""}, "version": {v}}, "reason_code"},
		{"decision", url.Values{"decision": {"approve"}, "reason_code": {"face_mismatch"}, "version": {v}}, "reason_code"},
		{"decision", url.Values{"decision": {"reject"}, "reason_code": {"other"}, "comment": {long}, "version": {v}}, "comment"},
		{"decision", url.Values{"decision": {"reject"}, "reason_code": {"other"}, "comment": {"\xff\xfe"}, "version": {v}}, "comment"},
		{"escalate", url.Values{"comment": {"   "}, "version": {v}}, "comment"},
		{"notes", url.Values{"body": {""}}, "body"},
		{"notes", url.Values{"body": {strings.Repeat("n", cases.MaxNoteRunes+1)}}, "body"},
		{"documents/" + docs[0].ID + "/review", url.Values{"verdict": {"maybe"}, "version": {v}}, "verdict"},
		{"documents/" + docs[0].ID + "/review", url.Values{"verdict": {"reject"}, "reason": {""}, "version": {v}}, "reason"},
	} {
		ana.get("/cases/" + c.ID)
		resp, body := ana.postForm("/cases/"+c.ID+"/"+tc.path, tc.form)
		if resp.StatusCode != 400 || !strings.HasPrefix(pageError(body), tc.field+":") {
			t.Errorf("%s %v: %d %q, want 400 naming %s", tc.path, tc.form, resp.StatusCode, pageError(body), tc.field)
		}
	}
	if after := env.caseNow(c.ID); after.Version != c.Version || after.Status != c.Status {
		t.Errorf("bad input changed the case: v%d %s", after.Version, after.Status)
	}
	if got := testkit.AuditActions(t, env.db, c.Reference); !slices.Equal(got, []string{"case.created"}) {
		t.Errorf("bad input was audited as an action: %v", got)
	}
	// A document of another case is not found, and an auditor sees the case read-only.
	other := env.reviewCase("vrf-bad-input-2", ana.user.ID, false)
	resp, _ := ana.postForm("/cases/"+other.ID+"/documents/"+docs[0].ID+"/review", url.Values{"verdict": {"accept"},
		"version": {strconv.FormatInt(other.Version, 10)}})
	if resp.StatusCode != 404 {
		t.Errorf("another case's document: %d, want 404", resp.StatusCode)
	}
	aud := env.signIn(auth.Auditor)
	if _, body := aud.get("/cases/" + c.ID); !strings.Contains(body, `id="read-only"`) || strings.Contains(body, `id="decision-form"`) {
		t.Error("the auditor's case page is not read-only")
	}
}
