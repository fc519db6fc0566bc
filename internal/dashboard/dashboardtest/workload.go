// Package dashboardtest fills a test database with cases and decisions for the dashboard's
// tests, handler tests, browser journey and benchmark. Never imported by production code.
package dashboardtest

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/integration"
)

// Providers the workload spreads its cases over.
var Providers = []string{integration.Generic, integration.FPTAI, integration.FrankieOne}

// Step is one decision-like step on a case, in the shape migration 00006 documents for
// case_decisions.
type Step struct {
	CaseID     string
	Kind       string // decision | escalation | escalation_decision | second_approval
	Decision   string // approve | reject | request_info | escalate | return
	ReasonCode string
	Comment    string
	ActorID    int64 // 0 for a system actor
	Actor      string
	From, To   string // case status before and after
	At         time.Time
}

// Record writes a step the way the review actions will: the case's new status (and
// decision fields when it is decided) and one case_decisions row, in one transaction.
//
// It stands in until the core helper's review actions (claim, decide, escalate, second
// approval) are merged; then tests should call those instead. It writes no audit entry,
// since the dashboard does not read the trail.
func Record(ctx context.Context, d *db.DB, s Step) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		var round int
		var roundStarted int64
		if err := tx.QueryRowContext(ctx, `SELECT round, created_at FROM cases WHERE id = ?`, s.CaseID).
			Scan(&round, &roundStarted); err != nil {
			return fmt.Errorf("record step: %w", err)
		}
		at := db.Millis(s.At)
		switch s.To {
		case cases.StatusApproved, cases.StatusRejected:
			decision := cases.DecisionApprove
			if s.To == cases.StatusRejected {
				decision = cases.DecisionReject
			}
			if _, err := tx.ExecContext(ctx, `UPDATE cases SET status = ?, decision = ?, reason_code = ?, decided_at = ?,
				first_decided_at = coalesce(first_decided_at, ?), updated_at = ? WHERE id = ?`,
				s.To, decision, s.ReasonCode, at, at, at, s.CaseID); err != nil {
				return err
			}
		default:
			if _, err := tx.ExecContext(ctx, `UPDATE cases SET status = ?, updated_at = ? WHERE id = ?`,
				s.To, at, s.CaseID); err != nil {
				return err
			}
		}
		var actorID any
		if s.ActorID != 0 {
			actorID = s.ActorID
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO case_decisions (case_id, round, kind, decision, reason_code, comment,
			actor_id, actor, status_from, status_to, at, round_started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			s.CaseID, round, s.Kind, s.Decision, s.ReasonCode, s.Comment, actorID, s.Actor, s.From, s.To, at, roundStarted)
		return err
	})
}

// Claim assigns a new case to a user (status in_review), as a claim will.
func Claim(ctx context.Context, d *db.DB, caseID string, userID int64, at time.Time) error {
	_, err := d.Write.ExecContext(ctx, `UPDATE cases SET status = 'in_review', assignee_id = ?, updated_at = ? WHERE id = ?`,
		userID, db.Millis(at), caseID)
	return err
}

// Resume stands in for a new provider result on a pending_info case: the case returns to
// new, unassigned, and its SLA clock resumes with the paused time added to its due time.
func Resume(ctx context.Context, d *db.DB, caseID string, paused time.Duration, at time.Time) error {
	ms := paused.Milliseconds()
	_, err := d.Write.ExecContext(ctx, `UPDATE cases SET status = 'new', assignee_id = NULL, sla_paused_ms = sla_paused_ms + ?,
		sla_due = sla_due + ?, updated_at = ? WHERE id = ?`, ms, ms, db.Millis(at), caseID)
	return err
}

// User is a reviewer the workload acts as.
type User struct {
	ID    int64
	Email string
}

