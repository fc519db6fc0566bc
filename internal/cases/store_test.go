package cases_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

var pngPixel, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")

var jpegBytes = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01 a tiny stand-in for a card photo")

// env is a case store on a real SQLite file with an injected clock.
type env struct {
	t     *testing.T
	ctx   context.Context
	db    *db.DB
	store *cases.Store
	now   time.Time
	src   cases.Source
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	d, sealer := testkit.Store(t)
	in, _, err := integration.NewStore(d, sealer).Create(ctx, "test", integration.Spec{
		Name: "acme-generic", Provider: integration.Generic, AuthMode: integration.AuthHMAC, Queue: "vn-retail"})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, db: d, now: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	e.store = &cases.Store{DB: d, Sealer: sealer, Now: func() time.Time { return e.now },
		Routing: cases.Routing{SLA: cases.DefaultSLA}}
	e.src = cases.Source{IntegrationID: in.ID, IntegrationName: in.Name, Provider: in.Provider, Queue: in.Queue}
	return e
}

// inbox inserts a pending inbox row the way the webhook would, and returns its id.
func (e *env) inbox(key string) int64 {
	e.t.Helper()
	res, err := e.db.Write.ExecContext(e.ctx, `INSERT INTO inbox (integration_id, provider, delivery_key, received_at, payload)
		VALUES (?, ?, ?, ?, ?)`, e.src.IntegrationID, e.src.Provider, key, db.Millis(e.now), []byte(`{}`))
	if err != nil {
		e.t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	return id
}

func (e *env) apply(inboxID int64, r cases.Result) cases.Outcome {
	e.t.Helper()
	out, err := e.store.Apply(e.ctx, e.src, inboxID, r)
	if err != nil {
		e.t.Fatalf("Apply: %v", err)
	}
	return out
}

func (e *env) get(id string) *cases.Case {
	e.t.Helper()
	c, err := e.store.Get(e.ctx, id)
	if err != nil {
		e.t.Fatalf("Get: %v", err)
	}
	return c
}

func (e *env) exec(q string, args ...any) {
	e.t.Helper()
	if _, err := e.db.Write.ExecContext(e.ctx, q, args...); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Read.QueryRowContext(e.ctx, q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) auditActions(subject string) []string {
	e.t.Helper()
	return testkit.AuditActions(e.t, e.db, subject)
}

func (e *env) verifyAudit() {
	e.t.Helper()
	testkit.VerifyAudit(e.t, e.db)
}

func (e *env) timelineKinds(caseID string) []string {
	e.t.Helper()
	evs, err := e.store.Timeline(e.ctx, caseID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Kind)
	}
	return out
}

func score(v float64) *float64 { return &v }

func sampleResult(at time.Time, round, result string) cases.Result {
	return cases.Result{
		Reference: "vrf-2026-000187", Round: round, OccurredAt: at, Result: result, ProviderStatus: result,
		RiskLevel: cases.RiskHigh, RiskScore: score(71),
		Applicant: cases.Applicant{ExternalID: "cust-42", FullName: "Nguyễn Thu Hương", GivenName: "Thu Hương",
			FamilyName: "Nguyễn", DateOfBirth: "1995-09-02", Nationality: "VNM", IDNumber: "079195001234",
			Address: "123 Lê Lợi, Quận 1, TP. Hồ Chí Minh"},
		Checks: []cases.Check{
			{Kind: cases.KindDocument, Result: cases.CheckPass, Score: score(0.97)},
			{Kind: cases.KindPEP, Result: cases.CheckHit, Details: []byte(`{"matched_name":"NGUYEN THU HUONG"}`)},
		},
		Fields: []cases.Field{{Group: "front", Name: "name", Value: "NGUYỄN THU HƯƠNG", Confidence: score(98.7)},
			{Group: "front", Name: "dob", Value: "N/A"}},
		Documents: []cases.DocumentRef{
			{ProviderID: "front", Kind: cases.DocIDFront, Data: jpegBytes},
			{ProviderID: "selfie", Kind: cases.DocSelfie, Data: pngPixel},
		},
	}
}

func TestApplyCreatesCase(t *testing.T) {
	e := newEnv(t)
	at := e.now.Add(-time.Minute)
	r := sampleResult(at, "r1", cases.ResultReview)
	r.Applicant.Sex = "N/A"
	inboxID := e.inbox("d1")
	out := e.apply(inboxID, r)
	if !out.Created || out.CaseID == "" {
		t.Fatalf("outcome = %+v, want Created", out)
	}
	c := e.get(out.CaseID)
	if c.Status != cases.StatusNew || c.Result != cases.ResultReview || c.RiskLevel != cases.RiskHigh || c.RiskDerived ||
		!c.FourEyes || c.Round != 1 || c.RoundKey != "r1" || c.Queue != "vn-retail" || c.Reference != "vrf-2026-000187" {
		t.Errorf("case = %+v", c)
	}
	if c.FullName != "Nguyễn Thu Hương" || c.GivenName != "Thu Hương" || c.FamilyName != "Nguyễn" || c.ExternalID != "cust-42" {
		t.Errorf("names = %q / %q / %q / %q", c.FullName, c.GivenName, c.FamilyName, c.ExternalID)
	}
	if want := e.now.Add(4 * time.Hour); !c.SLADue.Equal(want) {
		t.Errorf("SLA due = %s, want %s (high: 4 h from creation)", c.SLADue, want)
	}
	if !c.ResultAt.Equal(at) {
		t.Errorf("result_at = %s, want %s", c.ResultAt, at)
	}
	ap, err := e.store.Applicant(e.ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ap.IDNumber != "079195001234" || ap.DateOfBirth != "1995-09-02" || ap.Address != "123 Lê Lợi, Quận 1, TP. Hồ Chí Minh" || ap.Sex != "" {
		t.Errorf("applicant = %+v (N/A must not be stored)", ap)
	}
	// The PII is sealed: the plain bytes of the ID number appear nowhere in the row.
	if n := e.count(`SELECT COUNT(*) FROM cases WHERE CAST(applicant_sealed AS TEXT) LIKE '%079195001234%'
		OR details LIKE '%079195001234%' OR CAST(details_sealed AS TEXT) LIKE '%NGUY%'`); n != 0 {
		t.Error("applicant or OCR fields stored in the clear")
	}
	fields, err := e.store.Fields(e.ctx, c.ID)
	if err != nil || len(fields) != 2 || fields[0].Value != "NGUYỄN THU HƯƠNG" || fields[1].Value != "" || !fields[1].Missing {
		t.Errorf("fields = %+v, %v", fields, err)
	}
	checks, err := e.store.Checks(e.ctx, c.ID)
	if err != nil || len(checks) != 2 || checks[0].Kind != cases.KindDocument || *checks[0].Score != 0.97 ||
		checks[1].Result != cases.CheckHit || string(checks[1].Details) != `{"matched_name":"NGUYEN THU HUONG"}` {
		t.Errorf("checks = %+v, %v", checks, err)
	}
	docs, err := e.store.Documents(e.ctx, c.ID)
	if err != nil || len(docs) != 2 {
		t.Fatalf("documents = %+v, %v", docs, err)
	}
	for _, d := range docs {
		want := map[string][]byte{"front": jpegBytes, "selfie": pngPixel}[d.ProviderRef]
		sum := sha256.Sum256(want)
		if d.SHA256 != hex.EncodeToString(sum[:]) || d.Size != int64(len(want)) {
			t.Errorf("document %s: sha256 %s size %d", d.ProviderRef, d.SHA256, d.Size)
		}
		got, data, err := e.store.OpenDocument(e.ctx, c.ID, d.ID)
		if err != nil || string(data) != string(want) || got != d ||
			got.ContentType != map[string]string{"front": "image/jpeg", "selfie": "image/png"}[d.ProviderRef] {
			t.Errorf("OpenDocument %s = %+v, %d bytes, %v", d.ProviderRef, got, len(data), err)
		}
	}
	if n := e.count(`SELECT COUNT(*) FROM case_documents WHERE instr(ciphertext, ?) > 0`, jpegBytes[:16]); n != 0 {
		t.Error("document stored in the clear")
	}
	var caseID string
	if err := e.db.Read.QueryRow(`SELECT case_id FROM inbox_applied WHERE inbox_id = ?`, inboxID).Scan(&caseID); err != nil ||
		caseID != c.ID {
		t.Errorf("inbox row applied = %s, %v; want recorded with the case id", caseID, err)
	}
	// The same inbox row again (a crash came between the case commit and the inbox file's
	// "done" mark): the idempotency key makes it a no-op.
	if out := e.apply(inboxID, sampleResult(e.now.Add(-time.Hour), "r1", cases.ResultReview)); !out.Unchanged || out.CaseID != c.ID {
		t.Errorf("the same inbox row applied twice: %+v", out)
	}
	if got := e.auditActions(c.Reference); !slices.Equal(got, []string{"case.created"}) {
		t.Errorf("audit = %v", got)
	}
	entries, _ := audit.List(e.ctx, e.db.Read, audit.Filter{Subject: c.Reference})
	if en := entries[0]; en.Actor != "system:acme-generic" || strings.Contains(en.DetailsJSON(), "Nguy") ||
		strings.Contains(en.DetailsJSON(), "0791") || en.Details["case_id"] != c.ID {
		t.Errorf("audit entry = %s %s", en.Actor, en.DetailsJSON())
	}
	e.verifyAudit()
}

func TestApplyOrderingAndReopen(t *testing.T) {
	e := newEnv(t)
	t0 := e.now.Add(-time.Hour)
	first := e.apply(e.inbox("d1"), sampleResult(t0, "r1", cases.ResultReview))

	// A redelivery of the same result: nothing changes, the row is still marked done.
	again := e.inbox("d1-again")
	if out := e.apply(again, sampleResult(t0, "r1", cases.ResultReview)); !out.Unchanged || out.CaseID != first.CaseID {
		t.Errorf("redelivery outcome = %+v", out)
	}
	if n := e.count(`SELECT COUNT(*) FROM inbox_applied WHERE inbox_id = ? AND case_id = ?`, again, first.CaseID); n != 1 {
		t.Error("redelivered row not recorded as applied")
	}

	// A newer result updates data, keeps the status and round.
	e.now = e.now.Add(10 * time.Minute)
	newer := sampleResult(t0.Add(30*time.Minute), "r1", cases.ResultFail)
	newer.Checks = newer.Checks[:1]
	if out := e.apply(e.inbox("d2"), newer); !out.Updated {
		t.Fatalf("newer outcome = %+v", out)
	}
	c := e.get(first.CaseID)
	if c.Result != cases.ResultFail || c.Status != cases.StatusNew || c.Round != 1 || !c.ResultAt.Equal(t0.Add(30*time.Minute)) {
		t.Errorf("after newer: %+v", c)
	}
	if checks, _ := e.store.Checks(e.ctx, c.ID); len(checks) != 1 {
		t.Errorf("checks of the round replaced by the newer result's: got %d", len(checks))
	}

	// An older result arriving late is noted and ignored.
	if out := e.apply(e.inbox("d0"), sampleResult(t0.Add(-time.Minute), "r0", cases.ResultPass)); !out.Stale {
		t.Errorf("older outcome = %+v", out)
	}
	if c2 := e.get(c.ID); c2.Result != cases.ResultFail || !c2.ResultAt.Equal(c.ResultAt) {
		t.Errorf("older result overwrote newer: %+v", c2)
	}

	// A decision, then a new provider round: reopened as round 2, decision cleared from the row.
	e.exec(`UPDATE cases SET status = 'approved', decision = 'approve', reason_code = 'docs_ok', decided_at = ?, assignee_id = NULL WHERE id = ?`,
		db.Millis(e.now), c.ID)
	e.now = e.now.Add(24 * time.Hour)
	rerun := sampleResult(t0.Add(25*time.Hour), "r2", cases.ResultReview)
	rerun.RiskLevel = ""
	rerun.Checks = []cases.Check{{Kind: cases.KindDocument, Result: cases.CheckReview}}
	rerun.Documents = []cases.DocumentRef{{ProviderID: "front", Kind: cases.DocIDFront, Data: jpegBytes}}
	if out := e.apply(e.inbox("d3"), rerun); !out.Reopened {
		t.Fatalf("rerun outcome = %+v", out)
	}
	c = e.get(c.ID)
	if c.Status != cases.StatusNew || c.Round != 2 || c.RoundKey != "r2" || c.Decision != "" || c.ReasonCode != "" ||
		!c.DecidedAt.IsZero() || c.RiskLevel != cases.RiskMedium || !c.RiskDerived || c.FourEyes {
		t.Errorf("reopened case = %+v", c)
	}
	if want := e.now.Add(24 * time.Hour); !c.SLADue.Equal(want) {
		t.Errorf("SLA due = %s, want %s (medium, from the reopen)", c.SLADue, want)
	}
	if !slices.ContainsFunc(c.Details.Flags, func(f string) bool { return strings.Contains(f, "risk level derived") }) {
		t.Errorf("flags = %q, want the derived risk flagged", c.Details.Flags)
	}
	checks, _ := e.store.Checks(e.ctx, c.ID)
	if len(checks) != 2 || checks[0].Round != 1 || checks[1].Round != 2 {
		t.Errorf("checks = %+v, want round 1 kept and round 2 added", checks)
	}
	docs, _ := e.store.Documents(e.ctx, c.ID)
	if len(docs) != 3 {
		t.Errorf("documents = %d, want 2 of round 1 and 1 of round 2", len(docs))
	}
	// The same image of a later result of round 2 is not stored twice.
	if got := e.timelineKinds(c.ID); !slices.Equal(got, []string{cases.EventResultReceived, cases.EventResultReceived,
		cases.EventResultIgnored, cases.EventReopened}) {
		t.Errorf("timeline = %v", got)
	}
	evs, _ := e.store.Timeline(e.ctx, c.ID)
	if last := evs[len(evs)-1]; last.Details["previous_decision"] != "approve" || last.Details["previous_reason_code"] != "docs_ok" || last.Round != 2 {
		t.Errorf("reopen event keeps the old decision: %+v", last.Details)
	}
	if got := e.auditActions(c.Reference); !slices.Equal(got, []string{"case.created", "case.updated",
		"case.stale_result_ignored", "case.reopened"}) {
		t.Errorf("audit = %v", got)
	}
	e.verifyAudit()
}

func TestApplyStatusOnNewerResult(t *testing.T) {
	tests := []struct {
		status, wantStatus string
		wantAssignee       bool
	}{
		{cases.StatusNew, cases.StatusNew, false},
		{cases.StatusInReview, cases.StatusInReview, true},
		{cases.StatusEscalated, cases.StatusEscalated, true},
		{cases.StatusPendingInfo, cases.StatusNew, false},
		{cases.StatusAwaitingSecondApproval, cases.StatusInReview, true},
		{cases.StatusApproved, cases.StatusApproved, true}, // same round: data only, the decision stands
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			e := newEnv(t)
			e.exec(`INSERT INTO users (id, email, role, password_hash, created_at, updated_at) VALUES (7, 'ana@example.com', 'analyst', 'x', 0, 0)`)
			t0 := e.now.Add(-time.Hour)
			out := e.apply(e.inbox("d1"), sampleResult(t0, "r1", cases.ResultReview))
			assignee := any(7)
			if tt.status == cases.StatusNew {
				assignee = nil
			}
			e.exec(`UPDATE cases SET status = ?, assignee_id = ?, first_approver_id = ? WHERE id = ?`, tt.status, assignee,
				map[bool]any{true: 7, false: nil}[tt.status == cases.StatusAwaitingSecondApproval], out.CaseID)
			if o := e.apply(e.inbox("d2"), sampleResult(t0.Add(time.Minute), "r1", cases.ResultFail)); !o.Updated {
				t.Fatalf("outcome = %+v", o)
			}
			c := e.get(out.CaseID)
			if c.Status != tt.wantStatus || (c.AssigneeID != 0) != tt.wantAssignee || c.FirstApproverID != 0 || c.Result != cases.ResultFail {
				t.Errorf("case = status %s assignee %d first approver %d result %s", c.Status, c.AssigneeID, c.FirstApproverID, c.Result)
			}
			e.verifyAudit()
		})
	}
}

