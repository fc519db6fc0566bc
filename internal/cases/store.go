package cases

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/id"
)

// Store opens and updates cases from provider results and reads them back.
type Store struct {
	DB      *db.DB
	Sealer  *crypto.Sealer
	Now     func() time.Time // nil means time.Now
	Routing Routing
	// AutoAssign gives each new case round-robin to an available analyst or lead
	// (config AutoAssign; off by default).
	AutoAssign bool
	// Search answers queue searches from memory (nil: from SQLite alone). One per
	// database, shared by every Store on it.
	Search *SearchIndex

	stmts stmtCache
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Source is the integration a result came from, as routing and the audit trail need it.
type Source struct {
	IntegrationID   string
	IntegrationName string
	Provider        string
	Queue           string // the integration's default queue ("" means DefaultQueue)
	AutoApprove     bool   // the integration's auto-approve rule is on
}

// Actor is how the audit trail and the timeline name the integration's automatic actions.
func (src Source) Actor() string { return "system:" + src.IntegrationName }

// Outcome says what applying a result did to its case.
type Outcome struct {
	CaseID       string
	Created      bool // a new case
	Updated      bool // a newer result updated the case's data (status unchanged, or pending_info → new)
	Reopened     bool // a new round on a decided case: back to new
	Stale        bool // an older result arrived late: noted on the timeline, nothing else changed
	Echo         bool // the provider confirmed the status override kycdesk wrote: noted, nothing else changed
	AutoApproved bool // the integration's auto-approve rule decided the case
	Unchanged    bool // a redelivery of the result already applied, or an inbox row already done
}

// Input is one result to apply, with the integration it came from and the inbox row it was
// read from (0 when it came from elsewhere, e.g. a test).
type Input struct {
	Source  Source
	InboxID int64
	Result  Result
}

// Prepared is an Input whose documents are already checked, hashed and sealed: the CPU work
// done outside the write transaction, on any goroutine.
type Prepared struct {
	in       Input
	docs     []preparedDocument
	docFlags []string
}

// Prepare validates the result and seals its documents. A result that can never be applied
// (no reference, no integration) is errs.Invalid.
func (s *Store) Prepare(in Input) (*Prepared, error) {
	switch {
	case in.Source.IntegrationID == "":
		return nil, errs.E(errs.Invalid, "result has no integration")
	case strings.TrimSpace(in.Result.Reference) == "":
		return nil, errs.E(errs.Invalid, "result has no reference")
	}
	refs, capFlag := boundDocuments(in.Result.Documents)
	docs, flags, err := prepareDocuments(s.Sealer, refs)
	if err != nil {
		return nil, err
	}
	if capFlag != "" {
		flags = append(flags, capFlag)
	}
	return &Prepared{in: in, docs: docs, docFlags: flags}, nil
}

// Apply applies one result in its own transaction: the case row, checks, documents, timeline,
// audit entry and the inbox row's inbox_applied record commit together or not at all.
func (s *Store) Apply(ctx context.Context, src Source, inboxID int64, r Result) (Outcome, error) {
	p, err := s.Prepare(Input{Source: src, InboxID: inboxID, Result: r})
	if err != nil {
		return Outcome{}, err
	}
	var out Outcome
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		out, err = s.ApplyPrepared(ctx, tx, p)
		return err
	})
	if err != nil {
		return Outcome{}, err
	}
	return out, nil
}