// Users inserts reviewers (no password that can sign in) and returns them: three analysts, then a lead.
func Users(ctx context.Context, d *db.DB, now time.Time) ([]User, error) {
	var out []User
	for _, u := range []struct{ email, role string }{
		{"an.nguyen@example.com", "analyst"}, {"binh.tran@example.com", "analyst"},
		{"chi.le@example.com", "analyst"}, {"dung.pham@example.com", "lead"},
	} {
		res, err := d.Write.ExecContext(ctx, `INSERT INTO users (email, name, role, password_hash, created_at, updated_at)
			VALUES (?, '', ?, '!', ?, ?)`, u.email, u.role, db.Millis(now), db.Millis(now))
		if err != nil {
			return nil, err
		}
		id, _ := res.LastInsertId()
		out = append(out, User{ID: id, Email: u.email})
	}
	return out, nil
}

// Workload is a generated history: cases received through the real ingestion path
// (cases.Store.Apply) over several days and providers, then worked by reviewers.
type Workload struct {
	Start time.Time // midnight UTC of the first day
	Days  int
	Cases int
	Steps int
}

// Generate creates perDay cases on each of days days from start (a UTC midnight) and
// works most of them: approvals, rejections, requests for information (some resumed),
// escalations decided by the lead, four-eyes approvals, and some left open. The random
// source is seeded, so a run is reproducible.
func Generate(ctx context.Context, d *db.DB, sealer *crypto.Sealer, start time.Time, days, perDay int, seed uint64) (Workload, error) {
	w := Workload{Start: start, Days: days}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	now := start
	users, err := Users(ctx, d, now)
	if err != nil {
		return w, err
	}
	analysts, lead := users[:3], users[3]
	istore := integration.NewStore(d, sealer)
	var srcs []cases.Source
	for _, p := range Providers {
		in, _, err := istore.Create(ctx, "test", integration.Spec{Name: "wl-" + p, Provider: p, AuthMode: integration.AuthHMAC})
		if err != nil {
			return w, fmt.Errorf("integration %s: %w", p, err)
		}
		srcs = append(srcs, cases.Source{IntegrationID: in.ID, IntegrationName: in.Name, Provider: in.Provider, Queue: in.Queue})
	}
	store := &cases.Store{DB: d, Sealer: sealer, Now: func() time.Time { return now }, Routing: cases.Routing{SLA: cases.DefaultSLA}}
	risks := []string{cases.RiskLow, cases.RiskMedium, cases.RiskHigh}
	names := []string{"Nguyễn Thu Hương", "Trần Văn Bình", "Lê Thị Chi", "Phạm Quốc Dũng", "Ngô Bảo Châu"}

	for day := 0; day < days; day++ {
		for i := 0; i < perDay; i++ {
			now = start.AddDate(0, 0, day).Add(time.Duration(rng.IntN(24*60)) * time.Minute)
			src := srcs[rng.IntN(len(srcs))]
			ref := fmt.Sprintf("wl-%d-%03d-%03d", seed, day, i)
			risk := risks[rng.IntN(len(risks))]
			out, err := store.Apply(ctx, src, 0, cases.Result{Reference: ref, Round: ref, OccurredAt: now,
				Result: cases.ResultReview, ProviderStatus: "review", RiskLevel: risk,
				Applicant: cases.Applicant{FullName: names[rng.IntN(len(names))], ExternalID: ref}})
			if err != nil {
				return w, fmt.Errorf("apply %s: %w", ref, err)
			}
			w.Cases++
			n, err := work(ctx, d, rng, out.CaseID, now, analysts, lead)
			if err != nil {
				return w, fmt.Errorf("work %s: %w", ref, err)
			}
			w.Steps += n
		}
	}
	return w, nil
}

