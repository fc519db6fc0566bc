package audit

import (
	"context"
	"database/sql"
	"strings"
)

// Actions returns the distinct actions in the trail, sorted, for the filter's choices. It
// hops from one action to the next in the audit_log_action index (a lookup per distinct
// action), never reading the entries in between.
func Actions(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `WITH RECURSIVE a(action) AS (
			SELECT MIN(action) FROM audit_log
			UNION ALL
			SELECT (SELECT MIN(action) FROM audit_log WHERE action > a.action) FROM a WHERE a.action IS NOT NULL)
		SELECT action FROM a WHERE action IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Subjects says what the subjects of a page of entries name: a case (by reference, through
// the cases_reference index; a reference shared by cases of two integrations names the
// first) or a user (by email, through its unique index). Entries whose details carry a
// case_id link by it directly; this is for the others.
type Subjects struct {
	Cases map[string]string // reference → case id
	Users map[string]bool   // emails of users
}

// ResolveSubjects looks subjects up in two queries, one per kind.
func ResolveSubjects(ctx context.Context, db *sql.DB, subjects []string) (Subjects, error) {
	out := Subjects{Cases: map[string]string{}, Users: map[string]bool{}}
	uniq := map[string]bool{}
	var refs, emails []any
	for _, s := range subjects {
		if s == "" || uniq[s] {
			continue
		}
		uniq[s] = true
		if strings.Contains(s, "@") {
			emails = append(emails, s)
		}
		refs = append(refs, s)
	}
	in := func(n int) string { return "(" + strings.TrimSuffix(strings.Repeat("?,", n), ",") + ")" }
	if len(refs) > 0 {
		rows, err := db.QueryContext(ctx, `SELECT reference, MIN(id) FROM cases WHERE reference IN `+in(len(refs))+` GROUP BY reference`, refs...)
		if err != nil {
			return out, err
		}
		for rows.Next() {
			var ref, id string
			if err := rows.Scan(&ref, &id); err != nil {
				rows.Close()
				return out, err
			}
			out.Cases[ref] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return out, err
		}
	}
	if len(emails) > 0 {
		rows, err := db.QueryContext(ctx, `SELECT email FROM users WHERE email IN `+in(len(emails)), emails...)
		if err != nil {
			return out, err
		}
		defer rows.Close()
		for rows.Next() {
			var e string
			if err := rows.Scan(&e); err != nil {
				return out, err
			}
			out.Users[strings.ToLower(e)] = true
		}
		if err := rows.Err(); err != nil {
			return out, err
		}
	}
	return out, nil
}