// ApplyPrepared applies a prepared result inside the caller's transaction (the ingest worker
// commits many in one transaction, each under a savepoint). One case per (integration,
// reference): created on the first result; a newer result updates it; an older one never
// overwrites a newer; a new round on a decided case reopens it; our own FrankieOne echo
// changes nothing. The inbox row, when given, is recorded as applied (inbox_applied, the
// idempotency key): a row already recorded is not applied again. Marking the row done in the
// inbox file is the caller's business.
func (s *Store) ApplyPrepared(ctx context.Context, tx *sql.Tx, p *Prepared) (Outcome, error) {
	a := &applier{s: s, ctx: ctx, tx: tx, p: p, src: p.in.Source, now: s.now()}
	a.r = normalise(p.in.Result, a.now)
	if p.in.InboxID != 0 {
		var caseID string
		err := s.queryRow(ctx, tx, qInboxApplied, p.in.InboxID).Scan(&caseID)
		if err == nil {
			// An earlier run applied it (and may have stopped before marking the inbox row
			// done, in the inbox's own file): applying again would only repeat.
			return Outcome{CaseID: caseID, Unchanged: true}, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Outcome{}, err
		}
	}
	out, err := a.apply()
	if err != nil {
		return Outcome{}, err
	}
	if p.in.InboxID != 0 {
		if _, err := s.exec(ctx, tx, qInboxDone, db.Millis(a.now), out.CaseID, p.in.InboxID); err != nil {
			return Outcome{}, fmt.Errorf("record inbox row %d applied: %w", p.in.InboxID, err)
		}
	}
	return out, nil
}

// applier applies one result in one transaction.
type applier struct {
	s   *Store
	ctx context.Context
	tx  *sql.Tx
	p   *Prepared
	src Source
	r   Result
	now time.Time
}

func (a *applier) apply() (Outcome, error) {
	c, err := scanCase(a.s.queryRow(a.ctx, a.tx, qCaseByRef, a.src.IntegrationID, a.r.Reference))
	if errors.Is(err, sql.ErrNoRows) {
		return a.create()
	}
	if err != nil {
		return Outcome{}, err
	}
	occurred := db.Millis(a.r.OccurredAt)
	if a.r.OverrideRequestID != "" {
		ours, err := a.ourOverride(a.r.OverrideRequestID)
		if err != nil {
			return Outcome{}, err
		}
		if ours {
			return a.echo(c)
		}
	}
	switch {
	case occurred < db.Millis(c.ResultAt):
		return a.stale(c)
	case occurred == db.Millis(c.ResultAt) && a.r.Round == c.RoundKey:
		return Outcome{CaseID: c.ID, Unchanged: true}, nil
	case Decided(c.Status) && a.r.Round != c.RoundKey:
		return a.reopen(c)
	}
	return a.update(c)
}

func (a *applier) ourOverride(requestID string) (bool, error) {
	return overrideIsOurs(a.s.queryRow(a.ctx, a.tx, qOverrideCount, requestID))
}

// OurOverride reports whether requestID names a status override kycdesk wrote back: the
// provider's echo of it must not reopen the case. The worker asks before fetching documents
// it would not need; the applier asks again inside its transaction.
func (s *Store) OurOverride(ctx context.Context, requestID string) (bool, error) {
	return overrideIsOurs(s.DB.Read.QueryRowContext(ctx, qOverrideCount, requestID))
}

func overrideIsOurs(row *sql.Row) (bool, error) {
	var n int
	err := row.Scan(&n)
	return n > 0, err
}

func (a *applier) create() (Outcome, error) {
	caseID := id.New()
	route := a.s.Routing.Route(a.src, &a.r, a.now)
	details := a.details(route, db.Millis(a.now))
	applicant := a.r.Applicant
	appSealed, err := a.sealApplicant(caseID, applicant)
	if err != nil {
		return Outcome{}, err
	}
	detailsJSON, _ := json.Marshal(details)
	_, err = a.s.exec(a.ctx, a.tx, qInsertCase,
		caseID, a.src.IntegrationID, a.src.Provider, a.r.Reference, StatusNew, a.r.Result, a.r.ProviderStatus,
		route.RiskLevel, route.RiskDerived, a.r.RiskScore, route.Queue, route.FourEyes, a.r.Round,
		db.Millis(a.r.OccurredAt), applicant.FullName, applicant.GivenName, applicant.FamilyName, applicant.ExternalID,
		appSealed, string(detailsJSON), a.sealFields(caseID, a.r.Fields), db.Millis(route.SLADue),
		db.Millis(a.now), db.Millis(a.now), a.s.idNumberHash(applicant.IDNumber))
	if err != nil {
		return Outcome{}, fmt.Errorf("insert case: %w", err)
	}
	if err := a.insertChecks(caseID, 1); err != nil {
		return Outcome{}, err
	}
	if err := a.insertDocuments(caseID, 1, true); err != nil {
		return Outcome{}, err
	}
	body := fmt.Sprintf("Result received from %s: %s, risk %s.", a.src.IntegrationName, a.r.Result, route.RiskLevel)
	if err := a.event(caseID, 1, EventResultReceived, body, a.resultDetails(route)); err != nil {
		return Outcome{}, err
	}
	if err := a.audit("case.created", caseID, 1, route, nil); err != nil {
		return Outcome{}, err
	}
	out := Outcome{CaseID: caseID, Created: true}
	if route.AutoApprove {
		if err := a.autoApprove(caseID, 1); err != nil {
			return Outcome{}, err
		}
		out.AutoApproved = true
	} else if err := a.autoAssign(caseID, 1, route); err != nil {
		return Outcome{}, err
	}
	return out, nil
}

