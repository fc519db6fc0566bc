package cases

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/id"
)

// The review actions (DESIGN.md, "Case lifecycle"). Each runs in one transaction: the
// lifecycle check (lifecycle.go) against the case as it is now, the version the person was
// shown, the change of the case row (with its version bumped), a timeline event, an audit
// entry whose subject is the case reference, a case_decisions row for decision-like steps,
// and an outbox row for decisions.

// Timeline event kinds written by the review actions.
const (
	EventClaimed               = "claimed"
	EventTakenOver             = "taken_over"
	EventReleased              = "released"
	EventAssigned              = "assigned"
	EventNote                  = "note"
	EventFirstApproval         = "first_approval"
	EventEscalated             = "escalated"
	EventReturned              = "returned"
	EventSecondApproval        = "second_approval"
	EventSecondApprovalReturns = "second_approval_returned"
	EventDocumentReviewed      = "document_reviewed"
	EventInfoRequested         = "info_requested"
)

// case_decisions kinds (00006_review.sql).
const (
	StepDecision           = "decision"
	StepEscalation         = "escalation"
	StepEscalationDecision = "escalation_decision"
	StepSecondApproval     = "second_approval"
)

// Limits on what a person types.
const (
	MaxCommentRunes = 2000
	MaxNoteRunes    = 4000
)

// DecisionInput is POST /cases/{id}/decision: approve, reject or request_info (and, on an
// escalated case, a lead's return to the analyst).
type DecisionInput struct {
	CaseID     string
	Version    int64
	By         Actor
	Decision   string // approve, reject, request_info, return
	ReasonCode string
	Comment    string
}

// reviewTx is one review action inside its transaction.
type reviewTx struct {
	s    *Store
	ctx  context.Context
	tx   *sql.Tx
	c    *Case // as read at the start of the transaction
	by   Actor
	a    Action
	to   string // the status the lifecycle leads to
	now  time.Time
	bump bool // the case row changed: events carry the new version
}

