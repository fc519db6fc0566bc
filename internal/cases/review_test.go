package cases_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/errs"
)

const me, other = int64(7), int64(8)

// TestLifecycleTable walks every (status, action, role, kind of case, holder) through Permit
// and checks it against DESIGN.md's lifecycle: the diagram's edges are allowed and lead
// where the diagram says, and the rules around them hold for every combination.
func TestLifecycleTable(t *testing.T) {
	type key struct {
		from   string
		action cases.Action
		role   string
		sens   bool
		holder int64
	}
	// The diagram (plus assignment), for a case held by the actor where holding matters.
	edges := []struct {
		from   string
		action cases.Action
		role   string
		sens   bool
		holder int64
		to     string
	}{
		{cases.StatusNew, cases.ActClaim, "analyst", false, 0, cases.StatusInReview},
		{cases.StatusNew, cases.ActClaim, "lead", true, 0, cases.StatusInReview},
		{cases.StatusNew, cases.ActAssign, "lead", false, 0, cases.StatusInReview},
		{cases.StatusInReview, cases.ActRelease, "analyst", false, me, cases.StatusNew},
		{cases.StatusInReview, cases.ActApprove, "analyst", false, me, cases.StatusApproved},
		{cases.StatusInReview, cases.ActApprove, "analyst", true, me, cases.StatusAwaitingSecondApproval},
		{cases.StatusInReview, cases.ActApprove, "lead", true, other, cases.StatusAwaitingSecondApproval},
		{cases.StatusInReview, cases.ActApprove, "lead", false, other, cases.StatusApproved},
		{cases.StatusInReview, cases.ActReject, "analyst", false, me, cases.StatusRejected},
		{cases.StatusInReview, cases.ActReject, "lead", true, other, cases.StatusRejected},
		{cases.StatusInReview, cases.ActRequestInfo, "analyst", true, me, cases.StatusPendingInfo},
		{cases.StatusInReview, cases.ActEscalate, "analyst", true, me, cases.StatusEscalated},
		{cases.StatusInReview, cases.ActTakeOver, "lead", false, other, cases.StatusInReview},
		{cases.StatusInReview, cases.ActNote, "analyst", false, other, cases.StatusInReview},
		{cases.StatusInReview, cases.ActReviewDocument, "analyst", false, me, cases.StatusInReview},
		{cases.StatusEscalated, cases.ActApprove, "lead", false, 0, cases.StatusApproved},
		{cases.StatusEscalated, cases.ActApprove, "lead", true, 0, cases.StatusAwaitingSecondApproval},
		{cases.StatusEscalated, cases.ActReject, "lead", true, 0, cases.StatusRejected},
		{cases.StatusEscalated, cases.ActReturn, "lead", true, 0, cases.StatusInReview},
		{cases.StatusEscalated, cases.ActClaim, "lead", true, 0, cases.StatusEscalated},
		{cases.StatusAwaitingSecondApproval, cases.ActSecondApprove, "lead", true, 0, cases.StatusApproved},
		{cases.StatusAwaitingSecondApproval, cases.ActSecondReturn, "lead", true, 0, cases.StatusInReview},
		{cases.StatusApproved, cases.ActNote, "analyst", false, 0, cases.StatusApproved},
	}
	want := map[key]string{}
	for _, e := range edges {
		want[key{e.from, e.action, e.role, e.sens, e.holder}] = e.to
	}
	leadOnly := []cases.Action{cases.ActAssign, cases.ActTakeOver, cases.ActReturn, cases.ActSecondApprove, cases.ActSecondReturn}
	n := 0
	for _, from := range cases.Statuses {
		for _, a := range cases.Actions {
			for _, role := range []string{"analyst", "lead", "admin", "auditor"} {
				for _, sens := range []bool{false, true} {
					for _, holder := range []int64{0, me, other} {
						n++
						k := key{from, a, role, sens, holder}
						name := fmt.Sprintf("%s/%s/%s/sensitive=%v/holder=%d", from, a, role, sens, holder)
						p := cases.Permit(cases.Subject{Status: from, Sensitive: sens, AssigneeID: holder},
							cases.Actor{ID: me, Email: "me@example.com", Role: role}, a)
						if to, ok := want[k]; ok && (!p.Allowed || p.To != to) {
							t.Errorf("%s: %+v, want allowed → %s", name, p, to)
						}
						if !p.Allowed {
							if p.Reason == "" || (p.Code != errs.Forbidden && p.Code != errs.Conflict) {
								t.Errorf("%s: refusal without a reason or code: %+v", name, p)
							}
							continue
						}
						switch {
						case !slices.Contains(cases.Statuses, p.To):
							t.Errorf("%s: allowed to unknown status %q", name, p.To)
						case role != "analyst" && role != "lead":
							t.Errorf("%s: a %s may not work cases", name, role)
						case role == "analyst" && slices.Contains(leadOnly, a):
							t.Errorf("%s: only leads may %s", name, a)
						case role == "analyst" && holder != me && a != cases.ActNote && a != cases.ActClaim:
							t.Errorf("%s: only the assignee or a lead may act", name)
						case role == "analyst" && sens && cases.Decided(p.To) && !cases.Decided(from):
							t.Errorf("%s: an analyst may not decide a high-risk or four-eyes case alone", name)
						case role == "analyst" && (from == cases.StatusEscalated || from == cases.StatusAwaitingSecondApproval) && a != cases.ActNote:
							t.Errorf("%s: escalated and second-approval cases are the leads'", name)
						case cases.Decided(from) && a != cases.ActNote:
							t.Errorf("%s: a decided case only takes notes until a new result reopens it", name)
						case sens && a == cases.ActApprove && p.To == cases.StatusApproved:
							t.Errorf("%s: approving a sensitive case must wait for a second approval", name)
						case a == cases.ActRelease && holder == 0:
							t.Errorf("%s: nobody holds the case: nothing to release", name)
						case a == cases.ActClaim && holder != 0 && holder != me:
							t.Errorf("%s: claiming a case someone else holds must be refused", name)
						case from == cases.StatusPendingInfo && a != cases.ActNote && a != cases.ActRelease && a != cases.ActAssign && a != cases.ActTakeOver:
							t.Errorf("%s: a case waiting for information only leaves pending_info with a new result", name)
						}
					}
				}
			}
		}
	}
	t.Logf("%d combinations checked", n)
}