func TestApplyEcho(t *testing.T) {
	e := newEnv(t)
	t0 := e.now.Add(-time.Hour)
	out := e.apply(e.inbox("d1"), sampleResult(t0, "exec-1", cases.ResultReview))
	e.exec(`UPDATE cases SET status = 'approved', decision = 'approve', reason_code = 'docs_ok' WHERE id = ?`, out.CaseID)
	e.exec(`INSERT INTO provider_overrides (request_id, case_id, created_at) VALUES ('req-ours', ?, 0)`, out.CaseID)

	echo := sampleResult(t0.Add(time.Hour), "exec-1", cases.ResultPass)
	echo.ProviderStatus, echo.OverrideRequestID = "APPROVED", "req-ours"
	if o := e.apply(e.inbox("d2"), echo); !o.Echo || o.Reopened || o.Updated {
		t.Fatalf("echo outcome = %+v", o)
	}
	// Even a new round carrying our override id is the echo, not a re-run.
	echo.Round = "exec-2"
	if o := e.apply(e.inbox("d3"), echo); !o.Echo {
		t.Fatalf("echo outcome = %+v", o)
	}
	c := e.get(out.CaseID)
	if c.Status != cases.StatusApproved || c.Round != 1 || c.Result != cases.ResultReview || c.Decision != "approve" {
		t.Errorf("echo changed the case: %+v", c)
	}
	evs, _ := e.store.Timeline(e.ctx, c.ID)
	if last := evs[len(evs)-1]; last.Kind != cases.EventProviderConfirmed || !strings.Contains(last.Body, "Provider confirmed our decision") {
		t.Errorf("last event = %+v", last)
	}
	// Someone else's override on a new execution is a re-run: reopened.
	other := sampleResult(t0.Add(2*time.Hour), "exec-3", cases.ResultFail)
	other.OverrideRequestID = "req-someone-else"
	if o := e.apply(e.inbox("d4"), other); !o.Reopened {
		t.Errorf("foreign override outcome = %+v", o)
	}
	e.verifyAudit()
}