// review runs fn as action a on the case, after checking the version the actor was shown
// (0: not checked, for actions from the queue page that carry none) and the lifecycle.
func (s *Store) review(ctx context.Context, caseID string, version int64, by Actor, a Action, fn func(r *reviewTx) error) (*Case, error) {
	if !id.Valid(caseID) {
		return nil, notFound()
	}
	var out *Case
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		c, err := s.caseInTx(ctx, tx, caseID)
		if err != nil {
			return err
		}
		if version != 0 && version != c.Version {
			return s.staleError(ctx, tx, c, version, a)
		}
		p := PermitCase(c, by, a)
		if err := p.Err(); err != nil {
			return s.explainRefusal(ctx, tx, c, by, a, p)
		}
		r := &reviewTx{s: s, ctx: ctx, tx: tx, c: c, by: by, a: a, to: p.To, now: s.now()}
		if err := fn(r); err != nil {
			return err
		}
		out, err = s.caseInTx(ctx, tx, caseID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) caseInTx(ctx context.Context, tx *sql.Tx, caseID string) (*Case, error) {
	c, err := scanCase(tx.QueryRowContext(ctx, selectCase+` WHERE id = ?`, caseID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	return c, err
}

// explainRefusal is the lifecycle's refusal, naming who holds the case where that is the reason.
func (s *Store) explainRefusal(ctx context.Context, tx *sql.Tx, c *Case, by Actor, a Action, p Permission) error {
	if c.AssigneeID != 0 && c.AssigneeID != by.ID && (a == ActClaim || p.Reason == notHolder) {
		if email, err := userEmail(ctx, tx, c.AssigneeID); err == nil {
			return errs.E(p.Code, "%s It is held by %s.", p.Reason, email)
		}
	}
	return p.Err()
}

// staleError refuses an action on a version the case has moved on from, and says what
// happened since: the timeline events that carry a newer version, newest last.
func (s *Store) staleError(ctx context.Context, tx *sql.Tx, c *Case, seen int64, a Action) error {
	rows, err := tx.QueryContext(ctx, qRecentEvents, c.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	var since []string
	for rows.Next() && len(since) < 3 {
		var at int64
		var actor, body, details string
		if err := rows.Scan(&at, &actor, &body, &details); err != nil {
			return err
		}
		var d struct {
			Version int64 `json:"version"`
		}
		if json.Unmarshal([]byte(details), &d) != nil || d.Version <= seen {
			continue
		}
		since = append([]string{fmt.Sprintf("%s: %s (%s)", actor, strings.TrimSuffix(body, "."),
			db.Time(at).Format("2006-01-02 15:04:05 UTC"))}, since...)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	what := "it is now " + statusWords(c.Status)
	if len(since) > 0 {
		what = strings.Join(since, "; ") + ". It is now " + statusWords(c.Status)
	}
	return errs.E(errs.Conflict, "This case changed after you opened it: %s. Your %s was not applied; the page now shows the case as it is.",
		what, strings.ReplaceAll(string(a), "_", " "))
}

const qRecentEvents = `SELECT at, actor, body, details FROM case_events WHERE case_id = ? ORDER BY id DESC LIMIT 20`

// update changes the case row and bumps its version; the WHERE on the version read at the
// start makes a lost update impossible even if a writer slipped in.
func (r *reviewTx) update(set string, args ...any) error {
	args = append(args, db.Millis(r.now), r.c.ID, r.c.Version)
	res, err := r.tx.ExecContext(r.ctx, `UPDATE cases SET `+set+`, version = version + 1, updated_at = ?
		WHERE id = ? AND version = ?`, args...)
	if err != nil {
		return fmt.Errorf("%s: update case: %w", r.a, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errs.E(errs.Conflict, "This case changed while your %s was saved; it was not applied.", r.a)
	}
	r.bump = true
	return nil
}

// event adds a timeline entry of the actor; the details carry the version it made.
func (r *reviewTx) event(kind, body string, details map[string]any) error {
	if details == nil {
		details = map[string]any{}
	}
	if r.bump {
		details["version"] = r.c.Version + 1
	}
	if r.to != r.c.Status {
		details["from"], details["to"] = r.c.Status, r.to
	}
	b, err := json.Marshal(details)
	if err != nil {
		return err
	}
	_, err = r.tx.ExecContext(r.ctx, qInsertEvent, r.c.ID, db.Millis(r.now), r.by.Email, kind, r.c.Round, body, string(b))
	return err
}

// audit appends the action's entry: subject the case reference, actor the user's email.
func (r *reviewTx) audit(action string, details map[string]any) error {
	if details == nil {
		details = map[string]any{}
	}
	details["case_id"], details["round"] = r.c.ID, r.c.Round
	if r.to != r.c.Status {
		details["from"], details["to"] = r.c.Status, r.to
	}
	_, err := audit.Append(r.ctx, r.tx, audit.Entry{At: r.now, Actor: r.by.Email, Action: action, Subject: r.c.Reference,
		Details: details})
	return err
}

// step records a decision-like step in case_decisions (reports and the dashboard read it).
func (r *reviewTx) step(kind, decision, reason, comment string) error {
	return insertStep(r.ctx, r.tx, r.c, kind, decision, reason, comment, r.by.ID, r.by.Email, r.c.Status, r.to, r.now)
}

func insertStep(ctx context.Context, tx *sql.Tx, c *Case, kind, decision, reason, comment string, actorID int64,
	actor, from, to string, now time.Time) error {
	started := c.Details.RoundStartedAt
	if started == 0 {
		started = db.Millis(c.CreatedAt)
	}
	// The SLA due time and paused time as they stand now (00014): reports and the dashboard
	// compute time to decision and breaches from them, whatever happens to the case later.
	_, err := tx.ExecContext(ctx, `INSERT INTO case_decisions (case_id, round, kind, decision, reason_code, comment,
		actor_id, actor, status_from, status_to, at, round_started_at, sla_due, paused_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Round, kind, decision, reason, comment, nullID(actorID), actor, from, to, db.Millis(now), started,
		db.Millis(c.SLADue), c.SLAPausedMS)
	if err != nil {
		return fmt.Errorf("case_decisions: %w", err)
	}
	return nil
}

// outbox queues the decision for the outbox worker (case.decided).
func (r *reviewTx) outbox(decision, reason, comment string) error {
	return enqueueDecision(r.ctx, r.tx, OutboxDecision{CaseID: r.c.ID, IntegrationID: r.c.IntegrationID,
		Reference: r.c.Reference, Round: r.c.Round, Decision: decision, Status: r.to, ReasonCode: reason,
		Comment: comment, Actor: r.by.Email}, r.now)
}

// Claim puts the case in the actor's hands: a new case goes into review. A case someone
// else holds is refused with who holds it (a lead uses TakeOver).
func (s *Store) Claim(ctx context.Context, caseID string, version int64, by Actor) (*Case, error) {
	return s.review(ctx, caseID, version, by, ActClaim, func(r *reviewTx) error {
		if err := r.update(`status = ?, assignee_id = ?`, r.to, by.ID); err != nil {
			return err
		}
		if err := r.event(EventClaimed, "claimed the case", nil); err != nil {
			return err
		}
		return r.audit("case.claimed", nil)
	})
}

// TakeOver moves a case someone else holds to the acting lead; the previous holder is named
// in the timeline and the audit entry.
func (s *Store) TakeOver(ctx context.Context, caseID string, version int64, by Actor) (*Case, error) {
	return s.review(ctx, caseID, version, by, ActTakeOver, func(r *reviewTx) error {
		prev, err := userEmail(ctx, r.tx, r.c.AssigneeID)
		if err != nil {
			return err
		}
		if err := r.update(`assignee_id = ?`, by.ID); err != nil {
			return err
		}
		if err := r.event(EventTakenOver, "took the case over from "+prev, map[string]any{"previous_assignee": prev}); err != nil {
			return err
		}
		return r.audit("case.taken_over", map[string]any{"previous_assignee": prev})
	})
}

// Release gives the case back: a case in review returns to the unassigned queue.
func (s *Store) Release(ctx context.Context, caseID string, version int64, by Actor) (*Case, error) {
	return s.review(ctx, caseID, version, by, ActRelease, func(r *reviewTx) error {
		prev, err := userEmail(ctx, r.tx, r.c.AssigneeID)
		if err != nil {
			return err
		}
		if err := r.update(`status = ?, assignee_id = NULL`, r.to); err != nil {
			return err
		}
		if err := r.event(EventReleased, "released the case", map[string]any{"previous_assignee": prev}); err != nil {
			return err
		}
		return r.audit("case.released", map[string]any{"previous_assignee": prev})
	})
}

// Assignee is a user a case can be given to.
type Assignee struct {
	ID    int64
	Email string
	Name  string
	Role  string
}

// FindAssignee resolves a user id or email to an active analyst or lead (errs.Invalid otherwise).
func (s *Store) FindAssignee(ctx context.Context, who string) (Assignee, error) {
	return findAssignee(ctx, s.DB.Read, who)
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func findAssignee(ctx context.Context, q queryRower, who string) (Assignee, error) {
	who = strings.TrimSpace(who)
	if who == "" {
		return Assignee{}, errs.E(errs.Invalid, "assignee: choose who gets the case.")
	}
	var u Assignee
	var disabled sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT id, email, name, role, disabled_at FROM users WHERE email = ?
		OR (id = ? AND ? GLOB '[0-9]*')`, who, who, who).Scan(&u.ID, &u.Email, &u.Name, &u.Role, &disabled)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return u, errs.E(errs.Invalid, "assignee: there is no user %q.", who)
	case err != nil:
		return u, err
	case disabled.Valid:
		return u, errs.E(errs.Invalid, "assignee: %s is disabled.", u.Email)
	case u.Role != RoleAnalyst && u.Role != RoleLead:
		return u, errs.E(errs.Invalid, "assignee: %s is %s, and only analysts and leads work cases.", u.Email, articled(u.Role))
	}
	return u, nil
}

func articled(role string) string {
	if role == "admin" || role == "auditor" || role == "analyst" {
		return "an " + role
	}
	return "a " + role
}

// Assign gives the case to a user (a lead's action): who is a user id or email. Escalated
// cases and cases awaiting a second approval go to leads only.
func (s *Store) Assign(ctx context.Context, caseID string, version int64, by Actor, who string) (*Case, error) {
	return s.review(ctx, caseID, version, by, ActAssign, func(r *reviewTx) error {
		u, err := findAssignee(ctx, r.tx, who)
		if err != nil {
			return err
		}
		if u.ID == r.c.AssigneeID {
			return errs.E(errs.Conflict, "This case is already assigned to %s.", u.Email)
		}
		if u.Role != RoleLead && (r.c.Status == StatusEscalated || r.c.Status == StatusAwaitingSecondApproval) {
			return errs.E(errs.Invalid, "assignee: an %s case goes to a lead; %s is an analyst.", statusWords(r.c.Status), u.Email)
		}
		if u.ID == r.c.FirstApproverID {
			return errs.E(errs.Invalid, "assignee: %s gave the first approval; the second must come from another lead.", u.Email)
		}
		prev := ""
		if r.c.AssigneeID != 0 {
			if prev, err = userEmail(ctx, r.tx, r.c.AssigneeID); err != nil {
				return err
			}
		}
		if err := r.update(`status = ?, assignee_id = ?`, r.to, u.ID); err != nil {
			return err
		}
		if _, err := r.tx.ExecContext(ctx, `UPDATE users SET last_assigned_at = ? WHERE id = ?`, db.Millis(r.now), u.ID); err != nil {
			return err
		}
		details := map[string]any{"assignee": u.Email, "previous_assignee": prev}
		if err := r.event(EventAssigned, "assigned the case to "+u.Email, details); err != nil {
			return err
		}
		return r.audit("case.assigned", map[string]any{"assignee": u.Email, "previous_assignee": prev})
	})
}

// AssignResult is the outcome of a bulk assignment.
type AssignResult struct {
	Assigned []string          // references
	Refused  map[string]string // reference (or id) → reason
}

// AssignMany assigns several cases, each in its own transaction (one action, one
// transaction), and reports which were refused and why.
func (s *Store) AssignMany(ctx context.Context, caseIDs []string, by Actor, who string) (AssignResult, error) {
	res := AssignResult{Refused: map[string]string{}}
	if len(caseIDs) == 0 {
		return res, errs.E(errs.Invalid, "case: tick at least one case to assign.")
	}
	if len(caseIDs) > 200 {
		return res, errs.E(errs.Invalid, "case: at most 200 cases at once.")
	}
	if _, err := s.FindAssignee(ctx, who); err != nil {
		return res, err
	}
	for _, caseID := range caseIDs {
		c, err := s.Assign(ctx, caseID, 0, by, who)
		switch {
		case err == nil:
			res.Assigned = append(res.Assigned, c.Reference)
		case errs.Message(err) != "":
			name := caseID
			if c, gerr := s.Get(ctx, caseID); gerr == nil {
				name = c.Reference
			}
			res.Refused[name] = errs.Message(err)
		default:
			return res, err
		}
	}
	return res, nil
}

// Note adds a note to the timeline. A note does not change the case, so it leaves the
// version alone: a colleague's note never makes someone's decision stale.
func (s *Store) Note(ctx context.Context, caseID string, by Actor, body string) (*Case, error) {
	body = strings.TrimSpace(body)
	switch n := utf8.RuneCountInString(body); {
	case !utf8.ValidString(body):
		return nil, errs.E(errs.Invalid, "body: not valid text (UTF-8).")
	case n == 0:
		return nil, errs.E(errs.Invalid, "body: write the note first.")
	case n > MaxNoteRunes:
		return nil, errs.E(errs.Invalid, "body: at most %d characters.", MaxNoteRunes)
	}
	return s.review(ctx, caseID, 0, by, ActNote, func(r *reviewTx) error {
		if err := r.event(EventNote, body, nil); err != nil {
			return err
		}
		return r.audit("case.note_added", map[string]any{"body": body})
	})
}

func cleanComment(comment string, required bool, what string) (string, error) {
	comment = strings.TrimSpace(comment)
	switch n := utf8.RuneCountInString(comment); {
	case !utf8.ValidString(comment):
		return "", errs.E(errs.Invalid, "comment: not valid text (UTF-8).")
	case n == 0 && required:
		return "", errs.E(errs.Invalid, "comment: %s needs a comment.", what)
	case n > MaxCommentRunes:
		return "", errs.E(errs.Invalid, "comment: at most %d characters.", MaxCommentRunes)
	}
	return comment, nil
}

// decisionAction maps the decision field to its lifecycle action.
var decisionAction = map[string]Action{
	DecisionApprove: ActApprove, DecisionReject: ActReject, DecisionRequestInfo: ActRequestInfo, DecisionReturn: ActReturn,
}

// Decision values beyond approve and reject.
const (
	DecisionRequestInfo = "request_info"
	DecisionReturn      = "return"
	DecisionEscalate    = "escalate"
)

// Decide applies a decision. Approve of a sensitive case (high risk or four-eyes) is the
// first approval: the case awaits a second, different lead. Approval is refused while a
// document of the round is rejected. Reject needs a comment; every decision but return
// needs an active reason code of its kind. request_info pauses the SLA clock.
func (s *Store) Decide(ctx context.Context, in DecisionInput) (*Case, error) {
	a, ok := decisionAction[in.Decision]
	if !ok {
		return nil, errs.E(errs.Invalid, "decision: must be approve, reject or request_info (or return, for an escalated case).")
	}
	comment, err := cleanComment(in.Comment, a == ActReject || a == ActReturn, map[Action]string{
		ActReject: "A rejection", ActReturn: "Returning a case to the analyst"}[a])
	if err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(in.ReasonCode)
	return s.review(ctx, in.CaseID, in.Version, in.By, a, func(r *reviewTx) error {
		if a == ActReturn {
			return r.returnEscalation(comment)
		}
		if err := r.checkReason(in.Decision, reason); err != nil {
			return err
		}
		if a == ActApprove {
			if err := r.checkDocuments(); err != nil {
				return err
			}
		}
		kind := StepDecision
		if r.c.Status == StatusEscalated {
			kind = StepEscalationDecision
		}
		switch r.to {
		case StatusAwaitingSecondApproval:
			if err := r.update(`status = ?, first_approver_id = ?, assignee_id = NULL, escalated_by = NULL`, r.to, in.By.ID); err != nil {
				return err
			}
			if err := r.event(EventFirstApproval, fmt.Sprintf("approved (%s): a second lead must approve too", reason),
				map[string]any{"decision": DecisionApprove, "reason_code": reason, "comment": comment}); err != nil {
				return err
			}
			if err := r.audit("case.first_approved", map[string]any{"reason_code": reason, "comment": comment}); err != nil {
				return err
			}
			// Not a decision yet: nothing goes out until the second approval.
			return r.step(kind, DecisionApprove, reason, comment)
		case StatusPendingInfo:
			if err := r.update(`status = ?, sla_paused_at = ?, escalated_by = NULL`, r.to, db.Millis(r.now)); err != nil {
				return err
			}
			if err := r.event(EventInfoRequested, fmt.Sprintf("requested information (%s); the SLA is paused", reason),
				map[string]any{"decision": DecisionRequestInfo, "reason_code": reason, "comment": comment}); err != nil {
				return err
			}
		default: // approved, rejected
			if err := r.update(`status = ?, decision = ?, reason_code = ?, decided_at = ?,
				first_decided_at = coalesce(first_decided_at, ?), escalated_by = NULL`,
				r.to, in.Decision, reason, db.Millis(r.now), db.Millis(r.now)); err != nil {
				return err
			}
			if err := r.event(EventDecision, fmt.Sprintf("%s (%s)", decisionWords[in.Decision], reason),
				map[string]any{"decision": in.Decision, "reason_code": reason, "comment": comment}); err != nil {
				return err
			}
		}
		if err := r.audit(auditDecision[in.Decision], map[string]any{"reason_code": reason, "comment": comment}); err != nil {
			return err
		}
		if err := r.step(kind, in.Decision, reason, comment); err != nil {
			return err
		}
		return r.outbox(in.Decision, reason, comment)
	})
}

var decisionWords = map[string]string{DecisionApprove: "approved", DecisionReject: "rejected", DecisionRequestInfo: "requested information"}

var auditDecision = map[string]string{DecisionApprove: "case.approved", DecisionReject: "case.rejected",
	DecisionRequestInfo: "case.info_requested"}

// returnEscalation gives an escalated case back to whoever escalated it (or to the lead,
// when that is not known), in review.
func (r *reviewTx) returnEscalation(comment string) error {
	to := r.c.EscalatedBy
	if to == 0 {
		to = r.by.ID
	}
	email, err := userEmail(r.ctx, r.tx, to)
	if err != nil {
		return err
	}
	if err := r.update(`status = ?, assignee_id = ?, escalated_by = NULL`, r.to, to); err != nil {
		return err
	}
	if err := r.event(EventReturned, "returned the escalation to "+email,
		map[string]any{"decision": DecisionReturn, "assignee": email, "comment": comment}); err != nil {
		return err
	}
	if err := r.audit("case.escalation_returned", map[string]any{"assignee": email, "comment": comment}); err != nil {
		return err
	}
	return r.step(StepEscalationDecision, DecisionReturn, "", comment)
}

// checkReason refuses a reason code that is not an active code of the decision.
func (r *reviewTx) checkReason(decision, code string) error {
	if code == "" {
		return errs.E(errs.Invalid, "reason_code: choose a reason for the decision.")
	}
	var n int
	if err := r.tx.QueryRowContext(r.ctx, `SELECT count(*) FROM reason_codes WHERE action = ? AND code = ?
		AND retired_at IS NULL`, decision, code).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errs.E(errs.Invalid, "reason_code: %q is not a reason for %s (choose one from the list).", code,
			strings.ReplaceAll(decision, "_", " "))
	}
	return nil
}

// checkDocuments refuses approval while a document of the current round is rejected.
func (r *reviewTx) checkDocuments() error {
	rows, err := r.tx.QueryContext(r.ctx, qRejectedDocuments, r.c.ID, r.c.Round)
	if err != nil {
		return err
	}
	defer rows.Close()
	var bad []string
	for rows.Next() {
		var kind, reason string
		if err := rows.Scan(&kind, &reason); err != nil {
			return err
		}
		bad = append(bad, fmt.Sprintf("%s (%s)", strings.ReplaceAll(kind, "_", " "), reason))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(bad) > 0 {
		return errs.E(errs.Conflict, "Approval refused: a document of this round is rejected: %s. Accept it again, or reject the case or request information.",
			strings.Join(bad, ", "))
	}
	return nil
}

const qRejectedDocuments = `SELECT d.kind, r.reason FROM document_reviews r JOIN case_documents d ON d.id = r.document_id
	WHERE r.case_id = ? AND r.round = ? AND r.verdict = 'reject'`

// Escalate sends the case to the leads with a comment (required); the escalation remembers
// who escalated, to return the case to them.
func (s *Store) Escalate(ctx context.Context, caseID string, version int64, by Actor, comment string) (*Case, error) {
	comment, err := cleanComment(comment, true, "An escalation")
	if err != nil {
		return nil, err
	}
	return s.review(ctx, caseID, version, by, ActEscalate, func(r *reviewTx) error {
		if err := r.update(`status = ?, escalated_by = ?, assignee_id = NULL`, r.to, by.ID); err != nil {
			return err
		}
		if err := r.event(EventEscalated, "escalated the case to a lead",
			map[string]any{"decision": DecisionEscalate, "comment": comment}); err != nil {
			return err
		}
		if err := r.audit("case.escalated", map[string]any{"comment": comment}); err != nil {
			return err
		}
		return r.step(StepEscalation, DecisionEscalate, "", comment)
	})
}

// SecondApproval is the four-eyes step: approve (the case is approved, with the first
// approval's reason) or return (back in review, to the first approver). The first approver
// is refused either way: the second pair of eyes must be someone else's.
func (s *Store) SecondApproval(ctx context.Context, caseID string, version int64, by Actor, decision, comment string) (*Case, error) {
	a := map[string]Action{DecisionApprove: ActSecondApprove, DecisionReturn: ActSecondReturn}[decision]
	if a == "" {
		return nil, errs.E(errs.Invalid, "decision: must be approve or return.")
	}
	comment, err := cleanComment(comment, a == ActSecondReturn, "Returning a case")
	if err != nil {
		return nil, err
	}
	return s.review(ctx, caseID, version, by, a, func(r *reviewTx) error {
		var reason string
		err := r.tx.QueryRowContext(ctx, `SELECT reason_code FROM case_decisions WHERE case_id = ? AND round = ?
			AND decision = 'approve' AND status_to = ? ORDER BY id DESC LIMIT 1`, r.c.ID, r.c.Round,
			StatusAwaitingSecondApproval).Scan(&reason)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		first, err := userEmail(ctx, r.tx, r.c.FirstApproverID)
		if err != nil {
			return err
		}
		if a == ActSecondReturn {
			if err := r.update(`status = ?, assignee_id = ?, first_approver_id = NULL`, r.to, nullID(r.c.FirstApproverID)); err != nil {
				return err
			}
			if err := r.event(EventSecondApprovalReturns, "returned the case to "+first+" instead of approving it",
				map[string]any{"decision": DecisionReturn, "comment": comment, "first_approver": first}); err != nil {
				return err
			}
			if err := r.audit("case.second_approval_returned", map[string]any{"comment": comment, "first_approver": first}); err != nil {
				return err
			}
			return r.step(StepSecondApproval, DecisionReturn, reason, comment)
		}
		if err := r.checkDocuments(); err != nil {
			return err
		}
		if err := r.update(`status = ?, decision = ?, reason_code = ?, decided_at = ?,
			first_decided_at = coalesce(first_decided_at, ?)`, r.to, DecisionApprove, reason, db.Millis(r.now),
			db.Millis(r.now)); err != nil {
			return err
		}
		if err := r.event(EventSecondApproval, fmt.Sprintf("gave the second approval (first: %s): approved (%s)", first, reason),
			map[string]any{"decision": DecisionApprove, "reason_code": reason, "comment": comment, "first_approver": first}); err != nil {
			return err
		}
		if err := r.audit("case.second_approved", map[string]any{"reason_code": reason, "comment": comment,
			"first_approver": first}); err != nil {
			return err
		}
		if err := r.step(StepSecondApproval, DecisionApprove, reason, comment); err != nil {
			return err
		}
		return r.outbox(DecisionApprove, reason, comment)
	})
}

// DocumentReview is a document's verdict in its round.
type DocumentReview struct {
	DocumentID string
	Round      int
	Verdict    string // accept, reject
	Reason     string
	Reviewer   string // email
	At         time.Time
}

// ReviewDocument marks a document of the current round accepted or rejected (a reason is
// required to reject). A rejected document blocks approval until it is accepted again.
func (s *Store) ReviewDocument(ctx context.Context, caseID, docID string, version int64, by Actor, verdict, reason string) (*Case, error) {
	if verdict != "accept" && verdict != "reject" {
		return nil, errs.E(errs.Invalid, "verdict: must be accept or reject.")
	}
	reason, err := cleanComment(reason, verdict == "reject", "A rejected document")
	if err != nil {
		return nil, errs.E(errs.Invalid, "reason: %s", strings.TrimPrefix(errs.Message(err), "comment: "))
	}
	if !id.Valid(docID) {
		return nil, errs.E(errs.NotFound, "There is no such document.")
	}
	return s.review(ctx, caseID, version, by, ActReviewDocument, func(r *reviewTx) error {
		var kind string
		var round int
		err := r.tx.QueryRowContext(ctx, `SELECT kind, round FROM case_documents WHERE id = ? AND case_id = ?`,
			docID, r.c.ID).Scan(&kind, &round)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "There is no such document.")
		}
		if err != nil {
			return err
		}
		if round != r.c.Round {
			return errs.E(errs.Conflict, "This document belongs to round %d; only documents of the current round (%d) are reviewed.", round, r.c.Round)
		}
		if _, err := r.tx.ExecContext(ctx, `INSERT INTO document_reviews (document_id, case_id, round, verdict, reason,
			reviewer_id, at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (document_id) DO UPDATE SET verdict = excluded.verdict,
			reason = excluded.reason, reviewer_id = excluded.reviewer_id, at = excluded.at`,
			docID, r.c.ID, round, verdict, reason, by.ID, db.Millis(r.now)); err != nil {
			return err
		}
		if err := r.update(`status = status`); err != nil {
			return err
		}
		words := map[string]string{"accept": "accepted", "reject": "rejected"}[verdict]
		body := fmt.Sprintf("%s the %s", words, strings.ReplaceAll(kind, "_", " "))
		if reason != "" {
			body += ": " + reason
		}
		details := map[string]any{"document_id": docID, "kind": kind, "verdict": verdict, "reason": reason}
		if err := r.event(EventDocumentReviewed, body, details); err != nil {
			return err
		}
		return r.audit("case.document_reviewed", details)
	})
}

const qDocumentReviews = `SELECT r.document_id, r.round, r.verdict, r.reason, coalesce(u.email, ''), r.at
	FROM document_reviews r LEFT JOIN users u ON u.id = r.reviewer_id WHERE r.case_id = ? AND r.round = ?`

// DocumentReviews returns the verdicts of the case's current-round documents by document id.
func (s *Store) DocumentReviews(ctx context.Context, caseID string, round int) (map[string]DocumentReview, error) {
	rows, err := s.DB.Read.QueryContext(ctx, qDocumentReviews, caseID, round)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]DocumentReview{}
	for rows.Next() {
		var d DocumentReview
		var at int64
		if err := rows.Scan(&d.DocumentID, &d.Round, &d.Verdict, &d.Reason, &d.Reviewer, &at); err != nil {
			return nil, err
		}
		d.At = db.Time(at)
		out[d.DocumentID] = d
	}
	return out, rows.Err()
}

// The queries of POST /queues/next. Each reads one index in SLA order and stops at the
// first row; TestReviewQueryPlans holds them to it.
//
// What an analyst may work: new, unassigned, low or medium risk and not four-eyes, the only
// cases an analyst decides alone (cases_next_plain, a partial index of exactly those; named,
// because without statistics SQLite prefers cases_status_due and filters row by row).
// A lead: the most urgent of new, escalated, and awaiting a second approval that someone
// else approved first (cases_status_due).
const (
	qNextPlain = `SELECT id, sla_due FROM cases INDEXED BY cases_next_plain WHERE status = 'new' AND assignee_id IS NULL AND four_eyes = 0
		AND risk_level IN ('low', 'medium') ORDER BY sla_due, id LIMIT 1`
	qNextByStatus = `SELECT id, sla_due FROM cases WHERE status = ? AND assignee_id IS NULL
		AND (first_approver_id IS NULL OR first_approver_id <> ?) ORDER BY sla_due, id LIMIT 1`
)

// Next claims the most urgent case the actor may work (SLA due first) and returns it; nil
// when there is none. The claim checks the case again in its own transaction, so two people
// pressing Next at once never get the same case: the second picks again.
func (s *Store) Next(ctx context.Context, by Actor) (*Case, error) {
	if by.Role != RoleAnalyst && by.Role != RoleLead {
		return nil, errs.E(errs.Forbidden, "Your role does not work cases.")
	}
	for attempt := 0; ; attempt++ {
		picked, err := s.pickNext(ctx, by)
		if err != nil || picked == "" {
			return nil, err
		}
		c, err := s.Claim(ctx, picked, 0, by)
		if (errs.Code(err) == errs.Conflict || errs.Code(err) == errs.Forbidden) && attempt < 3 {
			continue // someone claimed it between the pick and the claim: pick again
		}
		return c, err
	}
}

func (s *Store) pickNext(ctx context.Context, by Actor) (string, error) {
	best, bestDue := "", int64(0)
	consider := func(q string, args ...any) error {
		var caseID string
		var due int64
		err := s.DB.Read.QueryRowContext(ctx, q, args...).Scan(&caseID, &due)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if best == "" || due < bestDue || (due == bestDue && caseID < best) {
			best, bestDue = caseID, due
		}
		return nil
	}
	if by.Role == RoleAnalyst {
		return best, consider(qNextPlain)
	}
	for _, st := range []string{StatusNew, StatusEscalated, StatusAwaitingSecondApproval} {
		if err := consider(qNextByStatus, st, by.ID); err != nil {
			return "", err
		}
	}
	return best, nil
}

// SetAvailability marks the user unavailable until the time (zero: available now);
// auto-assignment skips them meanwhile.
func (s *Store) SetAvailability(ctx context.Context, by Actor, until time.Time) error {
	now := s.now()
	if !until.IsZero() {
		switch {
		case !until.After(now):
			return errs.E(errs.Invalid, "until: must be in the future (or empty to be available now).")
		case until.After(now.Add(366 * 24 * time.Hour)):
			return errs.E(errs.Invalid, "until: at most a year ahead.")
		}
	}
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var v any
		text := "available"
		if !until.IsZero() {
			v, text = db.Millis(until), "unavailable until "+until.UTC().Format(time.RFC3339)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET unavailable_until = ?, updated_at = ? WHERE id = ?`, v,
			db.Millis(now), by.ID); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Email, Action: "user.availability_set",
			Subject: by.Email, Details: map[string]any{"availability": text}})
		return err
	})
}

// UnavailableUntil is when the user is available again; zero when available now.
func (s *Store) UnavailableUntil(ctx context.Context, userID int64) (time.Time, error) {
	var until sql.NullInt64
	err := s.DB.Read.QueryRowContext(ctx, `SELECT unavailable_until FROM users WHERE id = ?`, userID).Scan(&until)
	if err != nil || !until.Valid || !db.Time(until.Int64).After(s.now()) {
		return time.Time{}, err
	}
	return db.Time(until.Int64), nil
}

// Workers lists the active analysts and leads, for the assign forms.
func (s *Store) Workers(ctx context.Context) ([]Assignee, error) {
	rows, err := s.DB.Read.QueryContext(ctx, `SELECT id, email, name, role FROM users
		WHERE role IN ('analyst', 'lead') AND disabled_at IS NULL ORDER BY role, email`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Assignee
	for rows.Next() {
		var u Assignee
		if err := rows.Scan(&u.ID, &u.Email, &u.Name, &u.Role); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// UserEmail is the email of a user id, for pages that name an assignee or first approver.
func (s *Store) UserEmail(ctx context.Context, userID int64) (string, error) {
	return userEmail(ctx, s.DB.Read, userID)
}

func userEmail(ctx context.Context, q queryRower, userID int64) (string, error) {
	if userID == 0 {
		return "", nil
	}
	var email string
	err := q.QueryRowContext(ctx, `SELECT email FROM users WHERE id = ?`, userID).Scan(&email)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Sprintf("user %d", userID), nil
	}
	return email, err
}
