package cases

import (
	"fmt"

	"github.com/kycdesk/kycdesk/internal/errs"
)

// Action is one thing a person can do to a case (DESIGN.md, "Case lifecycle").
type Action string

// The review actions. Approve, reject and request_info are the `decision` field of POST
// /cases/{id}/decision; Return is a lead's "back to the analyst" on an escalated case;
// SecondApprove and SecondReturn are the two answers of POST /cases/{id}/second-approval.
const (
	ActClaim          Action = "claim"
	ActRelease        Action = "release"
	ActAssign         Action = "assign"    // a lead gives the case to someone
	ActTakeOver       Action = "take_over" // a lead claims a case someone else holds (audited as such)
	ActNote           Action = "note"
	ActApprove        Action = "approve"
	ActReject         Action = "reject"
	ActRequestInfo    Action = "request_info"
	ActEscalate       Action = "escalate"
	ActReturn         Action = "return"
	ActSecondApprove  Action = "second_approve"
	ActSecondReturn   Action = "second_return"
	ActReviewDocument Action = "review_document"
)

// Actions lists every action, in the order the action bar and the tests walk them.
var Actions = []Action{ActClaim, ActRelease, ActAssign, ActTakeOver, ActNote, ActApprove, ActReject, ActRequestInfo,
	ActEscalate, ActReturn, ActSecondApprove, ActSecondReturn, ActReviewDocument}

// Statuses lists every case status.
var Statuses = []string{StatusNew, StatusInReview, StatusPendingInfo, StatusEscalated, StatusAwaitingSecondApproval,
	StatusApproved, StatusRejected}

// Roles that work cases. Admins and auditors never do: every row below refuses them.
const (
	RoleAnalyst = "analyst"
	RoleLead    = "lead"
)

// Stay is the To of a row that leaves the status as it is (a note, a claim by a lead of an
// escalated case).
const Stay = "="

// Sensitivity is the kind of case a row applies to: an analyst may decide a plain case
// alone; a sensitive one (high risk, or flagged four-eyes at routing) needs a lead.
type Sensitivity int

const (
	AnyCase       Sensitivity = iota
	PlainCase                 // low or medium risk and not four-eyes
	SensitiveCase             // high risk or four-eyes
)

// Holding says whether a row needs the actor to hold the case (be its assignee). Leads may
// act on any case, so rows for leads say AnyHolder.
type Holding int

const (
	AnyHolder   Holding = iota
	MustHold            // the actor is the assignee
	HeldByMe            // the row applies only when the actor already holds it (refusals)
	HeldByOther         // the row applies only when someone else holds it
	Unheld              // the row applies only when nobody holds it
)

// Rule is one row of the lifecycle: in status From, Role doing Action on a case of the given
// sensitivity and holding goes to To, or is refused with Refuse (Code says how: Forbidden for
// who you are, Conflict for where the case is). The first matching row wins.
type Rule struct {
	From   string // a status, or "*" for any
	Action Action
	Role   string // RoleAnalyst, RoleLead, or "*"
	Case   Sensitivity
	Hold   Holding
	To     string // a status, or Stay; "" when refused
	Refuse string // the reason shown when refused
	Code   string // errs.Forbidden or errs.Conflict for refusals
}

func allow(from string, a Action, role string, cs Sensitivity, h Holding, to string) Rule {
	return Rule{From: from, Action: a, Role: role, Case: cs, Hold: h, To: to}
}

func forbid(from string, a Action, role string, cs Sensitivity, h Holding, reason string) Rule {
	return Rule{From: from, Action: a, Role: role, Case: cs, Hold: h, Refuse: reason, Code: errs.Forbidden}
}

func conflict(from string, a Action, role string, h Holding, reason string) Rule {
	return Rule{From: from, Action: a, Role: role, Hold: h, Refuse: reason, Code: errs.Conflict}
}

const (
	any_      = "*"
	notHolder = "Only the case's assignee or a lead may do this. Claim the case first, or ask a lead to assign it to you."
	leadsOnly = "Only a lead may do this."
	escalated = "This case is escalated: a lead decides it or returns it to the analyst."
	awaiting2 = "This case is awaiting a second approval: a lead other than the first approver approves it or returns it."
	decided   = "This case is decided. A new provider result reopens it."
	pending   = "This case is waiting for information from the applicant: it returns to new when a new provider result arrives."
)