// work plays one case's history from its arrival at t and returns how many steps it took.
func work(ctx context.Context, d *db.DB, rng *rand.Rand, caseID string, t time.Time, analysts []User, lead User) (int, error) {
	a := analysts[rng.IntN(len(analysts))]
	// Time to the next step: mostly minutes to hours, sometimes days (past the SLA).
	later := func() time.Duration {
		switch rng.IntN(10) {
		case 0:
			return time.Duration(24+rng.IntN(72)) * time.Hour
		case 1, 2:
			return time.Duration(1+rng.IntN(20)) * time.Hour
		}
		return time.Duration(1+rng.IntN(180)) * time.Minute
	}
	steps := 0
	step := func(s Step) error {
		steps++
		return Record(ctx, d, s)
	}
	scenario := rng.IntN(10)
	if scenario == 9 { // left unassigned
		return 0, nil
	}
	t = t.Add(time.Duration(1+rng.IntN(30)) * time.Minute)
	if err := Claim(ctx, d, caseID, a.ID, t); err != nil {
		return 0, err
	}
	status := cases.StatusInReview
	if scenario == 8 { // still in review
		return 0, nil
	}
	if scenario == 7 { // request info, maybe resumed and then approved
		t = t.Add(later())
		if err := step(Step{CaseID: caseID, Kind: "decision", Decision: "request_info", ReasonCode: "document_unreadable",
			ActorID: a.ID, Actor: a.Email, From: status, To: cases.StatusPendingInfo, At: t}); err != nil {
			return steps, err
		}
		if rng.IntN(2) == 0 {
			return steps, nil
		}
		paused := time.Duration(1+rng.IntN(48)) * time.Hour
		t = t.Add(paused)
		if err := Resume(ctx, d, caseID, paused, t); err != nil {
			return steps, err
		}
		if err := Claim(ctx, d, caseID, a.ID, t.Add(time.Minute)); err != nil {
			return steps, err
		}
	}
	t = t.Add(later())
	switch scenario {
	case 5: // escalate; the lead decides (or it is still waiting)
		if err := step(Step{CaseID: caseID, Kind: "escalation", Decision: "escalate", Comment: "unsure about the PEP hit",
			ActorID: a.ID, Actor: a.Email, From: status, To: cases.StatusEscalated, At: t}); err != nil {
			return steps, err
		}
		if rng.IntN(3) == 0 {
			return steps, nil
		}
		t = t.Add(later())
		to, dec, code := cases.StatusApproved, "approve", "verified_manual_check"
		if rng.IntN(2) == 0 {
			to, dec, code = cases.StatusRejected, "reject", "sanctions_pep_confirmed"
		}
		return steps, step(Step{CaseID: caseID, Kind: "escalation_decision", Decision: dec, ReasonCode: code, Comment: "lead call",
			ActorID: lead.ID, Actor: lead.Email, From: cases.StatusEscalated, To: to, At: t})
	case 6: // four-eyes: the analyst approves, the lead gives the second approval (or returns it)
		if err := step(Step{CaseID: caseID, Kind: "decision", Decision: "approve", ReasonCode: "verified",
			ActorID: a.ID, Actor: a.Email, From: status, To: cases.StatusAwaitingSecondApproval, At: t}); err != nil {
			return steps, err
		}
		t = t.Add(later())
		switch rng.IntN(4) {
		case 0:
			return steps, nil
		case 1:
			return steps, step(Step{CaseID: caseID, Kind: "second_approval", Decision: "return", Comment: "check the address",
				ActorID: lead.ID, Actor: lead.Email, From: cases.StatusAwaitingSecondApproval, To: cases.StatusInReview, At: t})
		}
		return steps, step(Step{CaseID: caseID, Kind: "second_approval", Decision: "approve", ReasonCode: "verified",
			ActorID: lead.ID, Actor: lead.Email, From: cases.StatusAwaitingSecondApproval, To: cases.StatusApproved, At: t})
	case 3, 4: // reject
		return steps, step(Step{CaseID: caseID, Kind: "decision", Decision: "reject", ReasonCode: "document_expired",
			Comment: "expired in 2024", ActorID: a.ID, Actor: a.Email, From: status, To: cases.StatusRejected, At: t})
	}
	return steps, step(Step{CaseID: caseID, Kind: "decision", Decision: "approve", ReasonCode: "verified",
		ActorID: a.ID, Actor: a.Email, From: status, To: cases.StatusApproved, At: t})
}
