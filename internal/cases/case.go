// Package cases is kycdesk's case domain: one case per verification, opened and updated from
// normalised provider results, routed to a queue with a risk level and an SLA, read by the workspace.
package cases

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/id"
)

// Case statuses (DESIGN.md, "Case lifecycle").
const (
	StatusNew                    = "new"
	StatusInReview               = "in_review"
	StatusPendingInfo            = "pending_info"
	StatusEscalated              = "escalated"
	StatusAwaitingSecondApproval = "awaiting_second_approval"
	StatusApproved               = "approved"
	StatusRejected               = "rejected"
)

// Decisions stored on a case.
const (
	DecisionApprove = "approve"
	DecisionReject  = "reject"
)

// Timeline event kinds written by ingestion.
const (
	EventResultReceived    = "result_received"    // a first or newer provider result was applied
	EventResultIgnored     = "result_ignored"     // an older result arrived late and changed nothing
	EventReopened          = "reopened"           // a new provider round on a decided case
	EventStatusChanged     = "status_changed"     // a system transition (pending_info → new, ...)
	EventProviderConfirmed = "provider_confirmed" // FrankieOne echoed the status override we wrote
	EventDecision          = "decision"           // a decision (here: the auto-approve rule)
	EventDocumentReplaced  = "document_replaced"  // a newer result carried a different image under the same id
)

// ReasonAutoPassLowRisk is the reason code of the auto-approve rule.
const ReasonAutoPassLowRisk = "auto_pass_low_risk"

// Decided reports whether status is a final decision.
func Decided(status string) bool { return status == StatusApproved || status == StatusRejected }

// Case is one verification under review. Applicant columns used in lists are plain; the full
// applicant and the OCR fields are sealed and read with Applicant and Fields.
type Case struct {
	ID             string
	IntegrationID  string
	Provider       string
	Reference      string // the provider's identity of the verification
	Status         string
	Result         string // ResultPass, ResultFail, ResultReview
	ProviderStatus string
	RiskLevel      string
	RiskDerived    bool // the provider gave no risk level: kycdesk derived it
	RiskScore      *float64
	Queue          string
	FourEyes       bool // a decision needs a second approver
	Round          int  // review round, 1 at creation, +1 on every reopen
	RoundKey       string
	ResultAt       time.Time // occurred_at of the newest result applied

	AssigneeID      int64 // 0: unassigned
	FirstApproverID int64
	Decision        string // "" while undecided
	ReasonCode      string
	DecidedAt       time.Time

	FullName   string
	GivenName  string
	FamilyName string
	ExternalID string

	Details Details

	SLADue    time.Time
	CreatedAt time.Time
	UpdatedAt time.Time

	// The review workflow (review.go, 00006_review.sql).
	Version        int64     // bumped by every change; an action names the version it was shown
	EscalatedBy    int64     // who escalated the current escalation; 0 when not escalated
	SLAPausedAt    time.Time // zero while the SLA clock runs
	SLAPausedMS    int64     // paused time of the round so far
	FirstDecidedAt time.Time // zero until first approved or rejected
}

// Details are the non-PII parts of the newest result, stored as JSON in cases.details.
type Details struct {
	RiskFactors []RiskFactor `json:"risk_factors,omitempty"`
	Issues      []Issue      `json:"issues,omitempty"`
	Flags       []string     `json:"flags,omitempty"` // mapping and routing notes shown to the reviewer
	// RoundStartedAt (unix ms) is when the current review round began (creation or reopen):
	// the SLA is measured from it when an update re-routes the case.
	RoundStartedAt int64 `json:"round_started_at,omitempty"`
}

// CaseCheck is a stored check with the round it belongs to.
type CaseCheck struct {
	ID    int64
	Round int
	Check
}

// Document is a stored document's metadata; the bytes are read with OpenDocument.
type Document struct {
	ID          string // the {doc} of /cases/{id}/documents/{doc}
	CaseID      string
	Round       int
	Kind        string
	ProviderRef string
	ContentType string
	Size        int64
	SHA256      string // lowercase hex of the bytes as received
	CreatedAt   time.Time
}

// Event is one entry of a case's timeline.
type Event struct {
	ID      int64
	At      time.Time
	Actor   string
	Kind    string
	Round   int
	Body    string
	Details map[string]any
}