// update applies a newer result to a case without starting a new round. The status stays,
// except pending_info (the information asked for has arrived: back to new, unassigned) and
// awaiting_second_approval (the first approval was given on older data: back to in_review).
func (a *applier) update(c *Case) (Outcome, error) {
	roundStart := db.Time(c.Details.RoundStartedAt)
	if c.Details.RoundStartedAt == 0 {
		roundStart = c.CreatedAt
	}
	route := a.s.Routing.Route(a.src, &a.r, roundStart)
	details := a.details(route, db.Millis(roundStart))
	applicant, appSealed, err := a.updatedApplicant(c.ID)
	if err != nil {
		return Outcome{}, err
	}
	status, assignee, firstApprover := c.Status, nullID(c.AssigneeID), nullID(c.FirstApproverID)
	// The SLA clock stood still while the case waited for information (request_info): the
	// due time moves on by every pause of the round.
	pausedMS, pausedAt := c.SLAPausedMS, any(nil)
	if !c.SLAPausedAt.IsZero() {
		pausedAt = db.Millis(c.SLAPausedAt)
	}
	var transition string
	switch c.Status {
	case StatusPendingInfo:
		status, assignee = StatusNew, nil
		if !c.SLAPausedAt.IsZero() {
			pausedMS += max(0, db.Millis(a.now)-db.Millis(c.SLAPausedAt))
			pausedAt = nil
		}
		transition = "New result arrived while information was requested: back to new (unassigned)."
	case StatusAwaitingSecondApproval:
		// Back to whoever gave the first approval (it held nobody while it waited), so the
		// case is in someone's "mine" queue rather than in none.
		status, firstApprover = StatusInReview, nil
		if assignee == nil {
			assignee = nullID(c.FirstApproverID)
		}
		transition = "New result arrived while awaiting second approval: the first approval was given on older data, back to in review."
	}
	detailsJSON, _ := json.Marshal(details)
	set := `status = ?, assignee_id = ?, first_approver_id = ?, result = ?, provider_status = ?, risk_level = ?,
		risk_derived = ?, risk_score = ?, four_eyes = ?, round_key = ?, result_at = ?, full_name = ?, given_name = ?,
		family_name = ?, external_id = ?, applicant_sealed = ?, details = ?, sla_due = ?, updated_at = ?,
		sla_paused_at = ?, sla_paused_ms = ?, version = version + 1, id_number_hash = ?`
	args := []any{status, assignee, firstApprover, a.r.Result, a.r.ProviderStatus, route.RiskLevel, route.RiskDerived,
		a.r.RiskScore, route.FourEyes, a.r.Round, db.Millis(a.r.OccurredAt), applicant.FullName, applicant.GivenName,
		applicant.FamilyName, applicant.ExternalID, appSealed, string(detailsJSON), db.Millis(route.SLADue) + pausedMS,
		db.Millis(a.now), pausedAt, pausedMS, a.s.idNumberHash(applicant.IDNumber)}
	if len(a.r.Fields) > 0 {
		set += `, details_sealed = ?`
		args = append(args, a.sealFields(c.ID, a.r.Fields))
	}
	if _, err := a.tx.ExecContext(a.ctx, `UPDATE cases SET `+set+` WHERE id = ?`, append(args, c.ID)...); err != nil {
		return Outcome{}, fmt.Errorf("update case: %w", err)
	}
	if _, err := a.tx.ExecContext(a.ctx, `DELETE FROM case_checks WHERE case_id = ? AND round = ?`, c.ID, c.Round); err != nil {
		return Outcome{}, err
	}
	if err := a.insertChecks(c.ID, c.Round); err != nil {
		return Outcome{}, err
	}
	if err := a.insertDocuments(c.ID, c.Round, false); err != nil {
		return Outcome{}, err
	}
	body := fmt.Sprintf("Newer result from %s: %s → %s, risk %s.", a.src.IntegrationName, c.Result, a.r.Result, route.RiskLevel)
	if Decided(c.Status) {
		body += " Same provider round on a decided case: data updated, the decision stands."
	}
	received := a.resultDetails(route)
	received["version"] = c.Version + 1
	if pausedMS != c.SLAPausedMS {
		received["sla_paused_ms"] = pausedMS
	}
	if err := a.event(c.ID, c.Round, EventResultReceived, body, received); err != nil {
		return Outcome{}, err
	}
	if transition != "" {
		if err := a.event(c.ID, c.Round, EventStatusChanged, transition,
			map[string]any{"from": c.Status, "to": status, "version": c.Version + 1}); err != nil {
			return Outcome{}, err
		}
	}
	if err := a.audit("case.updated", c.ID, c.Round, route, map[string]any{"status": status, "previous_status": c.Status}); err != nil {
		return Outcome{}, err
	}
	out := Outcome{CaseID: c.ID, Updated: true}
	if status == StatusNew && route.AutoApprove {
		if err := a.autoApprove(c.ID, c.Round); err != nil {
			return Outcome{}, err
		}
		out.AutoApproved = true
	} else if status == StatusNew && c.Status != StatusNew {
		if err := a.autoAssign(c.ID, c.Round, route); err != nil {
			return Outcome{}, err
		}
	}
	return out, nil
}