func TestApplyAutoApprove(t *testing.T) {
	pass := func(at time.Time) cases.Result {
		r := sampleResult(at, "r1", cases.ResultPass)
		r.RiskLevel = cases.RiskLow
		r.Checks = r.Checks[:1]
		return r
	}
	t.Run("off", func(t *testing.T) {
		e := newEnv(t)
		out := e.apply(e.inbox("d1"), pass(e.now))
		if c := e.get(out.CaseID); out.AutoApproved || c.Status != cases.StatusNew {
			t.Errorf("auto-approved without the integration rule: %+v", c)
		}
	})
	t.Run("on", func(t *testing.T) {
		e := newEnv(t)
		e.src.AutoApprove = true
		out := e.apply(e.inbox("d1"), pass(e.now))
		c := e.get(out.CaseID)
		if !out.AutoApproved || c.Status != cases.StatusApproved || c.Decision != cases.DecisionApprove ||
			c.ReasonCode != cases.ReasonAutoPassLowRisk || !c.DecidedAt.Equal(e.now) {
			t.Errorf("case = %+v", c)
		}
		if got := e.auditActions(c.Reference); !slices.Equal(got, []string{"case.created", "case.auto_approved"}) {
			t.Errorf("audit = %v", got)
		}
		// A hit is never auto-approved.
		r := pass(e.now)
		r.Reference = "vrf-2"
		r.Checks = append(r.Checks, cases.Check{Kind: cases.KindSanctions, Result: cases.CheckHit})
		if out := e.apply(e.inbox("d2"), r); out.AutoApproved {
			t.Error("auto-approved a sanctions hit")
		}
		e.verifyAudit()
	})
}