// reviewEnv is a case store with users and one case opened through Apply.
type reviewEnv struct {
	*env
	ana, ana2, lead, lead2 cases.Actor
}

func newReviewEnv(t *testing.T) *reviewEnv {
	e := &reviewEnv{env: newEnv(t)}
	mk := func(email, role string) cases.Actor {
		res, err := e.db.Write.ExecContext(e.ctx, `INSERT INTO users (email, name, role, password_hash, created_at, updated_at)
			VALUES (?, ?, ?, 'x', 0, 0)`, email, email, role)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := res.LastInsertId()
		return cases.Actor{ID: id, Email: email, Role: role}
	}
	e.ana, e.ana2 = mk("ana@example.com", "analyst"), mk("bao@example.com", "analyst")
	e.lead, e.lead2 = mk("linh@example.com", "lead"), mk("minh@example.com", "lead")
	return e
}

// open creates a case of the given risk (high also means four-eyes) and returns it.
func (e *reviewEnv) open(ref, risk string) *cases.Case {
	e.t.Helper()
	r := sampleResult(e.now, ref, cases.ResultReview)
	r.Reference, r.RiskLevel = ref, risk
	if risk != cases.RiskHigh {
		r.Checks = r.Checks[:1] // no PEP hit: not four-eyes
	}
	return e.get(e.apply(0, r).CaseID)
}

func mustCode(t *testing.T, err error, code, contains string) {
	t.Helper()
	if errs.Code(err) != code || !strings.Contains(errs.Message(err), contains) {
		t.Fatalf("err = %v (code %s), want %s containing %q", err, errs.Code(err), code, contains)
	}
}

