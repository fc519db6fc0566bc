// Package dashboardtest fills a test database with cases and decisions for the dashboard's
// tests, handler tests, browser journey and benchmark. Never imported by production code.
package dashboardtest

import (
	"context"
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

// User is a reviewer the workload acts as.
type User struct {
	ID    int64
	Email string
	Role  string
}

// Actor is u as the review actions see it.
func (u User) Actor() cases.Actor { return cases.Actor{ID: u.ID, Email: u.Email, Role: u.Role} }

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
		out = append(out, User{ID: id, Email: u.email, Role: u.role})
	}
	return out, nil
}

// Workload is a generated history: cases received through the real ingestion path
// (cases.Store.Apply) over several days and providers, then worked by reviewers through the
// real review actions (Claim, Decide, Escalate, SecondApproval; a new provider result
// through Apply resumes a case waiting for information), on the store's injected clock.
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
			n, err := work(ctx, store, &now, rng, out.CaseID, src, ref, analysts, lead)
			if err != nil {
				return w, fmt.Errorf("work %s: %w", ref, err)
			}
			w.Steps += n
		}
	}
	return w, nil
}

// work plays one case's history from its arrival at *clock (the store's clock, moved on
// before each action) and returns how many decision steps it took. The actions decide where
// the case goes: an analyst's approval of a high-risk or four-eyes case awaits a lead's
// second approval, such a case is rejected by a lead, and so on.
func work(ctx context.Context, store *cases.Store, clock *time.Time, rng *rand.Rand, caseID string, src cases.Source,
	ref string, analysts []User, lead User) (int, error) {
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
	var c *cases.Case
	// act moves the clock on by d and runs one action; steps counts those that write a
	// case_decisions row.
	act := func(d time.Duration, step bool, fn func() (*cases.Case, error)) error {
		*clock = clock.Add(d)
		got, err := fn()
		if err != nil {
			return err
		}
		c = got
		if step {
			steps++
		}
		return nil
	}
	decide := func(d time.Duration, by User, decision, reason, comment string) error {
		return act(d, true, func() (*cases.Case, error) {
			return store.Decide(ctx, cases.DecisionInput{CaseID: caseID, By: by.Actor(), Decision: decision,
				ReasonCode: reason, Comment: comment})
		})
	}
	claim := func(d time.Duration, by User) error {
		return act(d, false, func() (*cases.Case, error) { return store.Claim(ctx, caseID, 0, by.Actor()) })
	}
	second := func(d time.Duration, decision, comment string) error {
		return act(d, true, func() (*cases.Case, error) {
			return store.SecondApproval(ctx, caseID, 0, lead.Actor(), decision, comment)
		})
	}
	scenario := rng.IntN(10)
	if scenario == 9 { // left unassigned
		return 0, nil
	}
	if err := claim(time.Duration(1+rng.IntN(30))*time.Minute, a); err != nil {
		return steps, err
	}
	if scenario == 8 { // still in review
		return 0, nil
	}
	if scenario == 7 { // request info, maybe resumed by a new provider result and then approved
		if err := decide(later(), a, cases.DecisionRequestInfo, "document_unreadable", ""); err != nil {
			return steps, err
		}
		if rng.IntN(2) == 0 {
			return steps, nil
		}
		*clock = clock.Add(time.Duration(1+rng.IntN(48)) * time.Hour)
		if _, err := store.Apply(ctx, src, 0, cases.Result{Reference: ref, Round: ref, OccurredAt: *clock,
			Result: cases.ResultReview, ProviderStatus: "review", RiskLevel: c.RiskLevel,
			Applicant: cases.Applicant{FullName: c.FullName, ExternalID: ref}}); err != nil {
			return steps, err
		}
		if err := claim(time.Minute, a); err != nil {
			return steps, err
		}
	}
	switch scenario {
	case 5: // escalate; the lead decides (or it is still waiting)
		if err := act(later(), true, func() (*cases.Case, error) {
			return store.Escalate(ctx, caseID, 0, a.Actor(), "unsure about the PEP hit")
		}); err != nil {
			return steps, err
		}
		if rng.IntN(3) == 0 {
			return steps, nil
		}
		if rng.IntN(2) == 0 {
			return steps, decide(later(), lead, cases.DecisionReject, "sanctions_pep_confirmed", "lead call")
		}
		return steps, decide(later(), lead, cases.DecisionApprove, "verified_manual_check", "lead call")
	case 3, 4: // reject (a lead's call when the case is high risk or four-eyes)
		by := a
		if c.Sensitive() {
			by = lead
		}
		return steps, decide(later(), by, cases.DecisionReject, "document_expired", "expired in 2024")
	}
	// Approve; a high-risk or four-eyes case then waits for the lead's second approval,
	// which comes, is refused (returned) or is still awaited.
	if err := decide(later(), a, cases.DecisionApprove, "verified", ""); err != nil {
		return steps, err
	}
	if c.Status != cases.StatusAwaitingSecondApproval {
		return steps, nil
	}
	switch rng.IntN(4) {
	case 0:
		return steps, nil
	case 1:
		return steps, second(later(), cases.DecisionReturn, "check the address")
	}
	return steps, second(later(), cases.DecisionApprove, "")
}