// reopen starts a new review round on a decided case. The decision leaves the case row but
// stays in the timeline and the audit trail.
func (a *applier) reopen(c *Case) (Outcome, error) {
	round := c.Round + 1
	route := a.s.Routing.Route(a.src, &a.r, a.now)
	details := a.details(route, db.Millis(a.now))
	applicant, appSealed, err := a.updatedApplicant(c.ID)
	if err != nil {
		return Outcome{}, err
	}
	detailsJSON, _ := json.Marshal(details)
	_, err = a.tx.ExecContext(a.ctx, `UPDATE cases SET status = ?, round = ?, round_key = ?, result = ?,
		provider_status = ?, risk_level = ?, risk_derived = ?, risk_score = ?, queue = ?, four_eyes = ?, result_at = ?,
		assignee_id = NULL, first_approver_id = NULL, decision = NULL, reason_code = NULL, decided_at = NULL,
		full_name = ?, given_name = ?, family_name = ?, external_id = ?, applicant_sealed = ?, details = ?,
		details_sealed = ?, sla_due = ?, updated_at = ?, version = version + 1, escalated_by = NULL,
		sla_paused_at = NULL, sla_paused_ms = 0, id_number_hash = ? WHERE id = ?`,
		StatusNew, round, a.r.Round, a.r.Result, a.r.ProviderStatus, route.RiskLevel, route.RiskDerived, a.r.RiskScore,
		route.Queue, route.FourEyes, db.Millis(a.r.OccurredAt), applicant.FullName, applicant.GivenName,
		applicant.FamilyName, applicant.ExternalID, appSealed, string(detailsJSON), a.sealFields(c.ID, a.r.Fields),
		db.Millis(route.SLADue), db.Millis(a.now), a.s.idNumberHash(applicant.IDNumber), c.ID)
	if err != nil {
		return Outcome{}, fmt.Errorf("reopen case: %w", err)
	}
	if err := a.insertChecks(c.ID, round); err != nil {
		return Outcome{}, err
	}
	if err := a.insertDocuments(c.ID, round, true); err != nil {
		return Outcome{}, err
	}
	body := fmt.Sprintf("Reopened for round %d: a new result from %s (%s, risk %s) after the decision %q (%s).",
		round, a.src.IntegrationName, a.r.Result, route.RiskLevel, c.Decision, c.ReasonCode)
	details2 := a.resultDetails(route)
	details2["previous_status"], details2["previous_decision"], details2["previous_reason_code"] = c.Status, c.Decision, c.ReasonCode
	details2["version"] = c.Version + 1
	if err := a.event(c.ID, round, EventReopened, body, details2); err != nil {
		return Outcome{}, err
	}
	if err := a.audit("case.reopened", c.ID, round, route, map[string]any{
		"previous_status": c.Status, "previous_decision": c.Decision, "previous_reason_code": c.ReasonCode,
	}); err != nil {
		return Outcome{}, err
	}
	out := Outcome{CaseID: c.ID, Reopened: true}
	if route.AutoApprove {
		if err := a.autoApprove(c.ID, round); err != nil {
			return Outcome{}, err
		}
		out.AutoApproved = true
	} else if err := a.autoAssign(c.ID, round, route); err != nil {
		return Outcome{}, err
	}
	return out, nil
}

