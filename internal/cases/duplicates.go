package cases

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/kycdesk/kycdesk/db"
)

// idNumberPurpose separates ID-number lookup hashes from any other kind kycdesk may hash.
const idNumberPurpose = "id_number"

// NormaliseIDNumber is the form an ID number is compared in: letters and digits only, upper
// case, so "079 195 001 234" and "079195001234", or "b1234567" and "B1234567", are one number.
func NormaliseIDNumber(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsDigit(r):
			return r
		case unicode.IsLetter(r):
			return unicode.ToUpper(r)
		}
		return -1
	}, s)
}

// IDNumberHash is the id_number_hash stored for an applicant's ID number (empty when it
// has none), for tools that write cases in bulk.
func (s *Store) IDNumberHash(idNumber string) []byte { return s.idNumberHash(idNumber) }

// idNumberHash is what cases.id_number_hash holds: the keyed hash of the normalised number,
// or an empty blob when there is none (NULL means "not computed yet").
func (s *Store) idNumberHash(idNumber string) []byte {
	n := NormaliseIDNumber(idNumber)
	if n == "" {
		return []byte{}
	}
	return s.Sealer.LookupHash(idNumberPurpose, n)
}

// Duplicate is another case whose applicant has the same ID number.
type Duplicate struct {
	ID            string
	Reference     string
	Provider      string
	IntegrationID string
	Status        string
	CreatedAt     time.Time
}

// qDuplicates reads the cases_id_number_hash index (migration 00007), newest first.
const qDuplicates = `SELECT id, reference, provider, integration_id, status, created_at FROM cases
	WHERE id_number_hash = ? AND id <> ? ORDER BY created_at DESC LIMIT ?`

// Duplicates lists up to limit other cases (any provider, any integration) whose applicant
// has idNumber, the ID number of case caseID, newest first; more says there are others
// beyond the limit. No number, no duplicates.
func (s *Store) Duplicates(ctx context.Context, caseID, idNumber string, limit int) (dups []Duplicate, more bool, err error) {
	h := s.idNumberHash(idNumber)
	if len(h) == 0 || limit <= 0 {
		return nil, false, nil
	}
	rows, err := s.DB.Read.QueryContext(ctx, qDuplicates, h, caseID, limit+1)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var d Duplicate
		var created int64
		if err := rows.Scan(&d.ID, &d.Reference, &d.Provider, &d.IntegrationID, &d.Status, &created); err != nil {
			return nil, false, err
		}
		d.CreatedAt = db.Time(created)
		dups = append(dups, d)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if len(dups) > limit {
		return dups[:limit], true, nil
	}
	return dups, false, nil
}

// backfillBatch is how many cases one backfill transaction hashes: small enough that the
// writer is never held for long while ingestion runs beside it. Between two batches the
// backfill waits as long as the last one took: back to back, it would leave another
// process's writer (a `kycdesk user add` beside the server) only the moments between its
// commit and its next BEGIN, which SQLite's busy handler, polling, mostly misses.
const backfillBatch = 200

// BackfillIDNumberHashes computes id_number_hash for the cases stored before it existed
// (migration 00007 leaves them NULL), a batch per transaction, through the index. It returns
// how many cases it filled; run at start, it finds nothing to do after the first time.
func (s *Store) BackfillIDNumberHashes(ctx context.Context) (int, error) {
	total := 0
	for {
		n := 0
		began := time.Now()
		err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT id, applicant_sealed FROM cases WHERE id_number_hash IS NULL LIMIT ?`, backfillBatch)
			if err != nil {
				return err
			}
			type row struct {
				id   string
				hash []byte
			}
			var todo []row
			for rows.Next() {
				var id string
				var sealed []byte
				if err := rows.Scan(&id, &sealed); err != nil {
					rows.Close()
					return err
				}
				var a Applicant
				if sealed != nil {
					plain, err := s.Sealer.Open(sealed, applicantAD(id))
					if err != nil {
						rows.Close()
						return fmt.Errorf("case %s: open applicant: %w", id, err)
					}
					if err := json.Unmarshal(plain, &a); err != nil {
						rows.Close()
						return fmt.Errorf("case %s: applicant: %w", id, err)
					}
				}
				todo = append(todo, row{id, s.idNumberHash(a.IDNumber)})
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, r := range todo {
				if _, err := tx.ExecContext(ctx, `UPDATE cases SET id_number_hash = ? WHERE id = ?`, r.hash, r.id); err != nil {
					return err
				}
			}
			n = len(todo)
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < backfillBatch {
			return total, nil
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(max(time.Since(began), time.Millisecond)):
		}
	}
}