// Lifecycle is the one table of the case lifecycle: every (status, action, role) the review
// workspace knows, and what it leads to. Anything not listed is refused by defaultRefusal.
// Permit reads it; the action bar asks Permit; TestLifecycleTable checks every combination.
var Lifecycle = []Rule{
	// Claim: a new case goes into review with the claimant as assignee.
	conflict(StatusApproved, ActClaim, any_, AnyHolder, decided),
	conflict(StatusRejected, ActClaim, any_, AnyHolder, decided),
	conflict(any_, ActClaim, any_, HeldByMe, "You already hold this case."),
	conflict(any_, ActClaim, RoleAnalyst, HeldByOther, "Someone else holds this case: ask them to release it, or a lead to reassign it."),
	conflict(any_, ActClaim, RoleLead, HeldByOther, "Someone else holds this case: use take over to move it to you."),
	allow(StatusNew, ActClaim, any_, AnyCase, AnyHolder, StatusInReview),
	allow(StatusInReview, ActClaim, any_, AnyCase, Unheld, Stay),
	allow(StatusEscalated, ActClaim, RoleLead, AnyCase, Unheld, Stay),
	allow(StatusAwaitingSecondApproval, ActClaim, RoleLead, AnyCase, Unheld, Stay),
	forbid(StatusEscalated, ActClaim, RoleAnalyst, AnyCase, AnyHolder, escalated),
	forbid(StatusAwaitingSecondApproval, ActClaim, RoleAnalyst, AnyCase, AnyHolder, awaiting2),
	conflict(StatusPendingInfo, ActClaim, any_, AnyHolder, pending),

	// Take over: a lead moves a case someone else holds to themselves.
	allow(StatusInReview, ActTakeOver, RoleLead, AnyCase, HeldByOther, Stay),
	allow(StatusEscalated, ActTakeOver, RoleLead, AnyCase, HeldByOther, Stay),
	allow(StatusAwaitingSecondApproval, ActTakeOver, RoleLead, AnyCase, HeldByOther, Stay),
	allow(StatusPendingInfo, ActTakeOver, RoleLead, AnyCase, HeldByOther, Stay),
	forbid(any_, ActTakeOver, RoleAnalyst, AnyCase, AnyHolder, leadsOnly+" An analyst claims only unassigned cases."),
	conflict(any_, ActTakeOver, RoleLead, HeldByMe, "You already hold this case."),
	conflict(any_, ActTakeOver, RoleLead, Unheld, "Nobody holds this case: claim it instead."),

	// Release: back to the unassigned queue (in review → new); other states keep their status.
	conflict(StatusApproved, ActRelease, any_, AnyHolder, decided),
	conflict(StatusRejected, ActRelease, any_, AnyHolder, decided),
	conflict(any_, ActRelease, any_, Unheld, "Nobody holds this case."),
	allow(StatusInReview, ActRelease, RoleAnalyst, AnyCase, MustHold, StatusNew),
	allow(StatusInReview, ActRelease, RoleLead, AnyCase, AnyHolder, StatusNew),
	allow(StatusEscalated, ActRelease, RoleLead, AnyCase, AnyHolder, Stay),
	allow(StatusAwaitingSecondApproval, ActRelease, RoleLead, AnyCase, AnyHolder, Stay),
	allow(StatusPendingInfo, ActRelease, RoleAnalyst, AnyCase, MustHold, Stay),
	allow(StatusPendingInfo, ActRelease, RoleLead, AnyCase, AnyHolder, Stay),

	// Assign: a lead gives a case to a user (who is checked by the store).
	allow(StatusNew, ActAssign, RoleLead, AnyCase, AnyHolder, StatusInReview),
	allow(StatusInReview, ActAssign, RoleLead, AnyCase, AnyHolder, Stay),
	allow(StatusEscalated, ActAssign, RoleLead, AnyCase, AnyHolder, Stay),
	allow(StatusAwaitingSecondApproval, ActAssign, RoleLead, AnyCase, AnyHolder, Stay),
	allow(StatusPendingInfo, ActAssign, RoleLead, AnyCase, AnyHolder, Stay),
	forbid(any_, ActAssign, RoleAnalyst, AnyCase, AnyHolder, leadsOnly+" Claim a case to take it yourself."),

	// Notes: anyone who works cases, on any case, in any status.
	allow(any_, ActNote, any_, AnyCase, AnyHolder, Stay),

	// Decisions in review. An approval of a sensitive case is the first of two.
	allow(StatusInReview, ActApprove, RoleAnalyst, PlainCase, MustHold, StatusApproved),
	allow(StatusInReview, ActApprove, RoleAnalyst, SensitiveCase, MustHold, StatusAwaitingSecondApproval),
	allow(StatusInReview, ActApprove, RoleLead, PlainCase, AnyHolder, StatusApproved),
	allow(StatusInReview, ActApprove, RoleLead, SensitiveCase, AnyHolder, StatusAwaitingSecondApproval),
	allow(StatusInReview, ActReject, RoleAnalyst, PlainCase, MustHold, StatusRejected),
	forbid(StatusInReview, ActReject, RoleAnalyst, SensitiveCase, AnyHolder,
		"A high-risk or four-eyes case is rejected by a lead: escalate it with your reasons."),
	allow(StatusInReview, ActReject, RoleLead, AnyCase, AnyHolder, StatusRejected),
	allow(StatusInReview, ActRequestInfo, RoleAnalyst, AnyCase, MustHold, StatusPendingInfo),
	allow(StatusInReview, ActRequestInfo, RoleLead, AnyCase, AnyHolder, StatusPendingInfo),
	allow(StatusInReview, ActEscalate, RoleAnalyst, AnyCase, MustHold, StatusEscalated),
	allow(StatusInReview, ActEscalate, RoleLead, AnyCase, AnyHolder, StatusEscalated),

	// An escalated case: a lead decides it or returns it to whoever escalated it.
	allow(StatusEscalated, ActApprove, RoleLead, PlainCase, AnyHolder, StatusApproved),
	allow(StatusEscalated, ActApprove, RoleLead, SensitiveCase, AnyHolder, StatusAwaitingSecondApproval),
	allow(StatusEscalated, ActReject, RoleLead, AnyCase, AnyHolder, StatusRejected),
	allow(StatusEscalated, ActRequestInfo, RoleLead, AnyCase, AnyHolder, StatusPendingInfo),
	allow(StatusEscalated, ActReturn, RoleLead, AnyCase, AnyHolder, StatusInReview),
	forbid(StatusEscalated, ActApprove, RoleAnalyst, AnyCase, AnyHolder, escalated),
	forbid(StatusEscalated, ActReject, RoleAnalyst, AnyCase, AnyHolder, escalated),
	forbid(StatusEscalated, ActRequestInfo, RoleAnalyst, AnyCase, AnyHolder, escalated),
	forbid(StatusEscalated, ActReturn, RoleAnalyst, AnyCase, AnyHolder, escalated),
	conflict(StatusEscalated, ActEscalate, any_, AnyHolder, "This case is already escalated."),

	// Four-eyes: a lead other than the first approver (checked by the store) completes it.
	allow(StatusAwaitingSecondApproval, ActSecondApprove, RoleLead, AnyCase, AnyHolder, StatusApproved),
	allow(StatusAwaitingSecondApproval, ActSecondReturn, RoleLead, AnyCase, AnyHolder, StatusInReview),
	forbid(StatusAwaitingSecondApproval, ActSecondApprove, RoleAnalyst, AnyCase, AnyHolder, "The second approval is a lead's."),
	forbid(StatusAwaitingSecondApproval, ActSecondReturn, RoleAnalyst, AnyCase, AnyHolder, "The second approval is a lead's."),
	conflict(any_, ActSecondApprove, any_, AnyHolder, "This case is not awaiting a second approval."),
	conflict(any_, ActSecondReturn, any_, AnyHolder, "This case is not awaiting a second approval."),
	conflict(StatusAwaitingSecondApproval, ActApprove, any_, AnyHolder, awaiting2),
	conflict(StatusAwaitingSecondApproval, ActReject, any_, AnyHolder, awaiting2),

	// Per-document review while the case is being worked.
	allow(StatusInReview, ActReviewDocument, RoleAnalyst, AnyCase, MustHold, Stay),
	allow(StatusInReview, ActReviewDocument, RoleLead, AnyCase, AnyHolder, Stay),
	allow(StatusEscalated, ActReviewDocument, RoleLead, AnyCase, AnyHolder, Stay),
	allow(StatusAwaitingSecondApproval, ActReviewDocument, RoleLead, AnyCase, AnyHolder, Stay),

	// Where nothing above applies.
	conflict(StatusApproved, any_, any_, AnyHolder, decided),
	conflict(StatusRejected, any_, any_, AnyHolder, decided),
	conflict(StatusPendingInfo, any_, any_, AnyHolder, pending),
	conflict(StatusNew, any_, any_, AnyHolder, "Claim this case first."),
	conflict(any_, ActReturn, any_, AnyHolder, "Only an escalated case is returned to the analyst."),
}