func (a *applier) stale(c *Case) (Outcome, error) {
	body := fmt.Sprintf("Older result ignored: it occurred at %s, before the newest result applied (%s).",
		a.r.OccurredAt.UTC().Format(time.RFC3339), c.ResultAt.Format(time.RFC3339))
	details := map[string]any{"result": a.r.Result, "occurred_at": a.r.OccurredAt.UTC().Format(time.RFC3339Nano),
		"round_key": a.r.Round, "inbox_id": a.p.in.InboxID}
	if err := a.event(c.ID, c.Round, EventResultIgnored, body, details); err != nil {
		return Outcome{}, err
	}
	_, err := audit.Append(a.ctx, a.tx, audit.Entry{At: a.now, Actor: a.src.Actor(), Action: "case.stale_result_ignored",
		Subject: c.Reference, Details: map[string]any{"case_id": c.ID, "round": c.Round, "result": a.r.Result,
			"risk": a.r.RiskLevel, "occurred_at": a.r.OccurredAt.UTC().Format(time.RFC3339Nano)}})
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{CaseID: c.ID, Stale: true}, nil
}

// echo notes the provider's confirmation of the status override kycdesk wrote back: it must
// not reopen the case or touch its data.
func (a *applier) echo(c *Case) (Outcome, error) {
	body := fmt.Sprintf("Provider confirmed our decision (provider status %s).", a.r.ProviderStatus)
	details := map[string]any{"provider_status": a.r.ProviderStatus, "override_request_id": a.r.OverrideRequestID,
		"inbox_id": a.p.in.InboxID}
	if err := a.event(c.ID, c.Round, EventProviderConfirmed, body, details); err != nil {
		return Outcome{}, err
	}
	_, err := audit.Append(a.ctx, a.tx, audit.Entry{At: a.now, Actor: a.src.Actor(), Action: "case.provider_confirmed",
		Subject: c.Reference, Details: map[string]any{"case_id": c.ID, "round": c.Round, "provider_status": a.r.ProviderStatus,
			"override_request_id": a.r.OverrideRequestID}})
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{CaseID: c.ID, Echo: true}, nil
}