func TestApplyDocuments(t *testing.T) {
	e := newEnv(t)
	r := sampleResult(e.now, "r1", cases.ResultReview)
	r.Documents = []cases.DocumentRef{
		{ProviderID: "front", Kind: cases.DocIDFront, Data: jpegBytes},
		{ProviderID: "back", Kind: cases.DocIDBack, ContentType: "image/jpeg", Data: []byte("<html><body>not an image</body></html>")},
		{ProviderID: "selfie", Kind: cases.DocSelfie, URL: "http://127.0.0.1:1/never-fetched"},
	}
	inboxID := e.inbox("d1")
	out := e.apply(inboxID, r)
	c := e.get(out.CaseID)
	docs, _ := e.store.Documents(e.ctx, c.ID)
	if len(docs) != 1 || docs[0].ProviderRef != "front" {
		t.Errorf("documents = %+v, want only the jpeg", docs)
	}
	for _, want := range []string{"document back refused: type text/html", "document selfie: not retrieved"} {
		if !slices.Contains(c.Details.Flags, want) {
			t.Errorf("flags = %q, want %q", c.Details.Flags, want)
		}
	}
	// Processing the same inbox row again (a worker that crashed before marking it) is idempotent.
	e.exec(`UPDATE inbox SET state = 'pending' WHERE id = ?`, inboxID)
	if o := e.apply(inboxID, r); !o.Unchanged {
		t.Errorf("reprocessed outcome = %+v", o)
	}
	if n := e.count(`SELECT COUNT(*) FROM case_documents WHERE case_id = ?`, c.ID); n != 1 {
		t.Errorf("documents after reprocessing = %d", n)
	}
	if n := e.count(`SELECT COUNT(*) FROM case_checks WHERE case_id = ?`, c.ID); n != 2 {
		t.Errorf("checks after reprocessing = %d", n)
	}
	// An inbox row already done is not applied again.
	if o := e.apply(inboxID, sampleResult(e.now.Add(time.Hour), "r9", cases.ResultFail)); !o.Unchanged || o.CaseID != c.ID {
		t.Errorf("done row outcome = %+v", o)
	}
	// A newer result with a different image under the same id replaces it.
	e.now = e.now.Add(time.Minute)
	r2 := sampleResult(e.now, "r1b", cases.ResultReview)
	other := append([]byte{}, jpegBytes...)
	other = append(other, "-retaken"...)
	r2.Documents = []cases.DocumentRef{{ProviderID: "front", Kind: cases.DocIDFront, Data: other}}
	e.apply(e.inbox("d2"), r2)
	docs2, _ := e.store.Documents(e.ctx, c.ID)
	if len(docs2) != 1 || docs2[0].ID == docs[0].ID || docs2[0].Size != int64(len(other)) {
		t.Errorf("documents after replacement = %+v", docs2)
	}

	// Documents are only served for their own case; unknown and malformed ids are NotFound.
	r3 := sampleResult(e.now, "x1", cases.ResultPass)
	r3.Reference = "another"
	out3 := e.apply(e.inbox("d3"), r3)
	for _, tc := range []struct{ caseID, docID string }{
		{out3.CaseID, docs2[0].ID}, {c.ID, "0000000000000000000000000a"}, {c.ID, "../../etc"}, {"nope", docs2[0].ID},
	} {
		if _, _, err := e.store.OpenDocument(e.ctx, tc.caseID, tc.docID); errs.Code(err) != errs.NotFound {
			t.Errorf("OpenDocument(%s, %s) = %v, want NotFound", tc.caseID, tc.docID, err)
		}
	}
	e.verifyAudit()
}

