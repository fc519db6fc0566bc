package caseapi

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/caseapi/caseapitest"
	"github.com/kycdesk/kycdesk/internal/crypto"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

var t0 = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

func newReader(t testing.TB) *Reader {
	t.Helper()
	return &Reader{DB: testkit.DB(t), Sealer: newSealer(t)}
}

func newSealer(t testing.TB) *crypto.Sealer {
	key := make([]byte, crypto.KeySize)
	copy(key, crypto.RandomToken(crypto.KeySize))
	s, err := crypto.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func seqs(t *testing.T, d *db.DB) map[string]int64 {
	t.Helper()
	rows, err := d.Read.Query(`SELECT reference, change_seq FROM cases`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var ref string
		var seq sql.NullInt64
		if err := rows.Scan(&ref, &seq); err != nil {
			t.Fatal(err)
		}
		if !seq.Valid {
			t.Fatalf("case %s has no change_seq", ref)
		}
		out[ref] = seq.Int64
	}
	return out
}

// The triggers of migration 00005 number every write to a case in commit order, whatever
// statement the writer uses.
func TestChangeSeqFollowsEveryWrite(t *testing.T) {
	r := newReader(t)
	d, ctx := r.DB, context.Background()
	if _, err := caseapitest.Seed(ctx, d, 3, t0, time.Second, "a"); err != nil { // one multi-row INSERT
		t.Fatal(err)
	}
	if got := seqs(t, d); got["a000000"] != 1 || got["a000001"] != 2 || got["a000002"] != 3 {
		t.Fatalf("multi-row insert: %v", got)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if err := d.Tx(ctx, func(tx *sql.Tx) error { _, err := tx.ExecContext(ctx, q, args...); return err }); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE cases SET status = 'approved', updated_at = updated_at + 1 WHERE reference = 'a000000'`)
	if got := seqs(t, d); got["a000000"] != 4 {
		t.Errorf("update: %v", got)
	}
	// An update that sets updated_at to the same value still counts: something changed.
	exec(`UPDATE cases SET assignee_id = NULL WHERE reference = 'a000001'`)
	if got := seqs(t, d); got["a000001"] != 5 {
		t.Errorf("update without updated_at: %v", got)
	}
	// Upsert, the case store's natural statement: the conflict path is an UPDATE.
	exec(`INSERT INTO cases (id, integration_id, provider, reference, status, result, risk_level, result_at, sla_due, created_at, updated_at)
		SELECT 'x', integration_id, provider, reference, 'new', 'pass', 'low', 0, 0, 0, 0 FROM cases WHERE reference = 'a000002'
		ON CONFLICT (integration_id, reference) DO UPDATE SET status = 'new'`)
	if got := seqs(t, d); got["a000002"] != 6 {
		t.Errorf("upsert: %v", got)
	}
	// Several writes in one transaction each take the next number; a rolled-back
	// transaction leaves no gap that matters and no number behind.
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		for _, ref := range []string{"a000001", "a000000"} {
			if _, err := tx.ExecContext(ctx, `UPDATE cases SET round = round + 1 WHERE reference = ?`, ref); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = d.Tx(ctx, func(tx *sql.Tx) error {
		_, _ = tx.ExecContext(ctx, `UPDATE cases SET round = 9 WHERE reference = 'a000002'`)
		return context.Canceled // roll back
	})
	if got := seqs(t, d); got["a000001"] != 7 || got["a000000"] != 8 || got["a000002"] != 6 {
		t.Errorf("transaction: %v", got)
	}
}

func TestParseQuery(t *testing.T) {
	r := newReader(t)
	other := &Reader{DB: r.DB, Sealer: newSealer(t)}
	good := r.sealCursor(42)
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	edited := append([]byte{}, raw...)
	edited[len(edited)/2] ^= 1
	tests := []struct {
		query   string
		wantErr string // prefix of the error message; "" for success
		check   func(Query) bool
	}{
		{"", "", func(q Query) bool { return q.Limit == DefaultLimit && q.afterSeq == 0 }},
		{"limit=1", "", func(q Query) bool { return q.Limit == 1 }},
		{"limit=1000", "", func(q Query) bool { return q.Limit == 1000 }},
		{"limit=", "", func(q Query) bool { return q.Limit == DefaultLimit }},
		{"status=awaiting_second_approval&provider=fptai&reference=vrf-1", "", func(q Query) bool {
			return q.Status == "awaiting_second_approval" && q.Provider == "fptai" && q.Reference == "vrf-1"
		}},
		{"updated_after=2026-11-20T08:14:42Z", "", func(q Query) bool { return q.UpdatedAfter.Equal(time.Date(2026, 11, 20, 8, 14, 42, 0, time.UTC)) }},
		{"updated_after=2026-11-20T15:14:42.5%2B07:00", "", func(q Query) bool {
			return q.UpdatedAfter.Equal(time.Date(2026, 11, 20, 8, 14, 42, 5e8, time.UTC))
		}},
		{"updated_after=2026-11-20T15:14:42+07:00", "", func(q Query) bool { // unencoded '+' arrives as a space
			return q.UpdatedAfter.Equal(time.Date(2026, 11, 20, 8, 14, 42, 0, time.UTC))
		}},
		{"after=" + good, "", func(q Query) bool { return q.afterSeq == 42 }},

		{"limit=0", "limit: ", nil},
		{"limit=1001", "limit: ", nil},
		{"limit=abc", "limit: ", nil},
		{"limit=-5", "limit: ", nil},
		{"limit=1.5", "limit: ", nil},
		{"status=open", "status: ", nil},
		{"status=NEW", "status: ", nil},
		{"provider=onfido", "provider: ", nil},
		{"updated_after=yesterday", "updated_after: not an RFC 3339 time", nil},
		{"updated_after=2026-11-20", "updated_after: ", nil},
		{"updated_after=1763626482", "updated_after: ", nil},
		{"after=garbage", "after: ", nil},
		{"after=" + good[:len(good)-2], "after: ", nil},
		{"after=" + base64.RawURLEncoding.EncodeToString(edited), "after: ", nil},
		{"after=" + other.sealCursor(42), "after: ", nil},
		{"after=" + base64.RawURLEncoding.EncodeToString([]byte{1, 0, 0, 0, 0, 0, 0, 0, 42}), "after: ", nil},
		{"after=" + strings.Repeat("A", 500), "after: ", nil},
		{"sort=updated_at", `"sort": unknown parameter`, nil},
		{"Status=new", `"Status": unknown parameter`, nil},
		{"status=new&status=approved", "status: given more than once", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			v, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			q, err := r.ParseQuery(v)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("err %v", err)
				}
				if !tt.check(q) {
					t.Errorf("query %+v", q)
				}
				return
			}
			if errs.Code(err) != errs.Invalid || !strings.HasPrefix(errs.Message(err), tt.wantErr) {
				t.Errorf("err %v, want invalid %q…", err, tt.wantErr)
			}
		})
	}
}

// listAll pages through q and returns the references in order.
func listAll(t *testing.T, r *Reader, q Query) []string {
	t.Helper()
	var refs []string
	for range 1000 {
		page, err := r.List(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, refsOf(t, page)...)
		if page.Next == nil {
			return refs
		}
		if q, err = r.ParseQuery(url.Values{"after": {*page.Next}, "limit": {itoa(q.Limit)}, "status": {q.Status}}); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("too many pages")
	return nil
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestListPagesInChangeOrder(t *testing.T) {
	r := newReader(t)
	ctx := context.Background()
	seeded, err := caseapitest.Seed(ctx, r.DB, 25, t0, time.Second, "v")
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, c := range seeded {
		all = append(all, c.Reference)
	}
	for _, limit := range []int{1, 7, 25, 100} {
		if got := listAll(t, r, Query{Limit: limit}); !slices.Equal(got, all) {
			t.Errorf("limit %d: %v", limit, got)
		}
	}
	// A page of exactly the remaining cases is the last one.
	page, err := r.List(ctx, Query{Limit: 25})
	if err != nil || len(page.Cases) != 25 || page.Next != nil {
		t.Errorf("limit 25 of 25: %d cases, next %v, err %v", len(page.Cases), page.Next, err)
	}
	// A changed case moves to the end, with its new updated_at.
	err = r.DB.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE cases SET status = 'approved', updated_at = ? WHERE reference = 'v000003'`, db.Millis(t0.Add(time.Hour)))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got := listAll(t, r, Query{Limit: 10})
	if got[len(got)-1] != "v000003" || len(got) != 25 {
		t.Errorf("after update: %v", got)
	}
	// Filters.
	byStatus := listAll(t, r, Query{Limit: 2, Status: "approved"})
	var want []string
	for _, c := range seeded {
		if c.Status == "approved" && c.Reference != "v000003" {
			want = append(want, c.Reference)
		}
	}
	want = append(want, "v000003")
	if !slices.Equal(byStatus, want) {
		t.Errorf("status=approved: %v, want %v", byStatus, want)
	}
	page, err = r.List(ctx, Query{Limit: 100, Provider: "fptai"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range decodeAll(t, page) {
		if c.Provider != "fptai" || c.Integration != "seed-fptai" {
			t.Errorf("provider filter returned %s/%s", c.Provider, c.Integration)
		}
	}
	if len(page.Cases) != 8 {
		t.Errorf("fptai: %d cases", len(page.Cases))
	}
	page, _ = r.List(ctx, Query{Limit: 100, Reference: "v000011"})
	if refs := refsOf(t, page); !slices.Equal(refs, []string{"v000011"}) {
		t.Errorf("reference filter: %v", refs)
	}
	// updated_after is exclusive, at millisecond precision.
	page, _ = r.List(ctx, Query{Limit: 100, UpdatedAfter: t0.Add(20 * time.Second)})
	if refs := refsOf(t, page); !slices.Equal(refs, []string{"v000021", "v000022", "v000023", "v000024", "v000003"}) {
		t.Errorf("updated_after: %v", refs)
	}
	page, _ = r.List(ctx, Query{Limit: 100, UpdatedAfter: t0.Add(24*time.Second - time.Microsecond)})
	if refs := refsOf(t, page); !slices.Equal(refs, []string{"v000024", "v000003"}) {
		t.Errorf("updated_after with microseconds: %v", refs)
	}
}

func refsOf(t *testing.T, p Page) []string {
	var out []string
	for _, c := range decodeAll(t, p) {
		out = append(out, c.Reference)
	}
	return out
}

// decode reads one case strictly: a field the Case type does not know fails the test.
func decode(t *testing.T, raw []byte) Case {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c Case
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return c
}

func decodeAll(t *testing.T, p Page) []Case {
	t.Helper()
	out := make([]Case, len(p.Cases))
	for i, raw := range p.Cases {
		out[i] = decode(t, raw)
	}
	return out
}

func TestGet(t *testing.T) {
	r := newReader(t)
	ctx := context.Background()
	seeded, err := caseapitest.Seed(ctx, r.DB, 2, t0, time.Second, "g")
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Get(ctx, seeded[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"id":"` + seeded[1].ID + `"`, `"reference":"g000001"`, `"integration":"seed-fptai"`,
		`"updated_at":"2026-11-20T08:00:01.000Z"`, `"assignee":null`, `"decision":null`,
		`"applicant":{"full_name":"Nguyễn Thu Hương","given_name":"Thu Hương","family_name":"Nguyễn","external_id":"cust-1"}`,
		`{"kind":"document","result":"pass","score":0.97}`, `{"kind":"pep","result":"hit","details":{"matched_name":"NGUYEN THU HUONG","level":"tier 2"}}`,
		`"documents":[{"id":"`, `"content_type":"image/jpeg","size":1234}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("missing %s in %s", want, b)
		}
	}
	unknown := seeded[0].ID[:25] + "0"
	if unknown == seeded[0].ID || unknown == seeded[1].ID {
		unknown = seeded[0].ID[:25] + "1"
	}
	for _, bad := range []string{"", "nope", strings.ToUpper(seeded[0].ID), unknown, "../../etc/passwd"} {
		if _, err := r.Get(ctx, bad); errs.Code(err) != errs.NotFound {
			t.Errorf("Get(%q): %v", bad, err)
		}
	}
}

// The page query uses an index for its filter and its order: no full table scan and no
// sort of the matching rows.
func TestListQueryPlans(t *testing.T) {
	r := newReader(t)
	ctx := context.Background()
	if _, err := caseapitest.Seed(ctx, r.DB, 50, t0, time.Second, "p"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q     Query
		index string
	}{
		{Query{}, "cases_change"},
		{Query{afterSeq: 10}, "cases_change"},
		{Query{Status: "new", afterSeq: 3}, "cases_status_change"},
		{Query{Provider: "generic"}, "cases_provider_change"},
		{Query{UpdatedAfter: t0}, "cases_change"},
		{Query{Reference: "p000001"}, "cases_reference"},
		{Query{Status: "new", Provider: "fptai", UpdatedAfter: t0}, "cases_"},
	}
	for _, tt := range tests {
		query, args := listSQL(tt.q)
		plan := explain(t, r.DB, query, args...)
		if !strings.Contains(plan, "USING INDEX "+tt.index) && !strings.Contains(plan, "USING COVERING INDEX "+tt.index) {
			t.Errorf("%+v: plan does not use %s:\n%s", tt.q, tt.index, plan)
		}
		if strings.Contains(plan, "SCAN c\n") || strings.Contains(plan, "SCAN c ") {
			t.Errorf("%+v: full scan of cases:\n%s", tt.q, plan)
		}
		if tt.q.Reference == "" && strings.Contains(plan, "USE TEMP B-TREE FOR ORDER BY") {
			t.Errorf("%+v: sorts the matching rows:\n%s", tt.q, plan)
		}
	}
	query, args := listSQL(Query{})
	if plan := explain(t, r.DB, query, args...); !strings.Contains(plan, "SEARCH p USING PRIMARY KEY (case_id=? AND round=?)") {
		t.Errorf("checks and documents not read by key:\n%s", plan)
	}
}

// explain is the query plan one step a line, each ending in a newline.
func explain(t *testing.T, d *db.DB, query string, args ...any) string {
	t.Helper()
	var sb strings.Builder
	for _, step := range testkit.QueryPlan(t, d, query, args...) {
		sb.WriteString(step + "\n")
	}
	return sb.String()
}

// SQLite writes the JSON: what it makes of awkward text and of times must be what Go makes.
func TestJSONEncodingMatchesGo(t *testing.T) {
	r := newReader(t)
	ctx := context.Background()
	seeded, err := caseapitest.Seed(ctx, r.DB, 1, t0, 0, "j")
	if err != nil {
		t.Fatal(err)
	}
	awkward := "Quote \" backslash \\ newline \n tab \t </script> & emoji 🙂 NUL-free ꙮ \u2028"
	times := []time.Time{
		time.Date(2026, 11, 20, 8, 14, 42, 0, time.UTC),
		time.Date(2026, 11, 20, 8, 14, 42, 999e6, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 1e6, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 500e6, time.UTC),
		time.Date(2100, 1, 1, 0, 0, 0, 7e6, time.UTC),
	}
	// Undecided: decided_at is null.
	if raw, err := r.Get(ctx, seeded[0].ID); err != nil || !strings.Contains(string(raw), `"decided_at":null`) {
		t.Errorf("undecided case: %s %v", raw, err)
	}
	for _, at := range times {
		err := r.DB.Tx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE cases SET full_name = ?, reason_code = ?, created_at = ?, sla_due = ?,
				decided_at = ? WHERE id = ?`,
				awkward, awkward, db.Millis(at), db.Millis(at.Add(-time.Millisecond)), db.Millis(at.Add(time.Millisecond)), seeded[0].ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := r.Get(ctx, seeded[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		c := decode(t, raw)
		if *c.Applicant.FullName != awkward || *c.ReasonCode != awkward {
			t.Errorf("text came back as %q", *c.Applicant.FullName)
		}
		for _, tc := range []struct {
			want time.Time
			name string
		}{{at, "created_at"}, {at.Add(-time.Millisecond), "sla_due"}, {at.Add(time.Millisecond), "decided_at"}} {
			want := `"` + tc.name + `":"` + tc.want.Format(TimeFormat) + `"`
			if !strings.Contains(string(raw), want) {
				t.Errorf("%s: want %s in %s", tc.name, want, raw)
			}
		}
	}
}

func TestPageJSON(t *testing.T) {
	next := "abc_-1"
	for _, tt := range []struct {
		page Page
		want string
	}{
		{Page{Cases: []json.RawMessage{}}, `{"cases":[],"next":null}`},
		{Page{Cases: []json.RawMessage{[]byte(`{"id":"a"}`), []byte(`{"id":"b"}`)}, Next: &next}, `{"cases":[{"id":"a"},{"id":"b"}],"next":"abc_-1"}`},
	} {
		var b bytes.Buffer
		if err := tt.page.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		if got := b.String(); got != tt.want || !json.Valid([]byte(got)) {
			t.Errorf("got %s, want %s", got, tt.want)
		}
	}
}

// A writer that asks for a refresh (INSERT INTO case_api_refresh, migration 00012) after
// any kind of write to a round's checks and documents finds the API's arrays current, in
// the order the rows were stored.
func TestPartsFollowChecksAndDocuments(t *testing.T) {
	r := newReader(t)
	ctx := context.Background()
	seeded, err := caseapitest.Seed(ctx, r.DB, 2, t0, time.Second, "t") // four checks, two documents each
	if err != nil {
		t.Fatal(err)
	}
	a, b := seeded[0].ID, seeded[1].ID
	exec := func(q string, args ...any) {
		t.Helper()
		if err := r.DB.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
			// Every round of both cases, as the writer's own record of what it touched would say.
			_, err := tx.ExecContext(ctx, `INSERT INTO case_api_refresh (case_id, round) VALUES (?, 1), (?, 2), (?, 1), (?, 2)`, a, a, b, b)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var left int
		if err := r.DB.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM case_api_refresh`).Scan(&left); err != nil || left != 0 {
			t.Fatalf("%d refresh requests left behind (%v)", left, err)
		}
	}
	kinds := func(id string) (checks, docs string) {
		t.Helper()
		raw, err := r.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		c := decode(t, raw)
		var ck, dk []string
		for _, x := range c.Checks {
			s := x.Kind + "/" + x.Result
			if x.Score != nil {
				s += "/s"
			}
			if x.Details != nil {
				s += "/d"
			}
			ck = append(ck, s)
		}
		for _, d := range c.Documents {
			dk = append(dk, d.Kind)
		}
		return strings.Join(ck, " "), strings.Join(dk, " ")
	}
	if ck, dk := kinds(a); ck != "document/pass/s liveness/pass/s/d face_match/pass/s/d pep/hit/d" || dk != "id_front selfie" {
		t.Fatalf("seeded: %q %q", ck, dk)
	}
	// Interleaved inserts for two cases stay apart and in order; odd details are left out.
	exec(`INSERT INTO case_checks (case_id, round, kind, result, score, details) VALUES
		(?, 1, 'aml', 'pass', NULL, 'not json'), (?, 1, 'sanctions', 'hit', 0.5, '{"list":"UN"}'), (?, 1, 'database', 'error', NULL, 'null')`, a, b, a)
	if ck, _ := kinds(a); ck != "document/pass/s liveness/pass/s/d face_match/pass/s/d pep/hit/d aml/pass database/error" {
		t.Errorf("after inserts: %q", ck)
	}
	if ck, _ := kinds(b); !strings.HasSuffix(ck, "pep/hit/d sanctions/hit/s/d") {
		t.Errorf("other case: %q", ck)
	}
	// The case store replaces a round's checks: delete, then insert.
	exec(`DELETE FROM case_checks WHERE case_id = ? AND round = 1`, a)
	if ck, _ := kinds(a); ck != "" {
		t.Errorf("after delete: %q", ck)
	}
	exec(`INSERT INTO case_checks (case_id, round, kind, result, score, details) VALUES (?, 1, 'liveness', 'fail', 0.1, '{}')`, a)
	exec(`UPDATE case_checks SET result = 'review' WHERE case_id = ?`, a)
	if ck, _ := kinds(a); ck != "liveness/review/s" {
		t.Errorf("after update: %q", ck)
	}
	// A new round shows only its own checks and documents.
	exec(`INSERT INTO case_checks (case_id, round, kind, result) VALUES (?, 2, 'document', 'pass')`, a)
	exec(`UPDATE cases SET round = 2 WHERE id = ?`, a)
	if ck, dk := kinds(a); ck != "document/pass" || dk != "" {
		t.Errorf("round 2: %q %q", ck, dk)
	}
	exec(`UPDATE case_checks SET round = 2 WHERE case_id = ? AND round = 1`, a) // moves between rounds
	if ck, _ := kinds(a); ck != "liveness/review/s document/pass" {             // stored order
		t.Errorf("moved check: %q", ck)
	}
	exec(`UPDATE case_documents SET round = 2 WHERE case_id = ? AND kind = 'selfie'`, a)
	exec(`INSERT INTO case_documents (id, case_id, round, kind, content_type, size, sha256, wrapped_key, ciphertext, created_at)
		VALUES ('doc-new', ?, 2, 'passport', 'image/png', 9, ?, x'00', x'00', 0)`, a, strings.Repeat("ab", 32))
	if _, dk := kinds(a); dk != "selfie passport" {
		t.Errorf("round 2 documents: %q", dk)
	}
	exec(`DELETE FROM case_documents WHERE id = 'doc-new'`)
	exec(`UPDATE case_documents SET kind = 'id_back' WHERE case_id = ? AND round = 2`, a)
	if _, dk := kinds(a); dk != "id_back" {
		t.Errorf("after document update and delete: %q", dk)
	}
	if _, dk := kinds(b); dk != "id_front selfie" {
		t.Errorf("other case's documents: %q", dk)
	}
}