func (a *applier) autoApprove(caseID string, round int) error {
	if _, err := a.tx.ExecContext(a.ctx, `UPDATE cases SET status = ?, decision = ?, reason_code = ?, decided_at = ?,
		first_decided_at = coalesce(first_decided_at, ?), updated_at = ?, version = version + 1 WHERE id = ?`,
		StatusApproved, DecisionApprove, ReasonAutoPassLowRisk, db.Millis(a.now), db.Millis(a.now), db.Millis(a.now),
		caseID); err != nil {
		return fmt.Errorf("auto-approve: %w", err)
	}
	c, err := scanCase(a.tx.QueryRowContext(a.ctx, selectCase+` WHERE id = ?`, caseID))
	if err != nil {
		return err
	}
	body := "Approved automatically: the provider passed it, risk is low and no check hit (integration rule)."
	if err := a.event(caseID, round, EventDecision, body, map[string]any{"decision": DecisionApprove,
		"reason_code": ReasonAutoPassLowRisk, "from": StatusNew, "to": StatusApproved, "version": c.Version}); err != nil {
		return err
	}
	_, err = audit.Append(a.ctx, a.tx, audit.Entry{At: a.now, Actor: a.src.Actor(), Action: "case.auto_approved",
		Subject: a.r.Reference, Details: map[string]any{"case_id": caseID, "round": round, "decision": DecisionApprove,
			"reason_code": ReasonAutoPassLowRisk, "result": a.r.Result, "risk": RiskLow}})
	if err != nil {
		return err
	}
	if err := insertStep(a.ctx, a.tx, c, StepDecision, DecisionApprove, ReasonAutoPassLowRisk, "", 0, a.src.Actor(),
		StatusNew, StatusApproved, a.now); err != nil {
		return err
	}
	return enqueueDecision(a.ctx, a.tx, OutboxDecision{CaseID: caseID, IntegrationID: c.IntegrationID,
		Reference: c.Reference, Round: round, Decision: DecisionApprove, Status: StatusApproved,
		ReasonCode: ReasonAutoPassLowRisk, Actor: a.src.Actor()}, a.now)
}

// autoAssign gives a new case, round-robin, to the analyst or lead who was assigned a case
// longest ago and is available now (users.unavailable_until); only leads get sensitive
// cases (high risk or four-eyes), which an analyst may not decide alone. Off unless the
// store's AutoAssign is set (config auto_assign); with nobody available the case stays
// unassigned.
func (a *applier) autoAssign(caseID string, round int, route Route) error {
	if !a.s.AutoAssign {
		return nil
	}
	sensitive := route.FourEyes || route.RiskLevel == RiskHigh
	var userID int64
	var email string
	err := a.tx.QueryRowContext(a.ctx, `SELECT id, email FROM users WHERE role IN ('analyst', 'lead')
		AND disabled_at IS NULL AND (unavailable_until IS NULL OR unavailable_until <= ?) AND (? = 0 OR role = 'lead')
		ORDER BY last_assigned_at, id LIMIT 1`, db.Millis(a.now), sensitive).Scan(&userID, &email)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := a.tx.ExecContext(a.ctx, `UPDATE users SET last_assigned_at = ? WHERE id = ?`, db.Millis(a.now), userID); err != nil {
		return err
	}
	var version int64
	if err := a.tx.QueryRowContext(a.ctx, `UPDATE cases SET status = ?, assignee_id = ?, version = version + 1,
		updated_at = ? WHERE id = ? RETURNING version`, StatusInReview, userID, db.Millis(a.now), caseID).Scan(&version); err != nil {
		return fmt.Errorf("auto-assign: %w", err)
	}
	if err := a.event(caseID, round, EventAssigned, "assigned automatically (round-robin) to "+email,
		map[string]any{"assignee": email, "from": StatusNew, "to": StatusInReview, "version": version}); err != nil {
		return err
	}
	_, err = audit.Append(a.ctx, a.tx, audit.Entry{At: a.now, Actor: a.src.Actor(), Action: "case.auto_assigned",
		Subject: a.r.Reference, Details: map[string]any{"case_id": caseID, "round": round, "assignee": email}})
	return err
}