func TestReviewDecisionWritesEverythingInOneTransaction(t *testing.T) {
	e := newReviewEnv(t)
	c := e.open("vrf-plain", cases.RiskMedium)
	c, err := e.store.Claim(e.ctx, c.ID, c.Version, e.ana)
	if err != nil || c.Status != cases.StatusInReview || c.AssigneeID != e.ana.ID {
		t.Fatalf("claim: %v %+v", err, c)
	}
	if _, err := e.store.Note(e.ctx, c.ID, e.ana, "  Called the applicant.  "); err != nil {
		t.Fatal(err)
	}
	// Reject needs a comment and a reason code of its kind.
	_, err = e.store.Decide(e.ctx, cases.DecisionInput{CaseID: c.ID, Version: c.Version, By: e.ana, Decision: "reject", ReasonCode: "face_mismatch"})
	mustCode(t, err, errs.Invalid, "comment")
	_, err = e.store.Decide(e.ctx, cases.DecisionInput{CaseID: c.ID, Version: c.Version, By: e.ana, Decision: "reject", ReasonCode: "verified", Comment: "x"})
	mustCode(t, err, errs.Invalid, "reason_code")
	_, err = e.store.Decide(e.ctx, cases.DecisionInput{CaseID: c.ID, Version: c.Version, By: e.ana, Decision: "maybe"})
	mustCode(t, err, errs.Invalid, "decision")
	// Someone else's case is refused.
	_, err = e.store.Decide(e.ctx, cases.DecisionInput{CaseID: c.ID, Version: c.Version, By: e.ana2, Decision: "approve", ReasonCode: "verified"})
	mustCode(t, err, errs.Forbidden, "held by ana@example.com")

	e.now = e.now.Add(time.Minute)
	d, err := e.store.Decide(e.ctx, cases.DecisionInput{CaseID: c.ID, Version: c.Version, By: e.ana, Decision: "approve",
		ReasonCode: "verified", Comment: "all good"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != cases.StatusApproved || d.Decision != "approve" || d.ReasonCode != "verified" || d.Version != c.Version+1 ||
		!d.FirstDecidedAt.Equal(e.now) {
		t.Fatalf("after approve: %+v", d)
	}
	if n := e.count(`SELECT count(*) FROM outbox WHERE case_id = ? AND kind = 'case.decided'
		AND json_extract(payload, '$.decision') = 'approve' AND json_extract(payload, '$.actor') = ?`, c.ID, e.ana.Email); n != 1 {
		t.Errorf("%d outbox rows, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM case_decisions WHERE case_id = ? AND kind = 'decision' AND decision = 'approve'
		AND actor_id = ? AND status_from = 'in_review' AND status_to = 'approved'`, c.ID, e.ana.ID); n != 1 {
		t.Errorf("%d case_decisions rows, want 1", n)
	}
	got := e.auditActions(c.Reference)
	for _, want := range []string{"case.created", "case.claimed", "case.note_added", "case.approved"} {
		if !slices.Contains(got, want) {
			t.Errorf("audit of %s: %v, missing %s", c.Reference, got, want)
		}
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE subject = ? AND actor = ?`, c.Reference, e.ana.Email); n != 3 {
		t.Errorf("%d audit entries by the analyst about %s, want 3", n, c.Reference)
	}
	kinds := e.timelineKinds(c.ID)
	if !slices.Contains(kinds, cases.EventNote) || kinds[len(kinds)-1] != cases.EventDecision {
		t.Errorf("timeline %v", kinds)
	}
	// Applied once: the same form sent again is stale.
	_, err = e.store.Decide(e.ctx, cases.DecisionInput{CaseID: c.ID, Version: c.Version, By: e.ana, Decision: "approve", ReasonCode: "verified"})
	mustCode(t, err, errs.Conflict, "ana@example.com: approved (verified)")
	if n := e.count(`SELECT count(*) FROM outbox WHERE case_id = ?`, c.ID); n != 1 {
		t.Errorf("%d outbox rows after a repeat, want 1", n)
	}
	e.verifyAudit()
}

func TestReviewStaleVersionSaysWhatHappened(t *testing.T) {
	e := newReviewEnv(t)
	c := e.open("vrf-stale", cases.RiskLow)
	c2, err := e.store.Assign(e.ctx, c.ID, c.Version, e.lead, e.ana.Email)
	if err != nil {
		t.Fatal(err)
	}
	// The lead saw version c.Version; the assignment moved it on.
	_, err = e.store.Claim(e.ctx, c.ID, c.Version, e.lead2)
	mustCode(t, err, errs.Conflict, "linh@example.com: assigned the case to ana@example.com")
	if !strings.Contains(errs.Message(err), "was not applied") {
		t.Errorf("message %q does not say the action was not applied", errs.Message(err))
	}
	// An ingestion update bumps the version too.
	r := sampleResult(e.now.Add(time.Minute), "vrf-stale", cases.ResultPass)
	r.Reference, r.RiskLevel, r.Checks = "vrf-stale", cases.RiskLow, r.Checks[:1]
	e.apply(0, r)
	if got := e.get(c.ID); got.Version != c2.Version+1 {
		t.Fatalf("version after an update %d, want %d", got.Version, c2.Version+1)
	}
	_, err = e.store.Escalate(e.ctx, c.ID, c2.Version, e.ana, "odd selfie")
	mustCode(t, err, errs.Conflict, "system:acme-generic: Newer result")
}

func TestReviewRejectedDocumentBlocksApproval(t *testing.T) {
	e := newReviewEnv(t)
	c := e.open("vrf-docs", cases.RiskLow)
	c, _ = e.store.Claim(e.ctx, c.ID, 0, e.ana)
	docs, err := e.store.Documents(e.ctx, c.ID)
	if err != nil || len(docs) == 0 {
		t.Fatal(err, docs)
	}
	_, err = e.store.ReviewDocument(e.ctx, c.ID, docs[0].ID, c.Version, e.ana, "reject", "")
	mustCode(t, err, errs.Invalid, "reason")
	c, err = e.store.ReviewDocument(e.ctx, c.ID, docs[0].ID, c.Version, e.ana, "reject", "glare over the number")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.store.Decide(e.ctx, cases.DecisionInput{CaseID: c.ID, Version: c.Version, By: e.ana, Decision: "approve", ReasonCode: "verified"})
	mustCode(t, err, errs.Conflict, "glare over the number")
	c, err = e.store.ReviewDocument(e.ctx, c.ID, docs[0].ID, c.Version, e.ana, "accept", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Decide(e.ctx, cases.DecisionInput{CaseID: c.ID, Version: c.Version, By: e.ana, Decision: "approve", ReasonCode: "verified"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(e.auditActions(c.Reference), "case.document_reviewed") {
		t.Error("document review not audited")
	}
}

func TestReviewFourEyes(t *testing.T) {
	e := newReviewEnv(t)
	c := e.open("vrf-high", cases.RiskHigh)
	c, _ = e.store.Claim(e.ctx, c.ID, 0, e.ana)
	// An analyst may not reject a high-risk case alone, but may give the first approval.
	_, err := e.store.Decide(e.ctx, cases.DecisionInput{CaseID: c.ID, Version: c.Version, By: e.ana, Decision: "reject", ReasonCode: "other", Comment: "x"})
	mustCode(t, err, errs.Forbidden, "lead")
	c, err = e.store.Decide(e.ctx, cases.DecisionInput{CaseID: c.ID, Version: c.Version, By: e.ana, Decision: "approve", ReasonCode: "verified_manual_check"})
	if err != nil || c.Status != cases.StatusAwaitingSecondApproval || c.FirstApproverID != e.ana.ID {
		t.Fatalf("first approval: %v %+v", err, c)
	}
	if n := e.count(`SELECT count(*) FROM outbox WHERE case_id = ?`, c.ID); n != 0 {
		t.Errorf("a first approval wrote %d outbox rows, want none until the second", n)
	}
	// A lead returns it; the analyst approves again; a lead approves first, then the same lead is refused.
	c, err = e.store.SecondApproval(e.ctx, c.ID, c.Version, e.lead, "return", "check the PEP hit")
	if err != nil || c.Status != cases.StatusInReview || c.AssigneeID != e.ana.ID {
		t.Fatalf("return: %v %+v", err, c)
	}
	c, err = e.store.Claim(e.ctx, c.ID, c.Version, e.lead)
	mustCode(t, err, errs.Conflict, "held by ana@example.com")
	c, err = e.store.TakeOver(e.ctx, e.get(e.open("vrf-high", cases.RiskHigh).ID).ID, 0, e.lead)
	if err != nil || c.AssigneeID != e.lead.ID {
		t.Fatalf("take over: %v %+v", err, c)
	}
	c, err = e.store.Decide(e.ctx, cases.DecisionInput{CaseID: c.ID, Version: c.Version, By: e.lead, Decision: "approve", ReasonCode: "verified"})
	if err != nil || c.Status != cases.StatusAwaitingSecondApproval {
		t.Fatalf("lead's first approval: %v %+v", err, c)
	}
	_, err = e.store.SecondApproval(e.ctx, c.ID, c.Version, e.lead, "approve", "")
	mustCode(t, err, errs.Forbidden, "different lead")
	_, err = e.store.SecondApproval(e.ctx, c.ID, c.Version, e.ana2, "approve", "")
	mustCode(t, err, errs.Forbidden, "lead")
	c, err = e.store.SecondApproval(e.ctx, c.ID, c.Version, e.lead2, "approve", "")
	if err != nil || c.Status != cases.StatusApproved || c.ReasonCode != "verified" {
		t.Fatalf("second approval: %v %+v", err, c)
	}
	if n := e.count(`SELECT count(*) FROM outbox WHERE case_id = ? AND json_extract(payload, '$.status') = 'approved'`, c.ID); n != 1 {
		t.Errorf("%d outbox rows after the second approval, want 1", n)
	}
	want := []string{"case.first_approved", "case.second_approval_returned", "case.taken_over", "case.second_approved"}
	got := e.auditActions(c.Reference)
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("audit %v, missing %s", got, w)
		}
	}
}

func TestReviewEscalation(t *testing.T) {
	e := newReviewEnv(t)
	c := e.open("vrf-esc", cases.RiskMedium)
	c, _ = e.store.Claim(e.ctx, c.ID, 0, e.ana)
	_, err := e.store.Escalate(e.ctx, c.ID, c.Version, e.ana, "  ")
	mustCode(t, err, errs.Invalid, "comment")
	c, err = e.store.Escalate(e.ctx, c.ID, c.Version, e.ana, "address does not match")
	if err != nil || c.Status != cases.StatusEscalated || c.EscalatedBy != e.ana.ID || c.AssigneeID != 0 {
		t.Fatalf("escalate: %v %+v", err, c)
	}
	_, err = e.store.Decide(e.ctx, cases.DecisionInput{CaseID: c.ID, Version: c.Version, By: e.ana, Decision: "approve", ReasonCode: "verified"})
	mustCode(t, err, errs.Forbidden, "escalated")
	c, err = e.store.Decide(e.ctx, cases.DecisionInput{CaseID: c.ID, Version: c.Version, By: e.lead, Decision: "return", Comment: "fine, decide it"})
	if err != nil || c.Status != cases.StatusInReview || c.AssigneeID != e.ana.ID {
		t.Fatalf("return: %v %+v", err, c)
	}
	c, _ = e.store.Escalate(e.ctx, c.ID, c.Version, e.ana, "still unsure")
	c, err = e.store.Decide(e.ctx, cases.DecisionInput{CaseID: c.ID, Version: c.Version, By: e.lead, Decision: "reject",
		ReasonCode: "data_mismatch", Comment: "address mismatch confirmed"})
	if err != nil || c.Status != cases.StatusRejected {
		t.Fatalf("lead decides: %v %+v", err, c)
	}
	if n := e.count(`SELECT count(*) FROM case_decisions WHERE case_id = ? AND kind = 'escalation_decision'`, c.ID); n != 2 {
		t.Errorf("%d escalation decisions, want 2 (return, reject)", n)
	}
}

func TestReviewSLAPauseAndResume(t *testing.T) {
	e := newReviewEnv(t)
	c := e.open("vrf-sla", cases.RiskMedium) // SLA 24 h from now
	due := c.SLADue
	c, _ = e.store.Claim(e.ctx, c.ID, 0, e.ana)
	e.now = e.now.Add(2 * time.Hour)
	c, err := e.store.Decide(e.ctx, cases.DecisionInput{CaseID: c.ID, Version: c.Version, By: e.ana, Decision: "request_info", ReasonCode: "selfie_unusable"})
	if err != nil || c.Status != cases.StatusPendingInfo || !c.SLAPausedAt.Equal(e.now) {
		t.Fatalf("request_info: %v %+v", err, c)
	}
	if n := e.count(`SELECT count(*) FROM outbox WHERE case_id = ? AND json_extract(payload, '$.decision') = 'request_info'`, c.ID); n != 1 {
		t.Errorf("request_info wrote %d outbox rows, want 1", n)
	}
	e.now = e.now.Add(5 * time.Hour) // the applicant takes five hours
	r := sampleResult(e.now, "vrf-sla", cases.ResultReview)
	r.Reference, r.RiskLevel, r.Checks = "vrf-sla", cases.RiskMedium, r.Checks[:1]
	e.apply(0, r)
	c = e.get(c.ID)
	if c.Status != cases.StatusNew || c.AssigneeID != 0 || !c.SLAPausedAt.IsZero() || c.SLAPausedMS != (5*time.Hour).Milliseconds() {
		t.Fatalf("after the new result: %+v", c)
	}
	if want := due.Add(5 * time.Hour); !c.SLADue.Equal(want) {
		t.Errorf("SLA due %v, want %v (pushed by the paused time)", c.SLADue, want)
	}
}

func TestReviewNextAndAssign(t *testing.T) {
	e := newReviewEnv(t)
	high := e.open("vrf-n-high", cases.RiskHigh) // due in 4 h: the most urgent
	e.now = e.now.Add(time.Minute)
	low := e.open("vrf-n-low", cases.RiskLow)    // 72 h
	med := e.open("vrf-n-med", cases.RiskMedium) // 24 h
	c, err := e.store.Next(e.ctx, e.ana)
	if err != nil || c == nil || c.ID != med.ID || c.AssigneeID != e.ana.ID {
		t.Fatalf("analyst's next: %v %+v, want %s (never the high-risk %s)", err, c, med.Reference, high.Reference)
	}
	c, err = e.store.Next(e.ctx, e.lead)
	if err != nil || c == nil || c.ID != high.ID {
		t.Fatalf("lead's next: %v %+v, want %s", err, c, high.Reference)
	}
	c, _ = e.store.Next(e.ctx, e.ana2)
	if c == nil || c.ID != low.ID {
		t.Fatalf("second analyst's next: %+v, want %s", c, low.Reference)
	}
	if c, err := e.store.Next(e.ctx, e.ana); err != nil || c != nil {
		t.Fatalf("empty queue: %v %+v", err, c)
	}
	// Assign: leads only; to active analysts and leads.
	_, err = e.store.Assign(e.ctx, low.ID, 0, e.ana, e.lead.Email)
	mustCode(t, err, errs.Forbidden, "lead")
	_, err = e.store.Assign(e.ctx, low.ID, 0, e.lead, "nobody@example.com")
	mustCode(t, err, errs.Invalid, "no user")
	res, err := e.store.AssignMany(e.ctx, []string{low.ID, med.ID, "01JNOSUCHCASE0000000000000"}, e.lead, fmt.Sprint(e.ana.ID))
	if err != nil || len(res.Assigned) != 1 || len(res.Refused) != 2 {
		t.Fatalf("bulk: %v %+v", err, res)
	}
}

func TestAutoAssignSkipsUnavailable(t *testing.T) {
	e := newReviewEnv(t)
	e.store.AutoAssign = true
	if err := e.store.SetAvailability(e.ctx, e.ana, e.now.Add(-time.Hour)); errs.Code(err) != errs.Invalid {
		t.Fatalf("availability in the past: %v", err)
	}
	for _, u := range []cases.Actor{e.ana, e.lead, e.lead2} {
		if err := e.store.SetAvailability(e.ctx, u, e.now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	c := e.open("vrf-auto1", cases.RiskLow)
	if c.AssigneeID != e.ana2.ID || c.Status != cases.StatusInReview {
		t.Fatalf("auto-assigned to %d (%s), want the only available user %d", c.AssigneeID, c.Status, e.ana2.ID)
	}
	h := e.open("vrf-auto2", cases.RiskHigh)
	if h.AssigneeID != 0 || h.Status != cases.StatusNew {
		t.Fatalf("high risk with no lead available: %+v, want unassigned", h)
	}
	if err := e.store.SetAvailability(e.ctx, e.lead, time.Time{}); err != nil {
		t.Fatal(err)
	}
	h = e.open("vrf-auto3", cases.RiskHigh)
	if h.AssigneeID != e.lead.ID {
		t.Fatalf("high risk: assigned to %d, want the available lead %d", h.AssigneeID, e.lead.ID)
	}
	if !slices.Contains(e.auditActions(h.Reference), "case.auto_assigned") {
		t.Error("auto-assignment not audited")
	}
}

func TestReasonCodes(t *testing.T) {
	e := newReviewEnv(t)
	if err := e.store.AddReasonCode(e.ctx, "admin@example.com", "reject", "Bad Code", "x"); errs.Code(err) != errs.Invalid {
		t.Fatalf("bad code: %v", err)
	}
	if err := e.store.AddReasonCode(e.ctx, "admin@example.com", "reject", "address_unverifiable", "Address cannot be verified"); err != nil {
		t.Fatal(err)
	}
	if err := e.store.AddReasonCode(e.ctx, "admin@example.com", "reject", "address_unverifiable", "again"); errs.Code(err) != errs.Conflict {
		t.Fatalf("duplicate: %v", err)
	}
	if err := e.store.RetireReasonCode(e.ctx, "admin@example.com", "approve", "verified"); err != nil {
		t.Fatal(err)
	}
	c := e.open("vrf-rc", cases.RiskLow)
	c, _ = e.store.Claim(e.ctx, c.ID, 0, e.ana)
	_, err := e.store.Decide(e.ctx, cases.DecisionInput{CaseID: c.ID, Version: c.Version, By: e.ana, Decision: "approve", ReasonCode: "verified"})
	mustCode(t, err, errs.Invalid, "reason_code")
	if _, err := e.store.Decide(e.ctx, cases.DecisionInput{CaseID: c.ID, Version: c.Version, By: e.ana, Decision: "reject",
		ReasonCode: "address_unverifiable", Comment: "no match"}); err != nil {
		t.Fatal(err)
	}
	if got := e.auditActions("reject/address_unverifiable"); !slices.Equal(got, []string{"reason_code.added"}) {
		t.Errorf("audit %v", got)
	}
}

func TestAutoApproveWritesDecisionAndOutbox(t *testing.T) {
	e := newReviewEnv(t)
	e.src.AutoApprove = true
	r := sampleResult(e.now, "vrf-auto-pass", cases.ResultPass)
	r.Reference, r.RiskLevel, r.Checks = "vrf-auto-pass", cases.RiskLow, r.Checks[:1]
	c := e.get(e.apply(0, r).CaseID)
	if c.Status != cases.StatusApproved || !c.FirstDecidedAt.Equal(e.now) || c.Version != 2 {
		t.Fatalf("auto-approved case: %+v", c)
	}
	if n := e.count(`SELECT count(*) FROM case_decisions WHERE case_id = ? AND actor = 'system:acme-generic'
		AND actor_id IS NULL AND reason_code = ?`, c.ID, cases.ReasonAutoPassLowRisk); n != 1 {
		t.Errorf("%d decision rows, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM outbox WHERE case_id = ? AND json_extract(payload, '$.actor') = 'system:acme-generic'`, c.ID); n != 1 {
		t.Errorf("%d outbox rows, want 1", n)
	}
}

func TestNewResultWhileAwaitingSecondApproval(t *testing.T) {
	e := newReviewEnv(t)
	c := e.open("vrf-await", cases.RiskHigh)
	c, _ = e.store.Claim(e.ctx, c.ID, 0, e.ana)
	c, err := e.store.Decide(e.ctx, cases.DecisionInput{CaseID: c.ID, Version: c.Version, By: e.ana, Decision: "approve", ReasonCode: "verified"})
	if err != nil || c.AssigneeID != 0 {
		t.Fatalf("first approval: %v %+v", err, c)
	}
	r := sampleResult(e.now.Add(time.Minute), "vrf-await", cases.ResultReview)
	r.Reference = "vrf-await"
	e.apply(0, r)
	c = e.get(c.ID)
	if c.Status != cases.StatusInReview || c.AssigneeID != e.ana.ID || c.FirstApproverID != 0 {
		t.Fatalf("after a new result: %s, assignee %d, first approver %d; want in review with the first approver", c.Status, c.AssigneeID, c.FirstApproverID)
	}
}
