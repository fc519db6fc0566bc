package caseapi

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/id"
)

// Reader answers the JSON API's questions from the database's read pool.
type Reader struct {
	DB     *db.DB
	Sealer *crypto.Sealer // seals and opens list cursors
}

// errNoCase is the one answer for a malformed id and an id that names no case, so the
// two cannot be told apart from outside.
var errNoCase = errs.E(errs.NotFound, "There is no case with this id.")

// Get returns one case's JSON object, or a NotFound error.
func (r *Reader) Get(ctx context.Context, caseID string) (json.RawMessage, error) {
	if !id.Valid(caseID) {
		return nil, errNoCase
	}
	var out []byte
	err := r.DB.Read.QueryRowContext(ctx, getSQL, caseID).Scan(&out)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoCase
	}
	if err != nil {
		return nil, fmt.Errorf("caseapi: get: %w", err)
	}
	return out, nil
}

// List returns one page of cases matching q, in the order their latest change was
// committed (the change_seq column). Along that order updated_at does not decrease as
// long as writers stamp updated_at inside their write transaction; cases changed in the
// same millisecond come in commit order.
//
// Paging with Next neither skips nor repeats a case whose last change came before the
// first page was read, however many cases arrive meanwhile: a commit always takes a
// change_seq larger than any a reader has seen. A case changed while a client pages moves
// to the end of the list and comes again there, in its new state.
func (r *Reader) List(ctx context.Context, q Query) (Page, error) {
	if q.Limit < 1 || q.Limit > MaxLimit {
		q.Limit = DefaultLimit
	}
	query, args := listSQL(q)
	rows, err := r.DB.Read.QueryContext(ctx, query, args...)
	if err != nil {
		return Page{}, fmt.Errorf("caseapi: list: %w", err)
	}
	defer rows.Close()
	page := Page{Cases: make([]json.RawMessage, 0, min(q.Limit, 128))}
	var last int64
	for rows.Next() {
		if len(page.Cases) == q.Limit { // the extra row: there is a next page
			next := r.sealCursor(last)
			page.Next = &next
			break
		}
		var c []byte
		if err := rows.Scan(&last, &c); err != nil {
			return Page{}, fmt.Errorf("caseapi: list: %w", err)
		}
		page.Cases = append(page.Cases, c)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("caseapi: list: %w", err)
	}
	return page, nil
}