func (a *applier) audit(action, caseID string, round int, route Route, extra map[string]any) error {
	details := map[string]any{"case_id": caseID, "round": round, "result": a.r.Result, "risk": route.RiskLevel,
		"four_eyes": route.FourEyes}
	for k, v := range extra {
		details[k] = v
	}
	_, err := audit.Append(a.ctx, a.tx, audit.Entry{At: a.now, Actor: a.src.Actor(), Action: action,
		Subject: a.r.Reference, Details: details})
	return err
}

func (a *applier) event(caseID string, round int, kind, body string, details map[string]any) error {
	b, err := json.Marshal(details)
	if err != nil {
		return err
	}
	_, err = a.s.exec(a.ctx, a.tx, qInsertEvent, caseID, db.Millis(a.now), a.src.Actor(), kind, round, body, string(b))
	if err != nil {
		return fmt.Errorf("insert case event: %w", err)
	}
	return nil
}

// resultDetails is what a timeline event records about the result: no PII.
func (a *applier) resultDetails(route Route) map[string]any {
	return map[string]any{"result": a.r.Result, "risk": route.RiskLevel, "risk_derived": route.RiskDerived,
		"provider_status": a.r.ProviderStatus, "round_key": a.r.Round, "four_eyes": route.FourEyes,
		"occurred_at": a.r.OccurredAt.UTC().Format(time.RFC3339Nano), "inbox_id": a.p.in.InboxID,
		"sla_due": route.SLADue.UTC().Format(time.RFC3339)}
}

func (a *applier) details(route Route, roundStarted int64) Details {
	var flags []string
	flags = append(flags, a.r.Flags...)
	flags = append(flags, a.p.docFlags...)
	flags = append(flags, route.Flags...)
	return Details{RiskFactors: a.r.RiskFactors, Issues: a.r.Issues, Flags: flags, RoundStartedAt: roundStarted}
}

func (a *applier) insertChecks(caseID string, round int) error {
	for _, c := range a.r.Checks {
		details := "{}"
		if len(c.Details) > 0 && json.Valid(c.Details) {
			details = string(c.Details)
		}
		if _, err := a.s.exec(a.ctx, a.tx, qInsertCheck,
			caseID, round, c.Kind, c.Result, c.Score, c.Code, c.Message, c.Source, details); err != nil {
			return fmt.Errorf("insert check: %w", err)
		}
	}
	return nil
}

