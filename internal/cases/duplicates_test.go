package cases_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

func TestNormaliseIDNumber(t *testing.T) {
	for in, want := range map[string]string{
		"079195001234":      "079195001234",
		" 079 195-001.234 ": "079195001234",
		"b1234567":          "B1234567",
		"N/A":               "NA", // the store maps N/A to "" before it gets here; the form itself is harmless
		"":                  "",
		"— ":                "",
	} {
		if got := cases.NormaliseIDNumber(in); got != want {
			t.Errorf("NormaliseIDNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDuplicates: cases of any integration and provider with the same ID number find each
// other, through the index; a case is never its own duplicate; no number, no duplicates.
func TestDuplicates(t *testing.T) {
	e := newEnv(t)
	other, _, err := integration.NewStore(e.db, e.store.Sealer).Create(e.ctx, "test", integration.Spec{
		Name: "acme-fpt", Provider: integration.FPTAI, AuthMode: integration.AuthToken})
	if err != nil {
		t.Fatal(err)
	}
	otherSrc := cases.Source{IntegrationID: other.ID, IntegrationName: other.Name, Provider: other.Provider}

	mk := func(src cases.Source, ref, idNumber string) string {
		t.Helper()
		r := sampleResult(e.now, "1", cases.ResultReview)
		r.Reference, r.Applicant.IDNumber = ref, idNumber
		out, err := e.store.Apply(e.ctx, src, 0, r)
		if err != nil {
			t.Fatal(err)
		}
		e.now = e.now.Add(time.Minute)
		return out.CaseID
	}
	a := mk(e.src, "vrf-a", "079195001234")
	b := mk(otherSrc, "fpt-b", "079 195 001 234") // another integration, provider and spelling
	c := mk(e.src, "vrf-c", "001095009999")       // another person
	d := mk(e.src, "vrf-d", "")                   // no number
	_ = c

	dups, more, err := e.store.Duplicates(e.ctx, a, "079195001234", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(dups) != 1 || dups[0].ID != b || dups[0].Reference != "fpt-b" || dups[0].Provider != integration.FPTAI || more {
		t.Errorf("duplicates of a = %+v (more %v), want only fpt-b", dups, more)
	}
	if dups, _, _ := e.store.Duplicates(e.ctx, d, "", 10); len(dups) != 0 {
		t.Errorf("a case without an ID number has duplicates: %+v", dups)
	}
	// A case whose number changes in a newer result moves with it.
	r := sampleResult(e.now.Add(time.Hour), "1", cases.ResultReview)
	r.Reference, r.Applicant.IDNumber = "vrf-c", "079195001234"
	if _, err := e.store.Apply(e.ctx, e.src, 0, r); err != nil {
		t.Fatal(err)
	}
	dups, more, _ = e.store.Duplicates(e.ctx, a, "079195001234", 1)
	if len(dups) != 1 || !more {
		t.Errorf("limit 1 of 2 duplicates: %+v, more %v", dups, more)
	}
	// The plain number is nowhere in the cases table's clear columns.
	var hash []byte
	if err := e.db.Read.QueryRowContext(e.ctx, `SELECT id_number_hash FROM cases WHERE id = ?`, a).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if len(hash) != 32 || bytes.Contains(hash, []byte("079195001234")) {
		t.Errorf("id_number_hash = %x", hash)
	}
	if n := e.count(`SELECT COUNT(*) FROM cases WHERE CAST(id_number_hash AS TEXT) LIKE '%079195%'`); n != 0 {
		t.Errorf("%d rows hold the plain number", n)
	}
}

func TestBackfillIDNumberHashes(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i, num := range []string{"079195001234", "079195001234", ""} {
		r := sampleResult(e.now, "1", cases.ResultReview)
		r.Reference, r.Applicant.IDNumber = "vrf-"+string(rune('a'+i)), num
		ids = append(ids, e.apply(0, r).CaseID)
	}
	// As if stored before migration 00007.
	e.exec(`UPDATE cases SET id_number_hash = NULL`)
	if dups, _, _ := e.store.Duplicates(e.ctx, ids[0], "079195001234", 10); len(dups) != 0 {
		t.Fatalf("duplicates found before the backfill: %+v", dups)
	}
	n, err := e.store.BackfillIDNumberHashes(e.ctx)
	if err != nil || n != 3 {
		t.Fatalf("backfill = %d, %v; want 3", n, err)
	}
	dups, _, _ := e.store.Duplicates(e.ctx, ids[0], "079195001234", 10)
	if len(dups) != 1 || dups[0].ID != ids[1] {
		t.Errorf("after backfill: %+v", dups)
	}
	if n, err := e.store.BackfillIDNumberHashes(e.ctx); n != 0 || err != nil {
		t.Errorf("second backfill = %d, %v; want 0", n, err)
	}
}

// TestDuplicatesQueryPlan: the duplicates lookup reads the index, never the cases table in full.
func TestDuplicatesQueryPlan(t *testing.T) {
	d := testkit.DB(t)
	for _, tc := range []struct {
		name, query string
		args        []any
	}{
		{"duplicates", cases.QDuplicates, []any{[]byte{1}, "c", 11}},
		{"backfill", `SELECT id, applicant_sealed FROM cases WHERE id_number_hash IS NULL LIMIT 200`, nil},
	} {
		plan := strings.Join(testkit.QueryPlan(t, d, tc.query, tc.args...), "; ")
		if !strings.Contains(plan, "cases_id_number_hash (id_number_hash=?") || strings.Contains(plan, "SCAN cases") ||
			strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s: plan = %s", tc.name, plan)
		}
	}
}