func applicantAD(caseID string) []byte { return []byte("applicant:" + caseID) }
func detailsAD(caseID string) []byte   { return []byte("details:" + caseID) }

const selectCase = `SELECT id, integration_id, provider, reference, status, result, provider_status, risk_level,
	risk_derived, risk_score, queue, four_eyes, round, round_key, result_at, assignee_id, first_approver_id,
	decision, reason_code, decided_at, full_name, given_name, family_name, external_id, details, sla_due,
	created_at, updated_at, version, escalated_by, sla_paused_at, sla_paused_ms, first_decided_at FROM cases`

type scanner interface{ Scan(dest ...any) error }

func scanCase(r scanner) (*Case, error) {
	var c Case
	var score sql.NullFloat64
	var assignee, firstApprover, decidedAt sql.NullInt64
	var decision, reason sql.NullString
	var details string
	var resultAt, slaDue, created, updated int64
	var escalatedBy, pausedAt, firstDecided sql.NullInt64
	if err := r.Scan(&c.ID, &c.IntegrationID, &c.Provider, &c.Reference, &c.Status, &c.Result, &c.ProviderStatus,
		&c.RiskLevel, &c.RiskDerived, &score, &c.Queue, &c.FourEyes, &c.Round, &c.RoundKey, &resultAt, &assignee,
		&firstApprover, &decision, &reason, &decidedAt, &c.FullName, &c.GivenName, &c.FamilyName, &c.ExternalID,
		&details, &slaDue, &created, &updated, &c.Version, &escalatedBy, &pausedAt, &c.SLAPausedMS, &firstDecided); err != nil {
		return nil, err
	}
	if score.Valid {
		c.RiskScore = &score.Float64
	}
	c.AssigneeID, c.FirstApproverID = assignee.Int64, firstApprover.Int64
	c.Decision, c.ReasonCode = decision.String, reason.String
	if decidedAt.Valid {
		c.DecidedAt = db.Time(decidedAt.Int64)
	}
	c.EscalatedBy = escalatedBy.Int64
	if pausedAt.Valid {
		c.SLAPausedAt = db.Time(pausedAt.Int64)
	}
	if firstDecided.Valid {
		c.FirstDecidedAt = db.Time(firstDecided.Int64)
	}
	if err := json.Unmarshal([]byte(details), &c.Details); err != nil {
		return nil, fmt.Errorf("case %s: details: %w", c.ID, err)
	}
	c.ResultAt, c.SLADue, c.CreatedAt, c.UpdatedAt = db.Time(resultAt), db.Time(slaDue), db.Time(created), db.Time(updated)
	return &c, nil
}

func notFound() error { return errs.E(errs.NotFound, "There is no such case.") }