// Subject is the case as the lifecycle sees it.
type Subject struct {
	Status     string
	Sensitive  bool  // high risk or four-eyes
	AssigneeID int64 // 0: nobody holds it
}

// SubjectOf is c as the lifecycle sees it.
func SubjectOf(c *Case) Subject {
	return Subject{Status: c.Status, Sensitive: c.Sensitive(), AssigneeID: c.AssigneeID}
}

// Sensitive reports whether the case needs a lead: high risk or flagged four-eyes.
func (c *Case) Sensitive() bool { return c.FourEyes || c.RiskLevel == RiskHigh }

// Actor is who acts: a signed-in user.
type Actor struct {
	ID    int64
	Email string
	Role  string // RoleAnalyst, RoleLead; any other role is refused everything
}

// Permission is the lifecycle's answer for one action.
type Permission struct {
	Allowed bool
	To      string // the status after the action (the current one for Stay)
	Reason  string // why not, for the person
	Code    string // errs.Forbidden or errs.Conflict when refused
}

// Err is the refusal as an error, nil when allowed.
func (p Permission) Err() error {
	if p.Allowed {
		return nil
	}
	return errs.E(p.Code, "%s", p.Reason)
}

// PermitCase is Permit for a stored case, with the one rule that needs more than the
// table: the first approver may not give the second approval (nor return it). The review
// actions and the action bar both ask it, so the page never offers what the server refuses.
func PermitCase(c *Case, by Actor, a Action) Permission {
	p := Permit(SubjectOf(c), by, a)
	if p.Allowed && (a == ActSecondApprove || a == ActSecondReturn) && c.FirstApproverID == by.ID {
		return Permission{Reason: "You gave the first approval of this case: the second approval must come from a different lead.",
			Code: errs.Forbidden}
	}
	return p
}

