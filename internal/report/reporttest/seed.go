// Package reporttest makes cases and decisions for the reports' tests and benchmarks:
// cases through the real ingestion path (cases.Store.Apply), decisions through the real
// review actions (cases.Store Claim, Decide, Escalate, SecondApproval) on the store's clock.
package reporttest

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/id"
	"github.com/kycdesk/kycdesk/internal/integration"
)

// Ingest creates cases through the case store, as the inbox worker does.
type Ingest struct {
	DB    *db.DB
	Store *cases.Store
	Src   cases.Source
	Now   time.Time // the store's clock: a case's created_at
	n     int
}

// NewIngest registers a generic integration named name and returns an Ingest for it.
func NewIngest(t testing.TB, d *db.DB, sealer *crypto.Sealer, name string, now time.Time) *Ingest {
	t.Helper()
	st := &integration.Store{DB: d, Sealer: sealer, Now: func() time.Time { return now }}
	in, _, err := st.Create(context.Background(), "test", integration.Spec{
		Name: name, Provider: integration.Generic, AuthMode: integration.AuthHMAC})
	if err != nil {
		t.Fatal(err)
	}
	g := &Ingest{DB: d, Now: now, Src: cases.Source{IntegrationID: in.ID, IntegrationName: in.Name, Provider: in.Provider, Queue: in.Queue}}
	g.Store = &cases.Store{DB: d, Sealer: sealer, Now: func() time.Time { return g.Now }, Routing: cases.Routing{SLA: cases.DefaultSLA}}
	return g
}

// Case applies a result for reference with the applicant's full name and risk level at
// g.Now, and returns the case id.
func (g *Ingest) Case(t testing.TB, reference, fullName, risk string) string {
	t.Helper()
	ctx := context.Background()
	g.n++
	res, err := g.DB.Write.ExecContext(ctx, `INSERT INTO inbox (integration_id, provider, delivery_key, received_at, payload)
		VALUES (?, ?, ?, ?, ?)`, g.Src.IntegrationID, g.Src.Provider, fmt.Sprintf("delivery-%d-%s", g.n, reference), db.Millis(g.Now), []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	inboxID, _ := res.LastInsertId()
	out, err := g.Store.Apply(ctx, g.Src, inboxID, cases.Result{Reference: reference, Round: reference, OccurredAt: g.Now,
		Result: cases.ResultReview, RiskLevel: risk, Applicant: cases.Applicant{FullName: fullName}})
	if err != nil {
		t.Fatalf("Apply %s: %v", reference, err)
	}
	return out.CaseID
}

// Reviewer inserts a user who can act through the review actions (no password that can sign
// in) and returns it as their actor.
func Reviewer(t testing.TB, d *db.DB, email, role string) cases.Actor {
	t.Helper()
	res, err := d.Write.Exec(`INSERT INTO users (email, name, role, password_hash, created_at, updated_at)
		VALUES (?, '', ?, '!', 0, 0)`, email, role)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	return cases.Actor{ID: id, Email: email, Role: role}
}

// At runs the review action fn with the store's clock at t (a decision's time), and fails the
// test if the action is refused.
func (g *Ingest) At(t testing.TB, at time.Time, fn func(ctx context.Context, s *cases.Store) (*cases.Case, error)) *cases.Case {
	t.Helper()
	g.Now = at
	c, err := fn(context.Background(), g.Store)
	if err != nil {
		t.Fatalf("review action at %s: %v", at.Format(time.RFC3339), err)
	}
	return c
}

// BulkCases inserts n cases created from first, step apart, with multi-row INSERTs in one
// transaction (for benchmarks at a million), half of them decided. It returns nothing but
// an error: the rows are what the cases report reads.
func BulkCases(ctx context.Context, d *db.DB, n int, first time.Time, step time.Duration) error {
	iid := id.Short()
	now := db.Millis(first)
	if _, err := d.Write.ExecContext(ctx, `INSERT INTO integrations (id, name, provider, auth_mode, created_at, updated_at)
		VALUES (?, ?, 'generic', 'hmac', ?, ?)`, iid, "bulk-"+iid, now, now); err != nil {
		return err
	}
	cols := []string{"id", "integration_id", "provider", "reference", "status", "result", "risk_level", "result_at",
		"full_name", "sla_due", "created_at", "updated_at", "decision", "reason_code", "decided_at", "first_decided_at"}
	// Rows are generated and written a batch at a time, so a million cases never sit in memory.
	const batch = 10000
	return d.Tx(ctx, func(tx *sql.Tx) error {
		for lo := 0; lo < n; lo += batch {
			hi := min(lo+batch, n)
			rows := make([][]any, 0, hi-lo)
			for i := lo; i < hi; i++ {
				ms := db.Millis(first.Add(time.Duration(i) * step))
				status, decision, reason, decided := "in_review", any(nil), any(nil), any(nil)
				if i%2 == 0 {
					status, decision, reason, decided = "approved", "approve", "verified", ms+3_600_000
				}
				rows = append(rows, []any{id.New(), iid, "generic", fmt.Sprintf("vrf-%08d", i), status, "review", "medium", ms,
					"Nguyễn Thu Hương", ms + 86_400_000, ms, ms, decision, reason, decided, decided})
			}
			if err := db.InsertRows(ctx, tx, "cases", cols, rows); err != nil {
				return err
			}
		}
		return nil
	})
}
