package cases

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// The statements every applied result runs. Compiling them is a large share of a result's
// cost (the cases insert carries the triggers of the queues' tallies, the dashboard and
// search), so PrepareStatements compiles them once on the writer connection and the applier
// reuses them inside its transaction.
const (
	// The inbox row's idempotency key (migration 00013): the inbox lives in its own file.
	qInboxApplied  = `SELECT case_id FROM inbox_applied WHERE inbox_id = ?`
	qInboxDone     = `INSERT INTO inbox_applied (applied_at, case_id, inbox_id) VALUES (?, ?, ?)`
	qCaseByRef     = selectCase + ` WHERE integration_id = ? AND reference = ?`
	qOverrideCount = `SELECT COUNT(*) FROM provider_overrides WHERE request_id = ?`
	qInsertCase    = `INSERT INTO cases (id, integration_id, provider, reference, status, result,
		provider_status, risk_level, risk_derived, risk_score, queue, four_eyes, round, round_key, result_at,
		full_name, given_name, family_name, external_id, applicant_sealed, details, details_sealed, sla_due,
		created_at, updated_at, id_number_hash, change_seq)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
			(SELECT coalesce(max(change_seq), 0) + 1 FROM cases))` // change_seq here: 00015
	qInsertCheck = `INSERT INTO case_checks (case_id, round, kind, result, score, code, message, source, details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qDocumentByRef = `SELECT id, sha256 FROM case_documents WHERE case_id = ? AND round = ? AND provider_ref = ?`
	qInsertDoc     = `INSERT INTO case_documents (id, case_id, round, kind, provider_ref, content_type, size, sha256,
		wrapped_key, ciphertext, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qInsertEvent = `INSERT INTO case_events (case_id, at, actor, kind, round, body, details) VALUES (?, ?, ?, ?, ?, ?, ?)`
	qApplicant   = `SELECT applicant_sealed FROM cases WHERE id = ?`
)

var hotQueries = []string{qInboxApplied, qInboxDone, qCaseByRef, qOverrideCount, qInsertCase, qInsertCheck,
	qDocumentByRef, qInsertDoc, qInsertEvent, qApplicant}

// stmtCache holds the prepared hot statements; a Store without them runs the same SQL unprepared.
type stmtCache struct {
	once sync.Mutex
	m    atomic.Pointer[map[string]*sql.Stmt]
}

// PrepareStatements compiles the statements Apply runs on the writer connection, once. Call it
// outside any write transaction (it needs the writer connection); the ingest worker does at start.
// Without it everything works, only slower.
func (s *Store) PrepareStatements(ctx context.Context) error {
	s.stmts.once.Lock()
	defer s.stmts.once.Unlock()
	if s.stmts.m.Load() != nil {
		return nil
	}
	m := make(map[string]*sql.Stmt, len(hotQueries))
	for _, q := range hotQueries {
		st, err := s.DB.Write.PrepareContext(ctx, q)
		if err != nil {
			for _, st := range m {
				st.Close()
			}
			return err
		}
		m[q] = st
	}
	s.stmts.m.Store(&m)
	return nil
}

// stmt returns the prepared form of q bound to tx, or nil when q is not prepared.
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, q string) *sql.Stmt {
	m := s.stmts.m.Load()
	if m == nil {
		return nil
	}
	st, ok := (*m)[q]
	if !ok {
		return nil
	}
	return tx.StmtContext(ctx, st)
}

func (s *Store) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st := s.stmt(ctx, tx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

func (s *Store) queryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	if st := s.stmt(ctx, tx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, q, args...)
}