// Get returns the case. An unknown or malformed id is errs.NotFound.
func (s *Store) Get(ctx context.Context, caseID string) (*Case, error) {
	if !id.Valid(caseID) {
		return nil, notFound()
	}
	c, err := scanCase(s.DB.Read.QueryRowContext(ctx, selectCase+` WHERE id = ?`, caseID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	return c, err
}

// FindByReference returns the case of (integration, reference), errs.NotFound when there is none.
func (s *Store) FindByReference(ctx context.Context, integrationID, reference string) (*Case, error) {
	c, err := scanCase(s.DB.Read.QueryRowContext(ctx, qCaseByRef, integrationID, reference))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	return c, err
}

// Checks returns the case's checks of every round, oldest round first, in the provider's order.
func (s *Store) Checks(ctx context.Context, caseID string) ([]CaseCheck, error) {
	rows, err := s.DB.Read.QueryContext(ctx, `SELECT id, round, kind, result, score, code, message, source, details
		FROM case_checks WHERE case_id = ? ORDER BY round, id`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CaseCheck
	for rows.Next() {
		var c CaseCheck
		var score sql.NullFloat64
		var details string
		if err := rows.Scan(&c.ID, &c.Round, &c.Kind, &c.Result, &score, &c.Code, &c.Message, &c.Source, &details); err != nil {
			return nil, err
		}
		if score.Valid {
			c.Score = &score.Float64
		}
		if details != "" && details != "{}" {
			c.Details = json.RawMessage(details)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Documents returns the metadata of the case's documents, oldest round first.
func (s *Store) Documents(ctx context.Context, caseID string) ([]Document, error) {
	rows, err := s.DB.Read.QueryContext(ctx, `SELECT id, case_id, round, kind, provider_ref, content_type, size, sha256,
		created_at FROM case_documents WHERE case_id = ? ORDER BY round, created_at, id`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Document
	for rows.Next() {
		var d Document
		var created int64
		if err := rows.Scan(&d.ID, &d.CaseID, &d.Round, &d.Kind, &d.ProviderRef, &d.ContentType, &d.Size, &d.SHA256, &created); err != nil {
			return nil, err
		}
		d.CreatedAt = db.Time(created)
		out = append(out, d)
	}
	return out, rows.Err()
}

// OpenDocument decrypts one of the case's documents and returns it with its metadata. A document of another case, or an unknown
// or malformed id, is errs.NotFound: the caller has authorised the case, and the document must belong to it.
func (s *Store) OpenDocument(ctx context.Context, caseID, docID string) (Document, []byte, error) {
	doc := Document{ID: docID, CaseID: caseID}
	if !id.Valid(caseID) || !id.Valid(docID) {
		return doc, nil, errs.E(errs.NotFound, "There is no such document.")
	}
	var wrapped, ciphertext []byte
	var created int64
	err := s.DB.Read.QueryRowContext(ctx, `SELECT round, kind, provider_ref, content_type, size, sha256, created_at,
		wrapped_key, ciphertext FROM case_documents WHERE id = ? AND case_id = ?`, docID, caseID).Scan(
		&doc.Round, &doc.Kind, &doc.ProviderRef, &doc.ContentType, &doc.Size, &doc.SHA256, &created, &wrapped, &ciphertext)
	if errors.Is(err, sql.ErrNoRows) {
		return doc, nil, errs.E(errs.NotFound, "There is no such document.")
	}
	if err != nil {
		return doc, nil, err
	}
	doc.CreatedAt = db.Time(created)
	data, err := s.Sealer.OpenDocument(wrapped, ciphertext)
	if err != nil {
		return doc, nil, fmt.Errorf("document %s: %w", docID, err)
	}
	return doc, data, nil
}

// Timeline returns the case's events, oldest first.
func (s *Store) Timeline(ctx context.Context, caseID string) ([]Event, error) {
	rows, err := s.DB.Read.QueryContext(ctx, `SELECT id, at, actor, kind, round, body, details FROM case_events
		WHERE case_id = ? ORDER BY id`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		var details string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Kind, &e.Round, &e.Body, &details); err != nil {
			return nil, err
		}
		e.At = db.Time(at)
		_ = json.Unmarshal([]byte(details), &e.Details)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Applicant returns the full applicant record (ID number, date of birth, address), unsealed.
func (s *Store) Applicant(ctx context.Context, caseID string) (Applicant, error) {
	var a Applicant
	sealed, err := s.sealedColumn(ctx, caseID, "applicant_sealed")
	if err != nil || sealed == nil {
		return a, err
	}
	plain, err := s.Sealer.Open(sealed, applicantAD(caseID))
	if err != nil {
		return a, fmt.Errorf("case %s: open applicant: %w", caseID, err)
	}
	err = json.Unmarshal(plain, &a)
	return a, err
}

// Fields returns the OCR / extracted fields of the newest result, unsealed.
func (s *Store) Fields(ctx context.Context, caseID string) ([]Field, error) {
	sealed, err := s.sealedColumn(ctx, caseID, "details_sealed")
	if err != nil || sealed == nil {
		return nil, err
	}
	plain, err := s.Sealer.Open(sealed, detailsAD(caseID))
	if err != nil {
		return nil, fmt.Errorf("case %s: open details: %w", caseID, err)
	}
	var sd sealedDetails
	err = json.Unmarshal(plain, &sd)
	return sd.Fields, err
}

// sealedDetails is the PII part of a result, sealed in cases.details_sealed.
type sealedDetails struct {
	Fields []Field `json:"fields,omitempty"`
}

func (s *Store) sealedColumn(ctx context.Context, caseID, column string) ([]byte, error) {
	if !id.Valid(caseID) {
		return nil, notFound()
	}
	var b []byte
	// column is one of two constants above, never input.
	err := s.DB.Read.QueryRowContext(ctx, `SELECT `+column+` FROM cases WHERE id = ?`, caseID).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	return b, err
}
