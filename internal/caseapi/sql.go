package caseapi

import "strings"

// caseJSON is the SQL expression that builds one case's JSON object from cases c, its
// integration i, its assignee u and its current round's parts p (see Case for the shape).
// Only plain columns are read: the sealed applicant record (ID number, date of birth,
// address) and the encrypted images never are. The checks and documents arrays are
// built by the triggers of migration 00005 when checks and documents are written.
var caseJSON = `json_object(
	'id', c.id,
	'reference', c.reference,
	'provider', c.provider,
	'integration', i.name,
	'status', c.status,
	'risk_level', c.risk_level,
	'result', c.result,
	'round', c.round,
	'assignee', u.email,
	'decision', c.decision,
	'reason_code', c.reason_code,
	'created_at', ` + isoTime("c.created_at") + `,
	'updated_at', ` + isoTime("c.updated_at") + `,
	'sla_due', ` + isoTime("c.sla_due") + `,
	'decided_at', CASE WHEN c.decided_at IS NULL THEN NULL ELSE ` + isoTime("c.decided_at") + ` END,
	'applicant', json_object(
		'full_name', NULLIF(c.full_name, ''),
		'given_name', NULLIF(c.given_name, ''),
		'family_name', NULLIF(c.family_name, ''),
		'external_id', NULLIF(c.external_id, '')),
	'checks', json(COALESCE(p.checks, '[]')),
	'documents', json(COALESCE(p.documents, '[]')))`

// caseFrom joins what caseJSON reads.
const caseFrom = ` FROM cases c
	JOIN integrations i ON i.id = c.integration_id
	LEFT JOIN users u ON u.id = c.assignee_id
	LEFT JOIN case_api_parts p ON p.case_id = c.id AND p.round = c.round`

// isoTime writes a unix-millisecond column in TimeFormat, in integer arithmetic so that
// no millisecond is lost to floating-point rounding.
func isoTime(col string) string {
	return strings.ReplaceAll(`(strftime('%Y-%m-%dT%H:%M:%S', {col} / 1000, 'unixepoch') || printf('.%03dZ', {col} % 1000))`, "{col}", col)
}

// filters are the WHERE terms of q's filters.
func filters(q Query) ([]string, []any) {
	var where []string
	var args []any
	if q.Status != "" {
		where, args = append(where, "c.status = ?"), append(args, q.Status)
	}
	if q.Provider != "" {
		where, args = append(where, "c.provider = ?"), append(args, q.Provider)
	}
	if q.Reference != "" {
		where, args = append(where, "c.reference = ?"), append(args, q.Reference)
	}
	if !q.UpdatedAfter.IsZero() {
		where, args = append(where, "c.updated_at > ?"), append(args, q.updatedAfterMillis())
	}
	return where, args
}

// listSQL builds the page query: limit+1 rows, so that one more tells whether there is a
// next page. Every filter is an equality or a range that the indexes of migration 00005
// serve in change_seq order (TestListQueryPlans): no sort, no full scan.
func listSQL(q Query) (string, []any) {
	where, args := filters(q)
	where, args = append([]string{"c.change_seq > ?"}, where...), append([]any{q.afterSeq}, args...)
	return `SELECT c.change_seq, ` + caseJSON + caseFrom + ` WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY c.change_seq LIMIT ?`, append(args, q.Limit+1)
}

// getSQL selects one case by id.
var getSQL = `SELECT ` + caseJSON + caseFrom + ` WHERE c.id = ?`
