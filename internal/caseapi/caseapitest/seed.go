// Package caseapitest fills a test database with many cases quickly (multi-row INSERTs in
// one transaction), for the JSON API's pagination tests and benchmarks.
package caseapitest

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/id"
)

// Statuses and providers the seeded cases cycle through.
var (
	Statuses  = []string{"new", "in_review", "pending_info", "escalated", "awaiting_second_approval", "approved", "rejected"}
	Providers = []string{"generic", "fptai", "frankieone"}
)

// Integrations creates one integration per provider, named "seed-<provider>", and returns
// their ids by provider. It is idempotent.
func Integrations(ctx context.Context, d *db.DB, now time.Time) (map[string]string, error) {
	out := map[string]string{}
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		for _, p := range Providers {
			name := "seed-" + p
			var iid string
			err := tx.QueryRowContext(ctx, `SELECT id FROM integrations WHERE name = ?`, name).Scan(&iid)
			if err == sql.ErrNoRows {
				iid = id.Short()
				_, err = tx.ExecContext(ctx, `INSERT INTO integrations (id, name, provider, auth_mode, created_at, updated_at)
					VALUES (?, ?, ?, 'hmac', ?, ?)`, iid, name, p, db.Millis(now), db.Millis(now))
			}
			if err != nil {
				return err
			}
			out[p] = iid
		}
		return nil
	})
	return out, err
}

// Case describes one seeded case; Seed fills the rest.
type Case struct {
	ID        string
	Reference string
	Provider  string
	Status    string
	UpdatedAt time.Time
}

// Seed inserts n cases with four checks and two documents each (tiny fake ciphertexts),
// and builds their API arrays as the case store does.
// Case i is updated at first + i*step, has reference prefix+i, and cycles through
// Statuses and Providers. It returns the cases in insertion order.
func Seed(ctx context.Context, d *db.DB, n int, first time.Time, step time.Duration, prefix string) ([]Case, error) {
	integ, err := Integrations(ctx, d, first)
	if err != nil {
		return nil, err
	}
	out := make([]Case, n)
	caseRows := make([][]any, 0, n)
	checkRows := make([][]any, 0, 4*n)
	docRows := make([][]any, 0, 2*n)
	for i := range n {
		c := Case{ID: id.New(), Reference: fmt.Sprintf("%s%06d", prefix, i), Provider: Providers[i%len(Providers)],
			Status: Statuses[i%len(Statuses)], UpdatedAt: first.Add(time.Duration(i) * step)}
		out[i] = c
		ms := db.Millis(c.UpdatedAt)
		result := []string{"pass", "review", "fail"}[i%3]
		risk := []string{"low", "medium", "high"}[i%3]
		caseRows = append(caseRows, []any{c.ID, integ[c.Provider], c.Provider, c.Reference, c.Status, result, risk, 1, ms,
			"Nguyễn Thu Hương", "Thu Hương", "Nguyễn", fmt.Sprintf("cust-%d", i), ms + 86_400_000, ms, ms})
		checkRows = append(checkRows,
			[]any{c.ID, 1, "document", "pass", 0.97, "{}"},
			[]any{c.ID, 1, "liveness", "pass", 0.98, `{"is_live":true}`},
			[]any{c.ID, 1, "face_match", "pass", 0.91, `{"similarity":91}`},
			[]any{c.ID, 1, "pep", "hit", nil, `{"matched_name":"NGUYEN THU HUONG","level":"tier 2"}`})
		for j, kind := range []string{"id_front", "selfie"} {
			docRows = append(docRows, []any{id.New(), c.ID, 1, kind, fmt.Sprintf("%s/%d", c.ID, j), "image/jpeg", 1234,
				fmt.Sprintf("%064x", i*2+j), []byte("wrapped-key"), []byte("ciphertext"), ms})
		}
	}
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.InsertRows(ctx, tx, "cases", []string{"id", "integration_id", "provider", "reference", "status", "result",
			"risk_level", "round", "result_at", "full_name", "given_name", "family_name", "external_id", "sla_due",
			"created_at", "updated_at"}, caseRows); err != nil {
			return err
		}
		if err := db.InsertRows(ctx, tx, "case_checks", []string{"case_id", "round", "kind", "result", "score", "details"}, checkRows); err != nil {
			return err
		}
		if err := db.InsertRows(ctx, tx, "case_documents", []string{"id", "case_id", "round", "kind", "provider_ref", "content_type",
			"size", "sha256", "wrapped_key", "ciphertext", "created_at"}, docRows); err != nil {
			return err
		}
		// The API's arrays are built once per round, when its rows are written (migration 00012).
		refreshRows := make([][]any, 0, n)
		for _, c := range out {
			refreshRows = append(refreshRows, []any{c.ID, 1})
		}
		return db.InsertRows(ctx, tx, "case_api_refresh", []string{"case_id", "round"}, refreshRows)
	})
	return out, err
}