// Permit looks action up in the Lifecycle table for the actor on the case.
func Permit(s Subject, by Actor, a Action) Permission {
	if by.Role != RoleAnalyst && by.Role != RoleLead {
		return Permission{Reason: "Your role does not work cases.", Code: errs.Forbidden}
	}
	for _, r := range Lifecycle {
		if !r.matches(s, by, a) {
			continue
		}
		if r.Refuse != "" {
			return Permission{Reason: r.Refuse, Code: r.Code}
		}
		if r.Hold == MustHold && s.AssigneeID != by.ID {
			return Permission{Reason: notHolder, Code: errs.Forbidden}
		}
		to := r.To
		if to == Stay {
			to = s.Status
		}
		return Permission{Allowed: true, To: to}
	}
	return Permission{Reason: fmt.Sprintf("You cannot %s a case that is %s.", actionWords[a], statusWords(s.Status)),
		Code: errs.Conflict}
}

func (r Rule) matches(s Subject, by Actor, a Action) bool {
	if (r.From != any_ && r.From != s.Status) || (r.Action != a && r.Action != any_) || (r.Role != any_ && r.Role != by.Role) {
		return false
	}
	switch {
	case r.Case == PlainCase && s.Sensitive, r.Case == SensitiveCase && !s.Sensitive:
		return false
	}
	switch r.Hold {
	case HeldByMe:
		return s.AssigneeID != 0 && s.AssigneeID == by.ID
	case HeldByOther:
		return s.AssigneeID != 0 && s.AssigneeID != by.ID
	case Unheld:
		return s.AssigneeID == 0
	}
	return true
}

var actionWords = map[Action]string{
	ActClaim: "claim", ActRelease: "release", ActAssign: "assign", ActTakeOver: "take over", ActNote: "add a note to",
	ActApprove: "approve", ActReject: "reject", ActRequestInfo: "request information on", ActEscalate: "escalate",
	ActReturn: "return", ActSecondApprove: "give the second approval on", ActSecondReturn: "return",
	ActReviewDocument: "review the documents of",
}

func statusWords(status string) string {
	switch status {
	case StatusNew:
		return "new"
	case StatusInReview:
		return "in review"
	case StatusPendingInfo:
		return "waiting for information"
	case StatusEscalated:
		return "escalated"
	case StatusAwaitingSecondApproval:
		return "awaiting a second approval"
	}
	return status
}