func TestGetNotFound(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"", "nope", "0000000000000000000000000a", "'; DROP TABLE cases; --"} {
		if _, err := e.store.Get(e.ctx, id); errs.Code(err) != errs.NotFound {
			t.Errorf("Get(%q) = %v, want NotFound", id, err)
		}
	}
}

func TestApplyPreparedInOneTransaction(t *testing.T) {
	// A failure after the case was written rolls back everything, inbox row included.
	e := newEnv(t)
	inboxID := e.inbox("d1")
	p, err := e.store.Prepare(cases.Input{Source: e.src, InboxID: inboxID, Result: sampleResult(e.now, "r1", cases.ResultReview)})
	if err != nil {
		t.Fatal(err)
	}
	err = e.db.Tx(e.ctx, func(tx *sql.Tx) error {
		if _, err := e.store.ApplyPrepared(e.ctx, tx, p); err != nil {
			return err
		}
		return errs.E(errs.Unavailable, "crash before commit")
	})
	if err == nil {
		t.Fatal("want the injected failure")
	}
	if n := e.count(`SELECT COUNT(*) FROM cases`) + e.count(`SELECT COUNT(*) FROM audit_log WHERE action LIKE 'case.%'`) +
		e.count(`SELECT COUNT(*) FROM case_documents`); n != 0 {
		t.Errorf("rolled-back apply left %d rows", n)
	}
	if n := e.count(`SELECT COUNT(*) FROM inbox WHERE id = ? AND state = 'pending'`, inboxID); n != 1 {
		t.Error("inbox row not pending after the rollback")
	}
	// The retry applies it once.
	if out := e.apply(inboxID, sampleResult(e.now, "r1", cases.ResultReview)); !out.Created {
		t.Errorf("retry outcome = %+v", out)
	}
	if _, err := e.store.Prepare(cases.Input{Source: e.src, Result: cases.Result{}}); errs.Code(err) != errs.Invalid {
		t.Errorf("Prepare without reference = %v, want Invalid", err)
	}
}