// insertDocuments stores the prepared documents of the round. The same provider_ref with the
// same bytes is already there (a redelivery): skipped. With different bytes (a newer result
// re-sent the image): the old one is replaced under a new id, and the timeline says so.
// fresh says the round has no documents yet (a new case or round): nothing to look up.
// It is the last write of a round's rows, and ends by rebuilding the round's API arrays.
func (a *applier) insertDocuments(caseID string, round int, fresh bool) error {
	for _, d := range a.p.docs {
		var oldID, oldSum string
		err := sql.ErrNoRows
		if !fresh {
			err = a.s.queryRow(a.ctx, a.tx, qDocumentByRef, caseID, round, d.ref.ProviderID).Scan(&oldID, &oldSum)
		}
		switch {
		case err == nil && oldSum == d.sha256:
			continue
		case err == nil:
			if _, err := a.tx.ExecContext(a.ctx, `DELETE FROM case_documents WHERE id = ?`, oldID); err != nil {
				return err
			}
			if err := a.event(caseID, round, EventDocumentReplaced, fmt.Sprintf("Document %s replaced by a newer image.",
				d.ref.ProviderID), map[string]any{"old_document_id": oldID, "old_sha256": oldSum, "sha256": d.sha256}); err != nil {
				return err
			}
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if _, err := a.s.exec(a.ctx, a.tx, qInsertDoc, id.New(), caseID, round, d.ref.Kind, d.ref.ProviderID, d.contentType, d.size, d.sha256, d.wrappedKey,
			d.ciphertext, db.Millis(a.now)); err != nil {
			return fmt.Errorf("insert document: %w", err)
		}
	}
	// The round's checks (written first) and documents are complete: build the API's arrays.
	return a.refreshAPIParts(caseID, round)
}

func (a *applier) sealApplicant(caseID string, ap Applicant) ([]byte, error) {
	b, err := json.Marshal(ap)
	if err != nil {
		return nil, err
	}
	return a.s.Sealer.Seal(b, applicantAD(caseID)), nil
}

// updatedApplicant is mergedApplicant, sealed for the case row.
func (a *applier) updatedApplicant(caseID string) (Applicant, []byte, error) {
	ap, err := a.mergedApplicant(caseID)
	if err != nil {
		return ap, nil, err
	}
	sealed, err := a.sealApplicant(caseID, ap)
	return ap, sealed, err
}

func (a *applier) sealFields(caseID string, fields []Field) []byte {
	if len(fields) == 0 {
		return nil
	}
	b, _ := json.Marshal(sealedDetails{Fields: fields})
	return a.s.Sealer.Seal(b, detailsAD(caseID))
}

// mergedApplicant is the stored applicant with the new result's non-empty values laid over
// it: a newer result that leaves a value out (another step of the provider's flow) does not
// erase what an earlier one established.
func (a *applier) mergedApplicant(caseID string) (Applicant, error) {
	var sealed []byte
	if err := a.s.queryRow(a.ctx, a.tx, qApplicant, caseID).Scan(&sealed); err != nil {
		return Applicant{}, err
	}
	var old Applicant
	if sealed != nil {
		plain, err := a.s.Sealer.Open(sealed, applicantAD(caseID))
		if err != nil {
			return Applicant{}, fmt.Errorf("case %s: open applicant: %w", caseID, err)
		}
		if err := json.Unmarshal(plain, &old); err != nil {
			return Applicant{}, err
		}
	}
	n := a.r.Applicant
	pick := func(newV, oldV string) string {
		if newV != "" {
			return newV
		}
		return oldV
	}
	return Applicant{
		ExternalID: pick(n.ExternalID, old.ExternalID), FullName: pick(n.FullName, old.FullName),
		GivenName: pick(n.GivenName, old.GivenName), MiddleName: pick(n.MiddleName, old.MiddleName),
		FamilyName: pick(n.FamilyName, old.FamilyName), DateOfBirth: pick(n.DateOfBirth, old.DateOfBirth),
		DateOfBirthRaw: pick(n.DateOfBirthRaw, old.DateOfBirthRaw), Sex: pick(n.Sex, old.Sex),
		Nationality: pick(n.Nationality, old.Nationality), IDNumber: pick(n.IDNumber, old.IDNumber),
		Address: pick(n.Address, old.Address),
	}, nil
}

func nullID(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// normalise makes a result safe to store whatever the adapter left in it: a case result the
// schema accepts, no "N/A" stored as a value, a time to order it by.
func normalise(r Result, now time.Time) Result {
	switch r.Result {
	case ResultPass, ResultFail, ResultReview:
	default:
		r.Flags = append(r.Flags, "case result not understood: set to review")
		r.Result = ResultReview
	}
	if r.OccurredAt.IsZero() {
		r.OccurredAt = now
	}
	ap := &r.Applicant
	for _, f := range []*string{&ap.ExternalID, &ap.FullName, &ap.GivenName, &ap.MiddleName, &ap.FamilyName,
		&ap.DateOfBirth, &ap.DateOfBirthRaw, &ap.Sex, &ap.Nationality, &ap.IDNumber, &ap.Address} {
		*f = strings.TrimSpace(*f)
		if missing(*f) {
			*f = ""
		}
	}
	if len(r.Fields) > 0 {
		fields := make([]Field, len(r.Fields))
		copy(fields, r.Fields)
		for i := range fields {
			if missing(strings.TrimSpace(fields[i].Value)) && fields[i].Value != "" {
				fields[i].Value, fields[i].Missing = "", true
			}
		}
		r.Fields = fields
	}
	bound(&r)
	return r
}

// missing reports a provider's "no value" words; the adapters map them already, this is the
// store's own guard so that "N/A" is never shown as somebody's name.
func missing(s string) bool { return strings.EqualFold(s, "N/A") || strings.EqualFold(s, "null") }
